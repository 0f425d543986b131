#include "harness/checks.h"

#include <map>
#include <nlohmann/json.hpp>

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

std::string EventRef(const HttpResponse& r, std::size_t i) {
  const auto& e = r.events[i].event;
  return "event #" + std::to_string(i) + " (bytes " + std::to_string(e.begin_offset) + "-" +
         std::to_string(e.end_offset) + ", data \"" + Excerpt(e.data) + "\")";
}

}  // namespace

std::string Excerpt(std::string_view text, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max; ++i) {
    unsigned char c = text[i];
    if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else
      out += static_cast<char>(c);
  }
  if (text.size() > max) out += "…";
  return out;
}

CheckResult CheckTransferComplete(const HttpResponse& r) {
  if (r.complete) return CheckResult::Pass();
  return CheckResult::Fail("expected a complete response; the transfer failed after " +
                           std::to_string(r.body_bytes) + " body bytes and " +
                           std::to_string(int(r.t_total_ms)) + " ms: " + r.error);
}

CheckResult CheckStatus(const HttpResponse& r, long expected) {
  if (r.status == expected) return CheckResult::Pass();
  if (r.status == 0) {
    return CheckResult::Fail("expected status " + std::to_string(expected) +
                             ", got no response: " + r.error);
  }
  return CheckResult::Fail("expected status " + std::to_string(expected) + ", got " +
                           std::to_string(r.status) + " (body: \"" + Excerpt(r.body) + "\")");
}

CheckResult CheckMediaType(const HttpResponse& r, const std::string& expected) {
  auto value = r.Header("Content-Type");
  if (!value) return CheckResult::Fail("expected Content-Type " + expected + ", got none");
  std::string media = value->substr(0, value->find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  if (ToLower(media) == ToLower(expected)) return CheckResult::Pass();
  return CheckResult::Fail("expected media type " + expected + ", got Content-Type \"" + *value +
                           "\"");
}

CheckResult CheckFirstLineIsData(const HttpResponse& r) {
  const auto& first = r.sse_stats.first_content_line;
  if (!first) {
    return CheckResult::Fail("expected a first line starting with \"data:\", got no line (body \"" +
                             Excerpt(r.body) + "\")");
  }
  if (first->rfind("data:", 0) == 0) return CheckResult::Pass();
  return CheckResult::Fail("expected the first non-comment line to start with \"data:\", got \"" +
                           Excerpt(*first) + "\"");
}

CheckResult CheckSseGrammar(const HttpResponse& r) {
  if (!r.sse_leftover.clean()) {
    return CheckResult::Fail(
        std::string("expected the stream to end on an event boundary; it ended with ") +
        (r.sse_leftover.partial_event ? "an event missing its blank line" : "a partial line") +
        " after " + std::to_string(r.events.size()) + " events: \"" +
        Excerpt(r.sse_leftover.bytes) + "\"");
  }
  if (r.events.empty()) {
    return CheckResult::Fail("expected at least one event; the " + std::to_string(r.body_bytes) +
                             "-byte body had none: \"" + Excerpt(r.body) + "\"");
  }
  return CheckResult::Pass();
}

CheckResult CheckChunkSchema(const HttpResponse& r) {
  std::optional<std::string> id;  // the first chunk's, which may be ""
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    const std::string& data = r.events[i].event.data;
    if (data == "[DONE]") break;
    auto chunk = json::parse(data, nullptr, false);
    auto fail = [&](const std::string& what) {
      return CheckResult::Fail("expected a chat.completion.chunk, " + what + " in " +
                               EventRef(r, i));
    };
    if (!chunk.is_object()) return fail("got data that is not a JSON object");
    if (StringField(chunk, "object") != "chat.completion.chunk") {
      return fail("got \"object\": " +
                  (chunk.contains("object") ? chunk["object"].dump() : "none"));
    }
    if (!chunk.contains("id") || !chunk["id"].is_string()) return fail("got no string \"id\"");
    if (!id) id = chunk["id"].get<std::string>();
    if (chunk["id"] != *id) {
      return fail("got id " + chunk["id"].dump() + " after \"" + *id + "\"");
    }
    if (!chunk.contains("created") || !chunk["created"].is_number_integer()) {
      return fail("got no integer \"created\"");
    }
    if (!chunk.contains("model") || !chunk["model"].is_string()) return fail("got no \"model\"");
    if (!chunk.contains("choices") || !chunk["choices"].is_array()) {
      return fail("got no \"choices\" array");
    }
    for (const auto& choice : chunk["choices"]) {
      if (!choice.is_object() || !choice.contains("index") || !choice.contains("delta") ||
          !choice["delta"].is_object()) {
        return fail("got a choice without \"index\" and object \"delta\"");
      }
    }
  }
  return CheckResult::Pass();
}

