// Sharded runs in-process (engine/shard.h): --shard parsing, the partition of
// (target, case) pairs (each once, liveness cases on every shard of their
// target and last, balanced, deterministic, new cases at the default), and
// shards run and merged (reports/merge.h) giving the unsharded run's results.
#include "engine/shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "core/verdict.h"
#include "mocks/mock_backend.h"
#include "reports/merge.h"
#include "reports/writers.h"
#include "suites/catalog.h"

namespace streamcheck::engine {
namespace {

namespace fs = std::filesystem;
using core::Level;
using core::Outcome;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

harness::TargetSpec Spec(const std::string& name, bool managed = true) {
  harness::TargetSpec spec;
  spec.name = name;
  if (managed) {
    spec.command = {"true"};
  } else {
    spec.url = "http://127.0.0.1:1";
  }
  return spec;
}

std::vector<harness::TargetSpec> Specs(int n) {
  std::vector<harness::TargetSpec> specs;
  for (int i = 0; i < n; ++i) specs.push_back(Spec("t" + std::to_string(i), i % 2 == 0));
  return specs;
}

std::vector<const CaseDef*> All(const std::vector<CaseDef>& catalog) {
  auto selected = SelectCases(catalog, "");
  EXPECT_TRUE(selected.ok());
  return selected.ok() ? *selected : std::vector<const CaseDef*>{};
}

TEST(ShardTest, ParsesIOverN) {
  auto s = ParseShard("2/7");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 7);
  s = ParseShard("0/1");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->count, 1);
  for (const char* bad : {"", "3", "3/3", "-1/3", "1/0", "a/3", "1/3x", "1 /3", "/3", "1/",
                          "0/1001", "99999999999/3"}) {
    auto r = ParseShard(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_THAT(r.error(), HasSubstr("expected I/N with 0 <= I < N")) << bad;
    }
  }
}

TEST(ShardTest, CasesTheTableDoesNotKnowGetTheDefault) {
  core::CaseInfo info;
  info.id = "chat.a-case-added-later";
  EXPECT_EQ(TypicalCaseMs(info), kDefaultCaseMs);
  info.id = "direct.stall-survives";  // a known case that waits 5 s
  EXPECT_GT(TypicalCaseMs(info), 4000);
  EXPECT_GT(TypicalStartMs(Spec("spawned", true)), TypicalStartMs(Spec("running", false)));
}

// The partition's promises, over the real catalog.
void ExpectPartition(const std::vector<harness::TargetSpec>& targets,
                     const std::vector<const CaseDef*>& selected, int count) {
  SCOPED_TRACE("count " + std::to_string(count) + ", " + std::to_string(targets.size()) +
               " targets, " + std::to_string(selected.size()) + " cases");
  const auto plans = PlanShards(targets, selected, count);
  ASSERT_EQ(plans.size(), std::size_t(count));
  std::map<std::pair<std::size_t, const CaseDef*>, int> seen;
  std::set<std::size_t> targets_with_cases;
  long long total = 0, longest_piece = 0, most = 0;
  for (const auto* c : selected)
    longest_piece = std::max<long long>(longest_piece, TypicalCaseMs(c->info));
  bool liveness_only = true;
  for (const auto* c : selected) liveness_only = liveness_only && c->judges_liveness;
  for (const auto& plan : plans) {
    std::size_t pairs = 0;
    std::size_t last_target = 0;
    bool first = true;
    for (const auto& t : plan.targets) {
      EXPECT_TRUE(first || t.target > last_target) << "targets in the run's order";
      first = false;
      last_target = t.target;
      ASSERT_FALSE(t.cases.empty());
      targets_with_cases.insert(t.target);
      // In run order, as SelectCases gives it, so liveness cases come last.
      std::size_t at = 0;
      for (const auto* c : t.cases) {
        auto it = std::find(selected.begin() + at, selected.end(), c);
        ASSERT_NE(it, selected.end()) << c->info.id << " out of run order";
        at = it - selected.begin() + 1;
        ++seen[{t.target, c}];
      }
      // Every liveness case is here when any case of the target is.
      for (const auto* c : selected) {
        if (c->judges_liveness) {
          EXPECT_NE(std::find(t.cases.begin(), t.cases.end(), c), t.cases.end())
              << c->info.id << " missing from a shard of " << targets[t.target].name;
        }
      }
      pairs += t.cases.size();
    }
    EXPECT_EQ(plan.pairs, pairs);
    total += plan.estimated_ms;
    most = std::max(most, plan.estimated_ms);
  }
  // Each non-liveness pair exactly once; each target somewhere.
  for (std::size_t t = 0; t < targets.size(); ++t) {
    if (!selected.empty()) {
      EXPECT_TRUE(targets_with_cases.count(t)) << targets[t].name;
    }
    for (const auto* c : selected) {
      const int n = seen[{t, c}];
      if (c->judges_liveness && !liveness_only) {
        EXPECT_GE(n, 1) << c->info.id;
      } else {
        EXPECT_EQ(n, 1) << targets[t].name << " " << c->info.id;
      }
    }
  }
  // Balanced: no shard ends later than an even share plus the longest piece
  // and one start (greedy longest-first's bound, with starts counted).
  if (count > 1) {
    long long slack = longest_piece + TypicalStartMs(Spec("x", true));
    for (const auto* c : selected) {
      if (c->judges_liveness) slack += TypicalCaseMs(c->info);
    }
    EXPECT_LE(most, total / count + slack);
  }
  // Deterministic: the same inputs give the same plan.
  const auto again = PlanShards(targets, selected, count);
  for (int s = 0; s < count; ++s) {
    ASSERT_EQ(again[s].targets.size(), plans[s].targets.size());
    for (std::size_t i = 0; i < plans[s].targets.size(); ++i) {
      EXPECT_EQ(again[s].targets[i].target, plans[s].targets[i].target);
      EXPECT_EQ(again[s].targets[i].cases, plans[s].targets[i].cases);
    }
  }
}

