// MockClient: the MockControl of a mock in another process, over its HTTP
// control API. The same checks run against the in-process MockControl, so the
// two kinds are shown interchangeable; and a real `streamcheck mock` process is
// driven and stopped with SIGTERM.
#include "mocks/mock_client.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>

#include "harness/http_client.h"
#include "mocks/content.h"
#include "mocks/mock_backend.h"
#include "tests/mock_test_support.h"
#include "tests/test_support.h"

extern char** environ;

namespace streamcheck::mocks {
namespace {

using harness::HttpRequest;
using harness::Perform;
using nlohmann::json;
using ::testing::HasSubstr;
using testing_support::RawConnection;

constexpr auto kBound = std::chrono::seconds(10);

std::unique_ptr<MockBackend> StartMock() {
  auto started = MockBackend::Start();
  EXPECT_TRUE(started.ok()) << started.error();
  return started.ok() ? std::move(*started) : nullptr;
}

std::unique_ptr<MockClient> ConnectTo(const std::string& url) {
  auto client = MockClient::Connect(url);
  EXPECT_TRUE(client.ok()) << client.error();
  return client.ok() ? std::move(*client) : nullptr;
}

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

std::string ChatRequestText(const std::string& prompt) {
  std::string body =
      json{{"messages", {{{"role", "user"}, {"content", prompt}}}}, {"stream", true}}.dump();
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// What a conformance case does with any MockControl: configure a gate, see a
// stream reach it, open it, read the stats. Run on both kinds below.
void GateCase(MockControl& mock) {
  ASSERT_TRUE(mock.Reset().ok());
  MockConfig config;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 60'000;
  config.token_count = 4;
  ASSERT_TRUE(mock.SetConfig(config).ok());
  EXPECT_EQ(mock.config(), config);
  auto not_yet = mock.WaitGateReached(std::chrono::milliseconds(50));
  ASSERT_TRUE(not_yet.ok()) << not_yet.error();
  EXPECT_FALSE(*not_yet);

  auto raw = RawConnection::Open(PortOf(mock.url()));
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->Send(ChatRequestText("any mock")));
  auto reached = mock.WaitGateReached(kBound);
  ASSERT_TRUE(reached.ok()) << reached.error();
  EXPECT_TRUE(*reached);
  auto held = mock.Stats();
  ASSERT_TRUE(held.ok()) << held.error();
  EXPECT_EQ(held->gate_opened_by, "");
  ASSERT_TRUE(mock.OpenGate().ok());
  ASSERT_TRUE(
      raw->ReadUntil([](const std::string& r) { return r.find("[DONE]") != std::string::npos; }));
  ASSERT_TRUE(testing_support::PollUntil([&] {
    auto s = mock.Stats();
    return s.ok() && s->transfers_completed == 1;
  }));
  auto stats = mock.Stats();
  EXPECT_EQ(stats->gate_opened_by, "harness");
  EXPECT_EQ(stats->chat_requests, 1u);
  ASSERT_TRUE(mock.ResetStats().ok());
  EXPECT_EQ(mock.Stats()->requests, 0u);
  EXPECT_TRUE(mock.Stats()->gate_reached) << "ResetStats keeps the gate's state";
  auto cancelled = mock.WaitCancelled(std::chrono::milliseconds(50));
  ASSERT_TRUE(cancelled.ok());
  EXPECT_FALSE(*cancelled);
  // An upload half sent: its bytes are seen before the request is whole.
  auto none = mock.WaitUploadStarted(std::chrono::milliseconds(50));
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_FALSE(*none);
  auto upload = RawConnection::Open(PortOf(mock.url()));
  ASSERT_TRUE(upload);
  ASSERT_TRUE(upload->Send("PUT /echo HTTP/1.1\r\nHost: m\r\nContent-Length: 10\r\n\r\nhalf"));
  auto started = mock.WaitUploadStarted(kBound);
  ASSERT_TRUE(started.ok()) << started.error();
  EXPECT_TRUE(*started);
  EXPECT_EQ(mock.Stats()->request_body_bytes, 4u);
  ASSERT_TRUE(mock.Reset().ok());
  EXPECT_EQ(mock.config(), MockConfig{});
}

TEST(MockClientTest, InProcessAndOverHttpAreInterchangeable) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  {
    SCOPED_TRACE("in-process");
    GateCase(mock->control());
  }
  auto client = ConnectTo(mock->url());
  ASSERT_TRUE(client);
  EXPECT_EQ(client->url(), mock->url());
  SCOPED_TRACE("over HTTP");
  GateCase(*client);
}

TEST(MockClientTest, StatsArriveExactlyAsTheMockHasThem) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  HttpRequest r;
  r.url = mock->url() + "/large-file?size_mb=2";
  r.headers = {{"X-Streamcheck-Case", "direct.large-get"}};
  (void)Perform(r);
  r.url = mock->url() + "/echo?q=%ff";
  (void)Perform(r);
  auto client = ConnectTo(mock->url());
  ASSERT_TRUE(client);
  auto over_http = client->Stats();
  ASSERT_TRUE(over_http.ok()) << over_http.error();
  EXPECT_EQ(*over_http, mock->stats());
  EXPECT_EQ(over_http->requests_by_case["direct.large-get"], 2u);
  EXPECT_FALSE(over_http->last_byte_stream_timeline.empty());
}

