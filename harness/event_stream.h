// What the client keeps of a Server-Sent Events body, in memory bounded
// whatever the server sends: the first and last few events with their arrival
// times, counts, the parser's stats and leftover, and the chat summary
// (harness/chat_stream.h). Fed the body as it arrives.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>
#include <vector>

#include "harness/chat_stream.h"
#include "sse/sse_parser.h"

namespace streamcheck::harness {

struct ReceivedEvent {
  sse::Event event;
  double t_ms = 0;  // since the request started
};

struct EventStream {
  std::vector<ReceivedEvent> first;  // the first kKeep events
  std::vector<ReceivedEvent> last;   // the last kKeep events after `first` (no overlap)
  std::uint64_t count = 0;           // events dispatched
  double first_event_ms = -1;        // -1: no event
  double last_event_ms = -1;
  sse::StreamStats stats;
  sse::Leftover leftover;
  ChatSummary chat;
  static constexpr std::size_t kKeep = 8;

  bool empty() const { return count == 0; }
  // The data of the first / last kept events, for evidence.
  std::vector<std::string> FirstData() const;
  std::vector<std::string> LastData() const;
  // The last event seen, if any.
  const ReceivedEvent* Last() const;
};

class EventStreamRecorder {
 public:
  // `on_event` sees every event as it is dispatched; returning false asks the
  // caller to stop the transfer (see stop_requested()).
  explicit EventStreamRecorder(std::function<bool(const ReceivedEvent&)> on_event = {},
                               sse::Limits limits = {});
  void Feed(std::string_view bytes, double t_ms);
  bool stop_requested() const { return stop_requested_; }
  // Set once the parser hit one of its limits: the stream cannot be judged.
  const std::optional<std::string>& overflow() const { return parser_.stats().overflow; }
  std::uint64_t count() const { return count_; }
  EventStream Finish();

 private:
  void OnEvent(const sse::Event& event);

  std::function<bool(const ReceivedEvent&)> on_event_;
  sse::Parser parser_;
  ChatStreamAnalyzer chat_;
  std::vector<ReceivedEvent> first_;
  std::deque<ReceivedEvent> last_;
  std::uint64_t count_ = 0;
  double now_ms_ = 0;
  double first_event_ms_ = -1;
  double last_event_ms_ = -1;
  bool stop_requested_ = false;
};

// The whole of `body` through a recorder, as one read at `t_ms`: for tests and
// for bodies already in memory.
EventStream RecordEventStream(std::string_view body, double t_ms = 0);

}  // namespace streamcheck::harness
