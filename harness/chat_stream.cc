#include "harness/chat_stream.h"

#include <nlohmann/json.hpp>

#include "common/json_bounded.h"
#include "common/text.h"

namespace streamcheck::harness {
namespace {

using nlohmann::json;

std::string Cut(const std::string& s, std::size_t max) {
  return s.substr(0, std::min(max, s.size()));
}

std::string ContentOf(const json& chunk) {
  if (!chunk.is_object() || !chunk.contains("choices") || !chunk["choices"].is_array()) return "";
  std::string text;
  for (const auto& choice : chunk["choices"]) {
    if (choice.is_object() && choice.contains("index") && choice["index"].is_number_integer() &&
        choice["index"].get<long long>() == 0 && choice.contains("delta") &&
        choice["delta"].is_object() && choice["delta"].contains("content") &&
        choice["delta"]["content"].is_string()) {
      text += choice["delta"]["content"].get<std::string>();
    }
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
        finish += " finish=" + choice["finish_reason"].dump();
      }
    }
  }
  return "text=" + json(ContentOf(j)).dump(-1, ' ', false, json::error_handler_t::replace) + finish;
}

}  // namespace

std::string EventRef(const sse::Event& e) {
  return "event #" + std::to_string(e.index) + " (bytes " + std::to_string(e.begin_offset) + "-" +
         std::to_string(e.end_offset) + ", data \"" + Excerpt(e.data) + "\")";
}

std::string DeltaContent(const std::string& event_data) {
  return ContentOf(ParseJsonOrNull(event_data));
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
  if (s.first_data.empty() && s.json_events == 0)
    s.first_data = Cut(event.data, ChatSummary::kMaxKeptData);
  s.last_data = Cut(event.data, ChatSummary::kMaxKeptData);
  if (!j.is_object()) return Violation(event, "got data that is not a JSON object");
  ++s.json_events;
  if (j.contains("error")) {
    if (s.error_events++ == 0) s.first_error = Cut(event.data, 200);
  }
  AddChunk(event, j);
}

void ChatStreamAnalyzer::AddChunk(const sse::Event& event, const json& chunk) {
  auto& s = summary_;
  std::string text = ContentOf(chunk);
  s.text_bytes += text.size();
  text_sha_.Update(text);
  if (s.text.size() < ChatSummary::kMaxText) {
    s.text.append(text, 0, ChatSummary::kMaxText - s.text.size());
  }
  const json* object = chunk.contains("object") ? &chunk.at("object") : nullptr;
  if (!object || !object->is_string() || object->get<std::string>() != "chat.completion.chunk") {
    Violation(event, "got \"object\": " +
                         (object ? object->dump(-1, ' ', false, json::error_handler_t::replace)
                                 : std::string("none")));
  } else if (!chunk.contains("id") || !chunk["id"].is_string()) {
    Violation(event, "got no string \"id\"");
  } else {
    std::string id = chunk["id"].get<std::string>();
    if (!have_id_) {
      have_id_ = true;
      id_ = id;
    }
    if (id != id_)
      Violation(event, "got id \"" + Excerpt(id) + "\" after \"" + Excerpt(id_) + "\"");
    if (!chunk.contains("created") || !chunk["created"].is_number_integer()) {
      Violation(event, "got no integer \"created\"");
    }
    if (!chunk.contains("model") || !chunk["model"].is_string())
      Violation(event, "got no \"model\"");
    if (!chunk.contains("choices") || !chunk["choices"].is_array()) {
      Violation(event, "got no \"choices\" array");
    }
  }
  if (!chunk.contains("choices") || !chunk["choices"].is_array()) return;
  for (const auto& choice : chunk["choices"]) {
    if (!choice.is_object() || !choice.contains("index") || !choice.contains("delta") ||
        !choice["delta"].is_object()) {
      Violation(event, "got a choice without \"index\" and object \"delta\"");
    }
    if (!choice.is_object()) continue;
    long long index = choice.contains("index") && choice["index"].is_number_integer()
                          ? choice["index"].get<long long>()
                          : 0;
    if (!s.choices.count(index) && s.choices.size() >= ChatSummary::kMaxChoices) {
      Violation(event, "got more than " + std::to_string(ChatSummary::kMaxChoices) + " choices");
      continue;
    }
    auto& c = s.choices[index];
    c.last_at = event.index;
    c.last_ref = EventRef(event);
    if (choice.contains("finish_reason") && !choice["finish_reason"].is_null()) {
      ++c.finishes;
      c.finish_at = event.index;
    }
  }
}

ChatSummary ChatStreamAnalyzer::Finish() {
  summary_.text_sha256 = text_sha_.HexDigest();
  summary_.essence_digest = essence_sha_.HexDigest();
  return summary_;
}

}  // namespace streamcheck::harness
