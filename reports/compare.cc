#include "reports/compare.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "reports/render_common.h"

namespace streamcheck::reports {
namespace {

using core::Outcome;

bool Measured(Outcome o) { return o != Outcome::kSkip && o != Outcome::kNotRun; }

int Severity(Outcome o) {
  switch (o) {
    case Outcome::kPass:
      return 0;
    case Outcome::kWarn:
      return 1;
    case Outcome::kFail:
      return 2;
    case Outcome::kError:
      return 3;
    default:
      return -1;
  }
}

int Direction(Outcome before, Outcome after) {
  if (Measured(before) && Measured(after)) {
    const int d = Severity(before) - Severity(after);
    return d > 0 ? 1 : d < 0 ? -1 : 0;
  }
  if (Measured(before)) return before == Outcome::kError ? 0 : -1;  // no longer measured
  if (Measured(after)) return after == Outcome::kPass ? 1 : -1;     // newly measured
  return 0;
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::string> TargetNames(const core::RunReport& report) {
  std::vector<std::string> names;
  std::set<std::string> seen;
  for (const auto& t : report.targets) {
    if (seen.insert(t.name).second) names.push_back(t.name);
  }
  for (const auto& r : report.results) {
    if (seen.insert(r.target).second) names.push_back(r.target);
  }
  return names;
}

Result<std::vector<std::pair<std::string, std::string>>> PairTargets(
    const core::RunReport& before, const core::RunReport& after, const CompareOptions& options) {
  const auto old_names = TargetNames(before);
  const auto new_names = TargetNames(after);
  auto has = [](const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  auto list = [](const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s.empty() ? std::string("none") : s;
  };
  if (!options.before_target.empty() || !options.after_target.empty()) {
    if (!has(old_names, options.before_target)) {
      return Error{"no target \"" + options.before_target + "\" in the first run (it has " +
                   list(old_names) + ")"};
    }
    if (!has(new_names, options.after_target)) {
      return Error{"no target \"" + options.after_target + "\" in the second run (it has " +
                   list(new_names) + ")"};
    }
    return std::vector<std::pair<std::string, std::string>>{
        {options.before_target, options.after_target}};
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& n : old_names) {
    if (has(new_names, n)) pairs.emplace_back(n, n);
  }
  if (pairs.empty() && old_names.size() == 1 && new_names.size() == 1) {
    pairs.emplace_back(old_names[0], new_names[0]);
  }
  if (pairs.empty()) {
    return Error{"the runs have no target in common (" + list(old_names) + " / " + list(new_names) +
                 "); name the two with --compare-targets BEFORE AFTER"};
  }
  return pairs;
}

std::map<std::string, const core::CaseResult*> ResultsOf(const core::RunReport& report,
                                                         const std::string& target) {
  std::map<std::string, const core::CaseResult*> out;
  for (const auto& r : report.results) {
    if (r.target == target) out.emplace(r.case_id, &r);
  }
  return out;
}

std::string Percent(double before, double after) {
  if (before == 0) return after == 0 ? "0%" : "new";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.0f%%", (after - before) / std::fabs(before) * 100);
  return buf;
}

std::string Pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + " ";
}

const char* Word(int direction) {
  return direction > 0 ? "better" : direction < 0 ? "REGRESSION" : "changed";
}

}  // namespace

MetricRule RuleFor(const std::string& metric) {
  if (metric == "mib_per_s") return {+1, 5};
  if (metric == "rss_growth_mib") return {-1, 4};
  if (metric == "failed_streams") return {-1, 1};
  if (EndsWith(metric, "_ms")) return {-1, 50};
  return {0, 1};
}

int Comparison::regressions() const {
  int n = 0;
  for (const auto& c : changes) n += c.direction < 0;
  for (const auto& m : moves) n += m.direction < 0;
  return n;
}

int Comparison::improvements() const {
  int n = 0;
  for (const auto& c : changes) n += c.direction > 0;
  for (const auto& m : moves) n += m.direction > 0;
  return n;
}

Result<Comparison> Compare(const core::RunReport& before, const core::RunReport& after,
                           const CompareOptions& options) {
  auto pairs = PairTargets(before, after, options);
  if (!pairs) return Error{pairs.error()};
  Comparison out;
  out.targets = *pairs;
  out.metric_threshold = options.metric_threshold;
  for (const auto& [old_target, new_target] : out.targets) {
    const auto olds = ResultsOf(before, old_target);
    const auto news = ResultsOf(after, new_target);
    for (const auto& [id, o] : olds) {
      if (!news.count(id)) out.only_before.push_back(old_target + " " + id);
    }
    for (const auto& [id, n] : news) {
      auto it = olds.find(id);
      if (it == olds.end()) {
        out.only_after.push_back(new_target + " " + id);
        continue;
      }
      const core::CaseResult& o = *it->second;
      if (o.outcome != n->outcome) {
        OutcomeChange c{old_target,
                        new_target,
                        id,
                        n->level,
                        o.outcome,
                        n->outcome,
                        Direction(o.outcome, n->outcome),
                        ""};
        c.message = c.direction > 0 ? o.message : n->message;
        out.changes.push_back(std::move(c));
      }
      if (options.metric_threshold < 0 || !o.metrics.is_object() || !n->metrics.is_object()) {
        continue;
      }
      for (const auto& [metric, value] : n->metrics.items()) {
        double b = 0, a = 0;
        if (!internal::NumberMetric(o.metrics, metric.c_str(), &b) ||
            !internal::NumberMetric(n->metrics, metric.c_str(), &a)) {
          continue;
        }
        const MetricRule rule = RuleFor(metric);
        const double delta = a - b;
        if (std::fabs(delta) < rule.floor) continue;
        if (b != 0 && std::fabs(delta) / std::fabs(b) <= options.metric_threshold) continue;
        const int direction = rule.better == 0 ? 0 : (delta > 0) == (rule.better > 0) ? 1 : -1;
        out.moves.push_back({old_target, new_target, id, metric, b, a, direction});
      }
    }
  }
  return out;
}

std::string ComparisonText(const Comparison& c, const std::string& before_label,
                           const std::string& after_label) {
  std::string out;
  for (const auto& [b, a] : c.targets) {
    out += "comparing " + b + " in " + before_label + " with " + a + " in " + after_label + "\n";
  }
  const bool renamed = c.targets.size() > 1;
  auto who = [&](const std::string& b, const std::string& a) {
    return renamed ? Pad(b == a ? b : b + "->" + a, 16) : std::string();
  };
  out += "\noutcome changes: " + std::to_string(c.changes.size()) + "\n";
  for (const auto& ch : c.changes) {
    out +=
        "  " + who(ch.before_target, ch.after_target) + Pad(ch.case_id, 30) +
        Pad(std::string(core::ToString(ch.level)), 6) +
        Pad(std::string(core::ToString(ch.before)) + " -> " + std::string(core::ToString(ch.after)),
            18) +
        Word(ch.direction) + "\n";
    if (!ch.message.empty()) out += "      " + internal::OneLine(ch.message, 240) + "\n";
  }
  if (c.metric_threshold >= 0) {
    char threshold[32];
    std::snprintf(threshold, sizeof threshold, "%g%%", c.metric_threshold * 100);
    out += "\nmetrics that moved by more than " + std::string(threshold) + ": " +
           std::to_string(c.moves.size()) + "\n";
    for (const auto& m : c.moves) {
      out += "  " + who(m.before_target, m.after_target) + Pad(m.case_id, 30) + Pad(m.metric, 26) +
             Pad(internal::FormatNumber(m.before, 1) + " -> " + internal::FormatNumber(m.after, 1),
                 22) +
             Pad(Percent(m.before, m.after), 7) + Word(m.direction) + "\n";
    }
  }
  auto only = [&](const std::vector<std::string>& ids, const std::string& where) {
    if (ids.empty()) return;
    out += "\nonly in " + where + " (not compared): " + std::to_string(ids.size()) + ":";
    for (const auto& id : ids) out += " " + id + ";";
    out.back() = '\n';
  };
  only(c.only_before, before_label);
  only(c.only_after, after_label);
  const int regressions = c.regressions();
  out +=
      "\n" + std::to_string(regressions) + (regressions == 1 ? " regression, " : " regressions, ") +
      std::to_string(c.improvements()) + " better (exit " + (regressions > 0 ? "1" : "0") + ")\n";
  return out;
}

}  // namespace streamcheck::reports
