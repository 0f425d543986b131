#include "mocks/mock_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <iostream>
#include <map>
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
#include "harness/process_memory.h"
#include "mocks/content.h"
#include "mocks/gzip_stream.h"
#include "tests/mock_test_support.h"
#include "tests/test_support.h"

namespace streamcheck::mocks {
namespace {

using streamcheck::Excerpt;
using testing_support::AfterHead;
using testing_support::AllEvents;
using testing_support::Dechunk;
using testing_support::FinishesWithin;
using testing_support::RawConnection;

using harness::HttpRequest;
using harness::HttpResponse;
using harness::JoinUrl;
using harness::Perform;
using nlohmann::json;
using ::testing::AllOf;
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

// GET of a 1 MiB /large-file that accepts gzip, its body kept whole.
HttpRequest GzipFileGet(const std::string& base) {
  HttpRequest r = Get(base, "/large-file?size_mb=1");
  r.headers = {{"Accept-Encoding", "gzip"}};
  r.keep_body_bytes = 4 * kMiB;
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
  // By default as a NIM sends a body of known length: Content-Length, not chunked.
  EXPECT_EQ(r.Header("Content-Length").value_or(""), std::to_string(3 * kMiB));
  EXPECT_FALSE(r.Header("Transfer-Encoding"));
  EXPECT_TRUE(harness::CheckResponseFraming(r).ok) << harness::CheckResponseFraming(r).message;
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

// One byte range gets 206 with its bytes and one Content-Range (direct.range);
// a Range the mock does not serve gets the whole body.
TEST(MockBackendTest, LargeFileServesOneByteRange) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto get = Get(mock->url(), "/large-file?size_mb=1");
  get.headers = {{"Range", "bytes=100-199"}};
  auto r = Perform(get);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.Header("Content-Range").value_or(""), "bytes 100-199/" + std::to_string(kMiB));
  std::string expected(100, '\0');
  FillBytes(42, 100, expected.data(), expected.size());
  EXPECT_EQ(r.body_bytes, 100u);
  EXPECT_EQ(r.body, expected);

  get.headers = {{"Range", "bytes=1048000-"}};
  auto open_ended = Perform(get);
  EXPECT_EQ(open_ended.status, 206);
  EXPECT_EQ(open_ended.Header("Content-Range").value_or(""),
            "bytes 1048000-1048575/" + std::to_string(kMiB));
  EXPECT_EQ(open_ended.body_bytes, 576u);

  for (const char* ignored : {"bytes=0-1,5-9", "bytes=-10", "bytes=2000000-", "lines=1-2"}) {
    get.headers = {{"Range", ignored}};
    auto whole = Perform(get);
    EXPECT_EQ(whole.status, 200) << ignored;
    EXPECT_EQ(whole.body_bytes, kMiB) << ignored;
    EXPECT_FALSE(whole.Header("Content-Range")) << ignored;
  }
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

TEST(MockBackendTest, LengthFramingSendsContentLength) {
  MockConfig config;
  config.framing = BodyFraming::kLength;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=2"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.Header("Content-Length").value_or(""), std::to_string(2 * kMiB));
  EXPECT_FALSE(r.Header("Transfer-Encoding"));
  EXPECT_EQ(r.body_bytes, 2 * kMiB);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, 2 * kMiB));
  EXPECT_TRUE(harness::CheckResponseFraming(r).ok) << harness::CheckResponseFraming(r).message;
  EXPECT_EQ(mock->stats().transfers_completed, 1u);
}

TEST(MockBackendTest, ChunkedFramingSendsChunked) {
  MockConfig config;
  config.framing = BodyFraming::kChunked;
  config.chunk_size = 100'000;  // not a divisor of the size: a short last chunk
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=2"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.Header("Transfer-Encoding").value_or(""), "chunked");
  EXPECT_FALSE(r.Header("Content-Length"));
  EXPECT_EQ(r.body_bytes, 2 * kMiB);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, 2 * kMiB));
  EXPECT_EQ(mock->stats().transfers_completed, 1u);
  // On the wire: chunks of chunk_size and the last chunk.
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->Send("GET /large-file?size_mb=0.25 HTTP/1.1\r\nHost: m\r\n\r\n"));
  bool complete = false;
  ASSERT_TRUE(raw->ReadUntil([&](const std::string& got) {
    Dechunk(AfterHead(got), &complete);
    return complete;
  })) << Excerpt(raw->received);
  EXPECT_THAT(raw->received, HasSubstr("\r\nTransfer-Encoding: chunked\r\n"));
  EXPECT_THAT(raw->received, HasSubstr("\r\n186a0\r\n")) << "a 100000-byte chunk";
  EXPECT_EQ(Sha256::Of(Dechunk(AfterHead(raw->received))), BodySha256Hex(42, kMiB / 4));
}

