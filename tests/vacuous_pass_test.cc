// No vacuous pass: every catalog case, pointed at a server that gives it
// nothing to judge, must not pass. Four broken servers, each on a free port in
// this process: one that reads the request and closes, one that answers 404
// to everything, one that answers garbage bytes, one that answers 200 with an
// empty body. The engine is told not to wait for their ready path (they have
// none), so each case body meets the broken server itself.
//
// kExpected is the table: for each case, the outcome it must have on each
// server. A judged case must never pass there (fail or warn by its level:
// the server failed it; error or skip only with a reason); the INFO case,
// which records and never judges, may pass, and a judged case only where the
// table says why what it judges is all there (an empty 200 on a ready path). A catalog case missing
// from the table fails its test: a new case must say what it does against them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/asio.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "harness/ports.h"
#include "suites/catalog.h"
#include "tests/test_support.h"

namespace streamcheck {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;
using core::Outcome;

enum class Broken { kCloses, kNotFound, kGarbage, kEmpty200 };
constexpr std::array<Broken, 4> kServers = {Broken::kCloses, Broken::kNotFound, Broken::kGarbage,
                                            Broken::kEmpty200};

const char* Name(Broken b) {
  switch (b) {
    case Broken::kCloses:
      return "closes";
    case Broken::kNotFound:
      return "404";
    case Broken::kGarbage:
      return "garbage";
    case Broken::kEmpty200:
      return "empty 200";
  }
  return "?";
}

// Bytes that are no HTTP response: no status line, NULs and high bytes.
std::string Garbage() {
  std::string out(2048, '\0');
  std::uint32_t x = 2463534242u;
  for (auto& c : out) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    c = static_cast<char>(x & 0xFF);
  }
  out[0] = '\0';
  return out;
}

// What each server writes after the request head ("" : nothing, it closes).
std::string Reply(Broken b) {
  switch (b) {
    case Broken::kCloses:
      return "";
    case Broken::kNotFound:
      // As FastAPI (Starlette) answers a path it has no route for: a 4xx with a
      // JSON body, which a refusal check must not take for its own.
      return "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 22\r\n"
             "Connection: close\r\n\r\n{\"detail\":\"Not Found\"}";
    case Broken::kGarbage:
      return Garbage();
    case Broken::kEmpty200:
      return "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  }
  return "";
}

// A server that reads each request head (up to 1 MiB, or until the client
// closes) and then writes its one reply and closes, on every path. Bounded:
// every client here has its own timeout, and the destructor stops it all.
class BrokenServer {
 public:
  explicit BrokenServer(Broken mode) : reply_(Reply(mode)), acceptor_(io_) {}
  ~BrokenServer() {
    io_.stop();
    for (auto& t : threads_) t.join();
  }

  // Listens on a free port (harness::PickFreePort; a port taken meanwhile is
  // tried again) and serves on two threads.
  Status Start() {
    boost::system::error_code ec;
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto port = harness::PickFreePort();
      if (!port) return Status::Failure(port.error());
      tcp::endpoint at(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(*port));
      if (acceptor_.is_open()) acceptor_.close(ec);
      acceptor_.open(at.protocol(), ec);
      if (!ec) acceptor_.bind(at, ec);
      if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
      if (!ec) {
        port_ = *port;
        Accept();
        for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { io_.run(); });
        return Status::Ok();
      }
    }
    return Status::Failure("cannot listen on a free port: " + ec.message());
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  struct Connection {
    explicit Connection(tcp::socket s) : socket(std::move(s)), head(1024 * 1024) {}
    tcp::socket socket;
    asio::streambuf head;
  };

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      auto c = std::make_shared<Connection>(std::move(socket));
      asio::async_read_until(c->socket, c->head, "\r\n\r\n",
                             [this, c](boost::system::error_code, std::size_t) { Answer(c); });
      Accept();
    });
  }

  void Answer(const std::shared_ptr<Connection>& c) {
    auto done = [c](boost::system::error_code, std::size_t) {
      boost::system::error_code ignored;
      c->socket.shutdown(tcp::socket::shutdown_both, ignored);
      c->socket.close(ignored);
    };
    if (reply_.empty()) return done({}, 0);
    asio::async_write(c->socket, asio::buffer(reply_), done);
  }

  const std::string reply_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
};

struct Expected {
  std::array<Outcome, 4> on;  // closes, 404, garbage, empty 200 (kServers' order)
  // Why a judged case may pass on one of them: what it judges is all there.
  const char* pass_because = nullptr;
};

constexpr Outcome F = Outcome::kFail;
constexpr Outcome W = Outcome::kWarn;
constexpr Outcome E = Outcome::kError;
constexpr Outcome P = Outcome::kPass;
constexpr Outcome S = Outcome::kSkip;

// A readiness probe judges the status alone (Kubernetes takes any 200,
// whatever the body), so an empty 200 on the ready path is ready.
constexpr char kReadyOnA200[] = "the ready path's 200 is all a readiness probe judges";

