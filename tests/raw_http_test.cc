// The raw HTTP/1.1 client (harness/raw_http.h) against real sockets: the
// reference server for framing, pipelining, half-close and close detection;
// a Python stub (tests/http_servers/stub.py) over TLS on IPv6 for name
// resolution, certificates and `insecure`. Ports come from the kernel.
#include "harness/raw_http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <regex>

#include "harness/target_process.h"
#include "harness/target_spec.h"
#include "mocks/content.h"
#include "mocks/mock_backend.h"
#include "server/reference_server.h"
#include "tests/test_support.h"

namespace streamcheck::harness {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing_support::PollUntil;

class RawHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mock = mocks::MockBackend::Start();
    ASSERT_TRUE(mock.ok()) << mock.error();
    mock_ = std::move(*mock);
    server::ServerOptions options;
    options.port = 0;
    options.backend_url = mock_->url();
    auto started = server::ReferenceServer::Start(options);
    ASSERT_TRUE(started.ok()) << started.error();
    server_ = std::move(*started);
  }
  RawEndpoint Endpoint(const std::string& host = "127.0.0.1") {
    auto e = RawEndpointOf("http://" + host + ":" + std::to_string(server_->port()), TargetSpec{});
    EXPECT_TRUE(e.ok()) << e.error();
    return *e;
  }
  std::unique_ptr<RawConnection> Open(const std::string& host = "127.0.0.1") {
    auto c = RawConnection::Open(Endpoint(host), 10s);
    EXPECT_TRUE(c.ok()) << c.error();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<mocks::MockBackend> mock_;
  std::unique_ptr<server::ReferenceServer> server_;
};

TEST(RawEndpoint, ParsesHostsPortsAndSchemes) {
  auto v6 = RawEndpointOf("https://[::1]:8443/base", TargetSpec{});
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  EXPECT_EQ(v6->authority, "[::1]:8443");
  EXPECT_TRUE(v6->tls);
  auto plain = RawEndpointOf("http://localhost", TargetSpec{});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->port, 80);
  EXPECT_FALSE(plain->tls);
  EXPECT_FALSE(RawEndpointOf("ftp://x", TargetSpec{}).ok());
  EXPECT_FALSE(RawEndpointOf("http://[::1", TargetSpec{}).ok());
}

// A chunked backend: the mock's default, Content-Length, is passed on as such.
void SendChunked(mocks::MockBackend& mock) {
  mocks::MockConfig config;
  config.framing = mocks::BodyFraming::kChunked;
  ASSERT_TRUE(mock.control().SetConfig(config).ok());
}

TEST_F(RawHttpTest, ReadsPipelinedResponsesInOrderWithEveryFraming) {
  SendChunked(*mock_);
  auto conn = Open("localhost");  // resolved by name
  ASSERT_TRUE(conn);
  std::string bytes =
      RequestHead("GET", "/ping", "x", {}) +
      RequestHead("GET", "/directAccess/large-file?size_mb=1", "x", {}) +  // chunked
      RequestHead("POST", "/directAccess/echo", "x", {{"Transfer-Encoding", "chunked"}}) +
      Chunked("hello") + RequestHead("GET", "/ping", "x", {{"Connection", "close"}});
  ASSERT_TRUE(conn->Send(bytes));
  auto ping = conn->ReadResponse(10s);
  ASSERT_EQ(ping.end, ReadEnd::kResponse) << ping.error;
  EXPECT_EQ(ping.response.status, 200);
  EXPECT_TRUE(ping.response.keep_alive);
  auto large = conn->ReadResponse(10s);
  ASSERT_EQ(large.end, ReadEnd::kResponse);
  EXPECT_TRUE(large.response.chunked);
  EXPECT_EQ(large.response.body_bytes, mocks::kMiB);
  EXPECT_EQ(large.response.body.size(), kKeptBodyBytes) << "only the first bytes are kept";
  auto echo = conn->ReadResponse(10s);
  ASSERT_EQ(echo.end, ReadEnd::kResponse);
  EXPECT_THAT(echo.response.body, HasSubstr("\"body_length\":5"));
  auto last = conn->ReadResponse(10s);
  ASSERT_EQ(last.end, ReadEnd::kResponse);
  EXPECT_FALSE(last.response.keep_alive);
  EXPECT_EQ(conn->WaitActivity(10s), ReadEnd::kClosed);
  EXPECT_EQ(conn->ReadResponse(1s).end, ReadEnd::kClosed);
}

