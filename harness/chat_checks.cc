#include "harness/chat_checks.h"

#include <nlohmann/json.hpp>

#include "common/json_bounded.h"
#include "common/text.h"

namespace streamcheck::harness {
namespace {

using nlohmann::json;

// Fields of JSON the server under test sent: a wrong type reads as absent, so
// a check fails with its message instead of throwing (json::value would).
std::string StringField(const json& j, const char* key, std::string fallback = "") {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return fallback;
  return j[key].get<std::string>();
}

std::optional<long long> IntField(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return j[key].get<long long>();
}

std::string Dump(const json& j, std::size_t max = 200) {
  return Excerpt(j.dump(-1, ' ', false, json::error_handler_t::replace), max);
}

// What the stream amounts to, for messages: "12 events", "no response: ...".
std::string Seen(const HttpResponse& r) {
  if (r.status == 0) return "no response: " + r.error;
  std::string s =
      r.stream.count == 0 ? std::string("no events") : std::to_string(r.stream.count) + " events";
  if (!r.complete) s += " before the transfer failed: " + r.error;
  return s;
}

std::string LastEventRef(const HttpResponse& r) {
  const ReceivedEvent* last = r.stream.Last();
  return last ? EventRef(last->event) : "none";
}

}  // namespace

const std::string& StreamedText(const HttpResponse& r) { return r.stream.chat.text; }

CheckResult CheckChunkSchema(const HttpResponse& r) {
  const auto& chat = r.stream.chat;
  if (!chat.schema_violation.empty()) return CheckResult::Fail(chat.schema_violation);
  if (chat.chunks == 0) {
    return CheckResult::Fail("expected chat.completion.chunk events, got " + Seen(r));
  }
  return CheckResult::Pass();
}

CheckResult CheckFinishReasonValue(const HttpResponse& r) {
  const auto& chat = r.stream.chat;
  if (!chat.bad_finish_reason.empty()) {
    return CheckResult::Fail(
        "expected every finish_reason to be one of stop, length, tool_calls, content_filter, "
        "function_call (what OpenAI's clients type it as), got " +
        chat.bad_finish_reason);
  }
  bool any = false;
  for (const auto& [index, c] : chat.choices) any = any || c.finishes > 0;
  if (!any) return CheckResult::Fail("expected a finish_reason, got none (" + Seen(r) + ")");
  return CheckResult::Pass();
}

CheckResult CheckUtf8(const HttpResponse& r) {
  const auto& stats = r.stream.stats;
  // An error page or garbage says nothing about the stream's encoding.
  if (r.status != 200 || r.stream.empty()) {
    return CheckResult::Fail(
        "expected an event stream to read, got " +
        (r.status && r.status != 200 ? "status " + std::to_string(r.status) : Seen(r)));
  }
  if (stats.invalid_utf8 == 0) return CheckResult::Pass();
  return CheckResult::Fail(
      "expected a body of valid UTF-8 (text/event-stream is always UTF-8), got " +
      std::to_string(stats.invalid_utf8) +
      " invalid sequence(s); the OpenAI Python SDK decodes lines strictly and raises "
      "UnicodeDecodeError on them");
}

CheckResult CheckSdkSafe(const HttpResponse& r) {
  const auto& stats = r.stream.stats;
  const auto& chat = r.stream.chat;
  if (r.stream.empty()) return CheckResult::Fail("expected events, got " + Seen(r));
  if (stats.sdk_dataless_events > 0) {
    return CheckResult::Fail(
        "expected no block that the OpenAI SDKs turn into an event without data; got " +
        std::to_string(stats.sdk_dataless_events) + ", the first " +
        stats.first_sdk_dataless.value_or("?") +
        ": valid SSE (WHATWG dispatches nothing for it), but the Python and Node SDKs dispatch "
        "it and fail parsing its empty data as JSON");
  }
  if (chat.named_events > 0) {
    return CheckResult::Fail(
        "expected chunk events without an `event:` field; got " +
        std::to_string(chat.named_events) + ", the first " + chat.first_named +
        ": the OpenAI SDKs hand a named event to the caller as {\"data\", \"event\"} instead "
        "of a chunk");
  }
  return CheckResult::Pass();
}

CheckResult CheckVendorExtensions(const HttpResponse& r) {
  const auto& chat = r.stream.chat;
  if (chat.chunks == 0) return CheckResult::Fail("expected chunks, got " + Seen(r));
  if (chat.vendor_extensions.empty()) return CheckResult::Pass();
  std::string names;
  for (const auto& v : chat.vendor_extensions) names += (names.empty() ? "" : "; ") + v;
  return CheckResult::Fail(
      "expected OpenAI's chunk format only; the stream carries vendor "
      "extensions (the OpenAI SDKs read them, other clients may not): " +
      names);
}

CheckResult CheckToolCall(const HttpResponse& r, const std::string& name,
                          const std::string& arguments) {
  const auto& chat = r.stream.chat;
  if (chat.tool_calls.empty()) {
    return CheckResult::Fail("expected a streamed tool call " + name + "(...), got none (" +
                             Seen(r) + ")");
  }
  const auto& call = chat.tool_calls.begin()->second;
  if (call.name != name) {
    return CheckResult::Fail("expected tool call \"" + Excerpt(name) + "\", got \"" +
                             Excerpt(call.name) + "\"");
  }
  if (call.arguments != arguments) {
    return CheckResult::Fail("expected the concatenated arguments to equal the backend's \"" +
                             Excerpt(arguments) + "\", got \"" + Excerpt(call.arguments) + "\"");
  }
  auto choice = chat.choices.find(0);
  if (choice == chat.choices.end() || choice->second.finish_reason != "tool_calls") {
    return CheckResult::Fail("expected finish_reason \"tool_calls\" after a tool call, got \"" +
                             (choice == chat.choices.end() ? "" : choice->second.finish_reason) +
                             "\"");
  }
  return CheckResult::Pass();
}

CheckResult CheckChoiceTexts(const HttpResponse& r, const std::vector<std::string>& expected) {
  const auto& chat = r.stream.chat;
  const long long n = static_cast<long long>(expected.size());
  std::string seen;
  for (const auto& [index, c] : chat.choices)
    seen += (seen.empty() ? "" : ", ") + std::to_string(index);
  for (const auto& [index, c] : chat.choices) {
    if (index < 0 || index >= n) {
      return CheckResult::Fail("expected choices 0.." + std::to_string(n - 1) +
                               " only, got choice " + std::to_string(index));
    }
  }
  for (long long i = 0; i < n; ++i) {
    auto it = chat.choices.find(i);
    if (it == chat.choices.end()) {
      return CheckResult::Fail("expected " + std::to_string(n) +
                               " choices, got no chunk for choice " + std::to_string(i) +
                               " (choices seen: " + (seen.empty() ? "none" : seen) + "; " +
                               Seen(r) + ")");
    }
    const auto& c = it->second;
    const std::string& want = expected[std::size_t(i)];
    if (c.text_bytes != want.size() || c.text != want.substr(0, ChatSummary::kMaxChoiceText)) {
      return CheckResult::Fail("expected choice " + std::to_string(i) +
                               " to stream its own text \"" + Excerpt(want, 60) + "\" (" +
                               std::to_string(want.size()) + " characters), got \"" +
                               Excerpt(c.text, 60) + "\" (" + std::to_string(c.text_bytes) + ")");
    }
  }
  return CheckResult::Pass();
}

CheckResult CheckDoneTerminator(const HttpResponse& r) {
  const auto& chat = r.stream.chat;
  if (chat.done_count == 0) {
    return CheckResult::Fail("expected data: [DONE] as the last event, got none (" + Seen(r) + ")" +
                             (r.stream.empty() ? "" : "; last was " + LastEventRef(r)));
  }
  if (chat.done_count > 1) {
    return CheckResult::Fail("expected data: [DONE] exactly once, got it " +
                             std::to_string(chat.done_count) + " times");
  }
  if (!chat.after_done.empty()) {
    return CheckResult::Fail("expected data: [DONE] as the last event, but " + chat.after_done +
                             " came after it");
  }
  return CheckResult::Pass();
}

CheckResult CheckContentParity(const HttpResponse& r, const std::string& expected) {
  const auto& chat = r.stream.chat;
  const std::string& got = chat.text;
  if (chat.text_bytes == expected.size() && got == expected) return CheckResult::Pass();
  std::size_t at = 0;
  while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
  return CheckResult::Fail("expected the streamed text to equal the backend's " +
                           std::to_string(expected.size()) + " characters; they differ at " +
                           std::to_string(at) + ": expected \"" + Excerpt(expected.substr(at), 60) +
                           "\", got \"" + Excerpt(got.substr(std::min(at, got.size())), 60) +
                           "\" (" + std::to_string(chat.text_bytes) + " characters streamed in " +
                           Seen(r) + ")");
}

CheckResult CheckRoleFirst(const HttpResponse& r) {
  const auto& chat = r.stream.chat;
  if (chat.chunks == 0) return CheckResult::Fail("expected a first chunk, got " + Seen(r));
  json c = ParseJsonOrNull(chat.first_data);
  if (c.is_object() && c.contains("choices") && c["choices"].is_array() && !c["choices"].empty() &&
      c["choices"][0].is_object() && c["choices"][0].contains("delta") &&
      c["choices"][0]["delta"].is_object() &&
      StringField(c["choices"][0]["delta"], "role") == "assistant") {
    return CheckResult::Pass();
  }
  return CheckResult::Fail(
      "expected the first chunk's delta to carry \"role\": \"assistant\", got " +
      Excerpt(chat.first_data, 200));
}

CheckResult CheckFinishReason(const HttpResponse& r) {
  const auto& chat = r.stream.chat;
  if (chat.choices.empty()) {
    return CheckResult::Fail("expected choices, got no chunk with choices (" + Seen(r) + ")");
  }
  for (const auto& [index, c] : chat.choices) {
    std::string choice = "choice " + std::to_string(index);
    if (c.finishes == 0) {
      return CheckResult::Fail("expected one non-null finish_reason for " + choice + ", got none");
    }
    if (c.finishes != 1) {
      return CheckResult::Fail("expected one non-null finish_reason for " + choice + ", got " +
                               std::to_string(c.finishes));
    }
    if (!c.after_finish.empty()) {
      return CheckResult::Fail("expected no content for " + choice +
                               " after its finish_reason, but " + c.after_finish +
                               " came after it");
    }
  }
  return CheckResult::Pass();
}

CheckResult CheckUsage(const HttpResponse& r, int tokens) {
  const auto& chat = r.stream.chat;
  if (chat.chunks == 0) return CheckResult::Fail("expected a usage chunk, got " + Seen(r));
  json last = ParseJsonOrNull(chat.last_data);
  if (!last.is_object() || !last.contains("usage") || !last["usage"].is_object()) {
    return CheckResult::Fail("expected a last chunk before [DONE] with \"usage\", got " +
                             Excerpt(chat.last_data, 200));
  }
  if (!last.contains("choices") || !last["choices"].is_array() || !last["choices"].empty()) {
    return CheckResult::Fail("expected the usage chunk to have \"choices\": [], got " + Dump(last));
  }
  auto completion = IntField(last["usage"], "completion_tokens");
  if (completion != tokens) {
    return CheckResult::Fail("expected usage.completion_tokens " + std::to_string(tokens) +
                             " (the tokens streamed), got " +
                             (completion ? std::to_string(*completion)
                              : last["usage"].contains("completion_tokens")
                                  ? Dump(last["usage"]["completion_tokens"])
                                  : std::string("none")));
  }
  return CheckResult::Pass();
}

CheckResult CheckCompletionContent(const HttpResponse& r, const std::string& expected) {
  json j = ParseJsonOrNull(r.body);
  if (StringField(j, "object") != "chat.completion") {
    return CheckResult::Fail("expected a chat.completion object, got \"" + Excerpt(r.body, 200) +
                             "\"" + (r.status ? "" : " (no response: " + r.error + ")"));
  }
  const json* content = nullptr;
  if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty() &&
      j["choices"][0].is_object() && j["choices"][0].contains("message") &&
      j["choices"][0]["message"].is_object() && j["choices"][0]["message"].contains("content")) {
    content = &j["choices"][0]["message"]["content"];
  }
  if (!content || !content->is_string()) {
    return CheckResult::Fail("expected choices[0].message.content, got \"" + Excerpt(r.body, 200) +
                             "\"");
  }
  if (content->get<std::string>() == expected) return CheckResult::Pass();
  return CheckResult::Fail("expected message content \"" + Excerpt(expected, 80) +
                           "\" (the streamed text), got \"" +
                           Excerpt(content->get<std::string>(), 80) + "\"");
}

