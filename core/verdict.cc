#include "core/verdict.h"

namespace streamcheck::core {
namespace {

std::string Join(const std::vector<Failure>& failures) {
  std::string out;
  for (const auto& f : failures) out += (out.empty() ? "" : "; ") + f.message;
  return out;
}

bool Judged(Outcome o) { return o == Outcome::kPass || o == Outcome::kFail || o == Outcome::kWarn; }

// How much a run's outcome weighs in a repeated case (not-run runs are not judged).
int Weight(Outcome o) {
  switch (o) {
    case Outcome::kFail:
    case Outcome::kWarn:
      return 4;
    case Outcome::kError:
      return 3;
    case Outcome::kSkip:
      return 2;
    case Outcome::kPass:
      return 1;
    case Outcome::kNotRun:
      return 0;
  }
  return 0;
}

// "fail in runs 3, 5, 9; error in run 4" for the runs that did not pass.
std::string WhereMissed(const std::vector<Verdict>& runs) {
  constexpr std::size_t kListed = 10;
  std::string out;
  for (Outcome o : {Outcome::kFail, Outcome::kWarn, Outcome::kError, Outcome::kSkip}) {
    std::vector<std::size_t> numbers;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (runs[i].outcome == o) numbers.push_back(i + 1);
    }
    if (numbers.empty()) continue;
    std::string part = std::string(ToString(o)) + " in ";
    if (numbers.size() == runs.size() && runs.size() > 1) {
      part += "every run";
    } else {
      part += numbers.size() == 1 ? "run " : "runs ";
      for (std::size_t k = 0; k < numbers.size() && k < kListed; ++k) {
        part += (k ? ", " : "") + std::to_string(numbers[k]);
      }
      if (numbers.size() > kListed) part += ", ...";
    }
    out += (out.empty() ? "" : "; ") + part;
  }
  return out;
}

}  // namespace

bool WorseRun(Outcome a, Outcome b) { return Weight(a) > Weight(b); }

Verdict JudgeRepeated(const std::vector<Verdict>& runs, int planned, const std::string& stopped) {
  if (runs.empty()) {
    return {Outcome::kNotRun,
            stopped.empty() ? "none of the " + std::to_string(planned) + " runs ran" : stopped};
  }
  std::size_t shown = 0;
  int passed = 0;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    if (WorseRun(runs[i].outcome, runs[shown].outcome)) shown = i;
    if (runs[i].outcome == Outcome::kPass) ++passed;
  }
  const Outcome worst = runs[shown].outcome;
  const std::string count =
      std::to_string(passed) + " of " + std::to_string(runs.size()) +
      (int(runs.size()) < planned ? " runs, of " + std::to_string(planned) + " asked for"
                                  : " runs");
  const bool cut = !stopped.empty() || int(runs.size()) < planned;
  if (cut && Weight(worst) < Weight(Outcome::kError)) {
    return {Outcome::kNotRun,
            "stopped after " + std::to_string(runs.size()) + " of " + std::to_string(planned) +
                " runs (" + std::to_string(passed) +
                " passed): " + (stopped.empty() ? "the rest did not run" : stopped)};
  }
  if (worst == Outcome::kPass) return {Outcome::kPass, ""};
  std::string message = "passed " + count + " (" + WhereMissed(runs) + "); run " +
                        std::to_string(shown + 1) + ": " + runs[shown].message;
  return {worst, message};
}

std::string RunsLine(const CaseResult& r) {
  if (!r.repeated()) return "";
  std::string line =
      std::to_string(r.PassedRuns()) + " of " + std::to_string(r.repeat) + " runs passed";
  if (int(r.runs.size()) < r.repeat) line += " (" + std::to_string(r.runs.size()) + " ran)";
  return line;
}

Verdict Judge(Level level, const CaseRecord& record) {
  if (record.not_run) return {Outcome::kNotRun, *record.not_run};
  if (!record.ran) return {Outcome::kNotRun, "the case did not run"};
  if (record.error) {
    std::string failures = Join(record.failures);
    return {Outcome::kError,
            *record.error + (failures.empty() ? "" : "; before that: " + failures)};
  }
  if (!record.failures.empty()) {
    switch (level) {
      case Level::kMust:
        return {Outcome::kFail, Join(record.failures)};
      case Level::kShould:
        return {Outcome::kWarn, Join(record.failures)};
      case Level::kInfo:
        return {Outcome::kPass, Join(record.failures)};
    }
  }
  if (record.skip) return {Outcome::kSkip, *record.skip};
  return {Outcome::kPass, ""};
}

const std::vector<ExitCodeInfo>& ExitCodes() {
  static const std::vector<ExitCodeInfo> codes = {
      {kExitPass,
       "every MUST case passed, or failed as the --expect baseline lists (SHOULD misses are "
       "warnings)"},
      {kExitMustFailed,
       "a MUST case failed (with --strict also: a SHOULD miss, or a listed failure that now "
       "passes)"},
      {kExitUsage,
       "usage or spec error (bad flag, bad spec, --cases matching nothing, "
       "report path not writable); nothing ran"},
      {kExitHarness, "a target could not be started, a case errored, or a target left processes"},
      {kExitNothingRan, "no selected case ran: every one was skipped or not run"},
      {kExitTimeout, "the run's --timeout was reached; reports hold what ran"},
      {kExitSigint, "interrupted (SIGINT, Ctrl-C); reports hold what ran"},
      {kExitSigterm, "stopped by SIGTERM; reports hold what ran"},
  };
  return codes;
}

