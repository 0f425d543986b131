#include "sse/sse_parser.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <utility>

namespace streamcheck::sse {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
constexpr std::size_t kTailLimit = 256;

// The WHATWG UTF-8 decoder over one line or field: each maximal invalid
// subpart becomes one U+FFFD, and a byte that breaks a sequence is decoded
// again on its own. CR, LF, ':' and ' ' are ASCII and never inside a sequence,
// so decoding lines or fields apart gives what decoding the stream would.
// Appends to `out` unless it is null; returns how many U+FFFD it substituted.
std::size_t DecodeUtf8(std::string_view in, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t errors = 0;
  std::size_t i = 0;
  std::size_t copied = 0;  // bytes before this are already in `out`
  while (i < n) {
    while (n - i >= 8) {  // LLM output is mostly ASCII: skip it a word at a time
      std::uint64_t word;
      std::memcpy(&word, s + i, sizeof word);
      if (word & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i == n) break;
    const unsigned char lead = s[i];
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t needed = 0;
    unsigned char lower = 0x80;
    unsigned char upper = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      needed = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      needed = 2;
      if (lead == 0xE0) lower = 0xA0;  // overlong
      if (lead == 0xED) upper = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      needed = 3;
      if (lead == 0xF0) lower = 0x90;  // overlong
      if (lead == 0xF4) upper = 0x8F;  // beyond U+10FFFF
    }
    std::size_t j = i + 1;
    bool valid = needed > 0;
    for (std::size_t k = 0; valid && k < needed; ++k) {
      if (j < n && s[j] >= lower && s[j] <= upper) {
        ++j;
        lower = 0x80;
        upper = 0xBF;
      } else {
        valid = false;
      }
    }
    if (!valid) {
      if (out != nullptr) {
        out->append(in.data() + copied, i - copied);
        out->append(kReplacement);
      }
      ++errors;
      copied = j;
    }
    i = j;
  }
  if (out != nullptr) out->append(in.data() + copied, n - copied);
  return errors;
}

bool IsAsciiDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::uint64_t ParseSaturating(std::string_view digits) {
  constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t value = 0;
  for (char c : digits) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (kMax - digit) / 10) return kMax;
    value = value * 10 + digit;
  }
  return value;
}

const char* FindOrEnd(const char* begin, const char* end, char c) {
  const void* found = std::memchr(begin, c, static_cast<std::size_t>(end - begin));
  return found != nullptr ? static_cast<const char*>(found) : end;
}

}  // namespace

Parser::Parser(EventCallback on_event, Limits limits)
    : on_event_(std::move(on_event)), limits_(limits) {
  raw_tail_.reserve(2 * kTailLimit);
}

void Parser::Feed(std::string_view bytes) {
  assert(!finished_ && "Feed() after Finish()");
  if (bytes.empty()) return;
  stats_.bytes += bytes.size();
  if (stats_.overflow) return;
  RememberTail(bytes);
  if (!bom_decided_) {
    bytes = SkipBom(bytes);
    if (bytes.empty()) return;
  }
  if (last_was_cr_) {
    last_was_cr_ = false;
    if (bytes.front() == '\n') {
      ++stats_.crlf_endings;
      bytes.remove_prefix(1);
      line_begin_ = ++offset_;
    } else {
      ++stats_.cr_endings;
    }
  }

  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  // Each of CR and LF is searched for once per position it is found at, so a
  // read is scanned in linear time whichever line ending the stream uses.
  const char* next_cr = FindOrEnd(p, end, '\r');
  const char* next_lf = FindOrEnd(p, end, '\n');
  while (p < end) {
    if (next_cr < p) next_cr = FindOrEnd(p, end, '\r');
    if (next_lf < p) next_lf = FindOrEnd(p, end, '\n');
    const char* const terminator = std::min(next_cr, next_lf);
    const auto length = static_cast<std::size_t>(terminator - p);
    if (line_.size() + length > limits_.max_line_bytes) {
      return Overflow("a line longer than", limits_.max_line_bytes);
    }
    if (terminator == end) {
      line_.append(p, length);
      offset_ += length;
      break;
    }
    std::string_view line(p, length);
    if (!line_.empty()) {
      line_.append(p, length);
      line = line_;
    }
    std::size_t terminator_length = 1;
    if (*terminator == '\n') {
      ++stats_.lf_endings;
    } else if (terminator + 1 == end) {
      last_was_cr_ = true;  // counted when the next byte shows whether a LF follows
    } else if (terminator[1] == '\n') {
      ++stats_.crlf_endings;
      terminator_length = 2;
    } else {
      ++stats_.cr_endings;
    }
    const std::size_t terminator_offset = offset_ + length;
    ++stats_.lines;
    ProcessLine(line, line_begin_, terminator_offset + 1);
    if (stats_.overflow) return;
    line_.clear();
    offset_ = terminator_offset + terminator_length;
    line_begin_ = offset_;
    p = terminator + terminator_length;
  }
}

