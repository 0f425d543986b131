// The reference server's HTTP/1.1 behaviour, probed with raw sockets: header
// values forwarded byte for byte, framing errors answered 400 (or 501, 431)
// with the connection closed, aborted uploads never reaching the backend as a
// complete request, pipelining, half-close, HTTP/1.0 clients, requests without
// a body length, limits and timeouts. Each behaviour is shown right on the
// server and, where a fault switch exists (server/faults.h), wrong on
// `defective_server --defect NAME`, so that each test can fail.
//
// A RecordingBackend stands in for the backend where the bytes it receives are
// the evidence. Every wait is bounded and says what it waited for; ports are
// picked by the kernel (port 0).
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/sha256.h"
#include "common/text.h"
#include "harness/http_client.h"
#include "harness/target_process.h"
#include "mocks/content.h"
#include "mocks/mock_backend.h"
#include "server/proxy_rules.h"
#include "server/reference_server.h"
#include "tests/test_support.h"

namespace streamcheck::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_support::PollUntil;
using Clock = std::chrono::steady_clock;

constexpr auto kWait = 10s;  // bound for anything that normally takes milliseconds

// ---- a raw client ----

class Raw {
 public:
  explicit Raw(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    // Every send is bounded: a server that stops reading fails Send, never hangs it.
    timeval send_timeout{std::chrono::duration_cast<std::chrono::seconds>(kWait).count(), 0};
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  }
  ~Raw() {
    if (fd_ >= 0) close(fd_);
  }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;

  bool connected() const { return connected_; }
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(std::size_t(n));
    }
    return true;
  }
  void ShutdownWrite() { shutdown(fd_, SHUT_WR); }
  void Reset() {  // close with RST
    linger l{1, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd_);
    fd_ = -1;
  }

  // Reads until `done(received)` holds or the peer closes, at most `timeout`.
  // True when `done` held.
  bool ReadUntil(const std::function<bool(const std::string&)>& done,
                 std::chrono::milliseconds timeout = kWait) {
    auto deadline = Clock::now() + timeout;
    while (!done(received_)) {
      if (closed_) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, int(left.count())) <= 0) continue;
      char buf[65536];
      ssize_t n = recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_ = true;
        continue;
      }
      received_.append(buf, std::size_t(n));
    }
    return true;
  }
  // True when the peer closed within `timeout`.
  bool ReadToClose(std::chrono::milliseconds timeout = kWait) {
    ReadUntil([](const std::string&) { return false; }, timeout);
    return closed_;
  }
  const std::string& received() const { return received_; }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

// The status codes of the responses in `bytes`, in order.
std::vector<int> Statuses(const std::string& bytes) {
  static const std::regex status_line("HTTP/1\\.[01] (\\d{3}) ");
  std::vector<int> out;
  for (std::sregex_iterator it(bytes.begin(), bytes.end(), status_line), end; it != end; ++it) {
    out.push_back(std::stoi((*it)[1]));
  }
  return out;
}

// The head of the first response in `bytes`.
std::string HeadOf(const std::string& bytes) { return bytes.substr(0, bytes.find("\r\n\r\n")); }

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

bool HasWholeResponse(const std::string& bytes) {
  auto end = bytes.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = ToLower(bytes.substr(0, end));
  std::smatch m;
  if (std::regex_search(head, m, std::regex("content-length: *(\\d+)"))) {
    return bytes.size() >= end + 4 + std::stoul(m[1]);
  }
  if (head.find("transfer-encoding: chunked") != std::string::npos) {
    return bytes.find("\r\n0\r\n\r\n", end) != std::string::npos;
  }
  return false;
}

// ---- a backend that records the bytes it receives ----

class RecordingBackend {
 public:
  struct Exchange {
    std::string bytes;      // everything the server sent on this connection
    bool complete = false;  // a whole request (head and its framed body) arrived
    bool ended = false;     // the server closed or reset the connection
  };

