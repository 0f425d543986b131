// The chat checks held against the shapes of real OpenAI-compatible streams,
// written by hand from the vendors' public format descriptions: every MUST
// check passes what the official SDKs read without error, and each shape
// that a client misreads fails exactly the check that says why.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <string>

#include "harness/checks.h"

namespace streamcheck::harness {
namespace {

using ::testing::HasSubstr;

HttpResponse Stream(const std::string& body) {
  HttpResponse r;
  r.complete = true;
  r.status = 200;
  r.http_version = "1.1";
  r.headers = {{"Content-Type", "text/event-stream"}};
  r.body = body;
  r.body_bytes = body.size();
  r.stream = RecordEventStream(body);
  return r;
}

std::string Data(const std::string& json) { return "data: " + json + "\n\n"; }

const std::string kDone = "data: [DONE]\n\n";

// OpenAI itself (api.openai.com), with include_usage: role first, content,
// finish, the usage chunk with choices [].
const std::string kOpenAi =
    Data(
        R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-2024-05-13","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null})") +
    Data(
        R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-2024-05-13","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":null,"finish_reason":null}],"usage":null})") +
    Data(
        R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-2024-05-13","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null})") +
    Data(
        R"({"id":"chatcmpl-9x","object":"chat.completion.chunk","created":1718000000,"model":"gpt-4o-2024-05-13","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":8,"completion_tokens":1,"total_tokens":9}})") +
    kDone;

// Azure OpenAI: a prompt-filter chunk first (empty id, object and model,
// choices []), then the content, then content-filter annotation chunks
// after the finish chunk, choices without delta.
const std::string kAzure =
    Data(
        R"({"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}]})") +
    Data(
        R"({"choices":[{"content_filter_results":{},"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}],"created":1718000001,"id":"chatcmpl-az","model":"gpt-4o-2024-05-13","object":"chat.completion.chunk","system_fingerprint":"fp_a"})") +
    Data(
        R"({"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"delta":{"content":"Hi"},"finish_reason":null,"index":0,"logprobs":null}],"created":1718000001,"id":"chatcmpl-az","model":"gpt-4o-2024-05-13","object":"chat.completion.chunk","system_fingerprint":"fp_a"})") +
    Data(
        R"({"choices":[{"content_filter_results":{},"delta":{},"finish_reason":"stop","index":0,"logprobs":null}],"created":1718000001,"id":"chatcmpl-az","model":"gpt-4o-2024-05-13","object":"chat.completion.chunk","system_fingerprint":"fp_a"})") +
    Data(
        R"({"choices":[{"content_filter_offsets":{"check_offset":0,"start_offset":0,"end_offset":2},"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}},"finish_reason":null,"index":0}],"created":1718000001,"id":"chatcmpl-az","model":"gpt-4o-2024-05-13","object":"chat.completion.chunk","system_fingerprint":"fp_a"})") +
    kDone;

// Perplexity: the last chunk before [DONE] has "object":
// "chat.completion.done" and repeats the whole message.
const std::string kPerplexity =
    Data(
        R"({"id":"px-1","model":"sonar","created":1718000002,"object":"chat.completion.chunk","choices":[{"index":0,"finish_reason":null,"delta":{"role":"assistant","content":"Hi"}}]})") +
    Data(
        R"({"id":"px-1","model":"sonar","created":1718000002,"object":"chat.completion.chunk","choices":[{"index":0,"finish_reason":"stop","delta":{"role":"assistant","content":""}}]})") +
    Data(
        R"({"id":"px-1","model":"sonar","created":1718000002,"object":"chat.completion.done","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"Hi"},"delta":{"role":"assistant","content":""}}]})") +
    kDone;

// DRUM (its chat route): chunks carry datarobot_association_id.
const std::string kDrum =
    Data(
        R"({"id":"c1","choices":[{"delta":{"content":"","role":"assistant"},"finish_reason":null,"index":0}],"created":1718000003,"model":"m","object":"chat.completion.chunk","datarobot_association_id":"a1b2"})") +
    Data(
        R"({"id":"c1","choices":[{"delta":{"content":"Hi"},"finish_reason":null,"index":0}],"created":1718000003,"model":"m","object":"chat.completion.chunk","datarobot_association_id":"a1b2"})") +
    Data(
        R"({"id":"c1","choices":[{"delta":{},"finish_reason":"stop","index":0}],"created":1718000003,"model":"m","object":"chat.completion.chunk","datarobot_association_id":"a1b2"})") +
    kDone;

