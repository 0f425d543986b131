// The run engine in-process: it judges what bodies record (and only that),
// runs twice in one process, runs targets at once, and stops cleanly.
#include "engine/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>

#include "harness/checks.h"
#include "mocks/mock_backend.h"
#include "suites/catalog.h"

namespace streamcheck::engine {
namespace {

namespace fs = std::filesystem;
using core::Level;
using core::Outcome;
using ::testing::HasSubstr;
using ::testing::Not;

CaseDef Def(std::string id, Level level, std::function<void(CaseContext&)> body,
            std::string feature = "") {
  CaseDef d;
  d.info.id = id;
  d.info.area = id.substr(0, id.find('.'));
  d.info.level = level;
  d.info.title = "title of " + id;
  d.info.feature = std::move(feature);
  d.body = std::move(body);
  return d;
}

// A target that is already running: an in-process mock answers its ready path.
class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mock = mocks::MockBackend::Start();
    ASSERT_TRUE(mock.ok()) << mock.error();
    server_ = std::move(*mock);
    log_dir_ = fs::temp_directory_path() / ("engine-test-" + std::to_string(getpid()));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(log_dir_, ec);
  }

  harness::TargetSpec UrlTarget(const std::string& name,
                                std::vector<std::string> features = {"chat", "direct_access"}) {
    harness::TargetSpec spec;
    spec.name = name;
    spec.url = server_->url();
    spec.ready_path = "/v1/health/ready";
    spec.features = std::move(features);
    spec.origin = "test";
    return spec;
  }

  RunOptions Options(std::vector<harness::TargetSpec> targets) {
    RunOptions o;
    o.targets = std::move(targets);
    o.session.root = STREAMCHECK_SOURCE_ROOT;
    o.session.bin = fs::path(STREAMCHECK_BIN).parent_path();
    o.session.log_dir = log_dir_;
    o.version = "test";
    return o;
  }

  static std::vector<const CaseDef*> All(const std::vector<CaseDef>& catalog) {
    auto selected = SelectCases(catalog, "");
    EXPECT_TRUE(selected.ok());
    return selected.ok() ? *selected : std::vector<const CaseDef*>{};
  }

  static std::map<std::string, const core::CaseResult*> ByCase(const core::RunReport& report) {
    std::map<std::string, const core::CaseResult*> out;
    for (const auto& r : report.results) out[r.target + " " + r.case_id] = &r;
    return out;
  }

  std::unique_ptr<mocks::MockBackend> server_;
  fs::path log_dir_;
};

TEST_F(EngineTest, JudgesWhatEachBodyRecorded) {
  const std::vector<CaseDef> catalog = {
      Def("t.pass", Level::kMust, [](CaseContext&) {}),
      Def("t.fail", Level::kMust, [](CaseContext& ctx) { ctx.Fail("expected x, got y"); }),
      Def("t.warn", Level::kShould, [](CaseContext& ctx) { ctx.Fail("expected x, got y"); }),
      Def("t.info", Level::kInfo, [](CaseContext& ctx) { ctx.Fail("recorded"); }),
      Def("t.skip", Level::kMust, [](CaseContext& ctx) { ctx.Skip("cannot measure here"); }),
      Def("t.error", Level::kMust, [](CaseContext& ctx) { ctx.Error("the mock is gone"); }),
      Def("t.throws", Level::kMust,
          [](CaseContext&) { throw std::runtime_error("a bug in the case"); }),
      Def(
          "t.feature", Level::kMust, [](CaseContext& ctx) { ctx.Fail("must not run"); },
          "direct_access"),
  };
  auto report = engine::Run(catalog, All(catalog), Options({UrlTarget("u", {"chat"})}));
  auto r = ByCase(report);
  ASSERT_EQ(report.results.size(), catalog.size());
  EXPECT_EQ(r["u t.pass"]->outcome, Outcome::kPass);
  EXPECT_EQ(r["u t.fail"]->outcome, Outcome::kFail);
  EXPECT_EQ(r["u t.fail"]->message, "expected x, got y");
  EXPECT_EQ(r["u t.warn"]->outcome, Outcome::kWarn);
  EXPECT_EQ(r["u t.info"]->outcome, Outcome::kPass);
  EXPECT_EQ(r["u t.skip"]->outcome, Outcome::kSkip);
  EXPECT_EQ(r["u t.error"]->outcome, Outcome::kError);
  EXPECT_EQ(r["u t.throws"]->outcome, Outcome::kError);
  EXPECT_THAT(r["u t.throws"]->message, HasSubstr("a bug in the case"));
  EXPECT_EQ(r["u t.feature"]->outcome, Outcome::kSkip);
  EXPECT_THAT(r["u t.feature"]->message, HasSubstr("direct_access"));
  EXPECT_EQ(core::ExitCodeFor(report), core::kExitMustFailed);
}

