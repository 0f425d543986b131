// Runs the catalog against targets as one GoogleTest run: each (target, case)
// is a registered test, each target's cases one test suite. A target is started
// (with its own mock backend) before its first case and stopped after its last.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "harness/target_spec.h"
#include "reports/results.h"
#include "suites/catalog.h"

namespace streamcheck::suites {

struct RunOptions {
  std::vector<harness::TargetSpec> targets;
  std::string filter;  // comma-separated globs over case IDs; empty: every case
  CaseOptions case_options;
  std::filesystem::path root;     // {root}
  std::filesystem::path bin;      // {bin}
  std::filesystem::path log_dir;  // one <target>.log each
  std::string version;
  // Live progress, for the console: a case finished; a target is starting.
  std::function<void(const reports::CaseResult&)> on_result;
  std::function<void(const std::string&)> on_progress;
};

// Runs every selected case on every target. Never throws; a target that cannot
// start gives `error` results and a TargetSummary.problem.
reports::RunReport RunCatalog(const RunOptions& options);

}  // namespace streamcheck::suites
