// Small text helpers: ASCII case for HTTP header names and values, excerpts
// of untrusted bytes for messages.
#pragma once

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

namespace streamcheck {

// Up to `max` bytes of `text`, with control bytes shown as escapes (\n, \r,
// \t, \xNN) and "…" when cut: for messages and the console, never raw bytes.
std::string Excerpt(std::string_view text, std::size_t max = 120);

// A waitpid() status in words: "exited with code 3", "killed by signal 9
// (SIGKILL)" (", core dumped" when it did).
std::string DescribeWaitStatus(int status);

inline bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

inline std::string ToLower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Without surrounding spaces, tabs and line ends (a header line's value).
inline std::string TrimHeaderValue(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  auto begin = s.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  auto end = s.find_last_not_of(kSpace);
  return std::string(s.substr(begin, end - begin + 1));
}

}  // namespace streamcheck
