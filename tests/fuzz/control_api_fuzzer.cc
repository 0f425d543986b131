// libFuzzer target (the `fuzz` preset): the JSON the mock's control API and
// chat route take from clients. Whatever the bytes, nothing may crash, throw,
// overflow the stack or leak, and what is accepted must round-trip: a config
// or stats value read from JSON, written back and read again, is the same.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json_bounded.h"
#include "mocks/chat_stream.h"
#include "mocks/mock_config.h"
#include "mocks/mock_stats.h"

namespace {

using namespace streamcheck;
using namespace streamcheck::mocks;

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);

  // PUT /_mock/config and `mock --config`.
  if (auto config = ConfigFromText(text); config.ok()) {
    Check(ValidateConfig(*config).ok());
    auto again = ConfigFromJson(ToJson(*config));
    Check(again.ok() && *again == *config);
  }

  // GET /_mock/stats as MockClient reads it.
  if (auto json = ParseJsonBounded(text, 16); json.ok()) {
    if (auto stats = StatsFromJson(*json); stats.ok()) {
      auto again = StatsFromJson(nlohmann::json::parse(ToJson(*stats).dump()));
      Check(again.ok() && *again == *stats);
    }
    // POST /v1/chat/completions: the plan and the whole answer.
    MockConfig small;
    small.token_count = 4;
    if (auto plan = PlanChat(*json, small); plan.ok()) {
      (void)CompletionBody(*plan);
      ChatStream stream(*plan);
      for (int i = 0; i < 64 && !stream.done(); ++i) (void)stream.Next();
    }
  }

  // ?size_mb= and the other query numbers.
  (void)ParseNumberParameter("size_mb", text);
  return 0;
}
