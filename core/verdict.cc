#include "core/verdict.h"

namespace streamcheck::core {
namespace {

std::string Join(const std::vector<Failure>& failures) {
  std::string out;
  for (const auto& f : failures) out += (out.empty() ? "" : "; ") + f.message;
  return out;
}

bool Judged(Outcome o) { return o == Outcome::kPass || o == Outcome::kFail || o == Outcome::kWarn; }

}  // namespace

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
      {kExitPass, "every MUST case passed (SHOULD misses are warnings)"},
      {kExitMustFailed, "a MUST case failed"},
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

int ExitCodeFor(const RunReport& report) {
  if (report.interrupted) return report.interrupted->exit_code;
  bool must_failed = false, errored = false, judged = false;
  for (const auto& r : report.results) {
    if (r.outcome == Outcome::kFail && r.level == Level::kMust) must_failed = true;
    if (r.outcome == Outcome::kError) errored = true;
    if (Judged(r.outcome)) judged = true;
  }
  for (const auto& t : report.targets) {
    if (!t.problem.empty() || t.stop.left_behind) errored = true;
  }
  if (must_failed) return kExitMustFailed;
  if (errored) return kExitHarness;
  if (!judged) return kExitNothingRan;
  return kExitPass;
}

std::string VerdictLine(const RunReport& report) {
  int code = ExitCodeFor(report);
  std::string what;
  switch (code) {
    case kExitPass:
      what = "every MUST case passed";
      break;
    case kExitMustFailed:
      what = "a MUST case failed";
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
  return "verdict: " + what + " (exit " + std::to_string(code) + ")";
}

}  // namespace streamcheck::core
