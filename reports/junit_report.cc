#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "reports/render_common.h"
#include "reports/writers.h"

namespace streamcheck::reports {
namespace {

using core::GateEffect;
using internal::OneLine;
using internal::XmlEscape;

std::string Attr(std::string_view text) { return XmlEscape(text, true); }
std::string Text(std::string_view text) { return XmlEscape(text, false); }

struct SuiteCounts {
  int tests = 0, failures = 0, errors = 0, skipped = 0;
  double ms = 0;
  void Add(const SuiteCounts& o) {
    tests += o.tests, failures += o.failures, errors += o.errors, skipped += o.skipped;
    ms += o.ms;
  }
};

// "2024-05-01T12:00:00" from an ISO 8601 started_at, the form JUnit readers
// expect (no fraction, no zone); "" when started_at does not start that way.
std::string JunitTimestamp(const std::string& started_at) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (started_at.size() < kShape.size()) return "";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char c = started_at[i];
    if (kShape[i] == 'd' ? (c < '0' || c > '9') : c != kShape[i]) return "";
  }
  return started_at.substr(0, kShape.size());
}

void Property(std::string& out, std::string_view name, std::string_view value) {
  out += "      <property name=\"" + Attr(name) + "\" value=\"" + Attr(value) + "\"/>\n";
}

// The one-line verdict of a result: level, case, target and the message.
std::string Headline(const CaseResult& r, std::string_view what) {
  std::string line = std::string(ToString(r.level)) + " " + r.case_id + " " + std::string(what) +
                     " on " + r.target;
  if (!r.message.empty()) line += ": " + r.message;
  return OneLine(line, 400);
}

// Under --repeat: how many runs passed, and each run that did not ("" for a
// case run once).
std::string RunsText(const CaseResult& r) {
  if (!r.repeated()) return "";
  std::string out = core::RunsLine(r) + "\n";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const auto& run = r.runs[i];
    if (run.outcome == Outcome::kPass) continue;
    out += "  run " + std::to_string(i + 1) + ": " + std::string(ToString(run.outcome)) +
           (run.message.empty() ? "" : ": " + run.message) + "\n";
  }
  return out;
}

// Everything a reader needs below the headline: the full message, each
// failure with the exchange it was judged on, the other exchanges, the note,
// the metrics, the log, and how to reproduce it.
std::string Details(const RunReport& report, const CaseResult& r, const std::string& title,
                    const std::string& gate_note) {
  std::string out = r.case_id + " (" + std::string(ToString(r.level)) + ") on " + r.target + ": " +
                    std::string(ToString(r.outcome)) + "\n";
  if (!title.empty()) out += "passing means: " + title + "\n";
  if (!gate_note.empty()) out += gate_note + "\n";
  out += RunsText(r);
  const auto& exchanges = r.evidence.exchanges;
  std::vector<bool> shown(exchanges.size(), false);
  if (!r.failures.empty()) {
    for (std::size_t i = 0; i < r.failures.size(); ++i) {
      const auto& f = r.failures[i];
      out += "\nfailure " + std::to_string(i + 1) + ": " + f.message + "\n";
      if (f.exchange >= 0 && static_cast<std::size_t>(f.exchange) < exchanges.size()) {
        out += "  judged on exchange " + std::to_string(f.exchange + 1) + ":\n";
        out += internal::ExchangeText(exchanges[static_cast<std::size_t>(f.exchange)], "    ");
        shown[static_cast<std::size_t>(f.exchange)] = true;
      }
    }
  } else if (!r.message.empty()) {
    out += "\n" + r.message + "\n";
  }
  for (std::size_t i = 0; i < exchanges.size(); ++i) {
    if (shown[i]) continue;
    out += "\nexchange " + std::to_string(i + 1) + ":\n" +
           internal::ExchangeText(exchanges[i], "    ");
  }
  if (r.evidence.exchanges_dropped > 0) {
    out += "(" + std::to_string(r.evidence.exchanges_dropped) + " more exchanges not recorded)\n";
  }
  if (!r.evidence.note.empty()) out += "\nnote: " + r.evidence.note + "\n";
  if (r.metrics.is_object() && !r.metrics.empty()) {
    out +=
        "\nmetrics: " + r.metrics.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
        "\n";
  }
  if (const TargetSummary* t = internal::FindTarget(report, r.target);
      t != nullptr && !t->log_path.empty()) {
    out += "target log: " + t->log_path + "\n";
  }
  out += "\nreproduce:\n";
  for (const auto& line : internal::ReproduceLines(report, r)) out += "  " + line + "\n";
  return out;
}