TEST_F(EngineTest, EveryRequestCarriesTheCaseHeaderAndIsRecorded) {
  const std::vector<CaseDef> catalog = {Def("t.echo", Level::kMust, [](CaseContext& ctx) {
    harness::HttpRequest request;
    request.url = ctx.backend().url() + "/echo";
    request.headers = {{"Authorization", "Bearer secret-token"}};
    auto r = ctx.Perform(request, "to the mock's echo");
    ctx.Expect(harness::CheckEchoHeaders(r, {{"X-Streamcheck-Case", "t.echo"}}, {}));
  })};
  auto report = engine::Run(catalog, All(catalog), Options({UrlTarget("u")}));
  ASSERT_EQ(report.results.size(), 1u);
  const auto& result = report.results[0];
  EXPECT_EQ(result.outcome, Outcome::kPass) << result.message;
  ASSERT_EQ(result.evidence.exchanges.size(), 1u);
  const auto& x = result.evidence.exchanges[0];
  EXPECT_EQ(x.label, "to the mock's echo");
  EXPECT_EQ(x.request, "GET /echo");
  EXPECT_EQ(x.status, 200);
  bool redacted = false;
  for (const auto& [name, value] : x.request_headers) {
    if (name == "Authorization") redacted = value.find("secret-token") == std::string::npos;
  }
  EXPECT_TRUE(redacted) << "a secret header value reached the evidence";
}

TEST_F(EngineTest, AStopEndsTheRunningCaseAndTheRestAreNotRun) {
  StopSource stop;
  const std::vector<CaseDef> catalog = {
      Def("t.first", Level::kMust, [](CaseContext&) {}),
      Def("t.interrupted", Level::kMust,
          [&stop](CaseContext& ctx) {
            stop.RequestStop("interrupted by SIGINT", core::kExitSigint);
            ctx.Fail("half-seen");
          }),
      Def("t.never", Level::kMust, [](CaseContext& ctx) { ctx.Fail("must not run"); }),
  };
  auto options = Options({UrlTarget("a"), UrlTarget("b")});
  options.stop = &stop;
  auto report = engine::Run(catalog, All(catalog), options);
  auto r = ByCase(report);
  EXPECT_EQ(r["a t.first"]->outcome, Outcome::kPass);
  EXPECT_EQ(r["a t.interrupted"]->outcome, Outcome::kNotRun);
  EXPECT_THAT(r["a t.interrupted"]->message, HasSubstr("stopped while running"));
  EXPECT_EQ(r["a t.never"]->outcome, Outcome::kNotRun);
  for (const char* id : {"b t.first", "b t.interrupted", "b t.never"}) {
    EXPECT_EQ(r[id]->outcome, Outcome::kNotRun) << id;
    EXPECT_THAT(r[id]->message, HasSubstr("interrupted by SIGINT")) << id;
  }
  ASSERT_TRUE(report.interrupted);
  EXPECT_EQ(core::ExitCodeFor(report), core::kExitSigint);
}

