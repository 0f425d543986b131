// The mock backend's HTTP/1.1 server: event-driven (Boost.Asio, requests parsed
// by Boost.Beast), so ten thousand open streams cost ten thousand sockets and
// timers, not threads. A response is a state machine (Response::Next) that the
// connection drives on its own strand: send the head, send body bytes, wait
// until a time (token delays, gates, stalls, rates, long polls; woken early by
// the events it waits for and by Stop), end, or cut the connection (FIN or RST).
// The mock writes every byte itself (head, chunk framing, gzip), so a fault
// lands exactly where the config puts it; Beast only parses what clients send.
// Internal to mocks/: MockBackend is the public face.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "mocks/http_wire.h"

namespace streamcheck::mocks::detail {

using Clock = std::chrono::steady_clock;
using wire::Headers;

struct Request {
  std::string method;
  std::string target;  // as received
  std::string path;    // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;
  bool http10 = false;
  Headers headers;       // names as received, in order
  std::string raw_head;  // request line through the blank line, as received
  std::string body;      // unless the body was hashed (BodyMode::kHash)
  std::uint64_t body_length = 0;
  std::string body_sha256;  // only for kHash
  std::optional<std::string> Header(std::string_view name) const {
    return wire::FindHeader(headers, name);
  }
};

enum class Framing {
  kFixed,    // `body` whole, with Content-Length
  kChunked,  // chunked, one chunk per body step (close-delimited for HTTP/1.0 clients)
  kLength,   // Content-Length `length`, the body in steps
};

struct ResponseHead {
  int status = 200;
  Headers headers;  // besides the framing and encoding ones, which the server adds
  Framing framing = Framing::kFixed;
  std::string body;          // kFixed
  std::uint64_t length = 0;  // kLength
  bool gzip = false;         // gzip the body (not with kLength)
  bool vary = false;         // add Vary: Accept-Encoding
};

// What a response does next.
struct Step {
  enum Kind {
    kHead,   // send `head` (a kFixed head ends the response)
    kBody,   // send `bytes` of content
    kWait,   // ask again at `until`, or when woken
    kEnd,    // the body is whole: end the framing; the connection may serve again
    kClose,  // close the connection now (FIN), the body unfinished
    kReset,  // reset the connection now (RST)
  };
  Kind kind = kEnd;
  ResponseHead head;
  std::string bytes;
  Clock::time_point until;

  static Step Head(ResponseHead head) { return {kHead, std::move(head), {}, {}}; }
  static Step Body(std::string bytes) { return {kBody, {}, std::move(bytes), {}}; }
  static Step Wait(Clock::time_point until) { return {kWait, {}, {}, until}; }
  static Step End() { return {kEnd, {}, {}, {}}; }
  static Step Close() { return {kClose, {}, {}, {}}; }
  static Step Reset() { return {kReset, {}, {}, {}}; }
};

// Which events end a kWait early (besides Stop, which ends every wait).
enum WakeOn : unsigned { kWakeNone = 0, kWakeGate = 1, kWakeEvents = 2 };

// One response, driven on its connection's strand: never two calls at once.
class Response {
 public:
  virtual ~Response() = default;
  virtual Step Next(Clock::time_point now) = 0;
  // The kernel took the bytes of the last kBody step (`n` content bytes).
  virtual void Written(std::uint64_t /*n*/) {}
  // The client went away before the end: a write failed, or the socket read
  // EOF or an error while the response was under way.
  virtual void ClientGone() {}
  // The server cut it short (Stop, Suspend).
  virtual void Cut() {}
  virtual unsigned WakeOn() const { return kWakeNone; }
};

enum class Admission {
  kServe,
  kServeControl,  // a control request: spared by CutConnections(keep_control)
  kReset,         // reset the connection at once (suspended over HTTP)
};

enum class BodyMode {
  kKeep,  // into Request::body, at most kMaxKeptBody bytes (else 413)
  kHash,  // counted and hashed as it arrives, never held
};

inline constexpr std::uint64_t kMaxKeptBody = 8 << 20;

class Handler {
 public:
  virtual ~Handler() = default;
  // Called once the head is read, before the body: counts the request.
  virtual Admission Admit(const Request& head) = 0;
  virtual BodyMode BodyModeFor(const Request& head) = 0;
  // Bytes of a kHash body as they arrive, before the request is whole.
  virtual void BodyBytes(std::uint64_t /*n*/) {}
  // The response to a whole request; never null.
  virtual std::unique_ptr<Response> Handle(Request& request) = 0;
  // A response the server makes itself (400, 413, 431). `unadmitted_head` is
  // the raw head when Admit never saw it (a malformed or oversized head), so the
  // handler counts it; "" when it did.
  virtual std::unique_ptr<Response> Refuse(int status, const std::string& message,
                                           const std::string& unadmitted_head) = 0;
};

class HttpServer {
 public:
  // `threads` run the event loop. The handler must outlive the server.
  HttpServer(Handler& handler, int threads);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds host:port (0: any free port), listens, starts accepting.
  Status Listen(const std::string& host, int port);
  int port() const { return port_; }

  // Stops accepting (connections are refused) / accepts again on the same port.
  Status CloseListener();
  Status Reopen();

  // Ends early the waits that wait for these events.
  void Wake(unsigned events);
  // Closes every connection (RST when `reset`), except, with `keep_control`,
  // those serving or last served a control request.
  void CutConnections(bool reset, bool keep_control);

  // Closes everything and joins the threads, within about a second whatever
  // the responses are doing. Idempotent; the server cannot listen again.
  void Stop();

  class Connection;

 private:
  friend class Connection;
  struct State;
  std::unique_ptr<State> state_;
  int port_ = -1;
};

}  // namespace streamcheck::mocks::detail
