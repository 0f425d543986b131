#include "harness/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "harness/checks.h"
#include "harness/ports.h"
#include "harness/target_process.h"
#include "mocks/content.h"
#include "mocks/mock_backend.h"
#include "tests/test_support.h"

namespace streamcheck::harness {
namespace {

using testing_support::AllEvents;

using mocks::kMiB;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = mocks::MockBackend::Start();
    ASSERT_TRUE(started.ok()) << started.error();
    mock_ = std::move(*started);
    // Serving: one answered request proves it.
    ASSERT_EQ(Perform(Get("/v1/health/ready")).status, 200);
    mock_->ResetStats();
  }

  HttpRequest Get(const std::string& path) const {
    HttpRequest r;
    r.url = JoinUrl(mock_->url(), path);
    r.total_timeout = std::chrono::seconds(60);
    return r;
  }

  HttpRequest Chat(const std::string& prompt) const {
    HttpRequest r = Get("/v1/chat/completions");
    r.method = "POST";
    r.headers = {{"Content-Type", "application/json"}};
    r.body = json{
        {"model", "m"},
        {"messages", {{{"role", "user"}, {"content", prompt}}}},
        {"stream",
         true}}.dump();
    r.parse_sse = true;
    return r;
  }

  std::unique_ptr<mocks::MockBackend> mock_;
};

// Past 8 MiB the body is hashed on a thread of its own (reads and hashing
// overlap); the digest must be the same, whatever the reads' sizes.
TEST_F(HttpClientTest, LargeBodyHashedOnItsOwnThreadKeepsTheDigest) {
  for (long piece : {256L * 1024, 16L * 1024 + 3}) {
    auto request = Get("/large-file?size_mb=40.3");
    request.read_piece_bytes = piece;
    auto r = Perform(request);
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_EQ(r.sha256, mocks::BodySha256Hex(42, std::uint64_t(40.3 * kMiB))) << piece;
  }
}

TEST_F(HttpClientTest, LargeFileShaEqualsBodySha256Hex) {
  auto r = Perform(Get("/large-file?size_mb=8"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.curl_code, 0);
  EXPECT_THAT(r.error, ::testing::IsEmpty());
  EXPECT_EQ(r.http_version, "1.1");
  EXPECT_EQ(r.body_bytes, 8 * kMiB);
  EXPECT_EQ(r.sha256, mocks::BodySha256Hex(42, 8 * kMiB));
  EXPECT_GE(r.t_headers_ms, 0);
  EXPECT_GE(r.t_first_byte_ms, r.t_headers_ms);
  EXPECT_GE(r.t_last_byte_ms, r.t_first_byte_ms);
  EXPECT_GE(r.t_total_ms, r.t_last_byte_ms);
  ASSERT_FALSE(r.arrivals.empty());
  EXPECT_EQ(r.arrivals.back().bytes, 8 * kMiB);
  for (std::size_t i = 1; i < r.arrivals.size(); ++i) {
    ASSERT_GE(r.arrivals[i].bytes, r.arrivals[i - 1].bytes);
    ASSERT_GE(r.arrivals[i].t_ms, r.arrivals[i - 1].t_ms);
  }
  EXPECT_GE(r.mib_per_s(), 0);
}

TEST_F(HttpClientTest, KeepsTheBodyOnlyUpToKeepBodyBytes) {
  HttpRequest req = Get("/large-file?size_mb=1");
  req.keep_body_bytes = 1000;
  auto r = Perform(req);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body_bytes, kMiB);
  EXPECT_EQ(r.body.size(), 1000u);
  EXPECT_TRUE(r.body_truncated);
  std::string expected(1000, '\0');
  mocks::FillBytes(42, 0, expected.data(), expected.size());
  EXPECT_EQ(r.body, expected);
  EXPECT_EQ(r.sha256, mocks::BodySha256Hex(42, kMiB)) << "the hash covers the whole body";

  req.keep_body_bytes = 0;
  auto none = Perform(req);
  EXPECT_TRUE(none.body.empty());
  EXPECT_TRUE(none.body_truncated);
  EXPECT_EQ(none.body_bytes, kMiB);

  req.keep_body_bytes = 2 * kMiB;
  auto all = Perform(req);
  EXPECT_EQ(all.body.size(), kMiB);
  EXPECT_FALSE(all.body_truncated);
}

TEST_F(HttpClientTest, HashBodyOffLeavesShaEmpty) {
  HttpRequest req = Get("/large-file?size_mb=0.5");
  req.hash_body = false;
  auto r = Perform(req);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body_bytes, kMiB / 2);
  EXPECT_TRUE(r.sha256.empty());
}

