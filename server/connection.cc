#include "server/connection.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <limits>
#include <regex>
#include <sstream>
#include <vector>

#include "common/text.h"
#include "server/faults.h"
#include "server/proxy_rules.h"

namespace streamcheck::server {
namespace {

using nlohmann::json;

// A streamed upload moves in 64 KiB pieces; a body read whole (chat) in 8 KiB
// ones, so that an open chat stream keeps little besides its own buffers.
constexpr std::size_t kUploadPiece = 64 * 1024;
constexpr std::size_t kWholeBodyPiece = 8 * 1024;
// After the last answer on a connection that is closing: how long to read and
// discard, so that a close with unread bytes does not reset the connection
// before the client has read that answer (RFC 9112 §9.6). Bounded in time
// only: a client still uploading (libcurl stops once it reads an early 413)
// may send far more than any byte cap in that time, and a cap it passes
// resets its connection with the answer unread.
constexpr auto kLingerTime = std::chrono::seconds(2);

std::string RenderHead(const http::response<http::empty_body>& head) {
  // Beast's field writer: the status line and the fields as set, then CRLF.
  std::ostringstream out;
  out << head.base();
  return out.str();
}

// Discards what a closing client still sends, for kLingerTime at most.
class Linger : public std::enable_shared_from_this<Linger> {
 public:
  explicit Linger(tcp::socket socket)
      : socket_(std::move(socket)), timer_(socket_.get_executor()) {}
  void Start() {
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    timer_.expires_after(kLingerTime);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->Close();
    });
    Drain();
  }

 private:
  void Drain() {
    socket_.async_read_some(asio::buffer(scratch_),
                            [self = shared_from_this()](const error_code& ec, std::size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }
  void Close() {
    error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }
  tcp::socket socket_;
  asio::steady_timer timer_;
  char scratch_[64 * 1024];
};

}  // namespace

std::string ErrorJson(int status, const std::string& message, const std::string& type) {
  return json{{"error", {{"message", message}, {"type", type}, {"code", status}}}}.dump();
}

void RejectConnection(tcp::socket socket) {
  // RFC 9110 §15.6.4: 503 for a temporary overload; the client may retry.
  static const std::string body = ErrorJson(503, "too many open connections", "server_busy");
  static const std::string reply =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*s, asio::buffer(reply), [s](const error_code& ec, std::size_t) {
    if (ec) return;
    std::make_shared<Linger>(std::move(*s))->Start();
  });
}

Connection::Connection(tcp::socket socket, ServerCore& core)
    : socket_(std::move(socket)), core_(core), deadline_(socket_.get_executor()) {}

Connection::~Connection() {
  if (counted_) {
    core_.open_connections.fetch_sub(1);
    if (core_.connection_closed) core_.connection_closed();
  }
}

void Connection::Start() {
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  AwaitRequest();
}

// ---- timers ----

void Connection::Arm(std::chrono::milliseconds after, TimerFor what) {
  if (FaultOn(Fault::kServerSlowClients) && what == TimerFor::kHeader) return;
  deadline_.Arm(after, [this, what] { OnTimeout(what); });
}

void Connection::Disarm() { deadline_.Disarm(); }

void Connection::OnTimeout(TimerFor what) {
  if (what == TimerFor::kHeader) {
    // The read completes with operation_aborted; OnHeader answers 408.
    header_timed_out_ = true;
    error_code ignored;
    socket_.cancel(ignored);
    return;
  }
  // Idle between requests, or a client that takes nothing: just close.
  ClientGone();
  Close();
}

// ---- reading requests ----

void Connection::AwaitRequest() {
  if (closed_) return;
  response_started_ = false;
  framing_ = Framing::kNone;
  on_client_gone_ = nullptr;
  ++watch_generation_;
  if (first_request_ || buffer_.size() > 0) {
    Arm(core_.options.header_timeout, TimerFor::kHeader);
    return ReadHeader();
  }
  // Keep-alive: wait for the first byte of the next request, then give the
  // head header_timeout to complete.
  Arm(core_.options.keepalive_timeout, TimerFor::kKeepAlive);
  socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_) return self->Close();
    self->Arm(self->core_.options.header_timeout, TimerFor::kHeader);
    self->ReadHeader();
  });
}

