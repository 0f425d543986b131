#include "sse/sse_parser.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace streamcheck::sse {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Outcome {
  std::vector<Event> events;
  StreamStats stats;
  Leftover leftover;
};

Outcome ParsePieces(const std::vector<std::string_view>& pieces) {
  Outcome out;
  Parser parser([&out](const Event& event) { out.events.push_back(event); });
  for (std::string_view piece : pieces) parser.Feed(piece);
  out.leftover = parser.Finish();
  out.stats = parser.stats();
  return out;
}

std::string Escape(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  return out;
}

// Everything the parser reports, one field a line, so that a mismatch reads
// as a diff.
std::string Describe(const Outcome& out) {
  std::string text;
  for (const Event& e : out.events) {
    text += "event " + std::to_string(e.index) + " type=" + Escape(e.type) +
            " data=" + Escape(e.data) + " id=" + Escape(e.last_event_id) + " [" +
            std::to_string(e.begin_offset) + "," + std::to_string(e.end_offset) + ")\n";
  }
  const StreamStats& s = out.stats;
  text += "bytes=" + std::to_string(s.bytes) + " lines=" + std::to_string(s.lines) +
          " lf=" + std::to_string(s.lf_endings) + " crlf=" + std::to_string(s.crlf_endings) +
          " cr=" + std::to_string(s.cr_endings) + " comments=" + std::to_string(s.comment_lines) +
          " events=" + std::to_string(s.events) + " empty=" + std::to_string(s.empty_dispatches) +
          " invalid_utf8=" + std::to_string(s.invalid_utf8) +
          " bom=" + std::to_string(s.bom_stripped) +
          " retry=" + (s.retry_ms ? std::to_string(*s.retry_ms) : "none") +
          " first=" + (s.first_content_line ? Escape(*s.first_content_line) : "none") + "\n";
  const Leftover& l = out.leftover;
  text += "partial_line=" + std::to_string(l.partial_line) +
          " partial_event=" + std::to_string(l.partial_event) + " tail=" + Escape(l.bytes) + "\n";
  return text;
}

// Parses `stream` whole, then split in two at every byte boundary, then one
// byte per Feed(), and expects the same events, stats and leftover each time:
// no rule may depend on where the reads fall. Returns the whole-stream result.
Outcome ParseEverySplit(std::string_view stream) {
  const Outcome whole = ParsePieces({stream});
  const std::string expected = Describe(whole);
  for (std::size_t at = 0; at <= stream.size(); ++at) {
    const Outcome split = ParsePieces({stream.substr(0, at), stream.substr(at)});
    EXPECT_EQ(Describe(split), expected) << "split at byte " << at << " of " << Escape(stream);
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < stream.size(); ++i) bytes.push_back(stream.substr(i, 1));
  EXPECT_EQ(Describe(ParsePieces(bytes)), expected) << "one byte a read: " << Escape(stream);
  return whole;
}

std::vector<std::string> Data(const Outcome& out) {
  std::vector<std::string> data;
  for (const Event& e : out.events) data.push_back(e.data);
  return data;
}

std::vector<std::string> Types(const Outcome& out) {
  std::vector<std::string> types;
  for (const Event& e : out.events) types.push_back(e.type);
  return types;
}

std::vector<std::string> Ids(const Outcome& out) {
  std::vector<std::string> ids;
  for (const Event& e : out.events) ids.push_back(e.last_event_id);
  return ids;
}

// --- Line endings -----------------------------------------------------------

TEST(SseParserTest, EndsLinesOnLf) {
  const Outcome out = ParseEverySplit("data: a\ndata: b\n\ndata: c\n\n");
  EXPECT_THAT(Data(out), ElementsAre("a\nb", "c"));
  EXPECT_EQ(out.stats.lines, 5u);
  EXPECT_EQ(out.stats.lf_endings, 5u);
  EXPECT_EQ(out.stats.crlf_endings, 0u);
  EXPECT_EQ(out.stats.cr_endings, 0u);
  EXPECT_TRUE(out.leftover.clean());
}

