// One client connection of the reference server, internal to server/: reads
// requests one after the other with Beast's parser (pipelined bytes wait in
// the buffer for their turn), refuses any request whose framing is in doubt
// and closes the connection behind it, enforces the limits of ServerOptions,
// routes, and gives an exchange (chat relay, /directAccess/ proxy) what it
// needs to stream: the request body piece by piece, and a response written
// head first, then body pieces, each write completing before the next.
// Everything runs on the connection's own event loop, one thread: no locks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "server/backend_call.h"
#include "server/beast.h"
#include "server/deadline.h"
#include "server/reference_server.h"

namespace streamcheck::server {

// What every connection of one server shares. Counters are atomic: the
// connections of several event loops update them.
struct ServerCore {
  ServerOptions options;
  BackendAddress backend;
  std::atomic<int> open_connections{0};
  std::atomic<int> pings{0};
  // server-survives: closes the listening socket. server-slow-clients: called
  // when a connection closes, to accept again.
  std::function<void()> stop_listening;
  std::function<void()> connection_closed;

  BackendTimeouts timeouts() const {
    return {options.backend_connect_timeout, options.backend_headers_timeout,
            options.backend_idle_timeout};
  }
};

// Answers a connection over the limit with a 503 and closes it.
void RejectConnection(tcp::socket socket);

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Request = http::request<http::buffer_body>;
  // ok false: the client is gone (or the write stalled); the connection is
  // already closing and the exchange should stop, cancelling its backend.
  using Done = std::function<void(bool ok)>;
  enum class Framing { kLength, kChunked, kNone };
  enum class BodyRead { kPiece, kDone, kGone, kInvalid, kTooLarge };
  using BodyPiece = std::function<void(BodyRead, std::string_view piece)>;

  Connection(tcp::socket socket, ServerCore& core);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void Start();

  // ---- for exchanges ----
  const Request& request() const { return parser_->get(); }
  std::string_view target() const { return parser_->get().target(); }
  bool has_body() const { return body_length_.has_value() || body_chunked_; }
  std::optional<std::uint64_t> body_length() const { return body_length_; }
  bool body_chunked() const { return body_chunked_; }
  bool http10() const { return http10_; }
  ServerCore& core() { return core_; }
  asio::any_io_executor executor() { return socket_.get_executor(); }
  tcp::socket& socket() { return socket_; }

  // The next piece of the request body (kPiece), or how it ended. The piece
  // stays valid until the next call.
  void ReadBody(BodyPiece on_piece);
  // The whole body, up to `limit` bytes (kTooLarge beyond).
  void ReadWholeBody(std::size_t limit, std::function<void(BodyRead, std::string)> done);

  // The response head with the framing the body will have: kLength with
  // `length`, kChunked (close-delimited for an HTTP/1.0 client), kNone.
  void SendHead(http::response<http::empty_body>& head, Framing framing, std::uint64_t length,
                Done done);
  void SendBody(asio::const_buffer bytes, Done done);
  void SendEnd(Done done);  // the last chunk, or nothing; then call Finish()
  // A whole small response, then Finish().
  void SendComplete(int status, std::string_view content_type, std::string body);
  void SendError(int status, const std::string& message, const std::string& type);

  void Finish();  // the exchange is over: the next request, or close
  void Abort();   // close at once: a response in progress stays visibly incomplete
  // Called once if the client goes away while its response is being made.
  // WatchClient() starts looking (SendHead does too).
  void OnClientGone(std::function<void()> callback);
  void WatchClient();
  bool closed() const { return closed_; }
  bool response_started() const { return response_started_; }
  Framing framing() const { return framing_; }
  // The connection cannot carry another request after this one.
  void NoKeepAlive() { keep_alive_ = false; }

 private:
  enum class TimerFor { kNone, kHeader, kKeepAlive, kClient };
  void AwaitRequest();
  void ReadHeader();
  void OnHeader(const error_code& ec);
  void ReadHeadLaxly();
  bool CheckHead();  // false: an error response is on its way
  void Route();
  void Ping();
  void Arm(std::chrono::milliseconds after, TimerFor what);
  void Disarm();
  void OnTimeout(TimerFor what);
  void Write(std::string bytes, Done done);
  void ContinueWholeBody();
  void ReleaseBodyBuffers();
  void ClientGone();
  void ProbeAfterWrite();
  void CloseGracefully();  // half-close, then drain a while: the client reads our last answer
  void Close();

  tcp::socket socket_;
  ServerCore& core_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::buffer_body>> parser_;
  Deadline deadline_;
  bool header_timed_out_ = false;

  bool first_request_ = true;
  bool keep_alive_ = true;
  bool http10_ = false;
  std::optional<std::uint64_t> body_length_;
  bool body_chunked_ = false;
  bool body_done_ = true;  // the request body was read to its end
  std::uint64_t body_received_ = 0;
  bool expect_continue_ = false;
  std::unique_ptr<char[]> body_buffer_;
  std::size_t body_piece_ = 0;
  bool no_length_waited_ = false;  // server-no-length-body
  std::string whole_body_;         // ReadWholeBody
  std::size_t whole_limit_ = 0;
  std::function<void(BodyRead, std::string)> whole_done_;

  bool response_started_ = false;
  Framing framing_ = Framing::kNone;
  std::string out_;  // the bytes of the write in progress (heads, small bodies)
  std::function<void()> on_client_gone_;
  unsigned watch_generation_ = 0;
  bool client_half_closed_ = false;
  std::optional<asio::steady_timer> probe_;  // only after a FIN
  bool closed_ = false;
  bool counted_ = true;
};

// The exchanges (chat.cc, direct.cc): each takes over a connection whose
// request head has been checked, and ends with Finish() or Abort().
void StartChat(std::shared_ptr<Connection> connection, bool plain_path);
void StartProxy(std::shared_ptr<Connection> connection);

// A whole JSON error body as the server writes it.
std::string ErrorJson(int status, const std::string& message, const std::string& type);

}  // namespace streamcheck::server