void Connection::ReadHeader() {
  first_request_ = false;
  header_timed_out_ = false;
  parser_.emplace();
  bool unlimited_headers = FaultOn(Fault::kServerHeaderCount) || FaultOn(Fault::kServerLargeHeader);
  parser_->header_limit(
      std::uint32_t(unlimited_headers ? 1024 * 1024 : core_.options.max_header_bytes));
  // Body limits are ours (CheckHead, ReadBody). Not boost::none: Beast 1.74
  // compares a Content-Length with it as "greater than none", always true.
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  if (FaultOn(Fault::kServerClTe) || FaultOn(Fault::kServerRequestLine) ||
      FaultOn(Fault::kServerContentLength) || FaultOn(Fault::kServerTransferEncoding)) {
    return ReadHeadLaxly();
  }
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](const error_code& ec, std::size_t) { self->OnHeader(ec); });
}

namespace {

// The head's field lines named `name` (lower case): where each starts and ends
// (before its CRLF), in `lower`, the head lower-cased.
std::vector<std::pair<std::size_t, std::size_t>> FieldLines(const std::string& lower,
                                                            const std::string& name) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (auto at = lower.find("\r\n" + name + ":"); at != std::string::npos;
       at = lower.find("\r\n" + name + ":", at + 2)) {
    auto end = lower.find("\r\n", at + 2);
    out.emplace_back(at + 2, end == std::string::npos ? lower.size() : end);
  }
  return out;
}

// What a lax parser makes of a head Beast would refuse (the faults that read
// one): returns the head rewritten so that Beast accepts it as the lax parser
// would have understood it.
std::string LaxHead(std::string head) {
  auto rename = [&](std::size_t at) { head.replace(at, 2, "X-"); };  // "Co..." -> "X-..."
  std::string lower = ToLower(head);
  if (FaultOn(Fault::kServerRequestLine)) {
    // Whatever the first line says, it is taken as a ping.
    static const std::regex valid("[A-Z]+ /[^ ]* HTTP/1\\.[01]");
    auto eol = head.find("\r\n");
    if (!std::regex_match(head.substr(0, eol), valid)) head.replace(0, eol, "GET /ping HTTP/1.1");
    lower = ToLower(head);
  }
  if (FaultOn(Fault::kServerClTe) && !FieldLines(lower, "transfer-encoding").empty() &&
      !FieldLines(lower, "content-length").empty()) {
    // Transfer-Encoding is dropped: the body is read by Content-Length.
    for (auto [at, end] : FieldLines(lower, "transfer-encoding")) rename(at);
  }
  if (FaultOn(Fault::kServerContentLength)) {
    // The first Content-Length line, and the first value of a list, win.
    auto lines = FieldLines(lower, "content-length");
    for (std::size_t i = 1; i < lines.size(); ++i) rename(lines[i].first);
    if (!lines.empty()) {
      auto [at, end] = lines.front();
      auto comma = head.find(',', at);
      if (comma != std::string::npos && comma < end) head.erase(comma, end - comma);
    }
  }
  if (FaultOn(Fault::kServerTransferEncoding)) {
    // Any Transfer-Encoding that mentions chunked is read as plain chunked.
    auto lines = FieldLines(lower, "transfer-encoding");
    bool chunked = std::any_of(lines.begin(), lines.end(), [&](auto line) {
      return lower.substr(line.first, line.second - line.first).find("chunked") !=
             std::string::npos;
    });
    if (chunked) {
      for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
        head.erase(it->first - 2, it->second - it->first + 2);  // the line and the CRLF before
      }
      head.insert(head.find("\r\n"), "\r\nTransfer-Encoding: chunked");
    }
  }
  return head;
}

}  // namespace