TEST_F(HttpClientTest, AbortAfterBytesMarksAbortedByClient) {
  HttpRequest req = Get("/large-file?size_mb=64");
  req.abort_after_bytes = 100'000;
  auto r = Perform(req);
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.aborted_by_client);
  EXPECT_THAT(r.error, HasSubstr("aborted by the client"));
  EXPECT_EQ(r.status, 200);
  EXPECT_GE(r.body_bytes, 100'000u);
  EXPECT_LT(r.body_bytes, 64 * kMiB);
  EXPECT_TRUE(mock_->WaitCancelled(std::chrono::seconds(10)));
}

TEST_F(HttpClientTest, AbortAfterFirstEvent) {
  mocks::MockConfig config;
  config.token_count = 50;
  config.gate_after_tokens = 1;  // the rest waits: the abort must come from the client
  config.gate_timeout_ms = 60'000;
  mock_->SetConfig(config);
  HttpRequest req = Chat("abort me");
  req.abort_after_first_event = true;
  auto r = Perform(req);
  EXPECT_FALSE(r.complete);
  EXPECT_TRUE(r.aborted_by_client);
  ASSERT_GE(r.stream.count, 1u);
  EXPECT_LE(r.stream.count, 2u) << "it went on reading after the first event";
  EXPECT_THAT(r.stream.first.at(0).event.data, HasSubstr("\"role\":\"assistant\""));
  mock_->OpenGate();
}

TEST_F(HttpClientTest, ObserverCanAbort) {
  int seen = 0;
  Observers observers;
  observers.on_event = [&seen](const ReceivedEvent& e) {
    ++seen;
    EXPECT_GE(e.t_ms, 0);
    return seen < 3;
  };
  mocks::MockConfig config;
  config.token_count = 500;
  config.gate_after_tokens = 10;
  config.gate_timeout_ms = 60'000;
  mock_->SetConfig(config);
  auto r = Perform(Chat("observe"), observers);
  EXPECT_TRUE(r.aborted_by_client);
  EXPECT_FALSE(r.complete);
  EXPECT_GE(seen, 3);
  mock_->OpenGate();

  int calls = 0;
  Observers bytes;
  bytes.on_bytes = [&calls](std::uint64_t total, double) {
    ++calls;
    return total < 200'000;
  };
  auto big = Perform(Get("/large-file?size_mb=32"), bytes);
  EXPECT_TRUE(big.aborted_by_client);
  EXPECT_GE(big.body_bytes, 200'000u);
  EXPECT_GT(calls, 0);
}

TEST_F(HttpClientTest, SlowReadStillCompletesCorrectly) {
  HttpRequest req = Get("/large-file?size_mb=2");
  req.max_recv_mib_s = 8;
  auto r = Perform(req);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body_bytes, 2 * kMiB);
  EXPECT_EQ(r.sha256, mocks::BodySha256Hex(42, 2 * kMiB));
}

TEST_F(HttpClientTest, PerformAllRunsEachStreamWithItsOwnText) {
  constexpr int kStreams = 32;
  std::vector<HttpRequest> requests;
  for (int i = 0; i < kStreams; ++i) requests.push_back(Chat("prompt number " + std::to_string(i)));
  auto responses = PerformAll(requests);
  ASSERT_EQ(responses.size(), std::size_t(kStreams));
  for (int i = 0; i < kStreams; ++i) {
    SCOPED_TRACE("stream " + std::to_string(i));
    const auto& r = responses[i];
    ASSERT_TRUE(r.complete) << r.error;
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(StreamedText(r), mocks::CompletionText(42, "prompt number " + std::to_string(i), 16));
    EXPECT_TRUE(CheckDoneTerminator(r).ok);
    EXPECT_TRUE(r.stream.leftover.clean());
  }
  EXPECT_EQ(mock_->stats().chat_requests, std::uint64_t(kStreams));
}

TEST_F(HttpClientTest, PerformAllKeepsOrderWithMixedRequests) {
  std::vector<HttpRequest> requests = {Get("/large-file?size_mb=2"), Get("/status/404"),
                                       Chat("mixed"), Get("/large-file?size_mb=0.001")};
  auto responses = PerformAll(requests);
  ASSERT_EQ(responses.size(), 4u);
  EXPECT_EQ(responses[0].body_bytes, 2 * kMiB);
  EXPECT_EQ(responses[1].status, 404);
  EXPECT_EQ(StreamedText(responses[2]), mocks::CompletionText(42, "mixed", 16));
  EXPECT_EQ(responses[3].body_bytes, std::uint64_t(0.001 * kMiB));
  EXPECT_TRUE(PerformAll({}).empty());
}