TEST(SseParserTest, EndsLinesOnCrlf) {
  const Outcome out = ParseEverySplit("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n");
  EXPECT_THAT(Data(out), ElementsAre("a\nb", "c"));
  EXPECT_EQ(out.stats.lines, 5u);
  EXPECT_EQ(out.stats.crlf_endings, 5u);
  EXPECT_EQ(out.stats.lf_endings, 0u);
  EXPECT_EQ(out.stats.cr_endings, 0u);
  EXPECT_TRUE(out.leftover.clean());
}

TEST(SseParserTest, EndsLinesOnLoneCr) {
  const Outcome out = ParseEverySplit("data: a\rdata: b\r\rdata: c\r\r");
  EXPECT_THAT(Data(out), ElementsAre("a\nb", "c"));
  EXPECT_EQ(out.stats.lines, 5u);
  EXPECT_EQ(out.stats.cr_endings, 5u);
  EXPECT_EQ(out.stats.lf_endings, 0u);
  EXPECT_EQ(out.stats.crlf_endings, 0u);
  EXPECT_TRUE(out.leftover.clean());
}

TEST(SseParserTest, MixesLineEndings) {
  // LF CR is two line ends (a blank line), CR LF is one.
  const Outcome out = ParseEverySplit("data: a\n\rdata: b\r\n\ndata: c\r\r\n");
  EXPECT_THAT(Data(out), ElementsAre("a", "b", "c"));
  EXPECT_EQ(out.stats.lf_endings, 2u);
  EXPECT_EQ(out.stats.cr_endings, 2u);
  EXPECT_EQ(out.stats.crlf_endings, 2u);
  EXPECT_EQ(out.stats.lines, 6u);
  EXPECT_TRUE(out.leftover.clean());
}

TEST(SseParserTest, JoinsCrAndLfSplitAcrossReads) {
  std::vector<Event> events;
  Parser parser([&events](const Event& e) { events.push_back(e); });
  parser.Feed("data: a\r");
  parser.Feed("\ndata: b\r");
  parser.Feed("\n\r");
  parser.Feed("\n");
  const Leftover leftover = parser.Finish();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\nb");
  EXPECT_EQ(parser.stats().lines, 3u);
  EXPECT_EQ(parser.stats().crlf_endings, 3u);
  EXPECT_EQ(parser.stats().cr_endings, 0u);
  EXPECT_TRUE(leftover.clean());
}

TEST(SseParserTest, CountsCrBeforeOtherBytesAsLoneCr) {
  std::vector<Event> events;
  Parser parser([&events](const Event& e) { events.push_back(e); });
  parser.Feed("data: a\r");
  parser.Feed("data: b\r");
  parser.Feed("\r");
  const Leftover leftover = parser.Finish();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\nb");
  EXPECT_EQ(parser.stats().cr_endings, 3u);  // the last one counted by Finish()
  EXPECT_EQ(parser.stats().crlf_endings, 0u);
  EXPECT_TRUE(leftover.clean());
}

TEST(SseParserTest, DispatchesOnCrWithoutWaitingForTheNextRead) {
  std::vector<Event> events;
  Parser parser([&events](const Event& e) { events.push_back(e); });
  parser.Feed("data: first\r\r");
  ASSERT_EQ(events.size(), 1u);  // a gated server must not look late
  EXPECT_EQ(events[0].data, "first");
  EXPECT_EQ(events[0].end_offset, 13u);
  parser.Feed("\n");  // the second CR turns out to be half of a CRLF
  EXPECT_EQ(events.size(), 1u);
  EXPECT_TRUE(parser.Finish().clean());
  EXPECT_EQ(parser.stats().cr_endings, 1u);
  EXPECT_EQ(parser.stats().crlf_endings, 1u);
}

// --- BOM ----------------------------------------------------------------------

TEST(SseParserTest, StripsLeadingBom) {
  const Outcome out = ParseEverySplit(
      "\xEF\xBB\xBF"
      "data: a\n\n");
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_TRUE(out.stats.bom_stripped);
  EXPECT_EQ(out.stats.bytes, 12u);
  EXPECT_EQ(out.stats.invalid_utf8, 0u);
  EXPECT_EQ(out.events[0].begin_offset, 3u);  // offsets count the BOM
  EXPECT_EQ(out.events[0].end_offset, 12u);
}

