// Several saved runs as one (`streamcheck report --merge A.json B.json ...`):
// the shards of one sharded run (`run --shard I/N`, engine/shard.h), or whole
// runs of other targets or cases. A pure function of the reports; the CLI
// reads the files, copies the logs and writes every format. The merged report
// is an ordinary results document: `report` renders it and `--merge` takes it
// again.
//
// Refused, with an error that names both files:
// - two inputs that report the same (target, case): a shard given twice, or
//   overlapping runs; except cases that judge liveness (below);
// - two inputs that hold the same shard (both "1/3");
// - runs whose catalogs differ (CatalogVersion: another build's cases);
// - shards of different runs: another N, or another selection (--target,
//   --cases); a shard mixed with an unsharded run;
// - runs gated differently (--strict, --expect): gate the merge instead.
//
// Liveness rule: a case that judges liveness (server.survives) runs on every
// shard that tests its target, so several shards report it. Its merged result
// is the worst of them — fail or warn over error over not-run over skip over
// pass, the first shard's on a tie — with that shard named in the message and
// every shard's outcome in the evidence note: the target survived only if it
// survived on every shard.
//
// Missing results: every (target, case) the sharded run selected that no
// input reported becomes an `error` result saying which shards were not
// merged, so the merged run is not green (core::ExitCodeFor: exit 3) and
// never claims a case ran that no shard ran. The merged report lists them
// (core::ShardInfo::unreported), so a later merge with the missing shards
// replaces them: merging shards 0 and 1 of 3, then that with shard 2, is the
// whole run.
//
// Everything else follows the rules of a single run: the merged verdict and
// exit status are core::ExitCodeFor's of the merged report; it is interrupted
// when an input was (the first one's interruption); it starts at the earliest
// start and lasts as long as the longest input; a target that several inputs
// tested has one summary (the first input's URL and spec, every input's
// problem and stop).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "core/model.h"

namespace streamcheck::reports {

struct MergeInput {
  std::string label;  // how errors name it: its file
  core::RunReport report;
};

struct MergeOptions {
  // Cases that judge liveness, for inputs that do not say (unsharded runs);
  // a shard's own list (core::ShardInfo::liveness) is used as well.
  std::vector<std::string> liveness;
};

// One input's log of one target, for the CLI to gather.
struct MergedLog {
  std::string target;
  std::string from;  // "shard 1/3" or the input's label
  std::string path;  // as the input's report names it
};

struct Merged {
  core::RunReport report;
  std::vector<std::string> missing;  // "target case" that no input reported, in run order
  std::vector<int> missing_shards;   // shard indexes no input held
  std::vector<MergedLog> logs;
  std::vector<std::string> notes;  // what the merge did worth saying (liveness results joined, ...)
};

// A short fingerprint of a catalog (12 hex digits of SHA-256 over every
// case's facts): runs with the same version ran the same cases.
std::string CatalogVersion(const std::vector<core::CaseInfo>& catalog);

Result<Merged> Merge(const std::vector<MergeInput>& inputs, const MergeOptions& options = {});

}  // namespace streamcheck::reports
