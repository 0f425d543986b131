#include "suites/runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <ctime>
#include <map>
#include <memory>

#include "harness/target_process.h"
#include "mocks/mock_backend.h"

namespace streamcheck::suites {
namespace {

using reports::CaseResult;
using reports::Outcome;

std::string NowIso8601() {
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

// One target for the length of its cases: its mock backend, its process.
class TargetSession {
 public:
  TargetSession(harness::TargetSpec spec, const RunOptions& options)
      : spec_(std::move(spec)), options_(options) {}

  const harness::TargetSpec& spec() const { return spec_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& problem() const { return problem_; }
  mocks::MockBackend& backend() { return *backend_; }
  harness::TargetProcess* process() { return process_.get(); }
  std::string log_path() const { return log_path_.string(); }

  // Starts the target once; false (with problem()) when it cannot.
  bool EnsureStarted() {
    if (!attempted_) {
      attempted_ = true;
      if (auto status = Start(); !status) problem_ = status.message();
    }
    return problem_.empty();
  }

  // Why the target is no longer usable, or "" while it is.
  std::string Died() {
    if (process_ && !process_->IsRunning()) {
      return "the target " + process_->DescribeExit() + "; last log lines:\n" +
             process_->LogTail(15);
    }
    return "";
  }

  void Stop() {
    if (process_) process_->Stop();
    if (backend_) backend_->Stop();
  }

 private:
  Status Start() {
    if (options_.on_progress) options_.on_progress("starting target " + spec_.name);
    auto backend = mocks::MockBackend::Start();
    if (!backend) return Status::Failure("mock backend: " + backend.error());
    backend_ = std::move(*backend);
    harness::Placeholders values = {{"host", "127.0.0.1"},
                                    {"backend_url", backend_->url()},
                                    {"backend_host", backend_->host()},
                                    {"backend_port", std::to_string(backend_->port())},
                                    {"root", options_.root.string()},
                                    {"bin", options_.bin.string()}};
    if (spec_.managed()) {
      auto port = harness::PickFreePort();
      if (!port) return Status::Failure(port.error());
      values["port"] = std::to_string(*port);
    } else {
      values["port"] = "0";
    }
    auto expanded = harness::ExpandSpec(spec_, values, options_.root);
    if (!expanded) return Status::Failure(expanded.error());
    auto ready_timeout = std::chrono::seconds(spec_.ready_timeout_s);
    if (!spec_.managed()) {
      base_url_ = expanded->url;
      harness::HttpRequest probe;
      probe.url = harness::JoinUrl(base_url_, spec_.ready_path);
      probe.total_timeout = ready_timeout;
      auto r = harness::Perform(probe);
      if (r.status != 200) {
        return Status::Failure(
            "target at " + base_url_ + " did not answer 200 on GET " + spec_.ready_path + " (" +
            (r.status ? "status " + std::to_string(r.status) : r.error) + "); is it running?");
      }
      return Status::Ok();
    }
    base_url_ = "http://127.0.0.1:" + values["port"];
    log_path_ = options_.log_dir / (spec_.name + ".log");
    harness::LaunchOptions launch;
    launch.argv = expanded->command;
    launch.env = expanded->env;
    launch.working_dir = options_.root;
    launch.log_path = log_path_;
    auto process = harness::TargetProcess::Start(launch);
    if (!process) return Status::Failure(process.error());
    process_ = std::move(*process);
    return process_->WaitReady(base_url_, spec_.ready_path, ready_timeout);
  }

  harness::TargetSpec spec_;
  const RunOptions& options_;
  std::unique_ptr<mocks::MockBackend> backend_;
  std::unique_ptr<harness::TargetProcess> process_;
  std::string base_url_;
  std::filesystem::path log_path_;
  bool attempted_ = false;
  std::string problem_;
};

// One (target, case) as a GoogleTest test.
class CaseTest : public testing::Test {
 public:
  CaseTest(TargetSession& session, const CaseDef& def, const CaseOptions& options,
           CaseResult& result)
      : session_(session), def_(def), options_(options), result_(result) {}

  void TestBody() override {
    const auto& spec = session_.spec();
    if (!def_.feature.empty() && !spec.HasFeature(def_.feature)) {
      GTEST_SKIP() << "the target's features do not include " << def_.feature;
    }
    if (!session_.EnsureStarted()) {
      result_.outcome = Outcome::kError;
      result_.message = "target " + spec.name + " could not be started: " + session_.problem();
      return;
    }
    if (auto died = session_.Died(); !died.empty() && !def_.judges_liveness) {
      result_.outcome = Outcome::kError;
      result_.message = died;
      return;
    }
    // Every case starts from the backend's defaults and fresh counters.
    session_.backend().SetConfig(mocks::MockConfig{});
    session_.backend().ResetStats();
    CaseContext ctx(spec, session_.base_url(), session_.backend(), session_.process(), options_,
                    result_);
    def_.body(ctx);
    if (auto died = session_.Died(); !died.empty() && !def_.judges_liveness) {
      result_.outcome = Outcome::kError;
      result_.message = "the target died during this case: " + died;
    }
  }

 private:
  TargetSession& session_;
  const CaseDef& def_;
  const CaseOptions& options_;
  CaseResult& result_;
};

// Turns GoogleTest's verdicts into CaseResults and stops each target after its
// last case.
class ResultListener : public testing::EmptyTestEventListener {
 public:
  ResultListener(std::map<std::string, std::unique_ptr<TargetSession>>& sessions,
                 std::map<std::pair<std::string, std::string>, CaseResult*>& results,
                 const RunOptions& options)
      : sessions_(sessions), results_(results), options_(options) {}

  void OnTestEnd(const testing::TestInfo& info) override {
    CaseResult& r = *results_.at({info.test_suite_name(), info.name()});
    const testing::TestResult& gtest = *info.result();
    r.duration_ms = double(gtest.elapsed_time());
    if (r.outcome != Outcome::kError) {
      std::string messages;
      for (int i = 0; i < gtest.total_part_count(); ++i) {
        std::string m = gtest.GetTestPartResult(i).message();
        if (m.rfind("Failed\n", 0) == 0) m = m.substr(7);
        if (m.rfind("Skipped\n", 0) == 0) m = m.substr(8);
        if (!m.empty()) messages += (messages.empty() ? "" : "; ") + m;
      }
      r.message = messages;
      if (gtest.Skipped()) {
        r.outcome = Outcome::kSkip;
      } else if (gtest.Failed()) {
        r.outcome = r.level == reports::Level::kMust     ? Outcome::kFail
                    : r.level == reports::Level::kShould ? Outcome::kWarn
                                                         : Outcome::kPass;
      } else {
        r.outcome = Outcome::kPass;
      }
    }
    if (options_.on_result) options_.on_result(r);
  }

  void OnTestSuiteEnd(const testing::TestSuite& suite) override {
    auto it = sessions_.find(suite.name());
    if (it != sessions_.end()) it->second->Stop();
  }

 private:
  std::map<std::string, std::unique_ptr<TargetSession>>& sessions_;
  std::map<std::pair<std::string, std::string>, CaseResult*>& results_;
  const RunOptions& options_;
};

}  // namespace

reports::RunReport RunCatalog(const RunOptions& options) {
  auto start = std::chrono::steady_clock::now();
  reports::RunReport report;
  report.tool_version = options.version;
  report.started_at = NowIso8601();
  report.catalog = CatalogInfo();

  std::map<std::string, std::unique_ptr<TargetSession>> sessions;
  std::map<std::pair<std::string, std::string>, CaseResult*> by_key;
  std::vector<std::unique_ptr<CaseResult>> results;

  int argc = 2;
  char arg0[] = "streamcheck";
  char arg1[] = "--gtest_color=no";
  char* argv[] = {arg0, arg1, nullptr};
  testing::InitGoogleTest(&argc, argv);

  for (const auto& spec : options.targets) {
    auto& session = sessions[spec.name] = std::make_unique<TargetSession>(spec, options);
    for (const auto& def : Catalog()) {
      if (!MatchesFilter(def.info.id, options.filter)) continue;
      auto& result = *results.emplace_back(std::make_unique<CaseResult>());
      result.target = spec.name;
      result.case_id = def.info.id;
      result.area = def.info.area;
      result.level = def.info.level;
      by_key[{spec.name, def.info.id}] = &result;
      TargetSession* s = session.get();
      const CaseDef* d = &def;
      CaseResult* r = &result;
      const CaseOptions* o = &options.case_options;
      testing::RegisterTest(
          spec.name.c_str(), def.info.id.c_str(), nullptr, nullptr, __FILE__, __LINE__,
          [s, d, r, o]() -> testing::Test* { return new CaseTest(*s, *d, *o, *r); });
    }
  }

  auto& listeners = testing::UnitTest::GetInstance()->listeners();
  delete listeners.Release(listeners.default_result_printer());
  listeners.Append(new ResultListener(sessions, by_key, options));
  // Outcomes come from the listener, per case and level; gtest's overall
  // verdict would count a SHOULD miss as a failure.
  [[maybe_unused]] int gtest_verdict = RUN_ALL_TESTS();

  for (const auto& spec : options.targets) {
    auto& session = *sessions[spec.name];
    session.Stop();
    reports::TargetSummary summary;
    summary.name = spec.name;
    summary.url = session.base_url();
    summary.features = spec.features;
    summary.managed = spec.managed();
    summary.log_path = session.log_path();
    summary.problem = session.problem();
    report.targets.push_back(summary);
  }
  for (auto& r : results) report.results.push_back(std::move(*r));
  report.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace streamcheck::suites