// "auto", the default: chunked only when the body is actually gzipped, that is
// with compress gzip and a request that accepts gzip; else Content-Length.
TEST(MockBackendTest, AutoFramingIsChunkedOnlyForAGzippedBody) {
  MockConfig config;
  config.compress = Compression::kGzip;
  ASSERT_EQ(config.framing, BodyFraming::kAuto);
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  HttpRequest file = GzipFileGet(mock->url());
  auto gz = Perform(file);
  ASSERT_TRUE(gz.complete) << gz.error;
  EXPECT_EQ(gz.Header("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(gz.Header("Transfer-Encoding").value_or(""), "chunked");
  EXPECT_FALSE(gz.Header("Content-Length")) << "a gzip body's length is not known in advance";
  bool finished = false;
  EXPECT_EQ(Sha256::Of(Gunzip(gz.body, &finished)), BodySha256Hex(42, kMiB));
  EXPECT_TRUE(finished);
  EXPECT_EQ(mock->stats().responses_gzipped, 1u);
  EXPECT_EQ(mock->stats().transfers_completed, 1u);

  // The same mock, a request that does not accept gzip: plain, with Content-Length.
  file.headers = {{"Accept-Encoding", "identity"}};
  auto plain = Perform(file);
  ASSERT_TRUE(plain.complete) << plain.error;
  EXPECT_FALSE(plain.Header("Content-Encoding"));
  EXPECT_EQ(plain.Header("Content-Length").value_or(""), std::to_string(kMiB));
  EXPECT_FALSE(plain.Header("Transfer-Encoding"));
  EXPECT_EQ(plain.sha256, BodySha256Hex(42, kMiB));
  EXPECT_EQ(mock->stats().responses_gzipped, 1u);

  // Asked for chunked, a plain body is chunked too.
  MockConfig chunked = config;
  chunked.framing = BodyFraming::kChunked;
  ASSERT_TRUE(mock->control().SetConfig(chunked).ok());
  auto plain_chunked = Perform(file);
  ASSERT_TRUE(plain_chunked.complete) << plain_chunked.error;
  EXPECT_FALSE(plain_chunked.Header("Content-Encoding"));
  EXPECT_EQ(plain_chunked.Header("Transfer-Encoding").value_or(""), "chunked");
  EXPECT_FALSE(plain_chunked.Header("Content-Length"));
  EXPECT_EQ(plain_chunked.sha256, BodySha256Hex(42, kMiB));
}

TEST(MockBackendTest, LengthFramingWithGzipIsRefusedNamingBothKeys) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto r = Perform(PutConfig(mock->url(), R"({"framing": "length", "compress": "gzip"})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, AllOf(HasSubstr("framing"), HasSubstr("length"), HasSubstr("compress"),
                            HasSubstr("gzip")));
  EXPECT_EQ(mock->config(), MockConfig{}) << "a refused config changes nothing";
  MockConfig both;
  both.framing = BodyFraming::kLength;
  both.compress = Compression::kGzip;
  auto refused = mock->control().SetConfig(both);
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), AllOf(HasSubstr("\"framing\""), HasSubstr("\"compress\"")));
  EXPECT_FALSE(MockBackend::Start(both).ok());
  auto old_key = Perform(PutConfig(mock->url(), R"({"content_length": true})"));
  EXPECT_EQ(old_key.status, 400);
  EXPECT_THAT(old_key.body, HasSubstr("content_length"));
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
  config.framing = GetParam() ? BodyFraming::kLength : BodyFraming::kChunked;
  config.truncate_after_bytes = 100'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Get(mock->url(), "/large-file?size_mb=1"));
  EXPECT_FALSE(r.complete) << "the client saw a clean end of a truncated body";
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body_bytes, 100'000u);
  EXPECT_EQ(r.sha256, BodySha256Hex(42, 100'000));
  EXPECT_EQ(bool(r.Header("Content-Length")), GetParam());
  EXPECT_EQ(r.Header("Transfer-Encoding").value_or(""), GetParam() ? "" : "chunked");
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

// An upload's body bytes are counted as they arrive, before the request is
// whole: the client sends half of a Content-Length body and the mock has
// counted it (and its wait has ended) while the other half is not yet sent.
TEST(MockBackendTest, UploadBytesAreCountedAsTheyArrive) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  EXPECT_FALSE(*mock->control().WaitUploadStarted(std::chrono::milliseconds(0)));
  auto upload = RawConnection::Open(mock->port());
  ASSERT_TRUE(upload);
  ASSERT_TRUE(upload->Send("PUT /echo HTTP/1.1\r\nHost: m\r\nContent-Length: 2000\r\n\r\n" +
                           std::string(1000, 'a')));
  auto started = mock->control().WaitUploadStarted(std::chrono::seconds(10));
  ASSERT_TRUE(started && *started) << "the first 1000 bytes were not counted";
  auto during = mock->stats();
  EXPECT_EQ(during.request_body_bytes, 1000u);
  EXPECT_EQ(during.last_request, json::object()) << "the request cannot be whole yet";
  ASSERT_TRUE(upload->Send(std::string(1000, 'b')));
  ASSERT_TRUE(upload->ReadUntil([](const std::string& r) {
    return r.find("}") != std::string::npos;
  })) << upload->received;
  EXPECT_EQ(mock->stats().request_body_bytes, 2000u);
  EXPECT_EQ(mock->stats().last_request["body_length"], 2000);
  // Over HTTP too: the long poll's "upload" condition.
  auto poll = Perform(Get(mock->url(), "/_mock/wait?for=upload&timeout_ms=0"));
  EXPECT_EQ(poll.body, R"({"reached":true})");
  mock->ResetStats();
  EXPECT_FALSE(*mock->control().WaitUploadStarted(std::chrono::milliseconds(0)));
}

// /response-headers answers with the headers its query names, hop-by-hop ones
// included, and refuses the framing ones (the mock's to set).
TEST(MockBackendTest, ResponseHeadersRouteSendsTheNamedHeaders) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto r =
      Perform(Get(mock->url(),
                  "/response-headers?Connection=upgrade,%20X-Hop&X-Hop=1&Keep-Alive=timeout%3D5"
                  "&Upgrade=h2c&X-End=kept"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.Header("Connection"), "upgrade, X-Hop");
  EXPECT_EQ(r.Header("X-Hop"), "1");
  EXPECT_EQ(r.Header("Keep-Alive"), "timeout=5");
  EXPECT_EQ(r.Header("Upgrade"), "h2c");
  EXPECT_EQ(r.Header("X-End"), "kept");
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_EQ(j["headers"]["X-End"], json({"kept"})) << r.body;
  for (const char* bad : {"Content-Length=5", "Transfer-Encoding=chunked", "Bad%20Name=1",
                          "X-Split=a%0D%0AX-Injected:%201"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(Perform(Get(mock->url(), std::string("/response-headers?") + bad)).status, 400);
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

// --- what the coming catalog cases need --------------------------------------

HttpRequest Post(const std::string& base, const std::string& path, const std::string& body = "") {
  HttpRequest r = Get(base, path);
  r.method = "POST";
  r.body = body;
  return r;
}

TEST(MockBackendTest, CountsRequestsPerCaseHeaderAnd404s) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  HttpRequest tagged = Get(mock->url(), "/v1/models");
  tagged.headers = {{"X-Streamcheck-Case", "chat.status"}};
  (void)Perform(tagged);
  (void)Perform(tagged);
  (void)Perform(Get(mock->url(), "/v1/models"));
  EXPECT_EQ(Perform(Get(mock->url(), "/no/such/route")).status, 404);
  (void)Perform(Get(mock->url(), "/_mock/stats"));  // control requests are not counted
  auto stats = mock->stats();
  EXPECT_EQ(stats.requests, 4u) << "a 404 is a request the backend saw";
  std::map<std::string, std::uint64_t> expected = {{"", 2}, {"chat.status", 2}};
  EXPECT_EQ(stats.requests_by_case, expected);
  EXPECT_EQ(stats.last_request["path"], "/no/such/route");
}

TEST(MockBackendTest, KeepsTheLastRequestHeadsByteForByte) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  // Odd spacing, case and bytes a parser would normalise: the record must not.
  const std::string head =
      "GET /echo?x=%41 HTTP/1.1\r\nHost: mock\r\nx-MiXeD:   spaced value  \r\n"
      "X-Bytes: \xc3\xa9\xff\x80\r\nX-Streamcheck-Case: direct.headers\r\n\r\n";
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->Send(head));
  ASSERT_TRUE(
      raw->ReadUntil([](const std::string& r) { return r.find("}") != std::string::npos; }));
  auto stats = mock->stats();
  ASSERT_EQ(stats.request_heads.size(), 1u);
  EXPECT_EQ(stats.request_heads[0], head);
  EXPECT_EQ(stats.requests_by_case["direct.headers"], 1u);
  // Through JSON too, exactly.
  auto back = StatsFromJson(json::parse(ToJson(stats).dump()));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->request_heads[0], head);

  // A ring of the last kMaxRecordedHeads.
  for (int i = 0; i < 20; ++i)
    (void)Perform(Get(mock->url(), "/status/" + std::to_string(200 + i)));
  stats = mock->stats();
  ASSERT_EQ(stats.request_heads.size(), kMaxRecordedHeads);
  EXPECT_THAT(stats.request_heads.front(), StartsWith("GET /status/204 "));
  EXPECT_THAT(stats.request_heads.back(), StartsWith("GET /status/219 "));
}