TEST(MockClientTest, RefusalsAndCancellationsOverHttp) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto client = ConnectTo(mock->url());
  ASSERT_TRUE(client);
  MockConfig bad;
  bad.gate_timeout_ms = 0;
  auto refused = client->SetConfig(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("gate_timeout_ms"));
  EXPECT_EQ(client->config(), MockConfig{}) << "a refused config is not remembered";

  MockConfig gated;
  gated.gate_after_bytes = 1000;
  gated.gate_timeout_ms = 600'000;
  ASSERT_TRUE(client->SetConfig(gated).ok());
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->Send("GET /large-file HTTP/1.1\r\nHost: m\r\n\r\n"));
  ASSERT_TRUE(*client->WaitGateReached(kBound));
  raw.reset();
  auto cancelled = client->WaitCancelled(kBound);
  ASSERT_TRUE(cancelled.ok()) << cancelled.error();
  EXPECT_TRUE(*cancelled);
  EXPECT_EQ(client->Stats()->last_cancellation->path, "/large-file");
}

TEST(MockClientTest, SuspendKeepsTheControlApiAndResetsTheRest) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto client = ConnectTo(mock->url());
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->Suspend().ok());
  HttpRequest r;
  r.url = mock->url() + "/v1/models";
  auto down = Perform(r);
  EXPECT_EQ(down.status, 0) << "a suspended backend answered";
  EXPECT_FALSE(down.complete);
  auto stats = client->Stats();
  ASSERT_TRUE(stats.ok()) << stats.error();
  EXPECT_EQ(stats->suspended_resets, 1u);
  EXPECT_EQ(stats->requests, 0u);
  ASSERT_TRUE(client->Resume().ok());
  EXPECT_EQ(Perform(r).status, 200);
  ASSERT_TRUE(client->Suspend().ok());
  ASSERT_TRUE(client->Reset().ok()) << "Reset resumes";
  EXPECT_EQ(Perform(r).status, 200);
}

TEST(MockClientTest, ConnectSaysWhatAnsweredInstead) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto not_a_mock = MockClient::Connect(mock->url() + "/echo");  // JSON, but not the mock's info
  ASSERT_FALSE(not_a_mock.ok());
  EXPECT_THAT(not_a_mock.error(), HasSubstr("is not a streamcheck mock"));
  int port = mock->port();
  mock.reset();
  auto nothing = MockClient::Connect("http://127.0.0.1:" + std::to_string(port));
  ASSERT_FALSE(nothing.ok());
  EXPECT_THAT(nothing.error(), HasSubstr("did not answer"));
}

// --- a real `streamcheck mock` process --------------------------------------