TEST(SseParserTest, StripsBomSplitAcrossReads) {
  const Outcome out = ParsePieces({"\xEF", "\xBB",
                                   "\xBF"
                                   "da",
                                   "ta: a\n\n"});
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_TRUE(out.stats.bom_stripped);
  EXPECT_EQ(out.stats.invalid_utf8, 0u);
}

TEST(SseParserTest, KeepsSecondBom) {
  // The second U+FEFF is part of the field name, so the field is unknown.
  const Outcome out = ParseEverySplit(
      "\xEF\xBB\xBF\xEF\xBB\xBF"
      "data: a\n\ndata: b\n\n");
  EXPECT_THAT(Data(out), ElementsAre("b"));
  EXPECT_TRUE(out.stats.bom_stripped);
  EXPECT_EQ(out.stats.empty_dispatches, 1u);
  EXPECT_EQ(out.stats.first_content_line,
            "\xEF\xBB\xBF"
            "data: a");
}

TEST(SseParserTest, KeepsBomInsideAValue) {
  const Outcome out = ParseEverySplit(
      "\xEF\xBB\xBF"
      "data:\xEF\xBB\xBF"
      "a\n\n");
  EXPECT_THAT(Data(out), ElementsAre("\xEF\xBB\xBF"
                                     "a"));
}

TEST(SseParserTest, KeepsBomAfterTheFirstLine) {
  const Outcome out = ParseEverySplit(
      ":\n\xEF\xBB\xBF"
      "data: a\n\n");
  EXPECT_THAT(out.events, IsEmpty());
  EXPECT_FALSE(out.stats.bom_stripped);
}

TEST(SseParserTest, TreatsBrokenBomAsLineBytes) {
  // EF BB then 'd' is no BOM: the two bytes are one invalid sequence of the
  // first line, which is then no `data` field.
  const Outcome out = ParseEverySplit(
      "\xEF\xBB"
      "data: a\n\ndata: b\n\n");
  EXPECT_THAT(Data(out), ElementsAre("b"));
  EXPECT_FALSE(out.stats.bom_stripped);
  EXPECT_EQ(out.stats.invalid_utf8, 1u);
  EXPECT_EQ(out.stats.first_content_line,
            "\xEF\xBF\xBD"
            "data: a");
}

TEST(SseParserTest, ReportsIncompleteBomAsPartialLine) {
  const Outcome out = ParseEverySplit("\xEF\xBB");
  EXPECT_TRUE(out.leftover.partial_line);
  EXPECT_FALSE(out.leftover.partial_event);
  EXPECT_EQ(out.leftover.bytes, "\xEF\xBB");
  EXPECT_FALSE(out.stats.bom_stripped);
}

TEST(SseParserTest, AcceptsABomOnlyStream) {
  const Outcome out = ParseEverySplit("\xEF\xBB\xBF");
  EXPECT_TRUE(out.stats.bom_stripped);
  EXPECT_TRUE(out.leftover.clean());
  EXPECT_THAT(out.leftover.bytes, IsEmpty());
}

// --- Lines and fields ---------------------------------------------------------

TEST(SseParserTest, IgnoresCommentLines) {
  const Outcome out = ParseEverySplit(": ping\n:\ndata: a\n: inside\ndata: b\n\n: bye\n");
  EXPECT_THAT(Data(out), ElementsAre("a\nb"));
  EXPECT_EQ(out.stats.comment_lines, 4u);
  EXPECT_EQ(out.stats.first_content_line, "data: a");
  EXPECT_TRUE(out.leftover.clean());  // a trailing comment is no partial event
  EXPECT_EQ(out.leftover.bytes, ": bye\n");
}

TEST(SseParserTest, CountsKeepAliveCommentsAsEmptyDispatches) {
  const Outcome out = ParseEverySplit(": keep-alive\n\n: keep-alive\n\n");
  EXPECT_THAT(out.events, IsEmpty());
  EXPECT_EQ(out.stats.comment_lines, 2u);
  EXPECT_EQ(out.stats.empty_dispatches, 2u);
  EXPECT_FALSE(out.stats.first_content_line.has_value());
}