std::string_view Parser::SkipBom(std::string_view bytes) {
  while (!bytes.empty()) {
    if (bytes.front() != kBom[bom_seen_]) {
      // Not a BOM: the bytes held so far start the first line.
      bom_decided_ = true;
      line_.assign(kBom.substr(0, bom_seen_));
      return bytes;
    }
    bytes.remove_prefix(1);
    ++offset_;
    if (++bom_seen_ == kBom.size()) {
      bom_decided_ = true;
      stats_.bom_stripped = true;
      line_begin_ = offset_;
      return bytes;
    }
  }
  return bytes;
}

void Parser::RememberTail(std::string_view bytes) {
  if (bytes.size() >= kTailLimit) {
    raw_tail_.assign(bytes.substr(bytes.size() - kTailLimit));
    return;
  }
  raw_tail_.append(bytes);
  if (raw_tail_.size() > 2 * kTailLimit) raw_tail_.erase(0, raw_tail_.size() - kTailLimit);
}

void Parser::ProcessLine(std::string_view line, std::size_t line_begin, std::size_t line_end) {
  if (line.empty()) {
    if (data_.empty()) {
      ++stats_.empty_dispatches;
      if (block_has_event_ || block_has_retry_ || !last_event_id_.empty()) {
        if (stats_.sdk_dataless_events++ == 0) {
          stats_.first_sdk_dataless =
              std::string(block_has_event_   ? "an `event` field"
                          : block_has_retry_ ? "a `retry` field"
                                             : "a blank line after an `id` was set") +
              " with no data, ending at byte " + std::to_string(line_end);
        }
      }
      event_type_.clear();
    } else {
      Dispatch(line_end);
    }
    event_has_fields_ = false;
    block_has_lines_ = false;
    block_has_event_ = false;
    block_has_retry_ = false;
    return;
  }
  if (!block_has_lines_) {
    block_has_lines_ = true;
    event_begin_ = line_begin;
  }
  if (line.front() == ':') {
    ++stats_.comment_lines;
    stats_.invalid_utf8 += DecodeUtf8(line, nullptr);
    return;
  }
  if (!stats_.first_content_line) {
    std::string text;
    DecodeUtf8(line, &text);  // counted below, field by field
    stats_.first_content_line = std::move(text);
  }
  event_has_fields_ = true;

  std::string_view name = line;
  std::string_view value;
  if (const std::size_t colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  }
  // Field names are compared as bytes: an ASCII name matches exactly when its
  // decoded form does, since any non-ASCII byte decodes to a non-ASCII char.
  stats_.invalid_utf8 += DecodeUtf8(name, nullptr);
  std::string* target = nullptr;
  if (name == "data") {
    if (data_.size() + value.size() > limits_.max_event_bytes) {
      return Overflow("an event whose data is longer than", limits_.max_event_bytes);
    }
    stats_.invalid_utf8 += DecodeUtf8(value, &data_);
    data_.push_back('\n');
    return;
  }
  if (name == "event") {
    target = &event_type_;
    block_has_event_ = true;
  } else if (name == "id") {
    // U+0000 is the byte 0x00 and nothing else in UTF-8.
    if (value.find('\0') == std::string_view::npos) target = &last_event_id_;
  } else if (name == "retry") {
    if (IsAsciiDigits(value)) {
      block_has_retry_ = true;
      stats_.retry_ms = ParseSaturating(value);
      return;
    }
  }
  if (target != nullptr) target->clear();
  stats_.invalid_utf8 += DecodeUtf8(value, target);
}

void Parser::Dispatch(std::size_t end_offset) {
  // Swapping hands the data buffer to the event and takes back the previous
  // event's, so steady-state parsing allocates nothing per event.
  event_.data.swap(data_);
  event_.data.pop_back();  // the LF the last `data` line appended
  if (event_type_.empty()) {
    event_.type.assign("message");
  } else {
    event_.type.assign(event_type_);
  }
  event_.last_event_id.assign(last_event_id_);
  event_.index = next_index_++;
  event_.named = block_has_event_;
  event_.begin_offset = event_begin_;
  event_.end_offset = end_offset;
  ++stats_.events;
  data_.clear();
  event_type_.clear();
  if (on_event_) on_event_(event_);
}

void Parser::Overflow(const char* what, std::size_t limit) {
  stats_.overflow = std::string(what) + " " + std::to_string(limit) + " bytes";
  line_.clear();
  line_.shrink_to_fit();
  data_.clear();
  data_.shrink_to_fit();
}

Leftover Parser::Finish() {
  assert(!finished_ && "Finish() called twice");
  finished_ = true;
  if (last_was_cr_) {
    last_was_cr_ = false;
    ++stats_.cr_endings;
  }
  Leftover leftover;
  leftover.partial_line = !line_.empty() || (!bom_decided_ && bom_seen_ > 0);
  leftover.partial_event = event_has_fields_;
  // raw_tail_ holds the bytes [offset_ - raw_tail_.size(), offset_).
  const std::size_t block_begin = block_has_lines_ ? event_begin_ : line_begin_;
  const std::size_t from = std::max(block_begin, offset_ - std::min(offset_, kTailLimit));
  leftover.bytes.assign(raw_tail_, raw_tail_.size() - (offset_ - from));

  line_.clear();
  data_.clear();
  event_type_.clear();
  event_has_fields_ = false;
  block_has_lines_ = false;
  return leftover;
}

}  // namespace streamcheck::sse
