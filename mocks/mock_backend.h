// The mock NIM backend: an OpenAI-compatible server with deterministic content
// (mocks/content.h), configurable per case, with a gate that proves streaming
// versus buffering, fault injection, and counters of what it saw.
//
// Routes:
//   GET  /v1/health/ready, GET /v1/models
//   POST /v1/chat/completions          stream and non-stream, tokens from the seed
//   GET  /large-file[?size_mb=N]       size_mb MiB of deterministic bytes
//   ANY  /echo[/...]                   JSON: method, path, query, headers, body length + SHA-256
//                                      (bodies hashed as they arrive, never held)
//   ANY  /status/<code>                that status with a JSON body
//   PUT  /_mock/config                 replace the configuration (JSON, keys of MockConfig)
//   GET  /_mock/config, GET /_mock/stats, POST /_mock/stats/reset, POST /_mock/gate/open
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/result.h"

namespace streamcheck::mocks {

// SSE framings the mock can produce, to exercise parsers and checks.
enum class SseVariant {
  kStandard,          // "data: {...}\n\n"
  kCrlf,              // CRLF line ends
  kCr,                // lone CR line ends
  kBom,               // a UTF-8 BOM first
  kComments,          // ": keep-alive" comment lines between events
  kMultiTokenChunks,  // several events per write
  kBytePerWrite,      // every byte its own write
  kNoDone,            // no "data: [DONE]"
};

struct MockConfig {
  std::uint64_t seed = 42;

  // Byte streams (/large-file).
  double size_mb = 1;
  std::size_t chunk_size = 64 * 1024;
  double rate_mib_s = 0;        // 0: as fast as the client reads
  bool content_length = false;  // send Content-Length instead of chunked framing

  // Chat completions.
  int token_count = 16;
  int token_delay_ms = 0;
  SseVariant sse_variant = SseVariant::kStandard;

  // The gate: stop after this many tokens / bytes until OpenGate() or the
  // timeout. -1: no gate.
  long long gate_after_tokens = -1;
  long long gate_after_bytes = -1;
  int gate_timeout_ms = 10'000;

  // Faults. -1: off.
  long long fail_after_tokens = -1;         // cut the connection, no [DONE]
  long long error_event_after_tokens = -1;  // in-band error event, then end without [DONE]
  long long truncate_after_bytes = -1;      // close mid-body, no end of the chunked body
  long long reset_after_bytes = -1;         // reset the connection (RST) mid-body
  long long stall_after_bytes = -1;         // pause `stall_ms` once, then go on
  int stall_ms = 0;
  int headers_delay_ms = 0;  // a silent backend: wait this long before answering
};

Result<MockConfig> ConfigFromJson(const nlohmann::json& json);  // unknown keys are errors
nlohmann::json ToJson(const MockConfig& config);

// A transfer the client abandoned.
struct Cancellation {
  std::string path;
  double after_ms = 0;           // since the transfer started
  std::uint64_t bytes_sent = 0;  // before it noticed
};

struct MockStats {
  std::uint64_t requests = 0;
  std::uint64_t chat_requests = 0;
  std::uint64_t body_bytes_sent = 0;
  std::uint64_t transfers_started = 0;    // streamed responses begun
  std::uint64_t transfers_completed = 0;  // ended cleanly
  std::uint64_t transfers_cancelled = 0;  // the client went away
  std::optional<Cancellation> last_cancellation;
  bool gate_reached = false;
  std::string gate_opened_by;      // "", "harness" or "timeout"
  std::string last_stream_sha256;  // of the last chat stream sent whole
  std::uint64_t last_stream_bytes = 0;
  nlohmann::json last_request =
      nlohmann::json::object();  // method, path, query, headers, body_length
};
nlohmann::json ToJson(const MockStats& stats);

class MockBackend {
 public:
  // Binds host:port (0: any free port) and serves on its own threads. Ready
  // when it returns: connections are accepted from then on.
  static Result<std::unique_ptr<MockBackend>> Start(MockConfig config = {},
                                                    const std::string& host = "127.0.0.1",
                                                    int port = 0);
  ~MockBackend();
  MockBackend(const MockBackend&) = delete;
  MockBackend& operator=(const MockBackend&) = delete;

  int port() const;
  std::string host() const;
  std::string url() const;  // "http://127.0.0.1:PORT"

  // Replaces the configuration and re-arms the gate.
  void SetConfig(const MockConfig& config);
  MockConfig config() const;
  // The seed plan's `set_stream_response(size_mb=100)`.
  void SetStreamResponse(double size_mb);

  // Opens the gate for every stream waiting at it, and those to come.
  void OpenGate();
  // Waits until a stream reaches the gate; false after `timeout`.
  bool WaitGateReached(std::chrono::milliseconds timeout);
  // Waits until a transfer is counted cancelled; false after `timeout`.
  bool WaitCancelled(std::chrono::milliseconds timeout);

  MockStats stats() const;
  void ResetStats();

  // Stops serving: releases the gate, ends streams, joins the threads.
  void Stop();
  // Stops listening (connections are refused: an unreachable backend) until
  // Resume(), which listens again on the same port.
  void Suspend();
  Status Resume();

  class Impl;

 private:
  explicit MockBackend(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamcheck::mocks