TEST(ShardTest, PartitionsTheCatalogForEveryCount) {
  const auto selected = All(suites::Catalog());
  for (int targets : {1, 4, 6}) {
    for (int count : {1, 2, 3, 4, 7, 16}) ExpectPartition(Specs(targets), selected, count);
  }
  auto some = SelectCases(suites::Catalog(), "chat.*,server.*");
  ASSERT_TRUE(some.ok());
  ExpectPartition(Specs(2), *some, 3);
  auto liveness = SelectCases(suites::Catalog(), "server.survives");
  ASSERT_TRUE(liveness.ok());
  ExpectPartition(Specs(3), *liveness, 2);
}

TEST(ShardTest, OneShardIsTheWholeRun) {
  const auto selected = All(suites::Catalog());
  const auto targets = Specs(2);
  const auto plans = PlanShards(targets, selected, 1);
  ASSERT_EQ(plans.size(), 1u);
  ASSERT_EQ(plans[0].targets.size(), 2u);
  for (const auto& t : plans[0].targets) EXPECT_EQ(t.cases, selected);
}

TEST(ShardTest, ShardsWithNothingToRunAreEmpty) {
  auto selected = SelectCases(suites::Catalog(), "server.ready,chat.status");
  ASSERT_TRUE(selected.ok());
  const auto plans = PlanShards({Spec("only")}, *selected, 7);
  int empty = 0;
  for (const auto& p : plans) empty += p.empty() ? 1 : 0;
  EXPECT_EQ(empty, 5);
  EXPECT_TRUE(plans[6].empty());  // the lowest indexes get the pieces
}

