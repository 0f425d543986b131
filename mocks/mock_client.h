// MockControl over the HTTP control API of a `streamcheck mock` running
// elsewhere (another process, another container): what lets a case drive a mock
// it did not start. Each call is one blocking libcurl request on a connection
// of its own, bounded by a timeout; waits longer than the mock's long-poll
// bound (kMaxLongPollMs) are made of several long polls.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"
#include "mocks/mock_control.h"

namespace streamcheck::mocks {

class MockClient : public MockControl {
 public:
  // Checks that `url` ("http://HOST:PORT") is a streamcheck mock (GET
  // /_mock/info) and reads its configuration; fails saying what answered instead.
  static Result<std::unique_ptr<MockClient>> Connect(
      const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  std::string url() const override { return url_; }
  Status SetConfig(const MockConfig& config) override;
  MockConfig config() const override { return config_; }
  Status Reset() override;
  Status OpenGate() override;
  Result<bool> WaitGateReached(std::chrono::milliseconds timeout) override;
  Result<bool> WaitCancelled(std::chrono::milliseconds timeout) override;
  Result<bool> WaitUploadStarted(std::chrono::milliseconds timeout) override;
  Result<MockStats> Stats() override;
  Status ResetStats() override;
  Status Suspend() override;
  Status Resume() override;

  struct Reply {
    long status = 0;
    std::string body;
  };
  // One control request: the reply, or an error when nothing answered.
  Result<Reply> Call(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

 private:
  MockClient(std::string url, std::chrono::milliseconds timeout)
      : url_(std::move(url)), timeout_(timeout) {}
  // A call that must answer 200; else an error with the mock's message.
  Result<Reply> Expect200(const std::string& method, const std::string& path,
                          const std::string& body = "",
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(0)) const;
  Result<bool> WaitFor(const std::string& what, std::chrono::milliseconds timeout);

  std::string url_;
  std::chrono::milliseconds timeout_;
  MockConfig config_;
};

}  // namespace streamcheck::mocks
