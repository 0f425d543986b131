#include "common/json_bounded.h"

#include <string>

namespace streamcheck {

std::size_t JsonDepth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<nlohmann::json> ParseJsonBounded(std::string_view text, std::size_t max_depth) {
  if (JsonDepth(text, max_depth) > max_depth) {
    return Error{"JSON nested " + std::to_string(JsonNestingDepth(text)) + " levels deep; at most " +
                 std::to_string(max_depth)};
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 3: ..."
    auto bracket = what.find("] ");
    if (bracket != std::string::npos) what = what.substr(bracket + 2);
    return Error{"not valid JSON: " + what};
  }
}

nlohmann::json ParseJsonOrNull(std::string_view text, std::size_t max_depth) {
  if (JsonDepth(text, max_depth) > max_depth) return nullptr;
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  return j.is_discarded() ? nlohmann::json() : j;
}

}  // namespace streamcheck
