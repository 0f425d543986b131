#include "mocks/mock_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "common/sha256.h"
#include "common/text.h"
#include "harness/checks.h"
#include "harness/http_client.h"
#include "mocks/content.h"
#include "tests/test_support.h"

namespace streamcheck::mocks {
namespace {

using streamcheck::Excerpt;
using testing_support::AllEvents;

using testing_support::FinishesWithin;

using harness::HttpRequest;
using harness::HttpResponse;
using harness::JoinUrl;
using harness::Perform;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

constexpr auto kBound = std::chrono::seconds(10);

std::unique_ptr<MockBackend> StartMock(MockConfig config = {}) {
  auto started = MockBackend::Start(config);
  EXPECT_TRUE(started.ok()) << started.error();
  if (!started.ok()) return nullptr;
  auto mock = std::move(*started);
  // Serving: one answered request proves it.
  HttpRequest ready;
  ready.url = mock->url() + "/v1/health/ready";
  ready.total_timeout = std::chrono::seconds(30);
  EXPECT_EQ(Perform(ready).status, 200);
  mock->ResetStats();
  return mock;
}

HttpRequest Get(const std::string& base, const std::string& path) {
  HttpRequest r;
  r.url = JoinUrl(base, path);
  r.total_timeout = std::chrono::seconds(30);
  return r;
}

std::string ChatBody(const std::string& prompt, bool stream, json extra = json::object()) {
  json body = {{"model", "mock-model"},
               {"messages", {{{"role", "user"}, {"content", prompt}}}},
               {"stream", stream}};
  for (const auto& [k, v] : extra.items()) body[k] = v;
  return body.dump();
}

HttpRequest Chat(const std::string& base, const std::string& prompt, bool stream = true,
                 json extra = json::object()) {
  HttpRequest r;
  r.method = "POST";
  r.url = JoinUrl(base, "/v1/chat/completions");
  r.headers = {{"Content-Type", "application/json"}};
  r.body = ChatBody(prompt, stream, std::move(extra));
  r.parse_sse = stream;
  r.total_timeout = std::chrono::seconds(30);
  return r;
}

HttpRequest PutConfig(const std::string& base, const std::string& body) {
  HttpRequest r = Get(base, "/_mock/config");
  r.method = "PUT";
  r.headers = {{"Content-Type", "application/json"}};
  r.body = body;
  return r;
}

json Data(const HttpResponse& r, std::size_t i) {
  return json::parse(AllEvents(r).at(i).event.data, nullptr, false);
}

bool HasDone(const HttpResponse& r) {
  for (const auto& e : AllEvents(r)) {
    if (e.event.data == "[DONE]") return true;
  }
  return false;
}

TEST(MockBackendTest, StartsOnAFreePortAndAnswersHealth) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  EXPECT_GT(mock->port(), 0);
  EXPECT_EQ(mock->url(), "http://127.0.0.1:" + std::to_string(mock->port()));
  auto r = Perform(Get(mock->url(), "/v1/health/ready"));
  EXPECT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  auto models = Perform(Get(mock->url(), "/v1/models"));
  EXPECT_EQ(models.status, 200);
  EXPECT_THAT(models.body, HasSubstr("mock-model"));
}

TEST(MockBackendTest, ChatStreamIsTheOpenAiChunkSequence) {
  MockConfig config;
  config.seed = 1234;
  config.token_count = 12;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "tell me a story"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(r.Header("content-type").value_or(""), StartsWith("text/event-stream"));
  EXPECT_TRUE(r.stream.leftover.clean());

  auto tokens = CompletionTokens(1234, "tell me a story", 12);
  // role, 12 tokens, finish, [DONE]
  ASSERT_EQ(AllEvents(r).size(), tokens.size() + 3);
  auto first = Data(r, 0);
  ASSERT_TRUE(first.is_object()) << AllEvents(r)[0].event.data;
  EXPECT_EQ(first["object"], "chat.completion.chunk");
  EXPECT_EQ(first["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(first["choices"][0]["finish_reason"].is_null());
  const std::string id = first["id"];
  EXPECT_THAT(id, Not(IsEmpty()));
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    auto chunk = Data(r, i + 1);
    SCOPED_TRACE(AllEvents(r)[i + 1].event.data);
    EXPECT_EQ(chunk["id"], id);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_TRUE(chunk["created"].is_number_integer());
    EXPECT_EQ(chunk["choices"][0]["index"], 0);
    EXPECT_EQ(chunk["choices"][0]["delta"]["content"], tokens[i]);
    EXPECT_TRUE(chunk["choices"][0]["finish_reason"].is_null());
  }
  auto finish = Data(r, tokens.size() + 1);
  EXPECT_EQ(finish["id"], id);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(AllEvents(r).back().event.data, "[DONE]");
  EXPECT_EQ(harness::StreamedText(r), CompletionText(1234, "tell me a story", 12));

  auto stats = mock->stats();
  EXPECT_EQ(stats.chat_requests, 1u);
  EXPECT_EQ(stats.transfers_started, 1u);
  EXPECT_EQ(stats.transfers_completed, 1u);
  EXPECT_EQ(stats.last_stream_sha256, r.sha256);
  EXPECT_EQ(stats.last_stream_bytes, r.body_bytes);
}

TEST(MockBackendTest, ChatNonStreamGivesTheSameText) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "non-stream please", /*stream=*/false));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  auto j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["object"], "chat.completion");
  EXPECT_EQ(j["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(j["choices"][0]["message"]["content"], CompletionText(42, "non-stream please", 16));
  EXPECT_EQ(j["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(j["usage"]["completion_tokens"], 16);
}

TEST(MockBackendTest, MaxTokensEndsWithLength) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "short", true, {{"max_tokens", 5}}));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(harness::StreamedText(r), CompletionText(42, "short", 5));
  ASSERT_GE(AllEvents(r).size(), 2u);
  auto finish = Data(r, AllEvents(r).size() - 2);
  EXPECT_EQ(finish["choices"][0]["finish_reason"], "length");
  EXPECT_TRUE(harness::CheckFinishReason(r).ok) << harness::CheckFinishReason(r).message;

  auto whole = Perform(Chat(mock->url(), "short", false, {{"max_tokens", 5}}));
  auto j = json::parse(whole.body, nullptr, false);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(j["choices"][0]["message"]["content"], CompletionText(42, "short", 5));
}