TEST(MockBackendTest, MalformedAndOversizedHeadsAreRefusedAndStillRecorded) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  const std::string bad = "GET /v1/models HTTP/1.1\r\nX-Ctl: a\x01b\r\nBad Header Line\r\n\r\n";
  ASSERT_TRUE(raw->Send(bad));
  EXPECT_TRUE(raw->ReadToClose());
  EXPECT_THAT(raw->received, StartsWith("HTTP/1.1 400 "));
  auto big = RawConnection::Open(mock->port());
  ASSERT_TRUE(big);
  ASSERT_TRUE(big->Send("GET / HTTP/1.1\r\nX-Big: " + std::string(kMaxHeadBytes, 'a')));
  EXPECT_TRUE(big->ReadToClose());
  EXPECT_THAT(big->received, StartsWith("HTTP/1.1 431 "));
  auto stats = mock->stats();
  EXPECT_EQ(stats.requests, 2u);
  ASSERT_EQ(stats.request_heads.size(), 2u);
  EXPECT_EQ(stats.request_heads[0], bad);
  EXPECT_EQ(stats.request_heads[1].size(), kMaxHeadBytes);
}

TEST(MockBackendTest, PipelinedRequestsAndExpectContinue) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  const std::string one = "GET /status/404 HTTP/1.1\r\nHost: m\r\n\r\n";
  ASSERT_TRUE(raw->Send(one + one));
  auto count = [](const std::string& r) {
    std::size_t n = 0;
    for (auto at = r.find("HTTP/1.1 404"); at != std::string::npos;
         at = r.find("HTTP/1.1 404", at + 1))
      ++n;
    return n;
  };
  EXPECT_TRUE(raw->ReadUntil([&](const std::string& r) { return count(r) == 2; })) << raw->received;

  auto put = RawConnection::Open(mock->port());
  ASSERT_TRUE(put);
  ASSERT_TRUE(put->Send(
      "PUT /echo HTTP/1.1\r\nHost: m\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(put->ReadUntil(
      [](const std::string& r) { return r.find("100 Continue\r\n\r\n") != std::string::npos; }));
  ASSERT_TRUE(put->Send("hello"));
  ASSERT_TRUE(put->ReadUntil([](const std::string& r) {
    return r.find("body_sha256") != std::string::npos && r.back() == '}';
  }));
  EXPECT_THAT(put->received, HasSubstr(Sha256::Of("hello")));
}

