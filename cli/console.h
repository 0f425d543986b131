// What `run` prints: one line per case as it finishes (whole lines, also when
// several targets run at once), a matrix when several targets ran, how each
// target was stopped when that is news, and a summary with the verdict.
#pragma once

#include <iosfwd>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "core/model.h"
#include "engine/engine.h"

namespace streamcheck::cli {

void PrintCaseLine(std::ostream& out, const core::CaseResult& result, bool show_target);
void PrintMatrix(std::ostream& out, const core::RunReport& report);
void PrintSummary(std::ostream& out, const core::RunReport& report);

// The engine's observer for the console.
class ConsoleObserver : public engine::RunObserver {
 public:
  ConsoleObserver(std::ostream& out, bool show_target) : out_(out), show_target_(show_target) {}
  void TargetStarting(const harness::TargetSpec& spec) override;
  void TargetStopped(const core::TargetSummary& target) override;
  void CaseFinished(const core::CaseResult& result) override;

 private:
  std::ostream& out_;
  bool show_target_;
  std::mutex mutex_;  // one line (or block) at a time
  // Per target: cases a stop kept from starting, and why.
  std::map<std::string, std::pair<int, std::string>> not_reached_;
};

}  // namespace streamcheck::cli