TEST(SseParserTest, TakesWholeLineAsFieldNameWithoutColon) {
  const Outcome out = ParseEverySplit("event\ndata\n\nevent\ndata: x\n\n");
  EXPECT_THAT(Data(out), ElementsAre("", "x"));
  EXPECT_THAT(Types(out), ElementsAre("message", "message"));  // empty type is "message"
}

TEST(SseParserTest, StripsOnlyOneLeadingSpace) {
  const Outcome out = ParseEverySplit("data:  two\n\ndata: one\n\ndata:none\n\ndata:\tx \n\n");
  EXPECT_THAT(Data(out), ElementsAre(" two", "one", "none", "\tx "));
}

TEST(SseParserTest, SplitsAtTheFirstColonOnly) {
  const Outcome out = ParseEverySplit("data: a: b:c\n\ndata:: d\n\n");
  EXPECT_THAT(Data(out), ElementsAre("a: b:c", ": d"));
}

TEST(SseParserTest, JoinsMultilineData) {
  const Outcome out = ParseEverySplit("data: line one\ndata: line two\ndata:\ndata: four\n\n");
  EXPECT_THAT(Data(out), ElementsAre("line one\nline two\n\nfour"));
}

TEST(SseParserTest, SetsEventTypeForOneEventOnly) {
  const Outcome out =
      ParseEverySplit("event: add\ndata: 1\n\ndata: 2\n\nevent: a\nevent: b\ndata: 3\n\n");
  EXPECT_THAT(Types(out), ElementsAre("add", "message", "b"));
  EXPECT_THAT(Data(out), ElementsAre("1", "2", "3"));
}

TEST(SseParserTest, ComparesFieldNamesExactly) {
  const Outcome out = ParseEverySplit("Data: a\ndata : b\n data: c\ndata: d\n\n");
  EXPECT_THAT(Data(out), ElementsAre("d"));
}

TEST(SseParserTest, KeepsLastEventIdAcrossEvents) {
  const Outcome out =
      ParseEverySplit("id: 1\ndata: a\n\ndata: b\n\nid: 2\n\ndata: c\n\nid\ndata: d\n\n");
  EXPECT_THAT(Data(out), ElementsAre("a", "b", "c", "d"));
  EXPECT_THAT(Ids(out), ElementsAre("1", "1", "2", ""));  // `id` alone resets it
}

TEST(SseParserTest, SetsIdEvenAfterDataInTheSameBlock) {
  const Outcome out = ParseEverySplit("data: a\nid: 7\n\n");
  EXPECT_THAT(Ids(out), ElementsAre("7"));
}

TEST(SseParserTest, IgnoresIdContainingNul) {
  using std::string_literals::operator""s;
  const std::string stream = "id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\nid: \0\ndata: c\n\n"s;
  const Outcome out = ParseEverySplit(stream);
  EXPECT_THAT(Ids(out), ElementsAre("1", "1", "1"));
}

TEST(SseParserTest, AcceptsRetryWithDigitsOnly) {
  EXPECT_EQ(ParseEverySplit("retry: 2500\n\n").stats.retry_ms, 2500u);
  EXPECT_EQ(ParseEverySplit("retry: 0\n\n").stats.retry_ms, 0u);
  EXPECT_EQ(ParseEverySplit("retry: 1000\nretry: 12a\n\n").stats.retry_ms, 1000u);
  EXPECT_FALSE(ParseEverySplit("retry: 12a\n\n").stats.retry_ms.has_value());
  EXPECT_FALSE(ParseEverySplit("retry:\n\n").stats.retry_ms.has_value());
  EXPECT_FALSE(ParseEverySplit("retry\n\n").stats.retry_ms.has_value());
  EXPECT_FALSE(ParseEverySplit("retry:  5\n\n").stats.retry_ms.has_value());
  EXPECT_FALSE(ParseEverySplit("retry: -5\n\n").stats.retry_ms.has_value());
  EXPECT_FALSE(ParseEverySplit("retry: 5.0\n\n").stats.retry_ms.has_value());
  EXPECT_FALSE(
      ParseEverySplit("retry: \xEF\xBC\x95\n\n").stats.retry_ms.has_value());  // fullwidth 5
}

