// What `run` prints: one line per case as it finishes (whole lines, also when
// several targets run at once), a matrix when several targets ran, how each
// target was stopped when that is news, and a summary with the verdict.
// While a case runs: on a terminal one status line, redrawn (elapsed time,
// bytes or events so far); elsewhere a line every `heartbeat` for a case still
// running. Text from servers is printed with its non-printable bytes escaped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <iosfwd>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "core/model.h"
#include "engine/engine.h"

namespace streamcheck::cli {

struct ConsoleOptions {
  bool show_target = false;  // several targets: a target column
  bool quiet = false;        // only failures, warnings, errors, baseline notes and the summary
  bool verbose = false;      // each exchange under its case line
  bool color = false;        // ANSI colours
  bool live = false;         // a status line redrawn in place (a terminal)
  int width = 100;           // the terminal's columns, for the status line
  std::chrono::milliseconds heartbeat{10'000};  // off a terminal: "still running" this often
  std::chrono::milliseconds redraw{250};        // on a terminal: the status line this often
  const core::GateSettings* gate = nullptr;     // for the baseline's notes
};

// `text` safe for a terminal: valid UTF-8 other than control characters as it
// is, newlines kept, tabs as spaces, every other byte (ESC, other controls,
// invalid UTF-8) as \xNN.
std::string ConsoleText(std::string_view text);

void PrintCaseLine(std::ostream& out, const core::CaseResult& result,
                   const ConsoleOptions& options);
void PrintMatrix(std::ostream& out, const core::RunReport& report, bool color = false);
void PrintSummary(std::ostream& out, const core::RunReport& report, bool color = false);

// The engine's observer for the console.
class ConsoleObserver : public engine::RunObserver {
 public:
  ConsoleObserver(std::ostream& out, ConsoleOptions options);
  ~ConsoleObserver() override;
  ConsoleObserver(const ConsoleObserver&) = delete;
  ConsoleObserver& operator=(const ConsoleObserver&) = delete;

  void TargetStarting(const harness::TargetSpec& spec) override;
  void TargetStopped(const core::TargetSummary& target) override;
  void CaseRunning(const std::string& target, const core::CaseInfo& info,
                   const engine::CaseProgress& progress) override;
  void CaseFinished(const core::CaseResult& result) override;

  // Ends the status line and the ticker; printing after it is plain lines.
  void Finish();
  // Prints what is due at `now` (status line, "still running" lines); the
  // ticker thread calls it every `redraw` (terminal) or second.
  void TickAt(std::chrono::steady_clock::time_point now);

 private:
  struct Running {
    std::string target, case_id;
    std::chrono::steady_clock::time_point started, last_heartbeat;
    const engine::CaseProgress* progress = nullptr;
  };
  void Tick();
  void Emit(const std::string& text);  // with mutex_ held: text above the status line
  std::string StatusLine(std::chrono::steady_clock::time_point now) const;
  std::string Dedup(const core::CaseResult& result);

  std::ostream& out_;
  ConsoleOptions options_;
  std::mutex mutex_;  // one line (or block) at a time
  std::condition_variable wake_;
  bool done_ = false;
  bool status_shown_ = false;
  std::map<std::pair<std::string, std::string>, Running> running_;
  // Per target: cases a stop kept from starting, and why.
  std::map<std::string, std::pair<int, std::string>> not_reached_;
  // Per target: log tails already printed, so a crashed target's shows once.
  std::map<std::string, std::set<std::string>> tails_;
  std::thread ticker_;
};

}  // namespace streamcheck::cli
