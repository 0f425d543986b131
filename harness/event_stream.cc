#include "harness/event_stream.h"

namespace streamcheck::harness {

std::vector<std::string> EventStream::FirstData() const {
  std::vector<std::string> out;
  for (const auto& e : first) out.push_back(e.event.data);
  return out;
}

std::vector<std::string> EventStream::LastData() const {
  std::vector<std::string> out;
  if (last.empty()) {  // few events: the last ones are among the first
    std::size_t from = first.size() > kKeep / 2 ? first.size() - kKeep / 2 : 0;
    for (std::size_t i = from; i < first.size(); ++i) out.push_back(first[i].event.data);
    return out;
  }
  for (const auto& e : last) out.push_back(e.event.data);
  return out;
}

const ReceivedEvent* EventStream::Last() const {
  if (!last.empty()) return &last.back();
  if (!first.empty()) return &first.back();
  return nullptr;
}

EventStreamRecorder::EventStreamRecorder(std::function<bool(const ReceivedEvent&)> on_event,
                                         sse::Limits limits)
    : on_event_(std::move(on_event)),
      parser_([this](const sse::Event& e) { OnEvent(e); }, limits) {}

void EventStreamRecorder::Feed(std::string_view bytes, double t_ms) {
  now_ms_ = t_ms;
  parser_.Feed(bytes);
}

void EventStreamRecorder::OnEvent(const sse::Event& event) {
  ++count_;
  if (first_event_ms_ < 0) first_event_ms_ = now_ms_;
  last_event_ms_ = now_ms_;
  chat_.Add(event);
  ReceivedEvent received{event, now_ms_};
  if (on_event_ && !on_event_(received)) stop_requested_ = true;
  if (first_.size() < EventStream::kKeep) {
    first_.push_back(std::move(received));
    return;
  }
  last_.push_back(std::move(received));
  if (last_.size() > EventStream::kKeep) last_.pop_front();
}

EventStream EventStreamRecorder::Finish() {
  EventStream out;
  out.leftover = parser_.Finish();
  out.stats = parser_.stats();
  out.chat = chat_.Finish();
  out.first = std::move(first_);
  out.last.assign(std::make_move_iterator(last_.begin()), std::make_move_iterator(last_.end()));
  out.count = count_;
  out.first_event_ms = first_event_ms_;
  out.last_event_ms = last_event_ms_;
  return out;
}

EventStream RecordEventStream(std::string_view body, double t_ms) {
  EventStreamRecorder recorder;
  recorder.Feed(body, t_ms);
  return recorder.Finish();
}

}  // namespace streamcheck::harness
