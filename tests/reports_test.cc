// Tests of the report writers (reports/writers.h) on a synthetic run with
// three targets, every outcome, timelines, and hostile strings.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "reports/baseline.h"
#include "reports/compare.h"
#include "reports/render_common.h"
#include "reports/results.h"
#include "reports/writers.h"

namespace streamcheck::reports {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using json = nlohmann::json;

// Markup, CDATA end, script end, comment start, control bytes, UTF-8.
const std::string kNasty =
    "expected [DONE] last; saw <b>&amp;</b> \"q\" 'a' ]]> </script><!--<script> x|y *z* $1 "
    "\x01\x02\x1b\x7f tab\there caf\xC3\xA9 \xF0\x9F\x9A\x80";

constexpr std::uint64_t kMiB = 1024 * 1024;

std::vector<TimelinePoint> Streaming() {
  std::vector<TimelinePoint> points;
  for (int i = 1; i <= 20; ++i) points.push_back({5.0 * i, i * 5 * kMiB, 0});
  return points;
}

std::vector<TimelinePoint> Buffered() {
  std::vector<TimelinePoint> points;
  for (int i = 1; i <= 9; ++i) points.push_back({100.0 * i, 0, 0});
  points.push_back({1000.0, 100 * kMiB, 0});
  return points;
}

CaseResult Make(std::string target, std::string case_id, Level level, Outcome outcome,
                std::string message = "") {
  CaseResult r;
  r.target = std::move(target);
  r.case_id = std::move(case_id);
  r.area = r.case_id.substr(0, r.case_id.find('.'));
  r.level = level;
  r.outcome = outcome;
  r.message = std::move(message);
  r.duration_ms = 12.0;
  return r;
}

CaseInfo Info(std::string id, std::string area, Level level, std::string title) {
  CaseInfo c;
  c.id = std::move(id);
  c.area = std::move(area);
  c.level = level;
  c.title = std::move(title);
  return c;
}

TargetSummary Target(std::string name, std::string url, std::vector<std::string> features,
                     bool managed, std::string log, std::string problem) {
  TargetSummary t;
  t.name = std::move(name);
  t.url = std::move(url);
  t.features = std::move(features);
  t.managed = managed;
  t.log_path = std::move(log);
  t.problem = std::move(problem);
  return t;
}

// cpp passes everything; flask fails two MUST cases and misses a SHOULD;
// fastapi has an error and a skip. One case ("extra.custom") is not in the
// catalog and ran on cpp only; one catalog case ("chat.usage") never ran.
RunReport SampleReport() {
  RunReport report;
  report.tool_version = "0.1.0";
  report.started_at = "2024-05-01T12:34:56.789Z";
  report.duration_ms = 12345.6;
  report.catalog = {
      Info("chat.status", "chat", Level::kMust, "a valid streaming request gets 200"),
      Info("chat.done-terminator", "chat", Level::kMust, "data: [DONE] arrives <once> & last"),
      Info("chat.no-cache", "chat", Level::kShould, "Cache-Control: no-cache"),
      Info("chat.incremental", "chat", Level::kMust,
           "the first event arrives before the gate opens"),
      Info("chat.usage", "chat", Level::kShould, "usage chunk before [DONE]"),
      Info("chat.framing", "chat", Level::kInfo, "HTTP framing"),
      Info("direct.large-get", "direct", Level::kMust, "100 MiB arrive intact"),
      Info("direct.memory-bounded", "direct", Level::kMust, "RSS grows by at most 64 MiB"),
      Info("server.ready", "server", Level::kMust, "the readiness path answers 200"),
  };
  report.targets = {
      Target("cpp", "http://127.0.0.1:40123", {"chat", "direct_access"}, true, "/tmp/cpp.log", ""),
      Target("flask", "http://127.0.0.1:40124", {"chat", "direct_access"}, true, "/tmp/flask.log",
             ""),
      Target("fastapi", "http://127.0.0.1:40125", {"chat"}, false, "", ""),
  };
  const std::vector<std::string> targets = {"cpp", "flask", "fastapi"};
  // Results deliberately not in catalog order: server first.
  for (const auto& t : targets) {
    report.results.push_back(Make(t, "server.ready", Level::kMust, Outcome::kPass));
  }
  for (const auto& t : targets) {
    report.results.push_back(Make(t, "chat.status", Level::kMust, Outcome::kPass));
    if (t == "flask") {
      CaseResult r = Make(t, "chat.done-terminator", Level::kMust, Outcome::kFail, kNasty);
      core::Exchange x;
      x.label = "streaming chat request";
      x.request = "POST /v1/chat/completions";
      x.request_body = "{\"stream\":true}";
      x.status = 200;
      x.response_headers = {{"Content-Type", "text/event-stream; charset=utf-8"},
                            {"X_Request_ID", "</script><script>alert(1)</script>"}};
      x.first_events = {"{\"id\":\"c1\",\"choices\":[]}", kNasty};
      x.last_events = {"{\"id\":\"c1\"}"};
      r.evidence.exchanges.push_back(x);
      r.failures = {{kNasty, 0}};
      r.evidence.note = "connection closed <early>";
      report.results.push_back(r);
    } else {
      report.results.push_back(Make(t, "chat.done-terminator", Level::kMust, Outcome::kPass));
    }
    report.results.push_back(
        Make(t, "chat.no-cache", Level::kShould, t == "flask" ? Outcome::kWarn : Outcome::kPass,
             t == "flask" ? "expected Cache-Control: no-cache, saw none" : ""));
    CaseResult incremental = Make(t, "chat.incremental", Level::kMust, Outcome::kPass);
    for (int i = 1; i <= 10; ++i) {
      incremental.evidence.timeline.push_back(
          {10.0 * i, static_cast<std::uint64_t>(100 * i), static_cast<std::uint64_t>(i)});
    }
    report.results.push_back(incremental);
    CaseResult framing = Make(t, "chat.framing", Level::kInfo, Outcome::kPass);
    framing.metrics = {{"http_version", "1.1"}, {"first_event_ms", 3.5}};
    report.results.push_back(framing);

    CaseResult large = Make(t, "direct.large-get", Level::kMust, Outcome::kPass);
    CaseResult memory = Make(t, "direct.memory-bounded", Level::kMust, Outcome::kPass);
    if (t == "cpp") {
      large.metrics = {{"bytes", 100 * kMiB}, {"mib_per_s", 1480.4}};
      large.evidence.timeline = Streaming();
      memory.metrics = {{"rss_growth_mib", 2.1}};
    } else if (t == "flask") {
      large.metrics = {{"bytes", 100 * kMiB}, {"mib_per_s", 95.2}};
      large.evidence.timeline = Buffered();
      memory.outcome = Outcome::kFail;
      memory.message = "expected RSS growth <= 64 MiB, saw 180.4 MiB";
      memory.metrics = {{"rss_growth_mib", 180.4}};
    } else {
      large.outcome = Outcome::kError;
      large.message = "could not run: connection refused & reset";
      memory.outcome = Outcome::kSkip;
      memory.message = "not started by streamcheck: memory not measured";
    }
    report.results.push_back(large);
    report.results.push_back(memory);
  }
  report.results.push_back(Make("cpp", "extra.custom", Level::kInfo, Outcome::kPass, "custom"));
  return report;
}

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// A unique path under the test temp folder, removed with its folder at exit.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("reports_test_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" +
             info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[4096];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) result.output.append(buf, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string JunitSchema() {
  return std::string(STREAMCHECK_SOURCE_ROOT) + "/tests/reports/junit.xsd";
}

// The schema Jenkins' xunit plugin validates JUnit files with.
std::string JenkinsSchema() {
  return std::string(STREAMCHECK_SOURCE_ROOT) + "/tests/reports/jenkins-junit.xsd";
}

// Runs xmllint on `xml` with `schema`. Exit code 3 means the document does
// not validate; 5 that the schema itself does not compile.
CommandResult ValidateJunit(const std::string& xml, const std::string& schema = JunitSchema()) {
  CommandResult result;
  if (RunCommand("command -v xmllint").exit_code != 0) {
    result.output = "xmllint not found: install libxml2-utils to validate the JUnit XML";
    return result;
  }
  if (!std::filesystem::exists(schema)) {
    result.output = "schema missing: " + schema;
    return result;
  }
  TempDir dir;
  const std::string file = dir.File("junit.xml");
  if (const Status s = WriteFile(file, xml); !s.ok()) {
    result.output = s.message();
    return result;
  }
  return RunCommand("xmllint --noout --schema " + ShellQuote(schema) + " " + ShellQuote(file));
}

// Valid against both: the project's strict schema and Jenkins'.
::testing::AssertionResult ValidatesAgainstJunitSchema(const std::string& xml) {
  for (const std::string& schema : {JunitSchema(), JenkinsSchema()}) {
    const CommandResult r = ValidateJunit(xml, schema);
    if (r.exit_code != 0) {
      return ::testing::AssertionFailure() << schema << ": xmllint exit " << r.exit_code << ":\n"
                                           << r.output;
    }
  }
  return ::testing::AssertionSuccess();
}

// The text of the first `<tag ...>` element whose start tag contains `marker`.
std::string Element(const std::string& xml, const std::string& marker, const std::string& tag) {
  const auto start = xml.find(marker);
  if (start == std::string::npos) return "";
  const auto end = xml.find("</" + tag + ">", start);
  return end == std::string::npos ? xml.substr(start) : xml.substr(start, end - start);
}

// --- JSON ----------------------------------------------------------------------

TEST(JsonReportTest, HasDesignShape) {
  const json j = ToJson(SampleReport());
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  EXPECT_EQ(keys, (std::set<std::string>{"tool", "started_at", "duration_ms", "targets", "results",
                                         "catalog"}));
  EXPECT_EQ(j["tool"], (json{{"name", "streamcheck"}, {"version", "0.1.0"}}));
  EXPECT_EQ(j["started_at"], "2024-05-01T12:34:56.789Z");
  EXPECT_DOUBLE_EQ(j["duration_ms"].get<double>(), 12345.6);

  ASSERT_EQ(j["targets"].size(), 3u);
  EXPECT_EQ(j["targets"][0], (json{{"name", "cpp"},
                                   {"url", "http://127.0.0.1:40123"},
                                   {"features", {"chat", "direct_access"}},
                                   {"managed", true},
                                   {"log", "/tmp/cpp.log"}}));
  EXPECT_FALSE(j["targets"][2]["managed"].get<bool>());

  ASSERT_EQ(j["results"].size(), 25u);
  for (const auto& r : j["results"]) {
    for (const char* key : {"target", "case", "area", "level", "outcome", "message", "duration_ms",
                            "metrics", "evidence"}) {
      EXPECT_TRUE(r.contains(key)) << key << " missing in " << r.dump();
    }
    EXPECT_TRUE(r["metrics"].is_object());
    EXPECT_TRUE(r["evidence"].is_object());
    EXPECT_THAT(r["outcome"].get<std::string>(),
                ::testing::AnyOf("pass", "fail", "warn", "skip", "error"));
  }
  const json* large = nullptr;
  const json* terminator = nullptr;
  for (const auto& r : j["results"]) {
    if (r["target"] == "cpp" && r["case"] == "direct.large-get") large = &r;
    if (r["target"] == "flask" && r["case"] == "chat.done-terminator") terminator = &r;
  }
  ASSERT_NE(large, nullptr);
  EXPECT_EQ((*large)["level"], "MUST");
  EXPECT_EQ((*large)["outcome"], "pass");
  EXPECT_EQ((*large)["area"], "direct");
  EXPECT_DOUBLE_EQ((*large)["duration_ms"].get<double>(), 12.0);
  EXPECT_EQ((*large)["metrics"]["bytes"], 100 * kMiB);
  EXPECT_DOUBLE_EQ((*large)["metrics"]["mib_per_s"].get<double>(), 1480.4);
  EXPECT_EQ((*large)["evidence"]["timeline"][0], (json{5.0, 5 * kMiB, 0}));

  ASSERT_NE(terminator, nullptr);
  EXPECT_EQ((*terminator)["outcome"], "fail");
  EXPECT_EQ((*terminator)["message"], kNasty);
  const json& ev = (*terminator)["evidence"]["exchanges"][0];
  EXPECT_EQ(ev["status"], 200);
  EXPECT_EQ(ev["response_headers"][0], (json{"Content-Type", "text/event-stream; charset=utf-8"}));
  EXPECT_EQ(ev["first_events"].size(), 2u);
  EXPECT_FALSE(ev.contains("timeline"));  // only fields that are set
}

TEST(JsonReportTest, RoundTripsThroughText) {
  const RunReport original = SampleReport();
  const std::string text = ToJsonString(original);
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  // The documented key order.
  EXPECT_LT(text.find("\"tool\""), text.find("\"started_at\""));
  EXPECT_LT(text.find("\"started_at\""), text.find("\"targets\""));
  EXPECT_LT(text.find("\"targets\""), text.find("\"results\""));

  const Result<RunReport> parsed = ParseJsonReport(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(ToJson(*parsed), ToJson(original));
  EXPECT_EQ(ToJsonString(*parsed), text);
  EXPECT_EQ(parsed->results[3].message, original.results[3].message);
  EXPECT_EQ(parsed->results.back().evidence.timeline.size(),
            original.results.back().evidence.timeline.size());
  EXPECT_EQ(parsed->catalog.size(), original.catalog.size());
  EXPECT_EQ(parsed->targets[1].log_path, "/tmp/flask.log");
}

TEST(JsonReportTest, AcceptsTheDesignExample) {
  const auto parsed = ParseJsonReport(R"({"tool": {"name": "streamcheck", "version": "1"},
    "targets": [{"name": "cpp", "url": "http://127.0.0.1:40123", "features": ["chat"]}],
    "results": [{"target": "cpp", "case": "direct.large-get", "level": "MUST",
                 "outcome": "pass", "message": "", "duration_ms": 212.0,
                 "metrics": {"bytes": 104857600, "mib_per_s": 1480.5}}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  ASSERT_EQ(parsed->results.size(), 1u);
  EXPECT_EQ(parsed->results[0].area, "direct");
  EXPECT_EQ(parsed->results[0].outcome, Outcome::kPass);
  EXPECT_DOUBLE_EQ(parsed->results[0].duration_ms, 212.0);
  EXPECT_EQ(parsed->results[0].metrics["bytes"], 104857600);
  EXPECT_TRUE(parsed->results[0].evidence.empty());
}

TEST(JsonReportTest, NamesTheFieldThatIsWrong) {
  const auto bad_outcome = ParseJsonReport(
      R"({"results": [{"target": "a", "case": "c.x", "level": "MUST", "outcome": "pass"},
                      {"target": "a", "case": "c.y", "level": "MUST", "outcome": "ok"}]})");
  ASSERT_FALSE(bad_outcome.ok());
  EXPECT_THAT(bad_outcome.error(), HasSubstr("results[1].outcome"));
  EXPECT_THAT(bad_outcome.error(), HasSubstr("\"ok\""));

  const auto no_results = ParseJsonReport(R"({"targets": []})");
  ASSERT_FALSE(no_results.ok());
  EXPECT_THAT(no_results.error(), HasSubstr("results: missing"));

  const auto bad_timeline = ParseJsonReport(
      R"({"results": [{"target": "a", "case": "c.x", "level": "MUST", "outcome": "pass",
                       "evidence": {"timeline": [[1, 2]]}}]})");
  ASSERT_FALSE(bad_timeline.ok());
  EXPECT_THAT(bad_timeline.error(), HasSubstr("results[0].evidence.timeline"));

  const auto not_json = ParseJsonReport("{\"results\": [");
  ASSERT_FALSE(not_json.ok());
  EXPECT_THAT(not_json.error(), HasSubstr("not valid JSON"));

  EXPECT_FALSE(ParseJsonReport("[]").ok());
}