const Expectation* FindExpectation(const GateSettings& gate, const std::string& target,
                                   const std::string& case_id) {
  for (const auto& e : gate.expected) {
    if (e.target == target && e.case_id == case_id) return &e;
  }
  return nullptr;
}

Gated GateOf(const CaseResult& r, const GateSettings& gate) {
  Gated g;
  g.expectation = FindExpectation(gate, r.target, r.case_id);
  const bool missed = r.outcome == Outcome::kFail || r.outcome == Outcome::kWarn;
  if (g.expectation && r.outcome == g.expectation->outcome &&
      (missed || r.outcome == Outcome::kError)) {
    g.effect = GateEffect::kAccepted;
  } else if (g.expectation && r.outcome == Outcome::kPass) {
    g.effect = GateEffect::kNowPasses;
    g.fails_run = gate.strict;
  } else if (r.outcome == Outcome::kError) {
    g.effect = GateEffect::kErrored;
  } else if (missed && r.level == Level::kMust) {
    g.effect = GateEffect::kMustFailed;
    g.fails_run = true;
  } else if (missed && r.level == Level::kShould) {
    g.effect = gate.strict ? GateEffect::kStrictFailed : GateEffect::kShouldMissed;
    g.fails_run = gate.strict;
  }
  return g;
}

std::string GateNote(const CaseResult& r, const GateSettings& gate) {
  const Gated g = GateOf(r, gate);
  const std::string file = gate.baseline.empty() ? "the baseline" : gate.baseline;
  const std::string reason =
      g.expectation && !g.expectation->reason.empty() ? ": " + g.expectation->reason : "";
  switch (g.effect) {
    case GateEffect::kAccepted:
      return "known " + std::string(ToString(r.outcome)) + ", accepted by " + file + reason;
    case GateEffect::kNowPasses:
      return "now passes: remove it from " + file + " (listed as " +
             std::string(ToString(g.expectation->outcome)) + reason + ")" +
             (gate.strict ? "; fails the run under --strict" : "");
    case GateEffect::kStrictFailed:
      return "SHOULD miss, a failure under --strict";
    default:
      break;
  }
  if (g.expectation) {
    return "the baseline " + file + " lists " + std::string(ToString(g.expectation->outcome)) +
           " here; it was " + std::string(ToString(r.outcome)) + ", which it does not accept";
  }
  return "";
}

GateCounts CountGate(const RunReport& report) {
  GateCounts c;
  for (const auto& r : report.results) {
    switch (GateOf(r, report.gate).effect) {
      case GateEffect::kMustFailed:
        ++c.must_failed;
        break;
      case GateEffect::kShouldMissed:
        ++c.should_missed;
        break;
      case GateEffect::kStrictFailed:
        ++c.strict_failed;
        break;
      case GateEffect::kErrored:
        ++c.errored;
        break;
      case GateEffect::kAccepted:
        ++c.accepted;
        break;
      case GateEffect::kNowPasses:
        ++c.now_passes;
        break;
      case GateEffect::kNone:
        break;
    }
  }
  return c;
}

int ExitCodeFor(const RunReport& report) {
  if (report.interrupted) return report.interrupted->exit_code;
  bool fails = false, errored = false, judged = false;
  for (const auto& r : report.results) {
    const Gated g = GateOf(r, report.gate);
    fails = fails || g.fails_run;
    errored = errored || g.effect == GateEffect::kErrored;
    judged = judged || Judged(r.outcome);
  }
  for (const auto& t : report.targets) {
    if (!t.problem.empty() || t.stop.left_behind) errored = true;
  }
  if (fails) return kExitMustFailed;
  if (errored) return kExitHarness;
  if (!judged) return kExitNothingRan;
  return kExitPass;
}

std::string VerdictLine(const RunReport& report) {
  int code = ExitCodeFor(report);
  const GateCounts c = CountGate(report);
  std::string what;
  switch (code) {
    case kExitPass:
      what = c.accepted > 0 ? "every MUST case passed but those the baseline lists"
                            : "every MUST case passed";
      break;
    case kExitMustFailed:
      what = c.must_failed > 0 ? "a MUST case failed" : "a case failed under --strict";
      break;
    case kExitHarness:
      what = "a case could not run or a target could not start";
      break;
    case kExitNothingRan:
      what = "no case ran: nothing was tested";
      break;
    default:
      what = report.interrupted ? report.interrupted->reason : "see the results";
  }
  auto plural = [](int n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  const std::string file = report.gate.baseline.empty() ? "the baseline" : report.gate.baseline;
  if (c.should_missed > 0)
    what += "; " + plural(c.should_missed, "SHOULD miss", "SHOULD misses") + " (warn)";
  if (c.strict_failed > 0) {
    what +=
        "; " + plural(c.strict_failed, "SHOULD miss", "SHOULD misses") + " failing under --strict";
  }
  if (c.accepted > 0) {
    what += "; " + plural(c.accepted, "known failure", "known failures") + " accepted by " + file;
  }
  if (c.now_passes > 0) {
    what += "; " + plural(c.now_passes, "listed failure now passes", "listed failures now pass") +
            " (remove from " + file + ")";
  }
  return "verdict: " + what + " (exit " + std::to_string(code) + ")";
}

}  // namespace streamcheck::core
