// libFuzzer target (the `fuzz` preset): target specs (targets/*.json and any
// user's spec) as `run --target FILE` reads them. Whatever the bytes, nothing
// may crash, throw, overflow the stack or leak; a spec that is accepted
// expands (placeholders, ${VAR} headers, paths) to a result or a clean error.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/json_bounded.h"
#include "harness/target_spec.h"

using namespace streamcheck;
using namespace streamcheck::harness;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto json = ParseJsonBounded(text); json.ok()) {
    if (auto spec = ParseTargetSpec(*json, "fuzz.json"); spec.ok()) {
      const Placeholders values = {{"port", "8080"},
                                   {"host", "127.0.0.1"},
                                   {"backend_url", "http://127.0.0.1:8000"},
                                   {"backend_host", "127.0.0.1"},
                                   {"backend_port", "8000"},
                                   {"root", "/nonexistent"},
                                   {"bin", "/nonexistent/bin"}};
      if (auto expanded = ExpandSpec(*spec, values, "/nonexistent"); expanded.ok()) {
        (void)expanded->DirectPath("large-file");
        (void)expanded->DirectPath("/v1/chat/completions");
      }
    }
  }
  (void)ExpandPlaceholders(text, {{"port", "1"}});
  return 0;
}
