#include "server/reference_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/sha256.h"
#include "harness/checks.h"
#include "harness/http_client.h"
#include "harness/ports.h"
#include "harness/raw_exchange.h"
#include "harness/target_process.h"
#include "mocks/content.h"
#include "mocks/mock_backend.h"
#include "tests/test_support.h"

namespace streamcheck::server {
namespace {

using testing_support::AllEvents;

using testing_support::FinishesWithin;

using harness::CheckResult;
using harness::HttpRequest;
using harness::HttpResponse;
using harness::Perform;
using mocks::kMiB;
using mocks::MockConfig;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr auto kBound = std::chrono::seconds(10);

MATCHER(Passes, "passes") {
  *result_listener << "message: \"" << arg.message << "\"";
  return arg.ok;
}

HttpRequest Get(const std::string& base, const std::string& path) {
  HttpRequest r;
  r.url = harness::JoinUrl(base, path);
  r.total_timeout = std::chrono::seconds(60);
  return r;
}

std::string ChatBody(const std::string& prompt, bool stream = true) {
  return json{
      {"model", "m"}, {"messages", {{{"role", "user"}, {"content", prompt}}}}, {"stream", stream}}
      .dump();
}

HttpRequest Chat(const std::string& base, const std::string& prompt,
                 const std::string& path = "/v1/chat/completions") {
  HttpRequest r = Get(base, path);
  r.method = "POST";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = ChatBody(prompt);
  r.parse_sse = true;
  return r;
}

class ReferenceServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartBoth({}, {}); }

  void StartBoth(MockConfig config, ServerOptions options) {
    server_.reset();
    mock_.reset();
    auto mock = mocks::MockBackend::Start(config);
    ASSERT_TRUE(mock.ok()) << mock.error();
    mock_ = std::move(*mock);
    // Serving: one answered request proves it.
    ASSERT_EQ(Perform(Get(mock_->url(), "/v1/health/ready")).status, 200);
    mock_->ResetStats();
    options.port = 0;
    if (options.backend_url.empty()) options.backend_url = mock_->url();
    StartServer(options);
  }

  void StartServer(const ServerOptions& options) {
    server_.reset();
    auto server = ReferenceServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.error();
    server_ = std::move(*server);
    ASSERT_EQ(Perform(Get(server_->url(), "/ping")).status, 200);
  }

  std::string url() const { return server_->url(); }

  std::unique_ptr<mocks::MockBackend> mock_;
  std::unique_ptr<ReferenceServer> server_;
};

TEST_F(ReferenceServerTest, PingAndRoot) {
  EXPECT_GT(server_->port(), 0);
  EXPECT_EQ(url(), "http://127.0.0.1:" + std::to_string(server_->port()));
  for (const char* path : {"/", "/ping"}) {
    auto r = Perform(Get(url(), path));
    EXPECT_EQ(r.status, 200);
    EXPECT_THAT(r.body, HasSubstr("OK"));
  }
}

TEST_F(ReferenceServerTest, StartRejectsANonHttpBackend) {
  ServerOptions options;
  options.backend_url = "https://example.com";
  auto server = ReferenceServer::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_THAT(server.error(), HasSubstr("http://"));
}