TEST(SseParserTest, SaturatesHugeRetry) {
  EXPECT_EQ(ParseEverySplit("retry: 18446744073709551615\n\n").stats.retry_ms,
            18446744073709551615u);
  EXPECT_EQ(ParseEverySplit("retry: 99999999999999999999999\n\n").stats.retry_ms,
            18446744073709551615u);
}

TEST(SseParserTest, RetryAloneDispatchesNothing) {
  const Outcome out = ParseEverySplit("retry: 10\n\n");
  EXPECT_THAT(out.events, IsEmpty());
  EXPECT_EQ(out.stats.empty_dispatches, 1u);
}

TEST(SseParserTest, IgnoresUnknownField) {
  const Outcome out = ParseEverySplit("foo: bar\ndata: a\nfoo\n\nfoo: only\n\n");
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_EQ(out.stats.empty_dispatches, 1u);
  EXPECT_EQ(out.stats.first_content_line, "foo: bar");
}

TEST(SseParserTest, AppendsEmptyLineForDataWithoutColon) {
  const Outcome out = ParseEverySplit("data\n\ndata\ndata\n\ndata: a\ndata\n\n");
  EXPECT_THAT(Data(out), ElementsAre("", "\n", "a\n"));
}

// --- Dispatch -----------------------------------------------------------------

TEST(SseParserTest, DispatchesNothingForEmptyData) {
  const Outcome out = ParseEverySplit("event: ping\n\n\n\nid: 4\n\ndata: a\n\n");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].type, "message");     // the empty dispatch reset the type
  EXPECT_EQ(out.events[0].last_event_id, "4");  // but not the last event ID
  EXPECT_EQ(out.events[0].index, 0u);
  EXPECT_EQ(out.stats.empty_dispatches, 4u);
  EXPECT_EQ(out.stats.events, 1u);
}

TEST(SseParserTest, RemovesOneTrailingLf) {
  const Outcome out = ParseEverySplit("data: a\ndata:\n\ndata:\ndata:\n\n");
  EXPECT_THAT(Data(out), ElementsAre("a\n", "\n"));
}

TEST(SseParserTest, NumbersEventsAndRecordsOffsets) {
  const std::string_view stream = ": hi\ndata: a\n\n\ndata: b\r\n\r\nevent: x\n";
  const Outcome out = ParseEverySplit(stream);
  ASSERT_EQ(out.events.size(), 2u);
  EXPECT_EQ(out.events[0].index, 0u);
  EXPECT_EQ(out.events[0].begin_offset, 0u);  // the block's comment belongs to it
  EXPECT_EQ(out.events[0].end_offset, 14u);
  EXPECT_EQ(stream.substr(0, 14), ": hi\ndata: a\n\n");
  EXPECT_EQ(out.events[1].index, 1u);
  EXPECT_EQ(out.events[1].begin_offset, 15u);  // after the extra blank line
  EXPECT_EQ(out.events[1].end_offset, 25u);    // past the CR of the CRLF blank line
  EXPECT_EQ(stream.substr(15, 10), "data: b\r\n\r");
  EXPECT_EQ(out.leftover.bytes, "event: x\n");
}

TEST(SseParserTest, ReportsPartialEventWithoutDispatchingIt) {
  const Outcome out = ParseEverySplit("data: a\n\ndata: b\nid: 3\n");
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_TRUE(out.leftover.partial_event);
  EXPECT_FALSE(out.leftover.partial_line);
  EXPECT_FALSE(out.leftover.clean());
  EXPECT_EQ(out.leftover.bytes, "data: b\nid: 3\n");
}

TEST(SseParserTest, ReportsPartialLine) {
  const Outcome out = ParseEverySplit("data: a\n\ndata: [DO");
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_TRUE(out.leftover.partial_line);
  EXPECT_FALSE(out.leftover.partial_event);  // the unfinished line was never processed
  EXPECT_EQ(out.leftover.bytes, "data: [DO");
  EXPECT_EQ(out.stats.lines, 2u);
  EXPECT_EQ(out.stats.first_content_line, "data: a");
}