struct MockProcess {
  pid_t pid = -1;
  std::string url;
  std::filesystem::path dir;
  ~MockProcess() {
    if (pid > 0) kill(pid, SIGKILL), waitpid(pid, nullptr, 0);
    std::filesystem::remove_all(dir);
  }
};

std::unique_ptr<MockProcess> SpawnMock(const std::vector<std::string>& extra = {}) {
  auto p = std::make_unique<MockProcess>();
  char tmpl[] = "/tmp/mock-client-test-XXXXXX";
  p->dir = mkdtemp(tmpl);
  std::string port_file = (p->dir / "port").string();
  std::vector<std::string> args = {STREAMCHECK_BIN, "mock",   "--port", "0",
                                   "--port-file",   port_file};
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  EXPECT_EQ(posix_spawn(&p->pid, STREAMCHECK_BIN, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  bool ready = testing_support::PollUntil(
      [&] { return !testing_support::ReadFile(port_file).empty(); }, std::chrono::seconds(30));
  EXPECT_TRUE(ready) << "streamcheck mock wrote no port file within 30 s";
  if (!ready) return nullptr;
  p->url = "http://127.0.0.1:" + std::to_string(std::stoi(testing_support::ReadFile(port_file)));
  return p;
}

TEST(MockProcessTest, DrivenOverHttpThenStopsPromptlyOnSigterm) {
  auto process = SpawnMock();
  ASSERT_TRUE(process);
  auto client = ConnectTo(process->url);
  ASSERT_TRUE(client);
  GateCase(*client);

  // Every kind of wait at once: a gate, a long stall, a crawl, silent headers, a long poll.
  MockConfig config;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 3'600'000;
  config.stall_after_bytes = 1000;
  config.stall_ms = 3'600'000;
  ASSERT_TRUE(client->SetConfig(config).ok());
  int port = PortOf(process->url);
  std::vector<std::unique_ptr<RawConnection>> held;
  auto open = [&](const std::string& request) {
    held.push_back(RawConnection::Open(port));
    ASSERT_TRUE(held.back());
    ASSERT_TRUE(held.back()->Send(request));
  };
  open(ChatRequestText("held at the gate"));
  open("GET /large-file?size_mb=1 HTTP/1.1\r\nHost: m\r\n\r\n");
  ASSERT_TRUE(*client->WaitGateReached(kBound));
  config.rate_mib_s = 0.001;
  config.headers_delay_ms = 3'600'000;
  ASSERT_TRUE(client->SetConfig(config).ok());
  open("GET /large-file?size_mb=1 HTTP/1.1\r\nHost: m\r\n\r\n");
  open("GET /echo HTTP/1.1\r\nHost: m\r\n\r\n");
  open("GET /_mock/wait?for=cancelled&timeout_ms=60000 HTTP/1.1\r\nHost: m\r\n\r\n");
  ASSERT_TRUE(testing_support::PollUntil([&] { return client->Stats()->requests >= 4; }));

  auto started = std::chrono::steady_clock::now();
  kill(process->pid, SIGTERM);
  int status = testing_support::WaitExit(process->pid, std::chrono::seconds(5));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  ASSERT_NE(status, -1) << "streamcheck mock still running 5 s after SIGTERM";
  process->pid = -1;
  std::cout << "streamcheck mock exited " << ms << " ms after SIGTERM\n";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST(MockProcessTest, BadConfigOnTheCommandLineExitsTwoNamingTheKey) {
  std::string err = (std::filesystem::temp_directory_path() / "mock-client-test-err").string();
  std::string command =
      std::string(STREAMCHECK_BIN) + " mock --port 0 --config '{\"rate_mib_s\": 1e-9}' 2>" + err;
  int status = std::system(command.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_THAT(testing_support::ReadFile(err),
              HasSubstr("mock config key \"rate_mib_s\" must be 0 or a number in 0.001..1e+06"));
  std::filesystem::remove(err);
}

}  // namespace
}  // namespace streamcheck::mocks