TEST(JsonReportTest, ReplacesInvalidUtf8) {
  RunReport report = SampleReport();
  report.results[0].message = "bad \xC3\x28 and \xFF end";
  const std::string text = ToJsonString(report);  // must not throw
  const auto parsed = ParseJsonReport(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->results[0].message, "bad \xEF\xBF\xBD( and \xEF\xBF\xBD end");
}

TEST(JsonReportTest, LoadsASavedRun) {
  TempDir dir;
  const std::string path = dir.File("nested/run.json");
  ASSERT_TRUE(WriteFile(path, ToJsonString(SampleReport())).ok());
  const auto loaded = LoadJsonReport(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(ToJson(*loaded), ToJson(SampleReport()));

  const auto missing = LoadJsonReport(dir.File("absent.json"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), HasSubstr(dir.File("absent.json")));
}

// --- JUnit -------------------------------------------------------------------

TEST(JunitReportTest, CountsPerSuiteAndInTotal) {
  const std::string xml = ToJunitXml(SampleReport());
  EXPECT_THAT(xml, HasSubstr("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
  EXPECT_THAT(xml, HasSubstr("<testsuites name=\"streamcheck\" tests=\"25\" failures=\"2\" "
                             "errors=\"1\" time=\"12.346\">"));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"cpp\" tests=\"9\" failures=\"0\" errors=\"0\" "
                             "skipped=\"0\" time=\"0.108\" timestamp=\"2024-05-01T12:34:56\" "
                             "id=\"0\" package=\"streamcheck\">"));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"flask\" tests=\"8\" failures=\"2\" errors=\"0\" "
                             "skipped=\"0\""));
  EXPECT_THAT(xml, HasSubstr("<testsuite name=\"fastapi\" tests=\"8\" failures=\"0\" errors=\"1\" "
                             "skipped=\"1\""));
  EXPECT_EQ(Count(xml, "<testsuite "), 3u);
  EXPECT_EQ(Count(xml, "<testcase "), 25u);
  EXPECT_EQ(Count(xml, "<failure "), 2u);
  EXPECT_EQ(Count(xml, "<error "), 1u);
  EXPECT_EQ(Count(xml, "<skipped "), 1u);
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"cpp.direct\" name=\"direct.large-get\" "
                             "time=\"0.012\">"));
  EXPECT_THAT(xml, HasSubstr("<testcase classname=\"flask.direct\" name=\"direct.large-get\" "));
  EXPECT_THAT(xml, HasSubstr("<skipped message=\"not started by streamcheck: memory not "
                             "measured\"/>"));
  EXPECT_THAT(xml, HasSubstr("<error type=\"error\" message=\"MUST direct.large-get could not run "
                             "on fastapi: could not run: connection refused &amp; reset\">"));
  // INFO cases pass, with their metrics in <system-out>.
  EXPECT_THAT(xml, HasSubstr("<system-out>metrics: {\"first_event_ms\":3.5,\"http_version\":"
                             "\"1.1\"}\n</system-out>"));
}

