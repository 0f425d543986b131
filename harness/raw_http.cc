#include "harness/raw_http.h"

// clang-format off
#include <utility>  // first: Boost 1.74's asio/awaitable.hpp uses std::exchange unincluded
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http.hpp>
// clang-format on

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <optional>

#include "common/text.h"
#include "harness/target_spec.h"

namespace streamcheck::harness {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

// The longest single wait between two looks at should_stop.
constexpr int kSliceMs = 100;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? int(std::min<long long>(left.count(), kSliceMs)) : 0;
}

// A body that counts every byte and keeps the first kKeptBodyBytes.
struct CappedBody {
  struct value_type {
    std::string kept;
    std::uint64_t size = 0;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      ec = {};
      std::size_t n = 0;
      for (auto b : beast::buffers_range_ref(buffers)) {
        std::size_t room = kKeptBodyBytes - std::min(kKeptBodyBytes, body_.kept.size());
        body_.kept.append(static_cast<const char*>(b.data()), std::min(room, b.size()));
        n += b.size();
      }
      body_.size += n;
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& body_;
  };
};

using Parser = http::response_parser<CappedBody>;

std::unique_ptr<Parser> NewParser(bool head_request) {
  auto p = std::make_unique<Parser>();
  p->header_limit(1024 * 1024);
  p->body_limit(std::numeric_limits<std::uint64_t>::max());
  p->eager(false);  // the head first, so that its bytes can be kept as they came
  if (head_request) p->skip(true);
  return p;
}

void FillFrom(const Parser& parser, RawResponse& out) {
  const auto& m = parser.get();
  out.status = int(m.result_int());
  out.version = m.version();
  out.reason = std::string(m.reason());
  out.headers.clear();
  for (const auto& f : m) out.headers.emplace_back(f.name_string(), f.value());
  out.chunked = parser.chunked();
  out.keep_alive = parser.keep_alive();
}

bool IsIpLiteral(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

std::string SslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out += (out.empty() ? "" : "; ") + std::string(buf);
  }
  return out.empty() ? "unknown TLS error" : out;
}

// Every address of `host`, in the resolver's order. `localhost` and names
// under it are the loopback addresses of both families (RFC 6761 §6.3), as
// curl has them: a server listening on [::1] only is reached by the name.
Result<std::vector<std::pair<sockaddr_storage, socklen_t>>> Addresses(const std::string& host,
                                                                      int port) {
  std::string lower = ToLower(host);
  const std::string under = ".localhost";
  bool loopback_name = lower == "localhost" ||
                       (lower.size() > under.size() &&
                        lower.compare(lower.size() - under.size(), under.size(), under) == 0);
  std::vector<std::string> names =
      loopback_name ? std::vector<std::string>{"::1", "127.0.0.1"} : std::vector<std::string>{host};
  std::vector<std::pair<sockaddr_storage, socklen_t>> out;
  std::string error;
  for (const auto& name : names) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    int rc = getaddrinfo(name.c_str(), std::to_string(port).c_str(), &hints, &found);
    if (rc != 0) {
      error = "cannot resolve " + host + ": " + gai_strerror(rc);
      continue;
    }
    for (auto* a = found; a; a = a->ai_next) {
      sockaddr_storage storage{};
      std::memcpy(&storage, a->ai_addr, a->ai_addrlen);
      out.emplace_back(storage, a->ai_addrlen);
    }
    freeaddrinfo(found);
  }
  if (out.empty()) return Error{error.empty() ? "no address for " + host : error};
  return out;
}

}  // namespace

// ---- the socket, plain or TLS ----

