#include "reports/results.h"

#include <array>

namespace streamcheck::reports {
namespace {

constexpr std::array<std::pair<Level, std::string_view>, 3> kLevels = {{
    {Level::kMust, "MUST"},
    {Level::kShould, "SHOULD"},
    {Level::kInfo, "INFO"},
}};

constexpr std::array<std::pair<Outcome, std::string_view>, 5> kOutcomes = {{
    {Outcome::kPass, "pass"},
    {Outcome::kFail, "fail"},
    {Outcome::kWarn, "warn"},
    {Outcome::kSkip, "skip"},
    {Outcome::kError, "error"},
}};

template <typename Enum, std::size_t N>
std::string_view Lookup(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "?";
}

template <typename Enum, std::size_t N>
std::optional<Enum> Parse(const std::array<std::pair<Enum, std::string_view>, N>& table,
                          std::string_view text) {
  for (const auto& [e, name] : table) {
    if (name == text) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(Level level) { return Lookup(kLevels, level); }
std::string_view ToString(Outcome outcome) { return Lookup(kOutcomes, outcome); }
std::optional<Level> ParseLevel(std::string_view text) { return Parse(kLevels, text); }
std::optional<Outcome> ParseOutcome(std::string_view text) { return Parse(kOutcomes, text); }

int ExitCodeFor(const RunReport& report) {
  bool must_failed = false;
  bool errored = false;
  for (const auto& r : report.results) {
    if (r.outcome == Outcome::kFail && r.level == Level::kMust) must_failed = true;
    if (r.outcome == Outcome::kError) errored = true;
  }
  for (const auto& t : report.targets) {
    if (!t.problem.empty()) errored = true;
  }
  if (must_failed) return 1;
  if (errored) return 3;
  return 0;
}

}  // namespace streamcheck::reports
