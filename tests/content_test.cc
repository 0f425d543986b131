#include "mocks/content.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/sha256.h"

namespace streamcheck::mocks {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string Fill(std::uint64_t seed, std::uint64_t offset, std::size_t n) {
  std::string out(n, '\0');
  FillBytes(seed, offset, out.data(), n);
  return out;
}

TEST(ContentTest, FillBytesIsPositionAddressable) {
  constexpr std::size_t kLength = 4096 + 13;
  const std::string whole = Fill(7, 0, kLength);
  // Aligned and unaligned offsets, lengths that cross word boundaries or stay
  // inside one word, and the empty range.
  const std::vector<std::pair<std::uint64_t, std::size_t>> ranges = {
      {0, 1},    {0, 8},       {1, 1},     {1, 7},    {3, 5},    {5, 2},
      {7, 1},    {7, 2},       {8, 8},     {9, 15},   {13, 100}, {63, 65},
      {1000, 1}, {1001, 3001}, {4095, 14}, {4100, 9}, {17, 0},   {0, kLength}};
  for (const auto& [offset, n] : ranges) {
    SCOPED_TRACE("offset " + std::to_string(offset) + " length " + std::to_string(n));
    EXPECT_EQ(Fill(7, offset, n), whole.substr(offset, n));
  }
}

TEST(ContentTest, FillBytesPiecewiseEqualsWhole) {
  const std::string whole = Fill(99, 5, 10'000);
  std::string pieces;
  std::uint64_t offset = 5;
  for (std::size_t n : {1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 8, 9, 1000, 8822}) {
    pieces += Fill(99, offset, n);
    offset += n;
  }
  ASSERT_EQ(pieces.size(), whole.size());
  EXPECT_EQ(pieces, whole);
}

TEST(ContentTest, FillBytesFarOffsetsAreAddressable) {
  // A slice deep into a 4 GiB body, computed without the bytes before it,
  // must match a fill that starts a little earlier.
  const std::uint64_t far = (std::uint64_t{4} << 30) + 3;
  const std::string wider = Fill(1, far - 21, 200);
  EXPECT_EQ(Fill(1, far, 150), wider.substr(21, 150));
}

TEST(ContentTest, FillBytesIsDeterministicPerSeedAndDiffersAcrossSeeds) {
  EXPECT_EQ(Fill(42, 0, 1024), Fill(42, 0, 1024));
  EXPECT_EQ(Fill(42, 333, 77), Fill(42, 333, 77));
  EXPECT_NE(Fill(42, 0, 1024), Fill(43, 0, 1024));
  EXPECT_NE(Fill(0, 0, 64), Fill(1, 0, 64));
  // Not a constant or repeating pattern: many distinct 8-byte words.
  std::string bytes = Fill(42, 0, 8 * 256);
  std::set<std::string> words;
  for (std::size_t i = 0; i < bytes.size(); i += 8) words.insert(bytes.substr(i, 8));
  EXPECT_GT(words.size(), 250u);
}

TEST(ContentTest, FillBytesWritesExactlyNBytes) {
  std::string buffer(32, '#');
  FillBytes(5, 3, buffer.data() + 4, 10);
  EXPECT_EQ(buffer.substr(0, 4), "####");
  EXPECT_EQ(buffer.substr(14), std::string(18, '#'));
  EXPECT_EQ(buffer.substr(4, 10), Fill(5, 3, 10));
}

TEST(ContentTest, BodySha256HexEqualsShaOfFillBytes) {
  // Sizes around the 1 MiB block BodySha256Hex works in, and odd ones.
  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{7},
                             std::uint64_t{4096 + 3}, kMiB - 1, kMiB, kMiB + 1, 2 * kMiB + 12345}) {
    SCOPED_TRACE("size " + std::to_string(size));
    EXPECT_EQ(BodySha256Hex(11, size), Sha256::Of(Fill(11, 0, size)));
  }
}