std::string Content(const std::string& text, const std::string& finish = "null") {
  return Data(
      R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":")" +
      text + R"("},"finish_reason":)" + finish + "}]}");
}

struct Verdicts {
  bool schema, finish, finish_value, done, utf8, sdk_safe, vendor;
};

Verdicts Judge(const std::string& body) {
  auto r = Stream(body);
  return {CheckChunkSchema(r).ok,     CheckFinishReason(r).ok, CheckFinishReasonValue(r).ok,
          CheckDoneTerminator(r).ok,  CheckUtf8(r).ok,         CheckSdkSafe(r).ok,
          CheckVendorExtensions(r).ok};
}

TEST(StreamShapesTest, OpenAiPassesEverything) {
  auto v = Judge(kOpenAi);
  EXPECT_TRUE(v.schema && v.finish && v.finish_value && v.done && v.utf8 && v.sdk_safe && v.vendor);
  EXPECT_EQ(StreamedText(Stream(kOpenAi)), "Hi");
  EXPECT_TRUE(CheckUsage(Stream(kOpenAi), 1).ok);
}

// What the SDKs read fine passes every MUST check; the vendor's additions
// are named by the SHOULD check, so a migration review still sees them.
TEST(StreamShapesTest, VendorShapesPassMustAndAreNamed) {
  struct Shape {
    const char* name;
    const std::string& body;
    const char* named;
  };
  for (const Shape& s : {Shape{"Azure", kAzure, "prompt-filter chunk"},
                         Shape{"Azure", kAzure, "annotation chunks after the finish chunk"},
                         Shape{"Perplexity", kPerplexity, "chat.completion.done"},
                         Shape{"DRUM", kDrum, "datarobot_association_id"}}) {
    auto r = Stream(s.body);
    EXPECT_TRUE(CheckSseGrammar(r).ok) << s.name;
    EXPECT_TRUE(CheckChunkSchema(r).ok) << s.name << ": " << CheckChunkSchema(r).message;
    EXPECT_TRUE(CheckFinishReason(r).ok) << s.name << ": " << CheckFinishReason(r).message;
    EXPECT_TRUE(CheckFinishReasonValue(r).ok) << s.name;
    EXPECT_TRUE(CheckDoneTerminator(r).ok) << s.name;
    EXPECT_TRUE(CheckUtf8(r).ok) << s.name;
    EXPECT_TRUE(CheckSdkSafe(r).ok) << s.name;
    EXPECT_EQ(StreamedText(r), "Hi") << s.name;
    auto vendor = CheckVendorExtensions(r);
    EXPECT_FALSE(vendor.ok) << s.name;
    EXPECT_THAT(vendor.message, HasSubstr(s.named)) << s.name;
  }
  EXPECT_TRUE(CheckRoleFirst(Stream(kAzure)).ok) << "the first chunk after the filter chunk";
}

TEST(StreamShapesTest, AFinishReasonClientsDoNotKnowFails) {
  // TGI once sent "eos_token".
  auto tgi = Content("Hi") + Content("", R"("eos_token")") + kDone;
  auto v = Judge(tgi);
  EXPECT_TRUE(v.schema && v.finish);
  EXPECT_FALSE(v.finish_value);
  EXPECT_THAT(CheckFinishReasonValue(Stream(tgi)).message, HasSubstr("\"eos_token\""));
  EXPECT_FALSE(Judge(Content("Hi") + Content("", "7") + kDone).finish_value) << "not a string";
  for (const char* known : {"stop", "length", "tool_calls", "content_filter", "function_call"}) {
    EXPECT_TRUE(
        Judge(Content("Hi") + Content("", std::string("\"") + known + "\"") + kDone).finish_value)
        << known;
  }
}

TEST(StreamShapesTest, InvalidUtf8Fails) {
  auto bad = Content("caf\xC3") + Content("", R"("stop")") + kDone;  // a cut sequence
  auto v = Judge(bad);
  EXPECT_FALSE(v.utf8);
  EXPECT_THAT(CheckUtf8(Stream(bad)).message, HasSubstr("UnicodeDecodeError"));
  EXPECT_TRUE(Judge(Content("caf\xC3\xA9") + Content("", R"("stop")") + kDone).utf8);
}

