#include "common/json_bounded.h"

#include <string>

namespace streamcheck {
namespace {

// A SAX handler that builds nothing and keeps the parser's error message.
struct ErrorOnly : nlohmann::json_sax<nlohmann::json> {
  std::string message = "syntax error";
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception& e) override {
    message = e.what();
    return false;
  }
};

}  // namespace

std::size_t JsonNestingDepth(std::string_view text) {
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
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) deepest = depth;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

Result<nlohmann::json> ParseJsonBounded(std::string_view text, std::size_t max_depth) {
  std::size_t depth = JsonNestingDepth(text);
  if (depth > max_depth) {
    return Error{"JSON nested " + std::to_string(depth) + " levels deep; at most " +
                 std::to_string(max_depth) + " are accepted"};
  }
  auto json = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    ErrorOnly sax;  // a second pass only to say where: no exception crosses this function
    nlohmann::json::sax_parse(text.begin(), text.end(), &sax);
    return Error{"not valid JSON: " + sax.message};
  }
  return json;
}

}  // namespace streamcheck