TEST(ContentTest, BodySha256HexIsLowercaseHexAndDependsOnSeed) {
  std::string hex = BodySha256Hex(42, 1000);
  ASSERT_EQ(hex.size(), 64u);
  EXPECT_EQ(hex.find_first_not_of("0123456789abcdef"), std::string::npos) << hex;
  EXPECT_NE(hex, BodySha256Hex(43, 1000));
  EXPECT_NE(hex, BodySha256Hex(42, 1001));
  // The SHA-256 of nothing.
  EXPECT_EQ(BodySha256Hex(42, 0),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(ContentTest, CompletionTokensAreDeterministicWithExactCount) {
  for (int count : {0, 1, 2, 16, 500}) {
    auto tokens = CompletionTokens(42, "hello", count);
    EXPECT_EQ(tokens.size(), std::size_t(count));
    EXPECT_EQ(tokens, CompletionTokens(42, "hello", count));
  }
  // A shorter completion is a prefix of a longer one for the same prompt.
  auto longer = CompletionTokens(42, "hello", 32);
  auto shorter = CompletionTokens(42, "hello", 8);
  EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(), longer.begin()));
}

TEST(ContentTest, CompletionTokensSpacing) {
  auto tokens = CompletionTokens(42, "spacing", 64);
  ASSERT_EQ(tokens.size(), 64u);
  EXPECT_FALSE(tokens[0].empty());
  EXPECT_NE(tokens[0].front(), ' ') << "first token \"" << tokens[0] << "\"";
  for (std::size_t i = 1; i < tokens.size(); ++i) {
    SCOPED_TRACE("token " + std::to_string(i));
    ASSERT_GE(tokens[i].size(), 2u);
    EXPECT_EQ(tokens[i][0], ' ');
    EXPECT_NE(tokens[i][1], ' ');
  }
}

TEST(ContentTest, DifferentPromptsAndSeedsGiveDifferentTexts) {
  std::set<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.insert(CompletionText(42, "prompt " + std::to_string(i), 16));
  EXPECT_EQ(texts.size(), 64u) << "two of 64 prompts produced the same 16-token text";
  EXPECT_NE(CompletionText(42, "same", 16), CompletionText(43, "same", 16));
  EXPECT_NE(CompletionText(42, "", 16), CompletionText(42, "x", 16));
}

TEST(ContentTest, CompletionTextJoinsTokens) {
  auto tokens = CompletionTokens(3, "join me", 20);
  std::string joined;
  for (const auto& t : tokens) joined += t;
  EXPECT_EQ(CompletionText(3, "join me", 20), joined);
  EXPECT_EQ(CompletionText(3, "join me", 0), "");
  EXPECT_THAT(CompletionText(3, "join me", 1), Not(StartsWith(" ")));
  EXPECT_THAT(CompletionText(3, "join me", 2), HasSubstr(" "));
}

TEST(ContentTest, PromptOfTakesLastMessageContent) {
  EXPECT_EQ(PromptOf(R"({"messages":[{"role":"user","content":"hi"}]})"), "hi");
  EXPECT_EQ(PromptOf(R"({"model":"m","messages":[{"role":"system","content":"be brief"},
                        {"role":"user","content":"the last one"}],"stream":true})"),
            "the last one");
  EXPECT_EQ(PromptOf(R"({"messages":[{"role":"user","content":"caf\u00e9 \"q\""}]})"),
            "caf\xc3\xa9 \"q\"");
}

TEST(ContentTest, PromptOfIsEmptyForBadInput) {
  EXPECT_EQ(PromptOf(""), "");
  EXPECT_EQ(PromptOf("{not json"), "");
  EXPECT_EQ(PromptOf(R"({"messages":[{"content":"x"})"), "");  // truncated
  EXPECT_EQ(PromptOf("[]"), "");
  EXPECT_EQ(PromptOf(R"("messages")"), "");
  EXPECT_EQ(PromptOf(R"({})"), "");
  EXPECT_EQ(PromptOf(R"({"messages":[]})"), "");
  EXPECT_EQ(PromptOf(R"({"messages":"hi"})"), "");
  EXPECT_EQ(PromptOf(R"({"messages":[{"role":"user"}]})"), "");
  EXPECT_EQ(PromptOf(R"({"messages":[{"role":"user","content":5}]})"), "");
  EXPECT_EQ(PromptOf(R"({"messages":["hi"]})"), "");
  // The last message decides, even when an earlier one has content.
  EXPECT_EQ(PromptOf(R"({"messages":[{"content":"a"},{"role":"user"}]})"), "");
}