void TestCase(std::string& out, const RunReport& report, const CaseResult& r,
              const std::string& title, SuiteCounts& counts) {
  const std::string area = r.area.empty() ? internal::AreaOf(r.case_id) : r.area;
  counts.tests++;
  counts.ms += std::isfinite(r.duration_ms) && r.duration_ms > 0 ? r.duration_ms : 0;
  out += "    <testcase classname=\"" + Attr(r.target + "." + area) + "\" name=\"" +
         Attr(r.case_id) + "\" time=\"" + internal::Seconds(r.duration_ms) + "\">\n";

  const core::Gated gated = core::GateOf(r, report.gate);
  const std::string note = core::GateNote(r, report.gate);
  auto element = [&](const char* tag, const std::string& type, const std::string& headline) {
    out += std::string("      <") + tag + " type=\"" + Attr(type) + "\" message=\"" +
           Attr(headline) + "\">" + Text(Details(report, r, title, note)) + "</" + tag + ">\n";
  };
  std::string system_out;  // for results that do not fail the suite
  switch (gated.effect) {
    case GateEffect::kMustFailed:
      counts.failures++;
      element("failure", "MUST", Headline(r, "failed"));
      break;
    case GateEffect::kStrictFailed:
      counts.failures++;
      element("failure", "SHOULD (--strict)", Headline(r, "missed (--strict)"));
      break;
    case GateEffect::kNowPasses:
      if (report.gate.strict) {
        counts.failures++;
        element("failure", "baseline (--strict)",
                OneLine(r.case_id + " on " + r.target + ": " + note));
      } else {
        system_out = "NOW PASSES: " + note + "\n";
      }
      break;
    case GateEffect::kErrored:
      counts.errors++;
      element("error", "error", Headline(r, "could not run"));
      break;
    case GateEffect::kAccepted:
      if (r.outcome == Outcome::kWarn) {
        system_out = "SHOULD MISS (" + note + "): " + r.message + "\n";
      } else {
        // Accepted, so it does not fail the suite; a skip keeps it in sight.
        counts.skipped++;
        out += "      <skipped message=\"" + Attr(OneLine(note + "; " + Headline(r, "failed"))) +
               "\"/>\n";
        system_out = Details(report, r, title, note);
      }
      break;
    case GateEffect::kShouldMissed:
      system_out = "SHOULD MISS (warn; --strict makes it a failure): " + r.message + "\n\n" +
                   Details(report, r, title, "");
      break;
    case GateEffect::kNone:
      if (r.outcome == Outcome::kSkip || r.outcome == Outcome::kNotRun) {
        counts.skipped++;
        out += "      <skipped message=\"" + Attr(OneLine(r.message)) + "\"/>\n";
      } else if (!r.message.empty()) {
        system_out = std::string(ToString(r.level)) + ": " + r.message + "\n";
      }
      system_out = RunsText(r) + system_out;
      break;
  }
  if (system_out.empty() && r.metrics.is_object() && !r.metrics.empty()) {
    system_out =
        "metrics: " + r.metrics.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
        "\n";
  }
  if (!system_out.empty()) out += "      <system-out>" + Text(system_out) + "</system-out>\n";
  out += "    </testcase>\n";
}

// The suite's one summary line, SHOULD misses and the baseline's effect
// included: the line a CI view shows for the suite's output.
std::string SummaryLine(const RunReport& report, const std::string& target) {
  int pass = 0, skip = 0;
  std::vector<std::string> must, should, strict, errors, accepted, now_passes;
  for (const auto& r : report.results) {
    if (r.target != target) continue;
    switch (core::GateOf(r, report.gate).effect) {
      case GateEffect::kMustFailed:
        must.push_back(r.case_id);
        break;
      case GateEffect::kShouldMissed:
        should.push_back(r.case_id);
        break;
      case GateEffect::kStrictFailed:
        strict.push_back(r.case_id);
        break;
      case GateEffect::kErrored:
        errors.push_back(r.case_id);
        break;
      case GateEffect::kAccepted:
        accepted.push_back(r.case_id);
        break;
      case GateEffect::kNowPasses:
        now_passes.push_back(r.case_id);
        break;
      case GateEffect::kNone:
        if (r.outcome == Outcome::kPass) ++pass;
        if (r.outcome == Outcome::kSkip || r.outcome == Outcome::kNotRun) ++skip;
        break;
    }
  }
  auto list = [](const std::vector<std::string>& ids, const char* one, const char* many) {
    std::string s = std::to_string(ids.size()) + " " + (ids.size() == 1 ? one : many);
    for (std::size_t i = 0; i < ids.size(); ++i) s += (i == 0 ? " (" : ", ") + ids[i];
    return ids.empty() ? s : s + ")";
  };
  std::string line = target + ": " + std::to_string(pass) + " pass, " +
                     list(must, "MUST failure", "MUST failures") + ", " +
                     list(should, "SHOULD miss (warn)", "SHOULD misses (warn)");
  if (!strict.empty())
    line += ", " + list(strict, "SHOULD miss failing under --strict",
                        "SHOULD misses failing under --strict");
  if (!accepted.empty()) {
    line += ", " + list(accepted, "known failure", "known failures") + " accepted by " +
            report.gate.baseline;
  }
  if (!now_passes.empty())
    line +=
        ", " + list(now_passes, "listed failure that now passes", "listed failures that now pass");
  line += ", " + list(errors, "error", "errors") + ", " + std::to_string(skip) + " skipped";
  return line;
}

}  // namespace

