// The mock NIM backend: an OpenAI-compatible server with deterministic content
// (mocks/content.h), configurable per case (mocks/mock_config.h, one table of
// keys), with a gate that proves streaming versus buffering, fault injection,
// and counters of what it saw (mocks/mock_stats.h). Event-driven
// (mocks/http_server.h): ten thousand concurrent token streams on two threads.
//
// Routes:
//   GET  /v1/health/ready, GET /v1/models
//   POST /v1/chat/completions   stream and non-stream, tokens from the seed; `n`
//                               choices (1..16); with `tools`, a tool call
//                               (content.h ExpectedToolCall) and finish_reason
//                               "tool_calls"; stream_options.include_usage
//   GET  /large-file[?size_mb=N]  size_mb MiB of deterministic bytes, with
//                               Content-Length as a NIM sends them; chunked
//                               when gzipped or when `framing` says chunked
//   ANY  /echo[/...]            JSON: method, path, target, query, headers,
//                               body_length + body_sha256 (hashed as it arrives)
//   ANY  /status/<code>         that status with a JSON body
//   ANY  /response-headers?NAME=VALUE...   200, each pair a response header
//                               (hop-by-hop ones too; not the framing ones)
//   anything else               404, counted like every request
// Every response body is gzipped when compress is "gzip" and the request's
// Accept-Encoding allows it; nothing is compressed otherwise.
//
// Control API (not counted in the statistics):
//   GET  /_mock/info            {"service": "streamcheck-mock", "api": 1}
//   GET  /_mock/config          the configuration; PUT replaces it (400 naming
//                               the key and its range when refused)
//   GET  /_mock/config/keys     the table of keys: name, type, range, default, meaning
//   GET  /_mock/stats           MockStats as JSON; POST /_mock/stats/reset
//   POST /_mock/reset           default config, fresh stats, resumed
//   POST /_mock/gate/open
//   GET  /_mock/wait?for=gate|cancelled|upload&timeout_ms=N   long poll, N <= 60000:
//                               {"reached": true|false}
//   POST /_mock/suspend, POST /_mock/resume   (see MockControl::Suspend)
//
// Raw request heads (MockStats::request_heads) are the bytes read from the
// socket up to the blank line, kept before anything parses them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "mocks/mock_config.h"
#include "mocks/mock_control.h"
#include "mocks/mock_stats.h"

namespace streamcheck::mocks {

// The longest GET /_mock/wait the mock holds; MockClient waits longer in rounds.
inline constexpr int kMaxLongPollMs = 60'000;

class MockBackend {
 public:
  // Binds host:port (0: any free port) and serves on `threads` threads. Ready
  // when it returns: connections are accepted from then on. A config out of
  // range is refused.
  static Result<std::unique_ptr<MockBackend>> Start(MockConfig config = {},
                                                    const std::string& host = "127.0.0.1",
                                                    int port = 0, int threads = 2);
  ~MockBackend();
  MockBackend(const MockBackend&) = delete;
  MockBackend& operator=(const MockBackend&) = delete;

  int port() const;
  std::string host() const;
  std::string url() const;  // "http://127.0.0.1:PORT"

  // This mock as a MockControl, for code that serves both kinds of mock.
  MockControl& control();

  // The methods below predate MockControl and keep their signatures for the
  // callers written against them; each means what its MockControl namesake
  // means. SetConfig aborts the process on a config out of range (a bug in
  // the harness, which built it): control().SetConfig returns the error.
  void SetConfig(const MockConfig& config);
  MockConfig config() const;
  // The seed plan's `set_stream_response(size_mb=100)`.
  void SetStreamResponse(double size_mb);
  void OpenGate();
  bool WaitGateReached(std::chrono::milliseconds timeout);
  bool WaitCancelled(std::chrono::milliseconds timeout);
  MockStats stats() const;
  void ResetStats();
  // Closes the listener (connections refused) and cuts open transfers.
  void Suspend();
  Status Resume();

  // Stops serving: cuts every transfer, wakes every wait, joins the threads;
  // returns within about a second whatever the handlers were doing.
  void Stop();

  class Impl;

 private:
  explicit MockBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamcheck::mocks
