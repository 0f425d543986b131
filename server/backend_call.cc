#include "server/backend_call.h"

#include <limits>

namespace streamcheck::server {

Result<BackendAddress> ParseBackendUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return Error{"backend URL must start with http:// (got \"" + url + "\")"};
  }
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  BackendAddress a;
  a.authority = rest.substr(0, slash);
  a.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!a.base_path.empty() && a.base_path.back() == '/') a.base_path.pop_back();
  std::string hostport = a.authority;
  if (!hostport.empty() && hostport.front() == '[') {  // [v6]:port
    auto close = hostport.find(']');
    if (close == std::string::npos) return Error{"backend URL has a bad IPv6 host: " + url};
    a.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size() && hostport[close + 1] == ':') {
      a.port = hostport.substr(close + 2);
    }
  } else {
    auto colon = hostport.rfind(':');
    a.host = hostport.substr(0, colon);
    if (colon != std::string::npos) a.port = hostport.substr(colon + 1);
  }
  if (a.host.empty() || a.port.empty() ||
      a.port.find_first_not_of("0123456789") != std::string::npos) {
    return Error{"backend URL needs http://HOST[:PORT] (got \"" + url + "\")"};
  }
  return a;
}

std::string Describe(BackendFailure failure, const BackendTimeouts& timeouts) {
  switch (failure) {
    case BackendFailure::kNone:
      return "no failure";
    case BackendFailure::kConnect:
      return "backend connection failed";
    case BackendFailure::kTimeout:
      return "backend timed out (connect " + std::to_string(timeouts.connect.count()) +
             " ms, headers " + std::to_string(timeouts.headers.count()) + " ms, idle " +
             std::to_string(timeouts.idle.count()) + " ms)";
    case BackendFailure::kBroken:
      return "backend connection closed before the response was complete";
    case BackendFailure::kMalformed:
      return "backend sent a malformed response";
  }
  return "backend failed";
}

BackendCall::BackendCall(asio::any_io_executor executor, BackendTimeouts timeouts,
                         std::size_t read_buffer_bytes)
    : resolver_(executor), socket_(executor), deadline_(executor), timeouts_(timeouts) {
  // Beast reads into the buffer's free capacity (at least 512 bytes): without
  // room reserved, a body would arrive 512 bytes per system call.
  buffer_.reserve(read_buffer_bytes);
}

BackendCall::~BackendCall() = default;

void BackendCall::Arm(std::chrono::milliseconds after) {
  deadline_.Arm(after, [this] {
    timed_out_ = true;
    error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);  // every pending operation completes with an error
  });
}

void BackendCall::Disarm() { deadline_.Disarm(); }

BackendFailure BackendCall::Classify(const error_code& ec) const {
  if (timed_out_) return BackendFailure::kTimeout;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::broken_pipe || ec == asio::error::operation_aborted ||
      ec == asio::error::bad_descriptor) {
    return BackendFailure::kBroken;
  }
  if (ec.category() == make_error_code(http::error::bad_field).category()) {
    return BackendFailure::kMalformed;
  }
  return BackendFailure::kBroken;
}

void BackendCall::Connect(const BackendAddress& address, Done done) {
  Arm(timeouts_.connect);
  resolver_.async_resolve(
      address.host, address.port,
      [this, done = std::move(done)](const error_code& ec, tcp::resolver::results_type results) {
        if (ec) {
          Disarm();
          return done(timed_out_ ? BackendFailure::kTimeout : BackendFailure::kConnect);
        }
        asio::async_connect(
            socket_, results, [this, done](const error_code& cec, const tcp::endpoint&) {
              Disarm();
              if (cec) {
                return done(timed_out_ ? BackendFailure::kTimeout : BackendFailure::kConnect);
              }
              error_code ignored;
              socket_.set_option(tcp::no_delay(true), ignored);
              done(BackendFailure::kNone);
            });
      });
}

void BackendCall::Write(asio::const_buffer bytes, Done done) {
  Arm(timeouts_.idle);
  asio::async_write(socket_, bytes,
                    [this, done = std::move(done)](const error_code& ec, std::size_t) {
                      Disarm();
                      done(ec ? Classify(ec) : BackendFailure::kNone);
                    });
}

void BackendCall::WriteChunk(asio::const_buffer bytes, Done done) {
  Arm(timeouts_.idle);
  asio::async_write(socket_, http::make_chunk(bytes),
                    [this, done = std::move(done)](const error_code& ec, std::size_t) {
                      Disarm();
                      done(ec ? Classify(ec) : BackendFailure::kNone);
                    });
}

void BackendCall::WriteLastChunk(Done done) {
  Arm(timeouts_.idle);
  asio::async_write(socket_, http::make_chunk_last(),
                    [this, done = std::move(done)](const error_code& ec, std::size_t) {
                      Disarm();
                      done(ec ? Classify(ec) : BackendFailure::kNone);
                    });
}

void BackendCall::ReadHead(bool head_request, bool arm_timer, Done done) {
  head_request_ = head_request;
  parser_.emplace();
  parser_->header_limit(64 * 1024);
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());  // streamed, never held
  if (head_request_) parser_->skip(true);
  if (arm_timer) Arm(timeouts_.headers);
  http::async_read_header(socket_, buffer_, *parser_,
                          [this, done = std::move(done)](const error_code& ec, std::size_t) {
                            if (ec) {
                              Disarm();
                              return done(Classify(ec));
                            }
                            // RFC 9110 §15.2: interim responses precede the final one.
                            int status = parser_->get().result_int();
                            if (status >= 100 && status < 200) {
                              return ReadHead(head_request_, /*arm_timer=*/false, done);
                            }
                            Disarm();
                            done(BackendFailure::kNone);
                          });
}

void BackendCall::ArmHeadersTimer() { Arm(timeouts_.headers); }

void BackendCall::ReadBody(char* out, std::size_t capacity, BodyDone done) {
  if (parser_->is_done()) return done(BackendFailure::kNone, 0, true);
  Arm(timeouts_.idle);
  ReadMore(out, capacity, 0, std::move(done));
}

void BackendCall::ReadMore(char* out, std::size_t capacity, std::size_t got, BodyDone done) {
  auto& body = parser_->get().body();
  body.data = out + got;
  body.size = capacity - got;
  body.more = true;
  http::async_read_some(
      socket_, buffer_, *parser_,
      [this, out, capacity, got, done = std::move(done)](error_code ec, std::size_t) mutable {
        if (ec == http::error::need_buffer) ec = {};
        std::size_t n = got + (capacity - got - parser_->get().body().size);
        if (ec) {
          Disarm();
          return done(Classify(ec), n, false);
        }
        bool finished = parser_->is_done();
        // Fill the piece while the socket holds more: fewer, larger writes to
        // the client. Never wait for bytes that have not arrived (bytes left
        // in buffer_ may be a partial chunk line: they wait for the next call).
        bool more_at_hand = socket_.available(ec) > 0;
        if (!finished && n < capacity && (n == 0 || more_at_hand)) {
          return ReadMore(out, capacity, n, std::move(done));
        }
        Disarm();
        done(BackendFailure::kNone, n, finished);
      });
}

void BackendCall::Abort() {
  Disarm();
  error_code ignored;
  resolver_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace streamcheck::server