TEST(ShardTest, TargetsStayWholeWhereTheyFit) {
  // Two targets of four 100 ms cases on two shards: one target per shard,
  // each started once, whatever a start costs.
  std::vector<CaseDef> catalog;
  for (int i = 0; i < 4; ++i) {
    CaseDef d;
    d.info.id = "t.c" + std::to_string(i);
    catalog.push_back(d);
  }
  const auto selected = All(catalog);
  for (int start : {10, 5000}) {
    SCOPED_TRACE("start " + std::to_string(start));
    PlanCosts costs{[](const core::CaseInfo&) { return 100; }, nullptr};
    costs.start_ms = start == 10 ? +[](const harness::TargetSpec&) { return 10; }
                                 : +[](const harness::TargetSpec&) { return 5000; };
    auto plans = PlanShards({Spec("a"), Spec("b")}, selected, 2, costs);
    ASSERT_EQ(plans[0].targets.size(), 1u);
    ASSERT_EQ(plans[1].targets.size(), 1u);
    EXPECT_EQ(plans[0].targets[0].target, 0u);
    EXPECT_EQ(plans[1].targets[0].target, 1u);
    EXPECT_EQ(plans[0].estimated_ms, start + 400);
  }
  // One target on two shards is split in the middle: both start it.
  PlanCosts costs{[](const core::CaseInfo&) { return 100; },
                  [](const harness::TargetSpec&) { return 10; }};
  auto plans = PlanShards({Spec("a")}, selected, 2, costs);
  EXPECT_EQ(plans[0].pairs, 2u);
  EXPECT_EQ(plans[1].pairs, 2u);
  // Eight equal targets on four shards: two whole targets each.
  std::vector<harness::TargetSpec> eight;
  for (int i = 0; i < 8; ++i) eight.push_back(Spec("t" + std::to_string(i)));
  plans = PlanShards(eight, selected, 4, costs);
  for (const auto& p : plans) {
    EXPECT_EQ(p.targets.size(), 2u);
    EXPECT_EQ(p.pairs, 8u);
  }
}

TEST(ShardTest, ShardInfoRecordsTheWholeSelection) {
  auto selected = SelectCases(suites::Catalog(), "chat.status,server.*");
  ASSERT_TRUE(selected.ok());
  auto info = ShardInfoFor({1, 3}, {Spec("a"), Spec("b")}, *selected);
  EXPECT_EQ(info.count, 3);
  EXPECT_THAT(info.indexes, ElementsAre(1));
  ASSERT_EQ(info.selected.size(), 2u);
  EXPECT_EQ(info.selected[1].target, "b");
  EXPECT_THAT(
      info.selected[1].cases,
      ElementsAre("server.ready", "chat.status", "server.health-during-stream",
                  "server.request-line", "server.cl-te", "server.content-length",
                  "server.transfer-encoding", "server.large-header", "server.header-size",
                  "server.keep-alive", "server.desync", "server.pipelining", "server.http10",
                  "server.no-length-body", "server.slow-clients", "server.body-limits",
                  "server.header-count", "server.survives", "server.graceful-shutdown"));
  EXPECT_THAT(info.liveness, ElementsAre("server.survives"));
}

// Shards of a run on running targets (in-process mocks answer the ready
// path), merged, against the same run unsharded.
class ShardRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 2; ++i) {
      auto mock = mocks::MockBackend::Start();
      ASSERT_TRUE(mock.ok()) << mock.error();
      servers_.push_back(std::move(*mock));
    }
    log_dir_ = fs::temp_directory_path() / ("shard-test-" + std::to_string(getpid()));
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(log_dir_, ec);
  }

  RunOptions Options() {
    RunOptions o;
    for (int i = 0; i < 2; ++i) {
      harness::TargetSpec spec;
      spec.name = "u" + std::to_string(i);
      spec.url = servers_[i]->url();
      spec.ready_path = "/v1/health/ready";
      spec.origin = "test";
      o.targets.push_back(spec);
    }
    o.session.root = STREAMCHECK_SOURCE_ROOT;
    o.session.bin = fs::path(STREAMCHECK_BIN).parent_path();
    o.session.log_dir = log_dir_;
    o.version = "test";
    return o;
  }

  static CaseDef Def(std::string id, Level level, std::function<void(CaseContext&)> body,
                     bool liveness = false) {
    CaseDef d;
    d.info.id = id;
    d.info.area = id.substr(0, id.find('.'));
    d.info.level = level;
    d.body = std::move(body);
    d.judges_liveness = liveness;
    return d;
  }

  std::vector<std::unique_ptr<mocks::MockBackend>> servers_;
  fs::path log_dir_;
};

std::vector<std::string> Outcomes(const core::RunReport& report) {
  std::vector<std::string> out;
  for (const auto& r : report.results) {
    out.push_back(r.target + " " + r.case_id + " " + std::string(ToString(r.outcome)));
  }
  return out;
}

