// The one place where outcomes and exit codes are decided. A case body only
// records what it saw (failures, a reason to skip, an error); Judge() turns
// that into an outcome, by level, as a pure function; ExitCodeFor() turns a
// run into the exit status of `streamcheck run`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/model.h"

namespace streamcheck::core {

// What one case body left behind.
struct CaseRecord {
  bool ran = false;                    // the body was entered and returned
  std::vector<Failure> failures;       // expectations the server did not meet
  std::optional<std::string> skip;     // why the case could not be measured here
  std::optional<std::string> error;    // why the case could not run (the harness's side)
  std::optional<std::string> not_run;  // why the body was never entered, or was cut short
};

struct Verdict {
  Outcome outcome = Outcome::kNotRun;
  std::string message;
};

// not_run, or !ran: not-run. error: error. failures: fail (MUST), warn
// (SHOULD), pass (INFO: recorded, never judged; the failures stay in the
// message). skip without failures: skip. Otherwise pass.
Verdict Judge(Level level, const CaseRecord& record);

// Exit statuses of `streamcheck run` (also in `--help` and the README).
inline constexpr int kExitPass = 0;        // every MUST case passed (SHOULD misses are warn)
inline constexpr int kExitMustFailed = 1;  // a MUST case failed
inline constexpr int kExitUsage = 2;       // a usage or spec error; nothing ran
inline constexpr int kExitHarness = 3;     // a target could not start, a case errored
inline constexpr int kExitNothingRan = 4;  // no selected case ran (all skipped or not run)
inline constexpr int kExitTimeout = 124;   // the run's --timeout was reached
inline constexpr int kExitSigint = 130;    // interrupted by SIGINT (Ctrl-C)
inline constexpr int kExitSigterm = 143;   // stopped by SIGTERM

struct ExitCodeInfo {
  int code;
  const char* meaning;
};
// Every exit status with its meaning, in order, for `--help` and the docs.
const std::vector<ExitCodeInfo>& ExitCodes();

// The exit status for a run: the interruption's when it was interrupted;
// else 1 when a MUST case failed; else 3 when a case errored, a target could
// not start or something of a target outlived its stop; else 4 when no case
// passed, failed or warned; else 0.
int ExitCodeFor(const RunReport& report);

// One line for the console and the Markdown title: what the exit status means.
std::string VerdictLine(const RunReport& report);

}  // namespace streamcheck::core