// Regression: per-testcase <properties> are not in the schema Jenkins reads
// with (176 errors on a --target all run), and the classname was the area
// alone, so two targets' failures looked the same.
TEST(JunitReportTest, TestCasesNameTheTargetAndCarryNoProperties) {
  const std::string xml = ToJunitXml(SampleReport());
  std::size_t at = 0;
  while ((at = xml.find("<testcase ", at)) != std::string::npos) {
    const std::size_t end = xml.find("</testcase>", at);
    ASSERT_NE(end, std::string::npos);
    const std::string testcase = xml.substr(at, end - at);
    EXPECT_THAT(testcase, Not(HasSubstr("<properties>"))) << testcase;
    EXPECT_TRUE(std::regex_search(testcase, std::regex("classname=\"(cpp|flask|fastapi)\\.")))
        << testcase;
    at = end;
  }
}

TEST(JunitReportTest, AFailureMessageIsOneLineWithTheEvidenceBelow) {
  const std::string xml = ToJunitXml(SampleReport());
  const std::string failure = Element(xml, "message=\"MUST direct.memory-bounded", "failure");
  ASSERT_FALSE(failure.empty()) << xml;
  EXPECT_THAT(failure, HasSubstr("message=\"MUST direct.memory-bounded failed on flask: expected "
                                 "RSS growth &lt;= 64 MiB, saw 180.4 MiB\""));
  EXPECT_THAT(failure, HasSubstr("direct.memory-bounded (MUST) on flask: fail\n"));
  EXPECT_THAT(failure, HasSubstr("passing means: RSS grows by at most 64 MiB\n"));
  EXPECT_THAT(failure, HasSubstr("target log: /tmp/flask.log\n"));
  EXPECT_THAT(failure, HasSubstr("reproduce:\n  streamcheck run --target flask --cases "
                                 "direct.memory-bounded -v\n"));
  // The exchange a failure was judged on is shown under it.
  const std::string terminator = Element(xml, "message=\"MUST chat.done-terminator", "failure");
  EXPECT_THAT(terminator, HasSubstr("judged on exchange 1:\n    POST /v1/chat/completions "
                                    "(streaming chat request)\n    status 200, 0 bytes"));
  EXPECT_THAT(terminator, HasSubstr("streamcheck probe http://127.0.0.1:40124/v1/chat/completions "
                                    "-d '{\"stream\":true}'"));
}

TEST(JunitReportTest, AShouldMissIsVisibleButNotAFailure) {
  const std::string xml = ToJunitXml(SampleReport());
  const std::string warn =
      Element(xml, "classname=\"flask.chat\" name=\"chat.no-cache\"", "testcase");
  ASSERT_FALSE(warn.empty()) << xml;
  EXPECT_THAT(warn, HasSubstr("<system-out>SHOULD MISS (warn; --strict makes it a failure): "
                              "expected Cache-Control: no-cache, saw none\n"));
  EXPECT_THAT(warn, Not(HasSubstr("<failure")));
  EXPECT_THAT(warn, Not(HasSubstr("<error")));
  // Counted in the suite's summary line, with its ID.
  EXPECT_THAT(xml, HasSubstr("<system-out>flask: 5 pass, 2 MUST failures (chat.done-terminator, "
                             "direct.memory-bounded), 1 SHOULD miss (warn) (chat.no-cache), 0 "
                             "errors, 0 skipped\n</system-out>"));

  // A SHOULD case reported as fail does not fail the run either (ExitCodeFor).
  RunReport report;
  report.targets = {Target("cpp", "", {}, false, "", "")};
  report.results = {Make("cpp", "chat.role-first", Level::kShould, Outcome::kFail, "no role")};
  ASSERT_EQ(ExitCodeFor(report), 0);
  const std::string should_fail = ToJunitXml(report);
  EXPECT_THAT(should_fail, HasSubstr("failures=\"0\""));
  EXPECT_THAT(should_fail, HasSubstr("<system-out>SHOULD MISS (warn; --strict makes it a failure): "
                                     "no role\n"));
  EXPECT_TRUE(ValidatesAgainstJunitSchema(should_fail));
}

TEST(JunitReportTest, StrictMakesAShouldMissAFailure) {
  RunReport report = SampleReport();
  report.gate.strict = true;
  ASSERT_EQ(ExitCodeFor(report), 1);
  const std::string xml = ToJunitXml(report);
  const std::string warn =
      Element(xml, "classname=\"flask.chat\" name=\"chat.no-cache\"", "testcase");
  EXPECT_THAT(warn, HasSubstr("<failure type=\"SHOULD (--strict)\" message=\"SHOULD chat.no-cache "
                              "missed (--strict) on flask: expected Cache-Control: no-cache, saw "
                              "none\">"));
  EXPECT_EQ(Count(xml, "<failure "), 3u);
  EXPECT_THAT(xml, HasSubstr("<property name=\"strict\" value=\"true\"/>"));
  EXPECT_TRUE(ValidatesAgainstJunitSchema(xml));
}

TEST(JunitReportTest, ABaselineAcceptsItsOutcomeAndFlagsWhatNowPasses) {
  RunReport report = SampleReport();
  report.gate.baseline = "expect.yaml";
  report.gate.expected = {
      {"flask", "chat.done-terminator", Outcome::kFail, "drops [DONE] until v2"},
      {"flask", "direct.memory-bounded", Outcome::kFail, "buffers"},
      {"cpp", "chat.status", Outcome::kFail, "fixed since"},
  };
  EXPECT_EQ(ExitCodeFor(report), 3);  // fastapi's error is not listed
  const std::string xml = ToJunitXml(report);
  const std::string accepted =
      Element(xml, "classname=\"flask.chat\" name=\"chat.done-terminator\"", "testcase");
  EXPECT_THAT(accepted, HasSubstr("<skipped message=\"known fail, accepted by expect.yaml: drops "
                                  "[DONE] until v2; MUST chat.done-terminator failed on flask: "));
  EXPECT_THAT(accepted, Not(HasSubstr("<failure")));
  const std::string now = Element(xml, "classname=\"cpp.chat\" name=\"chat.status\"", "testcase");
  EXPECT_THAT(now, HasSubstr("<system-out>NOW PASSES: now passes: remove it from expect.yaml "
                             "(listed as fail: fixed since)\n"));
  EXPECT_EQ(Count(xml, "<failure "), 0u);
  EXPECT_TRUE(ValidatesAgainstJunitSchema(xml));
  report.gate.strict = true;
  const std::string strict = ToJunitXml(report);
  EXPECT_THAT(Element(strict, "classname=\"cpp.chat\" name=\"chat.status\"", "testcase"),
              HasSubstr("<failure type=\"baseline (--strict)\""));
}

TEST(JunitReportTest, EscapesMarkupAndDropsIllegalCharacters) {
  const std::string xml = ToJunitXml(SampleReport());
  const std::string failure =
      Element(xml, "<failure type=\"MUST\" message=\"MUST chat.done-terminator", "failure");
  ASSERT_FALSE(failure.empty()) << xml;
  // Attribute: one line, quotes escaped; text: markup and "]]>" escaped.
  EXPECT_THAT(failure, HasSubstr("saw &lt;b&gt;&amp;amp;&lt;/b&gt; &quot;q&quot; 'a' ]]&gt; "
                                 "&lt;/script&gt;&lt;!--&lt;script&gt;"));
  EXPECT_THAT(failure, HasSubstr("tab here caf\xC3\xA9 \xF0\x9F\x9A\x80\">"));
  EXPECT_THAT(failure, HasSubstr("\nfailure 1: expected [DONE] last; saw &lt;b&gt;"));
  // In the text, control bytes other than tab/LF/CR are dropped, DEL is legal XML 1.0.
  EXPECT_THAT(failure, HasSubstr("$1 \x7f tab\there"));
  for (const char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_FALSE(u < 0x20 && c != '\t' && c != '\n' && c != '\r') << "control byte " << int(u);
  }
  EXPECT_EQ(Count(xml, "]]>"), 0u);

  RunReport report = SampleReport();
  report.results[0].message = "bad \xC3\x28 utf-8 \xFF";
  report.results[0].outcome = Outcome::kError;
  EXPECT_THAT(ToJunitXml(report), HasSubstr("bad \xEF\xBF\xBD( utf-8 \xEF\xBF\xBD"));
  EXPECT_TRUE(ValidatesAgainstJunitSchema(ToJunitXml(report)));
}

