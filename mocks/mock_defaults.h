// A mock whose defaults a target spec sets ("mock": {"config": {...}}), e.g.
// `"compress": "gzip"` to stand in for a backend that compresses as
// api.openai.com does. Every case then runs against those defaults: Reset()
// restores them, and SetConfig() lays each key a case changes from
// MockConfig's own defaults over them, so a case that sets only `size_mb`
// still gets gzip.
#pragma once

#include <nlohmann/json.hpp>

#include "mocks/mock_control.h"

namespace streamcheck::mocks {

// `defaults` with every key where `config` differs from MockConfig{} replaced
// by `config`'s value. `defaults` holds mock config keys (ConfigFromJson's).
// A config with `"framing": "length"` gets an uncompressed body (the mock
// cannot know a gzip body's length before it is sent); with "auto" a gzip
// default still gzips, and the body goes chunked.
Result<MockConfig> OverDefaults(const nlohmann::json& defaults, const MockConfig& config);

class MockWithDefaults : public MockControl {
 public:
  // `inner` outlives this object; `defaults` was checked by ConfigFromJson.
  MockWithDefaults(MockControl& inner, nlohmann::json defaults)
      : inner_(inner), defaults_(std::move(defaults)) {}

  std::string url() const override { return inner_.url(); }
  Status SetConfig(const MockConfig& config) override;
  MockConfig config() const override { return inner_.config(); }
  Status Reset() override;
  Status OpenGate() override { return inner_.OpenGate(); }
  Result<bool> WaitGateReached(std::chrono::milliseconds timeout) override {
    return inner_.WaitGateReached(timeout);
  }
  Result<bool> WaitCancelled(std::chrono::milliseconds timeout) override {
    return inner_.WaitCancelled(timeout);
  }
  Result<bool> WaitUploadStarted(std::chrono::milliseconds timeout) override {
    return inner_.WaitUploadStarted(timeout);
  }
  Result<MockStats> Stats() override { return inner_.Stats(); }
  Status ResetStats() override { return inner_.ResetStats(); }
  Status Suspend() override { return inner_.Suspend(); }
  Status Resume() override { return inner_.Resume(); }

 private:
  MockControl& inner_;
  nlohmann::json defaults_;
};

}  // namespace streamcheck::mocks
