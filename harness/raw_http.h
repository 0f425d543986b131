// A raw HTTP/1.1 client, for requests no HTTP library would send and for
// watching what a server does on the wire: bytes sent as they are (malformed
// request lines, conflicting framing, pipelined requests), in segments with a
// bounded wait between them, a half-close, and responses read one after the
// other from one connection with Boost.Beast's parser (Content-Length,
// chunked or close-delimited bodies), knowing whether and when the server
// closed. Names resolve (localhost, IPv6 [::1]); https targets speak TLS
// (OpenSSL), trusting the spec's ca_file or, with `insecure`, anything.
//
// Every wait is bounded by its deadline and ends early when `should_stop`
// says so. What is kept of a body is bounded (kKeptBodyBytes); its size is not.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace streamcheck::harness {

struct TargetSpec;

// Where to connect, taken from a base URL ("http://HOST:PORT", "https://[::1]:PORT").
struct RawEndpoint {
  std::string host;  // without brackets
  int port = 0;
  std::string authority;  // for the Host header: "HOST:PORT", "[::1]:PORT"
  bool tls = false;
  std::string ca_file;    // https: a CA file to trust; empty: the system's
  bool insecure = false;  // https: no certificate verification
};
Result<RawEndpoint> RawEndpointOf(const std::string& base_url, const TargetSpec& spec);

inline constexpr std::size_t kKeptBodyBytes = 256 * 1024;

// One response as read off the connection.
struct RawResponse {
  int status = 0;        // 0: no (complete) status line
  unsigned version = 0;  // 10 or 11
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;
  // The status line and header lines as received; kGarbage: the head that did not parse.
  std::string head;
  std::string body;  // the first kKeptBodyBytes bytes of the decoded body
  std::uint64_t body_bytes = 0;
  bool chunked = false;     // framed with Transfer-Encoding: chunked
  bool complete = false;    // the whole message arrived, framing and all
  bool keep_alive = false;  // the server means to keep the connection (its head says)
  double t_ms = -1;         // when its first byte arrived, since the request was sent

  // The first value of `name` (case-insensitive), "" when absent.
  std::string Header(std::string_view name) const;
  std::size_t HeaderCount(std::string_view name) const;
};

// What reading a response came to.
enum class ReadEnd {
  kResponse,  // a whole response (RawResponse::complete)
  kClosed,    // the server closed (or reset) first; partial bytes are in `pending`
  kTimeout,   // the deadline passed with the connection open
  kGarbage,   // bytes that are not an HTTP/1.x response
  kStopped,   // the run stopped
};
std::string_view ToString(ReadEnd end);

struct ReadResult {
  ReadEnd end = ReadEnd::kTimeout;
  RawResponse response;  // complete when end == kResponse; else what parsed so far
  std::string error;     // kGarbage: the parser's words
};

class RawConnection {
 public:
  // Connects (every address of the host in turn) and, for https, handshakes,
  // within `timeout`.
  static Result<std::unique_ptr<RawConnection>> Open(const RawEndpoint& endpoint,
                                                     std::chrono::milliseconds timeout,
                                                     std::function<bool()> should_stop = {});
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // Sends all of `bytes` within `timeout`. False when the server closed or
  // reset the connection first, or the time ran out (a server may answer and
  // close before taking a whole request: that is not an error here).
  bool Send(std::string_view bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Half-close: no more bytes from the client (TLS: close_notify first).
  void ShutdownWrite();
  // Closes with a TCP reset (SO_LINGER 0): a client that dies.
  void Reset();

  // Reads the next response within `timeout`; 1xx interim responses are
  // skipped (counted in interim_responses()). `head_request`: the response
  // to a HEAD has no body whatever its framing says.
  ReadResult ReadResponse(std::chrono::milliseconds timeout, bool head_request = false);
  // Waits up to `timeout` for any byte or for the close: kResponse when bytes
  // arrived (they stay buffered for ReadResponse), kClosed, kTimeout, kStopped.
  ReadEnd WaitActivity(std::chrono::milliseconds timeout);
  // Reads (and counts) until the server closes or `timeout`: kClosed or kTimeout.
  ReadEnd ReadToClose(std::chrono::milliseconds timeout);

  bool closed() const { return closed_; }
  bool reset() const { return reset_; }  // the close was a reset
  // Bytes received and not yet taken by a response.
  const std::string& pending() const { return in_; }
  std::uint64_t bytes_received() const { return received_; }
  int interim_responses() const { return interim_; }

  class Impl;

 private:
  RawConnection() = default;
  // One read within the deadline into in_; false on timeout or stop.
  bool FillOnce(std::chrono::steady_clock::time_point deadline);

  std::unique_ptr<Impl> impl_;
  std::function<bool()> should_stop_;
  std::string in_;
  std::uint64_t received_ = 0;
  bool closed_ = false;
  bool reset_ = false;
  bool stopped_ = false;
  int interim_ = 0;
  std::chrono::steady_clock::time_point sent_at_ = std::chrono::steady_clock::now();
};

// A request head: "METHOD TARGET HTTP/1.1", Host, the spec's headers,
// `fields` (name, value) in order, then the blank line. `version` is the
// request line's version ("HTTP/1.1"); an empty `host` omits the Host line.
std::string RequestHead(const std::string& method, const std::string& target,
                        const std::string& host,
                        const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::string& version = "HTTP/1.1");

// `body` as one chunk and the last chunk.
std::string Chunked(std::string_view body);

}  // namespace streamcheck::harness
