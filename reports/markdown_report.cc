#include <algorithm>
#include <string>
#include <vector>

#include "reports/render_common.h"
#include "reports/writers.h"

namespace streamcheck::reports {
namespace {

using internal::MarkdownInline;

constexpr std::size_t kMessageBytes = 500;

// Upper case for the outcomes that fail the run, so they stand out.
std::string CellWord(const CaseResult& r) {
  if (r.outcome == Outcome::kFail && r.level == Level::kMust) return "FAIL";
  return std::string(ToString(r.outcome));
}

// A case ID as code when it can be, escaped text otherwise.
std::string Id(const std::string& id) {
  if (id.find_first_of("`|\n\r") == std::string::npos && !id.empty()) return "`" + id + "`";
  return MarkdownInline(id, 200);
}

void Totals(std::string& out, const RunReport& report, std::size_t targets, std::size_t cases) {
  const auto c = internal::CountOutcomes(report);
  out += std::to_string(targets) + (targets == 1 ? " target, " : " targets, ") +
         std::to_string(cases) + (cases == 1 ? " case: " : " cases: ") + std::to_string(c.pass) +
         " pass, " + std::to_string(c.fail) + " fail, " + std::to_string(c.error) + " error, " +
         std::to_string(c.warn) + " warn (SHOULD misses), " + std::to_string(c.skip) + " skip.";
  const core::GateCounts g = core::CountGate(report);
  if (report.gate.strict) out += " --strict: SHOULD misses fail the run.";
  if (g.accepted > 0) {
    out += " " + std::to_string(g.accepted) + " known failures accepted by " +
           MarkdownInline(report.gate.baseline, 200) + ".";
  }
  if (g.now_passes > 0) {
    out += " " + std::to_string(g.now_passes) + " listed failures now pass (remove them from " +
           MarkdownInline(report.gate.baseline, 200) + ").";
  }
  if (!report.tool_version.empty()) {
    out += " " + MarkdownInline(report.tool_name + " " + report.tool_version, 100) + ".";
  }
  if (!report.started_at.empty()) out += " Started " + MarkdownInline(report.started_at, 60);
  if (report.duration_ms > 0) {
    out += (report.started_at.empty() ? " Took " : ", took ") +
           internal::FormatNumber(report.duration_ms / 1000.0, 1) + " s.";
  } else if (!report.started_at.empty()) {
    out += ".";
  }
  out += "\n\n";
}

}  // namespace

namespace {

// Which shards of a sharded run this report holds (engine/shard.h, reports/merge.h).
std::string ShardLine(const core::ShardInfo& shard) {
  auto name = [&](int i) { return std::to_string(i) + "/" + std::to_string(shard.count); };
  std::string held, missing;
  for (int i = 0; i < shard.count; ++i) {
    const bool here =
        std::find(shard.indexes.begin(), shard.indexes.end(), i) != shard.indexes.end();
    std::string& list = here ? held : missing;
    list += (list.empty() ? "" : ", ") + name(i);
  }
  std::string line = shard.indexes.size() == 1 ? "Shard " + held + " of a sharded run"
                                               : "Merged from shards " + held;
  if (shard.indexes.size() > 1 && missing.empty()) line += " (every shard)";
  if (!missing.empty() && shard.indexes.size() > 1) line += "; missing: " + missing;
  return line + ".\n\n";
}

}  // namespace

std::string ToMarkdown(const RunReport& report) {
  const internal::Matrix m = internal::BuildMatrix(report);
  std::string out =
      "## " + MarkdownInline(report.tool_name.empty() ? "streamcheck" : report.tool_name, 100) +
      ": " + std::string(internal::Verdict(report)) + "\n\n";
  Totals(out, report, m.targets.size(), m.cases.size());
  if (report.shard) out += ShardLine(*report.shard);

  if (!m.cases.empty()) {
    out += "| case | level |";
    for (const auto& t : m.targets) out += " " + MarkdownInline(t, 100) + " |";
    out += "\n|:--|:--|";
    for (std::size_t i = 0; i < m.targets.size(); ++i) out += ":--|";
    out += "\n";
    std::string area;
    for (std::size_t c = 0; c < m.cases.size(); ++c) {
      const auto& row = m.cases[c];
      if (c == 0 || row.area != area) {
        area = row.area;
        out += "| **" + MarkdownInline(area, 100) + "** | |";
        for (std::size_t i = 0; i < m.targets.size(); ++i) out += " |";
        out += "\n";
      }
      out += "| " + Id(row.id) + " | " + std::string(ToString(row.level)) + " |";
      for (std::size_t t = 0; t < m.targets.size(); ++t) {
        const CaseResult* r = m.Find(c, t);
        if (r == nullptr) {
          out += " - |";
          continue;
        }
        const std::string figures = internal::KeyFigures(r->metrics);
        const std::string runs = internal::RunsCell(*r);
        out += " " + CellWord(*r) + (runs.empty() ? "" : " " + runs) +
               (figures.empty() ? "" : " " + MarkdownInline(figures)) + " |";
      }
      out += "\n";
    }
    out += "\n";
  }

  // Failures first, then errors, then warnings; matrix order within each.
  std::vector<std::string> items;
  for (const auto& t : report.targets) {
    if (t.problem.empty()) continue;
    items.push_back("- **error** target " + MarkdownInline(t.name, 100) + ": " +
                    MarkdownInline(t.problem, kMessageBytes));
  }
  for (const Outcome outcome : {Outcome::kFail, Outcome::kError, Outcome::kWarn}) {
    for (std::size_t c = 0; c < m.cases.size(); ++c) {
      for (std::size_t t = 0; t < m.targets.size(); ++t) {
        for (const auto& r : report.results) {
          // Every result, repeats included, in matrix order.
          if (r.outcome != outcome || r.case_id != m.cases[c].id || r.target != m.targets[t]) {
            continue;
          }
          const std::string note = core::GateNote(r, report.gate);
          items.push_back(
              "- **" + CellWord(r) + "** " + MarkdownInline(r.target, 100) + " " + Id(r.case_id) +
              " (" + std::string(ToString(r.level)) +
              "): " + (note.empty() ? "" : "*" + MarkdownInline(note, 300) + "* ") +
              MarkdownInline(r.message.empty() ? "(no message)" : r.message, kMessageBytes));
        }
      }
    }
  }
  out += "### Failures\n\n";
  if (items.empty()) {
    out += "None.\n";
  } else {
    for (const auto& item : items) out += item + "\n";
  }
  // Listed failures that pass: the baseline wants an edit.
  std::string stale;
  for (const auto& r : report.results) {
    if (core::GateOf(r, report.gate).effect != core::GateEffect::kNowPasses) continue;
    stale += "- " + MarkdownInline(r.target, 100) + " " + Id(r.case_id) + ": " +
             MarkdownInline(core::GateNote(r, report.gate), 300) + "\n";
  }
  if (!stale.empty()) out += "\n### Now passing\n\n" + stale;
  return out;
}

}  // namespace streamcheck::reports