// server.slow-clients judges how fast the ready path answers under load; an
// empty 200 at once is that answer.
constexpr char kReadyUnderLoad[] = "the ready path's answer under load is all it judges";

// Every catalog case, with what it must give on each broken server. MUST
// cases fail and SHOULD cases warn: the server did not do what they need.
const std::map<std::string, Expected>& Table() {
  static const std::map<std::string, Expected> table = {
      {"server.ready", {{F, F, F, P}, kReadyOnA200}},
      {"chat.status", {{F, F, F, F}}},
      {"chat.content-type", {{F, F, F, F}}},
      {"chat.first-line-data", {{F, F, F, F}}},
      {"chat.sse-grammar", {{F, F, F, F}}},
      {"chat.chunk-schema", {{F, F, F, F}}},
      {"chat.role-first", {{W, W, W, W}}},
      {"chat.finish-reason", {{F, F, F, F}}},
      {"chat.done-terminator", {{F, F, F, F}}},
      {"chat.content-parity", {{F, F, F, F}}},
      {"chat.nonstream-parity", {{F, F, F, F}}},
      {"chat.usage", {{W, W, W, W}}},
      {"chat.incremental", {{F, F, F, F}}},
      {"chat.both-paths", {{F, F, F, F}}},
      {"chat.no-cache", {{W, W, W, W}}},
      // INFO: records what came back and is never judged; with no response
      // at all there is nothing to record.
      {"chat.framing", {{E, P, E, P}}},
      {"chat.bad-json", {{F, F, F, F}}},
      {"chat.missing-messages", {{F, F, F, F}}},
      {"chat.backend-error-midstream", {{F, F, F, F}}},
      {"chat.error-event", {{W, W, W, W}}},
      {"chat.client-abort", {{W, W, W, W}}},
      {"chat.concurrent", {{F, F, F, F}}},
      {"chat.finish-reason-value", {{F, F, F, F}}},
      {"chat.utf8", {{F, F, F, F}}},
      {"chat.sdk-safe", {{W, W, W, W}}},
      {"chat.vendor-extensions", {{W, W, W, W}}},
      {"chat.tool-call-parity", {{F, F, F, F}}},
      {"chat.multi-choice", {{W, W, W, W}}},
      // The spec declares no request_timeout_s, no max_upload_bytes; a url
      // target cannot be sent SIGTERM: each skips and says why.
      {"chat.long-stream", {{S, S, S, S}}},
      {"direct.upload-limit", {{S, S, S, S}}},
      {"server.graceful-shutdown", {{S, S, S, S}}},
      {"server.health-during-stream", {{F, F, F, F}}},
      {"direct.large-get", {{F, F, F, F}}},
      {"direct.integrity", {{F, F, F, F}}},
      {"direct.content-coding", {{F, F, F, F}}},
      {"direct.incremental", {{F, F, F, F}}},
      {"direct.memory-bounded", {{F, F, F, F}}},
      {"direct.backpressure", {{W, W, W, W}}},
      {"direct.stall-survives", {{F, F, F, F}}},
      {"direct.sse-passthrough", {{F, F, F, F}}},
      {"direct.status-passthrough", {{F, F, F, F}}},
      {"direct.methods", {{F, F, F, F}}},
      {"direct.methods-extended", {{W, W, W, W}}},
      {"direct.query-string", {{F, F, F, F}}},
      {"direct.query-repeated", {{W, W, W, W}}},
      {"direct.request-headers", {{W, W, W, W}}},
      {"direct.response-headers", {{W, W, W, W}}},
      {"direct.response-framing", {{F, F, F, F}}},
      {"direct.truncation-visible", {{F, F, F, F}}},
      {"direct.backend-down", {{F, F, F, F}}},
      {"direct.backend-timeout", {{W, W, W, W}}},
      {"direct.client-abort", {{W, W, W, W}}},
      {"direct.path-confined", {{F, F, F, F}}},
      {"direct.large-upload", {{W, W, W, W}}},
      // The raw-socket cases: a ready path that does not answer 200 on a raw
      // connection, or a body path that does not echo, leaves them nothing
      // to judge (error); an empty 200 to everything fails what they probe.
      {"direct.range", {{E, E, E, E}}},
      {"direct.header-injection", {{E, E, E, E}}},
      {"direct.truncated-upload", {{E, E, E, E}}},
      {"server.request-line", {{E, E, E, F}}},
      {"server.cl-te", {{E, E, E, E}}},
      {"server.content-length", {{E, E, E, E}}},
      {"server.transfer-encoding", {{E, E, E, E}}},
      {"server.large-header", {{E, E, E, W}}},
      {"server.header-size", {{E, E, E, P}}},
      {"server.keep-alive", {{E, E, E, P}}},
      {"server.desync", {{E, E, E, E}}},
      {"server.pipelining", {{E, E, E, F}}},
      {"server.http10", {{E, E, E, E}}},
      {"server.no-length-body", {{E, E, E, E}}},
      {"server.slow-clients", {{E, E, E, P}, kReadyUnderLoad}},
      {"server.body-limits", {{E, E, E, W}}},
      {"server.header-count", {{E, E, E, W}}},
      {"server.survives", {{F, F, F, P}, kReadyOnA200}},
  };
  return table;
}