// `run --repeat 10`: flask's chat.status passed 7 of 10 runs, cpp's 10 of 10.
RunReport RepeatedReport() {
  RunReport report = SampleReport();
  for (auto& r : report.results) {
    if (r.case_id != "chat.status" || r.target == "fastapi") continue;
    r.repeat = 10;
    for (int i = 1; i <= 10; ++i) {
      const bool flaky = r.target == "flask" && (i == 3 || i == 5 || i == 9);
      r.runs.push_back({flaky ? Outcome::kFail : Outcome::kPass,
                        flaky ? "expected 200, got 502 <" + std::to_string(i) + ">" : "", 4.0});
    }
    if (r.target == "flask") {
      r.outcome = Outcome::kFail;
      r.message = "passed 7 of 10 runs (fail in runs 3, 5, 9); run 3: expected 200, got 502 <3>";
    }
  }
  return report;
}

TEST(RepeatReportTest, EveryFormatSaysHowManyRunsPassed) {
  const RunReport report = RepeatedReport();
  const std::string text = ToJsonString(report);
  const json j = json::parse(text);
  bool seen = false;
  for (const auto& r : j["results"]) {
    if (r["case"] != "chat.status" || r["target"] != "flask") continue;
    seen = true;
    EXPECT_EQ(r["repeat"], 10);
    EXPECT_EQ(r["passed_runs"], 7);
    ASSERT_EQ(r["runs"].size(), 10u);
    EXPECT_EQ(r["runs"][2]["outcome"], "fail");
    EXPECT_EQ(r["runs"][2]["message"], "expected 200, got 502 <3>");
    EXPECT_FALSE(r["runs"][0].contains("message"));
  }
  EXPECT_TRUE(seen);
  // Read back as written.
  const auto parsed = ParseJsonReport(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(ToJsonString(*parsed), text);
  // Only the two repeated results have the keys.
  int repeats = 0;
  for (auto at = text.find("\"repeat\""); at != std::string::npos;
       at = text.find("\"repeat\"", at + 1)) {
    ++repeats;
  }
  EXPECT_EQ(repeats, 2);

  const std::string md = ToMarkdown(report);
  EXPECT_THAT(md, HasSubstr("FAIL 7/10 runs"));
  EXPECT_THAT(md, HasSubstr("pass 10/10 runs"));
  EXPECT_THAT(md, HasSubstr("passed 7 of 10 runs"));

  const std::string xml = ToJunitXml(report);
  EXPECT_TRUE(ValidatesAgainstJunitSchema(xml));
  EXPECT_THAT(xml, HasSubstr("message=\"MUST chat.status failed on flask: passed 7 of 10 runs"));
  EXPECT_THAT(xml,
              HasSubstr("7 of 10 runs passed\n  run 3: fail: expected 200, got 502 &lt;3&gt;"));
  EXPECT_THAT(xml, HasSubstr("<system-out>10 of 10 runs passed\n"));

  const std::string html = ToHtml(report);
  EXPECT_THAT(html, HasSubstr("<span class=\"runs\">7/10 runs</span>"));
  EXPECT_THAT(html, HasSubstr("<dt>runs</dt><dd>7 of 10 runs passed</dd>"));
  EXPECT_THAT(html, HasSubstr("<h4>Runs</h4>"));
  EXPECT_THAT(html, HasSubstr("expected 200, got 502 &lt;9&gt;"));
}

TEST(RepeatReportTest, RefusesRunsThatDoNotAddUp) {
  auto bad = ParseJsonReport(
      R"({"results": [{"target": "t", "case": "c.x", "level": "MUST", "outcome": "pass",
          "repeat": 1, "runs": [{"outcome": "pass"}, {"outcome": "pass"}]}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error(), HasSubstr("results[0].runs"));
  auto zero = ParseJsonReport(
      R"({"results": [{"target": "t", "case": "c.x", "level": "MUST", "outcome": "pass",
          "repeat": 0}]})");
  ASSERT_FALSE(zero.ok());
  EXPECT_THAT(zero.error(), HasSubstr("results[0].repeat"));
}

TEST(JunitReportTest, ValidatesAgainstSchema) {
  EXPECT_TRUE(ValidatesAgainstJunitSchema(ToJunitXml(SampleReport())));
  EXPECT_TRUE(ValidatesAgainstJunitSchema(ToJunitXml(RunReport{})));
}

TEST(JunitReportTest, TheJenkinsSchemaRejectsPropertiesInATestCase) {
  const std::string old =
      "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"cpp\" tests=\"1\" failures=\"0\" "
      "errors=\"0\"><testcase classname=\"direct\" name=\"direct.x\" time=\"0.1\"><properties>"
      "<property name=\"level\" value=\"MUST\"/></properties></testcase></testsuite>"
      "</testsuites>\n";
  const CommandResult r = ValidateJunit(old, JenkinsSchema());
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("properties"));
}

TEST(JunitReportTest, SchemaRejectsAMalformedReport) {
  // The validation must be able to fail: a suite without its counts, a bad time.
  const std::string bad =
      "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"x\"><testcase name=\"a\" "
      "classname=\"c\" time=\"1,5\"><failure/><skipped/></testcase></testsuite></testsuites>\n";
  const CommandResult r = ValidateJunit(bad);
  EXPECT_EQ(r.exit_code, 3) << r.output;
  EXPECT_THAT(r.output, HasSubstr("fails to validate"));
}

TEST(JunitReportTest, ShowsATargetThatCouldNotStart) {
  RunReport report;
  report.targets = {
      Target("flask", "", {"chat"}, true, "/tmp/flask.log", "exited with status 1 <oops>")};
  const std::string xml = ToJunitXml(report);
  EXPECT_THAT(xml, HasSubstr("tests=\"1\" failures=\"0\" errors=\"1\""));
  EXPECT_THAT(xml, HasSubstr("classname=\"flask.target\" name=\"target.start\""));
  EXPECT_THAT(xml, HasSubstr("<system-err>exited with status 1 &lt;oops&gt;\n</system-err>"));
  EXPECT_TRUE(ValidatesAgainstJunitSchema(xml));
}

// --- Markdown -----------------------------------------------------------------

TEST(MarkdownReportTest, ShowsVerdictMatrixAndFailures) {
  const std::string md = ToMarkdown(SampleReport());
  EXPECT_EQ(md.substr(0, md.find('\n')), "## streamcheck: FAIL");
  EXPECT_THAT(
      md,
      HasSubstr("3 targets, 9 cases: 20 pass, 2 fail, 1 error, 1 warn (SHOULD misses), 1 skip."));
  EXPECT_THAT(md, HasSubstr("| case | level | cpp | flask | fastapi |\n|:--|:--|:--|:--|:--|\n"));
  EXPECT_THAT(md, HasSubstr("| **chat** | | | | |\n| `chat.status` | MUST | pass | pass | pass |"));
  EXPECT_THAT(md, HasSubstr("| `chat.done-terminator` | MUST | pass | FAIL | pass |"));
  EXPECT_THAT(md, HasSubstr("| `chat.no-cache` | SHOULD | pass | warn | pass |"));
  EXPECT_THAT(md, HasSubstr("| `direct.large-get` | MUST | pass 1480 MiB/s | pass 95.2 MiB/s | "
                            "error |"));
  EXPECT_THAT(md, HasSubstr("| `direct.memory-bounded` | MUST | pass +2.1 MiB RSS | FAIL "
                            "+180.4 MiB RSS | skip |"));
  EXPECT_THAT(md, HasSubstr("| `extra.custom` | INFO | pass | - | - |"));
  EXPECT_THAT(md, Not(HasSubstr("chat.usage")));  // in the catalog, never ran
  // Areas in catalog order, whatever the order of the results.
  EXPECT_LT(md.find("**chat**"), md.find("**direct**"));
  EXPECT_LT(md.find("**direct**"), md.find("**server**"));
  EXPECT_LT(md.find("**server**"), md.find("**extra**"));

  const std::string failures = md.substr(md.find("### Failures"));
  EXPECT_THAT(failures, HasSubstr("- **FAIL** flask `chat.done-terminator` (MUST): expected "));
  EXPECT_THAT(failures, HasSubstr("- **FAIL** flask `direct.memory-bounded` (MUST): expected RSS "
                                  "growth \\<= 64 MiB, saw 180.4 MiB"));
  EXPECT_THAT(failures, HasSubstr("- **error** fastapi `direct.large-get` (MUST): could not run: "
                                  "connection refused \\& reset"));
  EXPECT_THAT(failures, HasSubstr("- **warn** flask `chat.no-cache` (SHOULD): expected "
                                  "Cache-Control: no-cache, saw none"));
  EXPECT_LT(failures.find("**FAIL**"), failures.find("**error**"));
  EXPECT_LT(failures.find("**error**"), failures.find("**warn**"));
  EXPECT_EQ(Count(failures, "\n- "), 4u);
}