CheckResult CheckNoCacheHeaders(const HttpResponse& r) {
  auto cache = r.Header("Cache-Control");
  auto accel = r.Header("X-Accel-Buffering");
  std::string lower_cache = cache ? ToLower(*cache) : "";
  bool cache_ok = lower_cache.find("no-cache") != std::string::npos ||
                  lower_cache.find("no-store") != std::string::npos;
  bool accel_ok = accel && ToLower(*accel) == "no";
  if (r.status == 0) return CheckResult::Fail("expected a response, got none: " + r.error);
  if (cache_ok && accel_ok) return CheckResult::Pass();
  return CheckResult::Fail("expected Cache-Control: no-cache and X-Accel-Buffering: no, got " +
                           std::string("Cache-Control: ") + (cache ? Excerpt(*cache) : "(none)") +
                           ", X-Accel-Buffering: " + (accel ? Excerpt(*accel) : "(none)"));
}

CheckResult CheckClientErrorJson(const HttpResponse& r) {
  if (r.status < 400 || r.status > 499) {
    return CheckResult::Fail("expected a 4xx, got " +
                             (r.status ? std::to_string(r.status) : "no response: " + r.error) +
                             " (body \"" + Excerpt(r.body) + "\")");
  }
  auto type = r.Header("Content-Type").value_or("");
  if (ToLower(type).find("text/event-stream") != std::string::npos) {
    return CheckResult::Fail("expected an error body, got an event stream (" + Excerpt(type) + ")");
  }
  if (!ParseJsonOrNull(r.body).is_object()) {
    return CheckResult::Fail("expected a JSON error body with the " + std::to_string(r.status) +
                             ", got \"" + Excerpt(r.body) + "\"");
  }
  return CheckResult::Pass();
}