TEST_F(ReferenceServerTest, ChatStreamIsRelayed) {
  auto r = Perform(Chat(url(), "relay me"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_THAT(harness::CheckStatus(r, 200), Passes());
  EXPECT_THAT(harness::CheckMediaType(r, "text/event-stream"), Passes());
  EXPECT_THAT(harness::CheckFirstLineIsData(r), Passes());
  EXPECT_THAT(harness::CheckSseGrammar(r), Passes());
  EXPECT_THAT(harness::CheckChunkSchema(r), Passes());
  EXPECT_THAT(harness::CheckRoleFirst(r), Passes());
  EXPECT_THAT(harness::CheckFinishReason(r), Passes());
  EXPECT_THAT(harness::CheckDoneTerminator(r), Passes());
  EXPECT_THAT(harness::CheckContentParity(r, mocks::CompletionText(42, "relay me", 16)), Passes());
  EXPECT_THAT(harness::CheckNoCacheHeaders(r), Passes());
  EXPECT_EQ(r.Header("Cache-Control").value_or(""), "no-cache");
  EXPECT_EQ(r.Header("X-Accel-Buffering").value_or(""), "no");
  EXPECT_EQ(AllEvents(r).back().event.data, "[DONE]");
  EXPECT_EQ(mock_->stats().chat_requests, 1u);
}

TEST_F(ReferenceServerTest, BothChatPathsGiveTheSameStream) {
  auto a = Perform(Chat(url(), "paths", "/v1/chat/completions"));
  auto b = Perform(Chat(url(), "paths", "/chat/completions"));
  EXPECT_THAT(harness::CheckSameStream(a, b), Passes());
  EXPECT_EQ(harness::StreamedText(b), mocks::CompletionText(42, "paths", 16));
}

TEST_F(ReferenceServerTest, ChatStreamOfEverySseVariantIsNormalised) {
  for (auto variant : {mocks::SseVariant::kCrlf, mocks::SseVariant::kCr, mocks::SseVariant::kBom,
                       mocks::SseVariant::kComments, mocks::SseVariant::kBytePerWrite}) {
    MockConfig config;
    config.sse_variant = variant;
    mock_->SetConfig(config);
    auto r = Perform(Chat(url(), "variant"));
    SCOPED_TRACE(mocks::ToJson(config)["sse_variant"].dump());
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_THAT(harness::CheckSseGrammar(r), Passes());
    EXPECT_THAT(harness::CheckDoneTerminator(r), Passes());
    EXPECT_EQ(harness::StreamedText(r), mocks::CompletionText(42, "variant", 16));
  }
}

TEST_F(ReferenceServerTest, ChatNonStreamAndUsageAreRelayed) {
  HttpRequest whole = Chat(url(), "whole");
  whole.body = ChatBody("whole", /*stream=*/false);
  whole.parse_sse = false;
  auto r = Perform(whole);
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(harness::CheckCompletionContent(r, mocks::CompletionText(42, "whole", 16)), Passes());

  HttpRequest usage = Chat(url(), "usage");
  usage.body = json{{"model", "m"},
                    {"messages", {{{"role", "user"}, {"content", "usage"}}}},
                    {"stream", true},
                    {"stream_options", {{"include_usage", true}}}}
                   .dump();
  auto u = Perform(usage);
  EXPECT_THAT(harness::CheckUsage(u, 16), Passes());
}

TEST_F(ReferenceServerTest, ChatEchoesXRequestId) {
  HttpRequest r = Chat(url(), "id");
  r.headers.emplace_back("X-Request-ID", "req-123");
  auto got = Perform(r);
  EXPECT_EQ(got.Header("x-request-id").value_or(""), "req-123");
}

TEST_F(ReferenceServerTest, ChatBadJsonIs400Json) {
  HttpRequest r = Chat(url(), "x");
  r.body = "{\"messages\": [";
  auto got = Perform(r);
  EXPECT_THAT(harness::CheckClientErrorJson(got), Passes());
  EXPECT_EQ(got.status, 400);
  EXPECT_TRUE(AllEvents(got).empty());
  EXPECT_EQ(mock_->stats().chat_requests, 0u) << "a bad request must not reach the backend";
}

TEST_F(ReferenceServerTest, ChatMissingMessagesIs400) {
  HttpRequest r = Chat(url(), "x");
  r.body = R"({"model": "m", "stream": true})";
  auto got = Perform(r);
  EXPECT_EQ(got.status, 400);
  EXPECT_THAT(harness::CheckClientErrorJson(got), Passes());
  EXPECT_THAT(got.body, HasSubstr("messages"));
  r.body = R"({"messages": "hi", "stream": true})";
  EXPECT_EQ(Perform(r).status, 400);
}

TEST_F(ReferenceServerTest, BackendFailureMidStreamGivesAnErrorEventAndNoDone) {
  MockConfig config;
  config.fail_after_tokens = 4;
  mock_->SetConfig(config);
  HttpRequest req = Chat(url(), "fail");
  req.total_timeout = std::chrono::seconds(30);
  auto r = Perform(req);
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.curl_code, 28) << "the stream hung";
  EXPECT_THAT(harness::CheckEndedWithoutDone(r), Passes());
  EXPECT_THAT(harness::CheckErrorEvent(r), Passes());
  EXPECT_THAT(harness::CheckSseGrammar(r), Passes()) << "the error event ends on a boundary";
  EXPECT_EQ(harness::StreamedText(r), mocks::CompletionText(42, "fail", 4));
}

TEST_F(ReferenceServerTest, BackendErrorEventIsRelayedOnce) {
  MockConfig config;
  config.error_event_after_tokens = 2;
  mock_->SetConfig(config);
  auto r = Perform(Chat(url(), "error"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_THAT(harness::CheckEndedWithoutDone(r), Passes());
  EXPECT_THAT(harness::CheckErrorEvent(r), Passes());
  int errors = 0;
  for (const auto& e : AllEvents(r)) {
    auto j = json::parse(e.event.data, nullptr, false);
    errors += j.is_object() && j.contains("error");
  }
  EXPECT_EQ(errors, 1);
}

TEST_F(ReferenceServerTest, ChatStreamsBeforeTheGateOpens) {
  MockConfig config;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 60'000;
  mock_->SetConfig(config);
  std::string opened_by_then = "unset";
  harness::Observers observers;
  observers.on_event = [&](const harness::ReceivedEvent& e) {
    if (opened_by_then == "unset" && !harness::DeltaContent(e.event.data).empty()) {
      opened_by_then = mock_->stats().gate_opened_by;
      mock_->OpenGate();
    }
    return true;
  };
  auto r = Perform(Chat(url(), "gate"), observers);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(opened_by_then, "") << "the first token arrived only after the gate opened";
  EXPECT_EQ(mock_->stats().gate_opened_by, "harness");
  EXPECT_EQ(harness::StreamedText(r), mocks::CompletionText(42, "gate", 16));
}

TEST_F(ReferenceServerTest, DirectLargeFileExactBytesAndSha) {
  auto r = Perform(Get(url(), "/directAccess/large-file?size_mb=32"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(harness::CheckByteCount(r, 32 * kMiB), Passes());
  EXPECT_THAT(harness::CheckSha256(r, mocks::BodySha256Hex(42, 32 * kMiB)), Passes());
  EXPECT_THAT(harness::CheckResponseFraming(r), Passes());
  EXPECT_EQ(r.Header("X-Mock-Size").value_or(""), std::to_string(32 * kMiB))
      << "end-to-end response headers are passed through";
  EXPECT_THAT(r.Header("Content-Type").value_or(""), StartsWith("application/octet-stream"));
}

TEST_F(ReferenceServerTest, DirectKeepsTheBackendsContentLength) {
  MockConfig config;
  config.framing = mocks::BodyFraming::kLength;
  mock_->SetConfig(config);
  auto r = Perform(Get(url(), "/directAccess/large-file?size_mb=4"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.Header("Content-Length").value_or(""), std::to_string(4 * kMiB));
  EXPECT_FALSE(r.Header("Transfer-Encoding"));
  EXPECT_THAT(harness::CheckResponseFraming(r), Passes());
  EXPECT_THAT(harness::CheckSha256(r, mocks::BodySha256Hex(42, 4 * kMiB)), Passes());
}

TEST_F(ReferenceServerTest, DirectStreamsBeforeTheGateOpens) {
  MockConfig config;
  config.gate_after_bytes = kMiB;
  config.gate_timeout_ms = 60'000;
  mock_->SetConfig(config);
  std::string opened_by_then = "unset";
  std::uint64_t bytes_then = 0;
  harness::Observers observers;
  observers.on_bytes = [&](std::uint64_t total, double) {
    if (opened_by_then == "unset") {
      opened_by_then = mock_->stats().gate_opened_by;
      bytes_then = total;
      mock_->OpenGate();
    }
    return true;
  };
  auto r = Perform(Get(url(), "/directAccess/large-file?size_mb=4"), observers);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(opened_by_then, "") << "no byte arrived before the gate opened: the proxy buffers";
  EXPECT_GT(bytes_then, 0u);
  EXPECT_LE(bytes_then, kMiB);
  EXPECT_THAT(harness::CheckSha256(r, mocks::BodySha256Hex(42, 4 * kMiB)), Passes());
}

TEST_F(ReferenceServerTest, DirectSsePassthroughIsByteForByte) {
  HttpRequest r = Chat(url(), "passthrough", "/directAccess/v1/chat/completions");
  auto got = Perform(r);
  ASSERT_TRUE(got.complete) << got.error;
  EXPECT_EQ(got.sha256, mock_->stats().last_stream_sha256);
  EXPECT_EQ(harness::StreamedText(got), mocks::CompletionText(42, "passthrough", 16));
}

TEST_F(ReferenceServerTest, DirectStatusPassthrough) {
  for (int code : {404, 429, 500, 503}) {
    SCOPED_TRACE(code);
    const std::string path = "/status/" + std::to_string(code);
    auto direct = Perform(Get(mock_->url(), path));
    ASSERT_EQ(direct.status, code);
    auto proxied = Perform(Get(url(), "/directAccess" + path));
    EXPECT_THAT(harness::CheckPassthrough(proxied, code, direct.body), Passes());
    EXPECT_THAT(harness::CheckResponseFraming(proxied), Passes());
  }
}

TEST_F(ReferenceServerTest, DirectQueryStringKeepsRepeatedKeys) {
  auto r = Perform(Get(url(), "/directAccess/echo?a=1&b=two&a=3&empty="));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(harness::CheckEchoQuery(r, {{"a", "1"}, {"a", "3"}, {"b", "two"}, {"empty", ""}}),
              Passes());
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_EQ(j["target"], "/echo?a=1&b=two&a=3&empty=");
}

TEST_F(ReferenceServerTest, DirectDropsHopByHopHeaders) {
  HttpRequest r = Get(url(), "/directAccess/echo");
  r.headers = {{"Connection", "X-Foo"},
               {"X-Foo", "named by Connection"},
               {"Keep-Alive", "timeout=5"},
               {"TE", "trailers"},
               {"Upgrade", "h2c"},
               {"Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"},
               {"Authorization", "Bearer end-to-end"},
               {"X-Custom", "kept"}};
  auto got = Perform(r);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_THAT(harness::CheckEchoHeaders(
                  got, {{"Authorization", "Bearer end-to-end"}, {"X-Custom", "kept"}},
                  {"Connection", "X-Foo", "Keep-Alive", "TE", "Upgrade", "Proxy-Authorization"}),
              Passes());

  HttpRequest close = Get(url(), "/directAccess/echo");
  close.headers = {{"Connection", "close, X-Bar"}, {"X-Bar", "1"}, {"X-Custom", "kept"}};
  auto closed = Perform(close);
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_THAT(harness::CheckEchoHeaders(closed, {{"X-Custom", "kept"}}, {"Connection", "X-Bar"}),
              Passes());
}

TEST_F(ReferenceServerTest, DirectMethodsReachTheBackendWithTheirBody) {
  for (const char* method : {"GET", "POST", "PUT", "DELETE", "PATCH"}) {
    SCOPED_TRACE(method);
    HttpRequest r = Get(url(), "/directAccess/echo/m");
    r.method = method;
    if (std::string(method) != "GET") {
      r.body = std::string("body for ") + method + std::string(70'000, '.');
      r.headers = {{"Content-Type", "application/octet-stream"}};
    }
    auto got = Perform(r);
    EXPECT_THAT(harness::CheckEcho(got, method, r.body.size(), Sha256::Of(r.body)), Passes());
  }
}

TEST_F(ReferenceServerTest, DirectLargeUploadReachesTheBackendIntact) {
  constexpr std::uint64_t kSize = 24 * kMiB + 3;
  HttpRequest r = Get(url(), "/directAccess/echo/upload");
  r.method = "PUT";
  r.upload_size = kSize;
  r.upload_fill = [](std::uint64_t offset, char* out, std::size_t n) {
    mocks::FillBytes(5, offset, out, n);
  };
  auto got = Perform(r);
  EXPECT_THAT(harness::CheckEcho(got, "PUT", kSize, mocks::BodySha256Hex(5, kSize)), Passes());
}

class ReferenceServerTruncateTest : public ReferenceServerTest,
                                    public ::testing::WithParamInterface<bool> {};

TEST_P(ReferenceServerTruncateTest, TruncationIsVisibleToTheClient) {
  MockConfig config;
  config.framing = GetParam() ? mocks::BodyFraming::kLength : mocks::BodyFraming::kChunked;
  config.truncate_after_bytes = 3 * kMiB / 2;
  mock_->SetConfig(config);
  auto r = Perform(Get(url(), "/directAccess/large-file?size_mb=4"));
  EXPECT_THAT(harness::CheckTruncationVisible(r), Passes());
  EXPECT_FALSE(r.complete) << "a clean end of a " << r.body_bytes << "-byte body";
  EXPECT_LT(r.body_bytes, 4 * kMiB);
  if (GetParam()) {
    EXPECT_EQ(r.Header("Content-Length").value_or(""), std::to_string(4 * kMiB));
  }
}

INSTANTIATE_TEST_SUITE_P(Framing, ReferenceServerTruncateTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "ContentLength" : "Chunked"; });

TEST_F(ReferenceServerTest, BackendResetIsVisibleToTheClient) {
  MockConfig config;
  config.reset_after_bytes = static_cast<long long>(kMiB);
  mock_->SetConfig(config);
  auto r = Perform(Get(url(), "/directAccess/large-file?size_mb=4"));
  EXPECT_THAT(harness::CheckTruncationVisible(r), Passes());
  EXPECT_LT(r.body_bytes, 4 * kMiB);
}

TEST_F(ReferenceServerTest, BackendDownIs502WithAJsonBody) {
  auto closed = harness::PickFreePort();
  ASSERT_TRUE(closed.ok()) << closed.error();
  ServerOptions options;
  options.backend_url = "http://127.0.0.1:" + std::to_string(*closed);
  StartServer(options);
  for (const char* path : {"/directAccess/large-file", "/directAccess/echo"}) {
    SCOPED_TRACE(path);
    HttpRequest r = Get(url(), path);
    r.total_timeout = std::chrono::seconds(10);
    auto got = Perform(r);
    EXPECT_THAT(harness::CheckServerError(got, 502, 5000), Passes());
    EXPECT_EQ(got.status, 502);
    EXPECT_TRUE(json::parse(got.body, nullptr, false).is_object()) << got.body;
  }
  auto chat = Perform(Chat(url(), "down"));
  EXPECT_EQ(chat.status, 502);
  EXPECT_TRUE(json::parse(chat.body, nullptr, false).is_object()) << chat.body;
}

TEST_F(ReferenceServerTest, SilentBackendIs504) {
  MockConfig config;
  config.headers_delay_ms = 20'000;
  ServerOptions options;
  options.backend_headers_timeout = std::chrono::milliseconds(300);
  StartBoth(config, options);
  HttpRequest r = Get(url(), "/directAccess/large-file");
  r.total_timeout = std::chrono::seconds(15);
  auto got = Perform(r);
  EXPECT_EQ(got.status, 504) << got.body;
  EXPECT_THAT(harness::CheckServerError(got, 504, 15'000), Passes());
  EXPECT_THAT(got.body, HasSubstr("timed out"));
}

TEST_F(ReferenceServerTest, PathsThatLeaveTheBackendAreRefused) {
  const std::string port = std::to_string(mock_->port());
  for (const std::string& target : std::vector<std::string>{
           "/directAccess/../echo", "/directAccess/%2e%2e/echo", "/directAccess/%2E%2E/echo",
           "/directAccess/echo/../../echo", "/directAccess/./echo", "/directAccess//evil/echo",
           "/directAccess//127.0.0.1:" + port + "/echo",
           "/directAccess/http://127.0.0.1:" + port + "/echo", "/directAccess/..%2fecho",
           "/directAccess/a\\..\\echo"}) {
    SCOPED_TRACE(target);
    HttpRequest r = Get(url(), "/");
    r.request_target = target;
    auto got = Perform(r);
    EXPECT_EQ(got.status, 400) << got.body;
    EXPECT_TRUE(json::parse(got.body, nullptr, false).is_object()) << got.body;
  }
  EXPECT_EQ(mock_->stats().requests, 0u)
      << "a refused path reached the backend: " << mock_->stats().last_request.dump();

  // Encoded characters that stay inside the backend are fine.
  HttpRequest fine = Get(url(), "/");
  fine.request_target = "/directAccess/echo/a%20b";
  auto ok = Perform(fine);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(json::parse(ok.body, nullptr, false)["path"], "/echo/a b");
}

TEST_F(ReferenceServerTest, ClientLeavingMidBodyCancelsTheBackendTransfer) {
  HttpRequest r = Get(url(), "/directAccess/large-file?size_mb=1024");
  r.abort_after_bytes = kMiB;
  auto got = Perform(r);
  EXPECT_TRUE(got.aborted_by_client);
  ASSERT_TRUE(mock_->WaitCancelled(std::chrono::seconds(5)))
      << "the backend transfer went on after the client left";
  auto stats = mock_->stats();
  ASSERT_TRUE(stats.last_cancellation);
  EXPECT_EQ(stats.last_cancellation->path, "/large-file");
  EXPECT_LT(stats.last_cancellation->bytes_sent, 1024 * kMiB);
}

TEST_F(ReferenceServerTest, ChatClientLeavingCancelsTheBackendStream) {
  MockConfig config;
  config.token_count = 2000;
  config.token_delay_ms = 1;
  mock_->SetConfig(config);
  HttpRequest r = Chat(url(), "leave");
  r.abort_after_first_event = true;
  auto got = Perform(r);
  EXPECT_TRUE(got.aborted_by_client);
  EXPECT_TRUE(mock_->WaitCancelled(std::chrono::seconds(5)))
      << "the backend stream went on after the client left";
}

TEST_F(ReferenceServerTest, RefusesContentLengthWithTransferEncoding) {
  auto reply =
      harness::RawExchange("127.0.0.1", server_->port(),
                           "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                           kBound);
  ASSERT_TRUE(reply.ok()) << reply.error();
  EXPECT_EQ(reply->status, 400) << reply->head;
  EXPECT_EQ(mock_->stats().requests, 0u);
  EXPECT_EQ(Perform(Get(url(), "/ping")).status, 200) << "the server keeps serving";
}

TEST_F(ReferenceServerTest, ConcurrentStreamsEachGetTheirOwnText) {
  std::vector<HttpRequest> requests;
  for (int i = 0; i < 24; ++i) requests.push_back(Chat(url(), "concurrent " + std::to_string(i)));
  auto responses = harness::PerformAll(requests);
  for (int i = 0; i < 24; ++i) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(responses[i].complete) << responses[i].error;
    EXPECT_EQ(harness::StreamedText(responses[i]),
              mocks::CompletionText(42, "concurrent " + std::to_string(i), 16));
  }
}

// Regression: Stop() right after Start() used to hang (cpp-httplib 0.11's
// stop() is a no-op until the accept loop runs; see mock_backend_test).
TEST(ReferenceServerLifecycleTest, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    auto started = std::make_shared<std::atomic<bool>>(false);
    bool finished = FinishesWithin(
        [started] {
          ServerOptions options;
          options.backend_url = "http://127.0.0.1:9";
          auto server = ReferenceServer::Start(options);
          *started = server.ok();
          if (server.ok()) (*server)->Stop();
        },
        std::chrono::seconds(5));
    ASSERT_TRUE(finished) << "Stop() right after Start() did not return within 5 s (round " << i
                          << ")";
    ASSERT_TRUE(*started);
  }
}

TEST(ReferenceServerLifecycleTest, WaitReturnsOnceStopped) {
  ServerOptions options;
  options.backend_url = "http://127.0.0.1:9";
  auto server = ReferenceServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.error();
  ASSERT_EQ(Perform(Get((*server)->url(), "/ping")).status, 200);
  ReferenceServer* raw = server->get();
  auto waited = std::make_shared<std::promise<void>>();
  auto done = waited->get_future();
  std::thread([raw, waited] {
    raw->Wait();
    waited->set_value();
  }).detach();
  raw->Stop();
  bool returned = done.wait_for(kBound) == std::future_status::ready;
  EXPECT_TRUE(returned) << "Wait() did not return after Stop()";
  if (!returned) (void)server->release();  // the waiter still uses it
}

}  // namespace
}  // namespace streamcheck::server