TEST(MarkdownReportTest, EscapesAndFlattensMessages) {
  const std::string md = ToMarkdown(SampleReport());
  const auto line_start = md.find("- **FAIL** flask `chat.done-terminator`");
  ASSERT_NE(line_start, std::string::npos);
  const std::string line = md.substr(line_start, md.find('\n', line_start) - line_start);
  EXPECT_THAT(line, HasSubstr("\\[DONE\\] last; saw \\<b\\>\\&amp;\\</b\\> \"q\" 'a' \\]\\]\\> "
                              "\\</script\\>\\<!--\\<script\\> x\\|y \\*z\\* \\$1"));
  EXPECT_THAT(line,
              HasSubstr("\xE2\x90\x81\xE2\x90\x82\xE2\x90\x9B\xE2\x90\xA1 tab here caf\xC3\xA9"));
}

TEST(MarkdownReportTest, TruncatesLongMessages) {
  RunReport report = SampleReport();
  for (auto& r : report.results) {
    if (r.target == "flask" && r.case_id == "chat.done-terminator") {
      r.message = std::string(2000, 'x') + "TAIL";
    }
  }
  const std::string md = ToMarkdown(report);
  EXPECT_THAT(md, HasSubstr(std::string(500, 'x') + "...\n"));
  EXPECT_THAT(md, Not(HasSubstr(std::string(501, 'x'))));
  EXPECT_THAT(md, Not(HasSubstr("TAIL")));
}

TEST(MarkdownReportTest, SaysPassWhenNothingFailed) {
  RunReport report;
  report.targets = {Target("cpp", "", {}, false, "", "")};
  report.results = {Make("cpp", "chat.status", Level::kMust, Outcome::kPass)};
  const std::string md = ToMarkdown(report);
  EXPECT_EQ(md.substr(0, md.find('\n')), "## streamcheck: PASS");
  EXPECT_THAT(md, HasSubstr("### Failures\n\nNone.\n"));
}

// --- HTML ----------------------------------------------------------------------

TEST(HtmlReportTest, IsSelfContained) {
  const std::string html = ToHtml(SampleReport());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  // No resource from anywhere else: the target URLs appear only as text.
  const std::regex external(R"((src|href|action|xlink:href)\s*=\s*["']?\s*(https?:)?//)",
                            std::regex::icase);
  EXPECT_FALSE(std::regex_search(html, external));
  for (const char* needle :
       {"<link", "@import", "url(", "<iframe", "<img", "<object", "<embed", "src=", "@font-face"}) {
    EXPECT_THAT(html, Not(HasSubstr(needle)));
  }
  EXPECT_THAT(html, HasSubstr("<style>"));
  EXPECT_THAT(html, HasSubstr("<script>"));
}