// The faults that read heads laxly (server-cl-te, server-request-line,
// server-content-length, server-transfer-encoding): the head is read up to
// its blank line first and rewritten, as the lax parser understood it,
// before Beast sees it.
void Connection::ReadHeadLaxly() {
  std::string bytes = beast::buffers_to_string(buffer_.data());
  auto end = bytes.find("\r\n\r\n");
  if (end == std::string::npos) {
    socket_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](const error_code& ec, std::size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadHeadLaxly();
                            });
    return;
  }
  std::string head = LaxHead(bytes.substr(0, end));
  bytes.replace(0, end, head);
  buffer_.consume(buffer_.size());
  buffer_.commit(asio::buffer_copy(buffer_.prepare(bytes.size()), asio::buffer(bytes)));
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](const error_code& ec, std::size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(const error_code& ec) {
  Disarm();
  if (closed_) return;
  keep_alive_ = false;  // until the head proves otherwise
  if (ec) {
    if (header_timed_out_) {
      // RFC 9110 §15.5.9: the client took too long to send its request.
      return SendError(408,
                       "the request head did not arrive within " +
                           std::to_string(core_.options.header_timeout.count()) + " ms",
                       "request_timeout");
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::connection_reset || ec == asio::error::operation_aborted) {
      return Close();  // the client left (between requests, or mid-head)
    }
    if (ec == http::error::header_limit) {
      // RFC 6585 §5.
      return SendError(431,
                       "request header fields larger than " +
                           std::to_string(core_.options.max_header_bytes) + " bytes",
                       "invalid_request_error");
    }
    // Beast's parser refused the head: a bad request line, a field with a bad
    // name or value (bare CR or LF, NUL, space before the colon), a bad or
    // conflicting Content-Length, Transfer-Encoding with Content-Length.
    // RFC 9112 §6.3: framing in doubt, so answer 400 and close.
    return SendError(400, "malformed request: " + ec.message(), "invalid_request_error");
  }
  if (CheckHead()) Route();
}

bool Connection::CheckHead() {
  const auto& req = parser_->get();
  http10_ = req.version() == 10;
  if (req.version() != 10 && req.version() != 11) {
    SendError(505, "HTTP/1.0 and HTTP/1.1 only", "invalid_request_error");
    return false;
  }
  std::size_t fields = 0, hosts = 0;
  std::vector<std::string_view> te, cl;
  for (const auto& f : req) {
    ++fields;
    if (f.name() == http::field::host) ++hosts;
    if (f.name() == http::field::transfer_encoding) te.push_back(f.value());
    if (f.name() == http::field::content_length) cl.push_back(f.value());
  }
  if (fields > core_.options.max_header_count && !FaultOn(Fault::kServerHeaderCount)) {
    SendError(431, "more than " + std::to_string(core_.options.max_header_count) + " header fields",
              "invalid_request_error");
    return false;
  }
  if (auto verdict = CheckRequestFraming(te, cl, http10_); verdict.status != 0) {
    SendError(verdict.status, verdict.reason, "invalid_request_error");
    return false;
  }
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one in HTTP/1.0.
  if (hosts > 1 || (!http10_ && hosts == 0)) {
    SendError(400, "a request needs exactly one Host header", "invalid_request_error");
    return false;
  }
  // Origin-form only (RFC 9112 §3.2.1). Absolute-form is for forward proxies:
  // this server names no other host, so it refuses one outright.
  auto target = req.target();
  if (target.empty() || target.front() != '/') {
    SendError(400, "the request target must be a path (origin-form)", "invalid_request_error");
    return false;
  }
  // RFC 9112 §6.3: chunked, or Content-Length, or (7) no body at all.
  body_chunked_ = parser_->chunked();
  body_length_.reset();
  if (!body_chunked_ && parser_->content_length()) body_length_ = *parser_->content_length();
  if (body_length_ == 0) body_length_.reset();
  body_done_ = !has_body();
  body_received_ = 0;
  body_buffer_.reset();
  no_length_waited_ = false;
  auto expect = req[http::field::expect];
  expect_continue_ = !http10_ && has_body() && EqualsIgnoreCase(expect, "100-continue");
  keep_alive_ = !http10_ && req.keep_alive();
  if (FaultOn(Fault::kServerDesync)) keep_alive_ = true;
  return true;
}

void Connection::Route() {
  const auto& req = parser_->get();
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  auto method = req.method();
  bool get_or_head = method == http::verb::get || method == http::verb::head;
  if (FaultOn(Fault::kServerNoLengthBody) && !has_body() && !no_length_waited_ &&
      (method == http::verb::post || method == http::verb::put)) {
    // The fault: a request without Content-Length or Transfer-Encoding is
    // taken to have a body still coming; wait for it (up to 30 s).
    no_length_waited_ = true;
    Arm(std::chrono::milliseconds(30'000), TimerFor::kClient);
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed_) return;
      self->Disarm();
      self->Route();
    });
    return;
  }
  if (path == "/" || path == "/ping") {
    if (!get_or_head) {
      return SendError(405, "use GET", "invalid_request_error");
    }
    if (path == "/ping") return Ping();
    return SendComplete(200, "application/json", R"({"message":"OK"})");
  }
  if (path == "/v1/chat/completions" || path == "/chat/completions") {
    if (method != http::verb::post) return SendError(405, "use POST", "invalid_request_error");
    return StartChat(shared_from_this(), path == "/chat/completions");
  }
  if (path.rfind("/directAccess/", 0) == 0) return StartProxy(shared_from_this());
  SendError(404, "no such path", "not_found");
}