  // Answers each complete request with `reply` (a whole HTTP response).
  explicit RecordingBackend(std::string reply =
                                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                "Content-Length: 2\r\nConnection: close\r\n\r\nok")
      : reply_(std::move(reply)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(listen_fd_, 64);
    socklen_t len = sizeof addr;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~RecordingBackend() {
    stopping_ = true;
    shutdown(listen_fd_, SHUT_RDWR);
    close(listen_fd_);
    acceptor_.join();
    std::lock_guard lock(mutex_);
    for (auto& t : handlers_) t.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<Exchange> exchanges() {
    std::lock_guard lock(mutex_);
    return exchanges_;
  }
  // Waits until connection `index` has ended (or completed with `complete`).
  bool WaitEnded(std::size_t index, std::chrono::milliseconds timeout = kWait) {
    return PollUntil(
        [&] {
          auto e = exchanges();
          return e.size() > index && e[index].ended;
        },
        timeout);
  }

 private:
  static bool Complete(const std::string& bytes) {
    auto end = bytes.find("\r\n\r\n");
    if (end == std::string::npos) return false;
    std::string head = ToLower(bytes.substr(0, end));
    std::smatch m;
    if (std::regex_search(head, m, std::regex("\r\ncontent-length: *(\\d+)"))) {
      return bytes.size() >= end + 4 + std::stoul(m[1]);
    }
    if (head.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      return bytes.size() >= end + 9 && bytes.compare(bytes.size() - 5, 5, "0\r\n\r\n") == 0;
    }
    return true;
  }

  void AcceptLoop() {
    while (!stopping_) {
      int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::lock_guard lock(mutex_);
      std::size_t index = exchanges_.size();
      exchanges_.emplace_back();
      handlers_.emplace_back([this, fd, index] { Serve(fd, index); });
    }
  }

  void Serve(int fd, std::size_t index) {
    bool answered = false;
    auto deadline = Clock::now() + 30s;
    while (!stopping_ && Clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[65536];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      std::lock_guard lock(mutex_);
      auto& e = exchanges_[index];
      if (n <= 0) {
        e.ended = true;
        break;
      }
      e.bytes.append(buf, std::size_t(n));
      if (!answered && Complete(e.bytes)) {
        e.complete = true;
        answered = true;
        send(fd, reply_.data(), reply_.size(), MSG_NOSIGNAL);
      }
    }
    close(fd);
    std::lock_guard lock(mutex_);
    exchanges_[index].ended = true;
  }

  std::string reply_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mutex_;
  std::vector<std::thread> handlers_;
  std::vector<Exchange> exchanges_;
};

// ---- the servers under test ----

// The reference server in-process, or defective_server with one fault.
class Server {
 public:
  static std::unique_ptr<Server> Reference(const std::string& backend, ServerOptions options = {}) {
    options.port = 0;
    options.backend_url = backend;
    auto started = ReferenceServer::Start(options);
    if (!started) {
      ADD_FAILURE() << started.error();
      return nullptr;
    }
    auto s = std::make_unique<Server>();
    s->port_ = (*started)->port();
    s->reference_ = std::move(*started);
    return s;
  }

  static std::unique_ptr<Server> WithFault(const std::string& backend, const std::string& fault) {
    static std::atomic<int> serial{0};
    harness::LaunchOptions launch;
    launch.argv = {
        STREAMCHECK_DEFECTIVE_SERVER, "--port", "0", "--backend", backend, "--defect", fault};
    launch.log_path =
        fs::temp_directory_path() / ("reference-server-http-test-" + std::to_string(getpid()) +
                                     "-" + std::to_string(serial++) + ".log");
    auto process = harness::TargetProcess::Start(launch);
    if (!process) {
      ADD_FAILURE() << process.error();
      return nullptr;
    }
    auto s = std::make_unique<Server>();
    // It prints the port the kernel gave it.
    static const std::regex listening("listening on http://127\\.0\\.0\\.1:(\\d+)");
    bool up = PollUntil(
        [&] {
          std::smatch m;
          std::string log = testing_support::ReadFile((*process)->log_path());
          if (!std::regex_search(log, m, listening)) return false;
          s->port_ = std::stoi(m[1]);
          return true;
        },
        kWait);
    if (!up) {
      ADD_FAILURE() << "defective_server --defect " << fault << " did not start within 10 s:\n"
                    << (*process)->LogTail();
      return nullptr;
    }
    s->process_ = std::move(*process);
    return s;
  }

  ~Server() {
    if (process_) {
      process_->Stop();
      std::error_code ec;
      fs::remove(process_->log_path(), ec);
    }
  }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int port_ = 0;
  std::unique_ptr<ReferenceServer> reference_;
  std::unique_ptr<harness::TargetProcess> process_;
};

// Sends `request` on a fresh connection and reads until the server closes
// (or `timeout`).
struct Reply {
  std::string bytes;
  bool closed = false;
  std::vector<int> statuses;
};
Reply Exchange(int port, const std::string& request, std::chrono::milliseconds timeout = kWait) {
  Raw raw(port);
  EXPECT_TRUE(raw.connected());
  raw.Send(request);
  Reply r;
  r.closed = raw.ReadToClose(timeout);
  r.bytes = raw.received();
  r.statuses = Statuses(r.bytes);
  return r;
}

const std::string kPing = "GET /ping HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kPingClose = "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

// ---- header values ----

// A value with an encoded CRLF must reach the backend as those bytes, as one
// header of one request; the fault decodes it and sends two requests.
TEST(ReferenceServerHttp, HeaderValuesAreForwardedByteForByte) {
  const std::string value = "a%0D%0A%0D%0APOST /admin HTTP/1.1%0D%0AHost: evil%0D%0A";
  const std::string request =
      "GET /directAccess/echo HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\nX-Foo: " +
      value + "\r\nAuthorization: Bearer t%0D%0AX-Injected: 1\r\n\r\n";
  {
    RecordingBackend backend;
    auto server = Server::Reference(backend.url());
    ASSERT_TRUE(server);
    auto reply = Exchange(server->port(), request);
    EXPECT_EQ(reply.statuses, std::vector<int>{200}) << reply.bytes;
    ASSERT_TRUE(backend.WaitEnded(0));
    auto seen = backend.exchanges();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_THAT(seen[0].bytes, HasSubstr("\r\nX-Foo: " + value + "\r\n"));
    EXPECT_THAT(seen[0].bytes, HasSubstr("\r\nAuthorization: Bearer t%0D%0AX-Injected: 1\r\n"));
    EXPECT_THAT(seen[0].bytes, Not(HasSubstr("\r\nPOST /admin")));
    EXPECT_THAT(seen[0].bytes, Not(HasSubstr("\r\nX-Injected:")));
    EXPECT_EQ(Count(seen[0].bytes, "HTTP/1.1\r\n"), 1u) << seen[0].bytes;
  }
  {
    RecordingBackend backend;
    auto server = Server::WithFault(backend.url(), "direct-header-injection");
    ASSERT_TRUE(server);
    Exchange(server->port(), request);
    ASSERT_TRUE(backend.WaitEnded(0));
    auto seen = backend.exchanges();
    ASSERT_FALSE(seen.empty());
    EXPECT_THAT(seen[0].bytes, HasSubstr("\r\n\r\nPOST /admin HTTP/1.1\r\n"))
        << "the fault should smuggle a second request";
  }
}

// Raw control bytes in a value never get that far: Beast refuses the head.
TEST(ReferenceServerHttp, RawControlBytesInAValueAre400AndNeverForwarded) {
  RecordingBackend backend;
  auto server = Server::Reference(backend.url());
  ASSERT_TRUE(server);
  for (const std::string& bad :
       {std::string("a\rb"), std::string("a\nX-Injected: 1"), std::string("a\0b", 3)}) {
    SCOPED_TRACE(json(bad).dump());
    auto reply = Exchange(
        server->port(), "GET /directAccess/echo HTTP/1.1\r\nHost: x\r\nX-Foo: " + bad + "\r\n\r\n");
    EXPECT_EQ(reply.statuses, std::vector<int>{400}) << reply.bytes;
    EXPECT_TRUE(reply.closed);
  }
  EXPECT_TRUE(backend.exchanges().empty()) << "a refused request reached the backend";
}

// The chat relay forwards Authorization byte for byte too.
TEST(ReferenceServerHttp, ChatAuthorizationIsForwardedByteForByte) {
  RecordingBackend backend(
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
  auto server = Server::Reference(backend.url());
  ASSERT_TRUE(server);
  std::string body = R"({"model":"m","messages":[],"stream":false})";
  auto reply = Exchange(server->port(),
                        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                        "Authorization: Bearer t%0D%0AX-Injected: 1\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(reply.statuses, std::vector<int>{200}) << reply.bytes;
  ASSERT_TRUE(backend.WaitEnded(0));
  auto seen = backend.exchanges();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_THAT(seen[0].bytes, HasSubstr("\r\nAuthorization: Bearer t%0D%0AX-Injected: 1\r\n"));
  EXPECT_THAT(seen[0].bytes, Not(HasSubstr("\r\nX-Injected:")));
}

// ---- framing errors: 400 (501, 431) and the connection closed ----

struct FramingProbe {
  const char* what;
  std::string request;
  int status;
};

std::vector<FramingProbe> FramingProbes() {
  const std::string post = "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\n";
  std::string many;
  for (int i = 0; i < 150; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  return {
      {"Content-Length with Transfer-Encoding",
       post + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"two different Content-Lengths",
       post + "Content-Length: 5\r\nContent-Length: 40\r\n\r\nhello", 400},
      {"two equal Content-Lengths", post + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
       400},
      {"Content-Length: 0x5", post + "Content-Length: 0x5\r\n\r\nhello", 400},
      {"Content-Length: +5", post + "Content-Length: +5\r\n\r\nhello", 400},
      {"Content-Length: 5, 40", post + "Content-Length: 5, 40\r\n\r\nhello", 400},
      {"Content-Length: -5", post + "Content-Length: -5\r\n\r\nhello", 400},
      {"a 20-digit Content-Length", post + "Content-Length: 99999999999999999999\r\n\r\nhello",
       400},
      {"space before the colon", post + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
      {"a bare LF line end", "GET /ping HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n", 400},
      {"chunk data not followed by CRLF",
       post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloXX\r\n0\r\n\r\n", 400},
      {"Transfer-Encoding not ending in chunked", post + "Transfer-Encoding: gzip\r\n\r\nhello",
       400},
      {"an unknown transfer coding", post + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
       501},
      {"chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
      {"HTTP/1.0 with Transfer-Encoding",
       "POST /directAccess/echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"150 header fields", "GET /ping HTTP/1.1\r\nHost: x\r\n" + many + "\r\n", 431},
      {"a 64 KiB header",
       "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(65536, 'a') + "\r\n\r\n", 431},
      {"no Host", "GET /ping HTTP/1.1\r\n\r\n", 400},
      {"two Hosts", "GET /ping HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
      {"absolute-form", "GET http://127.0.0.1/directAccess/echo HTTP/1.1\r\nHost: x\r\n\r\n", 400},
  };
}

// Each probe, then a GET /ping in a later segment on the same connection: the
// probe gets its error, the connection closes, and the ping is never served.
TEST(ReferenceServerHttp, FramingErrorsAreAnsweredAndTheConnectionClosed) {
  RecordingBackend backend;
  auto server = Server::Reference(backend.url());
  ASSERT_TRUE(server);
  for (const auto& probe : FramingProbes()) {
    SCOPED_TRACE(probe.what);
    Raw raw(server->port());
    ASSERT_TRUE(raw.connected());
    raw.Send(probe.request);
    ASSERT_TRUE(raw.ReadUntil([](const std::string& b) { return HasWholeResponse(b); }))
        << "no whole response within 10 s; got: " << raw.received();
    raw.Send(kPing);  // a later segment
    EXPECT_TRUE(raw.ReadToClose()) << "the connection stayed open after the error";
    EXPECT_EQ(Statuses(raw.received()), std::vector<int>{probe.status}) << raw.received();
    EXPECT_THAT(HeadOf(raw.received()), HasSubstr("Connection: close"));
    EXPECT_THAT(HeadOf(raw.received()), Not(HasSubstr("Keep-Alive")));
  }
  // Only the bad chunk gets as far as the backend (its head is fine), and
  // never as a complete request.
  for (const auto& e : backend.exchanges()) {
    EXPECT_TRUE(PollUntil([&] { return backend.exchanges().back().ended; }));
    EXPECT_FALSE(e.complete) << "a refused request reached the backend:\n" << e.bytes;
  }
  EXPECT_LE(backend.exchanges().size(), 1u);
}

// server-desync keeps the connection: the ping after the error is served.
TEST(ReferenceServerHttp, DesyncFaultServesTheBytesAfterAFramingError) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  auto server = Server::WithFault((*mock)->url(), "server-desync");
  ASSERT_TRUE(server);
  Raw raw(server->port());
  raw.Send(FramingProbes()[0].request);
  ASSERT_TRUE(raw.ReadUntil([](const std::string& b) { return HasWholeResponse(b); }));
  raw.Send(kPing);
  EXPECT_TRUE(raw.ReadUntil([](const std::string& b) { return Statuses(b).size() == 2; }))
      << raw.received();
  EXPECT_EQ(Statuses(raw.received()), (std::vector<int>{400, 200}));
}

// server-cl-te reads a CL+TE request by its Content-Length and forwards it.
TEST(ReferenceServerHttp, ClTeFaultAcceptsContentLengthWithTransferEncoding) {
  RecordingBackend backend;
  auto server = Server::WithFault(backend.url(), "server-cl-te");
  ASSERT_TRUE(server);
  Raw raw(server->port());
  raw.Send(FramingProbes()[0].request);
  EXPECT_TRUE(raw.ReadUntil([](const std::string& b) { return HasWholeResponse(b); }));
  EXPECT_EQ(Statuses(raw.received()), std::vector<int>{200}) << raw.received();
}

// 10,000 headers: 431 here, accepted and forwarded under the fault.
TEST(ReferenceServerHttp, TenThousandHeadersAre431) {
  std::string many;
  for (int i = 0; i < 10'000; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  std::string request =
      "GET /directAccess/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + many + "\r\n";
  RecordingBackend backend;
  {
    auto server = Server::Reference(backend.url());
    ASSERT_TRUE(server);
    EXPECT_EQ(Exchange(server->port(), request).statuses, std::vector<int>{431});
    EXPECT_TRUE(backend.exchanges().empty());
  }
  auto faulty = Server::WithFault(backend.url(), "server-header-count");
  ASSERT_TRUE(faulty);
  EXPECT_EQ(Exchange(faulty->port(), request).statuses, std::vector<int>{200});
  ASSERT_TRUE(backend.WaitEnded(0));
  EXPECT_THAT(backend.exchanges()[0].bytes, HasSubstr("X-H9999: v"));
}

// ---- uploads ----

// A client that dies mid-body, or sends a bad chunk size: the backend's
// connection is dropped before a complete request; never a clean shorter one.
TEST(ReferenceServerHttp, BrokenUploadsNeverReachTheBackendComplete) {
  const std::string chunked_head =
      "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  struct Case {
    const char* what;
    std::string bytes;
    bool reset;           // the client then resets the connection
    int expected_status;  // 0: no answer expected (the client is gone)
  };
  const std::vector<Case> cases = {
      {"chunked, the client dies mid-chunk", chunked_head + "a\r\n01234", true, 0},
      {"chunked, an invalid chunk size", chunked_head + "5\r\nhello\r\nzz\r\n", false, 400},
      {"Content-Length, the client dies mid-body",
       "PUT /directAccess/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789", true,
       0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    RecordingBackend backend;
    auto server = Server::Reference(backend.url());
    ASSERT_TRUE(server);
    Raw raw(server->port());
    raw.Send(c.bytes);
    // The body's first bytes reach the backend before the break.
    ASSERT_TRUE(PollUntil([&] {
      auto e = backend.exchanges();
      return !e.empty() && e[0].bytes.find("\r\n\r\n") != std::string::npos;
    })) << "the request never reached the backend";
    if (c.reset) {
      raw.Reset();
    } else {
      EXPECT_TRUE(raw.ReadToClose());
      EXPECT_EQ(Statuses(raw.received()), std::vector<int>{c.expected_status}) << raw.received();
    }
    ASSERT_TRUE(backend.WaitEnded(0)) << "the backend connection was left open";
    auto seen = backend.exchanges();
    EXPECT_FALSE(seen[0].complete) << "the backend got a complete request:\n" << seen[0].bytes;
  }
}

// direct-truncated-upload ends the backend's body cleanly: a complete,
// shorter request, and the client gets 200 for an invalid chunk.
TEST(ReferenceServerHttp, TruncatedUploadFaultCompletesTheBackendRequest) {
  RecordingBackend backend;
  auto server = Server::WithFault(backend.url(), "direct-truncated-upload");
  ASSERT_TRUE(server);
  auto reply = Exchange(server->port(),
                        "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                        "chunked\r\n\r\n5\r\nhello\r\nzz\r\n");
  EXPECT_EQ(reply.statuses, std::vector<int>{200}) << reply.bytes;
  ASSERT_TRUE(backend.WaitEnded(0));
  EXPECT_TRUE(backend.exchanges()[0].complete) << backend.exchanges()[0].bytes;
}

// ---- pipelining, half-close, keep-alive ----

TEST(ReferenceServerHttp, PipelinedRequestsAreAnsweredInOrder) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  std::string eight;
  for (int i = 0; i < 7; ++i) eight += kPing;
  eight += "GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  {
    auto server = Server::Reference((*mock)->url());
    ASSERT_TRUE(server);
    auto reply = Exchange(server->port(), eight);
    EXPECT_EQ(reply.statuses, std::vector<int>(8, 200)) << reply.bytes;
    // Mixed: a proxied request between two pings keeps its place.
    auto mixed =
        Exchange(server->port(), kPing +
                                     "GET /directAccess/echo?n=2 HTTP/1.1\r\nHost: "
                                     "x\r\n\r\n" +
                                     "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(mixed.statuses, (std::vector<int>{200, 200, 200})) << mixed.bytes;
    EXPECT_LT(mixed.bytes.find("n=2"), mixed.bytes.rfind("HTTP/1.1 200")) << mixed.bytes;
    // Bodies in the pipeline are read to their framed end, no further.
    auto bodies = Exchange(
        server->port(),
        "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" + kPing +
            "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
            "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" +
            kPingClose);
    EXPECT_EQ(bodies.statuses, std::vector<int>(4, 200)) << bodies.bytes;
    EXPECT_THAT(bodies.bytes, HasSubstr("\"body_length\":5"));
    EXPECT_THAT(bodies.bytes, HasSubstr("\"body_length\":3"));
  }
  auto faulty = Server::WithFault((*mock)->url(), "server-pipelining");
  ASSERT_TRUE(faulty);
  Raw raw(faulty->port());
  raw.Send(eight);
  raw.ReadUntil([](const std::string& b) { return Statuses(b).size() >= 8; }, 2s);
  EXPECT_EQ(Statuses(raw.received()).size(), 1u) << raw.received();
}

TEST(ReferenceServerHttp, AHalfClosedClientStillGetsItsResponse) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  auto server = Server::Reference((*mock)->url());
  ASSERT_TRUE(server);
  for (const std::string& request :
       {kPing, std::string("GET /directAccess/large-file?size_mb=1 HTTP/1.1\r\nHost: x\r\n\r\n")}) {
    SCOPED_TRACE(request);
    Raw raw(server->port());
    raw.Send(request);
    raw.ShutdownWrite();
    EXPECT_TRUE(raw.ReadToClose());
    EXPECT_EQ(Statuses(raw.received()), std::vector<int>{200}) << HeadOf(raw.received());
    EXPECT_TRUE(HasWholeResponse(raw.received())) << raw.received().size() << " bytes";
  }
}

// Many requests on one connection, and never a Keep-Alive: max=N.
TEST(ReferenceServerHttp, KeepAliveHasNoRequestCap) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  auto server = Server::Reference((*mock)->url());
  ASSERT_TRUE(server);
  Raw raw(server->port());
  for (int i = 1; i <= 12; ++i) {
    raw.Send(i % 2 ? kPing : "GET /directAccess/echo HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(raw.ReadUntil([i](const std::string& b) {
      return int(Statuses(b).size()) == i && HasWholeResponse(b.substr(b.rfind("HTTP/1.1")));
    })) << "request "
        << i << " got no answer: " << raw.received();
  }
  EXPECT_FALSE(raw.closed());
  EXPECT_THAT(raw.received(), Not(HasSubstr("Keep-Alive")));
}

// ---- HTTP/1.0 and requests without a body length ----

TEST(ReferenceServerHttp, Http10ClientsNeverGetChunked) {
  // A chunked backend, as server.http10 asks for: a Content-Length one would be
  // passed on with its length and never show how a stream is framed.
  mocks::MockConfig chunked;
  chunked.framing = mocks::BodyFraming::kChunked;
  auto mock = mocks::MockBackend::Start(chunked);
  ASSERT_TRUE(mock.ok()) << mock.error();
  const std::string request = "GET /directAccess/large-file?size_mb=1 HTTP/1.0\r\n\r\n";
  {
    auto server = Server::Reference((*mock)->url());
    ASSERT_TRUE(server);
    auto reply = Exchange(server->port(), request);
    EXPECT_TRUE(reply.closed);
    std::string head = ToLower(HeadOf(reply.bytes));
    EXPECT_THAT(head, Not(HasSubstr("transfer-encoding")));
    EXPECT_THAT(head, HasSubstr("connection: close"));
    std::string body = reply.bytes.substr(reply.bytes.find("\r\n\r\n") + 4);
    EXPECT_EQ(body.size(), mocks::kMiB) << "a close-delimited body, whole";
    EXPECT_EQ(Sha256::Of(body), mocks::BodySha256Hex(42, mocks::kMiB));

    std::string chat = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})";
    auto sse = Exchange(server->port(), "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: " +
                                            std::to_string(chat.size()) + "\r\n\r\n" + chat);
    EXPECT_THAT(ToLower(HeadOf(sse.bytes)), Not(HasSubstr("transfer-encoding")));
    EXPECT_THAT(sse.bytes, HasSubstr("data: [DONE]\n\n"));
  }
  auto faulty = Server::WithFault((*mock)->url(), "server-http10");
  ASSERT_TRUE(faulty);
  auto reply = Exchange(faulty->port(), request);
  EXPECT_THAT(ToLower(HeadOf(reply.bytes)), HasSubstr("transfer-encoding: chunked"));
}

// RFC 9112 §6.3 (7): no Content-Length, no Transfer-Encoding: no body.
TEST(ReferenceServerHttp, ARequestWithoutLengthHasNoBodyAndIsAnsweredAtOnce) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  const std::string request = "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\n\r\n";
  {
    auto server = Server::Reference((*mock)->url());
    ASSERT_TRUE(server);
    Raw raw(server->port());
    raw.Send(request);  // and nothing more: the connection stays open
    ASSERT_TRUE(raw.ReadUntil([](const std::string& b) { return HasWholeResponse(b); }))
        << "no answer within 10 s: the server waits for a body";
    auto body =
        json::parse(raw.received().substr(raw.received().find("\r\n\r\n") + 4), nullptr, false);
    EXPECT_EQ(body.value("body_length", -1), 0) << raw.received();
    Raw chat(server->port());
    chat.Send("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(chat.ReadUntil([](const std::string& b) { return HasWholeResponse(b); }));
    EXPECT_EQ(Statuses(chat.received()), std::vector<int>{400});
  }
  auto faulty = Server::WithFault((*mock)->url(), "server-no-length-body");
  ASSERT_TRUE(faulty);
  Raw raw(faulty->port());
  raw.Send(request);
  EXPECT_FALSE(raw.ReadUntil([](const std::string& b) { return HasWholeResponse(b); }, 2s))
      << "the fault should wait for a body";
}

// ---- limits and timeouts ----

TEST(ReferenceServerHttp, ConnectionsOverTheLimitGetA503) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  ServerOptions options;
  options.max_connections = 5;
  auto server = Server::Reference((*mock)->url(), options);
  ASSERT_TRUE(server);
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<Raw>(server->port()));
    held.back()->Send(kPing);
    ASSERT_TRUE(held.back()->ReadUntil([](const std::string& b) { return HasWholeResponse(b); }));
  }
  auto over = Exchange(server->port(), kPingClose);
  EXPECT_EQ(over.statuses, std::vector<int>{503}) << over.bytes;
  EXPECT_TRUE(over.closed);
  held.pop_back();  // one leaves: room again
  EXPECT_TRUE(PollUntil(
      [&] { return Exchange(server->port(), kPingClose).statuses == std::vector<int>{200}; },
      kWait));
}

TEST(ReferenceServerHttp, BodyLimitsAre413) {
  RecordingBackend backend;
  ServerOptions options;
  options.max_body_bytes = 1000;
  options.max_chat_body_bytes = 1000;
  auto server = Server::Reference(backend.url(), options);
  ASSERT_TRUE(server);
  auto by_length = Exchange(
      server->port(), "PUT /directAccess/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" +
                          std::string(2000, 'x'));
  EXPECT_EQ(by_length.statuses, std::vector<int>{413}) << by_length.bytes;
  EXPECT_TRUE(backend.exchanges().empty()) << "a Content-Length over the limit is refused first";
  auto chunked = Exchange(server->port(),
                          "PUT /directAccess/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: "
                          "chunked\r\n\r\n7d0\r\n" +
                              std::string(2000, 'x') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.statuses, std::vector<int>{413}) << chunked.bytes;
  ASSERT_TRUE(backend.WaitEnded(0));
  EXPECT_FALSE(backend.exchanges()[0].complete);
  std::string chat(2000, ' ');
  auto big_chat = Exchange(
      server->port(),
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + chat);
  EXPECT_EQ(big_chat.statuses, std::vector<int>{413});
}

// An upload refused by its Content-Length: the 413 goes out at once, and the
// server goes on reading (and discarding) what the client still sends, so the
// client's sends do not hit a reset and it can read the 413 when it looks
// (RFC 9112 §9.6). A server that closes after a few reads resets a client
// that is still sending, and clients then report a send error instead of the
// 413 (libcurl: "Send failure: Broken pipe").
TEST(ReferenceServerHttp, AnEarly413StaysReadableWhileTheClientKeepsSending) {
  RecordingBackend backend;
  ServerOptions options;
  options.max_body_bytes = 1000;
  auto server = Server::Reference(backend.url(), options);
  ASSERT_TRUE(server);
  Raw client(server->port());
  ASSERT_TRUE(client.connected());
  constexpr std::size_t kSent = 16 * 1024 * 1024;
  ASSERT_TRUE(client.Send("PUT /directAccess/echo HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                          std::to_string(4 * kSent) + "\r\n\r\n"));
  const std::string piece(64 * 1024, 'x');
  std::size_t sent = 0;
  while (sent < kSent && client.Send(piece)) sent += piece.size();
  EXPECT_EQ(sent, kSent) << "the server stopped reading after the 413 (reset after " << sent
                         << " body bytes)";
  EXPECT_TRUE(client.ReadUntil([](const std::string& r) {
    return r.find("\r\n\r\n") != std::string::npos;
  })) << client.received();
  EXPECT_EQ(Statuses(client.received()), std::vector<int>{413}) << client.received();
  EXPECT_TRUE(backend.exchanges().empty());
}

std::string Gzip(const std::string& in) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, uLong(in.size())) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// Content-Encoding: gzip bodies are never inflated: 415 on the chat path (it
// would have to parse them), forwarded as they are by /directAccess/.
TEST(ReferenceServerHttp, GzipBodiesAreNeverInflated) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  std::string chat = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})";
  std::string packed = Gzip(chat);
  auto request = [&](const std::string& path) {
    return "POST " + path +
           " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Encoding: "
           "gzip\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(packed.size()) + "\r\n\r\n" + packed;
  };
  {
    auto server = Server::Reference((*mock)->url());
    ASSERT_TRUE(server);
    EXPECT_EQ(Exchange(server->port(), request("/v1/chat/completions")).statuses,
              std::vector<int>{415});
  }
  {
    RecordingBackend backend;
    auto server = Server::Reference(backend.url());
    ASSERT_TRUE(server);
    EXPECT_EQ(Exchange(server->port(), request("/directAccess/echo")).statuses,
              std::vector<int>{200});
    ASSERT_TRUE(backend.WaitEnded(0));
    std::string seen = backend.exchanges()[0].bytes;
    EXPECT_THAT(seen, HasSubstr("\r\nContent-Encoding: gzip\r\n"));
    EXPECT_EQ(seen.substr(seen.find("\r\n\r\n") + 4), packed) << "the body was changed";
  }
  auto faulty = Server::WithFault((*mock)->url(), "server-body-limits");
  ASSERT_TRUE(faulty);
  EXPECT_EQ(Exchange(faulty->port(), request("/v1/chat/completions")).statuses,
            std::vector<int>{200})
      << "the fault inflates the body";
}

