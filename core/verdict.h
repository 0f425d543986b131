// The one place where outcomes and exit codes are decided. A case body only
// records what it saw (failures, a reason to skip, an error); Judge() turns
// that into an outcome, by level, as a pure function; GateOf() says what one
// outcome does to the run under its gate (--strict, the --expect baseline);
// ExitCodeFor() turns a run into the exit status of `streamcheck run`.
// Outcomes are never rewritten: a baseline changes what a result does to the
// exit status, not what it was.
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

// The outcome of a case asked to run `planned` times (`run --repeat N`), from
// the verdicts of the runs that were judged, in order; `stopped` is the
// not-run message of the run a stop cut short ("" when every run was judged).
// The worst run decides: any fail or warn is that (one flaky run is a miss);
// else any error is error; else any skip is skip (a run that measured nothing
// is no pass); else pass. A repeat a stop cut short is not-run unless a run
// failed or errored: fewer passes than asked for prove no steadiness. The
// message says how many passed and quotes the first of the worst runs:
// "passed 7 of 10 runs (fail in runs 3, 5, 9); run 3: expected ...".
Verdict JudgeRepeated(const std::vector<Verdict>& runs, int planned,
                      const std::string& stopped = "");

// True when a run with outcome `a` is worse than one with `b` (the order
// above): a repeated result shows the evidence of the first of its worst runs.
bool WorseRun(Outcome a, Outcome b);

// "7 of 10 runs passed" for a repeated result, "" for a case run once.
std::string RunsLine(const CaseResult& result);

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

// What one result does to the run's exit status.
enum class GateEffect {
  kNone,          // passed, skipped, not run, or an INFO case: nothing
  kMustFailed,    // a MUST case failed: exit 1
  kShouldMissed,  // a SHOULD case missed (warn): reported, exit 0
  kStrictFailed,  // a SHOULD miss under --strict: exit 1
  kErrored,       // the case errored: exit 3
  kAccepted,      // its outcome is the one the baseline lists: does not fail the run
  kNowPasses,     // the baseline lists a failure and the case passed: exit 0 (1 under --strict)
};

struct Gated {
  GateEffect effect = GateEffect::kNone;
  const Expectation* expectation = nullptr;  // the baseline entry for this result, if any
  bool fails_run = false;                    // the effect makes the run exit 1
};

// A result under `gate`. A baseline entry accepts exactly its outcome (a
// listed fail accepts fail, not error); a listed outcome the case no longer
// has is not accepted, and a pass of a listed case is kNowPasses.
Gated GateOf(const CaseResult& result, const GateSettings& gate);

// The baseline entry for (target, case) in `gate`, if any.
const Expectation* FindExpectation(const GateSettings& gate, const std::string& target,
                                   const std::string& case_id);

// One sentence for a result whose effect needs saying ("" otherwise), e.g.
// "known failure, accepted by expect.json: buffers by design" or
// "now passes: remove it from expect.json".
std::string GateNote(const CaseResult& result, const GateSettings& gate);

// The exit status for a run under its gate (report.gate): the interruption's
// when it was interrupted; else 1 when a result fails the run (GateOf); else 3
// when a case errored (and the baseline does not list that error), a target
// could not start or something of a target outlived its stop; else 4 when no
// case passed, failed or warned; else 0.
int ExitCodeFor(const RunReport& report);

// How many results have each effect, for summary lines.
struct GateCounts {
  int must_failed = 0, should_missed = 0, strict_failed = 0, errored = 0, accepted = 0,
      now_passes = 0;
};
GateCounts CountGate(const RunReport& report);

// One line for the console and the Markdown title: what the exit status means,
// with the SHOULD misses and the baseline's effect, e.g. "verdict: every MUST
// case passed; 3 SHOULD misses (warn) (exit 0)".
std::string VerdictLine(const RunReport& report);

}  // namespace streamcheck::core