TEST_F(HttpClientTest, ConnectionRefusedIsIncompleteWithAClearError) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.error();
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(*port) + "/anything";
  req.connect_timeout = std::chrono::seconds(5);
  req.total_timeout = std::chrono::seconds(10);
  auto r = Perform(req);
  EXPECT_FALSE(r.complete);
  EXPECT_FALSE(r.aborted_by_client);
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.curl_code, 7);  // CURLE_COULDNT_CONNECT
  EXPECT_THAT(r.error, HasSubstr("connect"));
  EXPECT_EQ(r.body_bytes, 0u);
  EXPECT_EQ(r.t_headers_ms, -1);
}

TEST_F(HttpClientTest, TimeoutIsReported) {
  mocks::MockConfig config;
  config.headers_delay_ms = 10'000;
  mock_->SetConfig(config);
  HttpRequest req = Get("/large-file");
  req.total_timeout = std::chrono::milliseconds(200);
  auto r = Perform(req);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.curl_code, 28);
  EXPECT_THAT(r.error, HasSubstr("imeout"));
}

TEST_F(HttpClientTest, UploadFillPutReachesEchoIntact) {
  constexpr std::uint64_t kSize = 5 * kMiB + 17;
  HttpRequest req = Get("/echo/upload");
  req.method = "PUT";
  req.upload_size = kSize;
  req.upload_fill = [](std::uint64_t offset, char* out, std::size_t n) {
    mocks::FillBytes(7, offset, out, n);
  };
  auto r = Perform(req);
  ASSERT_TRUE(r.complete) << r.error;
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << r.body;
  EXPECT_EQ(j["method"], "PUT");
  EXPECT_EQ(j["body_length"], kSize);
  EXPECT_EQ(j["body_sha256"], mocks::BodySha256Hex(7, kSize));
  auto check = CheckEcho(r, "PUT", kSize, mocks::BodySha256Hex(7, kSize));
  EXPECT_TRUE(check.ok) << check.message;

  // POST through the same path.
  req.method = "POST";
  req.upload_size = 1000;
  auto post = Perform(req);
  EXPECT_TRUE(CheckEcho(post, "POST", 1000, mocks::BodySha256Hex(7, 1000)).ok) << post.body;
}

TEST_F(HttpClientTest, BodyMethodsAndHeadersReachEcho) {
  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    SCOPED_TRACE(method);
    HttpRequest req = Get("/echo");
    req.method = method;
    req.body = std::string("payload for ") + method;
    req.headers = {{"X-Custom", "a value"}, {"X-Empty", ""}};
    auto r = Perform(req);
    auto check = CheckEcho(r, method, req.body.size(), Sha256::Of(req.body));
    EXPECT_TRUE(check.ok) << check.message;
    auto headers = CheckEchoHeaders(r, {{"X-Custom", "a value"}}, {"Expect"});
    EXPECT_TRUE(headers.ok) << headers.message;
  }
  // An empty POST is still a POST with Content-Length 0.
  HttpRequest empty = Get("/echo");
  empty.method = "POST";
  auto r = Perform(empty);
  EXPECT_TRUE(CheckEcho(r, "POST", 0, Sha256::Of("")).ok) << r.body;
}

TEST_F(HttpClientTest, RequestTargetIsSentAsIs) {
  HttpRequest req = Get("/");
  req.request_target = "/echo/a/../b?x=%2e%2e";
  auto r = Perform(req);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body, nullptr, false);
  EXPECT_EQ(j["target"], "/echo/a/../b?x=%2e%2e");
}

TEST_F(HttpClientTest, HeaderLookupIsCaseInsensitive) {
  auto r = Perform(Get("/large-file?size_mb=0.01"));
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.Header("x-mock-size"), r.Header("X-MOCK-SIZE"));
  EXPECT_EQ(r.Header("X-Mock-Size").value_or(""), std::to_string(std::uint64_t(0.01 * kMiB)));
  EXPECT_THAT(r.Header("content-TYPE").value_or(""), StartsWith("application/octet-stream"));
  EXPECT_FALSE(r.Header("X-Not-There"));

  HttpResponse hand;
  hand.headers = {{"Content-Type", "text/plain"}, {"X-Dup", "first"}, {"x-dup", "second"}};
  EXPECT_EQ(hand.Header("CONTENT-type").value_or(""), "text/plain");
  EXPECT_EQ(hand.Header("X-DUP").value_or(""), "first");
  EXPECT_FALSE(hand.Header("Content-Typ"));
  EXPECT_FALSE(hand.Header(""));
}

