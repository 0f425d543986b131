// JSON from outside the harness (a server under test, a mock, a spec file, a
// saved report) parsed with a nesting limit: nlohmann::json parses deep input
// fine but dump() and the checks walk it recursively, so a chunk nested
// 200,000 deep would overflow the stack. Depth is checked first, by a linear
// scan; nothing recursive ever sees deeper input.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/result.h"

namespace streamcheck {

// Deep enough for any body an LLM server or client sends (tool schemas included).
inline constexpr std::size_t kMaxJsonDepth = 64;
inline constexpr std::size_t kDefaultJsonDepth = kMaxJsonDepth;

// The deepest nesting of arrays and objects in `text` (brackets inside strings
// do not count). Stops counting past `limit` + 1.
std::size_t JsonDepth(std::string_view text, std::size_t limit = kMaxJsonDepth);
// The same, counted to the end: 0 for a scalar. Not a validator: unbalanced
// text gives a number all the same, and the parser refuses it afterwards.
inline std::size_t JsonNestingDepth(std::string_view text) { return JsonDepth(text, ~std::size_t{0} - 1); }

// Parses `text`; fails with a message for invalid JSON, for nesting deeper
// than `max_depth`, and for numbers out of range (nlohmann reads 1e400 as a
// parse error; we say so in words).
Result<nlohmann::json> ParseJsonBounded(std::string_view text,
                                        std::size_t max_depth = kMaxJsonDepth);

// The same, answering null (not discarded) for anything that fails: for
// checks that only ask "is this an object with an `error` member?".
nlohmann::json ParseJsonOrNull(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

}  // namespace streamcheck