TEST_F(RawHttpTest, CloseDelimitedBodiesAndHalfClose) {
  SendChunked(*mock_);  // to an HTTP/1.0 client a chunked body goes close-delimited
  auto conn = Open();
  ASSERT_TRUE(conn);
  conn->Send(RequestHead("GET", "/directAccess/large-file?size_mb=1", "", {}, "HTTP/1.0"));
  conn->ShutdownWrite();
  auto r = conn->ReadResponse(10s);
  ASSERT_EQ(r.end, ReadEnd::kResponse) << ToString(r.end);
  EXPECT_FALSE(r.response.chunked);
  EXPECT_TRUE(r.response.Header("Content-Length").empty()) << "close-delimited";
  EXPECT_EQ(r.response.body_bytes, mocks::kMiB);
  EXPECT_TRUE(conn->closed());
}

TEST_F(RawHttpTest, SilenceIsATimeoutAndGarbageIsSaidSo) {
  auto conn = Open();
  ASSERT_TRUE(conn);
  conn->Send("GET /ping HTTP/1.1\r\nHo");  // an unfinished head: the server waits
  EXPECT_EQ(conn->WaitActivity(300ms), ReadEnd::kTimeout);
  EXPECT_EQ(conn->ReadResponse(300ms).end, ReadEnd::kTimeout);
  bool stop = true;
  auto stopped = RawConnection::Open(Endpoint(), 10s, [&] { return stop; });
  EXPECT_FALSE(stopped.ok()) << "a stopped run opens nothing";
}

// A TLS stub on [::1]: verified with the spec's CA file, refused without it,
// accepted with `insecure`.
TEST(RawHttpTls, VerifiesWithTheCaFileOverIpv6) {
  auto dir = fs::temp_directory_path() / ("raw-http-tls-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string cert = (dir / "cert.pem").string(), key = (dir / "key.pem").string();
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=IP:::1,DNS:localhost -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  LaunchOptions launch;
  launch.argv = {"/usr/bin/python3",
                 STREAMCHECK_SOURCE_ROOT "/tests/http_servers/stub.py",
                 "not-found",
                 "0",
                 "--host",
                 "::1",
                 "--cert",
                 cert,
                 "--key",
                 key};
  launch.log_path = dir / "stub.log";
  auto stub = TargetProcess::Start(launch);
  ASSERT_TRUE(stub.ok()) << stub.error();
  int port = 0;
  ASSERT_TRUE(PollUntil(
      [&] {
        std::smatch m;
        std::string log = testing_support::ReadFile(launch.log_path);
        static const std::regex listening("listening on (\\d+)");
        if (!std::regex_search(log, m, listening)) return false;
        port = std::stoi(m[1]);
        return true;
      },
      10s));
  TargetSpec spec;
  std::string url = "https://[::1]:" + std::to_string(port);
  auto ping = [&](const TargetSpec& s) -> Result<int> {
    auto e = RawEndpointOf(url, s);
    if (!e) return Error{e.error()};
    auto c = RawConnection::Open(*e, 10s);
    if (!c) return Error{c.error()};
    (*c)->Send(RequestHead("GET", "/ping", e->authority, {}));
    auto r = (*c)->ReadResponse(10s);
    return r.response.status;
  };
  auto untrusted = ping(spec);
  EXPECT_FALSE(untrusted.ok()) << "a self-signed certificate was trusted";
  spec.ca_file = cert;
  auto trusted = ping(spec);
  ASSERT_TRUE(trusted.ok()) << trusted.error();
  EXPECT_EQ(*trusted, 200);
  TargetSpec insecure;
  insecure.insecure = true;
  auto any = ping(insecure);
  ASSERT_TRUE(any.ok()) << any.error();
  EXPECT_EQ(*any, 200);
  (*stub)->Stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace streamcheck::harness