CheckResult CheckDoneTerminator(const HttpResponse& r) {
  std::size_t count = 0;
  std::size_t first_at = 0;
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    if (r.events[i].event.data == "[DONE]" && count++ == 0) first_at = i;
  }
  if (count == 0) {
    return CheckResult::Fail(
        "expected data: [DONE] as the last event, got none in " + std::to_string(r.events.size()) +
        " events" + (r.events.empty() ? "" : "; last was " + EventRef(r, r.events.size() - 1)));
  }
  if (count > 1) {
    return CheckResult::Fail("expected data: [DONE] exactly once, got it " + std::to_string(count) +
                             " times");
  }
  if (first_at != r.events.size() - 1) {
    return CheckResult::Fail("expected data: [DONE] as the last event, but " +
                             EventRef(r, first_at + 1) + " came after it");
  }
  return CheckResult::Pass();
}

std::string DeltaContent(const std::string& event_data) {
  auto chunk = json::parse(event_data, nullptr, false);
  if (!chunk.is_object() || !chunk.contains("choices") || !chunk["choices"].is_array()) return "";
  std::string text;
  for (const auto& choice : chunk["choices"]) {
    if (choice.is_object() && IntField(choice, "index") == 0 && choice.contains("delta") &&
        choice["delta"].is_object() && choice["delta"].contains("content") &&
        choice["delta"]["content"].is_string()) {
      text += choice["delta"]["content"].get<std::string>();
    }
  }
  return text;
}

std::string StreamedText(const HttpResponse& r) {
  std::string text;
  for (const auto& received : r.events) text += DeltaContent(received.event.data);
  return text;
}

CheckResult CheckContentParity(const HttpResponse& r, const std::string& expected) {
  std::string got = StreamedText(r);
  if (got == expected) return CheckResult::Pass();
  std::size_t at = 0;
  while (at < got.size() && at < expected.size() && got[at] == expected[at]) ++at;
  return CheckResult::Fail("expected the streamed text to equal the backend's " +
                           std::to_string(expected.size()) + " characters; they differ at " +
                           std::to_string(at) + ": expected \"" + Excerpt(expected.substr(at), 60) +
                           "\", got \"" + Excerpt(got.substr(std::min(at, got.size())), 60) +
                           "\" (" + std::to_string(got.size()) + " characters streamed)");
}

CheckResult CheckByteCount(const HttpResponse& r, std::uint64_t expected) {
  if (r.body_bytes == expected) return CheckResult::Pass();
  return CheckResult::Fail("expected exactly " + std::to_string(expected) + " bytes, got " +
                           std::to_string(r.body_bytes) +
                           (r.complete ? "" : " before the transfer failed: " + r.error));
}

CheckResult CheckSha256(const HttpResponse& r, const std::string& expected_hex) {
  if (r.sha256 == expected_hex) return CheckResult::Pass();
  return CheckResult::Fail("expected SHA-256 " + expected_hex + " (the backend's), got " +
                           r.sha256 + " over " + std::to_string(r.body_bytes) + " bytes");
}