TEST_F(EngineTest, TheDeadlineStopsARequestInFlight) {
  StopSource stop;
  stop.SetDeadline(StopSource::Clock::now() + std::chrono::milliseconds(300),
                   "the run's --timeout of 0.3 s was reached", core::kExitTimeout);
  const std::vector<CaseDef> catalog = {Def("t.slow", Level::kMust, [](CaseContext& ctx) {
    auto config = ctx.backend().config();
    config.headers_delay_ms = 30'000;  // a backend that says nothing for 30 s
    ctx.backend().SetConfig(config);
    harness::HttpRequest request;
    request.url = ctx.backend().url() + "/echo";
    request.total_timeout = std::chrono::seconds(60);
    auto r = ctx.Perform(request);
    if (!r.stopped) ctx.Fail("the request was not stopped: " + r.error);
  })};
  auto options = Options({UrlTarget("u")});
  options.stop = &stop;
  auto start = std::chrono::steady_clock::now();
  auto report = engine::Run(catalog, All(catalog), options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  ASSERT_EQ(report.results.size(), 1u);
  EXPECT_EQ(report.results[0].outcome, Outcome::kNotRun);
  EXPECT_EQ(core::ExitCodeFor(report), core::kExitTimeout);
}

// `--repeat N`: each case N times in a row from the mock's defaults, the runs
// counted, the first of the worst runs shown; with jobs, and the liveness
// case still last.
TEST_F(EngineTest, RepeatRunsEachCaseNTimesAndCountsThePasses) {
  std::map<std::string, int> calls;  // per target: runs of t.flaky (each target on its thread)
  std::mutex mutex;
  std::vector<std::string> order;
  auto runs_of = [&](CaseContext& ctx) {
    std::lock_guard lock(mutex);
    order.push_back(ctx.spec().name + " " + ctx.info().id);
    return ++calls[ctx.spec().name + " " + ctx.info().id];
  };
  std::vector<CaseDef> catalog = {
      Def("t.live", Level::kMust, [&](CaseContext& ctx) { runs_of(ctx); }),
      Def("t.steady", Level::kMust,
          [&](CaseContext& ctx) {
            runs_of(ctx);
            // Each run starts from the backend's defaults, whatever the last one set.
            auto config = ctx.backend().config();
            if (config.token_count == 3) ctx.Fail("the mock kept the last run's config");
            config.token_count = 3;
            ctx.backend().SetConfig(config);
          }),
      Def("t.flaky", Level::kMust,
          [&](CaseContext& ctx) {
            const int n = runs_of(ctx);
            harness::HttpRequest request;
            request.url = ctx.backend().url() + "/echo";
            ctx.Perform(request, "run " + std::to_string(n));
            if (n % 2 == 0) ctx.Fail("expected x, got y in run " + std::to_string(n));
          }),
      Def("t.should", Level::kShould,
          [&](CaseContext& ctx) {
            if (runs_of(ctx) == 4) ctx.Fail("missed once");
          }),
  };
  catalog[0].judges_liveness = true;
  auto options = Options({UrlTarget("a"), UrlTarget("b")});
  options.repeat = 5;
  options.jobs = 2;
  auto report = engine::Run(catalog, All(catalog), options);
  ASSERT_EQ(report.results.size(), 8u);
  auto r = ByCase(report);
  for (const char* target : {"a", "b"}) {
    const std::string t = target;
    for (const char* id : {"t.live", "t.steady", "t.flaky", "t.should"}) {
      EXPECT_EQ(calls[t + " " + id], 5) << t << " " << id;
      EXPECT_EQ(r[t + " " + id]->repeat, 5);
      EXPECT_EQ(r[t + " " + id]->runs.size(), 5u);
    }
    EXPECT_EQ(r[t + " t.steady"]->outcome, Outcome::kPass) << r[t + " t.steady"]->message;
    EXPECT_EQ(r[t + " t.steady"]->PassedRuns(), 5);
    const auto& flaky = *r[t + " t.flaky"];
    EXPECT_EQ(flaky.outcome, Outcome::kFail);
    EXPECT_EQ(flaky.PassedRuns(), 3);
    EXPECT_THAT(flaky.message, HasSubstr("passed 3 of 5 runs (fail in runs 2, 4); run 2: "
                                         "expected x, got y in run 2"));
    ASSERT_EQ(flaky.evidence.exchanges.size(), 1u);  // the shown run's own evidence
    EXPECT_EQ(flaky.evidence.exchanges[0].label, "run 2");
    ASSERT_EQ(flaky.failures.size(), 1u);
    EXPECT_EQ(flaky.failures[0].exchange, 0);
    EXPECT_EQ(r[t + " t.should"]->outcome, Outcome::kWarn);
    EXPECT_EQ(r[t + " t.should"]->runs[3].outcome, Outcome::kWarn);
    EXPECT_EQ(r[t + " t.should"]->runs[3].message, "missed once");
  }
  // Per target: each case's runs in a row, the liveness case's last.
  std::vector<std::string> of_a;
  for (const auto& o : order) {
    if (o[0] == 'a') of_a.push_back(o);
  }
  ASSERT_EQ(of_a.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    const char* id = i < 5 ? "t.steady" : i < 10 ? "t.flaky" : i < 15 ? "t.should" : "t.live";
    EXPECT_EQ(of_a[i], std::string("a ") + id) << i;
  }
  EXPECT_EQ(core::ExitCodeFor(report), core::kExitMustFailed);
}

TEST_F(EngineTest, ARepeatCutShortByAStopIsNotAPass) {
  StopSource stop;
  int runs = 0;
  const std::vector<CaseDef> catalog = {Def("t.pass", Level::kMust, [&](CaseContext&) {
    if (++runs == 3) stop.RequestStop("interrupted by SIGINT", core::kExitSigint);
  })};
  auto options = Options({UrlTarget("u")});
  options.stop = &stop;
  options.repeat = 10;
  auto report = engine::Run(catalog, All(catalog), options);
  ASSERT_EQ(report.results.size(), 1u);
  const auto& r = report.results[0];
  EXPECT_EQ(runs, 3);
  EXPECT_EQ(r.outcome, Outcome::kNotRun);
  EXPECT_THAT(r.message, HasSubstr("stopped after 2 of 10 runs (2 passed)"));
  EXPECT_EQ(r.runs.size(), 2u);
  EXPECT_EQ(core::ExitCodeFor(report), core::kExitSigint);
}

TEST_F(EngineTest, SelectCasesNamesEveryGlobThatMatchesNothing) {
  const std::vector<CaseDef> catalog = {Def("a.one", Level::kMust, [](CaseContext&) {}),
                                        Def("b.two", Level::kMust, [](CaseContext&) {})};
  auto ok = SelectCases(catalog, "a.*, b.two");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  auto bad = SelectCases(catalog, "a.*,no.such.*,zzz");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error(), HasSubstr("\"no.such.*\", \"zzz\""));
  EXPECT_THAT(bad.error(), Not(HasSubstr("a.*")));
}

