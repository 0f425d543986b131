// Sharded runs (`streamcheck run --shard I/N`): a deterministic partition of
// the selected (target, case) pairs over N processes, balanced by each case's
// typical duration, so a CI matrix or a Kubernetes Indexed Job runs the
// catalog in pieces that `streamcheck report --merge` (reports/merge.h) puts
// back together. Every shard computes the whole plan from the same inputs
// (targets, selected cases, N) and runs its own part; no shard talks to
// another.
//
// What stays together: cases that judge the target's liveness
// (CaseDef::judges_liveness, server.survives) run on every shard that has any
// case of their target, after that target's other cases there; the merge
// expects them from several shards. A target whose only selected cases judge
// liveness gets them on one shard, as one piece.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/model.h"
#include "engine/engine.h"

namespace streamcheck::engine {

// One shard of N: 0 <= index < count (0-based, as JOB_COMPLETION_INDEX counts).
struct Shard {
  int index = 0;
  int count = 1;
};
inline constexpr int kMaxShards = 1000;

// Parses "I/N", e.g. "0/4"; an error says what is allowed.
Result<Shard> ParseShard(std::string_view text);

// How long a case typically takes on a target, in ms, for balancing: a table
// of the catalog's cases measured on this project's targets, and
// kDefaultCaseMs for a case the table does not know (new cases).
int TypicalCaseMs(const core::CaseInfo& info);
inline constexpr int kDefaultCaseMs = 500;
// That table: case ID -> ms. CatalogTest checks it names exactly the
// catalog's cases, so a new case cannot be forgotten (kDefaultCaseMs is for
// cases of other builds).
const std::map<std::string, int, std::less<>>& TypicalCaseTable();
// What starting a target costs a shard that tests it (its mock, its process,
// its ready path), in ms: a spawned server costs more than a running one.
int TypicalStartMs(const harness::TargetSpec& spec);

// The cases of one target that a shard runs, in run order (liveness cases last).
struct TargetCases {
  std::size_t target = 0;  // index into the run's targets
  std::vector<const CaseDef*> cases;
};

struct ShardPlan {
  std::vector<TargetCases> targets;  // targets with a case on this shard, in the run's order
  std::size_t pairs = 0;             // (target, case) pairs on this shard, liveness copies included
  long long estimated_ms = 0;        // by TypicalCaseMs and TypicalStartMs
  bool empty() const { return targets.empty(); }
};

struct PlanCosts {
  int (*case_ms)(const core::CaseInfo&) = TypicalCaseMs;
  int (*start_ms)(const harness::TargetSpec&) = TypicalStartMs;
};

// The plan of every shard of `count` (count >= 1). Targets one after the
// other (spawned ones first), each target's cases longest first; a case stays
// on a shard that already tests its target while that shard stays within an
// even share of the whole run, else it goes to the shard where it ends
// soonest, counting the target's start and its liveness cases on a shard that
// does not test the target yet. So a target is split only where one shard
// would run long, and ties go to the lowest shard index: every process
// computes the same plan. Each non-liveness pair is on exactly one shard.
// `selected` in run order (as SelectCases returns it).
std::vector<ShardPlan> PlanShards(const std::vector<harness::TargetSpec>& targets,
                                  const std::vector<const CaseDef*>& selected, int count,
                                  const PlanCosts& costs = {});

// What the report of a shard records about the whole run (core::ShardInfo).
core::ShardInfo ShardInfoFor(const Shard& shard, const std::vector<harness::TargetSpec>& targets,
                             const std::vector<const CaseDef*>& selected);

// Runs one shard's plan: each of its targets with its own cases (through
// engine::Run), `options.jobs` targets at once; results in the run's order
// (targets in order, each target's cases in run order). A plan with no target
// gives a report with no results (core::ExitCodeFor: nothing ran). The
// report's `shard` is left for the caller (ShardInfoFor).
core::RunReport RunPlan(const std::vector<CaseDef>& catalog, const ShardPlan& plan,
                        const RunOptions& options);

}  // namespace streamcheck::engine