CheckResult CheckRssGrowth(const RssSummary& rss, double limit_mib) {
  if (rss.samples == 0) return CheckResult::Fail("expected RSS samples of the target, got none");
  if (rss.growth_mib() <= limit_mib) return CheckResult::Pass();
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "expected RSS growth within %.0f MiB, got %.1f MiB (%.1f -> %.1f MiB peak over %zu "
                "samples): the server held the body in memory",
                limit_mib, rss.growth_mib(), double(rss.baseline_bytes) / (1 << 20),
                double(rss.peak_bytes) / (1 << 20), rss.samples);
  return CheckResult::Fail(buf);
}

}  // namespace streamcheck::harness

namespace streamcheck::harness {
namespace {

std::vector<nlohmann::json> Chunks(const HttpResponse& r) {
  std::vector<nlohmann::json> out;
  for (const auto& e : r.events) {
    if (e.event.data == "[DONE]") break;
    auto j = nlohmann::json::parse(e.event.data, nullptr, false);
    out.push_back(j.is_discarded() ? nlohmann::json() : j);
  }
  return out;
}

}  // namespace

CheckResult CheckRoleFirst(const HttpResponse& r) {
  auto chunks = Chunks(r);
  if (chunks.empty()) return CheckResult::Fail("expected a first chunk, got no events");
  const auto& c = chunks.front();
  if (c.is_object() && c.contains("choices") && c["choices"].is_array() && !c["choices"].empty() &&
      c["choices"][0].is_object() && c["choices"][0].contains("delta") &&
      c["choices"][0]["delta"].is_object() &&
      StringField(c["choices"][0]["delta"], "role") == "assistant") {
    return CheckResult::Pass();
  }
  return CheckResult::Fail(
      "expected the first chunk's delta to carry \"role\": \"assistant\", got " +
      Excerpt(r.events.front().event.data, 200));
}

CheckResult CheckFinishReason(const HttpResponse& r) {
  auto chunks = Chunks(r);
  // Per choice index: how many non-null finish_reasons, and where the last came.
  std::map<int, std::pair<int, std::size_t>> finishes;
  std::map<int, std::size_t> last_chunk;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    const auto& c = chunks[i];
    if (!c.is_object() || !c.contains("choices") || !c["choices"].is_array()) continue;
    for (const auto& choice : c["choices"]) {
      if (!choice.is_object()) continue;
      int index = static_cast<int>(IntField(choice, "index").value_or(0));
      last_chunk[index] = i;
      if (choice.contains("finish_reason") && !choice["finish_reason"].is_null()) {
        finishes[index].first++;
        finishes[index].second = i;
      }
    }
  }
  if (last_chunk.empty()) return CheckResult::Fail("expected choices, got no chunk with choices");
  for (const auto& [index, last] : last_chunk) {
    auto it = finishes.find(index);
    std::string choice = "choice " + std::to_string(index);
    if (it == finishes.end()) {
      return CheckResult::Fail("expected one non-null finish_reason for " + choice + ", got none");
    }
    if (it->second.first != 1) {
      return CheckResult::Fail("expected one non-null finish_reason for " + choice + ", got " +
                               std::to_string(it->second.first));
    }
    if (it->second.second != last) {
      return CheckResult::Fail("expected the finish_reason of " + choice +
                               " on its last chunk, but " + EventRef(r, last) + " came after it");
    }
  }
  return CheckResult::Pass();
}

CheckResult CheckUsage(const HttpResponse& r, int tokens) {
  auto chunks = Chunks(r);
  if (chunks.empty()) return CheckResult::Fail("expected a usage chunk, got no events");
  const auto& last = chunks.back();
  if (!last.is_object() || !last.contains("usage") || !last["usage"].is_object()) {
    return CheckResult::Fail("expected a last chunk before [DONE] with \"usage\", got " +
                             Excerpt(last.dump(), 200));
  }
  if (!last.contains("choices") || !last["choices"].is_array() || !last["choices"].empty()) {
    return CheckResult::Fail("expected the usage chunk to have \"choices\": [], got " +
                             Excerpt(last.dump(), 200));
  }
  auto completion = IntField(last["usage"], "completion_tokens");
  if (completion != tokens) {
    return CheckResult::Fail("expected usage.completion_tokens " + std::to_string(tokens) +
                             " (the tokens streamed), got " +
                             (completion ? std::to_string(*completion)
                              : last["usage"].contains("completion_tokens")
                                  ? last["usage"]["completion_tokens"].dump()
                                  : std::string("none")));
  }
  return CheckResult::Pass();
}