std::vector<std::string> CatalogIds() {
  std::vector<std::string> ids;
  for (const auto& c : suites::Catalog()) ids.push_back(c.info.id);
  return ids;
}

class VacuousPassTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    log_dir_ = fs::temp_directory_path() / ("vacuous-pass-" + std::to_string(getpid()));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(log_dir_, ec);
  }

  // The one case against `server`, as `streamcheck run` would run it, less the
  // wait for a ready path.
  core::CaseResult RunAgainst(const engine::CaseDef& def, const BrokenServer& server) {
    harness::TargetSpec spec;
    spec.name = "broken";
    spec.url = server.url();
    spec.features = harness::kFeatures;
    spec.backend_timeout_s = 2;
    spec.origin = "test";
    engine::RunOptions options;
    options.targets = {spec};
    options.case_options.size_mb = 8;
    options.session.root = STREAMCHECK_SOURCE_ROOT;
    options.session.log_dir = log_dir_;
    options.session.wait_ready = false;
    options.version = "test";
    auto report = engine::Run(suites::Catalog(), {&def}, options);
    return report.results.size() == 1 ? report.results[0] : core::CaseResult{};
  }

  fs::path log_dir_;
};

TEST_P(VacuousPassTest, NeverPassesOnABrokenServer) {
  const std::string& id = GetParam();
  const auto& table = Table();
  auto expected = table.find(id);
  ASSERT_NE(expected, table.end())
      << id << " is not in tests/vacuous_pass_test.cc's table: add what it gives on each broken "
      << "server (a judged case must never pass there)";
  const engine::CaseDef* def = nullptr;
  for (const auto& c : suites::Catalog()) {
    if (c.info.id == id) def = &c;
  }
  ASSERT_NE(def, nullptr);
  for (std::size_t i = 0; i < kServers.size(); ++i) {
    BrokenServer server(kServers[i]);
    ASSERT_TRUE(server.Start().ok());
    const auto result = RunAgainst(*def, server);
    const Outcome want = expected->second.on[i];
    EXPECT_EQ(result.outcome, want) << id << " on the server that " << Name(kServers[i])
                                    << ": expected " << core::ToString(want) << ", got "
                                    << core::ToString(result.outcome) << ": " << result.message;
    if (def->info.level != core::Level::kInfo && expected->second.pass_because == nullptr) {
      EXPECT_NE(result.outcome, Outcome::kPass)
          << id << " passed on the server that " << Name(kServers[i]);
    }
    if (result.outcome != Outcome::kPass) {
      EXPECT_FALSE(result.message.empty())
          << id << " on the server that " << Name(kServers[i]) << ": a non-pass needs a reason";
    }
  }
}

std::string ParamName(const ::testing::TestParamInfo<std::string>& info) {
  return testing_support::TestNameOf(info.param);
}

INSTANTIATE_TEST_SUITE_P(EveryCase, VacuousPassTest, ::testing::ValuesIn(CatalogIds()), ParamName);

TEST(VacuousPassTableTest, NamesOnlyCatalogCases) {
  const auto ids = CatalogIds();
  const std::set<std::string> catalog(ids.begin(), ids.end());
  for (const auto& [id, expected] : Table()) {
    EXPECT_TRUE(catalog.count(id)) << id << " is in the table but not in the catalog";
    for (Outcome o : expected.on) {
      const bool info = std::any_of(suites::Catalog().begin(), suites::Catalog().end(),
                                    [&](const engine::CaseDef& c) {
                                      return c.info.id == id && c.info.level == core::Level::kInfo;
                                    });
      EXPECT_TRUE(info || o != Outcome::kPass || expected.pass_because != nullptr)
          << id << ": a judged case may pass on a broken server only with a reason";
    }
  }
}

// The servers are what they claim: the client sees no usable answer.
TEST(VacuousPassServersTest, EachServerAnswersAsDescribed) {
  for (Broken b : kServers) {
    BrokenServer server(b);
    ASSERT_TRUE(server.Start().ok());
    harness::HttpRequest request;
    request.url = server.url() + "/v1/chat/completions";
    request.method = "POST";
    request.body = "{}";
    request.total_timeout = std::chrono::seconds(30);
    auto r = harness::Perform(request);
    switch (b) {
      case Broken::kCloses:
      case Broken::kGarbage:
        EXPECT_EQ(r.status, 0) << Name(b);
        EXPECT_FALSE(r.complete) << Name(b);
        break;
      case Broken::kNotFound:
        EXPECT_EQ(r.status, 404);
        break;
      case Broken::kEmpty200:
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body_bytes, 0u);
        EXPECT_TRUE(r.complete);
        break;
    }
  }
}

}  // namespace
}  // namespace streamcheck
