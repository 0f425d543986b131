#include "cli/console.h"

#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>
#include <string>

#include "core/verdict.h"

namespace streamcheck::cli {
namespace {

using core::Outcome;

std::string Label(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kWarn:
      return "WARN";
    case Outcome::kSkip:
      return "SKIP";
    case Outcome::kError:
      return "ERROR";
    case Outcome::kNotRun:
      return "NOTRUN";
  }
  return "?";
}

std::string Pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string Figure(const nlohmann::json& metrics, const char* key, const char* format) {
  if (!metrics.contains(key) || !metrics[key].is_number()) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, metrics[key].get<double>());
  return buf;
}

// The figures worth a glance: bytes, throughput, memory, time to first event.
std::string KeyFigures(const core::CaseResult& r) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty()) out += (out.empty() ? "" : "  ") + s;
  };
  if (r.area == "direct") add(Figure(r.metrics, "bytes", "%.0f bytes"));
  add(Figure(r.metrics, "mib_per_s", "%.1f MiB/s"));
  add(Figure(r.metrics, "pss_growth_mib", "PSS +%.1f MiB"));
  add(Figure(r.metrics, "rss_growth_mib", "RSS +%.1f MiB"));
  if (r.area == "chat") add(Figure(r.metrics, "first_event_ms", "first event %.1f ms"));
  add(Figure(r.metrics, "backend_cancelled_after_ms", "backend cancelled after %.0f ms"));
  return out;
}

}  // namespace

void PrintCaseLine(std::ostream& out, const core::CaseResult& r, bool show_target) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%8.0f ms", r.duration_ms);
  out << Pad(Label(r.outcome), 7) << (show_target ? Pad(r.target, 15) : "") << Pad(r.case_id, 32)
      << Pad(std::string(core::ToString(r.level)), 7) << duration;
  std::string figures = KeyFigures(r);
  if (!figures.empty()) out << "  " << figures;
  out << "\n";
  if (r.outcome != Outcome::kPass && !r.message.empty()) {
    std::string message = r.message;
    std::size_t at = 0;
    while ((at = message.find('\n', at)) != std::string::npos)
      message.replace(at++, 1, "\n       ");
    out << "       " << message << "\n";
  }
  out.flush();
}

void PrintMatrix(std::ostream& out, const core::RunReport& report) {
  std::map<std::pair<std::string, std::string>, const core::CaseResult*> cells;
  for (const auto& r : report.results) cells[{r.case_id, r.target}] = &r;
  out << "\n" << Pad("case", 32) << Pad("level", 8);
  for (const auto& t : report.targets) out << Pad(t.name, 16);
  out << "\n";
  for (const auto& c : report.catalog) {
    bool any = false;
    for (const auto& t : report.targets) any = any || cells.count({c.id, t.name});
    if (!any) continue;
    out << Pad(c.id, 32) << Pad(std::string(core::ToString(c.level)), 8);
    for (const auto& t : report.targets) {
      auto it = cells.find({c.id, t.name});
      out << Pad(it == cells.end() ? "-" : Label(it->second->outcome), 16);
    }
    out << "\n";
  }
}

void PrintSummary(std::ostream& out, const core::RunReport& report) {
  std::map<Outcome, int> counts;
  for (const auto& r : report.results) counts[r.outcome]++;
  out << "\n";
  for (const auto& t : report.targets) {
    if (!t.problem.empty()) out << "target " << t.name << ": " << t.problem << "\n";
  }
  if (report.interrupted) out << "interrupted: " << report.interrupted->reason << "\n";
  char line[240];
  std::snprintf(line, sizeof line,
                "%zu results on %zu target(s): %d pass, %d fail, %d warn, %d skip, %d error, "
                "%d not run in %.1f s",
                report.results.size(), report.targets.size(), counts[Outcome::kPass],
                counts[Outcome::kFail], counts[Outcome::kWarn], counts[Outcome::kSkip],
                counts[Outcome::kError], counts[Outcome::kNotRun], report.duration_ms / 1000);
  out << line << "\n" << core::VerdictLine(report) << "\n";
}

void ConsoleObserver::TargetStarting(const harness::TargetSpec& spec) {
  std::lock_guard lock(mutex_);
  out_ << "-- starting target " << spec.name << "\n" << std::flush;
}

void ConsoleObserver::TargetStopped(const core::TargetSummary& t) {
  std::ostringstream text;
  {
    std::lock_guard lock(mutex_);
    auto it = not_reached_.find(t.name);
    if (it != not_reached_.end()) {
      text << "-- " << it->second.first << " more case(s) of " << t.name
           << " not run: " << it->second.second << "\n";
      not_reached_.erase(it);
    }
  }
  const auto& s = t.stop;
  if (s.needed_kill) text << "-- target " << t.name << " ignored SIGTERM and was killed\n";
  for (const auto& p : s.leftovers_killed) {
    text << "-- target " << t.name << " left " << p
         << " outside its process group (setsid or a double fork); killed it\n";
  }
  if (s.left_behind) {
    text << "-- target " << t.name << ": processes of it survived SIGKILL; check for them\n";
  }
  if (text.str().empty()) return;
  std::lock_guard lock(mutex_);
  out_ << text.str() << std::flush;
}

void ConsoleObserver::CaseFinished(const core::CaseResult& result) {
  // Cases a stop kept from starting are counted, not listed one by one.
  constexpr std::string_view kNotReached = "not run: ";
  if (result.outcome == Outcome::kNotRun && result.message.rfind(kNotReached, 0) == 0) {
    std::lock_guard lock(mutex_);
    auto& [count, reason] = not_reached_[result.target];
    ++count;
    reason = result.message.substr(kNotReached.size());
    return;
  }
  std::ostringstream line;
  PrintCaseLine(line, result, show_target_);
  std::lock_guard lock(mutex_);
  out_ << line.str() << std::flush;
}

}  // namespace streamcheck::cli
