// What changed between two runs, or between two targets (`streamcheck report
// --compare OLD.json NEW.json`, `--compare-targets flask fastapi`): every case
// whose outcome changed, and every metric that moved by more than a
// threshold, each marked better, worse or just changed. A pure function of
// two reports; the CLI prints ComparisonText and exits 1 on a regression.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "core/model.h"

namespace streamcheck::reports {

struct CompareOptions {
  // Which targets to compare: a target of `before` with one of `after` (both
  // set), or (both empty) every target name the two have in common, or, when
  // they share none and each has exactly one target, those two.
  std::string before_target;
  std::string after_target;
  // A metric is shown when it moved by more than this fraction of its old
  // value (0.2: 20%) and by more than its noise floor (MetricRule); < 0: no
  // metrics are compared.
  double metric_threshold = 0.2;
};

// How a metric is read: which way is better, and the smallest move that is
// not noise (in the metric's unit).
struct MetricRule {
  int better = 0;  // +1 higher is better, -1 lower is better, 0 neither
  double floor = 0;
};
MetricRule RuleFor(const std::string& metric);

struct OutcomeChange {
  std::string before_target, after_target, case_id;
  core::Level level = core::Level::kMust;
  core::Outcome before = core::Outcome::kPass, after = core::Outcome::kPass;
  int direction = 0;    // +1 better, -1 worse (a regression), 0 neither
  std::string message;  // the after result's message (or the before's, when it got better)
};

struct MetricMove {
  std::string before_target, after_target, case_id, metric;
  double before = 0, after = 0;
  int direction = 0;  // +1 better, -1 worse (a regression), 0 neither
};

struct Comparison {
  std::vector<std::pair<std::string, std::string>> targets;  // (before, after) pairs
  std::vector<OutcomeChange> changes;
  std::vector<MetricMove> moves;
  std::vector<std::string> only_before, only_after;  // "target case" not in the other
  double metric_threshold = 0.2;
  int regressions() const;
  int improvements() const;
};

// An outcome is worse when it went from pass to warn, fail or error, from
// warn to fail or error, from fail to error, or from a judged outcome (pass,
// warn, fail) to skip or not-run (no longer measured). Errors when a named
// target is missing or no targets can be paired.
Result<Comparison> Compare(const core::RunReport& before, const core::RunReport& after,
                           const CompareOptions& options);

// The comparison for the console; `before_label` and `after_label` name the
// two runs (their files).
std::string ComparisonText(const Comparison& comparison, const std::string& before_label,
                           const std::string& after_label);

}  // namespace streamcheck::reports