TEST(ContentTest, TokenGeneratorIsCompletionTokensOneAtATime) {
  TokenGenerator generator(42, "lazy");
  auto tokens = CompletionTokens(42, "lazy", 50);
  for (const auto& t : tokens) EXPECT_EQ(generator.Next(), t);
}

TEST(ContentTest, ChoicesHaveTheirOwnTextsAndChoiceZeroIsTheSingleText) {
  EXPECT_EQ(CompletionText(42, "p", 16, 0), CompletionText(42, "p", 16));
  std::set<std::string> texts;
  for (int c = 0; c < 16; ++c) texts.insert(CompletionText(42, "p", 16, c));
  EXPECT_EQ(texts.size(), 16u);
  EXPECT_EQ(CompletionText(42, "p", 16, 3), CompletionText(42, "p", 16, 3));
  EXPECT_EQ(CompletionTokens(42, "p", 4, 2)[0].front() == ' ', false) << "first token unspaced";
}

TEST(ContentTest, ExpectedToolCallIsDeterministicValidJsonInPieces) {
  const std::vector<std::string> names = {"get_weather", "search_docs", "run_sql"};
  auto call = ExpectedToolCall(42, "tool me", names, 5);
  EXPECT_EQ(call.id.rfind("call_", 0), 0u);
  EXPECT_EQ(call.id.size(), 5u + 24u);
  EXPECT_NE(std::find(names.begin(), names.end(), call.name), names.end());
  auto args = nlohmann::json::parse(call.arguments, nullptr, false);
  ASSERT_TRUE(args.is_object()) << call.arguments;
  EXPECT_EQ(args["query"], CompletionText(42, "tool me", 5));
  EXPECT_EQ(ExpectedToolCall(42, "tool me", names, 5).id, call.id);
  EXPECT_NE(ExpectedToolCall(42, "tool me", names, 5, 1).id, call.id) << "per choice";
  std::string joined;
  auto tokens = CompletionTokens(42, "tool me", 5);
  for (int i = 0; i < 5; ++i) joined += ToolArgumentsPiece(tokens[i], i, 5, true);
  EXPECT_EQ(joined, call.arguments);
  EXPECT_EQ(ExpectedToolCall(42, "x", names, 0).arguments, R"({"query":""})");
  EXPECT_EQ(ExpectedToolCall(42, "x", {"only"}, 3).name, "only");
  auto cut = ExpectedToolCall(42, "tool me", names, 3, 0, /*complete=*/false);
  EXPECT_EQ(cut.arguments, R"({"query":")" + CompletionText(42, "tool me", 3));
  // Different prompts pick among the names.
  std::set<std::string> picked;
  for (int i = 0; i < 32; ++i) picked.insert(ExpectedToolCall(1, std::to_string(i), names, 1).name);
  EXPECT_EQ(picked.size(), names.size());
}

TEST(ContentTest, StampsAreAddedAndRemovedAndRead) {
  EXPECT_EQ(StampToken("stream", 123), "@123 stream");
  EXPECT_EQ(StampToken(" token", 456), " @456 token");
  std::string text = StampToken("a", 1) + StampToken(" b", 22) + StampToken(" c", 333);
  EXPECT_EQ(StripStamps(text), "a b c");
  EXPECT_EQ(TokenStamps(text), (std::vector<std::uint64_t>{1, 22, 333}));
  EXPECT_EQ(StripStamps("no @stamps here @ or @12x"), "no @stamps here @ or @12x");
  EXPECT_TRUE(TokenStamps("@99999999999999999999999 x").empty()) << "past 64 bits";
  std::uint64_t a = MonotonicNowNs(), b = MonotonicNowNs();
  EXPECT_LE(a, b);
}

TEST(ContentTest, PromptOfIsDepthBounded) {
  std::string deep = R"({"messages":[{"content":"x","deep":)" + std::string(100'000, '[') +
                     std::string(100'000, ']') + "}]}";
  EXPECT_EQ(PromptOf(deep), "");
}

}  // namespace
}  // namespace streamcheck::mocks
