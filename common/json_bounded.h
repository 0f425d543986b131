// JSON from untrusted clients with a bound on nesting depth. nlohmann::json's
// parser recurses once per nesting level, so a body of 200,000 '[' overflows the
// stack; ParseJsonBounded first measures the depth in one linear pass (brackets
// outside strings) and refuses too deep a text before nlohmann sees it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.h"

namespace streamcheck {

// Deep enough for any request body an LLM server sends (tool schemas included).
constexpr std::size_t kDefaultJsonDepth = 64;

// The deepest nesting of objects and arrays in `text` (0 for a scalar), counting
// brackets outside string literals. Not a validator: unbalanced text gives a
// number all the same, and the parser refuses it afterwards.
std::size_t JsonNestingDepth(std::string_view text);

// Parses `text` as one JSON value nested at most `max_depth` deep. The error
// says which bound was crossed, or where the syntax is wrong.
Result<nlohmann::json> ParseJsonBounded(std::string_view text,
                                        std::size_t max_depth = kDefaultJsonDepth);

}  // namespace streamcheck
