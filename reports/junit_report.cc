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

// Only a MUST failure fails the run (ExitCodeFor), so only it is a JUnit failure.
bool IsJunitFailure(const CaseResult& r) {
  return r.outcome == Outcome::kFail && r.level == Level::kMust;
}

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

void Property(std::string& out, std::string_view indent, std::string_view name,
              std::string_view value) {
  out += indent;
  out += "<property name=\"" + Attr(name) + "\" value=\"" + Attr(value) + "\"/>\n";
}

void TestCase(std::string& out, const CaseResult& r, SuiteCounts& counts) {
  const std::string area = r.area.empty() ? internal::AreaOf(r.case_id) : r.area;
  counts.tests++;
  counts.ms += std::isfinite(r.duration_ms) && r.duration_ms > 0 ? r.duration_ms : 0;
  out += "    <testcase classname=\"" + Attr(area) + "\" name=\"" + Attr(r.case_id) + "\" time=\"" +
         internal::Seconds(r.duration_ms) + "\">\n";
  out += "      <properties>\n";
  Property(out, "        ", "level", ToString(r.level));
  Property(out, "        ", "outcome", ToString(r.outcome));
  out += "      </properties>\n";

  std::vector<std::string> lines;  // for <system-out>
  const std::string level(ToString(r.level));
  switch (r.outcome) {
    case Outcome::kFail:
      if (IsJunitFailure(r)) {
        counts.failures++;
        out += "      <failure type=\"MUST\" message=\"" + Attr(r.message) + "\">" +
               Text(r.message) + "</failure>\n";
      } else {
        lines.push_back("FAIL (" + level + "): " + r.message);
      }
      break;
    case Outcome::kWarn:
      lines.push_back("WARN (" + level + "): " + r.message);
      break;
    case Outcome::kSkip:
    case Outcome::kNotRun:
      counts.skipped++;
      out += "      <skipped message=\"" + Attr(r.message) + "\"/>\n";
      break;
    case Outcome::kError:
      counts.errors++;
      out += "      <error type=\"error\" message=\"" + Attr(r.message) + "\">" + Text(r.message) +
             "</error>\n";
      break;
    case Outcome::kPass:
      if (!r.message.empty()) lines.push_back(r.message);
      break;
  }
  if (r.metrics.is_object() && !r.metrics.empty()) {
    lines.push_back("metrics: " +
                    r.metrics.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (!lines.empty()) {
    std::string text;
    for (const auto& line : lines) text += line + "\n";
    out += "      <system-out>" + Text(text) + "</system-out>\n";
  }
  out += "    </testcase>\n";
}

}  // namespace

std::string ToJunitXml(const RunReport& report) {
  const internal::Matrix matrix = internal::BuildMatrix(report);
  const std::string timestamp = JunitTimestamp(report.started_at);

  // Results in matrix order (stable: repeats of a case keep their order).
  std::vector<const CaseResult*> ordered;
  for (const auto& r : report.results) ordered.push_back(&r);
  std::unordered_map<std::string, std::size_t> rank;
  for (std::size_t i = 0; i < matrix.cases.size(); ++i) rank.emplace(matrix.cases[i].id, i);
  std::stable_sort(ordered.begin(), ordered.end(), [&](const CaseResult* a, const CaseResult* b) {
    return rank.at(a->case_id) < rank.at(b->case_id);
  });

  std::string suites;
  SuiteCounts total;
  for (const auto& name : matrix.targets) {
    const TargetSummary* target = nullptr;
    for (const auto& t : report.targets) {
      if (t.name == name) target = &t;
    }
    std::string cases;
    SuiteCounts counts;
    for (const CaseResult* r : ordered) {
      if (r->target == name) TestCase(cases, *r, counts);
    }
    const bool has_problem = target != nullptr && !target->problem.empty();
    if (has_problem && counts.tests == 0) {
      // Without a test case a suite's error is invisible in most CI views.
      counts.tests++, counts.errors++;
      cases += "    <testcase classname=\"target\" name=\"target.start\" time=\"0.000\">\n";
      cases += "      <error type=\"error\" message=\"" + Attr(target->problem) + "\">" +
               Text(target->problem) + "</error>\n";
      cases += "    </testcase>\n";
    }

    suites += "  <testsuite name=\"" + Attr(name) + "\" tests=\"" + std::to_string(counts.tests) +
              "\" failures=\"" + std::to_string(counts.failures) + "\" errors=\"" +
              std::to_string(counts.errors) + "\" skipped=\"" + std::to_string(counts.skipped) +
              "\" time=\"" + internal::Seconds(counts.ms) + "\"";
    if (!timestamp.empty()) suites += " timestamp=\"" + timestamp + "\"";
    suites += ">\n";
    if (target != nullptr) {
      std::string features;
      for (const auto& f : target->features) features += (features.empty() ? "" : ",") + f;
      suites += "    <properties>\n";
      Property(suites, "      ", "url", target->url);
      Property(suites, "      ", "features", features);
      Property(suites, "      ", "managed", target->managed ? "true" : "false");
      if (!target->log_path.empty()) Property(suites, "      ", "log", target->log_path);
      suites += "    </properties>\n";
    }
    suites += cases;
    if (has_problem)
      suites += "    <system-err>" + Text(target->problem + "\n") + "</system-err>\n";
    suites += "  </testsuite>\n";
    total.Add(counts);
  }

  const double run_ms = report.duration_ms > 0 ? report.duration_ms : total.ms;
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"" + Attr(report.tool_name.empty() ? "streamcheck" : report.tool_name) +
         "\" tests=\"" + std::to_string(total.tests) + "\" failures=\"" +
         std::to_string(total.failures) + "\" errors=\"" + std::to_string(total.errors) +
         "\" skipped=\"" + std::to_string(total.skipped) + "\" time=\"" +
         internal::Seconds(run_ms) + "\"";
  if (!timestamp.empty()) out += " timestamp=\"" + timestamp + "\"";
  out += ">\n" + suites + "</testsuites>\n";
  return out;
}

}  // namespace streamcheck::reports