TEST(StreamShapesTest, DatalessBlocksThatTheSdksFailOnFailSdkSafeOnly) {
  const std::string ok = Content("Hi") + Content("", R"("stop")") + kDone;
  for (const std::string& block : {std::string("event: ping\n\n"), std::string("retry: 3000\n\n"),
                                   std::string("id: 7\n\n\n")}) {
    std::string body = Content("Hi") + block + Content("", R"("stop")") + kDone;
    auto v = Judge(body);
    EXPECT_TRUE(v.schema && v.finish && v.done)
        << block << ": valid SSE, WHATWG dispatches nothing";
    EXPECT_FALSE(v.sdk_safe) << block;
    EXPECT_THAT(CheckSdkSafe(Stream(body)).message, HasSubstr("Python and Node SDKs")) << block;
  }
  // Comments are fine for the SDKs too.
  EXPECT_TRUE(Judge(": keep-alive\n\n" + ok).sdk_safe);
  // A named chunk event is handed over as {"data", "event"}.
  std::string named = "event: message\n" + Content("Hi") + Content("", R"("stop")") + kDone;
  EXPECT_FALSE(Judge(named).sdk_safe);
  EXPECT_THAT(CheckSdkSafe(Stream(named)).message, HasSubstr("`event:` field"));
}

TEST(StreamShapesTest, ToolCallsAreAssembledFromTheirPieces) {
  const std::string body =
      Data(
          R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}]})") +
      Data(
          R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]},"finish_reason":null}]})") +
      Data(
          R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]},"finish_reason":null}]})") +
      Data(
          R"({"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]})") +
      kDone;
  auto r = Stream(body);
  EXPECT_TRUE(CheckChunkSchema(r).ok) << CheckChunkSchema(r).message;
  EXPECT_TRUE(CheckFinishReason(r).ok);
  EXPECT_TRUE(CheckToolCall(r, "get_weather", R"({"city":"Paris"})").ok)
      << CheckToolCall(r, "get_weather", R"({"city":"Paris"})").message;
  EXPECT_FALSE(CheckToolCall(r, "get_weather", R"({"city":"Rome"})").ok);
  EXPECT_FALSE(CheckToolCall(r, "get_time", R"({"city":"Paris"})").ok);
  EXPECT_FALSE(CheckToolCall(Stream(kOpenAi), "get_weather", "{}").ok);
}

// n: 2 as OpenAI streams it: each chunk carries one choice, by index.
std::string ChoiceChunk(int index, const std::string& content, const std::string& finish = "null") {
  return Data(
      R"({"id":"c2","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":)" +
      std::to_string(index) + R"(,"delta":{"content":")" + content + R"("},"finish_reason":)" +
      finish + "}]}");
}

TEST(StreamShapesTest, EachChoiceStreamsItsOwnText) {
  const std::string both = ChoiceChunk(0, "Hi") + ChoiceChunk(1, "Yo") + ChoiceChunk(0, " there") +
                           ChoiceChunk(1, " you") + ChoiceChunk(0, "", R"("stop")") +
                           ChoiceChunk(1, "", R"("stop")") + kDone;
  auto r = Stream(both);
  EXPECT_TRUE(CheckFinishReason(r).ok);
  EXPECT_TRUE(CheckChoiceTexts(r, {"Hi there", "Yo you"}).ok)
      << CheckChoiceTexts(r, {"Hi there", "Yo you"}).message;
  EXPECT_THAT(CheckChoiceTexts(r, {"Hi there", "Yo me"}).message, HasSubstr("choice 1"));
  // A relay that reads choices[0] only.
  auto first_only = Stream(ChoiceChunk(0, "Hi") + ChoiceChunk(0, " there") +
                           ChoiceChunk(0, "", R"("stop")") + kDone);
  EXPECT_THAT(CheckChoiceTexts(first_only, {"Hi there", "Yo you"}).message,
              HasSubstr("no chunk for choice 1"));
  EXPECT_THAT(CheckChoiceTexts(r, {"Hi there"}).message, HasSubstr("got choice 1"));
}

TEST(StreamShapesTest, ContentAfterTheFinishFails) {
  auto body = Content("Hi") + Content("", R"("stop")") + Content(" more") + kDone;
  EXPECT_FALSE(Judge(body).finish);
  EXPECT_THAT(CheckFinishReason(Stream(body)).message, HasSubstr("after its finish_reason"));
}

}  // namespace
}  // namespace streamcheck::harness
