#include "common/json_bounded.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace streamcheck {
namespace {

using ::testing::HasSubstr;

TEST(JsonBoundedTest, DepthCountsBracketsOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth("1"), 0u);
  EXPECT_EQ(JsonNestingDepth("\"[[[\""), 0u);
  EXPECT_EQ(JsonNestingDepth("{}"), 1u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":[1,{"b":[]}]})"), 4u);
  EXPECT_EQ(JsonNestingDepth(R"(["\"[[[", ["x"]])"), 2u)
      << "an escaped quote does not end the string";
  EXPECT_EQ(JsonNestingDepth(R"(["\\", [["x"]]])"), 3u) << "an escaped backslash does";
  EXPECT_EQ(JsonNestingDepth("[][][]"), 1u);
  EXPECT_EQ(JsonNestingDepth("]]][["), 2u) << "unbalanced text still gives a number";
}

TEST(JsonBoundedTest, ParsesWithinTheBound) {
  auto j = ParseJsonBounded(R"({"a":[1,2,{"b":"c"}]})", 3);
  ASSERT_TRUE(j.ok()) << j.error();
  EXPECT_EQ((*j)["a"][2]["b"], "c");
  EXPECT_TRUE(ParseJsonBounded("[[[]]]", 3).ok());
  EXPECT_TRUE(ParseJsonBounded("42", 0).ok());
}

TEST(JsonBoundedTest, RefusesDeeperThanTheBound) {
  auto j = ParseJsonBounded("[[[[]]]]", 3);
  ASSERT_FALSE(j.ok());
  EXPECT_THAT(j.error(), HasSubstr("4 levels"));
  EXPECT_THAT(j.error(), HasSubstr("at most 3"));
}

TEST(JsonBoundedTest, TwoHundredThousandDeepIsRefusedNotAStackOverflow) {
  std::string deep(200'000, '[');
  deep += std::string(200'000, ']');
  auto j = ParseJsonBounded(deep);
  ASSERT_FALSE(j.ok());
  EXPECT_THAT(j.error(), HasSubstr("200000 levels"));
  std::string objects;
  for (int i = 0; i < 200'000; ++i) objects += "{\"a\":";
  EXPECT_FALSE(ParseJsonBounded(objects + "1" + std::string(200'000, '}')).ok());
}

TEST(JsonBoundedTest, SyntaxErrorsSayWhere) {
  for (const char* bad : {"", "{", "{not json", "[1,]", "\"unterminated", "{\"a\":1}x", "nan"}) {
    SCOPED_TRACE(bad);
    auto j = ParseJsonBounded(bad);
    ASSERT_FALSE(j.ok());
    EXPECT_THAT(j.error(), HasSubstr("not valid JSON"));
  }
  EXPECT_THAT(ParseJsonBounded("[1,]").error(), HasSubstr("syntax error"));
}

TEST(JsonBoundedTest, InvalidUtf8InStringsIsRefused) {
  // Parsed values can always be dumped again: nlohmann refuses bad UTF-8 on input.
  EXPECT_FALSE(ParseJsonBounded("\"\xff\"").ok());
  EXPECT_TRUE(ParseJsonBounded("\"caf\xc3\xa9\"").ok());
}

}  // namespace
}  // namespace streamcheck