CheckResult CheckCompletionContent(const HttpResponse& r, const std::string& expected) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (StringField(j, "object") != "chat.completion") {
    return CheckResult::Fail("expected a chat.completion object, got \"" + Excerpt(r.body, 200) +
                             "\"");
  }
  try {
    std::string content = j.at("choices").at(0).at("message").at("content").get<std::string>();
    if (content == expected) return CheckResult::Pass();
    return CheckResult::Fail("expected message content \"" + Excerpt(expected, 80) +
                             "\" (the streamed text), got \"" + Excerpt(content, 80) + "\"");
  } catch (const nlohmann::json::exception&) {
    return CheckResult::Fail("expected choices[0].message.content, got \"" + Excerpt(r.body, 200) +
                             "\"");
  }
}

CheckResult CheckNoCacheHeaders(const HttpResponse& r) {
  auto cache = r.Header("Cache-Control");
  auto accel = r.Header("X-Accel-Buffering");
  std::string lower_cache = cache ? ToLower(*cache) : "";
  bool cache_ok = lower_cache.find("no-cache") != std::string::npos ||
                  lower_cache.find("no-store") != std::string::npos;
  bool accel_ok = accel && ToLower(*accel) == "no";
  if (cache_ok && accel_ok) return CheckResult::Pass();
  return CheckResult::Fail("expected Cache-Control: no-cache and X-Accel-Buffering: no, got " +
                           std::string("Cache-Control: ") + (cache ? *cache : "(none)") +
                           ", X-Accel-Buffering: " + (accel ? *accel : "(none)"));
}

CheckResult CheckClientErrorJson(const HttpResponse& r) {
  if (r.status < 400 || r.status > 499) {
    return CheckResult::Fail("expected a 4xx, got " +
                             (r.status ? std::to_string(r.status) : "no response: " + r.error) +
                             " (body \"" + Excerpt(r.body) + "\")");
  }
  auto type = r.Header("Content-Type").value_or("");
  if (ToLower(type).find("text/event-stream") != std::string::npos) {
    return CheckResult::Fail("expected an error body, got an event stream (" + type + ")");
  }
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object()) {
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
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    if (r.events[i].event.data == "[DONE]") {
      return CheckResult::Fail("expected no [DONE] after a backend failure, got it as " +
                               EventRef(r, i) + ": the client cannot tell the text is cut short");
    }
  }
  return CheckResult::Pass();
}

CheckResult CheckErrorEvent(const HttpResponse& r) {
  for (const auto& e : r.events) {
    auto j = nlohmann::json::parse(e.event.data, nullptr, false);
    if (j.is_object() && j.contains("error")) return CheckResult::Pass();
  }
  return CheckResult::Fail(
      "expected an in-band data: {\"error\": ...} event, got " + std::to_string(r.events.size()) +
      " events and none with \"error\"" +
      (r.events.empty() ? "" : "; last: \"" + Excerpt(r.events.back().event.data) + "\""));
}

// What must not differ between two runs of one request, per event: its text,
// whether it is [DONE] or an error, and its finish_reason. Ids and "created"
// may differ.
std::string EventEssence(const std::string& data) {
  if (data == "[DONE]") return "[DONE]";
  auto j = json::parse(data, nullptr, false);
  if (j.is_object() && j.contains("error")) return "error";
  std::string finish;
  if (j.is_object() && j.contains("choices") && j["choices"].is_array()) {
    for (const auto& choice : j["choices"]) {
      if (choice.is_object() && choice.contains("finish_reason") &&
          !choice["finish_reason"].is_null()) {
        finish += " finish=" + choice["finish_reason"].dump();
      }
    }
  }
  return "text=" + json(DeltaContent(data)).dump() + finish;
}