TEST(MockBackendTest, NothingIsCompressedByDefault) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  for (HttpRequest r : {Get(mock->url(), "/v1/models"), Get(mock->url(), "/large-file?size_mb=0.1"),
                        Chat(mock->url(), "plain"), Chat(mock->url(), "plain", false)}) {
    SCOPED_TRACE(r.url);
    r.headers.emplace_back("Accept-Encoding", "gzip, deflate, br");
    auto got = Perform(r);
    ASSERT_TRUE(got.complete) << got.error;
    EXPECT_FALSE(got.Header("Content-Encoding"));
    EXPECT_FALSE(got.Header("Vary"));
  }
  EXPECT_EQ(mock->stats().responses_gzipped, 0u);
}

TEST(MockBackendTest, GzipWhenConfiguredAndTheClientAllowsIt) {
  MockConfig config;
  config.compress = Compression::kGzip;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  HttpRequest models = Get(mock->url(), "/v1/models");
  auto identity = Perform(models);
  EXPECT_FALSE(identity.Header("Content-Encoding")) << "no Accept-Encoding: no gzip";
  EXPECT_EQ(identity.Header("Vary").value_or(""), "Accept-Encoding");
  models.headers = {{"Accept-Encoding", "gzip"}};
  auto gz = Perform(models);
  EXPECT_EQ(gz.Header("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(gz.Header("Vary").value_or(""), "Accept-Encoding");
  bool finished = false;
  EXPECT_EQ(Gunzip(gz.body, &finished), identity.body);
  EXPECT_TRUE(finished);
  EXPECT_EQ(gz.Header("Content-Length").value_or(""), std::to_string(gz.body_bytes));

  HttpRequest file = GzipFileGet(mock->url());
  auto bytes = Perform(file);
  ASSERT_TRUE(bytes.complete) << bytes.error;
  EXPECT_EQ(bytes.Header("Content-Encoding").value_or(""), "gzip");
  EXPECT_EQ(Sha256::Of(Gunzip(bytes.body)), BodySha256Hex(42, kMiB));

  HttpRequest chat = Chat(mock->url(), "zipped");
  chat.parse_sse = false;
  chat.headers.emplace_back("Accept-Encoding", "gzip");
  auto stream = Perform(chat);
  ASSERT_TRUE(stream.complete) << stream.error;
  std::string sse = Gunzip(stream.body, &finished);
  EXPECT_TRUE(finished);
  EXPECT_THAT(sse, HasSubstr("data: [DONE]"));
  EXPECT_EQ(Sha256::Of(sse), mock->stats().last_stream_sha256) << "the digest is of the content";
  EXPECT_EQ(mock->stats().responses_gzipped, 3u);
}

TEST(MockBackendTest, AGzippedStreamStillStreamsPastTheGate) {
  MockConfig config;
  config.compress = Compression::kGzip;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 60'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  std::string body = ChatBody("gzip gate", true);
  ASSERT_TRUE(
      raw->Send("POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nAccept-Encoding: gzip\r\n"
                "Content-Type: application/json\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n" + body));
  const std::string first = CompletionTokens(42, "gzip gate", 1)[0];
  auto decoded = [&](const std::string& r) { return Gunzip(Dechunk(AfterHead(r))); };
  ASSERT_TRUE(raw->ReadUntil([&](const std::string& r) {
    return decoded(r).find("\"content\":\"" + first + "\"") != std::string::npos;
  })) << "the first token did not decode before the gate opened: "
      << raw->received;
  EXPECT_TRUE(mock->WaitGateReached(kBound));
  EXPECT_EQ(mock->stats().gate_opened_by, "") << "it arrived while the gate held";
  EXPECT_THAT(raw->received, HasSubstr("Content-Encoding: gzip"));
  mock->OpenGate();
  bool complete = false;
  ASSERT_TRUE(raw->ReadUntil([&](const std::string& r) {
    Dechunk(AfterHead(r), &complete);
    return complete;
  }));
  bool finished = false;
  std::string sse = Gunzip(Dechunk(AfterHead(raw->received)), &finished);
  EXPECT_TRUE(finished);
  EXPECT_THAT(sse, HasSubstr("data: [DONE]"));
}

std::vector<json> Chunks(const HttpResponse& r) {
  std::vector<json> chunks;
  for (const auto& e : AllEvents(r)) {
    if (e.event.data != "[DONE]") chunks.push_back(json::parse(e.event.data, nullptr, false));
  }
  return chunks;
}

json Tools() {
  return json::array({{{"type", "function"}, {"function", {{"name", "get_weather"}}}},
                      {{"type", "function"}, {"function", {{"name", "search_docs"}}}}});
}

TEST(MockBackendTest, ToolCallsStreamNamedFirstThenArgumentsInPieces) {
  MockConfig config;
  config.token_count = 6;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "weather?", true, {{"tools", Tools()}}));
  ASSERT_TRUE(r.complete) << r.error;
  auto expected = ExpectedToolCall(42, "weather?", {"get_weather", "search_docs"}, 6);
  auto chunks = Chunks(r);
  ASSERT_GE(chunks.size(), 3u);
  const json& first = chunks[0]["choices"][0]["delta"];
  EXPECT_EQ(first["role"], "assistant");
  EXPECT_TRUE(first["content"].is_null());
  ASSERT_TRUE(first["tool_calls"].is_array()) << first.dump();
  EXPECT_EQ(first["tool_calls"][0]["index"], 0);
  EXPECT_EQ(first["tool_calls"][0]["id"], expected.id);
  EXPECT_EQ(first["tool_calls"][0]["type"], "function");
  EXPECT_EQ(first["tool_calls"][0]["function"]["name"], expected.name);
  std::string arguments;
  int pieces = 0;
  for (std::size_t i = 1; i + 1 < chunks.size(); ++i) {
    const json& call = chunks[i]["choices"][0]["delta"]["tool_calls"][0];
    EXPECT_EQ(call["index"], 0);
    EXPECT_FALSE(call.contains("id")) << "the id and name come once, first";
    arguments += call["function"]["arguments"].get<std::string>();
    ++pieces;
  }
  EXPECT_EQ(pieces, 6);
  EXPECT_EQ(arguments, expected.arguments);
  EXPECT_TRUE(json::parse(arguments).is_object()) << arguments;
  EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(AllEvents(r).back().event.data, "[DONE]");

  auto whole = Perform(Chat(mock->url(), "weather?", false, {{"tools", Tools()}}));
  auto j = json::parse(whole.body);
  const json& message = j["choices"][0]["message"];
  EXPECT_TRUE(message["content"].is_null());
  EXPECT_EQ(message["tool_calls"][0]["id"], expected.id);
  EXPECT_EQ(message["tool_calls"][0]["function"]["name"], expected.name);
  EXPECT_EQ(message["tool_calls"][0]["function"]["arguments"], expected.arguments);
  EXPECT_EQ(j["choices"][0]["finish_reason"], "tool_calls");
}