TEST(HtmlReportTest, ShowsEveryTargetAndTheFailures) {
  const std::string html = ToHtml(SampleReport());
  for (const char* target : {"cpp", "flask", "fastapi"}) {
    EXPECT_THAT(html, HasSubstr(std::string("<th class=\"target\">") + target + "</th>"));
  }
  EXPECT_THAT(html, HasSubstr("<span class=\"verdict v-FAIL\">FAIL</span>"));
  // Levels and catalog titles (escaped).
  EXPECT_THAT(html, HasSubstr("data: [DONE] arrives &lt;once&gt; &amp; last"));
  EXPECT_THAT(html, HasSubstr("<td class=\"lvl l-SHOULD\">SHOULD</td>"));
  // The failing cell links to evidence holding its message, escaped; control
  // bytes are shown as control pictures.
  const std::string escaped_message =
      "expected [DONE] last; saw &lt;b&gt;&amp;amp;&lt;/b&gt; &quot;q&quot; &#39;a&#39; ]]&gt; "
      "&lt;/script&gt;&lt;!--&lt;script&gt; x|y *z* $1 \xE2\x90\x81\xE2\x90\x82\xE2\x90\x9B"
      "\xE2\x90\xA1 tab\there caf\xC3\xA9 \xF0\x9F\x9A\x80";
  EXPECT_THAT(html, HasSubstr("<pre class=\"msg\">" + escaped_message + "</pre>"));
  const std::regex failing_cell(
      R"re(<td class="cell o-fail"><a href="#(ev-\d+)" data-ev="ev-\d+" title="expected \[DONE\])re");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(html, match, failing_cell));
  EXPECT_THAT(html, HasSubstr("<article class=\"ev\" id=\"" + match[1].str() + "\">"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell o-error\">"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell o-warn\">"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell o-skip\">"));
  EXPECT_THAT(html, HasSubstr("<td class=\"cell o-none\">"));
  // Evidence: request, status, headers, events, note.
  EXPECT_THAT(html,
              HasSubstr("Exchange 1: <code class=\"request\">POST /v1/chat/completions</code>"));
  EXPECT_THAT(html, HasSubstr("<pre>{&quot;stream&quot;:true}</pre>"));
  EXPECT_THAT(html, HasSubstr("<td>status</td><td>200</td>"));
  EXPECT_THAT(html, HasSubstr("<td>X_Request_ID</td><td>&lt;/script&gt;&lt;script&gt;alert(1)"));
  EXPECT_THAT(html, HasSubstr("<h5>First events</h5>"));
  EXPECT_THAT(html, HasSubstr("connection closed &lt;early&gt;"));
  // The panel that the script fills.
  EXPECT_THAT(html, HasSubstr("<aside id=\"panel\" hidden"));
}

TEST(HtmlReportTest, DrawsTimelinesAndTheThroughputTable) {
  const std::string html = ToHtml(SampleReport());
  EXPECT_THAT(html, HasSubstr("<svg class=\"timeline\""));
  // One chart per case with timelines, one line per target.
  EXPECT_EQ(Count(html, "<svg class=\"timeline\""), 2u);
  const std::string chart = Element(html, "<figure class=\"chart\" id=\"chart-", "figure");
  EXPECT_EQ(Count(chart, "<polyline"), 3u);
  const std::string large =
      html.substr(html.find("<code>direct.large-get</code>", html.find("id=\"timelines\"")));
  const std::string large_chart = large.substr(0, large.find("</figure>"));
  EXPECT_EQ(Count(large_chart, "<polyline"), 2u);
  EXPECT_THAT(large_chart, HasSubstr("<title>cpp</title>"));
  EXPECT_THAT(large_chart, HasSubstr("<title>flask</title>"));
  EXPECT_THAT(large_chart, HasSubstr("100.0 MiB"));
  // Evidence of a streaming case points to its chart.
  EXPECT_THAT(html, HasSubstr("class=\"chart-ref\" data-chart=\"chart-"));

  const std::string perf = Element(html, "<section id=\"performance\">", "section");
  ASSERT_FALSE(perf.empty());
  EXPECT_THAT(perf, HasSubstr("<td><code>direct.large-get</code></td><td class=\"num\">1480.4</td>"
                              "<td class=\"num\">-</td><td class=\"num\">95.2</td>"));
  EXPECT_THAT(perf, HasSubstr("<td><code>direct.memory-bounded</code></td><td class=\"num\">-"
                              "</td><td class=\"num\">2.1</td><td class=\"num\">-</td>"
                              "<td class=\"num\">180.4</td>"));
  EXPECT_THAT(perf, Not(HasSubstr("chat.status")));

  RunReport no_timelines = SampleReport();
  for (auto& r : no_timelines.results) r.evidence.timeline.clear();
  EXPECT_THAT(ToHtml(no_timelines), Not(HasSubstr("<svg")));
}

// A run shaped like the real one: tiny replies first in the catalog, the
// streaming proofs further down, and replies of every size in between.
RunReport TimelineReport() {
  RunReport report;
  auto line = [](std::vector<std::pair<double, std::uint64_t>> points, bool events) {
    std::vector<TimelinePoint> out;
    std::uint64_t n = 0;
    for (const auto& [t, bytes] : points) out.push_back({t, bytes, events ? ++n : 0});
    return out;
  };
  struct Spec {
    const char* id;
    std::vector<TimelinePoint> streaming, buffering;
  };
  const std::vector<TimelinePoint> ping = line({{0.2, 17}, {0.2, 17}}, false);
  std::vector<std::pair<double, std::uint64_t>> chat;
  for (int i = 1; i <= 19; ++i) chat.emplace_back(0.4 + 0.02 * i, 168u * i);
  // A token every 50 ms: a stream whose shape a chart shows.
  std::vector<std::pair<double, std::uint64_t>> paced;
  for (int i = 1; i <= 19; ++i) paced.emplace_back(0.4 + 50.0 * i, 168u * i);
  std::vector<std::pair<double, std::uint64_t>> big;
  for (int i = 1; i <= 40; ++i) big.emplace_back(2.0 * i, i * 2 * kMiB);
  const std::vector<Spec> specs = {
      {"server.ready", ping, ping},
      {"chat.status", line(chat, true), line(paced, true)},
      // 4 events and 3 KiB: below both thresholds.
      {"chat.error-event", line({{0.3, 900}, {0.4, 1800}, {0.5, 2700}, {0.6, 3000}}, true),
       line({{0.3, 3000}, {0.3, 3000}, {0.3, 3000}, {0.3, 3000}}, true)},
      // 19 events within a millisecond on every target: a line straight up, folded.
      {"chat.usage", line(chat, true), line(chat, true)},
      {"chat.incremental", line(chat, true), line({{5002.0, 3201}, {5002.0, 3201}}, true)},
      {"direct.large-get", line(big, false), line({{160.0, 16384}, {170.0, 80 * kMiB}}, false)},
      // 1 MiB in two reads everywhere: one jump, nothing to see.
      {"direct.response-framing", line({{1.2, 16384}, {1.8, kMiB}}, false),
       line({{2.1, 16384}, {2.7, kMiB}}, false)},
      {"direct.incremental", line({{1.1, 16384}, {5.2, 4 * kMiB}, {9.4, 8 * kMiB}}, false),
       line({{5019.8, 16384}, {5026.9, 8 * kMiB}}, false)},
      // Exactly 64 KiB, in three reads on one target.
      {"direct.small-body", line({{1.0, 1024}, {1.5, 32768}, {2.0, 65536}}, false),
       line({{1.0, 65536}}, false)},
      {"direct.sse-passthrough", line(chat, true), line({{5002.9, 3201}, {5002.9, 3201}}, true)},
      {"direct.methods", line({{0.3, 396}, {0.3, 396}}, false), line({{1.2, 500}}, false)},
  };
  for (const auto& spec : specs) {
    report.catalog.push_back(
        Info(spec.id, internal::AreaOf(spec.id), Level::kMust, std::string("title of ") + spec.id));
    for (const char* target : {"cpp", "flask"}) {
      CaseResult r = Make(target, spec.id, Level::kMust, Outcome::kPass);
      r.evidence.timeline = std::string(target) == "cpp" ? spec.streaming : spec.buffering;
      report.results.push_back(r);
    }
  }
  report.results.push_back(Make("cpp", "direct.no-timeline", Level::kMust, Outcome::kPass));
  return report;
}

std::vector<std::string> PlannedIds(const internal::Matrix& m,
                                    const std::vector<internal::PlannedChart>& plan, bool folded) {
  std::vector<std::string> ids;
  for (const auto& chart : plan) {
    if ((chart.group == internal::ChartGroup::kFolded) == folded) {
      ids.push_back(m.cases[chart.case_index].id);
    }
  }
  return ids;
}

TEST(HtmlReportTest, PlansChartsStreamingProofsFirst) {
  const RunReport report = TimelineReport();
  const internal::Matrix m = internal::BuildMatrix(report);
  const auto plan = internal::PlanTimelineCharts(m);
  // Gated cases, then SSE passthrough, then large byte streams, then event
  // streams, each in catalog order.
  EXPECT_EQ(
      PlannedIds(m, plan, false),
      (std::vector<std::string>{"chat.incremental", "direct.incremental", "direct.sse-passthrough",
                                "direct.large-get", "direct.small-body", "chat.status"}));
  // The rest is folded, still in catalog order; a case without a timeline
  // has no chart at all.
  EXPECT_EQ(PlannedIds(m, plan, true),
            (std::vector<std::string>{"server.ready", "chat.error-event", "chat.usage",
                                      "direct.response-framing", "direct.methods"}));
  for (const auto& chart : plan) {
    const std::string& id = m.cases[chart.case_index].id;
    if (id == "direct.large-get") {
      EXPECT_EQ(chart.group, internal::ChartGroup::kByteStream);
      EXPECT_EQ(chart.max_bytes, 80 * kMiB);
    }
    if (id == "chat.status") {
      EXPECT_EQ(chart.group, internal::ChartGroup::kEventStream);
      EXPECT_EQ(chart.max_events, 19u);
    }
  }
}

// The ids of the charts in `html` between `from` and `to`, in page order.
std::vector<std::string> ChartCases(const std::string& html, const std::string& from,
                                    const std::string& to) {
  const auto start = html.find(from);
  const auto end = html.find(to, start);
  const std::string part = html.substr(start, end - start);
  std::vector<std::string> ids;
  const std::regex caption(
      R"re(<figure class="chart" id="chart-\d+" data-case="\d+"><figcaption><code>([^<]+))re");
  for (std::sregex_iterator it(part.begin(), part.end(), caption), last; it != last; ++it) {
    ids.push_back((*it)[1].str());
  }
  return ids;
}

TEST(HtmlReportTest, DrawsTheTellingChartsFirstAndFoldsTheRest) {
  const std::string html = ToHtml(TimelineReport());
  EXPECT_EQ(
      ChartCases(html, "<section id=\"timelines\">", "<details id=\"timelines-more\">"),
      (std::vector<std::string>{"chat.incremental", "direct.incremental", "direct.sse-passthrough",
                                "direct.large-get", "direct.small-body", "chat.status"}));
  // Folded, closed even without JavaScript, but on the page.
  EXPECT_THAT(html, HasSubstr("<details id=\"timelines-more\"><summary>5 more timelines: replies "
                              "under 64 KiB with fewer than 5 events, event streams that arrived "
                              "within 100 ms"));
  EXPECT_EQ(ChartCases(html, "<details id=\"timelines-more\">", "</section>"),
            (std::vector<std::string>{"server.ready", "chat.error-event", "chat.usage",
                                      "direct.response-framing", "direct.methods"}));
  // What to look for, per kind of chart.
  const std::string gated =
      Element(html, "<figcaption><code>direct.incremental</code>", "figcaption");
  EXPECT_THAT(gated, HasSubstr("<span class=\"look\">The backend holds after its first MiB"));
  EXPECT_THAT(gated, HasSubstr("stays flat until the hold times out (5 s)"));
  EXPECT_THAT(Element(html, "<figcaption><code>chat.incremental</code>", "figcaption"),
              HasSubstr("after its first token"));
  EXPECT_THAT(Element(html, "<figcaption><code>direct.large-get</code>", "figcaption"),
              HasSubstr("A steady climb means the body streams through"));
  // Every cell with a timeline still reaches its case's chart.
  const RunReport report = TimelineReport();
  const internal::Matrix m = internal::BuildMatrix(report);
  for (std::size_t c = 0; c < m.cases.size(); ++c) {
    const std::string id = "chart-" + std::to_string(c);
    if (m.cases[c].id == "direct.no-timeline") {
      EXPECT_THAT(html, Not(HasSubstr("id=\"" + id + "\"")));
      continue;
    }
    EXPECT_EQ(Count(html, "<figure class=\"chart\" id=\"" + id + "\" data-case="), 1u)
        << m.cases[c].id;
    EXPECT_EQ(Count(html, "data-chart=\"" + id + "\""), 2u) << m.cases[c].id;
  }
  // A buffering line is flat from the origin until its first byte: never a
  // slope from the origin to a late first point.
  const std::string sse =
      Element(html, "<figcaption><code>direct.sse-passthrough</code>", "figure");
  EXPECT_THAT(sse, HasSubstr("points=\"70.0,214.0 "));  // the origin
  const std::regex flask_line(
      R"re(points="70\.0,214\.0 ([\d.]+),214\.0 \1,[\d.]+"><title>flask</title>)re");
  EXPECT_TRUE(std::regex_search(sse, flask_line)) << sse;
  // The legend says when content first came.
  EXPECT_THAT(sse, HasSubstr("flask: 3.1 KiB, 2 events by 5003 ms, first at 5003 ms"));
}

// The labels of one axis ("x" or "y") of every chart in `html`, per chart.
std::vector<std::vector<std::string>> TickLabels(const std::string& html, const std::string& axis) {
  std::vector<std::vector<std::string>> charts;
  const std::regex tick("<text class=\"tick " + axis + "\"[^>]*>([^<]*)</text>");
  for (auto pos = html.find("<svg class=\"timeline\""); pos != std::string::npos;
       pos = html.find("<svg class=\"timeline\"", pos + 1)) {
    const std::string svg = html.substr(pos, html.find("</svg>", pos) - pos);
    std::vector<std::string> labels;
    for (std::sregex_iterator it(svg.begin(), svg.end(), tick), last; it != last; ++it) {
      labels.push_back((*it)[1].str());
    }
    charts.push_back(labels);
  }
  return charts;
}

TEST(HtmlReportTest, TickLabelsFollowTheAxisRange) {
  const std::string html = ToHtml(TimelineReport());
  const auto x = TickLabels(html, "x");
  const auto y = TickLabels(html, "y");
  ASSERT_EQ(x.size(), 11u);
  ASSERT_EQ(y.size(), 11u);
  for (const auto& labels : {x, y}) {
    for (const auto& chart : labels) {
      EXPECT_GE(chart.size(), 2u);
      EXPECT_EQ(std::set<std::string>(chart.begin(), chart.end()).size(), chart.size())
          << ::testing::PrintToString(chart);
    }
  }
  // The ninth chart (third folded) is chat.usage: 0.78 ms and 3.1 KiB on both targets.
  EXPECT_EQ(x[8], (std::vector<std::string>{"0 ms", "0.2 ms", "0.4 ms", "0.6 ms", "0.8 ms"}));
  EXPECT_EQ(y[8], (std::vector<std::string>{"0 KiB", "1 KiB", "2 KiB", "3 KiB", "4 KiB"}));
  // The first, chat.incremental, spans 5 s: seconds, whole ones.
  EXPECT_EQ(x[0], (std::vector<std::string>{"0 s", "1 s", "2 s", "3 s", "4 s", "5 s", "6 s"}));
}

TEST(HtmlReportTest, EmbeddedDataCannotEndItsScript) {
  const std::string html = ToHtml(SampleReport());
  // Exactly the page's own two scripts end; nothing can open a comment.
  EXPECT_EQ(Count(html, "</script>"), 2u);
  EXPECT_EQ(Count(html, "<!--"), 0u);
  EXPECT_THAT(html, HasSubstr("<\\/script>"));

  const std::string open = "<script type=\"application/json\" id=\"streamcheck-data\">";
  const auto start = html.find(open);
  ASSERT_NE(start, std::string::npos);
  const auto end = html.find("</script>", start);
  const json data = json::parse(html.substr(start + open.size(), end - start - open.size()));
  EXPECT_EQ(data, ToJson(SampleReport()));
}

TEST(ReportWritersTest, HandleAnEmptyRun) {
  const RunReport empty;
  // Nothing ran: never a green verdict.
  EXPECT_THAT(ToHtml(empty), HasSubstr("<span class=\"verdict v-NOTHING-RAN\">NOTHING-RAN</span>"));
  EXPECT_THAT(ToMarkdown(empty), HasSubstr("0 targets, 0 cases"));
  const auto parsed = ParseJsonReport(ToJsonString(empty));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_TRUE(parsed->results.empty());
  EXPECT_THAT(ToJunitXml(empty), HasSubstr("tests=\"0\""));
}

// --- Files and helpers ----------------------------------------------------------

TEST(WriteFileTest, WritesCreatingFoldersAndNamesThePathOnError) {
  TempDir dir;
  const std::string path = dir.File("a/b/report.md");
  ASSERT_TRUE(WriteFile(path, "hello\n").ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "hello\n");
  ASSERT_TRUE(WriteFile(path, "x").ok());  // replaces

  // A folder where the file should be.
  const Status status = WriteFile(dir.File("a"), "x");
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.message(), HasSubstr("cannot write '" + dir.File("a") + "'"));
  EXPECT_THAT(status.message(), HasSubstr("directory"));
  // A parent that is a file.
  const Status under_file = WriteFile(path + "/x.md", "x");
  ASSERT_FALSE(under_file.ok());
  EXPECT_THAT(under_file.message(), HasSubstr(path + "/x.md"));
}