TEST(SseParserTest, TreatsTrailingCrAsCompleteLineEnd) {
  const Outcome out = ParseEverySplit("data: a\r\rdata: b\r");
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_FALSE(out.leftover.partial_line);
  EXPECT_TRUE(out.leftover.partial_event);
  EXPECT_EQ(out.stats.cr_endings, 3u);
}

TEST(SseParserTest, DispatchesEventEndedByTrailingCr) {
  const Outcome out = ParseEverySplit("data: a\r\r");
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_TRUE(out.leftover.clean());
}

TEST(SseParserTest, NeverDispatchesAtFinish) {
  std::vector<Event> events;
  Parser parser([&events](const Event& e) { events.push_back(e); });
  parser.Feed("data: a\ndata: b\n");
  const Leftover leftover = parser.Finish();
  EXPECT_THAT(events, IsEmpty());
  EXPECT_EQ(parser.stats().events, 0u);
  EXPECT_TRUE(leftover.partial_event);
}

TEST(SseParserTest, KeepsLast256BytesOfTheTail) {
  std::string stream = "data: done\n\ndata: ";
  stream += std::string(300, 'x');
  const Outcome out = ParseEverySplit(stream);
  EXPECT_TRUE(out.leftover.partial_line);
  EXPECT_EQ(out.leftover.bytes, std::string(256, 'x'));
}

TEST(SseParserTest, ReportsNothingLeftForEmptyStream) {
  const Outcome out = ParseEverySplit("");
  EXPECT_THAT(out.events, IsEmpty());
  EXPECT_TRUE(out.leftover.clean());
  EXPECT_THAT(out.leftover.bytes, IsEmpty());
  EXPECT_EQ(out.stats.bytes, 0u);
  EXPECT_EQ(out.stats.lines, 0u);
}

TEST(SseParserTest, RecordsFirstContentLineDecoded) {
  const Outcome out = ParseEverySplit(":c\n\n\nevent: \xC3\xA9t\xE9\n: x\ndata: a\n\n");
  EXPECT_EQ(out.stats.first_content_line, "event: \xC3\xA9t\xEF\xBF\xBD");
  EXPECT_THAT(Types(out), ElementsAre("\xC3\xA9t\xEF\xBF\xBD"));
}

TEST(SseParserTest, AcceptsEmptyCallback) {
  Parser parser(nullptr);
  parser.Feed("data: a\n\n");
  EXPECT_TRUE(parser.Finish().clean());
  EXPECT_EQ(parser.stats().events, 1u);
}

// --- UTF-8 --------------------------------------------------------------------

TEST(SseParserTest, KeepsUtf8CharacterSplitAcrossReads) {
  const std::string_view stream = "data: \xF0\x9F\x98\x80 \xE2\x82\xAC \xC3\xA9\n\n";
  for (std::size_t at = 6; at < 16; ++at) {
    const Outcome out = ParsePieces({stream.substr(0, at), stream.substr(at)});
    EXPECT_THAT(Data(out), ElementsAre("\xF0\x9F\x98\x80 \xE2\x82\xAC \xC3\xA9")) << at;
    EXPECT_EQ(out.stats.invalid_utf8, 0u);
  }
  ParseEverySplit(stream);
}