void Connection::Ping() {
  int answered = ++core_.pings;
  if (FaultOn(Fault::kServerReadyNever) || (FaultOn(Fault::kServerReady) && answered > 1)) {
    return SendError(503, "not ready", "not_ready");
  }
  if (FaultOn(Fault::kServerSurvives) && core_.stop_listening) core_.stop_listening();
  if (FaultOn(Fault::kServerSurvivesExit)) {
    http::response<http::empty_body> head{http::status::ok, 11};
    head.set(http::field::content_type, "application/json");
    std::string body = R"({"message":"OK"})";
    head.set(http::field::content_length, std::to_string(body.size()));
    Write(RenderHead(head) + body, [](bool) { std::_Exit(0); });
    return;
  }
  SendComplete(200, "application/json", R"({"message":"OK"})");
}

// ---- the request body ----

void Connection::ReadBody(BodyPiece on_piece) {
  if (body_done_) {
    // Nobody holds a piece now: an open stream keeps neither buffer.
    ReleaseBodyBuffers();
    return on_piece(BodyRead::kDone, {});
  }
  if (expect_continue_) {
    // RFC 9110 §10.1.1: the client waits for this before sending the body.
    expect_continue_ = false;
    out_ = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), on_piece = std::move(on_piece)](
                          const error_code& ec, std::size_t) mutable {
                        if (ec) return on_piece(BodyRead::kGone, {});
                        self->ReadBody(std::move(on_piece));
                      });
    return;
  }
  if (!body_buffer_) {
    body_piece_ = whole_done_ ? kWholeBodyPiece : kUploadPiece;
    body_buffer_ = std::make_unique<char[]>(body_piece_);
    // Room for Beast to read the body in large pieces (it reads at most the
    // free capacity); idle connections keep their small buffer.
    buffer_.reserve(body_piece_);
  }
  const std::size_t piece = body_piece_;
  auto& body = parser_->get().body();
  body.data = body_buffer_.get();
  body.size = piece;
  body.more = true;
  Arm(core_.options.client_idle_timeout, TimerFor::kClient);
  http::async_read_some(
      socket_, buffer_, *parser_,
      [self = shared_from_this(), piece, on_piece = std::move(on_piece)](error_code ec,
                                                                         std::size_t) mutable {
        self->Disarm();
        if (ec == http::error::need_buffer) ec = {};
        std::size_t n = piece - self->parser_->get().body().size;
        if (ec) {
          self->body_done_ = true;
          self->keep_alive_ = false;
          bool gone = ec == http::error::partial_message || ec == http::error::end_of_stream ||
                      ec == asio::error::eof || ec == asio::error::connection_reset ||
                      ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor;
          return on_piece(gone ? BodyRead::kGone : BodyRead::kInvalid, {});
        }
        self->body_received_ += n;
        std::uint64_t limit = self->core_.options.max_body_bytes;
        // direct-upload-limit: the limit is read off Content-Length only.
        bool by_length_only = FaultOn(Fault::kDirectUploadLimit) && !self->body_length_;
        if (limit > 0 && self->body_received_ > limit && !FaultOn(Fault::kServerBodyLimits) &&
            !by_length_only) {
          self->body_done_ = true;
          self->keep_alive_ = false;
          return on_piece(BodyRead::kTooLarge, {});
        }
        if (self->parser_->is_done()) self->body_done_ = true;
        if (n > 0) return on_piece(BodyRead::kPiece, std::string_view(self->body_buffer_.get(), n));
        if (self->body_done_) {
          self->ReleaseBodyBuffers();
          return on_piece(BodyRead::kDone, {});
        }
        self->ReadBody(std::move(on_piece));  // chunk framing only; read on
      });
}

