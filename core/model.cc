#include "core/model.h"

#include <array>

namespace streamcheck::core {
namespace {

constexpr std::array<std::pair<Level, std::string_view>, 3> kLevels = {{
    {Level::kMust, "MUST"},
    {Level::kShould, "SHOULD"},
    {Level::kInfo, "INFO"},
}};

constexpr std::array<std::pair<Outcome, std::string_view>, 6> kOutcomes = {{
    {Outcome::kPass, "pass"},
    {Outcome::kFail, "fail"},
    {Outcome::kWarn, "warn"},
    {Outcome::kSkip, "skip"},
    {Outcome::kError, "error"},
    {Outcome::kNotRun, "not-run"},
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

std::string BodySizeText(const Exchange& x) {
  std::string text = std::to_string(x.body_bytes) + " bytes";
  if (x.wire_bytes != x.body_bytes && x.wire_bytes > 0) {
    text += " (" + std::to_string(x.wire_bytes) + " on the wire)";
  }
  return text;
}

int CaseResult::PassedRuns() const {
  int passed = 0;
  for (const auto& run : runs) passed += run.outcome == Outcome::kPass;
  return passed;
}

}  // namespace streamcheck::core