class RawConnection::Impl {
 public:
  ~Impl() {
    if (ssl_) SSL_free(ssl_);
    if (ctx_) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;

  enum class Io { kDone, kWantRead, kWantWrite, kEof, kReset };

  // One read: >0 bytes into `n`.
  Io Read(char* buf, std::size_t size, std::size_t& n) {
    n = 0;
    if (!ssl_) {
      ssize_t got = recv(fd_, buf, size, 0);
      if (got > 0) return n = std::size_t(got), Io::kDone;
      if (got == 0) return Io::kEof;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kWantRead;
      return Io::kReset;
    }
    ERR_clear_error();
    int got = SSL_read(ssl_, buf, int(std::min<std::size_t>(size, 1 << 30)));
    if (got > 0) return n = std::size_t(got), Io::kDone;
    return SslIo(got);
  }

  Io Write(const char* data, std::size_t size, std::size_t& n) {
    n = 0;
    if (!ssl_) {
      ssize_t put = send(fd_, data, size, MSG_NOSIGNAL);
      if (put >= 0) return n = std::size_t(put), Io::kDone;
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kWantWrite;
      return Io::kReset;
    }
    ERR_clear_error();
    int put = SSL_write(ssl_, data, int(std::min<std::size_t>(size, 1 << 30)));
    if (put > 0) return n = std::size_t(put), Io::kDone;
    return SslIo(put);
  }

  Io SslIo(int ret) {
    switch (SSL_get_error(ssl_, ret)) {
      case SSL_ERROR_WANT_READ:
        return Io::kWantRead;
      case SSL_ERROR_WANT_WRITE:
        return Io::kWantWrite;
      case SSL_ERROR_ZERO_RETURN:
        return Io::kEof;
      case SSL_ERROR_SYSCALL:
        return errno == 0 ? Io::kEof : Io::kReset;
      default:
        return Io::kReset;
    }
  }

  // Waits for `io` (kWantRead/kWantWrite) within one slice; false when it timed out.
  bool Wait(Io io, Clock::time_point deadline) {
    pollfd p{fd_, short(io == Io::kWantWrite ? POLLOUT : POLLIN), 0};
    return poll(&p, 1, MillisLeft(deadline)) > 0;
  }
};

// ---- the endpoint ----

Result<RawEndpoint> RawEndpointOf(const std::string& base_url, const TargetSpec& spec) {
  RawEndpoint e;
  auto scheme_end = base_url.find("://");
  if (scheme_end == std::string::npos) return Error{"not a URL: " + base_url};
  std::string scheme = ToLower(base_url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https") return Error{"not an http(s) URL: " + base_url};
  e.tls = scheme == "https";
  std::string rest = base_url.substr(scheme_end + 3);
  e.authority = rest.substr(0, rest.find_first_of("/?#"));
  std::string port;
  if (!e.authority.empty() && e.authority.front() == '[') {
    auto close = e.authority.find(']');
    if (close == std::string::npos) return Error{"unclosed [ in " + base_url};
    e.host = e.authority.substr(1, close - 1);
    if (close + 1 < e.authority.size() && e.authority[close + 1] == ':') {
      port = e.authority.substr(close + 2);
    }
  } else {
    auto colon = e.authority.rfind(':');
    e.host = e.authority.substr(0, colon);
    if (colon != std::string::npos) port = e.authority.substr(colon + 1);
  }
  if (e.host.empty()) return Error{"no host in " + base_url};
  e.port = port.empty() ? (e.tls ? 443 : 80) : std::atoi(port.c_str());
  if (e.port <= 0 || e.port > 65535) return Error{"bad port in " + base_url};
  e.ca_file = spec.ca_file;
  e.insecure = spec.insecure;
  return e;
}

// ---- connecting ----

Result<std::unique_ptr<RawConnection>> RawConnection::Open(const RawEndpoint& endpoint,
                                                           std::chrono::milliseconds timeout,
                                                           std::function<bool()> should_stop) {
  auto deadline = Clock::now() + timeout;
  std::unique_ptr<RawConnection> conn(new RawConnection);
  conn->impl_ = std::make_unique<Impl>();
  conn->should_stop_ = std::move(should_stop);
  auto stopped = [&] { return conn->should_stop_ && conn->should_stop_(); };
  std::string where = endpoint.authority;

  auto addresses = Addresses(endpoint.host, endpoint.port);
  if (!addresses) return Error{addresses.error()};
  std::string last_error = "no address";
  int fd = -1;
  for (auto it = addresses->begin(); it != addresses->end() && fd < 0; ++it) {
    const sockaddr* a = reinterpret_cast<const sockaddr*>(&it->first);
    int s = socket(a->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) {
      last_error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    if (connect(s, a, it->second) != 0 && errno != EINPROGRESS) {
      last_error = std::strerror(errno);
      close(s);
      continue;
    }
    bool connected = false;
    while (Clock::now() < deadline && !stopped()) {
      pollfd p{s, POLLOUT, 0};
      if (poll(&p, 1, MillisLeft(deadline)) <= 0) continue;
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) connected = true;
      last_error = err ? std::strerror(err) : "";
      break;
    }
    if (!connected) {
      if (last_error.empty() || last_error == "no address") last_error = "connect timed out";
      close(s);
      continue;
    }
    fd = s;
  }
  if (stopped()) return Error{"stopped"};
  if (fd < 0) return Error{"cannot connect to " + where + ": " + last_error};
  conn->impl_->fd_ = fd;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // segments go as sent
  if (!endpoint.tls) return conn;

  auto& impl = *conn->impl_;
  impl.ctx_ = SSL_CTX_new(TLS_client_method());
  if (!impl.ctx_) return Error{"TLS: " + SslErrors()};
  if (endpoint.insecure) {
    SSL_CTX_set_verify(impl.ctx_, SSL_VERIFY_NONE, nullptr);
  } else {
    SSL_CTX_set_verify(impl.ctx_, SSL_VERIFY_PEER, nullptr);
    bool loaded = endpoint.ca_file.empty() ? SSL_CTX_set_default_verify_paths(impl.ctx_) == 1
                                           : SSL_CTX_load_verify_locations(
                                                 impl.ctx_, endpoint.ca_file.c_str(), nullptr) == 1;
    if (!loaded) return Error{"TLS: cannot load CA file " + endpoint.ca_file + ": " + SslErrors()};
  }
  static const unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(impl.ctx_, kAlpn, sizeof kAlpn);
  impl.ssl_ = SSL_new(impl.ctx_);
  SSL_set_fd(impl.ssl_, fd);
  if (IsIpLiteral(endpoint.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(impl.ssl_), endpoint.host.c_str());
  } else {
    SSL_set_tlsext_host_name(impl.ssl_, endpoint.host.c_str());
    SSL_set1_host(impl.ssl_, endpoint.host.c_str());
  }
  while (true) {
    ERR_clear_error();
    int r = SSL_connect(impl.ssl_);
    if (r == 1) break;
    auto io = impl.SslIo(r);
    if (io != Impl::Io::kWantRead && io != Impl::Io::kWantWrite) {
      long verify = SSL_get_verify_result(impl.ssl_);
      std::string why = verify != X509_V_OK ? X509_verify_cert_error_string(verify) : SslErrors();
      return Error{"TLS handshake with " + where + " failed: " + why};
    }
    if (Clock::now() >= deadline) return Error{"TLS handshake with " + where + " timed out"};
    if (stopped()) return Error{"stopped"};
    impl.Wait(io, deadline);
  }
  return conn;
}

RawConnection::~RawConnection() = default;

// ---- sending ----

bool RawConnection::Send(std::string_view bytes, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    if (closed_ || !impl_ || impl_->fd_ < 0) return false;
    if (should_stop_ && should_stop_()) return stopped_ = true, false;
    std::size_t n = 0;
    auto io = impl_->Write(bytes.data(), bytes.size(), n);
    if (io == Impl::Io::kDone) {
      bytes.remove_prefix(n);
      continue;
    }
    if (io == Impl::Io::kEof || io == Impl::Io::kReset) {
      // The server is gone; what it sent before going can still be read.
      return false;
    }
    if (Clock::now() >= deadline) return false;
    impl_->Wait(io, deadline);
  }
  sent_at_ = Clock::now();
  return true;
}

void RawConnection::ShutdownWrite() {
  if (!impl_ || impl_->fd_ < 0) return;
  if (impl_->ssl_) SSL_shutdown(impl_->ssl_);  // close_notify; the peer's is not awaited
  shutdown(impl_->fd_, SHUT_WR);
}

void RawConnection::Reset() {
  if (!impl_ || impl_->fd_ < 0) return;
  linger l{1, 0};
  setsockopt(impl_->fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close(impl_->fd_);
  impl_->fd_ = -1;
  closed_ = true;
}

// ---- receiving ----

bool RawConnection::FillOnce(Clock::time_point deadline) {
  char buf[65536];
  while (!closed_) {
    if (should_stop_ && should_stop_()) return stopped_ = true, false;
    std::size_t n = 0;
    auto io = impl_->Read(buf, sizeof buf, n);
    switch (io) {
      case Impl::Io::kDone:
        in_.append(buf, n);
        received_ += n;
        return true;
      case Impl::Io::kEof:
        closed_ = true;
        return false;
      case Impl::Io::kReset:
        closed_ = reset_ = true;
        return false;
      default:
        if (Clock::now() >= deadline) return false;
        impl_->Wait(io, deadline);
    }
  }
  return false;
}

ReadResult RawConnection::ReadResponse(std::chrono::milliseconds timeout, bool head_request) {
  auto deadline = Clock::now() + timeout;
  ReadResult result;
  auto parser = NewParser(head_request);
  bool header_done = false;
  auto first_byte = [&] {
    if (result.response.t_ms < 0 && !in_.empty()) {
      result.response.t_ms =
          std::chrono::duration<double, std::milli>(Clock::now() - sent_at_).count();
    }
  };
  while (true) {
    first_byte();
    if (!in_.empty()) {
      beast::error_code ec;
      std::size_t used = parser->put(asio::buffer(in_.data(), in_.size()), ec);
      if (!header_done && parser->is_header_done()) {
        header_done = true;
        result.response.head = in_.substr(0, used);
        FillFrom(*parser, result.response);
        int status = result.response.status;
        if (status >= 100 && status < 200 && status != 101) {
          // An interim response: skip it, read the next one.
          in_.erase(0, used);
          ++interim_;
          parser = NewParser(head_request);
          header_done = false;
          result.response = RawResponse{};
          continue;
        }
        parser->eager(true);
      }
      if (ec && ec != http::error::need_more) {
        // What did not parse, for the case to read (Beast takes a head whole or not at all).
        if (!header_done) result.response.head = in_.substr(0, in_.find("\r\n\r\n"));
        result.end = ReadEnd::kGarbage;
        result.error = ec.message();
        return result;
      }
      in_.erase(0, used);
      if (parser->is_done()) {
        FillFrom(*parser, result.response);
        result.response.body = std::move(parser->get().body().kept);
        result.response.body_bytes = parser->get().body().size;
        result.response.complete = true;
        result.end = ReadEnd::kResponse;
        return result;
      }
      if (used > 0 && !ec) continue;  // more of the buffer may parse
    }
    if (closed_) break;
    if (!FillOnce(deadline)) {
      if (stopped_) return result.end = ReadEnd::kStopped, result;
      if (closed_) continue;  // parse what is left, then the end of stream
      result.end = ReadEnd::kTimeout;
      if (header_done) {
        result.response.body = parser->get().body().kept;
        result.response.body_bytes = parser->get().body().size;
      }
      return result;
    }
  }
  // The server closed: a close-delimited body ends here; anything else is cut.
  if (header_done) {
    beast::error_code ec;
    parser->put_eof(ec);
    FillFrom(*parser, result.response);
    result.response.body = std::move(parser->get().body().kept);
    result.response.body_bytes = parser->get().body().size;
    if (!ec && parser->is_done()) {
      result.response.complete = true;
      result.end = ReadEnd::kResponse;
      return result;
    }
  }
  result.end = ReadEnd::kClosed;
  return result;
}

ReadEnd RawConnection::WaitActivity(std::chrono::milliseconds timeout) {
  if (!in_.empty()) return ReadEnd::kResponse;
  auto deadline = Clock::now() + timeout;
  if (FillOnce(deadline)) return ReadEnd::kResponse;
  if (stopped_) return ReadEnd::kStopped;
  return closed_ ? ReadEnd::kClosed : ReadEnd::kTimeout;
}

ReadEnd RawConnection::ReadToClose(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  while (!closed_) {
    if (in_.size() > kKeptBodyBytes) in_.erase(0, in_.size() - kKeptBodyBytes);
    if (!FillOnce(deadline)) {
      if (stopped_) return ReadEnd::kStopped;
      if (!closed_) return ReadEnd::kTimeout;
    }
  }
  return ReadEnd::kClosed;
}

// ---- responses and requests ----

std::string RawResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

std::size_t RawResponse::HeaderCount(std::string_view name) const {
  return std::size_t(std::count_if(headers.begin(), headers.end(),
                                   [&](const auto& h) { return EqualsIgnoreCase(h.first, name); }));
}

std::string_view ToString(ReadEnd end) {
  switch (end) {
    case ReadEnd::kResponse:
      return "a response";
    case ReadEnd::kClosed:
      return "the connection closed";
    case ReadEnd::kTimeout:
      return "no answer before the deadline, the connection open";
    case ReadEnd::kGarbage:
      return "bytes that are not an HTTP/1.x response";
    case ReadEnd::kStopped:
      return "the run stopped";
  }
  return "?";
}

std::string RequestHead(const std::string& method, const std::string& target,
                        const std::string& host,
                        const std::vector<std::pair<std::string, std::string>>& fields,
                        const std::string& version) {
  std::string out = method + " " + target + " " + version + "\r\n";
  if (!host.empty()) out += "Host: " + host + "\r\n";
  for (const auto& [name, value] : fields) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

std::string Chunked(std::string_view body) {
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", body.size());
  std::string out = body.empty() ? "" : size + std::string(body) + "\r\n";
  return out + "0\r\n\r\n";
}

}  // namespace streamcheck::harness
