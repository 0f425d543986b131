// The run engine: plans, runs and judges. The plan is the selected cases on
// every target; each target gets its own session (mock backend, process,
// log) and runs its cases in catalog order; every case's outcome comes from
// core::Judge over what its body recorded. Nothing global: the engine runs
// twice in one process, and several targets at once (`jobs`).
//
// On a stop (interrupt, run deadline: engine/stop.h) the running case ends at
// once and is reported not-run, as is every case not reached, with the
// reason; every target is stopped; the report says it was interrupted.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/model.h"
#include "engine/case.h"
#include "engine/stop.h"
#include "harness/target_spec.h"

namespace streamcheck::engine {

// What the console (or a test) hears while a run goes on. Called from the
// thread that runs the target, so with jobs > 1 from several threads at
// once: an observer keeps its own output whole.
class RunObserver {
 public:
  virtual ~RunObserver() = default;
  virtual void TargetStarting(const harness::TargetSpec&) {}
  virtual void TargetStopped(const core::TargetSummary&) {}
  virtual void CaseStarting(const std::string& /*target*/, const core::CaseInfo&) {}
  // The running case's live counters, valid until CaseFinished for that case
  // (which comes from the same thread); an observer may read them from any.
  virtual void CaseRunning(const std::string& /*target*/, const core::CaseInfo&,
                           const CaseProgress&) {}
  virtual void CaseFinished(const core::CaseResult&) {}
};

struct RunOptions {
  std::vector<harness::TargetSpec> targets;
  CaseOptions case_options;
  SessionOptions session;
  std::string version;
  int jobs = 1;  // targets run at once
  // Each case this many times in a row (`run --repeat N`), the mock reset
  // before each run; the result counts the runs that passed and is judged by
  // core::JudgeRepeated. Liveness cases still run after the rest.
  int repeat = 1;
  StopSource* stop = nullptr;       // interrupts and the deadline; null: the run's own
  RunObserver* observer = nullptr;  // may be null
};

// The cases a comma-separated list of globs selects, in catalog order (every
// case for an empty filter). A glob that matches no case is an error naming it.
Result<std::vector<const CaseDef*>> SelectCases(const std::vector<CaseDef>& catalog,
                                                const std::string& filter);

// True when `case_id` matches one of the comma-separated globs.
bool MatchesFilter(const std::string& case_id, const std::string& filter);

// Runs `selected` on every target. Never throws; a target that cannot start
// gives `error` results and a TargetSummary.problem.
core::RunReport Run(const std::vector<CaseDef>& catalog,
                    const std::vector<const CaseDef*>& selected, const RunOptions& options);

}  // namespace streamcheck::engine