TEST(MockBackendTest, IncludeUsageAddsAUsageChunkBeforeDone) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto r =
      Perform(Chat(mock->url(), "usage", true, {{"stream_options", {{"include_usage", true}}}}));
  ASSERT_TRUE(r.complete) << r.error;
  ASSERT_GE(AllEvents(r).size(), 3u);
  EXPECT_EQ(AllEvents(r).back().event.data, "[DONE]");
  auto usage = Data(r, AllEvents(r).size() - 2);
  EXPECT_TRUE(usage["choices"].is_array() && usage["choices"].empty()) << usage.dump();
  EXPECT_EQ(usage["usage"]["completion_tokens"], 16);
  EXPECT_TRUE(harness::CheckUsage(r, 16).ok) << harness::CheckUsage(r, 16).message;
  // Without include_usage there is no usage chunk.
  auto plain = Perform(Chat(mock->url(), "usage"));
  EXPECT_FALSE(harness::CheckUsage(plain, 16).ok);
}

TEST(MockBackendTest, ChatRejectsBadRequests) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  HttpRequest bad = Chat(mock->url(), "x");
  bad.body = "{not json";
  auto r = Perform(bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("JSON"));
  bad.body = R"({"stream":true})";
  r = Perform(bad);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("messages"));
}

TEST(MockBackendTest, LargeFileHasExactBytesAndSha) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=3"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body_bytes, 3 * kMiB);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, 3 * kMiB));
  EXPECT_EQ(r.Header("X-Mock-Size").value_or(""), std::to_string(3 * kMiB));
  EXPECT_EQ(r.Header("Transfer-Encoding").value_or(""), "chunked");
  EXPECT_FALSE(r.Header("Content-Length"));
  auto stats = mock->stats();
  EXPECT_EQ(stats.transfers_completed, 1u);
  EXPECT_EQ(stats.body_bytes_sent, 3 * kMiB);

  // Fractional sizes and the configured default.
  auto half = Perform(Get(mock->url(), "/large-file?size_mb=0.5"));
  EXPECT_EQ(half.body_bytes, kMiB / 2);
  EXPECT_EQ(half.sha256, BodySha256Hex(42, kMiB / 2));
  auto dflt = Perform(Get(mock->url(), "/large-file"));
  EXPECT_EQ(dflt.body_bytes, kMiB);

  auto bad = Perform(Get(mock->url(), "/large-file?size_mb=lots"));
  EXPECT_EQ(bad.status, 400);
}

