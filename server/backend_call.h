// One request from the reference server to its backend, on the connection's
// own event loop: Boost.Asio for the socket and timers, Boost.Beast's strict
// parser for the response. Each step takes a completion callback; nothing
// blocks, and nothing is read from the backend unless a caller asks for the
// next piece, so a slow client slows the backend through TCP flow control.
// Failures are reported in the server's own words, never a library's.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "server/beast.h"
#include "server/deadline.h"

namespace streamcheck::server {

// Where the backend is: from "http://host[:port][/base]".
struct BackendAddress {
  std::string host;
  std::string port = "80";
  std::string authority;  // for the Host header: host[:port] as given
  std::string base_path;  // prefix of every backend target, no trailing '/'
};
Result<BackendAddress> ParseBackendUrl(const std::string& url);

struct BackendTimeouts {
  std::chrono::milliseconds connect{5'000};
  std::chrono::milliseconds headers{30'000};  // until the response head is complete
  std::chrono::milliseconds idle{30'000};     // longest silence mid-body
};

enum class BackendFailure {
  kNone,
  kConnect,    // refused or unreachable: 502
  kTimeout,    // no connection, head or body byte in time: 504 before the head
  kBroken,     // closed or reset before the message was complete
  kMalformed,  // a response Beast's parser refuses
};

// The server's words for a failure, fit for a client to read.
std::string Describe(BackendFailure failure, const BackendTimeouts& timeouts);

class BackendCall {
 public:
  using Done = std::function<void(BackendFailure)>;
  // n body bytes now in the caller's buffer; `done` once the body ended cleanly.
  using BodyDone = std::function<void(BackendFailure, std::size_t n, bool done)>;
  using Parser = http::response_parser<http::buffer_body>;

  // `read_buffer_bytes`: Beast reads the socket at most this much at a time.
  BackendCall(asio::any_io_executor executor, BackendTimeouts timeouts,
              std::size_t read_buffer_bytes);
  ~BackendCall();
  BackendCall(const BackendCall&) = delete;
  BackendCall& operator=(const BackendCall&) = delete;

  void Connect(const BackendAddress& address, Done done);
  // Writes bytes as they are (a request head, a Content-Length body). The
  // bytes must stay valid until `done`.
  void Write(asio::const_buffer bytes, Done done);
  // Writes one chunk of a chunked request body, or the last chunk.
  void WriteChunk(asio::const_buffer bytes, Done done);
  void WriteLastChunk(Done done);

  // Reads the response head, skipping 1xx interim responses. With
  // `arm_timer` false the headers timeout starts only at ArmHeadersTimer()
  // (while the request body is still being uploaded).
  void ReadHead(bool head_request, bool arm_timer, Done done);
  void ArmHeadersTimer();
  const Parser& parser() const { return *parser_; }
  Parser& parser() { return *parser_; }
  int status() const { return parser_->get().result_int(); }

  // Reads the next body bytes into out[0, capacity).
  void ReadBody(char* out, std::size_t capacity, BodyDone done);

  // For the zero-copy path: the socket, and bytes already read past the head.
  tcp::socket& socket() { return socket_; }
  beast::flat_buffer& read_buffer() { return buffer_; }
  const BackendTimeouts& timeouts() const { return timeouts_; }

  // Drops the connection at once: the backend sees the request cancelled (or
  // its body incomplete). Pending callbacks complete with a failure.
  void Abort();

 private:
  void Arm(std::chrono::milliseconds after);
  void Disarm();
  BackendFailure Classify(const error_code& ec) const;
  void ReadMore(char* out, std::size_t capacity, std::size_t got, BodyDone done);

  tcp::resolver resolver_;
  tcp::socket socket_;
  Deadline deadline_;
  bool timed_out_ = false;
  BackendTimeouts timeouts_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  bool head_request_ = false;
};

}  // namespace streamcheck::server
