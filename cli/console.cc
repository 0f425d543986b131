#include "cli/console.h"

#include <cstdio>
#include <map>
#include <ostream>
#include <string>

namespace streamcheck::cli {
namespace {

using reports::Outcome;

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
std::string KeyFigures(const reports::CaseResult& r) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty()) out += (out.empty() ? "" : "  ") + s;
  };
  if (r.area == "direct") add(Figure(r.metrics, "bytes", "%.0f bytes"));
  add(Figure(r.metrics, "mib_per_s", "%.1f MiB/s"));
  add(Figure(r.metrics, "rss_growth_mib", "RSS +%.1f MiB"));
  if (r.area == "chat") add(Figure(r.metrics, "first_event_ms", "first event %.1f ms"));
  add(Figure(r.metrics, "backend_cancelled_after_ms", "backend cancelled after %.0f ms"));
  return out;
}

}  // namespace

void PrintCaseLine(std::ostream& out, const reports::CaseResult& r, bool show_target) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%8.0f ms", r.duration_ms);
  out << Pad(Label(r.outcome), 6) << (show_target ? Pad(r.target, 15) : "") << Pad(r.case_id, 32)
      << Pad(std::string(reports::ToString(r.level)), 7) << duration;
  std::string figures = KeyFigures(r);
  if (!figures.empty()) out << "  " << figures;
  out << "\n";
  if (r.outcome != Outcome::kPass && !r.message.empty()) {
    std::string message = r.message;
    std::size_t at = 0;
    while ((at = message.find('\n', at)) != std::string::npos) message.replace(at++, 1, "\n      ");
    out << "      " << message << "\n";
  }
  out.flush();
}

void PrintMatrix(std::ostream& out, const reports::RunReport& report) {
  std::map<std::pair<std::string, std::string>, const reports::CaseResult*> cells;
  for (const auto& r : report.results) cells[{r.case_id, r.target}] = &r;
  out << "\n" << Pad("case", 32) << Pad("level", 8);
  for (const auto& t : report.targets) out << Pad(t.name, 16);
  out << "\n";
  for (const auto& c : report.catalog) {
    bool any = false;
    for (const auto& t : report.targets) any = any || cells.count({c.id, t.name});
    if (!any) continue;
    out << Pad(c.id, 32) << Pad(std::string(reports::ToString(c.level)), 8);
    for (const auto& t : report.targets) {
      auto it = cells.find({c.id, t.name});
      out << Pad(it == cells.end() ? "-" : Label(it->second->outcome), 16);
    }
    out << "\n";
  }
}

void PrintSummary(std::ostream& out, const reports::RunReport& report) {
  std::map<Outcome, int> counts;
  for (const auto& r : report.results) counts[r.outcome]++;
  out << "\n";
  for (const auto& t : report.targets) {
    if (!t.problem.empty()) out << "target " << t.name << ": " << t.problem << "\n";
  }
  char line[200];
  std::snprintf(line, sizeof line,
                "%zu results on %zu target(s): %d pass, %d fail, %d warn, %d skip, %d error in "
                "%.1f s",
                report.results.size(), report.targets.size(), counts[Outcome::kPass],
                counts[Outcome::kFail], counts[Outcome::kWarn], counts[Outcome::kSkip],
                counts[Outcome::kError], report.duration_ms / 1000);
  out << line << "\n";
  int code = reports::ExitCodeFor(report);
  out << (code == 0   ? "verdict: every MUST case passed"
          : code == 1 ? "verdict: a MUST case failed"
                      : "verdict: a case could not run or a target could not start")
      << " (exit " << code << ")\n";
}

}  // namespace streamcheck::cli