TEST(MockBackendTest, LargeFileUsesTheSeedAndChunkSize) {
  MockConfig config;
  config.seed = 777;
  config.chunk_size = 1000;  // not a divisor of the size: a short last chunk
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=0.25"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body_bytes, kMiB / 4);
  EXPECT_EQ(r.sha256, BodySha256Hex(777, kMiB / 4));
}

TEST(MockBackendTest, ContentLengthModeSendsContentLength) {
  MockConfig config;
  config.content_length = true;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=2"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.Header("Content-Length").value_or(""), std::to_string(2 * kMiB));
  EXPECT_FALSE(r.Header("Transfer-Encoding"));
  EXPECT_EQ(r.body_bytes, 2 * kMiB);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, 2 * kMiB));
  EXPECT_TRUE(harness::CheckResponseFraming(r).ok) << harness::CheckResponseFraming(r).message;
}

TEST(MockBackendTest, ConfigOverHttp) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto ok =
      Perform(PutConfig(mock->url(), R"({"seed": 9, "token_count": 3, "sse_variant": "crlf"})"));
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(mock->config().seed, 9u);
  EXPECT_EQ(mock->config().token_count, 3);
  EXPECT_EQ(mock->config().sse_variant, SseVariant::kCrlf);
  auto got = Perform(Get(mock->url(), "/_mock/config"));
  auto j = json::parse(got.body, nullptr, false);
  EXPECT_EQ(j["seed"], 9);
  EXPECT_EQ(j["sse_variant"], "crlf");

  auto unknown = Perform(PutConfig(mock->url(), R"({"seed": 1, "no_such_key": 2})"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_THAT(unknown.body, HasSubstr("no_such_key"));
  auto variant = Perform(PutConfig(mock->url(), R"({"sse_variant": "smoke-signals"})"));
  EXPECT_EQ(variant.status, 400);
  EXPECT_THAT(variant.body, HasSubstr("smoke-signals"));
  auto type = Perform(PutConfig(mock->url(), R"({"token_count": "many"})"));
  EXPECT_EQ(type.status, 400);
  auto not_json = Perform(PutConfig(mock->url(), "seed=1"));
  EXPECT_EQ(not_json.status, 400);
  // Rejected configurations change nothing.
  EXPECT_EQ(mock->config().seed, 9u);
  EXPECT_EQ(mock->config().token_count, 3);
}

TEST(MockBackendTest, ConfigFromJsonRoundTripsAndValidates) {
  MockConfig c;
  c.seed = 5;
  c.size_mb = 2.5;
  c.sse_variant = SseVariant::kBytePerWrite;
  c.gate_after_bytes = 100;
  c.stall_ms = 7;
  auto back = ConfigFromJson(ToJson(c));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(ToJson(*back), ToJson(c));
  EXPECT_FALSE(ConfigFromJson(json::array()).ok());
  EXPECT_FALSE(ConfigFromJson({{"chunk_size", 0}}).ok());
  EXPECT_FALSE(ConfigFromJson({{"size_mb", -1}}).ok());
  EXPECT_FALSE(ConfigFromJson({{"token_count", -1}}).ok());
  auto unknown = ConfigFromJson({{"sedd", 1}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error(), HasSubstr("sedd"));
}

TEST(MockBackendTest, StatsOverHttpCountRequests) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  (void)Perform(Get(mock->url(), "/v1/models"));
  (void)Perform(Chat(mock->url(), "a"));
  (void)Perform(Chat(mock->url(), "b", false));
  (void)Perform(Get(mock->url(), "/large-file?size_mb=0.1"));
  auto r = Perform(Get(mock->url(), "/_mock/stats"));
  ASSERT_EQ(r.status, 200);
  auto j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["requests"], 4);
  EXPECT_EQ(j["chat_requests"], 2);
  EXPECT_EQ(j["transfers_started"], 2);  // the chat stream and the large file
  EXPECT_EQ(j["transfers_completed"], 2);
  EXPECT_EQ(j["transfers_cancelled"], 0);
  EXPECT_EQ(j["last_request"]["path"], "/large-file");

  HttpRequest reset = Get(mock->url(), "/_mock/stats/reset");
  reset.method = "POST";
  EXPECT_EQ(Perform(reset).status, 200);
  EXPECT_EQ(mock->stats().requests, 0u);
  EXPECT_EQ(mock->stats().transfers_started, 0u);
}