TEST_F(EngineTest, CasesThatJudgeLivenessRunLast) {
  std::vector<CaseDef> catalog = {Def("a.live", Level::kMust, [](CaseContext&) {}),
                                  Def("a.one", Level::kMust, [](CaseContext&) {})};
  catalog[0].judges_liveness = true;
  auto selected = SelectCases(catalog, "");
  ASSERT_TRUE(selected.ok());
  EXPECT_EQ((*selected).back()->info.id, "a.live");
}

// The real catalog on the real reference server, twice in one process, and
// four targets at once: same cases, same outcomes.
harness::TargetSpec Reference(const std::string& name) {
  auto spec = harness::BuiltinCppSpec();
  spec.name = name;
  return spec;
}

TEST_F(EngineTest, RunsTwiceInOneProcessAndWithFourJobs) {
  auto selected = SelectCases(suites::Catalog(),
                              "server.ready,chat.status,chat.content-parity,"
                              "direct.status-passthrough,server.survives");
  ASSERT_TRUE(selected.ok());
  auto first = engine::Run(suites::Catalog(), *selected, Options({Reference("cpp")}));
  auto second = engine::Run(suites::Catalog(), *selected, Options({Reference("cpp")}));
  ASSERT_EQ(first.results.size(), selected->size());
  ASSERT_EQ(second.results.size(), selected->size());
  for (std::size_t i = 0; i < first.results.size(); ++i) {
    EXPECT_EQ(first.results[i].outcome, Outcome::kPass)
        << first.results[i].case_id << ": " << first.results[i].message;
    EXPECT_EQ(second.results[i].case_id, first.results[i].case_id);
    EXPECT_EQ(second.results[i].outcome, first.results[i].outcome);
  }
  auto options = Options({Reference("a"), Reference("b"), Reference("c"), Reference("d")});
  options.jobs = 4;
  auto parallel = engine::Run(suites::Catalog(), *selected, options);
  ASSERT_EQ(parallel.results.size(), 4 * selected->size());
  for (std::size_t t = 0; t < 4; ++t) {
    EXPECT_EQ(parallel.targets[t].name, std::string(1, char('a' + t)));
    for (std::size_t i = 0; i < selected->size(); ++i) {
      const auto& r = parallel.results[t * selected->size() + i];
      EXPECT_EQ(r.target, parallel.targets[t].name);
      EXPECT_EQ(r.case_id, first.results[i].case_id);
      EXPECT_EQ(r.outcome, Outcome::kPass) << r.target << " " << r.case_id << ": " << r.message;
    }
  }
}

}  // namespace
}  // namespace streamcheck::engine