void Connection::ReleaseBodyBuffers() {
  body_buffer_.reset();
  if (buffer_.size() == 0) buffer_.shrink_to_fit();
}

void Connection::ReadWholeBody(std::size_t limit, std::function<void(BodyRead, std::string)> done) {
  if (FaultOn(Fault::kServerBodyLimits)) limit = std::size_t(-1);
  if (body_length_ && *body_length_ > limit) {
    keep_alive_ = false;  // the body is left unread
    return done(BodyRead::kTooLarge, {});
  }
  whole_body_.clear();
  whole_limit_ = limit;
  whole_done_ = std::move(done);
  ContinueWholeBody();
}

void Connection::ContinueWholeBody() {
  ReadBody([self = shared_from_this()](BodyRead r, std::string_view piece) {
    if (r == BodyRead::kPiece && self->whole_body_.size() + piece.size() > self->whole_limit_) {
      self->keep_alive_ = false;
      r = BodyRead::kTooLarge;
    }
    if (r == BodyRead::kPiece) {
      self->whole_body_.append(piece);
      return self->ContinueWholeBody();
    }
    auto done = std::move(self->whole_done_);
    done(r, r == BodyRead::kDone ? std::move(self->whole_body_) : std::string());
  });
}

// ---- responses ----

void Connection::Write(std::string bytes, Done done) {
  out_ = std::move(bytes);
  Arm(core_.options.client_idle_timeout, TimerFor::kClient);
  asio::async_write(
      socket_, asio::buffer(out_),
      [self = shared_from_this(), done = std::move(done)](const error_code& ec, std::size_t) {
        self->Disarm();
        if (ec) {
          self->ClientGone();
          self->Close();
          return done(false);
        }
        done(true);
      });
}

void Connection::SendHead(http::response<http::empty_body>& head, Framing framing,
                          std::uint64_t length, Done done) {
  // RFC 9112 §7: chunked only to an HTTP/1.1 client; an HTTP/1.0 one gets the
  // body delimited by the close of the connection.
  if (framing == Framing::kChunked && http10_ && !FaultOn(Fault::kServerHttp10)) {
    framing = Framing::kNone;
    keep_alive_ = false;
  }
  head.version(11);
  // direct-response-framing: the backend's Content-Length stays beside chunked.
  if (!FaultOn(Fault::kDirectResponseFraming)) head.erase(http::field::content_length);
  head.erase(http::field::transfer_encoding);
  if (framing == Framing::kChunked) head.set(http::field::transfer_encoding, "chunked");
  if (framing == Framing::kLength) head.set(http::field::content_length, std::to_string(length));
  if (!body_done_) keep_alive_ = false;  // unread request bytes: no next request
  if (!keep_alive_) head.set(http::field::connection, "close");
  response_started_ = true;
  framing_ = framing;
  Write(RenderHead(head), std::move(done));
  WatchClient();
}

void Connection::SendBody(asio::const_buffer bytes, Done done) {
  if (closed_) return done(false);
  // An empty chunk would be the last chunk: nothing to send is sent as nothing.
  if (bytes.size() == 0) return done(true);
  Arm(core_.options.client_idle_timeout, TimerFor::kClient);
  auto complete = [self = shared_from_this(), done = std::move(done)](const error_code& ec,
                                                                      std::size_t) {
    self->Disarm();
    if (ec) {
      self->ClientGone();
      self->Close();
      return done(false);
    }
    if (self->client_half_closed_) self->ProbeAfterWrite();
    done(true);
  };
  if (framing_ == Framing::kChunked) {
    asio::async_write(socket_, http::make_chunk(bytes), std::move(complete));
  } else {
    asio::async_write(socket_, bytes, std::move(complete));
  }
}

