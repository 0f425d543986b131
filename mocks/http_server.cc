#include "mocks/http_server.h"

#include <fcntl.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <future>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "common/sha256.h"
#include "common/text.h"
#include "mocks/gzip_stream.h"
#include "mocks/mock_stats.h"

namespace streamcheck::mocks::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
// Concrete executor types: the default type-erased any_io_executor costs a
// few percent of the CPU per token in dispatch alone.
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = asio::basic_stream_socket<tcp, Strand>;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Strand>;

// A connection that sends no (complete) request head for this long is closed.
constexpr auto kIdleTimeout = std::chrono::seconds(60);
// Read sizes: small, since ten thousand connections each hold one buffer.
constexpr std::size_t kHeadReadPiece = 4096;
constexpr std::size_t kWatchReadPiece = 512;
// Connections accepted per wakeup of the accept loop, at most.
constexpr int kAcceptBatch = 256;
// Stop() waits this long for handlers to notice before it stops the loop.
constexpr auto kStopGrace = std::chrono::milliseconds(500);

// A request body, kept (bounded) or only counted and hashed as it arrives.
struct CaptureBody {
  struct value_type {
    bool hash = false;
    std::string text;
    std::unique_ptr<Sha256> sha;
    std::uint64_t length = 0;
    Handler* handler = nullptr;  // told of hashed bytes as they arrive
  };

  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
    template <class Buffers>
    std::size_t put(const Buffers& buffers, beast::error_code& ec) {
      std::size_t n = 0;
      for (auto b : beast::buffers_range_ref(buffers)) {
        const char* data = static_cast<const char*>(b.data());
        if (body_.hash) {
          body_.sha->Update(data, b.size());
        } else if (body_.text.size() + b.size() > kMaxKeptBody) {
          ec = http::error::body_limit;
          return n;
        } else {
          body_.text.append(data, b.size());
        }
        n += b.size();
        body_.length += b.size();
      }
      if (body_.hash && n > 0) body_.handler->BodyBytes(n);
      ec = {};
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

// Asio opens sockets without close-on-exec: a target process the harness
// spawns would inherit the listener, keep it listening after Suspend() closed
// ours, and hold the port against Resume().
void CloseOnExec(int fd) { fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC); }

bool IsParseError(const beast::error_code& ec) {
  return ec.category() == beast::error_code(http::error::bad_chunk).category();
}

}  // namespace

struct HttpServer::State {
  explicit State(Handler& h) : handler(h) {}

  Handler& handler;
  std::atomic<bool> stopping{false};
  std::mutex mutex;  // guards connections
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;
  // Responses waiting for each kind of event: Wake() looks at the connections
  // only when some wait, so ten thousand cancellations cost no scan each.
  std::atomic<int> gate_waiters{0};
  std::atomic<int> event_waiters{0};
  void CountWaiters(unsigned events, int delta) {
    if (events & kWakeGate) gate_waiters += delta;
    if (events & kWakeEvents) event_waiters += delta;
  }

  // Declared after what connections use in their destructors: destroying the
  // io_context destroys the connections its queued handlers still hold.
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{
      asio::make_work_guard(ioc)};
  asio::strand<asio::io_context::executor_type> accept_strand{asio::make_strand(ioc)};
  tcp::acceptor acceptor{accept_strand};
  asio::steady_timer accept_retry{accept_strand};
  tcp::endpoint endpoint;

  std::vector<std::thread> threads;
  std::mutex done_mutex;
  std::condition_variable done_cv;
  std::size_t threads_done = 0;

  void Accept();
  std::vector<std::shared_ptr<Connection>> Live() {
    std::vector<std::shared_ptr<Connection>> live;
    std::lock_guard lock(mutex);
    live.reserve(connections.size());
    for (auto& [raw, weak] : connections) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
    return live;
  }
};

class HttpServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(State& state)
      : s_(state),
        socket_(asio::make_strand(state.ioc)),
        idle_(socket_.get_executor()),
        wait_(socket_.get_executor()) {}

  ~Connection() {
    SetWakeOn(kWakeNone);
    std::lock_guard lock(s_.mutex);
    s_.connections.erase(this);
  }

  Socket& socket() { return socket_; }
  unsigned wake_on() const { return wake_on_.load(); }

  // Once accepted, from the accept strand.
  void Start() {
    {
      std::lock_guard lock(s_.mutex);
      if (s_.stopping) return;  // closed as it is destroyed
      s_.connections[this] = weak_from_this();
    }
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      beast::error_code ec;
      CloseOnExec(self->socket_.native_handle());
      self->socket_.set_option(tcp::no_delay(true), ec);  // a token goes out when written
      self->BeginHead();
    });
  }

  // From any thread.
  void PostWake() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (self->waiting_) self->wait_.cancel();
    });
  }
  void PostCut(bool reset, bool keep_control) {
    asio::post(socket_.get_executor(), [self = shared_from_this(), reset, keep_control] {
      // Connections that never sent a request are left to Admit.
      if (keep_control && self->last_kind_ != LastKind::kOther) return;
      if (self->phase_ == Phase::kRespond && self->response_) self->response_->Cut();
      self->CloseNow(reset);
    });
  }

 private:
  enum class Phase { kHead, kBody, kRespond, kClosed };
  enum class LastKind { kNone, kControl, kOther };

  void SetWakeOn(unsigned events) {
    unsigned before = wake_on_.exchange(events);
    s_.CountWaiters(before, -1);
    s_.CountWaiters(events, +1);
  }

  std::string_view Buffered() const {
    auto data = in_.data();
    return {static_cast<const char*>(data.data()), data.size()};
  }

  void BeginHead() {
    phase_ = Phase::kHead;
    auto gen = ++idle_gen_;
    idle_.expires_after(kIdleTimeout);
    idle_.async_wait([self = shared_from_this(), gen](const beast::error_code& ec) {
      if (!ec && gen == self->idle_gen_ && self->phase_ == Phase::kHead) self->CloseNow(false);
    });
    ParseHeadOrRead();
  }

  void ReadSome() {
    if (reading_ || phase_ == Phase::kClosed) return;
    // While responding, buffered bytes are a pipelined request: stop watching.
    if (phase_ == Phase::kRespond && in_.size() > 0) return;
    reading_ = true;
    std::size_t piece = phase_ == Phase::kRespond ? kWatchReadPiece : kHeadReadPiece;
    socket_.async_read_some(in_.prepare(piece),
                            [self = shared_from_this()](const beast::error_code& ec,
                                                        std::size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(const beast::error_code& ec, std::size_t n) {
    reading_ = false;
    if (phase_ == Phase::kClosed) return;
    if (ec) {
      // A client that closes right after the last bytes can have its EOF seen
      // before that write's completion: the write decides (see Pump).
      if (phase_ == Phase::kRespond && writing_) {
        peer_gone_ = true;
        return;
      }
      // Mid-response (waiting: more to send) the client left; between requests it closed.
      if (phase_ == Phase::kRespond && response_) response_->ClientGone();
      return CloseNow(false);
    }
    in_.commit(n);
    if (phase_ == Phase::kHead) ParseHeadOrRead();
  }

  // The end of the head: the first blank line. A bare-LF one counts too, so a
  // malformed head is refused (and recorded) instead of waited on.
  static std::size_t HeadEnd(std::string_view data) {
    auto crlf = data.find("\r\n\r\n");
    auto lf = data.find("\n\n");
    if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf + 1 <= lf)) {
      return crlf + 4;
    }
    return lf == std::string_view::npos ? std::string_view::npos : lf + 2;
  }

  void ParseHeadOrRead() {
    std::string_view data = Buffered();
    // Blank lines before a request line are skipped (RFC 9112 section 2.2).
    std::size_t skip = 0;
    while (skip < data.size() && (data[skip] == '\r' || data[skip] == '\n')) ++skip;
    if (skip > 0) {
      in_.consume(skip);
      data = Buffered();
    }
    std::size_t end = HeadEnd(data);
    if (end == std::string_view::npos || end > kMaxHeadBytes) {
      if (data.size() >= kMaxHeadBytes) {
        return Refuse(431, "the request head is over " + std::to_string(kMaxHeadBytes) + " bytes",
                      std::string(data.substr(0, kMaxHeadBytes)));
      }
      return ReadSome();
    }
    ++idle_gen_;
    idle_.cancel();
    request_ = Request{};
    request_.raw_head.assign(data.substr(0, end));
    http::request_parser<http::empty_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(kMaxHeadBytes));
    // Bodies are bounded by CaptureBody, per route. Not boost::none: Beast 1.74
    // compares a Content-Length with the empty optional and refuses every body.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(false);
    beast::error_code ec;
    parser.put(asio::buffer(data.data(), end), ec);
    in_.consume(end);
    if (ec || !parser.is_header_done()) {
      return Refuse(400, "malformed request head: " + (ec ? ec.message() : "incomplete"),
                    request_.raw_head);
    }
    FillRequest(parser);
    Admission admission = s_.handler.Admit(request_);
    if (admission == Admission::kReset) return CloseNow(true);
    last_kind_ = admission == Admission::kServeControl ? LastKind::kControl : LastKind::kOther;
    keep_alive_ = parser.keep_alive() && !request_.http10;
    if (parser.is_done()) return Dispatch();
    BeginBody(std::move(parser));
  }

  void FillRequest(http::request_parser<http::empty_body>& parser) {
    const auto& m = parser.get();
    request_.method = std::string(m.method_string());
    request_.target = std::string(m.target());
    request_.http10 = m.version() < 11;
    for (const auto& field : m) {
      request_.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    std::string_view target = request_.target;
    auto q = target.find('?');
    request_.path = wire::PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) request_.query = wire::ParseQuery(target.substr(q + 1));
  }

  void BeginBody(http::request_parser<http::empty_body>&& parser) {
    phase_ = Phase::kBody;
    BodyMode mode = s_.handler.BodyModeFor(request_);
    body_parser_ = std::make_shared<http::request_parser<CaptureBody>>(std::move(parser));
    auto& body = body_parser_->get().body();
    body.hash = mode == BodyMode::kHash;
    if (body.hash) body.sha = std::make_unique<Sha256>();
    body.handler = &s_.handler;
    auto expect = request_.Header("Expect");
    if (expect && EqualsIgnoreCase(TrimHeaderValue(*expect), "100-continue") && !request_.http10) {
      out_head_ = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(socket_, asio::buffer(out_head_),
                        [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                          if (self->phase_ != Phase::kBody) return;
                          if (ec) return self->CloseNow(false);
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    // The read holds the parser: a close (CloseNow, PostCut) drops the
    // connection's reference while a completion that already has bytes may
    // still be queued, and that completion parses them.
    auto parser = body_parser_;
    http::async_read(socket_, in_, *parser,
                     [self = shared_from_this(), parser](const beast::error_code& ec, std::size_t) {
                       self->OnBody(ec);
                     });
  }

  void OnBody(const beast::error_code& ec) {
    if (phase_ != Phase::kBody) return;
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      return Refuse(413, "the request body is over " + std::to_string(kMaxKeptBody) + " bytes", "");
    }
    if (ec && IsParseError(ec)) {
      keep_alive_ = false;
      return Refuse(400, "malformed request body: " + ec.message(), "");
    }
    if (ec) return CloseNow(false);  // the client left mid-request
    auto& body = body_parser_->get().body();
    request_.body = std::move(body.text);
    request_.body_length = body.length;
    if (body.hash) request_.body_sha256 = body.sha->HexDigest();
    body_parser_.reset();
    Dispatch();
  }

  void Dispatch() {
    if (in_.size() == 0) in_.shrink_to_fit();
    StartResponse(s_.handler.Handle(request_));
  }

  // A response the server makes itself; the connection closes after it.
  // `raw_head` is "" when the head was already admitted (and counted).
  void Refuse(int status, const std::string& message,
              std::string raw_head) {  // a copy: may be request_'s
    keep_alive_ = false;
    ++idle_gen_;
    idle_.cancel();
    body_parser_.reset();
    if (!raw_head.empty()) {
      request_ = Request{};
      request_.raw_head = raw_head;
      last_kind_ = LastKind::kOther;
    }
    StartResponse(s_.handler.Refuse(status, message, raw_head));
  }

  void StartResponse(std::unique_ptr<Response> response) {
    phase_ = Phase::kRespond;
    response_ = std::move(response);
    gzip_.reset();
    framing_ = Framing::kFixed;
    close_delimited_ = false;
    request_.body.clear();
    request_.body.shrink_to_fit();
    SetWakeOn(response_->WakeOn());
    ReadSome();  // notices a client that leaves mid-response
    Pump();
  }

  void Pump() {
    if (phase_ != Phase::kRespond) return;
    if (s_.stopping) {
      response_->Cut();
      return CloseNow(false);
    }
    Step step = response_->Next(Clock::now());
    if (peer_gone_ && step.kind != Step::kEnd) {
      // The client closed while bytes were on their way, and more was to come.
      response_->ClientGone();
      return CloseNow(false);
    }
    switch (step.kind) {
      case Step::kWait:
        waiting_ = true;
        wait_.expires_at(step.until);
        wait_.async_wait([self = shared_from_this()](const beast::error_code&) {
          if (!self->waiting_) return;  // a close came first
          self->waiting_ = false;
          self->Pump();
        });
        return;
      case Step::kHead:
        return SendHead(std::move(step.head));
      case Step::kBody:
        return SendBody(std::move(step.bytes));
      case Step::kEnd:
        return SendEnd();
      case Step::kClose:
        return CloseNow(false);
      case Step::kReset:
        return CloseNow(true);
    }
  }

  void SendHead(ResponseHead head) {
    bool head_only = request_.method == "HEAD";
    Headers headers = std::move(head.headers);
    framing_ = head.framing;
    if (head.vary) headers.emplace_back("Vary", "Accept-Encoding");
    if (head.gzip) headers.emplace_back("Content-Encoding", "gzip");
    std::string body;
    if (framing_ == Framing::kFixed) {
      body = head.gzip ? GzipStream::Compress(head.body) : std::move(head.body);
      headers.emplace_back("Content-Length", std::to_string(body.size()));
    } else if (framing_ == Framing::kLength) {
      headers.emplace_back("Content-Length", std::to_string(head.length));
    } else if (request_.http10) {
      close_delimited_ = true;  // HTTP/1.0 has no chunked framing: the close ends the body
      keep_alive_ = false;
    } else {
      headers.emplace_back("Transfer-Encoding", "chunked");
    }
    if (head.gzip && framing_ != Framing::kFixed) gzip_ = std::make_unique<GzipStream>();
    if (!keep_alive_) headers.emplace_back("Connection", "close");
    out_head_ = wire::ResponseHead(head.status, headers);
    bool whole = framing_ == Framing::kFixed || head_only;
    if (framing_ == Framing::kFixed && !head_only) out_head_ += body;
    Write({asio::buffer(out_head_)}, [this, whole] { whole ? Finish() : Pump(); });
  }

  void SendBody(std::string content) {
    std::uint64_t n = content.size();
    out_body_ = gzip_ ? gzip_->Flush(content) : std::move(content);
    if (out_body_.empty()) {
      response_->Written(n);
      return Pump();
    }
    if (framing_ == Framing::kChunked && !close_delimited_) {
      out_head_ = wire::ChunkHeader(out_body_.size());
      Write({asio::buffer(out_head_), asio::buffer(out_body_), asio::buffer(wire::kChunkEnd)},
            [this, n] { response_->Written(n), Pump(); });
    } else {
      Write({asio::buffer(out_body_)}, [this, n] { response_->Written(n), Pump(); });
    }
  }

  void SendEnd() {
    bool chunked = framing_ == Framing::kChunked && !close_delimited_;
    out_body_.clear();
    if (gzip_) {
      std::string trailer = gzip_->Finish();
      out_body_ = chunked ? wire::ChunkHeader(trailer.size()) + trailer + "\r\n" : trailer;
    }
    if (chunked) out_body_ += wire::kLastChunk;
    if (out_body_.empty()) return Finish();
    Write({asio::buffer(out_body_)}, [this] { Finish(); });
  }

  // Writes `buffers` (members: they live as long as the write), then `then`.
  template <typename Then>
  void Write(std::initializer_list<asio::const_buffer> buffers, Then then) {
    std::array<asio::const_buffer, 3> pieces{};  // unused ones stay empty
    std::copy(buffers.begin(), buffers.end(), pieces.begin());
    writing_ = true;
    asio::async_write(socket_, pieces,
                      [self = shared_from_this(), then](const beast::error_code& ec, std::size_t) {
                        self->writing_ = false;
                        if (self->phase_ != Phase::kRespond) return;
                        if (ec) {
                          self->response_->ClientGone();
                          return self->CloseNow(false);
                        }
                        then();
                      });
  }

  void Finish() {
    response_.reset();
    gzip_.reset();
    SetWakeOn(kWakeNone);
    if (!keep_alive_ || close_delimited_ || peer_gone_) return CloseNow(false);
    BeginHead();
  }

  void CloseNow(bool reset) {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    waiting_ = false;
    SetWakeOn(kWakeNone);
    beast::error_code ec;
    wait_.cancel();
    idle_.cancel();
    if (reset) {
      socket_.set_option(asio::socket_base::linger(true, 0), ec);
    } else {
      socket_.shutdown(Socket::shutdown_send, ec);
    }
    socket_.close(ec);
    response_.reset();
    body_parser_.reset();
  }

  State& s_;
  Socket socket_;
  Timer idle_;
  Timer wait_;
  beast::flat_buffer in_;

  Phase phase_ = Phase::kHead;
  LastKind last_kind_ = LastKind::kNone;
  bool reading_ = false;
  bool waiting_ = false;
  bool writing_ = false;
  bool peer_gone_ = false;  // EOF or an error read while a write was in flight
  bool keep_alive_ = true;
  bool close_delimited_ = false;
  std::uint64_t idle_gen_ = 0;
  std::atomic<unsigned> wake_on_{kWakeNone};

  Request request_;
  std::shared_ptr<http::request_parser<CaptureBody>> body_parser_;  // kBody only
  std::unique_ptr<Response> response_;
  Framing framing_ = Framing::kFixed;
  std::unique_ptr<GzipStream> gzip_;
  std::string out_head_;
  std::string out_body_;
};

void HttpServer::State::Accept() {
  auto connection = std::make_shared<Connection>(*this);
  acceptor.async_accept(connection->socket(), [this, connection](const beast::error_code& ec) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open() || stopping) return;
    if (ec) {
      // Out of descriptors, most likely: try again shortly rather than spin.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](const beast::error_code& e) {
        if (!e && acceptor.is_open()) Accept();
      });
      return;
    }
    connection->Start();
    // Drain what else waits in the backlog now, without a trip through the
    // event loop each: under a burst of connects the loop is busy streaming and
    // a full accept queue makes clients retry their SYN after 1, 3, 7 s.
    for (int i = 0; i < kAcceptBatch; ++i) {
      auto next = std::make_shared<Connection>(*this);
      beast::error_code error;
      acceptor.accept(next->socket(), error);
      if (error) break;  // would_block: the backlog is empty
      next->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(Handler& handler, int threads) : state_(std::make_unique<State>(handler)) {
  for (int i = 0; i < std::max(threads, 1); ++i) {
    state_->threads.emplace_back([s = state_.get()] {
      s->ioc.run();
      std::lock_guard lock(s->done_mutex);
      ++s->threads_done;
      s->done_cv.notify_all();
    });
  }
}

HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Listen(const std::string& host, int port) {
  beast::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Status::Failure("mock backend: \"" + host + "\" is not an IP address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& acceptor = state_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) CloseOnExec(acceptor.native_handle());
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) acceptor.non_blocking(true, ec);  // for the batch accepts
  if (ec) {
    acceptor.close(ec);
    return Status::Failure("mock backend: cannot listen on " + host + ":" + std::to_string(port) +
                           " (port in use? choose another, or 0 for any free port)");
  }
  state_->endpoint = acceptor.local_endpoint(ec);
  port_ = state_->endpoint.port();
  asio::post(state_->accept_strand, [s = state_.get()] { s->Accept(); });
  return Status::Ok();
}

Status HttpServer::CloseListener() {
  std::promise<void> done;
  asio::post(state_->accept_strand, [s = state_.get(), &done] {
    beast::error_code ec;
    s->accept_retry.cancel();
    s->acceptor.close(ec);
    done.set_value();
  });
  if (done.get_future().wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return Status::Failure("mock backend: the listener did not close within 10 s");
  }
  return Status::Ok();
}

Status HttpServer::Reopen() {
  if (state_->stopping) return Status::Failure("mock backend: stopped, cannot listen again");
  std::promise<std::string> done;
  asio::post(state_->accept_strand, [s = state_.get(), &done] {
    if (s->acceptor.is_open()) return done.set_value("");
    beast::error_code ec;
    s->acceptor.open(s->endpoint.protocol(), ec);
    if (!ec) CloseOnExec(s->acceptor.native_handle());
    if (!ec) s->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) s->acceptor.bind(s->endpoint, ec);
    if (!ec) s->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (!ec) s->acceptor.non_blocking(true, ec);
    if (ec) {
      beast::error_code ignored;
      s->acceptor.close(ignored);
      return done.set_value(ec.message());
    }
    s->Accept();
    done.set_value("");
  });
  auto result = done.get_future();
  if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    return Status::Failure("mock backend: listening again took over 10 s");
  }
  std::string error = result.get();
  if (!error.empty()) {
    return Status::Failure("mock backend: cannot listen again on port " + std::to_string(port_) +
                           ": " + error);
  }
  return Status::Ok();
}

void HttpServer::Wake(unsigned events) {
  bool any = ((events & kWakeGate) && state_->gate_waiters > 0) ||
             ((events & kWakeEvents) && state_->event_waiters > 0);
  if (!any) return;
  for (auto& c : state_->Live()) {
    if (c->wake_on() & events) c->PostWake();
  }
}

void HttpServer::CutConnections(bool reset, bool keep_control) {
  for (auto& c : state_->Live()) c->PostCut(reset, keep_control);
}

void HttpServer::Stop() {
  State& s = *state_;
  if (s.stopping.exchange(true)) return;
  asio::post(s.accept_strand, [&s] {
    beast::error_code ec;
    s.accept_retry.cancel();
    s.acceptor.close(ec);
  });
  CutConnections(false, false);
  s.work.reset();
  {
    // Cut responses end at once; give their handlers a moment to run, then
    // stop the loop whatever remains (its handlers are destroyed with it).
    std::unique_lock lock(s.done_mutex);
    s.done_cv.wait_for(lock, kStopGrace, [&s] { return s.threads_done == s.threads.size(); });
  }
  s.ioc.stop();
  for (auto& t : s.threads) {
    if (t.joinable()) t.join();
  }
}

}  // namespace streamcheck::mocks::detail
