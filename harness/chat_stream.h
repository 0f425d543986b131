// What a chat completion stream said, reduced as it arrives: each event is
// parsed once (with a depth limit) and folded into a ChatSummary of bounded
// size, so a stream of any length is judged without keeping its events. The
// chat checks (harness/chat_checks.h) are pure functions of the summary.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
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
  // The first event before [DONE] that is not a chat.completion.chunk with one
  // id, integer created, model and choices[] of {index, object delta}: the
  // sentence that says what was wrong and where ("" when every one was).
  std::string schema_violation;
  std::string first_data;  // data of the first event before [DONE] (at most 64 KiB)
  std::string last_data;   // data of the last event before [DONE] (at most 64 KiB)

  // Per choice index, over the chunks before [DONE].
  struct Choice {
    std::uint64_t finishes = 0;   // chunks with a non-null finish_reason
    std::uint64_t finish_at = 0;  // event index of the last of them
    std::uint64_t last_at = 0;    // event index of the last chunk carrying this choice
    std::string last_ref;         // that chunk, as EventRef() says it
  };
  std::map<long long, Choice> choices;  // at most kMaxChoices; more is a schema violation

  // The concatenated delta.content of choice 0.
  std::string text;  // at most kMaxText bytes of it
  std::uint64_t text_bytes = 0;
  std::string text_sha256;  // of all of it

  // Events before [DONE] that are JSON objects with an "error" member.
  std::uint64_t error_events = 0;
  std::string first_error;  // its data, cut to 200 bytes

  // Per event, what must not differ between two runs of one request (its text,
  // [DONE] or error, its finish_reason): the first kMaxEssences of them, and a
  // digest of all.
  std::vector<std::string> essences;
  std::string essence_digest;

  static constexpr std::size_t kMaxChoices = 64;
  static constexpr std::size_t kMaxText = 4 << 20;
  static constexpr std::size_t kMaxEssences = 4096;
  static constexpr std::size_t kMaxKeptData = 64 << 10;
};

// "event #3 (bytes 120-188, data "{...}")": how checks point at an event.
std::string EventRef(const sse::Event& event);

// The delta.content of choice 0 in one event's data ("" when it has none).
std::string DeltaContent(const std::string& event_data);

class ChatStreamAnalyzer {
 public:
  void Add(const sse::Event& event);
  // The summary so far; call Finish() once at the end for the digests.
  const ChatSummary& summary() const { return summary_; }
  ChatSummary Finish();

 private:
  void AddChunk(const sse::Event& event, const nlohmann::json& chunk);
  void Violation(const sse::Event& event, const std::string& what);

  ChatSummary summary_;
  bool have_id_ = false;
  std::string id_;  // the first chunk's id, which may be ""
  Sha256 text_sha_;
  Sha256 essence_sha_;
};

}  // namespace streamcheck::harness