TEST(ReferenceServerHttp, SlowHeadsTimeOutWith408) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  ServerOptions options;
  options.header_timeout = 300ms;
  options.keepalive_timeout = 300ms;
  auto server = Server::Reference((*mock)->url(), options);
  ASSERT_TRUE(server);
  Raw slow(server->port());
  slow.Send("GET /ping HTTP/1.1\r\nHo");
  EXPECT_TRUE(slow.ReadToClose()) << "a slow head was never timed out";
  EXPECT_EQ(Statuses(slow.received()), std::vector<int>{408});
  Raw idle(server->port());
  idle.Send(kPing);
  EXPECT_TRUE(idle.ReadToClose()) << "an idle kept-alive connection was never closed";
  EXPECT_EQ(Statuses(idle.received()), std::vector<int>{200});
}

// 200 slowloris connections and 1000 idle ones do not keep /ping from
// answering; under server-slow-clients (no header timeout, a pool of 16) the
// slowloris connections starve it.
TEST(ReferenceServerHttp, SlowAndIdleClientsDoNotStarvePing) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  auto open_slow = [](int port, int n) {
    std::vector<std::unique_ptr<Raw>> conns;
    for (int i = 0; i < n; ++i) {
      conns.push_back(std::make_unique<Raw>(port));
      conns.back()->Send("GET /ping HTTP/1.1\r\nX-");  // and then nothing
    }
    return conns;
  };
  auto ping_answers = [](int port, std::chrono::milliseconds within) {
    Raw raw(port);
    raw.Send(kPing);
    return raw.ReadUntil([](const std::string& b) { return HasWholeResponse(b); }, within);
  };
  {
    auto server = Server::Reference((*mock)->url());
    ASSERT_TRUE(server);
    auto slow = open_slow(server->port(), 200);
    std::vector<std::unique_ptr<Raw>> idle;
    for (int i = 0; i < 1000; ++i) idle.push_back(std::make_unique<Raw>(server->port()));
    EXPECT_TRUE(ping_answers(server->port(), kWait));
  }
  auto faulty = Server::WithFault((*mock)->url(), "server-slow-clients");
  ASSERT_TRUE(faulty);
  auto slow = open_slow(faulty->port(), 200);
  EXPECT_FALSE(ping_answers(faulty->port(), 2s)) << "the fault's pool should be full";
}