TEST_F(HttpClientTest, HeaderValuesAreTrimmed) {
  auto r = Perform(Get("/status/404"));
  ASSERT_TRUE(r.complete) << r.error;
  for (const auto& [name, value] : r.headers) {
    EXPECT_THAT(name, Not(HasSubstr(":")));
    EXPECT_THAT(value, Not(StartsWith(" ")));
    EXPECT_THAT(value, Not(HasSubstr("\r")));
    EXPECT_THAT(value, Not(HasSubstr("\n")));
  }
  EXPECT_EQ(r.Header("Content-Length").value_or(""), std::to_string(r.body_bytes));
}

TEST_F(HttpClientTest, SseStatsAndEventTimestamps) {
  auto r = Perform(Chat("stats"));
  ASSERT_TRUE(r.complete) << r.error;
  ASSERT_EQ(r.stream.count, 19u);  // role, 16 tokens, finish, [DONE]
  EXPECT_EQ(r.stream.stats.events, 19u);
  EXPECT_EQ(r.stream.stats.bytes, r.body_bytes);
  EXPECT_TRUE(r.stream.leftover.clean());
  // The client keeps the first and last kKeep events, in order, with times.
  ASSERT_EQ(r.stream.first.size(), harness::EventStream::kKeep);
  ASSERT_EQ(r.stream.last.size(), harness::EventStream::kKeep);
  std::vector<harness::ReceivedEvent> kept = r.stream.first;
  kept.insert(kept.end(), r.stream.last.begin(), r.stream.last.end());
  EXPECT_EQ(kept.front().event.index, 0u);
  EXPECT_EQ(kept.back().event.index, 18u);
  EXPECT_EQ(kept.back().event.data, "[DONE]");
  for (std::size_t i = 1; i < kept.size(); ++i) {
    EXPECT_LT(kept[i - 1].event.index, kept[i].event.index);
    EXPECT_GE(kept[i].t_ms, kept[i - 1].t_ms);
  }
  EXPECT_EQ(r.stream.first_event_ms, kept.front().t_ms);
  EXPECT_EQ(r.stream.last_event_ms, kept.back().t_ms);
  ASSERT_FALSE(r.arrivals.empty());
  EXPECT_EQ(r.arrivals.back().events, 19u);
}

TEST_F(HttpClientTest, Http10Request) {
  HttpRequest req = Get("/large-file?size_mb=0.1");
  req.http_version = "1.0";
  auto r = Perform(req);
  ASSERT_TRUE(r.complete) << r.error;
  EXPECT_EQ(r.body_bytes, std::uint64_t(0.1 * kMiB));
  EXPECT_EQ(r.sha256, mocks::BodySha256Hex(42, std::uint64_t(0.1 * kMiB)));
}

TEST(JoinUrlTest, ExactlyOneSlash) {
  EXPECT_EQ(JoinUrl("http://h:1", "/v1/x"), "http://h:1/v1/x");
  EXPECT_EQ(JoinUrl("http://h:1/", "/v1/x"), "http://h:1/v1/x");
  EXPECT_EQ(JoinUrl("http://h:1/", "v1/x"), "http://h:1/v1/x");
  EXPECT_EQ(JoinUrl("http://h:1", "v1/x"), "http://h:1/v1/x");
  EXPECT_EQ(JoinUrl("http://h:1/base", "/x?q=1"), "http://h:1/base/x?q=1");
  EXPECT_EQ(JoinUrl("http://h:1", ""), "http://h:1");
  EXPECT_EQ(JoinUrl("", "/x"), "/x");
}

TEST(HttpResponseTest, MibPerSecond) {
  HttpResponse r;
  EXPECT_EQ(r.mib_per_s(), 0);
  r.body_bytes = 10 * kMiB;
  r.t_first_byte_ms = 0;
  r.t_last_byte_ms = 500;
  EXPECT_DOUBLE_EQ(r.mib_per_s(), 20.0);
  r.t_last_byte_ms = 0;  // all in one read: no rate rather than infinity
  EXPECT_EQ(r.mib_per_s(), 0);
}

}  // namespace
}  // namespace streamcheck::harness