std::string ToJunitXml(const RunReport& report) {
  const internal::Matrix matrix = internal::BuildMatrix(report);
  const std::string timestamp = JunitTimestamp(report.started_at);

  // Results in matrix order (stable: repeats of a case keep their order).
  std::vector<const CaseResult*> ordered;
  for (const auto& r : report.results) ordered.push_back(&r);
  std::unordered_map<std::string, std::size_t> rank;
  std::unordered_map<std::string, std::string> titles;
  for (std::size_t i = 0; i < matrix.cases.size(); ++i) {
    rank.emplace(matrix.cases[i].id, i);
    titles.emplace(matrix.cases[i].id, matrix.cases[i].title);
  }
  std::stable_sort(ordered.begin(), ordered.end(), [&](const CaseResult* a, const CaseResult* b) {
    return rank.at(a->case_id) < rank.at(b->case_id);
  });

  std::string suites;
  SuiteCounts total;
  for (std::size_t index = 0; index < matrix.targets.size(); ++index) {
    const std::string& name = matrix.targets[index];
    const TargetSummary* target = internal::FindTarget(report, name);
    std::string cases;
    SuiteCounts counts;
    for (const CaseResult* r : ordered) {
      if (r->target == name) TestCase(cases, report, *r, titles[r->case_id], counts);
    }
    const bool has_problem = target != nullptr && !target->problem.empty();
    if (has_problem && counts.tests == 0) {
      // Without a test case a suite's error is invisible in most CI views.
      counts.tests++, counts.errors++;
      cases += "    <testcase classname=\"" + Attr(name + ".target") +
               "\" name=\"target.start\" time=\"0.000\">\n";
      cases += "      <error type=\"error\" message=\"" +
               Attr(OneLine("target " + name + " could not be started: " + target->problem)) +
               "\">" + Text(target->problem) + "</error>\n";
      cases += "    </testcase>\n";
    }

    suites += "  <testsuite name=\"" + Attr(name) + "\" tests=\"" + std::to_string(counts.tests) +
              "\" failures=\"" + std::to_string(counts.failures) + "\" errors=\"" +
              std::to_string(counts.errors) + "\" skipped=\"" + std::to_string(counts.skipped) +
              "\" time=\"" + internal::Seconds(counts.ms) + "\"";
    if (!timestamp.empty()) suites += " timestamp=\"" + timestamp + "\"";
    suites += " id=\"" + std::to_string(index) + "\" package=\"streamcheck\">\n";
    suites += "    <properties>\n";
    if (target != nullptr) {
      std::string features;
      for (const auto& f : target->features) features += (features.empty() ? "" : ",") + f;
      Property(suites, "url", target->url);
      Property(suites, "features", features);
      Property(suites, "managed", target->managed ? "true" : "false");
      if (!target->spec.empty()) Property(suites, "spec", target->spec);
      if (!target->log_path.empty()) Property(suites, "log", target->log_path);
    }
    Property(suites, "strict", report.gate.strict ? "true" : "false");
    if (!report.gate.baseline.empty()) Property(suites, "baseline", report.gate.baseline);
    suites += "    </properties>\n";
    suites += cases;
    suites += "    <system-out>" + Text(SummaryLine(report, name) + "\n") + "</system-out>\n";
    suites +=
        "    <system-err>" + Text(has_problem ? target->problem + "\n" : "") + "</system-err>\n";
    suites += "  </testsuite>\n";
    total.Add(counts);
  }

  const double run_ms = report.duration_ms > 0 ? report.duration_ms : total.ms;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"" + Attr(report.tool_name.empty() ? "streamcheck" : report.tool_name) +
         "\" tests=\"" + std::to_string(total.tests) + "\" failures=\"" +
         std::to_string(total.failures) + "\" errors=\"" + std::to_string(total.errors) +
         "\" time=\"" + internal::Seconds(run_ms) + "\">\n" + suites + "</testsuites>\n";
  return out;
}

}  // namespace streamcheck::reports