// ---- responses ----

TEST(ReferenceServerHttp, ARangeReplyKeepsOneContentRange) {
  RecordingBackend backend(
      "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-3/10\r\nContent-Length: "
      "4\r\nConnection: close\r\n\r\nabcd");
  const std::string request =
      "GET /directAccess/file HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\nConnection: close\r\n\r\n";
  {
    auto server = Server::Reference(backend.url());
    ASSERT_TRUE(server);
    auto reply = Exchange(server->port(), request);
    EXPECT_EQ(reply.statuses, std::vector<int>{206});
    EXPECT_EQ(Count(ToLower(HeadOf(reply.bytes)), "content-range:"), 1u) << reply.bytes;
    EXPECT_THAT(HeadOf(reply.bytes), HasSubstr("Content-Range: bytes 0-3/10"));
    ASSERT_TRUE(backend.WaitEnded(0));
    EXPECT_THAT(backend.exchanges()[0].bytes, HasSubstr("\r\nRange: bytes=0-3\r\n"));
  }
  auto faulty = Server::WithFault(backend.url(), "direct-range");
  ASSERT_TRUE(faulty);
  auto reply = Exchange(faulty->port(), request);
  EXPECT_EQ(Count(ToLower(HeadOf(reply.bytes)), "content-range:"), 2u) << reply.bytes;
}