void Connection::SendEnd(Done done) {
  if (closed_) return done(false);
  if (framing_ != Framing::kChunked) return done(true);
  Arm(core_.options.client_idle_timeout, TimerFor::kClient);
  asio::async_write(
      socket_, http::make_chunk_last(),
      [self = shared_from_this(), done = std::move(done)](const error_code& ec, std::size_t) {
        self->Disarm();
        if (ec) {
          self->ClientGone();
          self->Close();
          return done(false);
        }
        done(true);
      });
}

void Connection::SendComplete(int status, std::string_view content_type, std::string body) {
  http::response<http::empty_body> head{static_cast<http::status>(status), 11};
  head.set(http::field::content_type, content_type);
  if (status == 405) head.set(http::field::allow, "GET, HEAD");
  if (!body_done_) keep_alive_ = false;
  head.set(http::field::content_length, std::to_string(body.size()));
  if (!keep_alive_) head.set(http::field::connection, "close");
  response_started_ = true;
  framing_ = Framing::kLength;
  bool head_only = parser_ && parser_->get().method() == http::verb::head;
  Write(RenderHead(head) + (head_only ? std::string() : body),
        [self = shared_from_this()](bool ok) {
          if (ok) self->Finish();
        });
}

void Connection::SendError(int status, const std::string& message, const std::string& type) {
  SendComplete(status, "application/json", ErrorJson(status, message, type));
}

void Connection::Finish() {
  if (closed_) return;
  Disarm();
  ++watch_generation_;
  on_client_gone_ = nullptr;
  if (FaultOn(Fault::kServerDesync) && (!keep_alive_ || !body_done_)) {
    // The fault: forget the unparsed bytes and read on as if nothing happened.
    buffer_.consume(buffer_.size());
    body_done_ = true;
    keep_alive_ = true;
  }
  if (!keep_alive_ || !body_done_ || client_half_closed_) return CloseGracefully();
  if (FaultOn(Fault::kServerPipelining)) buffer_.consume(buffer_.size());
  AwaitRequest();
}

void Connection::OnClientGone(std::function<void()> callback) {
  on_client_gone_ = std::move(callback);
}

// While a response is made: notice a client that resets or closes. A FIN is
// taken as a half-close (the client may still read); a reset, or a failing
// write later, means it is gone. Pipelined bytes stop the watch: they stay in
// the socket until their turn.
void Connection::WatchClient() {
  if (!body_done_ || client_half_closed_) return;  // the body reader watches instead
  unsigned generation = ++watch_generation_;
  socket_.async_wait(
      tcp::socket::wait_read, [self = shared_from_this(), generation](const error_code& ec) {
        if (ec || self->closed_ || generation != self->watch_generation_) return;
        if (self->buffer_.size() > 0) return;
        char byte;
        ssize_t n = recv(self->socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n > 0) return;  // a pipelined request
        if (n == 0) {
          self->client_half_closed_ = true;
          self->keep_alive_ = false;
          return;
        }
        if (errno == EAGAIN || errno == EINTR) return self->WatchClient();
        self->ClientGone();
        self->Close();
      });
}

// After a FIN the client may be half-closed (still reading) or gone; a gone
// one answers our next bytes with a reset. Looking for it a moment after each
// write finds it one write sooner than the failing write would: a chat stream
// whose client left cancels its backend within a token or so.
void Connection::ProbeAfterWrite() {
  if (!probe_) probe_.emplace(socket_.get_executor());
  probe_->expires_after(std::chrono::milliseconds(5));
  probe_->async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->closed_) return;
    char byte;
    ssize_t n = recv(self->socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      self->ClientGone();
      self->Close();
    }
  });
}

void Connection::ClientGone() {
  auto callback = std::move(on_client_gone_);
  on_client_gone_ = nullptr;
  if (callback) callback();
}

void Connection::Abort() {
  ClientGone();
  Close();
}

void Connection::CloseGracefully() {
  if (closed_) return;
  closed_ = true;
  Disarm();
  if (probe_) probe_->cancel();
  error_code ignored;
  socket_.cancel(ignored);
  std::make_shared<Linger>(std::move(socket_))->Start();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  Disarm();
  if (probe_) probe_->cancel();
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace streamcheck::server