TEST(MockBackendTest, GateAfterTokensHoldsUntilOpened) {
  MockConfig config;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 60'000;  // only the harness opens it here
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  bool saw_first_token = false;
  std::string opened_by_then = "unset";
  bool reached_then = false;
  harness::Observers observers;
  observers.on_event = [&](const harness::ReceivedEvent& e) {
    if (!saw_first_token && !harness::DeltaContent(e.event.data).empty()) {
      saw_first_token = true;
      // The first token is here and the stream is held: nobody opened the gate.
      reached_then = mock->WaitGateReached(kBound);
      opened_by_then = mock->stats().gate_opened_by;
      mock->OpenGate();
    }
    return true;
  };
  auto r = Perform(Chat(mock->url(), "gated"), observers);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_TRUE(saw_first_token);
  EXPECT_TRUE(reached_then);
  EXPECT_EQ(opened_by_then, "");
  EXPECT_EQ(mock->stats().gate_opened_by, "harness");
  EXPECT_EQ(harness::StreamedText(r), CompletionText(42, "gated", 16));
  EXPECT_EQ(AllEvents(r).back().event.data, "[DONE]");
}

TEST(MockBackendTest, GateAfterBytesHoldsUntilOpened) {
  MockConfig config;
  config.gate_after_bytes = 256 * 1024;
  config.gate_timeout_ms = 60'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  std::uint64_t bytes_when_opened = 0;
  std::string opened_by_then = "unset";
  bool reached_then = false;
  harness::Observers observers;
  observers.on_bytes = [&](std::uint64_t total, double) {
    if (opened_by_then == "unset") {
      reached_then = mock->WaitGateReached(kBound);
      opened_by_then = mock->stats().gate_opened_by;
      bytes_when_opened = total;
      mock->OpenGate();
    }
    return true;
  };
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=1"), observers);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_TRUE(reached_then);
  EXPECT_EQ(opened_by_then, "");
  EXPECT_GT(bytes_when_opened, 0u);
  EXPECT_LE(bytes_when_opened, 256u * 1024);
  EXPECT_EQ(mock->stats().gate_opened_by, "harness");
  EXPECT_EQ(r.body_bytes, kMiB);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, kMiB));
}

TEST(MockBackendTest, GateOpensOverHttp) {
  MockConfig config;
  config.gate_after_bytes = 1024;
  config.gate_timeout_ms = 60'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  const std::string base = mock->url();
  harness::Observers observers;
  bool opened = false;
  observers.on_bytes = [&](std::uint64_t, double) {
    if (!opened) {
      opened = true;
      EXPECT_TRUE(mock->WaitGateReached(kBound));
      HttpRequest open = Get(base, "/_mock/gate/open");
      open.method = "POST";
      EXPECT_EQ(Perform(open).status, 200);
    }
    return true;
  };
  auto r = Perform(Get(base, "/large-file?size_mb=0.1"), observers);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(mock->stats().gate_opened_by, "harness");
}

TEST(MockBackendTest, GateTimeoutOpensItAsTimeout) {
  MockConfig config;
  config.gate_after_tokens = 2;
  config.gate_timeout_ms = 100;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "nobody opens"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(harness::StreamedText(r), CompletionText(42, "nobody opens", 16));
  auto stats = mock->stats();
  EXPECT_TRUE(stats.gate_reached);
  EXPECT_EQ(stats.gate_opened_by, "timeout");
}

TEST(MockBackendTest, SetConfigRearmsTheGate) {
  MockConfig config;
  config.gate_after_bytes = 10;
  config.gate_timeout_ms = 100;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  mock->OpenGate();
  EXPECT_EQ(mock->stats().gate_opened_by, "harness");
  mock->SetConfig(config);
  EXPECT_EQ(mock->stats().gate_opened_by, "");
  EXPECT_FALSE(mock->stats().gate_reached);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=0.01"));
  EXPECT_TRUE(r.complete) << r.error;
  EXPECT_EQ(mock->stats().gate_opened_by, "timeout");
}