// The in-band error names the failure in the server's words, never a
// library's ("curl", "CURLE_", "Failure when receiving data from the peer").
TEST(ReferenceServerHttp, TheInBandErrorSaysWhatFailedInTheServersWords) {
  mocks::MockConfig config;
  config.fail_after_tokens = 3;
  auto mock = mocks::MockBackend::Start(config);
  ASSERT_TRUE(mock.ok()) << mock.error();
  auto server = Server::Reference((*mock)->url());
  ASSERT_TRUE(server);
  std::string chat = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})";
  auto reply = Exchange(server->port(),
                        "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                        "Connection: close\r\nContent-Length: " +
                            std::to_string(chat.size()) + "\r\n\r\n" + chat);
  EXPECT_THAT(reply.bytes, HasSubstr("data: {\"error\""));
  EXPECT_THAT(reply.bytes, HasSubstr("backend connection closed before the response was complete"));
  for (const char* leak : {"curl", "CURLE", "Failure when receiving", "Transferred a partial"}) {
    EXPECT_THAT(reply.bytes, Not(HasSubstr(leak)));
  }
  EXPECT_THAT(reply.bytes, Not(HasSubstr("data: [DONE]")));
}

// Both body paths, zero-copy and bounded buffer, give the same bytes, and a
// short Content-Length body is visibly short on both.
TEST(ReferenceServerHttp, ZeroCopyAndBufferedPathsAgree) {
  mocks::MockConfig config;
  config.framing = mocks::BodyFraming::kLength;
  auto mock = mocks::MockBackend::Start(config);
  ASSERT_TRUE(mock.ok()) << mock.error();
  for (bool zero_copy : {true, false}) {
    SCOPED_TRACE(zero_copy ? "splice" : "buffered");
    ServerOptions options;
    options.zero_copy = zero_copy;
    auto server = Server::Reference((*mock)->url(), options);
    ASSERT_TRUE(server);
    harness::HttpRequest get;
    get.url = server->url() + "/directAccess/large-file?size_mb=8";
    get.total_timeout = 60s;
    auto whole = harness::Perform(get);
    EXPECT_TRUE(whole.complete) << whole.error;
    EXPECT_EQ(whole.sha256, mocks::BodySha256Hex(42, 8 * mocks::kMiB));
    config.truncate_after_bytes = static_cast<long long>(3 * mocks::kMiB);
    (*mock)->SetConfig(config);
    auto cut = harness::Perform(get);
    EXPECT_FALSE(cut.complete) << "a short body ended cleanly";
    EXPECT_LT(cut.body_bytes, 8 * mocks::kMiB);
    config.truncate_after_bytes = -1;
    (*mock)->SetConfig(config);
  }
}

