// What a chat completion stream said, reduced as it arrives: each event is
// parsed once (with a depth limit) and folded into a ChatSummary of bounded
// size, so a stream of any length is judged without keeping its events. The
// chat checks (harness/chat_checks.h) are pure functions of the summary.
//
// The rules follow what clients depend on: the OpenAI SDKs build chunks
// without validating them, so MUST-level violations are what makes them (or
// the usual `chunk.choices[0].delta.content` loop) misread the stream. Known
// vendor shapes that the SDKs read fine are recorded as vendor extensions,
// not violations:
// - Azure OpenAI's prompt-filter chunk first (`"id": ""`, `"object": ""`,
//   `choices: []`, `prompt_filter_results`);
// - Azure's content-filter annotation chunks after a choice finished (a
//   choice with `content_filter_results` and no `delta`);
// - a final chunk with another `object` (Perplexity: "chat.completion.done");
// - top-level fields beyond OpenAI's (DRUM's `datarobot_association_id`).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "sse/sse_parser.h"

namespace streamcheck::harness {

struct ChatSummary {
  std::uint64_t events = 0;  // every dispatched event

  // `data: [DONE]`
  std::uint64_t done_count = 0;
  std::int64_t first_done = -1;  // its event index, -1: none
  std::string after_done;        // the first event after [DONE], as EventRef() says it

  // Events before [DONE] that are JSON objects (chunks, error objects, ...).
  std::uint64_t json_events = 0;
  std::uint64_t chunks = 0;         // chat.completion.chunk events (vendor chunks excluded)
  std::uint64_t vendor_chunks = 0;  // events of the vendor shapes above
  // The first event before [DONE] that breaks the chunk schema a client
  // reads: the sentence that says what was wrong and where ("" when none).
  std::string schema_violation;
  std::string first_data;  // data of the first chunk (at most 64 KiB)
  std::string last_data;   // data of the last chunk before [DONE] (at most 64 KiB)

  // Per choice index, over the chunks before [DONE].
  struct Choice {
    std::uint64_t finishes = 0;   // chunks with a non-null finish_reason
    std::uint64_t finish_at = 0;  // event index of the last of them
    std::string after_finish;     // a chunk with delta content after the finish, as EventRef() says
    std::string finish_reason;    // the first non-null one
    std::string text;             // its delta.content, at most kMaxChoiceText bytes of it
    std::uint64_t text_bytes = 0;
  };
  std::map<long long, Choice> choices;  // at most kMaxChoices; more is a schema violation
  // The first finish_reason that is not one of OpenAI's (stop, length,
  // tool_calls, content_filter, function_call), with its event ("" none).
  std::string bad_finish_reason;

  // The concatenated delta.content of choice 0.
  std::string text;  // at most kMaxText bytes of it
  std::uint64_t text_bytes = 0;
  std::string text_sha256;  // of all of it

  // Tool calls of choice 0, by tool-call index: name and the concatenated
  // arguments, as a client assembles them from delta.tool_calls.
  struct ToolCall {
    std::string id;
    std::string name;
    std::string arguments;  // at most kMaxText bytes
  };
  std::map<long long, ToolCall> tool_calls;

  // Events before [DONE] that are JSON objects with an "error" member.
  std::uint64_t error_events = 0;
  std::string first_error;  // its data, cut to 200 bytes

  // Events with an `event:` field: the OpenAI SDKs hand those to the caller
  // as {"data", "event"} instead of a chunk.
  std::uint64_t named_events = 0;
  std::string first_named;  // as EventRef() says it

  // The vendor extensions seen, each named once ("Azure prompt-filter chunk").
  std::set<std::string> vendor_extensions;

  // Per event, what must not differ between two runs of one request (its text,
  // [DONE] or error, its finish_reason): the first kMaxEssences of them, and a
  // digest of all.
  std::vector<std::string> essences;
  std::string essence_digest;

  static constexpr std::size_t kMaxChoices = 64;
  static constexpr std::size_t kMaxToolCalls = 64;
  static constexpr std::size_t kMaxText = 4 << 20;
  static constexpr std::size_t kMaxChoiceText = 64 << 10;
  static constexpr std::size_t kMaxEssences = 4096;
  static constexpr std::size_t kMaxKeptData = 64 << 10;
};

// The finish reasons of OpenAI's chat completion chunk.
const std::set<std::string>& KnownFinishReasons();

// "event #3 (bytes 120-188, data "{...}")": how checks point at an event.
std::string EventRef(const sse::Event& event);

// The delta.content of choice 0 in one event's data ("" when it has none).
std::string DeltaContent(const std::string& event_data);

class ChatStreamAnalyzer {
 public:
  void Add(const sse::Event& event);
  const ChatSummary& summary() const { return summary_; }
  // The summary with its digests; call once, at the end.
  ChatSummary Finish();

 private:
  bool IsVendorChunk(const nlohmann::json& chunk);
  void AddChunk(const sse::Event& event, const nlohmann::json& chunk);
  void AddChoice(const sse::Event& event, const nlohmann::json& choice);
  void Violation(const sse::Event& event, const std::string& what);

  ChatSummary summary_;
  bool have_id_ = false;
  std::string id_;  // the first non-empty chunk id
  Sha256 text_sha_;
  Sha256 essence_sha_;
};

}  // namespace streamcheck::harness
