#include "mocks/mock_defaults.h"

namespace streamcheck::mocks {

Result<MockConfig> OverDefaults(const nlohmann::json& defaults, const MockConfig& config) {
  const nlohmann::json plain = ToJson(MockConfig{});
  const nlohmann::json wanted = ToJson(config);
  nlohmann::json merged = defaults;
  for (const auto& [key, value] : wanted.items()) {
    if (!plain.contains(key) || plain[key] != value) merged[key] = value;
  }
  // A case that needs a body with Content-Length (framing "length") gets it
  // plain: the mock cannot know a gzip body's length before it is sent.
  // "auto" and "chunked" keep the spec's compress.
  if (merged.value("framing", "") == ToString(BodyFraming::kLength)) {
    merged["compress"] = ToString(Compression::kNone);
  }
  return ConfigFromJson(merged);
}

Status MockWithDefaults::SetConfig(const MockConfig& config) {
  auto merged = OverDefaults(defaults_, config);
  if (!merged) return Status::Failure(merged.error());
  return inner_.SetConfig(*merged);
}

Status MockWithDefaults::Reset() {
  if (auto reset = inner_.Reset(); !reset) return reset;
  return SetConfig(MockConfig{});
}

}  // namespace streamcheck::mocks