// ---- pure rules ----

TEST(ProxyRules, FramingVerdicts) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(CheckRequestFraming({}, {}, false).status, 0);
  EXPECT_EQ(CheckRequestFraming(V{"chunked"}, {}, false).status, 0);
  EXPECT_EQ(CheckRequestFraming(V{"Chunked"}, {}, false).status, 0);
  EXPECT_EQ(CheckRequestFraming({}, V{"42"}, false).status, 0);
  EXPECT_EQ(CheckRequestFraming(V{"gzip"}, {}, false).status, 400);
  EXPECT_EQ(CheckRequestFraming(V{"gzip", "chunked"}, {}, false).status, 501);
  EXPECT_EQ(CheckRequestFraming(V{"chunked"}, V{"4"}, false).status, 400);
  EXPECT_EQ(CheckRequestFraming(V{"chunked"}, {}, true).status, 400);
  EXPECT_EQ(CheckRequestFraming({}, V{"4", "4"}, false).status, 400);
  EXPECT_EQ(CheckRequestFraming({}, V{"4,4"}, false).status, 400);
  EXPECT_EQ(CheckRequestFraming({}, V{"12345678901234567890"}, false).status, 400);
}

TEST(ProxyRules, PercentDecodeAndConfinedPaths) {
  EXPECT_EQ(PercentDecode("a%20b%zz%4"), "a b%zz%4");
  EXPECT_TRUE(ConfinedPath("v1/models/a%20b"));
  EXPECT_FALSE(ConfinedPath("a%2Fb"));
  EXPECT_FALSE(ConfinedPath("a%00b"));
  EXPECT_FALSE(ConfinedPath("%2e%2E/x"));
  EXPECT_FALSE(ConfinedPath("/host/x"));
  EXPECT_FALSE(SafeFieldValue("a\r\nb"));
  EXPECT_TRUE(SafeFieldValue("a%0D%0Ab"));
}

}  // namespace
}  // namespace streamcheck::server