TEST(SseParserTest, ReplacesInvalidUtf8) {
  struct Case {
    std::string_view value;
    std::string_view decoded;
    std::uint64_t replaced;
  };
  const Case cases[] = {
      {"a\x80z", "a\xEF\xBF\xBDz", 1},                              // lone continuation
      {"\xE2\x82z", "\xEF\xBF\xBDz", 1},                            // truncated, ASCII decoded
      {"\xE2\x82", "\xEF\xBF\xBD", 1},                              // truncated at line end
      {"\xC0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD", 2},                  // overlong NUL
      {"\xE0\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3},  // overlong 3-byte
      {"\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3},  // surrogate
      {"\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4},  // > U+10FFFF
      {"\xF0\x9F\x98", "\xEF\xBF\xBD", 1},              // truncated 4-byte
      {"\xF0\x9F\xC3\xA9", "\xEF\xBF\xBD\xC3\xA9", 1},  // broken by a new lead
      {"\xFF\xFE", "\xEF\xBF\xBD\xEF\xBF\xBD", 2},      // never valid
      {"\xEF\xBF\xBD", "\xEF\xBF\xBD", 0},              // a real U+FFFD
      {"\xF4\x8F\xBF\xBF", "\xF4\x8F\xBF\xBF", 0},      // U+10FFFF
  };
  for (const Case& c : cases) {
    const Outcome out = ParseEverySplit("data: " + std::string(c.value) + "\n\n");
    EXPECT_THAT(Data(out), ElementsAre(std::string(c.decoded))) << Escape(c.value);
    EXPECT_EQ(out.stats.invalid_utf8, c.replaced) << Escape(c.value);
  }
}

TEST(SseParserTest, ReplacesInvalidUtf8InIdAndEventType) {
  const Outcome out = ParseEverySplit(
      "id: \xFF"
      "1\nevent: \xC3\ndata: a\n\n");
  EXPECT_THAT(Ids(out), ElementsAre("\xEF\xBF\xBD"
                                    "1"));
  EXPECT_THAT(Types(out), ElementsAre("\xEF\xBF\xBD"));
  EXPECT_EQ(out.stats.invalid_utf8, 2u);
}

TEST(SseParserTest, CountsInvalidUtf8OutsideDispatchedValues) {
  const Outcome out = ParseEverySplit(": \xFF\nfoo: \xFF\n\xFF: x\ndata: a\n\n");
  EXPECT_THAT(Data(out), ElementsAre("a"));
  EXPECT_EQ(out.stats.invalid_utf8, 3u);
}

// --- Whole streams ------------------------------------------------------------

TEST(SseParserTest, ParsesOpenAiStyleStream) {
  const std::string_view stream =
      "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"role\":\"assistant\"}}]}\n\n"
      "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
      "\"delta\":{\"content\":\"Hi \xF0\x9F\x91\x8B\"}}]}\n\n"
      ": keep-alive\n\n"
      "data: [DONE]\n\n";
  const Outcome out = ParseEverySplit(stream);
  ASSERT_EQ(out.events.size(), 3u);
  EXPECT_EQ(out.events[2].data, "[DONE]");
  EXPECT_THAT(out.events[1].data, ::testing::HasSubstr("Hi \xF0\x9F\x91\x8B"));
  EXPECT_THAT(Types(out), ElementsAre("message", "message", "message"));
  EXPECT_EQ(out.events[2].end_offset, stream.size());
  EXPECT_EQ(out.stats.empty_dispatches, 1u);
  EXPECT_EQ(out.stats.invalid_utf8, 0u);
  EXPECT_TRUE(out.leftover.clean());
  EXPECT_THAT(out.leftover.bytes, IsEmpty());
}

// WHATWG HTML, "Interpreting an event stream": once followed by a blank line,
// the stock ticker lines are one message with data "YHOO\n+2\n10".
TEST(SseParserTest, ParsesWhatwgStockExample) {
  const Outcome out = ParseEverySplit("data: YHOO\ndata: +2\ndata: 10\n\n");
  EXPECT_THAT(Data(out), ElementsAre("YHOO\n+2\n10"));
  EXPECT_THAT(Types(out), ElementsAre("message"));
}

// WHATWG: four blocks; the comment fires nothing, then "first event" with last
// event ID "1", "second event" with the ID reset to empty, and " third event"
// with one leading space kept.
TEST(SseParserTest, ParsesWhatwgTestStreamExample) {
  const Outcome out = ParseEverySplit(
      ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third "
      "event\n\n");
  EXPECT_THAT(Data(out), ElementsAre("first event", "second event", " third event"));
  EXPECT_THAT(Ids(out), ElementsAre("1", "", ""));
  EXPECT_EQ(out.stats.empty_dispatches, 1u);
  EXPECT_EQ(out.stats.comment_lines, 1u);
}

// WHATWG: fires two events, "" and "\n"; the last block is discarded because
// no blank line follows it.
TEST(SseParserTest, ParsesWhatwgTwoEventsExample) {
  const Outcome out = ParseEverySplit("data\n\ndata\ndata\n\ndata:");
  EXPECT_THAT(Data(out), ElementsAre("", "\n"));
  EXPECT_TRUE(out.leftover.partial_line);
  EXPECT_EQ(out.leftover.bytes, "data:");
}

// WHATWG: fires two identical events; the space after the colon is ignored.
TEST(SseParserTest, ParsesWhatwgIdenticalEventsExample) {
  const Outcome out = ParseEverySplit("data:test\n\ndata: test\n\n");
  EXPECT_THAT(Data(out), ElementsAre("test", "test"));
}

TEST(SseParserTest, ParsesLongLinesAcrossManyReads) {
  const std::string payload((1 << 20) - 16, 'y');  // just within the default line limit
  const std::string stream = "data: " + payload + "\r\n\r\n";
  std::vector<std::string_view> pieces;
  for (std::size_t i = 0; i < stream.size(); i += 4093) {
    pieces.push_back(std::string_view(stream).substr(i, 4093));
  }
  const Outcome out = ParsePieces(pieces);
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].data, payload);
  EXPECT_TRUE(out.leftover.clean());
}

// Limits: a line past max_line_bytes ends parsing however it is split, and so
// does an event whose data grows past max_event_bytes; memory stays bounded.
TEST(SseParserTest, StopsAtALineLongerThanTheLimit) {
  Limits limits;
  limits.max_line_bytes = 1000;
  for (std::size_t piece : {1u, 7u, 999u, 5000u}) {
    std::size_t events = 0;
    Parser parser([&events](const Event&) { ++events; }, limits);
    const std::string stream = "data: a\n\ndata: " + std::string(2000, 'x') + "\n\ndata: b\n\n";
    for (std::size_t i = 0; i < stream.size(); i += piece) {
      parser.Feed(std::string_view(stream).substr(i, piece));
    }
    parser.Finish();
    EXPECT_EQ(events, 1u) << "piece " << piece;
    ASSERT_TRUE(parser.stats().overflow) << "piece " << piece;
    EXPECT_EQ(*parser.stats().overflow, "a line longer than 1000 bytes");
  }
}

TEST(SseParserTest, StopsAtAnEventLargerThanTheLimit) {
  Limits limits;
  limits.max_event_bytes = 100;
  std::size_t events = 0;
  Parser parser([&events](const Event&) { ++events; }, limits);
  std::string stream = "data: ok\n\n";
  for (int i = 0; i < 20; ++i) stream += "data: 0123456789\n";  // one event of 20 lines
  stream += "\ndata: never\n\n";
  parser.Feed(stream);
  parser.Finish();
  EXPECT_EQ(events, 1u);
  ASSERT_TRUE(parser.stats().overflow);
  EXPECT_EQ(*parser.stats().overflow, "an event whose data is longer than 100 bytes");
}

TEST(SseParserTest, AnUnterminatedLineIsBoundedByTheDefaultLimit) {
  Parser parser(nullptr);
  const std::string chunk(64 * 1024, 'z');
  for (int i = 0; i < 64; ++i) parser.Feed(chunk);  // 4 MiB, no line end
  EXPECT_TRUE(parser.stats().overflow);
}

TEST(SseParserTest, ParsesManyMebibytesOfEvents) {
  std::string stream;
  const std::string_view event = "data: {\"choices\":[{\"delta\":{\"content\":\"token\"}}]}\n\n";
  while (stream.size() < (8u << 20)) stream += event;
  const std::size_t expected = stream.size() / event.size();
  std::size_t count = 0;
  Parser parser([&count](const Event&) { ++count; });
  for (std::size_t i = 0; i < stream.size(); i += 16384) {
    parser.Feed(std::string_view(stream).substr(i, 16384));
  }
  EXPECT_TRUE(parser.Finish().clean());
  EXPECT_EQ(count, expected);
  EXPECT_EQ(parser.stats().lines, 2 * expected);
}

}  // namespace
}  // namespace streamcheck::sse
