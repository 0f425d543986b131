// Incremental Server-Sent Events parser that follows the WHATWG HTML
// "event stream interpretation" rules byte for byte, and records what a
// conformance tool needs to judge a stream: line endings, comments, the first
// non-comment line, and whatever was left undispatched at the end.
//
// Results never depend on how the stream is split into Feed() calls: the
// events, the stats after Finish() and the Leftover are the same for any
// split, down to one byte per call. Choices made where the spec leaves room:
//
// - Blocks: the lines between two blank lines. An event's begin_offset is the
//   first line of its block, comments included; its end_offset is one past the
//   CR or LF that ended the blank line. For a CRLF blank line the LF is not
//   included: the event is dispatched as soon as the CR arrives, as browsers
//   do, so that a server ending lines with a lone CR is not judged late; the LF
//   may still be in the next read, and offsets must not depend on reads.
// - A CR at the very end of a read completes its line at once; whether it was
//   a CR or half of a CRLF is counted in the stats when the next byte arrives,
//   or as a CR by Finish().
// - invalid_utf8 counts every U+FFFD the UTF-8 decoder substitutes in the
//   complete lines of the stream (comments and ignored fields included), not
//   only in dispatched values: bad bytes anywhere are the server's fault.
// - retry: a non-empty run of ASCII digits; a value beyond 2^64-1 saturates.
// - Limits: a line longer than Limits::max_line_bytes, or an event whose data
//   grows past Limits::max_event_bytes, ends parsing (StreamStats::overflow
//   says which): the parser never holds more than about those sizes, whatever
//   a server sends. WHATWG sets no limit; browsers' memory is the limit there.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace streamcheck::sse {

struct Event {
  std::string type = "message";  // the `event` field; "message" when absent
  std::string data;              // `data` lines joined with LF, final LF removed
  std::string last_event_id;     // the last event ID buffer when dispatched
  std::size_t index = 0;         // 0-based among dispatched events
  std::size_t begin_offset = 0;  // stream byte offset where the event's first line began
  std::size_t end_offset = 0;    // stream byte offset just past the blank line that dispatched it
  bool named = false;            // its block had an `event` field (even "event: message")
};

// What the parser saw, for checks and reports. Offsets and sizes count raw
// stream bytes, the BOM included.
struct StreamStats {
  std::uint64_t bytes = 0;
  std::uint64_t lines = 0;  // lines completed, blank lines included
  std::uint64_t lf_endings = 0;
  std::uint64_t crlf_endings = 0;
  std::uint64_t cr_endings = 0;
  std::uint64_t comment_lines = 0;
  std::uint64_t events = 0;            // dispatched
  std::uint64_t empty_dispatches = 0;  // blank lines with an empty data buffer
  // Blank lines that the OpenAI SDKs' decoders (Python and Node) turn into an
  // event with empty data, which they then fail to parse as JSON: a block with
  // an `event` or `retry` field but no data, or any blank line once an `id`
  // was set (they keep the last id, as WHATWG says, and dispatch on it).
  // WHATWG dispatches nothing for these.
  std::uint64_t sdk_dataless_events = 0;
  std::optional<std::string> first_sdk_dataless;  // what it was and where
  std::uint64_t invalid_utf8 = 0;                 // sequences replaced by U+FFFD
  bool bom_stripped = false;
  std::optional<std::uint64_t> retry_ms;          // last valid `retry` value
  std::optional<std::string> first_content_line;  // first non-comment, non-blank line
  // Set when a limit was hit; parsing stopped there. E.g. "a line longer than 1048576 bytes".
  std::optional<std::string> overflow;
};

struct Limits {
  std::size_t max_line_bytes = 1 << 20;   // one line, comments included
  std::size_t max_event_bytes = 8 << 20;  // the data of one event
};

// What was left when the stream ended (WHATWG: discarded, never dispatched).
struct Leftover {
  bool partial_line = false;   // bytes after the last line ending
  bool partial_event = false;  // fields seen since the last dispatch, no blank line after them
  // The raw bytes after the last blank line (the open block and any partial
  // line), at most the last 256 of them, for messages.
  std::string bytes;
  bool clean() const { return !partial_line && !partial_event; }
};

class Parser {
 public:
  using EventCallback = std::function<void(const Event&)>;

  // `on_event` may be empty. The Event it receives is reused by the parser:
  // copy what must outlive the call.
  explicit Parser(EventCallback on_event, Limits limits = {});

  // Feeds the next bytes of the stream; may dispatch any number of events.
  // Reads may split anything: a CRLF pair, a UTF-8 sequence, the BOM.
  void Feed(std::string_view bytes);

  // Ends the stream and reports what was discarded. Feed() after Finish() is a
  // programming error.
  Leftover Finish();

  const StreamStats& stats() const { return stats_; }

 private:
  std::string_view SkipBom(std::string_view bytes);
  void RememberTail(std::string_view bytes);
  void ProcessLine(std::string_view line, std::size_t line_begin, std::size_t line_end);
  void Dispatch(std::size_t end_offset);
  void Overflow(const char* what, std::size_t limit);

  EventCallback on_event_;
  Limits limits_;
  StreamStats stats_;
  std::string line_;            // the current incomplete line
  std::size_t line_begin_ = 0;  // offset of line_'s first byte
  bool last_was_cr_ = false;    // a CR ended the previous read; skip one LF
  std::size_t bom_seen_ = 0;    // how many BOM bytes matched at the start
  bool bom_decided_ = false;
  std::string data_;               // data buffer
  std::string event_type_;         // event type buffer
  std::string last_event_id_;      // last event ID buffer
  bool event_has_fields_ = false;  // any field line since the last blank line
  bool block_has_event_ = false;   // an `event` field since the last blank line
  bool block_has_retry_ = false;   // a `retry` field since the last blank line
  bool block_has_lines_ = false;   // any line since the last blank line
  std::size_t event_begin_ = 0;    // offset of the block's first line
  std::size_t next_index_ = 0;
  std::size_t offset_ = 0;  // bytes consumed so far
  std::string raw_tail_;    // the stream's last bytes, for Leftover::bytes
  Event event_;             // reused for every dispatch, keeps its capacity
  bool finished_ = false;
};

}  // namespace streamcheck::sse