TEST(MockBackendTest, ToolChoiceForcesNoneOrOneFunctionAndBadToolsAre400) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto forced = Perform(
      Chat(mock->url(), "q", false,
           {{"tools", Tools()},
            {"tool_choice", {{"type", "function"}, {"function", {{"name", "search_docs"}}}}}}));
  EXPECT_EQ(json::parse(forced.body)["choices"][0]["message"]["tool_calls"][0]["function"]["name"],
            "search_docs");
  auto none = Perform(Chat(mock->url(), "q", false, {{"tools", Tools()}, {"tool_choice", "none"}}));
  EXPECT_EQ(json::parse(none.body)["choices"][0]["message"]["content"],
            CompletionText(42, "q", 16));
  EXPECT_EQ(Perform(Chat(mock->url(), "q", true, {{"tools", "get_weather"}})).status, 400);
  EXPECT_EQ(Perform(Chat(mock->url(), "q", true, {{"tools", {{{"type", "function"}}}}})).status,
            400);
  EXPECT_EQ(
      Perform(Chat(mock->url(), "q", true,
                   {{"tools", Tools()},
                    {"tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}}}}))
          .status,
      400);
}

TEST(MockBackendTest, SeveralChoicesStreamInterleavedEachWithItsFinish) {
  MockConfig config;
  config.token_count = 5;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto r = Perform(Chat(mock->url(), "three ways", true, {{"n", 3}}));
  ASSERT_TRUE(r.complete) << r.error;
  std::vector<std::string> texts(3);
  std::vector<int> finishes(3, 0);
  std::vector<int> order;
  for (const auto& chunk : Chunks(r)) {
    const json& choice = chunk["choices"][0];
    int index = choice["index"];
    ASSERT_TRUE(index >= 0 && index < 3) << chunk.dump();
    order.push_back(index);
    if (choice["delta"].contains("content"))
      texts[index] += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) {
      EXPECT_EQ(choice["finish_reason"], "stop");
      ++finishes[index];
    }
  }
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(texts[c], CompletionText(42, "three ways", 5, c)) << "choice " << c;
    EXPECT_EQ(finishes[c], 1) << "choice " << c;
  }
  EXPECT_NE(texts[0], texts[1]);
  EXPECT_EQ(texts[0], CompletionText(42, "three ways", 5)) << "choice 0 is the n = 1 text";
  ASSERT_GE(order.size(), 6u);
  EXPECT_EQ(std::vector<int>(order.begin(), order.begin() + 6),
            (std::vector<int>{0, 1, 2, 0, 1, 2}))
      << "interleaved";

  auto whole = Perform(Chat(mock->url(), "three ways", false, {{"n", 3}}));
  auto j = json::parse(whole.body);
  ASSERT_EQ(j["choices"].size(), 3u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(j["choices"][c]["index"], c);
    EXPECT_EQ(j["choices"][c]["message"]["content"], CompletionText(42, "three ways", 5, c));
  }
  EXPECT_EQ(j["usage"]["completion_tokens"], 15);
  for (int n : {0, 17}) EXPECT_EQ(Perform(Chat(mock->url(), "x", true, {{"n", n}})).status, 400);
}

TEST(MockBackendTest, StampTokensCarryTheirSendTime) {
  MockConfig config;
  config.stamp_tokens = true;
  config.token_count = 8;
  config.token_delay_ms = 2;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  std::uint64_t before = MonotonicNowNs();
  auto r = Perform(Chat(mock->url(), "stamped"));
  std::uint64_t after = MonotonicNowNs();
  ASSERT_TRUE(r.complete) << r.error;
  std::string text = harness::StreamedText(r);
  EXPECT_EQ(StripStamps(text), CompletionText(42, "stamped", 8));
  auto stamps = TokenStamps(text);
  ASSERT_EQ(stamps.size(), 8u) << text;
  for (std::size_t i = 0; i < stamps.size(); ++i) {
    EXPECT_GE(stamps[i], before);
    EXPECT_LE(stamps[i], after);
    if (i > 0) {
      EXPECT_GE(stamps[i], stamps[i - 1]);
    }
  }
}

TEST(MockBackendTest, ByteStreamsKeepASendTimelineOfAtMost200Points) {
  for (BodyFraming framing : {BodyFraming::kLength, BodyFraming::kChunked}) {
    SCOPED_TRACE(ToString(framing));
    MockConfig config;
    config.chunk_size = 4096;
    config.framing = framing;
    auto mock = StartMock(config);
    ASSERT_TRUE(mock);
    auto r = Perform(Get(mock->url(), "/large-file?size_mb=16"));  // 4096 writes
    ASSERT_TRUE(r.complete) << r.error;
    // A Content-Length body counts as complete before its last bytes are
    // written (no end marker follows them); its timeline gets its exact last
    // point once they are, a moment after the client may have them.
    std::vector<SendPoint> timeline;
    EXPECT_TRUE(testing_support::PollUntil([&] {
      timeline = mock->stats().last_byte_stream_timeline;
      return !timeline.empty() && timeline.back().bytes == 16 * kMiB;
    })) << "the last point is exact";
    ASSERT_FALSE(timeline.empty());
    EXPECT_LE(timeline.size(), kMaxTimelinePoints);
    EXPECT_GT(timeline.size(), 10u);
    EXPECT_EQ(timeline.back().bytes, 16 * kMiB);
    for (std::size_t i = 1; i < timeline.size(); ++i) {
      EXPECT_GE(timeline[i].t_ms, timeline[i - 1].t_ms);
      EXPECT_GT(timeline[i].bytes, timeline[i - 1].bytes);
    }
  }
}

TEST(MockBackendTest, BadConfigAndParametersAre400NamingWhatIsWrong) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  auto r = Perform(PutConfig(mock->url(), R"({"gate_timeout_ms": 1e10})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, AllOf(HasSubstr("gate_timeout_ms"), HasSubstr("1..3600000")));
  r = Perform(PutConfig(mock->url(), R"({"chunk_size": 0})"));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("chunk_size"));
  r = Perform(PutConfig(mock->url(), std::string(200'000, '[') + std::string(200'000, ']')));
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr("levels deep"));
  HttpRequest deep = Chat(mock->url(), "deep");
  deep.body = std::string(200'000, '[') + std::string(200'000, ']');
  EXPECT_EQ(Perform(deep).status, 400);
  for (const char* size : {"nan", "inf", "1e400", "-1", "0x10"}) {
    SCOPED_TRACE(size);
    auto got = Perform(Get(mock->url(), std::string("/large-file?size_mb=") + size));
    EXPECT_EQ(got.status, 400);
    EXPECT_THAT(got.body, HasSubstr("size_mb must be a number in 0.."));
  }
  EXPECT_EQ(mock->config(), MockConfig{}) << "refused configs change nothing";
  MockConfig bad;
  bad.rate_mib_s = 1e-9;
  auto refused = mock->control().SetConfig(bad);
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("rate_mib_s"));
  EXPECT_FALSE(MockBackend::Start(bad).ok());
}

std::uint64_t OwnRssBytes() {
  auto rss = harness::TreeRssBytes(getpid());
  return rss.ok() ? *rss : 0;
}

TEST(MockBackendTest, AStreamOfTenMillionTokensCostsConstantMemory) {
  MockConfig config;
  config.token_count = 10'000'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  std::uint64_t before = OwnRssBytes();
  HttpRequest r = Chat(mock->url(), "long");
  r.parse_sse = false;
  r.keep_body_bytes = 0;
  r.abort_after_bytes = 8 * kMiB;
  auto got = Perform(r);
  EXPECT_TRUE(got.aborted_by_client);
  ASSERT_TRUE(mock->WaitCancelled(kBound));
  std::uint64_t after = OwnRssBytes();
  // Building every frame first cost ~3.5 GiB at this count; streaming costs nothing.
  EXPECT_LT(after, before + 64 * kMiB) << "RSS grew from " << before << " to " << after;
}

TEST(MockBackendTest, AClientThatLeavesWhileHeldIsCancelledWithoutAnotherWrite) {
  MockConfig config;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 600'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  std::string body = ChatBody("held", true);
  ASSERT_TRUE(raw->Send("POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body));
  ASSERT_TRUE(mock->WaitGateReached(kBound));
  raw.reset();  // the client leaves; the gate stays shut
  ASSERT_TRUE(mock->WaitCancelled(kBound)) << "the mock noticed only on its next write";
  auto stats = mock->stats();
  EXPECT_EQ(stats.gate_opened_by, "");
  EXPECT_EQ(stats.transfers_completed, 0u);
  EXPECT_EQ(stats.last_cancellation->path, "/v1/chat/completions");
}

TEST(MockBackendTest, TransfersFromBeforeAResetDoNotCountAfterIt) {
  MockConfig config;
  config.gate_after_bytes = 1024;
  config.gate_timeout_ms = 600'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto raw = RawConnection::Open(mock->port());
  ASSERT_TRUE(raw);
  ASSERT_TRUE(raw->Send("GET /large-file?size_mb=0.1 HTTP/1.1\r\nHost: m\r\n\r\n"));
  ASSERT_TRUE(mock->WaitGateReached(kBound));
  ASSERT_TRUE(mock->control().Reset().ok());  // lets the held stream go: it finishes now
  const std::size_t size = static_cast<std::size_t>(0.1 * double(kMiB));  // by Content-Length
  ASSERT_TRUE(raw->ReadUntil([&](const std::string& r) {
    return r.find("\r\n\r\n") != std::string::npos && AfterHead(r).size() >= size;
  }));
  EXPECT_THAT(raw->received, HasSubstr("\r\nContent-Length: " + std::to_string(size) + "\r\n"));
  auto stats = mock->stats();
  EXPECT_EQ(stats.transfers_completed, 0u) << "counted in the stats of the case before";
  EXPECT_EQ(stats.body_bytes_sent, 0u);
  EXPECT_FALSE(stats.gate_reached);
  EXPECT_EQ(stats.gate_opened_by, "") << "the old stream's gate is not the new one";
  EXPECT_EQ(mock->config(), MockConfig{});
}

TEST(MockBackendTest, StopIsBoundedWhateverTheHandlersAreDoing) {
  MockConfig config;
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 3'600'000;
  config.stall_after_bytes = 1000;
  config.stall_ms = 3'600'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  std::vector<std::unique_ptr<RawConnection>> clients;
  auto open = [&](const std::string& request) {
    clients.push_back(RawConnection::Open(mock->port()));
    ASSERT_TRUE(clients.back());
    ASSERT_TRUE(clients.back()->Send(request));
  };
  std::string body = ChatBody("held", true);
  open("POST /v1/chat/completions HTTP/1.1\r\nHost: m\r\nContent-Length: " +
       std::to_string(body.size()) + "\r\n\r\n" + body);          // at the gate
  open("GET /large-file?size_mb=1 HTTP/1.1\r\nHost: m\r\n\r\n");  // stalled for an hour
  open("GET /_mock/wait?for=cancelled&timeout_ms=60000 HTTP/1.1\r\nHost: m\r\n\r\n");  // long poll
  ASSERT_TRUE(testing_support::PollUntil([&] { return mock->stats().requests >= 2; }));
  ASSERT_TRUE(mock->WaitGateReached(kBound));
  MockConfig slow = config;
  slow.rate_mib_s = 0.001;  // a KiB a second
  slow.headers_delay_ms = 3'600'000;
  mock->SetConfig(slow);
  open("GET /echo HTTP/1.1\r\nHost: m\r\n\r\n");  // headers an hour away
  ASSERT_TRUE(testing_support::PollUntil([&] { return mock->stats().requests >= 3; }));
  auto started = std::chrono::steady_clock::now();
  bool stopped = FinishesWithin([&mock] { mock->Stop(); }, std::chrono::seconds(5));
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(stopped) << "Stop() did not return within 5 s";
  std::cout << "Stop() took " << ms << " ms\n";
  for (auto& c : clients) EXPECT_TRUE(c->ReadToClose(kBound)) << "a connection outlived Stop()";
}

TEST(MockBackendTest, ControlApiOverHttp) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  const std::string base = mock->url();
  auto info = json::parse(Perform(Get(base, "/_mock/info")).body);
  EXPECT_EQ(info["service"], "streamcheck-mock");
  EXPECT_EQ(info["api"], 1);
  auto keys = json::parse(Perform(Get(base, "/_mock/config/keys")).body);
  EXPECT_EQ(keys["keys"].size(), std::size(kConfigKeys));
  EXPECT_EQ(keys["keys"][0]["name"], "seed");

  EXPECT_EQ(Perform(PutConfig(base, R"({"token_count": 3})")).status, 200);
  (void)Perform(Get(base, "/v1/models"));
  EXPECT_EQ(Perform(Post(base, "/_mock/reset")).status, 200);
  EXPECT_EQ(mock->config(), MockConfig{});
  EXPECT_EQ(mock->stats().requests, 0u);

  auto wait = Perform(Get(base, "/_mock/wait?for=gate&timeout_ms=0"));
  EXPECT_EQ(wait.status, 200);
  EXPECT_EQ(json::parse(wait.body)["reached"], false);
  for (const char* bad :
       {"/_mock/wait?for=gate", "/_mock/wait?for=rain&timeout_ms=1",
        "/_mock/wait?for=gate&timeout_ms=60001", "/_mock/wait?for=gate&timeout_ms=-1"}) {
    EXPECT_EQ(Perform(Get(base, bad)).status, 400) << bad;
  }
  EXPECT_EQ(Perform(Get(base, "/_mock/nothing")).status, 404);
  EXPECT_EQ(Perform(Get(base, "/_mock/reset")).status, 405);
}

TEST(MockBackendTest, LongPollWaitsAnswerWhenTheEventHappens) {
  MockConfig config;
  config.gate_after_bytes = 1000;
  config.gate_timeout_ms = 600'000;
  auto mock = StartMock(config);
  ASSERT_TRUE(mock);
  auto poll = RawConnection::Open(mock->port());
  ASSERT_TRUE(poll);
  ASSERT_TRUE(poll->Send("GET /_mock/wait?for=gate&timeout_ms=60000 HTTP/1.1\r\nHost: m\r\n\r\n"));
  auto stream = RawConnection::Open(mock->port());
  ASSERT_TRUE(stream);
  ASSERT_TRUE(stream->Send("GET /large-file HTTP/1.1\r\nHost: m\r\n\r\n"));
  ASSERT_TRUE(poll->ReadUntil([](const std::string& r) {
    return r.find("{\"reached\":true}") != std::string::npos;
  })) << poll->received;
  mock->OpenGate();
}

TEST(MockBackendTest, SuspendOverHttpResetsAllButTheControlApi) {
  auto mock = StartMock();
  ASSERT_TRUE(mock);
  const std::string base = mock->url();
  auto idle = RawConnection::Open(mock->port());  // a pooled connection of the server under test
  ASSERT_TRUE(idle);
  ASSERT_TRUE(idle->Send("GET /v1/models HTTP/1.1\r\nHost: m\r\n\r\n"));
  ASSERT_TRUE(idle->ReadUntil(
      [](const std::string& r) { return r.find("mock-model") != std::string::npos; }));
  ASSERT_EQ(Perform(Post(base, "/_mock/suspend")).status, 200);
  EXPECT_TRUE(idle->ReadToClose(kBound)) << "an open connection survived the suspend";
  auto refused = RawConnection::Open(mock->port());
  ASSERT_TRUE(refused) << "connections are accepted: the control API shares the port";
  ASSERT_TRUE(refused->Send("GET /v1/models HTTP/1.1\r\nHost: m\r\n\r\n"));
  EXPECT_TRUE(refused->ReadToClose(kBound));
  EXPECT_EQ(refused->error, ECONNRESET) << "expected a reset, got: " << refused->received;
  EXPECT_EQ(refused->received, "");
  auto stats = Perform(Get(base, "/_mock/stats"));
  EXPECT_EQ(stats.status, 200) << "the control API stays up";
  EXPECT_EQ(json::parse(stats.body)["suspended_resets"], 1);
  ASSERT_EQ(Perform(Post(base, "/_mock/resume")).status, 200);
  EXPECT_EQ(Perform(Get(base, "/v1/models")).status, 200);
}

}  // namespace
}  // namespace streamcheck::mocks
