#include "harness/checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "common/text.h"
#include "sse/sse_parser.h"

namespace streamcheck::harness {
namespace {

using nlohmann::json;
using streamcheck::Excerpt;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A response as the client runner would record it for `body`, parsed as an
// event stream with the real parser.
HttpResponse Sse(const std::string& body, long status = 200,
                 const std::string& content_type = "text/event-stream") {
  HttpResponse r;
  r.complete = true;
  r.status = status;
  r.http_version = "1.1";
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  r.body = body;
  r.body_bytes = body.size();
  r.sha256 = Sha256::Of(body);
  r.stream = RecordEventStream(body, 1.0);
  return r;
}

// A plain (non-SSE) response.
HttpResponse Plain(long status, const std::string& body,
                   const std::string& content_type = "application/json") {
  HttpResponse r;
  r.complete = true;
  r.status = status;
  if (!content_type.empty()) r.headers.emplace_back("Content-Type", content_type);
  r.body = body;
  r.body_bytes = body.size();
  r.sha256 = Sha256::Of(body);
  return r;
}

json Chunk(const std::string& id, json delta, json finish = nullptr) {
  return {{"id", id},
          {"object", "chat.completion.chunk"},
          {"created", 1700000000},
          {"model", "m"},
          {"choices", {{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish}}}}};
}

std::string Event(const json& j) { return "data: " + j.dump() + "\n\n"; }
std::string Event(const std::string& data) { return "data: " + data + "\n\n"; }

const std::vector<std::string> kTokens = {"Hello", " streaming", " world"};
const std::string kText = "Hello streaming world";

// The events of a good chat stream, each as its full "data: ...\n\n" frame.
std::vector<std::string> GoodFrames(bool usage = false) {
  std::vector<std::string> frames;
  frames.push_back(Event(Chunk("c1", {{"role", "assistant"}, {"content", ""}})));
  for (const auto& t : kTokens) frames.push_back(Event(Chunk("c1", {{"content", t}})));
  frames.push_back(Event(Chunk("c1", json::object(), "stop")));
  if (usage) {
    json u = Chunk("c1", json::object());
    u["choices"] = json::array();
    u["usage"] = {{"prompt_tokens", 2}, {"completion_tokens", 3}, {"total_tokens", 5}};
    frames.push_back(Event(u));
  }
  frames.push_back(Event(std::string("[DONE]")));
  return frames;
}

std::string Join(const std::vector<std::string>& frames) {
  std::string out;
  for (const auto& f : frames) out += f;
  return out;
}

HttpResponse GoodStream(bool usage = false) { return Sse(Join(GoodFrames(usage))); }

// Replaces frame `i` (0: the role chunk, 1..3 tokens, 4 finish, 5 [DONE]).
HttpResponse WithFrame(std::size_t i, const std::string& frame) {
  auto frames = GoodFrames();
  frames.at(i) = frame;
  return Sse(Join(frames));
}

MATCHER(Passes, "passes") {
  *result_listener << "message: \"" << arg.message << "\"";
  return arg.ok && arg.message.empty();
}

MATCHER_P(FailsWith, matcher,
          "fails with a message that " + testing::DescribeMatcher<std::string>(matcher)) {
  *result_listener << "ok=" << arg.ok << ", message: \"" << arg.message << "\"";
  return !arg.ok && testing::Matches(matcher)(arg.message);
}

// --- transport and headers ---

TEST(ChecksTest, TransferComplete) {
  EXPECT_THAT(CheckTransferComplete(GoodStream()), Passes());
  HttpResponse cut = GoodStream();
  cut.complete = false;
  cut.curl_code = 18;
  cut.body_bytes = 1234;
  cut.t_total_ms = 56;
  cut.error = "Transferred a partial file: transfer closed with outstanding read data remaining";
  EXPECT_THAT(CheckTransferComplete(cut),
              FailsWith(AllOf(HasSubstr("expected a complete response"), HasSubstr("1234"),
                              HasSubstr("outstanding read data"))));
}

TEST(ChecksTest, Status) {
  EXPECT_THAT(CheckStatus(Plain(200, "{}"), 200), Passes());
  EXPECT_THAT(
      CheckStatus(Plain(500, "oops"), 200),
      FailsWith(AllOf(HasSubstr("expected status 200"), HasSubstr("got 500"), HasSubstr("oops"))));
  HttpResponse none;
  none.error = "Couldn't connect to server";
  EXPECT_THAT(CheckStatus(none, 200),
              FailsWith(AllOf(HasSubstr("expected status 200"), HasSubstr("no response"),
                              HasSubstr("Couldn't connect"))));
}

TEST(ChecksTest, MediaType) {
  EXPECT_THAT(CheckMediaType(Plain(200, "", "text/event-stream"), "text/event-stream"), Passes());
  EXPECT_THAT(
      CheckMediaType(Plain(200, "", "text/event-stream; charset=utf-8"), "text/event-stream"),
      Passes());
  EXPECT_THAT(
      CheckMediaType(Plain(200, "", "Text/Event-Stream ;charset=UTF-8"), "text/event-stream"),
      Passes());
  EXPECT_THAT(CheckMediaType(Plain(200, "", "text/plain"), "text/event-stream"),
              FailsWith(AllOf(HasSubstr("expected media type text/event-stream"),
                              HasSubstr("\"text/plain\""))));
  EXPECT_THAT(CheckMediaType(Plain(200, "", "text/event-streaming"), "text/event-stream"),
              FailsWith(HasSubstr("text/event-streaming")));
  EXPECT_THAT(CheckMediaType(Plain(200, "", ""), "text/event-stream"),
              FailsWith(AllOf(HasSubstr("expected Content-Type text/event-stream"),
                              HasSubstr("got none"))));
}

TEST(ChecksTest, FirstLineIsData) {
  EXPECT_THAT(CheckFirstLineIsData(GoodStream()), Passes());
  EXPECT_THAT(CheckFirstLineIsData(Sse(": keep-alive\n\ndata: x\n\n")), Passes());
  EXPECT_THAT(CheckFirstLineIsData(Sse("\xEF\xBB\xBF"
                                       "data:x\n\n")),
              Passes());
  EXPECT_THAT(CheckFirstLineIsData(Sse(": hello\nevent: token\ndata: x\n\n")),
              FailsWith(AllOf(HasSubstr("expected the first non-comment line to start with "
                                        "\"data:\""),
                              HasSubstr("got \"event: token\""))));
  EXPECT_THAT(CheckFirstLineIsData(Sse("id: 1\ndata: x\n\n")), FailsWith(HasSubstr("\"id: 1\"")));
  EXPECT_THAT(CheckFirstLineIsData(Sse("", 200)),
              FailsWith(AllOf(HasSubstr("expected a first line"), HasSubstr("no line"))));
}

// --- SSE framing ---

TEST(ChecksTest, SseGrammar) {
  EXPECT_THAT(CheckSseGrammar(GoodStream()), Passes());
  EXPECT_THAT(CheckSseGrammar(Sse("data: a\r\n\r\ndata: b\r\rdata: c\n\n")), Passes());
  // The stream ends in the middle of a line.
  EXPECT_THAT(CheckSseGrammar(Sse("data: one\n\ndata: {\"partial")),
              FailsWith(AllOf(HasSubstr("expected the stream to end on an event boundary"),
                              HasSubstr("a partial line"), HasSubstr("after 1 events"),
                              HasSubstr("data: {\"partial"))));
  // A whole line, but no blank line dispatches it.
  EXPECT_THAT(
      CheckSseGrammar(Sse("data: one\n\ndata: two\n")),
      FailsWith(AllOf(HasSubstr("an event missing its blank line"), HasSubstr("data: two\\n"))));
  EXPECT_THAT(CheckSseGrammar(Sse(": only a comment\n\n")),
              FailsWith(AllOf(HasSubstr("expected at least one event"), HasSubstr("had none"))));
  EXPECT_THAT(CheckSseGrammar(Sse("")), FailsWith(HasSubstr("expected at least one event")));
}

TEST(ChecksTest, ChunkSchemaPasses) {
  EXPECT_THAT(CheckChunkSchema(GoodStream()), Passes());
  EXPECT_THAT(CheckChunkSchema(GoodStream(/*usage=*/true)), Passes());
  // Unknown extra keys are allowed.
  json extra = Chunk("c1", {{"content", "Hello"}});
  extra["system_fingerprint"] = "fp";
  extra["choices"][0]["logprobs"] = nullptr;
  EXPECT_THAT(CheckChunkSchema(WithFrame(1, Event(extra))), Passes());
  // Events after [DONE] are CheckDoneTerminator's business, not the schema's.
  EXPECT_THAT(CheckChunkSchema(Sse(Join(GoodFrames()) + "data: junk\n\n")), Passes());
}

TEST(ChecksTest, ChunkSchemaFailsOnNonJson) {
  EXPECT_THAT(
      CheckChunkSchema(WithFrame(2, "data: not json at all\n\n")),
      FailsWith(AllOf(HasSubstr("expected a chat.completion.chunk"), HasSubstr("not a JSON object"),
                      HasSubstr("event #2"), HasSubstr("not json at all"))));
  EXPECT_THAT(CheckChunkSchema(WithFrame(2, "data: [1, 2]\n\n")),
              FailsWith(HasSubstr("not a JSON object")));
}

TEST(ChecksTest, ChunkSchemaFailsOnWrongObject) {
  json wrong = Chunk("c1", {{"content", "x"}});
  wrong["object"] = "chat.completion";
  EXPECT_THAT(
      CheckChunkSchema(WithFrame(1, Event(wrong))),
      FailsWith(AllOf(HasSubstr("expected a chat.completion.chunk"),
                      HasSubstr("\"object\": \"chat.completion\""), HasSubstr("event #1"))));
  wrong.erase("object");
  EXPECT_THAT(CheckChunkSchema(WithFrame(1, Event(wrong))),
              FailsWith(HasSubstr("\"object\": none")));
}

TEST(ChecksTest, ChunkSchemaFailsOnChangingId) {
  EXPECT_THAT(CheckChunkSchema(WithFrame(3, Event(Chunk("c2", {{"content", " world"}})))),
              FailsWith(AllOf(HasSubstr("got id \"c2\" after \"c1\""), HasSubstr("event #3"))));
  json no_id = Chunk("c1", {{"content", "x"}});
  no_id.erase("id");
  EXPECT_THAT(CheckChunkSchema(WithFrame(1, Event(no_id))),
              FailsWith(HasSubstr("no string \"id\"")));
}

TEST(ChecksTest, ChunkSchemaFailsOnMissingFields) {
  json no_created = Chunk("c1", {{"content", "x"}});
  no_created.erase("created");
  EXPECT_THAT(CheckChunkSchema(WithFrame(1, Event(no_created))),
              FailsWith(AllOf(HasSubstr("no integer \"created\""), HasSubstr("event #1"))));
  json string_created = Chunk("c1", {{"content", "x"}});
  string_created["created"] = "yesterday";
  EXPECT_THAT(CheckChunkSchema(WithFrame(1, Event(string_created))),
              FailsWith(HasSubstr("\"created\"")));
  json no_model = Chunk("c1", {{"content", "x"}});
  no_model.erase("model");
  EXPECT_THAT(CheckChunkSchema(WithFrame(1, Event(no_model))),
              FailsWith(HasSubstr("no \"model\"")));
  json no_choices = Chunk("c1", {{"content", "x"}});
  no_choices.erase("choices");
  EXPECT_THAT(CheckChunkSchema(WithFrame(1, Event(no_choices))),
              FailsWith(HasSubstr("no \"choices\" array")));
}

TEST(ChecksTest, ChunkSchemaFailsOnChoiceWithoutDelta) {
  json no_delta = Chunk("c1", {{"content", "x"}});
  no_delta["choices"][0].erase("delta");
  no_delta["choices"][0]["message"] = {{"content", "x"}};
  EXPECT_THAT(CheckChunkSchema(WithFrame(2, Event(no_delta))),
              FailsWith(AllOf(HasSubstr("a choice without \"delta\""), HasSubstr("event #2"))));
  json no_index = Chunk("c1", {{"content", "x"}});
  no_index["choices"][0].erase("index");
  EXPECT_THAT(CheckChunkSchema(WithFrame(2, Event(no_index))),
              FailsWith(HasSubstr("without an integer \"index\" (none)")));
  json string_index = Chunk("c1", {{"content", "x"}});
  string_index["choices"][0]["index"] = "0";
  EXPECT_THAT(CheckChunkSchema(WithFrame(2, Event(string_index))),
              FailsWith(HasSubstr("without an integer \"index\" (\"0\")")));
  json string_delta = Chunk("c1", "x");
  EXPECT_THAT(CheckChunkSchema(WithFrame(2, Event(string_delta))),
              FailsWith(HasSubstr("a \"delta\" that is not an object")));
}

// Regression: nlohmann's json::value(key, default) throws type_error.302 when
// the key holds another type; checks that called it on the server's JSON
// threw instead of failing.
TEST(ChecksTest, ChecksFailInsteadOfThrowingOnWrongTypes) {
  json object_number = Chunk("c1", {{"content", "x"}});
  object_number["object"] = 5;
  HttpResponse r = WithFrame(1, Event(object_number));
  EXPECT_NO_THROW({ EXPECT_FALSE(CheckChunkSchema(r).ok); });

  json role_null = Chunk("c1", {{"role", nullptr}, {"content", ""}});
  r = WithFrame(0, Event(role_null));
  EXPECT_NO_THROW({ EXPECT_FALSE(CheckRoleFirst(r).ok); });

  json index_string = Chunk("c1", {{"content", "Hello"}});
  index_string["choices"][0]["index"] = "0";
  r = WithFrame(1, Event(index_string));
  EXPECT_NO_THROW({ (void)CheckFinishReason(r); });
  EXPECT_NO_THROW({ (void)StreamedText(r); });

  HttpResponse usage = GoodStream(/*usage=*/true);
  std::string body = usage.body;
  auto at = body.find("\"completion_tokens\":3");
  ASSERT_NE(at, std::string::npos);
  body.replace(at, 21, "\"completion_tokens\":\"3\"");
  EXPECT_NO_THROW({ EXPECT_FALSE(CheckUsage(Sse(body), 3).ok); });

  EXPECT_NO_THROW(
      { EXPECT_FALSE(CheckCompletionContent(Plain(200, R"({"object": 1})"), "x").ok); });
}

// Regression: an empty first id used to mean "no id yet", so "" then "c1"
// passed.
TEST(ChecksTest, ChunkSchemaCatchesAnIdChangingFromEmpty) {
  auto frames = GoodFrames();
  frames[0] = Event(Chunk("", {{"role", "assistant"}, {"content", ""}}));
  EXPECT_THAT(CheckChunkSchema(Sse(Join(frames))), FailsWith(HasSubstr("got id \"c1\"")));
}

// Regression: only the status, the event count and the joined text used to
// be compared, so an error event in place of [DONE] was "the same stream".
TEST(ChecksTest, SameStreamComparesEventsNotOnlyText) {
  auto errored = GoodFrames();
  errored.back() = Event(json{{"error", {{"message", "boom"}}}});
  EXPECT_FALSE(CheckSameStream(GoodStream(), Sse(Join(errored))).ok);
}

// --- chat stream semantics ---

TEST(ChecksTest, DoneTerminator) {
  EXPECT_THAT(CheckDoneTerminator(GoodStream()), Passes());
  auto frames = GoodFrames();
  frames.pop_back();
  EXPECT_THAT(CheckDoneTerminator(Sse(Join(frames))),
              FailsWith(AllOf(HasSubstr("expected data: [DONE] as the last event"),
                              HasSubstr("got none (5 events)"), HasSubstr("last was event #4"))));
  EXPECT_THAT(CheckDoneTerminator(Sse("")), FailsWith(HasSubstr("got none (no events)")));
  EXPECT_THAT(CheckDoneTerminator(Sse(Join(GoodFrames()) + "data: [DONE]\n\n")),
              FailsWith(AllOf(HasSubstr("exactly once"), HasSubstr("2 times"))));
  EXPECT_THAT(CheckDoneTerminator(Sse(Join(GoodFrames()) + Event(Chunk("c1", {{"content", "!"}})))),
              FailsWith(AllOf(HasSubstr("as the last event"), HasSubstr("event #6"),
                              HasSubstr("came after it"))));
  // "[DONE]" must be the whole data, not a substring.
  EXPECT_THAT(CheckDoneTerminator(WithFrame(5, "data:  [DONE]\n\n")),
              FailsWith(HasSubstr("got none")));
}

TEST(ChecksTest, ContentParity) {
  EXPECT_THAT(CheckContentParity(GoodStream(), kText), Passes());
  EXPECT_THAT(CheckContentParity(GoodStream(), "Hello streaming wOrld"),
              FailsWith(AllOf(HasSubstr("expected the streamed text to equal the backend's 21 "
                                        "characters"),
                              HasSubstr("differ at 17"), HasSubstr("expected \"Orld\""),
                              HasSubstr("got \"orld\""), HasSubstr("21 characters streamed"))));
  // A stream cut short: the missing tail is what the message shows.
  EXPECT_THAT(CheckContentParity(GoodStream(), kText + " and more"),
              FailsWith(AllOf(HasSubstr("differ at 21"), HasSubstr("expected \" and more\""),
                              HasSubstr("got \"\""))));
  EXPECT_THAT(CheckContentParity(Sse(""), "x"), FailsWith(HasSubstr("0 characters streamed")));
}

TEST(ChecksTest, StreamedTextAndDeltaContent) {
  EXPECT_EQ(StreamedText(GoodStream()), kText);
  EXPECT_EQ(DeltaContent(Chunk("c", {{"content", "abc"}}).dump()), "abc");
  EXPECT_EQ(DeltaContent(Chunk("c", {{"role", "assistant"}}).dump()), "");
  EXPECT_EQ(DeltaContent("[DONE]"), "");
  EXPECT_EQ(DeltaContent("not json"), "");
  EXPECT_EQ(DeltaContent(R"({"choices":[{"index":1,"delta":{"content":"other"}}]})"), "");
  EXPECT_EQ(DeltaContent(R"({"choices":[{"index":0,"delta":{"content":null}}]})"), "");
}

TEST(ChecksTest, RoleFirst) {
  EXPECT_THAT(CheckRoleFirst(GoodStream()), Passes());
  EXPECT_THAT(CheckRoleFirst(WithFrame(0, Event(Chunk("c1", {{"content", ""}})))),
              FailsWith(AllOf(HasSubstr("expected the first chunk's delta to carry \"role\": "
                                        "\"assistant\""),
                              HasSubstr("\"content\":\"\""))));
  EXPECT_THAT(CheckRoleFirst(WithFrame(0, Event(Chunk("c1", {{"role", "user"}})))),
              FailsWith(HasSubstr("\"role\":\"user\"")));
  EXPECT_THAT(CheckRoleFirst(Sse("")), FailsWith(HasSubstr("got no events")));
}

TEST(ChecksTest, FinishReason) {
  EXPECT_THAT(CheckFinishReason(GoodStream()), Passes());
  EXPECT_THAT(CheckFinishReason(GoodStream(/*usage=*/true)), Passes());
  // None at all.
  EXPECT_THAT(CheckFinishReason(WithFrame(4, Event(Chunk("c1", json::object())))),
              FailsWith(AllOf(HasSubstr("expected one non-null finish_reason for choice 0"),
                              HasSubstr("got none"))));
  // Two.
  EXPECT_THAT(CheckFinishReason(WithFrame(3, Event(Chunk("c1", {{"content", " world"}}, "stop")))),
              FailsWith(AllOf(HasSubstr("expected one non-null finish_reason for choice 0"),
                              HasSubstr("got 2"))));
  // One, but not on the choice's last chunk.
  auto frames = GoodFrames();
  std::swap(frames[3], frames[4]);
  EXPECT_THAT(CheckFinishReason(Sse(Join(frames))),
              FailsWith(AllOf(HasSubstr("no content for choice 0 after its finish_reason"),
                              HasSubstr("event #4"), HasSubstr("came after it"))));
  EXPECT_THAT(CheckFinishReason(Sse("data: [DONE]\n\n")), FailsWith(HasSubstr("expected choices")));
}

TEST(ChecksTest, FinishReasonPerChoice) {
  // Two choices, each finished once on its own last chunk: pass.
  json a = Chunk("c1", {{"content", "a"}});
  a["choices"].push_back({{"index", 1}, {"delta", {{"content", "b"}}}, {"finish_reason", nullptr}});
  json a_done = Chunk("c1", json::object(), "stop");
  json b_done = Chunk("c1", json::object(), "length");
  b_done["choices"][0]["index"] = 1;
  EXPECT_THAT(CheckFinishReason(
                  Sse(Event(a) + Event(a_done) + Event(b_done) + Event(std::string("[DONE]")))),
              Passes());
  // Choice 1 never finishes.
  EXPECT_THAT(CheckFinishReason(Sse(Event(a) + Event(a_done) + Event(std::string("[DONE]")))),
              FailsWith(AllOf(HasSubstr("choice 1"), HasSubstr("got none"))));
}

TEST(ChecksTest, Usage) {
  EXPECT_THAT(CheckUsage(GoodStream(/*usage=*/true), 3), Passes());
  EXPECT_THAT(CheckUsage(GoodStream(), 3),
              FailsWith(AllOf(HasSubstr("expected a last chunk before [DONE] with \"usage\""),
                              HasSubstr("finish_reason"))));
  EXPECT_THAT(
      CheckUsage(GoodStream(/*usage=*/true), 4),
      FailsWith(AllOf(HasSubstr("expected usage.completion_tokens 4"), HasSubstr("got 3"))));
  // usage on a chunk that still has choices.
  auto frames = GoodFrames(/*usage=*/true);
  json with_choices = Chunk("c1", json::object());
  with_choices["usage"] = {{"completion_tokens", 3}};
  frames[5] = Event(with_choices);
  EXPECT_THAT(CheckUsage(Sse(Join(frames)), 3),
              FailsWith(HasSubstr("expected the usage chunk to have \"choices\": []")));
  json no_count = Chunk("c1", json::object());
  no_count["choices"] = json::array();
  no_count["usage"] = {{"prompt_tokens", 2}};
  frames[5] = Event(no_count);
  EXPECT_THAT(CheckUsage(Sse(Join(frames)), 3), FailsWith(HasSubstr("got none")));
  EXPECT_THAT(CheckUsage(Sse(""), 3), FailsWith(HasSubstr("got no events")));
}

TEST(ChecksTest, CompletionContent) {
  json completion = {
      {"id", "x"},
      {"object", "chat.completion"},
      {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", kText}}}}}}};
  EXPECT_THAT(CheckCompletionContent(Plain(200, completion.dump()), kText), Passes());
  EXPECT_THAT(CheckCompletionContent(Plain(200, completion.dump()), "something else"),
              FailsWith(AllOf(HasSubstr("expected message content \"something else\""),
                              HasSubstr("got \"Hello streaming world\""))));
  json chunk_object = completion;
  chunk_object["object"] = "chat.completion.chunk";
  EXPECT_THAT(CheckCompletionContent(Plain(200, chunk_object.dump()), kText),
              FailsWith(HasSubstr("expected a chat.completion object")));
  EXPECT_THAT(CheckCompletionContent(Plain(200, "<html>no</html>"), kText),
              FailsWith(AllOf(HasSubstr("expected a chat.completion object"),
                              HasSubstr("<html>no</html>"))));
  json no_content = completion;
  no_content["choices"][0]["message"].erase("content");
  EXPECT_THAT(CheckCompletionContent(Plain(200, no_content.dump()), kText),
              FailsWith(HasSubstr("expected choices[0].message.content")));
  json no_choices = completion;
  no_choices["choices"] = json::array();
  EXPECT_THAT(CheckCompletionContent(Plain(200, no_choices.dump()), kText),
              FailsWith(HasSubstr("expected choices[0].message.content")));
}

TEST(ChecksTest, NoCacheHeaders) {
  HttpResponse r = GoodStream();
  r.headers.emplace_back("cache-control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  EXPECT_THAT(CheckNoCacheHeaders(r), Passes());
  HttpResponse store = GoodStream();
  store.headers.emplace_back("Cache-Control", "private, No-Store");
  store.headers.emplace_back("x-accel-buffering", "No");
  EXPECT_THAT(CheckNoCacheHeaders(store), Passes());

  HttpResponse no_cache = GoodStream();
  no_cache.headers.emplace_back("X-Accel-Buffering", "no");
  EXPECT_THAT(
      CheckNoCacheHeaders(no_cache),
      FailsWith(AllOf(HasSubstr("expected Cache-Control: no-cache and X-Accel-Buffering: "
                                "no"),
                      HasSubstr("Cache-Control: (none)"), HasSubstr("X-Accel-Buffering: no"))));
  HttpResponse no_accel = GoodStream();
  no_accel.headers.emplace_back("Cache-Control", "no-cache");
  EXPECT_THAT(CheckNoCacheHeaders(no_accel),
              FailsWith(AllOf(HasSubstr("Cache-Control: no-cache"),
                              HasSubstr("X-Accel-Buffering: (none)"))));
  HttpResponse cached = GoodStream();
  cached.headers.emplace_back("Cache-Control", "max-age=60");
  cached.headers.emplace_back("X-Accel-Buffering", "yes");
  EXPECT_THAT(CheckNoCacheHeaders(cached),
              FailsWith(AllOf(HasSubstr("max-age=60"), HasSubstr("X-Accel-Buffering: yes"))));
}

TEST(ChecksTest, ClientErrorJson) {
  EXPECT_THAT(CheckClientErrorJson(Plain(400, R"({"error":{"message":"bad"}})")), Passes());
  EXPECT_THAT(CheckClientErrorJson(Plain(422, R"({"detail":[]})")), Passes());
  EXPECT_THAT(CheckClientErrorJson(GoodStream()),
              FailsWith(AllOf(HasSubstr("expected a 4xx"), HasSubstr("got 200"))));
  EXPECT_THAT(
      CheckClientErrorJson(Plain(500, R"({"message":"boom"})")),
      FailsWith(AllOf(HasSubstr("expected a 4xx"), HasSubstr("got 500"), HasSubstr("boom"))));
  EXPECT_THAT(CheckClientErrorJson(Plain(400, "<html><h1>Bad Request</h1></html>", "text/html")),
              FailsWith(AllOf(HasSubstr("expected a JSON error body with the 400"),
                              HasSubstr("<html><h1>Bad Request"))));
  EXPECT_THAT(CheckClientErrorJson(Sse("data: {\"error\":1}\n\n", 400)),
              FailsWith(AllOf(HasSubstr("expected an error body, got an event stream"),
                              HasSubstr("text/event-stream"))));
  HttpResponse none;
  none.error = "Connection refused";
  EXPECT_THAT(CheckClientErrorJson(none),
              FailsWith(AllOf(HasSubstr("no response"), HasSubstr("Connection refused"))));
}

// --- backend failures ---

HttpResponse FailedStream(bool with_done, bool with_error) {
  auto frames = GoodFrames();
  frames.resize(3);  // role and two tokens
  if (with_error) {
    frames.push_back(Event(json{{"error", {{"message", "backend failed"}}}}));
  }
  if (with_done) frames.push_back(Event(std::string("[DONE]")));
  return Sse(Join(frames));
}

TEST(ChecksTest, EndedWithoutDone) {
  EXPECT_THAT(CheckEndedWithoutDone(FailedStream(false, true)), Passes());
  EXPECT_THAT(CheckEndedWithoutDone(FailedStream(false, false)), Passes());
  EXPECT_THAT(CheckEndedWithoutDone(FailedStream(true, false)),
              FailsWith(AllOf(HasSubstr("expected no [DONE] after a backend failure"),
                              HasSubstr("event #3"), HasSubstr("cut short"))));
  HttpResponse hung = FailedStream(false, false);
  hung.complete = false;
  hung.curl_code = 28;
  hung.t_total_ms = 30000;
  hung.error = "Timeout was reached";
  EXPECT_THAT(CheckEndedWithoutDone(hung),
              FailsWith(AllOf(HasSubstr("hung until the client gave up"), HasSubstr("30000 ms"))));
}

TEST(ChecksTest, ErrorEvent) {
  EXPECT_THAT(CheckErrorEvent(FailedStream(false, true)), Passes());
  EXPECT_THAT(
      CheckErrorEvent(FailedStream(false, false)),
      FailsWith(AllOf(HasSubstr("expected an in-band data: {\"error\": ...} event"),
                      HasSubstr("got none with \"error\" (3 events)"), HasSubstr("last: \""))));
  // "error" inside a string is not an error member.
  EXPECT_THAT(CheckErrorEvent(Sse(Event(Chunk("c1", {{"content", "error"}})))),
              FailsWith(HasSubstr("none with \"error\"")));
  EXPECT_THAT(CheckErrorEvent(Sse("")), FailsWith(HasSubstr("(no events)")));
}

TEST(ChecksTest, SameStream) {
  EXPECT_THAT(CheckSameStream(GoodStream(), GoodStream()), Passes());
  // Different ids, same events and text: still the same stream.
  auto frames = GoodFrames();
  for (auto& f : frames) {
    auto at = f.find("\"c1\"");
    if (at != std::string::npos) f.replace(at, 4, "\"c9\"");
  }
  EXPECT_THAT(CheckSameStream(GoodStream(), Sse(Join(frames))), Passes());

  EXPECT_THAT(
      CheckSameStream(GoodStream(), WithFrame(3, Event(Chunk("c1", {{"content", " moon"}})))),
      FailsWith(AllOf(HasSubstr("expected the same stream on both paths"),
                      HasSubstr("Hello streaming world"), HasSubstr("Hello streaming moon"))));
  auto fewer = GoodFrames();
  fewer.erase(fewer.begin());  // no role chunk: same text, one event less
  EXPECT_THAT(CheckSameStream(GoodStream(), Sse(Join(fewer))),
              FailsWith(AllOf(HasSubstr("6 events"), HasSubstr("5 events"))));
  EXPECT_THAT(CheckSameStream(GoodStream(), Sse(Join(GoodFrames()), 404)),
              FailsWith(AllOf(HasSubstr("expected the same status"), HasSubstr("200 and 404"))));
}

// --- bytes ---

TEST(ChecksTest, ByteCount) {
  HttpResponse r = Plain(200, std::string(100, 'x'), "application/octet-stream");
  EXPECT_THAT(CheckByteCount(r, 100), Passes());
  r.body_bytes = 90;
  EXPECT_THAT(CheckByteCount(r, 100),
              FailsWith(AllOf(HasSubstr("expected exactly 100 bytes"), HasSubstr("got 90"))));
  r.complete = false;
  r.error = "transfer closed with 10 bytes remaining to read";
  EXPECT_THAT(CheckByteCount(r, 100),
              FailsWith(AllOf(HasSubstr("got 90 before the transfer failed"),
                              HasSubstr("10 bytes remaining"))));
  r.body_bytes = 104857601;
  r.complete = true;
  EXPECT_THAT(CheckByteCount(r, 104857600),
              FailsWith(AllOf(HasSubstr("104857600"), HasSubstr("got 104857601"))));
}

TEST(ChecksTest, Sha256) {
  HttpResponse r = Plain(200, "abc", "application/octet-stream");
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  EXPECT_EQ(r.sha256, abc);
  EXPECT_THAT(CheckSha256(r, abc), Passes());
  const std::string other = Sha256::Of("abd");
  EXPECT_THAT(CheckSha256(r, other),
              FailsWith(AllOf(HasSubstr("expected SHA-256 " + other), HasSubstr("got " + abc),
                              HasSubstr("over 3 bytes"))));
}

TEST(ChecksTest, MemoryGrowthIsJudgedOnPss) {
  MemorySummary m;
  m.baseline = {100ull << 20, 100ull << 20, 1};
  m.peak = {130ull << 20, 130ull << 20, 1};
  m.peak_rss_bytes = 130ull << 20;
  m.samples = 50;
  EXPECT_THAT(CheckMemoryGrowth(m, 64), Passes());
  m.peak.pss_bytes = (100ull << 20) + (64ull << 20);
  EXPECT_THAT(CheckMemoryGrowth(m, 64), Passes()) << "exactly the limit is within it";
  m.peak = {210ull << 20, 210ull << 20, 3};
  m.peak_rss_bytes = 260ull << 20;
  EXPECT_THAT(CheckMemoryGrowth(m, 64),
              FailsWith(AllOf(HasSubstr("expected PSS growth within 64 MiB"),
                              HasSubstr("got 110.0 MiB"), HasSubstr("100.0 -> 210.0 MiB"),
                              HasSubstr("50 samples of 3 process(es)"), HasSubstr("RSS +160.0"))));
  // Forked workers sharing pages: RSS counts them per worker, PSS once.
  m.peak = {400ull << 20, 120ull << 20, 4};
  m.peak_rss_bytes = 400ull << 20;
  EXPECT_THAT(CheckMemoryGrowth(m, 64), Passes());
  MemorySummary none;
  EXPECT_THAT(CheckMemoryGrowth(none, 64), FailsWith(HasSubstr("got none")));
}

TEST(ChecksTest, PartialContent) {
  const std::string range = "bytes 100-199/1048576";
  HttpResponse ok = Plain(206, std::string(100, 'x'), "application/octet-stream");
  ok.headers.emplace_back("Content-Range", range);
  EXPECT_THAT(CheckPartialContent(ok, range), Passes());

  HttpResponse two = ok;
  two.headers.emplace_back("content-range", "bytes 0-0/*");
  EXPECT_THAT(CheckPartialContent(two, range),
              FailsWith(AllOf(HasSubstr("expected one Content-Range"), HasSubstr("got 2"),
                              HasSubstr("\"bytes 0-0/*\""))));
  HttpResponse none = Plain(206, std::string(100, 'x'));
  EXPECT_THAT(CheckPartialContent(none, range), FailsWith(HasSubstr("got 0")));
  HttpResponse other = Plain(206, std::string(100, 'x'));
  other.headers.emplace_back("Content-Range", "bytes 0-99/1048576");
  EXPECT_THAT(CheckPartialContent(other, range),
              FailsWith(HasSubstr("got \"bytes 0-99/1048576\"")));
  HttpResponse whole = Plain(200, std::string(1048576, 'x'));
  EXPECT_THAT(CheckPartialContent(whole, range), FailsWith(HasSubstr("got status 200")));
  HttpResponse short_body = ok;
  short_body.body_bytes = 50;
  EXPECT_THAT(CheckPartialContent(short_body, range),
              FailsWith(AllOf(HasSubstr("expected 100 bytes"), HasSubstr("got 50"))));
}

TEST(ChecksTest, ResponseFraming) {
  HttpResponse cl = Plain(200, std::string(10, 'x'));
  cl.headers.emplace_back("Content-Length", "10");
  EXPECT_THAT(CheckResponseFraming(cl), Passes());
  HttpResponse chunked = Plain(200, std::string(10, 'x'));
  chunked.headers.emplace_back("Transfer-Encoding", "chunked");
  EXPECT_THAT(CheckResponseFraming(chunked), Passes());

  HttpResponse both = chunked;
  both.headers.emplace_back("content-length", "10");
  EXPECT_THAT(
      CheckResponseFraming(both),
      FailsWith(AllOf(HasSubstr("got both"), HasSubstr("chunked, 10"), HasSubstr("ambiguous"))));
  HttpResponse short_body = cl;
  short_body.body_bytes = 7;
  EXPECT_THAT(
      CheckResponseFraming(short_body),
      FailsWith(AllOf(HasSubstr("expected 10 bytes as Content-Length says"), HasSubstr("got 7"))));
  HttpResponse bad = Plain(200, "x");
  bad.headers.emplace_back("Content-Length", "1x");
  EXPECT_THAT(CheckResponseFraming(bad),
              FailsWith(AllOf(HasSubstr("numeric Content-Length"), HasSubstr("\"1x\""))));
  HttpResponse cut = chunked;
  cut.complete = false;
  cut.error = "transfer closed with outstanding read data remaining";
  EXPECT_THAT(CheckResponseFraming(cut), FailsWith(AllOf(HasSubstr("expected a complete response"),
                                                         HasSubstr("outstanding read data"))));
}

TEST(ChecksTest, TruncationVisible) {
  HttpResponse cut = Plain(200, std::string(100, 'x'), "application/octet-stream");
  cut.complete = false;
  cut.curl_code = 18;
  cut.error = "transfer closed with outstanding read data remaining";
  EXPECT_THAT(CheckTruncationVisible(cut), Passes());
  EXPECT_THAT(CheckTruncationVisible(Plain(502, R"({"error":"backend"})")), Passes());

  HttpResponse clean = Plain(200, std::string(100, 'x'), "application/octet-stream");
  EXPECT_THAT(CheckTruncationVisible(clean),
              FailsWith(AllOf(HasSubstr("expected the client to see the body cut short"),
                              HasSubstr("clean end after 100 bytes"))));
  HttpResponse none;
  none.error = "Couldn't connect to server";
  none.curl_code = 7;
  EXPECT_THAT(CheckTruncationVisible(none),
              FailsWith(AllOf(HasSubstr("got none"), HasSubstr("Couldn't connect"))));
  // A proxy that had sent no headers yet and resets (an empty reply, an
  // HTTP/2 RST_STREAM) shows the client the failure.
  HttpResponse reset;
  reset.error = "Empty reply from server";
  reset.curl_code = 52;
  EXPECT_TRUE(CheckTruncationVisible(reset).ok);
  reset.curl_code = 92;
  EXPECT_TRUE(CheckTruncationVisible(reset).ok);
}

TEST(ChecksTest, Passthrough) {
  const std::string body = R"({"error":{"message":"mock status 404","code":404}})";
  EXPECT_THAT(CheckPassthrough(Plain(404, body), 404, body), Passes());
  EXPECT_THAT(
      CheckPassthrough(Plain(500, body), 404, body),
      FailsWith(AllOf(HasSubstr("expected the backend's status 404"), HasSubstr("got 500"))));
  EXPECT_THAT(CheckPassthrough(Plain(404, "Not Found"), 404, body),
              FailsWith(AllOf(HasSubstr("expected the backend's body"), HasSubstr("mock status"),
                              HasSubstr("got \"Not Found\""))));
}

// --- the mock's /echo ---

HttpResponse Echo(const json& j) { return Plain(200, j.dump()); }

json EchoJson(const std::string& method, const std::string& body) {
  return {{"method", method},
          {"path", "/echo"},
          {"target", "/echo?a=1&a=2&b=3"},
          {"query", {{"a", {"1", "2"}}, {"b", {"3"}}}},
          {"headers", {{"Authorization", {"Bearer t"}}, {"X-Custom", {"v"}}}},
          {"body_length", body.size()},
          {"body_sha256", Sha256::Of(body)}};
}

TEST(ChecksTest, EchoMethodAndBody) {
  const std::string body = "hello body";
  EXPECT_THAT(CheckEcho(Echo(EchoJson("PUT", body)), "PUT", body.size(), Sha256::Of(body)),
              Passes());
  EXPECT_THAT(
      CheckEcho(Echo(EchoJson("POST", body)), "PUT", body.size(), Sha256::Of(body)),
      FailsWith(AllOf(HasSubstr("expected the backend to see PUT"), HasSubstr("it saw POST"))));
  EXPECT_THAT(CheckEcho(Echo(EchoJson("PUT", "hello")), "PUT", body.size(), Sha256::Of(body)),
              FailsWith(AllOf(HasSubstr("10-byte PUT body intact"), HasSubstr("it got 5 bytes"))));
  EXPECT_THAT(CheckEcho(Echo(EchoJson("PUT", "hellO body")), "PUT", body.size(), Sha256::Of(body)),
              FailsWith(AllOf(HasSubstr("it got 10 bytes"), HasSubstr("different SHA-256"))));
  EXPECT_THAT(CheckEcho(Plain(502, R"({"error":"down"})"), "PUT", 0, Sha256::Of("")),
              FailsWith(AllOf(HasSubstr("expected the backend's echo"), HasSubstr("status 502"),
                              HasSubstr("down"))));
  EXPECT_THAT(CheckEcho(Plain(200, "not json"), "GET", 0, Sha256::Of("")),
              FailsWith(HasSubstr("expected the backend's echo")));
}

TEST(ChecksTest, EchoQuery) {
  auto echo = Echo(EchoJson("GET", ""));
  EXPECT_THAT(CheckEchoQuery(echo, {{"a", "1"}, {"a", "2"}, {"b", "3"}}), Passes());
  EXPECT_THAT(CheckEchoQuery(echo, {{"b", "3"}}), Passes());
  // A repeated key that lost a value.
  json lost = EchoJson("GET", "");
  lost["query"]["a"] = {"2"};
  EXPECT_THAT(CheckEchoQuery(Echo(lost), {{"a", "1"}, {"a", "2"}}),
              FailsWith(AllOf(HasSubstr("expected the backend to see a=1,2"),
                              HasSubstr("it saw a=2"), HasSubstr("target /echo?a=1&a=2&b=3"))));
  // Order matters for repeated keys.
  EXPECT_THAT(CheckEchoQuery(echo, {{"a", "2"}, {"a", "1"}}), FailsWith(HasSubstr("it saw a=1,2")));
  EXPECT_THAT(
      CheckEchoQuery(echo, {{"c", "x"}}),
      FailsWith(AllOf(HasSubstr("expected the backend to see c=x"), HasSubstr("it saw no c"))));
}

TEST(ChecksTest, EchoHeaders) {
  auto echo = Echo(EchoJson("GET", ""));
  EXPECT_THAT(CheckEchoHeaders(echo, {{"authorization", "Bearer t"}, {"X-Custom", "v"}},
                               {"Connection", "Keep-Alive", "X-Foo"}),
              Passes());
  EXPECT_THAT(CheckEchoHeaders(echo, {{"X-Missing", "1"}, {"X-Custom", "other"}}, {}),
              FailsWith(AllOf(HasSubstr("not forwarded (or changed): X-Missing, X-Custom"))));
  json leaked = EchoJson("GET", "");
  leaked["headers"]["Keep-Alive"] = {"timeout=5"};
  leaked["headers"]["x-foo"] = {"1"};
  EXPECT_THAT(CheckEchoHeaders(Echo(leaked), {{"X-Custom", "v"}}, {"Keep-Alive", "X-Foo", "TE"}),
              FailsWith(AllOf(HasSubstr("hop-by-hop headers that reached the backend: "
                                        "Keep-Alive, X-Foo"),
                              ::testing::Not(HasSubstr("not forwarded")))));
}

// RFC 9110 §7.6.1: a proxy may replace Connection with its own options, but
// one that still names the client's option has forwarded it.
TEST(ChecksTest, EchoHeadersConnectionNamingTheOption) {
  json own = EchoJson("GET", "");
  own["headers"]["Connection"] = {"keep-alive"};
  EXPECT_THAT(CheckEchoHeaders(Echo(own), {}, {"X-Hop"}, "X-Hop"), Passes());
  json forwarded = EchoJson("GET", "");
  forwarded["headers"]["connection"] = {"keep-alive,  x-hop "};
  EXPECT_THAT(CheckEchoHeaders(Echo(forwarded), {}, {"X-Hop"}, "X-Hop"),
              FailsWith(HasSubstr("reached the backend: Connection: keep-alive,  x-hop")));
}

HttpResponse WithHeaders(HttpResponse r, const Headers& headers) {
  r.headers.insert(r.headers.end(), headers.begin(), headers.end());
  return r;
}

TEST(ChecksTest, ResponseHeadersBothWays) {
  HttpResponse clean =
      WithHeaders(Plain(200, "{}"), {{"X-End-To-End", "kept"}, {"Connection", "keep-alive"}});
  EXPECT_THAT(
      CheckResponseHeaders(clean, {{"X-End-To-End", "kept"}}, {"Keep-Alive", "X-Hop"}, "X-Hop"),
      Passes());
  HttpResponse leaky = WithHeaders(Plain(200, "{}"), {{"X-End-To-End", "kept"},
                                                      {"Connection", "upgrade, X-Hop"},
                                                      {"keep-alive", "timeout=5"},
                                                      {"X-Hop", "secret"}});
  EXPECT_THAT(
      CheckResponseHeaders(leaky, {{"X-End-To-End", "kept"}}, {"Keep-Alive", "X-Hop"}, "X-Hop"),
      FailsWith(HasSubstr("hop-by-hop headers that reached the client: Keep-Alive, X-Hop, "
                          "Connection: upgrade, X-Hop")));
  EXPECT_THAT(CheckResponseHeaders(Plain(200, "{}"), {{"X-End-To-End", "kept"}}, {}),
              FailsWith(HasSubstr("not forwarded (or changed): X-End-To-End")));
  HttpResponse none;
  none.error = "Connection refused";
  EXPECT_THAT(CheckResponseHeaders(none, {}, {}), FailsWith(HasSubstr("got none")));
}

// A client read at 8 MiB/s: `read` points every 100 ms from t=5 ms.
HttpResponse SlowRead(double total_mib) {
  HttpResponse r = Plain(200, "");
  r.t_first_byte_ms = 5;
  for (int i = 0; i * 0.8 <= total_mib; ++i) {
    r.arrivals.push_back({5.0 + i * 100, std::uint64_t(i * 0.8 * 1024 * 1024), 0});
  }
  r.body_bytes = std::uint64_t(total_mib * 1024 * 1024);
  r.t_last_byte_ms = r.arrivals.back().t_ms;
  return r;
}

TEST(ChecksTest, BackendLeadPassesAProxyThatKeepsPace) {
  auto client = SlowRead(96);
  // The backend a few MiB ahead (socket buffers), at the client's pace.
  std::vector<ArrivalPoint> sent;
  for (const auto& p : client.arrivals) {
    sent.push_back(
        {p.t_ms - 5, std::min<std::uint64_t>(p.bytes + 4 * 1024 * 1024, client.body_bytes), 0});
  }
  EXPECT_THAT(CheckBackendLead(sent, client, 16), Passes());
  EXPECT_NEAR(MaxBackendLead(sent, client).max_mib, 4.0, 0.01);
}

TEST(ChecksTest, BackendLeadFailsAProxyThatHoldsTheBody) {
  auto client = SlowRead(96);
  // nginx's default buffering: the whole body taken in about a second.
  std::vector<ArrivalPoint> sent = {
      {100, 10ull << 20, 0}, {500, 50ull << 20, 0}, {1000, 96ull << 20, 0}};
  EXPECT_THAT(CheckBackendLead(sent, client, 16),
              FailsWith(AllOf(HasSubstr("expected the backend at most 16.0 MiB ahead"),
                              HasSubstr("had sent 96.0 MiB while the client had read 8.0 MiB"),
                              HasSubstr("in memory or on disk"))));
  auto lead = MaxBackendLead(sent, client);
  EXPECT_NEAR(lead.max_mib, 88.0, 0.01);
  EXPECT_NEAR(lead.at_ms, 1005, 0.01);  // placed at the client's first byte + 1000 ms
}

TEST(ChecksTest, BackendLeadIsNeverOverstated) {
  auto client = SlowRead(8);
  // Sent exactly as read: whatever the offset between the clocks, no lead.
  std::vector<ArrivalPoint> sent;
  for (const auto& p : client.arrivals) sent.push_back({p.t_ms - 5, p.bytes, 0});
  EXPECT_DOUBLE_EQ(MaxBackendLead(sent, client).max_mib, 0.0);
  // Points past the client's last read count against its whole body.
  sent.push_back({60'000, client.body_bytes, 0});
  EXPECT_DOUBLE_EQ(MaxBackendLead(sent, client).max_mib, 0.0);
  EXPECT_THAT(CheckBackendLead({}, client, 16), FailsWith(HasSubstr("the backend recorded none")));
}

// The lead allowed is this machine's socket buffers on the way, never under
// 16 MiB, and a larger client buffer allows more (twice it: the kernel doubles
// SO_RCVBUF).
TEST(ChecksTest, BackendLeadAllowanceFollowsTheSocketBuffers) {
  const double small = BackendLeadAllowanceMib(256 * 1024);
  EXPECT_GE(small, 16.0);
  EXPECT_GE(BackendLeadAllowanceMib(64ull * 1024 * 1024), small + 2 * 64 - 16);
}

TEST(ChecksTest, ServerError) {
  HttpResponse bad_gateway = Plain(502, R"({"error":{"message":"backend unreachable"}})");
  bad_gateway.t_headers_ms = 12;
  EXPECT_THAT(CheckServerError(bad_gateway, 502, 5000), Passes());
  HttpResponse internal = Plain(500, R"({"message":"ERROR"})");
  internal.t_headers_ms = 12;
  EXPECT_THAT(CheckServerError(internal, 502, 5000), Passes()) << "502 is only preferred";

  EXPECT_THAT(CheckServerError(Plain(200, "ok"), 502, 5000),
              FailsWith(AllOf(HasSubstr("expected a 5xx (502)"), HasSubstr("got 200"))));
  HttpResponse slow = bad_gateway;
  slow.t_headers_ms = 7250;
  EXPECT_THAT(
      CheckServerError(slow, 502, 5000),
      FailsWith(AllOf(HasSubstr("expected the 502 within 5000 ms"), HasSubstr("it took 7250 ms"))));
  HttpResponse empty = Plain(504, "");
  empty.t_headers_ms = 10;
  // RFC 9110 §15.6: the explaining body is a SHOULD, not judged here (Caddy
  // answers an unreachable upstream with an empty 502).
  EXPECT_THAT(CheckServerError(empty, 504, 5000), Passes());
  HttpResponse none;
  none.t_total_ms = 5001;
  none.error = "Timeout was reached";
  EXPECT_THAT(
      CheckServerError(none, 502, 5000),
      FailsWith(AllOf(HasSubstr("expected a 502 within 5 s"),
                      HasSubstr("no response after 5001 ms"), HasSubstr("Timeout was reached"))));
}

TEST(ChecksTest, ExcerptEscapesAndTruncates) {
  EXPECT_EQ(Excerpt("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(Excerpt(std::string("\x01\x7f", 2)), "\\x01\\x7f");
  EXPECT_EQ(Excerpt("abcdef", 3), "abc…");
  EXPECT_EQ(Excerpt("abc", 3), "abc");
  EXPECT_THAT(Excerpt(""), IsEmpty());
}

}  // namespace
}  // namespace streamcheck::harness