TEST(RenderCommonTest, SanitizesUtf8) {
  using internal::SanitizeUtf8;
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9 \xF0\x9F\x9A\x80"), "caf\xC3\xA9 \xF0\x9F\x9A\x80");
  EXPECT_EQ(SanitizeUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(SanitizeUtf8("ab\xE2\x82"), "ab\xEF\xBF\xBD\xEF\xBF\xBD");              // truncated
  EXPECT_EQ(internal::XmlEscape("a\x01<\xEF\xBF\xBF>", false), "a&lt;&gt;");  // U+FFFF dropped
}

TEST(RenderCommonTest, OrdersCasesByCatalogAndArea) {
  const internal::Matrix m = internal::BuildMatrix(SampleReport());
  EXPECT_EQ(m.targets, (std::vector<std::string>{"cpp", "flask", "fastapi"}));
  std::vector<std::string> ids;
  for (const auto& row : m.cases) ids.push_back(row.id);
  EXPECT_EQ(ids,
            (std::vector<std::string>{"chat.status", "chat.done-terminator", "chat.no-cache",
                                      "chat.incremental", "chat.framing", "direct.large-get",
                                      "direct.memory-bounded", "server.ready", "extra.custom"}));
  EXPECT_EQ(m.cases[0].title, "a valid streaming request gets 200");
  EXPECT_EQ(m.Find(8, 1), nullptr);
}

TEST(RenderCommonTest, AxesEndOnRoundNumbersWithDistinctLabels) {
  using internal::Axis;
  auto labels = [](const Axis& axis) {
    std::vector<std::string> out;
    for (const auto& tick : axis.ticks) out.push_back(tick.second);
    return out;
  };
  // Sub-millisecond: more decimals, not "0 ms, 0 ms, 0.1 ms".
  EXPECT_EQ(
      labels(internal::TimeAxis(0.219)),
      (std::vector<std::string>{"0 ms", "0.05 ms", "0.1 ms", "0.15 ms", "0.2 ms", "0.25 ms"}));
  EXPECT_DOUBLE_EQ(internal::TimeAxis(0.219).end, 0.25);
  EXPECT_EQ(labels(internal::TimeAxis(94.2)),
            (std::vector<std::string>{"0 ms", "20 ms", "40 ms", "60 ms", "80 ms", "100 ms"}));
  EXPECT_EQ(labels(internal::TimeAxis(5027)),
            (std::vector<std::string>{"0 s", "1 s", "2 s", "3 s", "4 s", "5 s", "6 s"}));
  EXPECT_DOUBLE_EQ(internal::TimeAxis(5027).end, 6000);
  EXPECT_EQ(labels(internal::TimeAxis(12001.9)),
            (std::vector<std::string>{"0 s", "2.5 s", "5 s", "7.5 s", "10 s", "12.5 s"}));
  // Nothing measured yet: still an axis.
  EXPECT_EQ(labels(internal::TimeAxis(0)),
            (std::vector<std::string>{"0 ms", "0.2 ms", "0.4 ms", "0.6 ms", "0.8 ms", "1 ms"}));

  EXPECT_EQ(labels(internal::BytesAxis(100.0 * kMiB)),
            (std::vector<std::string>{"0 MiB", "20 MiB", "40 MiB", "60 MiB", "80 MiB", "100 MiB"}));
  EXPECT_EQ(labels(internal::BytesAxis(3201)),
            (std::vector<std::string>{"0 KiB", "1 KiB", "2 KiB", "3 KiB", "4 KiB"}));
  EXPECT_DOUBLE_EQ(internal::BytesAxis(3201).end, 4096);
  // Whole bytes and events only.
  EXPECT_EQ(labels(internal::BytesAxis(17)),
            (std::vector<std::string>{"0 B", "5 B", "10 B", "15 B", "20 B"}));
  EXPECT_EQ(labels(internal::BytesAxis(1)), (std::vector<std::string>{"0 B", "1 B"}));
  EXPECT_EQ(labels(internal::CountAxis(3, "ev")),
            (std::vector<std::string>{"0 ev", "1 ev", "2 ev", "3 ev"}));

  // Over a wide sweep: the axis covers the maximum, has 1 to 6 intervals and
  // no two labels alike, and wastes less than half of its length.
  for (double max = 1e-4; max < 1e8; max *= 1.37) {
    for (const Axis& axis :
         {internal::TimeAxis(max), internal::BytesAxis(max), internal::CountAxis(max, "ev")}) {
      const auto l = labels(axis);
      EXPECT_GE(axis.end, max * (1 - 1e-9)) << max;
      EXPECT_GE(l.size(), 2u) << max;
      EXPECT_LE(l.size(), 7u) << max;
      EXPECT_EQ(std::set<std::string>(l.begin(), l.end()).size(), l.size())
          << max << ": " << ::testing::PrintToString(l);
      EXPECT_DOUBLE_EQ(axis.ticks.back().first, axis.end);
      if (max >= 1) {
        EXPECT_LT(axis.end, 2 * max) << max << ": " << ::testing::PrintToString(l);
      }
    }
  }
}

// --- baselines ----------------------------------------------------------------

std::vector<CaseInfo> BaselineCatalog() {
  return {Info("chat.status", "chat", Level::kMust, ""),
          Info("chat.no-cache", "chat", Level::kShould, "")};
}

TEST(BaselineTest, ReadsJsonAndYaml) {
  const auto from_json = ParseBaseline(
      R"({"flask": {"chat.status": {"outcome": "fail", "reason": "buffers"},
                    "chat.no-cache": "warn"}})",
      "expect.json", BaselineCatalog());
  ASSERT_TRUE(from_json.ok()) << from_json.error();
  EXPECT_EQ(from_json->baseline, "expect.json");
  ASSERT_EQ(from_json->expected.size(), 2u);
  const auto yaml = ParseBaseline(
      "# known while migrating\nflask:\n  chat.status: {outcome: fail, reason: buffers}\n"
      "  chat.no-cache: warn\n",
      "expect.yaml", BaselineCatalog());
  ASSERT_TRUE(yaml.ok()) << yaml.error();
  ASSERT_EQ(yaml->expected.size(), 2u);
  for (const auto* gate : {&*from_json, &*yaml}) {
    const auto* e = core::FindExpectation(*gate, "flask", "chat.status");
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(e->outcome, Outcome::kFail);
    EXPECT_EQ(e->reason, "buffers");
    ASSERT_NE(core::FindExpectation(*gate, "flask", "chat.no-cache"), nullptr);
    EXPECT_EQ(core::FindExpectation(*gate, "flask", "chat.no-cache")->outcome, Outcome::kWarn);
  }
}