TEST(MockBackendTest, FailAfterTokensCutsTheStream) {
  MockConfig config;
  config.fail_after_tokens = 3;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "fail"));
  EXPECT_FALSE(r.complete) << "a cut stream must not end cleanly";
  EXPECT_EQ(r.status, 200);
  EXPECT_FALSE(HasDone(r));
  EXPECT_EQ(harness::StreamedText(r), CompletionText(42, "fail", 3));
  EXPECT_EQ(mock->stats().transfers_cancelled, 0u) << "a deliberate cut is not a cancellation";
}

TEST(MockBackendTest, ErrorEventAfterTokens) {
  MockConfig config;
  config.error_event_after_tokens = 2;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "error"));
  EXPECT_TRUE(r.complete) << r.error;
  EXPECT_FALSE(HasDone(r));
  EXPECT_EQ(harness::StreamedText(r), CompletionText(42, "error", 2));
  ASSERT_FALSE(AllEvents(r).empty());
  auto last = Data(r, AllEvents(r).size() - 1);
  EXPECT_TRUE(last.contains("error")) << last.dump();
  EXPECT_TRUE(harness::CheckErrorEvent(r).ok);
}

class MockTruncateTest : public ::testing::TestWithParam<bool> {};

TEST_P(MockTruncateTest, TruncateAfterBytesIsAnIncompleteTransfer) {
  MockConfig config;
  config.content_length = GetParam();
  config.truncate_after_bytes = 100'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=1"));
  EXPECT_FALSE(r.complete) << "the client saw a clean end of a truncated body";
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body_bytes, 100'000u);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, 100'000));
  EXPECT_EQ(bool(r.Header("Content-Length")), GetParam());
  EXPECT_TRUE(harness::CheckTruncationVisible(r).ok);
  EXPECT_EQ(mock->stats().transfers_cancelled, 0u);
}

INSTANTIATE_TEST_SUITE_P(Framing, MockTruncateTest, ::testing::Bool(),
                         [](const auto& p) { return p.param ? "ContentLength" : "Chunked"; });