CheckResult CheckEndedWithoutDone(const HttpResponse& r) {
  if (r.curl_code == 28 /* CURLE_OPERATION_TIMEDOUT */) {
    return CheckResult::Fail(
        "expected the stream to end after the backend failed; it hung until "
        "the client gave up after " +
        std::to_string(int(r.t_total_ms)) + " ms");
  }
  if (r.stream.chat.first_done >= 0) {
    return CheckResult::Fail("expected no [DONE] after a backend failure, got it as event #" +
                             std::to_string(r.stream.chat.first_done) +
                             ": the client cannot tell the text is cut short");
  }
  return CheckResult::Pass();
}

CheckResult CheckErrorEvent(const HttpResponse& r) {
  if (r.stream.chat.error_events > 0) return CheckResult::Pass();
  return CheckResult::Fail(
      "expected an in-band data: {\"error\": ...} event, got none with \"error\" (" + Seen(r) +
      ")" + (r.stream.empty() ? "" : "; last: \"" + Excerpt(r.stream.Last()->event.data) + "\""));
}

CheckResult CheckSameStream(const HttpResponse& a, const HttpResponse& b) {
  if (a.status != b.status) {
    return CheckResult::Fail("expected the same status on both paths, got " +
                             std::to_string(a.status) + " and " + std::to_string(b.status));
  }
  const auto& ea = a.stream.chat;
  const auto& eb = b.stream.chat;
  if (ea.essence_digest == eb.essence_digest && ea.events == eb.events) return CheckResult::Pass();
  std::size_t n = std::max(ea.essences.size(), eb.essences.size());
  std::size_t i = 0;
  std::string sa = "(none)", sb = "(none)";
  for (; i < n; ++i) {
    sa = i < ea.essences.size() ? ea.essences[i] : "(none)";
    sb = i < eb.essences.size() ? eb.essences[i] : "(none)";
    if (sa != sb) break;
  }
  std::string where = i < n ? "event #" + std::to_string(i) + " differs: " + Excerpt(sa, 80) +
                                  " vs " + Excerpt(sb, 80)
                            : "they differ after the first " + std::to_string(n) + " events";
  return CheckResult::Fail("expected the same stream on both paths; " + where + "; got " + Seen(a) +
                           " \"" + Excerpt(ea.text, 60) + "\" and " + Seen(b) + " \"" +
                           Excerpt(eb.text, 60) + "\"");
}

}  // namespace streamcheck::harness