TEST(BaselineTest, RefusesWhatWouldAcceptNothing) {
  auto error = [](const std::string& text) {
    const auto parsed = ParseBaseline(text, "e.yaml", BaselineCatalog());
    return parsed.ok() ? std::string("parsed") : parsed.error();
  };
  EXPECT_THAT(error("flask:\n  chat.nocache: warn\n"),
              HasSubstr("e.yaml: flask.chat.nocache: no such case"));
  EXPECT_THAT(error("flask:\n  chat.status: warn\n"), HasSubstr("list it as fail"));
  EXPECT_THAT(error("flask:\n  chat.no-cache: fail\n"), HasSubstr("list it as warn"));
  EXPECT_THAT(error("flask:\n  chat.status: pass\n"), HasSubstr("expected fail, warn or error"));
  EXPECT_THAT(error("flask:\n  chat.status: {outcome: fail, why: x}\n"),
              HasSubstr("unknown key \"why\""));
  EXPECT_THAT(error("flask: [chat.status]\n"), HasSubstr("expected a mapping"));
  EXPECT_THAT(error("flask: {chat.status: [unclosed\n"), HasSubstr("not valid YAML"));
  EXPECT_THAT(error("{\"flask\": "), HasSubstr("e.yaml"));
  EXPECT_THAT(error(""), HasSubstr("empty"));
}

TEST(JsonReportTest, RoundTripsTheGateMemoryAndSpec) {
  RunReport report = SampleReport();
  report.gate.strict = true;
  report.gate.baseline = "expect.yaml";
  report.gate.expected = {{"flask", "chat.no-cache", Outcome::kWarn, "no proxy here"}};
  report.targets[0].spec = "built-in";
  report.results[0].evidence.memory = {{0, 100 * kMiB, 0}, {20.5, 104 * kMiB, 90 * kMiB}};
  const auto parsed = ParseJsonReport(ToJsonString(report));
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(ToJson(*parsed), ToJson(report));
  EXPECT_TRUE(parsed->gate.strict);
  ASSERT_EQ(parsed->gate.expected.size(), 1u);
  EXPECT_EQ(parsed->gate.expected[0].reason, "no proxy here");
  EXPECT_EQ(parsed->results[0].evidence.memory[1].pss_bytes, 90 * kMiB);
  EXPECT_EQ(parsed->targets[0].spec, "built-in");
  // The saved gate decides the saved verdict.
  EXPECT_EQ(ExitCodeFor(*parsed), ExitCodeFor(report));
}

// --- comparisons -------------------------------------------------------------

TEST(CompareTest, PrintsOutcomeChangesAndMetricMovesAcrossTargets) {
  const RunReport run = SampleReport();
  CompareOptions options;
  options.before_target = "cpp";
  options.after_target = "flask";
  const auto c = Compare(run, run, options);
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c->targets.size(), 1u);
  std::set<std::string> changed;
  for (const auto& ch : c->changes) {
    changed.insert(ch.case_id);
    EXPECT_EQ(ch.direction, -1) << ch.case_id;
  }
  EXPECT_EQ(changed, (std::set<std::string>{"chat.done-terminator", "chat.no-cache",
                                            "direct.memory-bounded"}));
  // 1480 -> 95 MiB/s and 2.1 -> 180.4 MiB: both worse.
  ASSERT_EQ(c->moves.size(), 2u);
  for (const auto& m : c->moves) EXPECT_EQ(m.direction, -1) << m.metric;
  EXPECT_EQ(c->regressions(), 5);
  EXPECT_EQ(c->only_before, (std::vector<std::string>{"cpp extra.custom"}));
  const std::string text = ComparisonText(*c, "a.json", "b.json");
  EXPECT_THAT(text, HasSubstr("comparing cpp in a.json with flask in b.json"));
  EXPECT_TRUE(std::regex_search(
      text, std::regex(R"(direct\.memory-bounded +MUST +pass -> fail +REGRESSION)")))
      << text;
  EXPECT_TRUE(
      std::regex_search(text, std::regex(R"(mib_per_s +1480\.4 -> 95\.2 +-94% +REGRESSION)")))
      << text;
  EXPECT_THAT(text, HasSubstr("5 regressions, 0 better (exit 1)"));

  // The other way round it is all better; with metrics off only outcomes count.
  options.before_target = "flask";
  options.after_target = "cpp";
  options.metric_threshold = -1;
  const auto back = Compare(run, run, options);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->regressions(), 0);
  EXPECT_EQ(back->improvements(), 3);
  EXPECT_TRUE(back->moves.empty());
}

TEST(CompareTest, PairsTargetsByNameOrTheOnlyOnes) {
  RunReport a, b;
  a.results = {Make("flask", "chat.status", Level::kMust, Outcome::kPass)};
  b.results = {Make("cpp", "chat.status", Level::kMust, Outcome::kFail)};
  const auto single = Compare(a, b, {});
  ASSERT_TRUE(single.ok()) << single.error();
  EXPECT_EQ(single->targets, (std::vector<std::pair<std::string, std::string>>{{"flask", "cpp"}}));
  EXPECT_EQ(single->regressions(), 1);
  b.results.push_back(Make("fastapi", "chat.status", Level::kMust, Outcome::kPass));
  const auto none = Compare(a, b, {});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error(), HasSubstr("--compare-targets"));
  CompareOptions missing;
  missing.before_target = "flask";
  missing.after_target = "gone";
  EXPECT_THAT(Compare(a, b, missing).error(), HasSubstr("no target \"gone\""));
}

TEST(CompareTest, NoiseAndNoLongerMeasured) {
  RunReport a, b;
  CaseResult old_run = Make("t", "chat.status", Level::kMust, Outcome::kPass);
  old_run.metrics = {{"first_event_ms", 2.0}, {"rss_growth_mib", 0.5}, {"mib_per_s", 1000.0}};
  CaseResult new_run = old_run;
  new_run.metrics = {{"first_event_ms", 9.0}, {"rss_growth_mib", 2.5}, {"mib_per_s", 1100.0}};
  a.results = {old_run, Make("t", "direct.large-get", Level::kMust, Outcome::kPass)};
  b.results = {new_run, Make("t", "direct.large-get", Level::kMust, Outcome::kSkip)};
  const auto c = Compare(a, b, {});
  ASSERT_TRUE(c.ok());
  // +350% of 2 ms and +2 MiB of RSS are noise; +10% is under the threshold.
  EXPECT_TRUE(c->moves.empty());
  ASSERT_EQ(c->changes.size(), 1u);
  EXPECT_EQ(c->changes[0].direction, -1) << "a pass that is no longer measured";
}

// --- HTML: filters, memory, abort, reproduce -----------------------------------

TEST(HtmlReportTest, FiltersMemoryAbortAndReproduce) {
  RunReport report = SampleReport();
  for (auto& r : report.results) {
    if (r.target == "flask" && r.case_id == "direct.memory-bounded") {
      r.evidence.memory = {{0, 40 * kMiB, 0}, {100, 120 * kMiB, 0}, {200, 220 * kMiB, 0}};
    }
    if (r.target == "cpp" && r.case_id == "direct.large-get") {
      r.metrics["backend_cancelled_after_ms"] = 42.0;
      r.metrics["backend_bytes_sent"] = 3.0 * kMiB;
    }
  }
  const std::string html = ToHtml(report);
  // Filters, shown by the script; each row says whether it fails and differs.
  EXPECT_THAT(html, HasSubstr("<p id=\"filters\" hidden>"));
  EXPECT_THAT(html, HasSubstr("id=\"only-failures\""));
  EXPECT_THAT(html, HasSubstr("id=\"only-differences\""));
  EXPECT_TRUE(std::regex_search(
      html,
      std::regex(
          R"(data-failing="1" data-differs="1"><th class="case"><code>chat\.done-terminator)")));
  EXPECT_TRUE(std::regex_search(
      html,
      std::regex(R"(data-failing="0" data-differs="0"><th class="case"><code>server\.ready)")));
  // The memory curve of the memory case, linked from its evidence.
  const std::string memory = Element(html, "<section id=\"memory\">", "section");
  ASSERT_FALSE(memory.empty());
  EXPECT_THAT(memory, HasSubstr("<polyline class=\"rss\""));
  EXPECT_THAT(memory, HasSubstr("flask: RSS 40.0 MiB at the start, peak 220.0 MiB (+180.0 MiB)"));
  EXPECT_EQ(Count(html, "data-chart=\"mem-"), 3u);  // one per target's cell
  // The backend's side of an abort.
  EXPECT_THAT(html, HasSubstr("backend sent 3.0 MiB, backend cancelled after 42 ms (dashed)"));
  EXPECT_THAT(html, HasSubstr("<line class=\"cancel\""));
  // A reproduce line under each failed cell, none under a pass.
  EXPECT_THAT(html, HasSubstr("<h4>Reproduce</h4><pre class=\"repro\">streamcheck run --target "
                              "flask --cases direct.memory-bounded -v\n"));
  EXPECT_EQ(Count(html, "<h4>Reproduce</h4>"), 4u);  // 2 fail, 1 warn, 1 error
  // A log as a link, for --report-dir's logs/.
  EXPECT_THAT(html, HasSubstr("<a class=\"log\" href=\"/tmp/flask.log\">"));
}

}  // namespace
}  // namespace streamcheck::reports