CheckResult CheckSameStream(const HttpResponse& a, const HttpResponse& b) {
  if (a.status != b.status) {
    return CheckResult::Fail("expected the same status on both paths, got " +
                             std::to_string(a.status) + " and " + std::to_string(b.status));
  }
  for (std::size_t i = 0; i < std::max(a.events.size(), b.events.size()); ++i) {
    std::string ea = i < a.events.size() ? EventEssence(a.events[i].event.data) : "(none)";
    std::string eb = i < b.events.size() ? EventEssence(b.events[i].event.data) : "(none)";
    if (ea != eb) {
      return CheckResult::Fail("expected the same stream on both paths; event #" +
                               std::to_string(i) + " differs: " + Excerpt(ea, 80) + " vs " +
                               Excerpt(eb, 80) + "; got " + std::to_string(a.events.size()) +
                               " events \"" + Excerpt(StreamedText(a), 60) + "\" and " +
                               std::to_string(b.events.size()) + " events \"" +
                               Excerpt(StreamedText(b), 60) + "\"");
    }
  }
  return CheckResult::Pass();
}

}  // namespace streamcheck::harness

namespace streamcheck::harness {
namespace {

// The echo route's JSON, or null with a failure message.
nlohmann::json EchoJson(const HttpResponse& echo, std::string& failure) {
  auto j = nlohmann::json::parse(echo.body, nullptr, false);
  if (echo.status != 200 || !j.is_object() || !j.contains("method")) {
    failure = "expected the backend's echo (200, JSON), got status " + std::to_string(echo.status) +
              " \"" + Excerpt(echo.body) + "\"";
    return nullptr;
  }
  return j;
}

}  // namespace

CheckResult CheckResponseFraming(const HttpResponse& r) {
  auto te = r.Header("Transfer-Encoding");
  auto cl = r.Header("Content-Length");
  if (te && cl) {
    return CheckResult::Fail("expected Transfer-Encoding or Content-Length, got both (" + *te +
                             ", " + *cl + "): the framing is ambiguous");
  }
  if (cl) {
    char* end = nullptr;
    unsigned long long length = std::strtoull(cl->c_str(), &end, 10);
    if (end == cl->c_str() || *end != '\0') {
      return CheckResult::Fail("expected a numeric Content-Length, got \"" + *cl + "\"");
    }
    if (length != r.body_bytes) {
      return CheckResult::Fail("expected " + *cl + " bytes as Content-Length says, got " +
                               std::to_string(r.body_bytes));
    }
  }
  if (!r.complete) return CheckTransferComplete(r);
  return CheckResult::Pass();
}

CheckResult CheckTruncationVisible(const HttpResponse& r) {
  if (r.status == 0) {
    return CheckResult::Fail("expected a response that breaks off, got none: " + r.error);
  }
  // A proxy that learns of the failure before its headers may say so with a 5xx.
  if (r.complete && r.status >= 500) return CheckResult::Pass();
  if (r.complete) {
    return CheckResult::Fail(
        "expected the client to see the body cut short (an unterminated chunked body or fewer "
        "bytes than Content-Length); it got a clean end after " +
        std::to_string(r.body_bytes) + " bytes, indistinguishable from a whole body");
  }
  return CheckResult::Pass();
}

CheckResult CheckPassthrough(const HttpResponse& r, long status, const std::string& body) {
  if (r.status != status) {
    return CheckResult::Fail("expected the backend's status " + std::to_string(status) + ", got " +
                             std::to_string(r.status) + " (body \"" + Excerpt(r.body) + "\")");
  }
  if (r.body != body) {
    return CheckResult::Fail("expected the backend's body \"" + Excerpt(body) + "\" with the " +
                             std::to_string(status) + ", got \"" + Excerpt(r.body) + "\"");
  }
  return CheckResult::Pass();
}

CheckResult CheckEcho(const HttpResponse& echo, const std::string& method,
                      std::uint64_t body_length, const std::string& body_sha256) {
  std::string failure;
  auto j = EchoJson(echo, failure);
  if (j.is_null()) return CheckResult::Fail(failure);
  if (StringField(j, "method") != method) {
    return CheckResult::Fail("expected the backend to see " + method + ", it saw " +
                             StringField(j, "method", "?"));
  }
  auto length = static_cast<std::uint64_t>(IntField(j, "body_length").value_or(0));
  if (length != body_length || StringField(j, "body_sha256") != body_sha256) {
    return CheckResult::Fail("expected the backend to get the " + std::to_string(body_length) +
                             "-byte " + method + " body intact, it got " + std::to_string(length) +
                             " bytes" + (length == body_length ? " with a different SHA-256" : ""));
  }
  return CheckResult::Pass();
}

CheckResult CheckEchoQuery(const HttpResponse& echo,
                           const std::vector<std::pair<std::string, std::string>>& query) {
  std::string failure;
  auto j = EchoJson(echo, failure);
  if (j.is_null()) return CheckResult::Fail(failure);
  std::map<std::string, std::vector<std::string>> expected;
  for (const auto& [k, v] : query) expected[k].push_back(v);
  const auto& seen = j["query"];
  for (const auto& [key, values] : expected) {
    std::vector<std::string> got;
    if (seen.contains(key)) got = seen[key].get<std::vector<std::string>>();
    if (got != values) {
      std::string want, have;
      for (const auto& v : values) want += (want.empty() ? "" : ",") + v;
      for (const auto& v : got) have += (have.empty() ? "" : ",") + v;
      return CheckResult::Fail("expected the backend to see " + key + "=" + want + ", it saw " +
                               (got.empty() ? "no " + key : key + "=" + have) + " (target " +
                               StringField(j, "target", "?") + ")");
    }
  }
  return CheckResult::Pass();
}

CheckResult CheckEchoHeaders(const HttpResponse& echo, const Headers& present,
                             const std::vector<std::string>& absent) {
  std::string failure;
  auto j = EchoJson(echo, failure);
  if (j.is_null()) return CheckResult::Fail(failure);
  auto find = [&](const std::string& name) -> std::optional<std::string> {
    for (const auto& [n, values] : j["headers"].items()) {
      if (ToLower(n) == ToLower(name) && !values.empty()) return values[0].get<std::string>();
    }
    return std::nullopt;
  };
  std::string missing, leaked;
  for (const auto& [name, value] : present) {
    auto got = find(name);
    if (!got || *got != value) missing += (missing.empty() ? "" : ", ") + name;
  }
  for (const auto& name : absent) {
    if (find(name)) leaked += (leaked.empty() ? "" : ", ") + name;
  }
  if (missing.empty() && leaked.empty()) return CheckResult::Pass();
  std::string message = "expected end-to-end headers forwarded and hop-by-hop ones dropped;";
  if (!missing.empty()) message += " not forwarded (or changed): " + missing + ";";
  if (!leaked.empty()) message += " hop-by-hop headers that reached the backend: " + leaked;
  return CheckResult::Fail(message);
}

CheckResult CheckServerError(const HttpResponse& r, long preferred, double bound_ms) {
  if (r.status == 0) {
    return CheckResult::Fail("expected a " + std::to_string(preferred) + " within " +
                             std::to_string(int(bound_ms / 1000)) + " s, got no response after " +
                             std::to_string(int(r.t_total_ms)) + " ms: " + r.error);
  }
  if (r.status < 500 || r.status > 599) {
    return CheckResult::Fail("expected a 5xx (" + std::to_string(preferred) + "), got " +
                             std::to_string(r.status) + " \"" + Excerpt(r.body) + "\"");
  }
  if (r.t_headers_ms > bound_ms) {
    return CheckResult::Fail("expected the " + std::to_string(r.status) + " within " +
                             std::to_string(int(bound_ms)) + " ms, it took " +
                             std::to_string(int(r.t_headers_ms)) + " ms");
  }
  if (r.body.empty()) {
    return CheckResult::Fail("expected an error body with the " + std::to_string(r.status) +
                             ", got an empty body");
  }
  return CheckResult::Pass();
}

}  // namespace streamcheck::harness
