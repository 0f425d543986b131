#include "harness/chat_stream.h"

#include "common/json_bounded.h"
#include "common/text.h"

namespace streamcheck::harness {
namespace {

using nlohmann::json;

std::string Cut(const std::string& s, std::size_t max) {
  return s.substr(0, std::min(max, s.size()));
}

std::string Dump(const json& j) {
  return Excerpt(j.dump(-1, ' ', false, json::error_handler_t::replace), 80);
}

bool IsString(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j.at(key).is_string();
}

std::string StringOr(const json& j, const char* key, std::string fallback) {
  return IsString(j, key) ? j.at(key).get<std::string>() : fallback;
}

bool IsIndexed(const json& choice) {
  return choice.is_object() && choice.contains("index") && choice.at("index").is_number_integer();
}

bool HasDelta(const json& choice) { return choice.is_object() && choice.contains("delta"); }

// A choice's delta.content, "" when it has none.
std::string ContentOf(const json& choice) {
  if (!HasDelta(choice) || !choice.at("delta").is_object()) return "";
  const json& delta = choice.at("delta");
  return IsString(delta, "content") ? delta.at("content").get<std::string>() : "";
}

std::string ChunkText(const json& chunk) {
  if (!chunk.is_object() || !chunk.contains("choices") || !chunk["choices"].is_array()) return "";
  std::string text;
  for (const auto& choice : chunk["choices"]) {
    if (IsIndexed(choice) && choice["index"].get<long long>() == 0) text += ContentOf(choice);
  }
  return text;
}

// What must not differ between two runs of one request, per event: its text,
// whether it is [DONE] or an error, and its finish_reason. Ids and "created"
// may differ.
std::string Essence(const std::string& data, const json& j) {
  if (data == "[DONE]") return "[DONE]";
  if (j.is_object() && j.contains("error")) return "error";
  std::string finish;
  if (j.is_object() && j.contains("choices") && j["choices"].is_array()) {
    for (const auto& choice : j["choices"]) {
      if (choice.is_object() && choice.contains("finish_reason") &&
          !choice["finish_reason"].is_null()) {
        finish += " finish=" + Dump(choice["finish_reason"]);
      }
    }
  }
  return "text=" + json(ChunkText(j)).dump(-1, ' ', false, json::error_handler_t::replace) + finish;
}

const std::set<std::string>& StandardChunkFields() {
  static const std::set<std::string> fields = {
      "id", "object", "created", "model", "system_fingerprint", "choices", "usage", "service_tier"};
  return fields;
}

}  // namespace

const std::set<std::string>& KnownFinishReasons() {
  static const std::set<std::string> reasons = {"stop", "length", "tool_calls", "content_filter",
                                                "function_call"};
  return reasons;
}

std::string EventRef(const sse::Event& e) {
  return "event #" + std::to_string(e.index) + " (bytes " + std::to_string(e.begin_offset) + "-" +
         std::to_string(e.end_offset) + ", data \"" + Excerpt(e.data) + "\")";
}

std::string DeltaContent(const std::string& event_data) {
  return ChunkText(ParseJsonOrNull(event_data));
}

void ChatStreamAnalyzer::Violation(const sse::Event& event, const std::string& what) {
  if (summary_.schema_violation.empty()) {
    summary_.schema_violation =
        "expected a chat.completion.chunk, " + what + " in " + EventRef(event);
  }
}

void ChatStreamAnalyzer::Add(const sse::Event& event) {
  auto& s = summary_;
  ++s.events;
  if (event.named && s.named_events++ == 0) s.first_named = EventRef(event);
  const bool done = event.data == "[DONE]";
  json j = done ? json() : ParseJsonOrNull(event.data);
  std::string essence = Essence(event.data, j);
  essence_sha_.Update(essence);
  essence_sha_.Update(std::string_view("\n", 1));
  if (s.essences.size() < ChatSummary::kMaxEssences) s.essences.push_back(std::move(essence));

  if (done) {
    if (s.done_count++ == 0) s.first_done = std::int64_t(event.index);
    return;
  }
  if (s.first_done >= 0) {
    if (s.after_done.empty()) s.after_done = EventRef(event);
    return;
  }
  if (!j.is_object()) return Violation(event, "got data that is not a JSON object");
  ++s.json_events;
  if (j.contains("error")) {
    if (s.error_events++ == 0) s.first_error = Cut(event.data, 200);
    return;
  }
  AddChunk(event, j);
}

bool ChatStreamAnalyzer::IsVendorChunk(const json& chunk) {
  auto& s = summary_;
  const bool no_choices =
      chunk.contains("choices") && chunk["choices"].is_array() && chunk["choices"].empty();
  if (chunk.contains("prompt_filter_results") && no_choices) {
    s.vendor_extensions.insert("a prompt-filter chunk with choices [] (Azure OpenAI)");
    return true;
  }
  if (StringOr(chunk, "object", "") == "chat.completion.done") {
    s.vendor_extensions.insert(
        "a final chunk with \"object\": \"chat.completion.done\" (Perplexity)");
    return true;
  }
  return false;
}

void ChatStreamAnalyzer::AddChunk(const sse::Event& event, const json& chunk) {
  auto& s = summary_;
  for (const auto& [key, value] : chunk.items()) {
    if (!StandardChunkFields().count(key) && key != "prompt_filter_results") {
      s.vendor_extensions.insert("a top-level field \"" + Excerpt(key, 40) + "\"");
    }
  }
  if (!chunk.contains("choices") || !chunk["choices"].is_array()) {
    return Violation(event, "got no \"choices\" array");
  }
  if (IsVendorChunk(chunk)) {
    ++s.vendor_chunks;
    return;
  }
  ++s.chunks;
  if (s.first_data.empty()) s.first_data = Cut(event.data, ChatSummary::kMaxKeptData);
  s.last_data = Cut(event.data, ChatSummary::kMaxKeptData);
  if (!IsString(chunk, "object") || chunk["object"] != "chat.completion.chunk") {
    Violation(event,
              "got \"object\": " + (chunk.contains("object") ? Dump(chunk["object"]) : "none"));
  }
  if (!chunk.contains("id") || !chunk["id"].is_string()) {
    Violation(event, "got no string \"id\"");
  } else {
    std::string id = chunk["id"].get<std::string>();
    if (!have_id_) {
      have_id_ = true;
      id_ = id;
    } else if (id != id_) {
      Violation(event, "got id \"" + Excerpt(id) + "\" after \"" + Excerpt(id_) + "\"");
    }
  }
  if (!chunk.contains("created") || !chunk["created"].is_number_integer()) {
    Violation(event, "got no integer \"created\"");
  }
  if (!IsString(chunk, "model")) Violation(event, "got no \"model\"");
  std::string text = ChunkText(chunk);
  s.text_bytes += text.size();
  text_sha_.Update(text);
  if (s.text.size() < ChatSummary::kMaxText) {
    s.text.append(text, 0, ChatSummary::kMaxText - s.text.size());
  }
  for (const auto& choice : chunk["choices"]) AddChoice(event, choice);
}

void ChatStreamAnalyzer::AddChoice(const sse::Event& event, const json& choice) {
  auto& s = summary_;
  if (!choice.is_object()) return Violation(event, "got a choice that is not an object");
  if (!IsIndexed(choice)) {
    return Violation(event, "got a choice without an integer \"index\" (" +
                                (choice.contains("index") ? Dump(choice["index"]) : "none") + ")");
  }
  const long long index = choice["index"].get<long long>();
  if (!s.choices.count(index) && s.choices.size() >= ChatSummary::kMaxChoices) {
    return Violation(event,
                     "got more than " + std::to_string(ChatSummary::kMaxChoices) + " choices");
  }
  auto& c = s.choices[index];
  const bool finished = c.finishes > 0;
  if (HasDelta(choice) && !choice["delta"].is_object()) {
    Violation(event, "got a \"delta\" that is not an object");
  } else if (!HasDelta(choice)) {
    if (finished && choice.contains("content_filter_results")) {
      s.vendor_extensions.insert(
          "content-filter annotation chunks after the finish chunk (Azure OpenAI)");
      return;
    }
    if (!choice.contains("finish_reason") || choice["finish_reason"].is_null()) {
      Violation(event, "got a choice without \"delta\"");
    }
  } else if (finished && (!ContentOf(choice).empty() || choice["delta"].contains("tool_calls"))) {
    if (c.after_finish.empty()) c.after_finish = EventRef(event);
  }
  const std::string content = ContentOf(choice);
  c.text_bytes += content.size();
  if (c.text.size() < ChatSummary::kMaxChoiceText) {
    c.text.append(content, 0, ChatSummary::kMaxChoiceText - c.text.size());
  }
  if (index == 0 && HasDelta(choice) && choice["delta"].is_object() &&
      choice["delta"].contains("tool_calls") && choice["delta"]["tool_calls"].is_array()) {
    for (const auto& call : choice["delta"]["tool_calls"]) {
      if (!IsIndexed(call)) continue;
      const long long at = call["index"].get<long long>();
      if (!s.tool_calls.count(at) && s.tool_calls.size() >= ChatSummary::kMaxToolCalls) continue;
      auto& t = s.tool_calls[at];
      if (IsString(call, "id")) t.id = call["id"].get<std::string>();
      if (call.contains("function") && call["function"].is_object()) {
        const json& f = call["function"];
        if (IsString(f, "name")) t.name += f["name"].get<std::string>();
        if (IsString(f, "arguments") && t.arguments.size() < ChatSummary::kMaxText) {
          t.arguments += f["arguments"].get<std::string>();
        }
      }
    }
  }
  if (choice.contains("finish_reason") && !choice["finish_reason"].is_null()) {
    ++c.finishes;
    c.finish_at = event.index;
    const json& reason = choice["finish_reason"];
    std::string value = reason.is_string() ? reason.get<std::string>() : Dump(reason);
    if (c.finish_reason.empty()) c.finish_reason = value;
    if ((!reason.is_string() || !KnownFinishReasons().count(value)) &&
        s.bad_finish_reason.empty()) {
      s.bad_finish_reason = "\"finish_reason\": " + Dump(reason) + " in " + EventRef(event);
    }
  }
}

ChatSummary ChatStreamAnalyzer::Finish() {
  summary_.text_sha256 = text_sha_.HexDigest();
  summary_.essence_digest = essence_sha_.HexDigest();
  return summary_;
}

}  // namespace streamcheck::harness