TEST(MockBackendTest, ResetAfterBytesIsAnIncompleteTransfer) {
  MockConfig config;
  config.reset_after_bytes = 200'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=1"));
  EXPECT_FALSE(r.complete) << "the client saw a clean end of a reset body";
  EXPECT_EQ(r.status, 200);
  EXPECT_LE(r.body_bytes, 200'000u);  // an RST may discard what was in flight
  EXPECT_TRUE(harness::CheckTruncationVisible(r).ok);
  EXPECT_EQ(mock->stats().transfers_cancelled, 0u) << "a deliberate reset is not a cancellation";
}

TEST(MockBackendTest, StallAfterBytesStillCompletesIntact) {
  MockConfig config;
  config.stall_after_bytes = 300'000;
  config.stall_ms = 200;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=1"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body_bytes, kMiB);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, kMiB));
}

TEST(MockBackendTest, HeadersDelayHoldsTheHeaders) {
  MockConfig config;
  config.headers_delay_ms = 300;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=0.01"));
  ASSERT_TRUE(r.complete) << r.error;
  // A lower bound only: a loaded machine makes it later, never earlier.
  EXPECT_GE(r.t_headers_ms, 290);
  EXPECT_EQ(r.body_bytes, std::uint64_t(0.01 * kMiB));

  auto chat = Perform(Chat(mock->url(), "late"));
  ASSERT_TRUE(chat.complete) << chat.error;
  EXPECT_GE(chat.t_headers_ms, 290);
  EXPECT_EQ(harness::StreamedText(chat), CompletionText(42, "late", 16));
}

TEST(MockBackendTest, HeadersDelayTimesOutAClientThatWaitsLess) {
  MockConfig config;
  config.headers_delay_ms = 5'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  HttpRequest r = Get(mock->url(), "/large-file?size_mb=0.01");
  r.total_timeout = std::chrono::milliseconds(200);
  auto got = Perform(r);
  EXPECT_FALSE(got.complete);
  EXPECT_EQ(got.curl_code, 28);  // CURLE_OPERATION_TIMEDOUT
  EXPECT_EQ(got.status, 0);
  // Stopping cuts the pause short (the destructor must not wait 5 s).
}

struct VariantCase {
  SseVariant variant;
  const char* name;
};

void PrintTo(const VariantCase& c, std::ostream* os) { *os << c.name; }

class MockSseVariantTest : public ::testing::TestWithParam<VariantCase> {};

TEST_P(MockSseVariantTest, ParsesToTheSameText) {
  MockConfig config;
  config.sse_variant = GetParam().variant;
  config.token_count = 9;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "variants"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_TRUE(r.stream.leftover.clean()) << Excerpt(r.stream.leftover.bytes);
  EXPECT_EQ(harness::StreamedText(r), CompletionText(42, "variants", 9));
  EXPECT_TRUE(harness::CheckChunkSchema(r).ok) << harness::CheckChunkSchema(r).message;
  EXPECT_TRUE(harness::CheckFirstLineIsData(r).ok) << harness::CheckFirstLineIsData(r).message;
  EXPECT_EQ(HasDone(r), GetParam().variant != SseVariant::kNoDone);
  EXPECT_EQ(mock->stats().last_stream_sha256, r.sha256);
  const auto& s = r.stream.stats;
  switch (GetParam().variant) {
    case SseVariant::kCrlf:
      EXPECT_GT(s.crlf_endings, 0u);
      EXPECT_EQ(s.lf_endings + s.cr_endings, 0u);
      break;
    case SseVariant::kCr:
      EXPECT_GT(s.cr_endings, 0u);
      EXPECT_EQ(s.lf_endings + s.crlf_endings, 0u);
      break;
    case SseVariant::kBom:
      EXPECT_TRUE(s.bom_stripped);
      EXPECT_EQ(r.body.substr(0, 3), "\xEF\xBB\xBF");
      break;
    case SseVariant::kComments:
      EXPECT_GT(s.comment_lines, 0u);
      break;
    default:
      EXPECT_GT(s.lf_endings, 0u);
      EXPECT_EQ(s.crlf_endings + s.cr_endings, 0u);
      EXPECT_EQ(s.comment_lines, 0u);
      break;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Variants, MockSseVariantTest,
    ::testing::Values(VariantCase{SseVariant::kStandard, "Standard"},
                      VariantCase{SseVariant::kCrlf, "Crlf"}, VariantCase{SseVariant::kCr, "Cr"},
                      VariantCase{SseVariant::kBom, "Bom"},
                      VariantCase{SseVariant::kComments, "Comments"},
                      VariantCase{SseVariant::kMultiTokenChunks, "MultiTokenChunks"},
                      VariantCase{SseVariant::kBytePerWrite, "BytePerWrite"},
                      VariantCase{SseVariant::kNoDone, "NoDone"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(MockBackendTest, ClientAbortIsCountedAsCancelled) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  HttpRequest r = Get(mock->url(), "/large-file?size_mb=256");
  r.abort_after_bytes = kMiB;
  auto got = Perform(r);
  EXPECT_TRUE(got.aborted_by_client);
  EXPECT_FALSE(got.complete);
  ASSERT_TRUE(mock->WaitCancelled(kBound));
  auto stats = mock->stats();
  EXPECT_EQ(stats.transfers_cancelled, 1u);
  ASSERT_TRUE(stats.last_cancellation);
  EXPECT_EQ(stats.last_cancellation->path, "/large-file");
  EXPECT_GE(stats.last_cancellation->bytes_sent, kMiB);
  EXPECT_LT(stats.last_cancellation->bytes_sent, 256 * kMiB);
  EXPECT_EQ(stats.transfers_completed, 0u);
}

TEST(MockBackendTest, ClientAbortOfAGatedChatIsCancelled) {
  MockConfig config;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 60'000;
  config.token_count = 200;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  HttpRequest r = Chat(mock->url(), "abort");
  r.abort_after_first_event = true;
  auto got = Perform(r);
  EXPECT_TRUE(got.aborted_by_client);
  // The client is gone. The mock notices on its next write: the first token's
  // (if the abort came first), else the one after the gate, which opens now.
  mock->OpenGate();
  ASSERT_TRUE(mock->WaitCancelled(kBound));
  EXPECT_EQ(mock->stats().last_cancellation->path, "/v1/chat/completions");
}

TEST(MockBackendTest, EchoReportsTheRequest) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  HttpRequest r = Get(mock->url(), "/echo/sub/path?a=1&b=two&a=3");
  r.headers = {{"X-Custom", "yes"}, {"Authorization", "Bearer t"}};
  auto got = Perform(r);
  ASSERT_EQ(got.status, 200) << got.body;
  auto j = json::parse(got.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << got.body;
  EXPECT_EQ(j["method"], "GET");
  EXPECT_EQ(j["path"], "/echo/sub/path");
  EXPECT_EQ(j["query"]["a"], json({"1", "3"}));
  EXPECT_EQ(j["query"]["b"], json({"two"}));
  EXPECT_EQ(j["headers"]["X-Custom"], json({"yes"}));
  EXPECT_EQ(j["headers"]["Authorization"], json({"Bearer t"}));
  EXPECT_EQ(j["body_length"], 0);
  EXPECT_TRUE(harness::CheckEchoQuery(got, {{"a", "1"}, {"a", "3"}, {"b", "two"}}).ok);
  EXPECT_EQ(mock->stats().last_request["path"], "/echo/sub/path");

  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    SCOPED_TRACE(method);
    HttpRequest with_body = Get(mock->url(), "/echo");
    with_body.method = method;
    with_body.body = std::string("body of ") + method + std::string(5000, 'z');
    auto echo = Perform(with_body);
    EXPECT_EQ(echo.status, 200);
    auto check =
        harness::CheckEcho(echo, method, with_body.body.size(), Sha256::Of(with_body.body));
    EXPECT_TRUE(check.ok) << check.message;
  }
}

TEST(MockBackendTest, StatusRoutesAnswerWithThatStatus) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  for (int code : {200, 404, 429, 500, 503}) {
    SCOPED_TRACE(code);
    auto r = Perform(Get(mock->url(), "/status/" + std::to_string(code)));
    EXPECT_TRUE(r.complete) << r.error;
    EXPECT_EQ(r.status, code);
    auto j = json::parse(r.body, nullptr, false);
    EXPECT_EQ(j["error"]["code"], code) << r.body;
  }
  EXPECT_EQ(Perform(Get(mock->url(), "/status/999")).status, 400);
  EXPECT_EQ(Perform(Get(mock->url(), "/no/such/route")).status, 404);
}

TEST(MockBackendTest, SuspendRefusesConnectionsUntilResume) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  HttpRequest r = Get(mock->url(), "/v1/health/ready");
  r.connect_timeout = std::chrono::seconds(5);
  ASSERT_EQ(Perform(r).status, 200);
  mock->Suspend();
  auto refused = Perform(r);
  EXPECT_FALSE(refused.complete);
  EXPECT_EQ(refused.status, 0);
  auto resumed = mock->Resume();
  ASSERT_TRUE(resumed.ok()) << resumed.message();
  auto ok = Perform(r);
  EXPECT_TRUE(ok.complete) << ok.error;
  EXPECT_EQ(ok.status, 200);
}

// Regression: transfers_completed and the stream digest used to be recorded
// by the provider's releaser, after the client could already hold the last
// byte, so a harness reading stats() right after a response (direct.sse-
// passthrough) raced it. Showed up only on a loaded machine: run several
// copies of this test at once to exercise it.
TEST(MockBackendTest, StatsAreSettledWhenTheClientSeesTheEnd) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  for (int i = 0; i < 300; ++i) {
    auto r = Perform(Chat(mock->url(), "settled " + std::to_string(i)));
    ASSERT_TRUE(r.complete) << r.error;
    auto stats = mock->stats();
    ASSERT_EQ(stats.transfers_completed, std::uint64_t(i + 1)) << "round " << i;
    ASSERT_EQ(stats.last_stream_sha256, r.sha256) << "round " << i;
  }
}

// Regression: cpp-httplib 0.11's Server::stop() does nothing until the
// listener thread runs its accept loop, so a Stop() right after Start() used to
// leave join() waiting forever (cpp-httplib #937, #1371); Start() now waits for
// the loop (common/httplib_fixes.h StartServing).
TEST(MockBackendTest, StopRightAfterStartReturns) {
  for (int i = 0; i < 20; ++i) {
    auto started = std::make_shared<std::atomic<bool>>(false);
    bool finished = FinishesWithin(
        [started] {
          auto mock = MockBackend::Start();
          *started = mock.ok();
          if (mock.ok()) (*mock)->Stop();
        },
        std::chrono::seconds(5));
    ASSERT_TRUE(finished) << "Stop() right after Start() did not return within 5 s (round " << i
                          << ")";
    ASSERT_TRUE(*started);
  }
}

TEST(MockBackendTest, SetStreamResponseChangesTheSize) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  mock->SetStreamResponse(0.125);
  auto r = Perform(Get(mock->url(), "/large-file"));
  EXPECT_EQ(r.body_bytes, kMiB / 8);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, kMiB / 8));
}

}  // namespace
}  // namespace streamcheck::mocks
