// The mock's configuration table, its refusals, the stats JSON round trip, and
// the wire-level helpers of its server (no sockets here).
#include "mocks/mock_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "mocks/gzip_stream.h"
#include "mocks/http_wire.h"
#include "mocks/mock_defaults.h"
#include "mocks/mock_stats.h"

namespace streamcheck::mocks {
namespace {

using nlohmann::json;
using namespace std::string_literals;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Refusal(const json& config) {
  auto parsed = ConfigFromJson(config);
  return parsed.ok() ? "(accepted)" : parsed.error();
}

TEST(MockConfigTest, TableCoversEveryFieldAndItsDefault) {
  json defaults = ToJson(MockConfig{});
  std::set<std::string> table;
  for (const auto& key : kConfigKeys) {
    SCOPED_TRACE(std::string(key.name));
    table.insert(std::string(key.name));
    ASSERT_TRUE(defaults.contains(std::string(key.name)));
    EXPECT_EQ(json::parse(key.default_value), defaults[std::string(key.name)])
        << "the table's default column and MockConfig's initialiser disagree";
    EXPECT_FALSE(key.meaning.empty());
  }
  EXPECT_EQ(table.size(), defaults.size()) << defaults.dump();
}

TEST(MockConfigTest, EveryIntegerKeyTakesItsBoundsAndRefusesPastThem) {
  for (const auto& key : kConfigKeys) {
    if (key.type != KeyType::kInteger) continue;
    std::string name(key.name);
    SCOPED_TRACE(name);
    EXPECT_TRUE(ConfigFromJson({{name, key.min}}).ok()) << Refusal({{name, key.min}});
    EXPECT_TRUE(ConfigFromJson({{name, key.max}}).ok()) << Refusal({{name, key.max}});
    for (const json& bad : {json(key.min - 1), json(key.max + 1), json(1.5), json(3.0), json("7"),
                            json(true), json(nullptr), json::array()}) {
      auto error = Refusal({{name, bad}});
      EXPECT_THAT(error, AllOf(HasSubstr("\"" + name + "\""), HasSubstr(RangeText(key))))
          << bad.dump();
    }
  }
}

TEST(MockConfigTest, NumbersBooleansAndChoicesAreChecked) {
  EXPECT_TRUE(ConfigFromJson({{"size_mb", 0.5}}).ok());
  EXPECT_TRUE(ConfigFromJson({{"size_mb", 3}}).ok()) << "an integer is a number";
  EXPECT_THAT(Refusal({{"size_mb", -1}}), HasSubstr("a number in 0..1.04858e+06"));
  EXPECT_THAT(Refusal({{"size_mb", 2e6}}), HasSubstr("\"size_mb\""));
  EXPECT_THAT(Refusal({{"size_mb", "1"}}), HasSubstr("\"size_mb\""));
  EXPECT_TRUE(ConfigFromJson({{"rate_mib_s", 0}}).ok());
  EXPECT_TRUE(ConfigFromJson({{"rate_mib_s", 0.001}}).ok());
  EXPECT_THAT(Refusal({{"rate_mib_s", 1e-9}}), HasSubstr("0 or a number in 0.001..1e+06"));
  EXPECT_THAT(Refusal({{"stamp_tokens", 1}}), HasSubstr("true or false"));
  EXPECT_THAT(
      Refusal({{"framing", true}}),
      AllOf(HasSubstr("\"framing\""), HasSubstr("one of \"auto\", \"length\", \"chunked\"")));
  EXPECT_THAT(Refusal({{"framing", "close"}}), HasSubstr("\"framing\""));
  EXPECT_EQ(ConfigFromJson(json::object())->framing, BodyFraming::kAuto);
  EXPECT_EQ(ConfigFromJson({{"framing", "length"}})->framing, BodyFraming::kLength);
  EXPECT_EQ(ConfigFromJson({{"framing", "chunked"}})->framing, BodyFraming::kChunked);
  EXPECT_THAT(Refusal({{"sse_variant", "smoke-signals"}}),
              AllOf(HasSubstr("\"sse_variant\""), HasSubstr("\"multi_token_chunks\"")));
  EXPECT_THAT(Refusal({{"compress", "br"}}), HasSubstr("one of \"none\", \"gzip\""));
  auto gzip = ConfigFromJson({{"compress", "gzip"}, {"stamp_tokens", true}});
  ASSERT_TRUE(gzip.ok()) << gzip.error();
  EXPECT_EQ(gzip->compress, Compression::kGzip);
  EXPECT_TRUE(gzip->stamp_tokens);
}

TEST(MockConfigTest, TheValuesThatUsedToMisbehaveAreRefused) {
  // Each was undefined behaviour or a runaway handler before the table.
  EXPECT_THAT(Refusal({{"gate_timeout_ms", 1e10}}), HasSubstr("1..3600000"));
  EXPECT_THAT(Refusal({{"chunk_size", -1}}), HasSubstr("1..16777216"));
  EXPECT_THAT(Refusal({{"token_count", 2.5}}), HasSubstr("an integer"));
  EXPECT_THAT(Refusal({{"seed", -1}}), HasSubstr("0..18446744073709551615"));
  EXPECT_TRUE(ConfigFromJson({{"seed", std::numeric_limits<std::uint64_t>::max()}}).ok());
  EXPECT_TRUE(ConfigFromJson({{"token_count", 2'000'000}}).ok()) << "long streams are fine";
}

TEST(MockConfigTest, UnknownKeysAndNonObjectsAreRefusedWithTheKeys) {
  EXPECT_THAT(Refusal({{"sedd", 1}}), AllOf(HasSubstr("\"sedd\""), HasSubstr("seed, size_mb")));
  EXPECT_THAT(Refusal(json::array()), HasSubstr("JSON object"));
  EXPECT_THAT(Refusal(json(5)), HasSubstr("JSON object"));
}

TEST(MockConfigTest, LengthFramingAndGzipExcludeEachOther) {
  EXPECT_THAT(Refusal({{"framing", "length"}, {"compress", "gzip"}}),
              AllOf(HasSubstr("\"framing\": \"length\""), HasSubstr("\"compress\": \"gzip\""),
                    HasSubstr("exclude each other")));
  MockConfig both;
  both.framing = BodyFraming::kLength;
  both.compress = Compression::kGzip;
  EXPECT_THAT(ValidateConfig(both).message(), AllOf(HasSubstr("framing"), HasSubstr("compress")));
  // A gzip body can be sent chunked, by default or when asked for.
  for (const char* framing : {"auto", "chunked"}) {
    SCOPED_TRACE(framing);
    auto gzip = ConfigFromJson({{"framing", framing}, {"compress", "gzip"}});
    ASSERT_TRUE(gzip.ok()) << gzip.error();
    EXPECT_EQ(gzip->compress, Compression::kGzip);
  }
}

TEST(MockConfigTest, TheOldContentLengthKeyIsGone) {
  EXPECT_THAT(Refusal({{"content_length", true}}),
              AllOf(HasSubstr("unknown mock config key \"content_length\""), HasSubstr("framing")));
  EXPECT_FALSE(ToJson(MockConfig{}).contains("content_length"));
  EXPECT_EQ(ToJson(MockConfig{})["framing"], "auto");
}

TEST(MockConfigTest, RoundTripsAndValidatesConfigsBuiltInCpp) {
  MockConfig c;
  c.seed = 5;
  c.size_mb = 2.5;
  c.sse_variant = SseVariant::kBytePerWrite;
  c.compress = Compression::kGzip;
  c.gate_after_bytes = 100;
  c.stall_ms = 7;
  auto back = ConfigFromJson(ToJson(c));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, c);
  EXPECT_TRUE(ValidateConfig(c).ok());
  MockConfig bad;
  bad.chunk_size = 0;
  EXPECT_THAT(ValidateConfig(bad).message(), HasSubstr("chunk_size"));
  bad = MockConfig{};
  bad.chunk_size = std::numeric_limits<std::size_t>::max();
  EXPECT_THAT(ValidateConfig(bad).message(), HasSubstr("chunk_size"));
  bad = MockConfig{};
  bad.size_mb = std::nan("");
  EXPECT_THAT(ValidateConfig(bad).message(), HasSubstr("size_mb"));
  bad = MockConfig{};
  bad.token_delay_ms = -5;
  EXPECT_THAT(ValidateConfig(bad).message(), HasSubstr("token_delay_ms"));
}

TEST(MockConfigTest, OverDefaultsKeepsTheSpecsDefaultsWhereACaseChangesNothing) {
  MockConfig by_case;
  by_case.size_mb = 8;
  auto merged = OverDefaults(json{{"compress", "gzip"}, {"token_count", 4}}, by_case);
  ASSERT_TRUE(merged.ok()) << merged.error();
  EXPECT_EQ(merged->compress, Compression::kGzip);
  EXPECT_EQ(merged->token_count, 4);
  EXPECT_EQ(merged->size_mb, 8);
  // A key the case sets wins over the spec's default.
  by_case.token_count = 32;
  EXPECT_EQ(OverDefaults(json{{"token_count", 4}}, by_case)->token_count, 32);
  // A case that needs Content-Length gets a plain body (gzip and framing
  // "length" exclude each other), also when it read the gzip default back first.
  MockConfig with_length;
  with_length.framing = BodyFraming::kLength;
  auto plain = OverDefaults(json{{"compress", "gzip"}}, with_length);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ(plain->compress, Compression::kNone);
  EXPECT_EQ(plain->framing, BodyFraming::kLength);
  with_length.compress = Compression::kGzip;
  plain = OverDefaults(json{{"compress", "gzip"}}, with_length);
  ASSERT_TRUE(plain.ok()) << plain.error();
  EXPECT_EQ(plain->compress, Compression::kNone);
  EXPECT_EQ(plain->framing, BodyFraming::kLength);
  // "auto" (the default, so not a key the case changes) and "chunked" keep the
  // spec's gzip: such a body goes chunked.
  for (BodyFraming framing : {BodyFraming::kAuto, BodyFraming::kChunked}) {
    MockConfig by_framing;
    by_framing.framing = framing;
    auto gzip = OverDefaults(json{{"compress", "gzip"}}, by_framing);
    ASSERT_TRUE(gzip.ok()) << gzip.error();
    EXPECT_EQ(gzip->compress, Compression::kGzip);
    EXPECT_EQ(gzip->framing, framing);
  }
  // A spec default of "chunked" stays unless the case asks for "length".
  auto chunked = OverDefaults(json{{"framing", "chunked"}}, MockConfig{});
  ASSERT_TRUE(chunked.ok()) << chunked.error();
  EXPECT_EQ(chunked->framing, BodyFraming::kChunked);
  EXPECT_EQ(OverDefaults(json{{"framing", "chunked"}}, with_length)->framing, BodyFraming::kLength);
}

TEST(MockConfigTest, TextIsParsedDepthBounded) {
  EXPECT_TRUE(ConfigFromText(R"({"seed": 3})").ok());
  EXPECT_THAT(ConfigFromText("seed=1").error(), HasSubstr("not valid JSON"));
  std::string deep(200'000, '[');
  EXPECT_THAT(ConfigFromText(deep).error(), HasSubstr("levels deep"));
}

TEST(MockConfigTest, QueryNumbersAreStrict) {
  EXPECT_EQ(*ParseNumberParameter("size_mb", "5"), 5);
  EXPECT_EQ(*ParseNumberParameter("size_mb", "0.25"), 0.25);
  EXPECT_EQ(*ParseNumberParameter("size_mb", "1e2"), 100);
  for (const char* bad : {"nan", "NaN", "inf", "-inf", "1e400", " 5", "5 ", "0x10", "", "-1",
                          "lots", "2e6", "1..2"}) {
    SCOPED_TRACE(bad);
    auto parsed = ParseNumberParameter("size_mb", bad);
    ASSERT_FALSE(parsed.ok());
    EXPECT_THAT(parsed.error(), AllOf(HasSubstr("size_mb"), HasSubstr("a number in 0..")));
  }
}

TEST(MockConfigTest, HelpListsEveryKeyWithItsRangeAndDefault) {
  std::string help = ConfigHelp();
  for (const auto& key : kConfigKeys) {
    EXPECT_THAT(help, HasSubstr(std::string(key.name)));
    EXPECT_THAT(help, HasSubstr(RangeText(key) + "; default " + std::string(key.default_value)));
    EXPECT_THAT(help, HasSubstr(std::string(key.meaning)));
  }
}

MockStats FullStats() {
  MockStats s;
  s.requests = 12;
  s.chat_requests = 3;
  s.requests_by_case = {{"", 2}, {"chat.status", 7}, {"caf\xc3\xa9", 1}};
  std::string every_byte;
  for (int b = 0; b < 256; ++b) every_byte += static_cast<char>(b);
  s.request_heads = {"GET / HTTP/1.1\r\nHost: x\r\n\r\n", every_byte, ""};
  s.body_bytes_sent = (1ULL << 40) + 3;
  s.transfers_started = 5;
  s.transfers_completed = 2;
  s.transfers_cancelled = 1;
  s.transfers_cut = 1;
  s.responses_gzipped = 4;
  s.suspended_resets = 9;
  s.last_cancellation = Cancellation{"/large-file", 0.1 + 0.2, 1048576};
  s.gate_reached = true;
  s.gate_opened_by = "timeout";
  s.last_stream_sha256 = std::string(64, 'a');
  s.last_stream_bytes = 777;
  s.last_byte_stream_timeline = {{0, 0}, {1e-300, 1}, {12.345678901234567, 65536}};
  s.last_request = {{"method", "GET"}, {"headers", {{"X", {"1", "2"}}}}};
  return s;
}

TEST(MockStatsTest, RoundTripsThroughJsonTextExactly) {
  MockStats s = FullStats();
  auto text = ToJson(s).dump();
  auto back = StatsFromJson(json::parse(text));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(*back, s);
  EXPECT_EQ(ToJson(*back).dump(), text);
  auto empty = StatsFromJson(json::parse(ToJson(MockStats{}).dump()));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, MockStats{});
}

TEST(MockStatsTest, WrongTypesAreErrorsAndUnknownKeysAreIgnored) {
  EXPECT_FALSE(StatsFromJson(json::array()).ok());
  EXPECT_FALSE(StatsFromJson({{"requests", "many"}}).ok());
  EXPECT_FALSE(StatsFromJson({{"requests", -1}}).ok());
  EXPECT_FALSE(StatsFromJson({{"request_heads", {"\xc4\x80"}}}).ok()) << "U+0100 is not a byte";
  EXPECT_FALSE(StatsFromJson({{"last_byte_stream_timeline", {{1}}}}).ok());
  EXPECT_FALSE(StatsFromJson({{"last_cancellation", 3}}).ok());
  auto future = StatsFromJson({{"requests", 2}, {"a_newer_counter", 1}});
  ASSERT_TRUE(future.ok());
  EXPECT_EQ(future->requests, 2u);
}

TEST(MockStatsTest, Latin1KeepsEveryByteAndValidUtf8ReplacesBadOnes) {
  std::string bytes = "a\r\n\x00\x7f\x80\xff"s;
  auto text = BytesToLatin1Utf8(bytes);
  EXPECT_EQ(*Latin1Utf8ToBytes(text), bytes);
  EXPECT_NO_THROW((void)json(text).dump());
  EXPECT_EQ(ValidUtf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(ValidUtf8("a\xff"
                      "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(ValidUtf8("\xc3"), "\xef\xbf\xbd") << "a truncated sequence";
  EXPECT_EQ(ValidUtf8("\xed\xa0\x80"), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd") << "a surrogate";
  EXPECT_EQ(ValidUtf8("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd") << "overlong";
}

TEST(HttpWireTest, PercentDecodingAndQueries) {
  EXPECT_EQ(wire::PercentDecode("/a%20b/%2e%2E/%zz/%4", false), "/a b/../%zz/%4");
  EXPECT_EQ(wire::PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(wire::PercentDecode("a+b", true), "a b");
  auto q = wire::ParseQuery("a=1&b=two&a=3&empty=&flag&&q=a%20b+c");
  std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "1"}, {"b", "two"}, {"a", "3"}, {"empty", ""}, {"flag", ""}, {"q", "a b c"}};
  EXPECT_EQ(q, expected);
}

TEST(HttpWireTest, AcceptsGzip) {
  EXPECT_FALSE(wire::AcceptsGzip(std::nullopt));
  EXPECT_FALSE(wire::AcceptsGzip(""));
  EXPECT_FALSE(wire::AcceptsGzip("identity"));
  EXPECT_FALSE(wire::AcceptsGzip("br, deflate"));
  EXPECT_TRUE(wire::AcceptsGzip("gzip"));
  EXPECT_TRUE(wire::AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(wire::AcceptsGzip("x-gzip"));
  EXPECT_TRUE(wire::AcceptsGzip("*"));
  EXPECT_FALSE(wire::AcceptsGzip("gzip;q=0"));
  EXPECT_FALSE(wire::AcceptsGzip("*, gzip;q=0")) << "gzip named wins over *";
  EXPECT_FALSE(wire::AcceptsGzip("*;q=0"));
}

TEST(HttpWireTest, HeadsAndChunks) {
  EXPECT_EQ(wire::ResponseHead(200, {{"A", "1"}}), "HTTP/1.1 200 OK\r\nA: 1\r\n\r\n");
  EXPECT_EQ(wire::ResponseHead(431, {}), "HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n");
  EXPECT_EQ(wire::ChunkHeader(255), "ff\r\n");
  EXPECT_EQ(wire::ChunkHeader(0), "0\r\n");
}

TEST(GzipStreamTest, EachFlushDecodesOnArrival) {
  GzipStream gzip;
  std::string sent;
  std::string plain;
  for (const char* piece : {"data: one\n\n", "data: two\n\n", "data: [DONE]\n\n"}) {
    sent += gzip.Flush(piece);
    plain += piece;
    bool finished = true;
    EXPECT_EQ(Gunzip(sent, &finished), plain) << "a flushed prefix decodes whole";
    EXPECT_FALSE(finished);
  }
  sent += gzip.Finish();
  bool finished = false;
  EXPECT_EQ(Gunzip(sent, &finished), plain);
  EXPECT_TRUE(finished);
  std::string big(300'000, 'x');
  EXPECT_EQ(Gunzip(GzipStream::Compress(big)), big);
  EXPECT_EQ(GzipStream::Compress("").substr(0, 2), "\x1f\x8b") << "a gzip member, even empty";
}

}  // namespace
}  // namespace streamcheck::mocks