TEST_F(ShardRunTest, ShardsMergedAreTheUnshardedRun) {
  // The liveness case fails on the second target only: with a case of that
  // target on several shards, every one of them judges it.
  const std::vector<CaseDef> catalog = {
      Def("t.pass", Level::kMust, [](CaseContext&) {}),
      Def("t.fail", Level::kMust, [](CaseContext& ctx) { ctx.Fail("expected x, got y"); }),
      Def("t.warn", Level::kShould, [](CaseContext& ctx) { ctx.Fail("expected a, got b"); }),
      Def("t.skip", Level::kMust, [](CaseContext& ctx) { ctx.Skip("cannot measure here"); }),
      Def("t.request", Level::kMust,
          [](CaseContext& ctx) {
            harness::HttpRequest request;
            request.url = ctx.Url("/v1/health/ready");
            auto r = ctx.Perform(request, "ready");
            if (r.status != 200) ctx.Fail("expected 200, got " + std::to_string(r.status));
          }),
      Def("t.more", Level::kMust, [](CaseContext&) {}),
      Def(
          "t.alive", Level::kMust,
          [](CaseContext& ctx) {
            if (ctx.spec().name == "u1") ctx.Fail("expected it alive");
          },
          true),
  };
  const auto selected = All(catalog);
  auto options = Options();
  const auto whole = engine::Run(catalog, selected, options);
  ASSERT_EQ(whole.results.size(), 14u);
  const int whole_exit = core::ExitCodeFor(whole);
  EXPECT_EQ(whole_exit, core::kExitMustFailed);

  for (int count : {1, 3, 7}) {
    for (int jobs : {1, 2}) {
      SCOPED_TRACE("count " + std::to_string(count) + " jobs " + std::to_string(jobs));
      options.jobs = jobs;
      PlanCosts costs{[](const core::CaseInfo&) { return 100; },
                      [](const harness::TargetSpec&) { return 10; }};
      const auto plans = PlanShards(options.targets, selected, count, costs);
      std::vector<reports::MergeInput> inputs;
      for (int s = 0; s < count; ++s) {
        auto report = RunPlan(catalog, plans[s], options);
        report.shard = ShardInfoFor({s, count}, options.targets, selected);
        if (plans[s].empty()) {
          EXPECT_THAT(report.results, IsEmpty());
          EXPECT_EQ(core::ExitCodeFor(report), core::kExitNothingRan);
        }
        // Through the JSON a shard writes and the merge reads.
        auto reread = reports::ParseJsonReport(reports::ToJsonString(report));
        ASSERT_TRUE(reread.ok()) << reread.error();
        inputs.push_back({"shard" + std::to_string(s) + ".json", *reread});
      }
      auto merged = reports::Merge(inputs);
      ASSERT_TRUE(merged.ok()) << merged.error();
      EXPECT_EQ(Outcomes(merged->report), Outcomes(whole));
      EXPECT_THAT(merged->missing, IsEmpty());
      EXPECT_EQ(core::ExitCodeFor(merged->report), whole_exit);
      EXPECT_EQ(merged->report.targets.size(), 2u);
    }
  }
}

TEST_F(ShardRunTest, AnEmptyPlanRunsNothingAndIsNotGreen) {
  const std::vector<CaseDef> catalog = {Def("t.pass", Level::kMust, [](CaseContext&) {})};
  auto report = RunPlan(catalog, ShardPlan{}, Options());
  EXPECT_THAT(report.results, IsEmpty());
  EXPECT_THAT(report.targets, IsEmpty());
  EXPECT_EQ(report.catalog.size(), 1u);
  EXPECT_EQ(core::ExitCodeFor(report), core::kExitNothingRan);
}

TEST_F(ShardRunTest, AStopEndsEveryTargetOfTheShard) {
  StopSource stop;
  stop.RequestStop("interrupted by SIGINT", core::kExitSigint);
  const std::vector<CaseDef> catalog = {Def("t.pass", Level::kMust, [](CaseContext&) {})};
  auto options = Options();
  options.stop = &stop;
  options.jobs = 2;
  const auto plans = PlanShards(options.targets, All(catalog), 1);
  auto report = RunPlan(catalog, plans[0], options);
  ASSERT_EQ(report.results.size(), 2u);
  for (const auto& r : report.results) EXPECT_EQ(r.outcome, Outcome::kNotRun);
  ASSERT_TRUE(report.interrupted);
  EXPECT_EQ(core::ExitCodeFor(report), core::kExitSigint);
}

}  // namespace
}  // namespace streamcheck::engine
