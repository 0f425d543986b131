// report --merge as a pure function (reports/merge.h): shards put together in
// the run's order, what it refuses (naming both inputs), the liveness rule,
// missing results as errors, the verdict by core::ExitCodeFor, and a merged
// report that survives JSON and merges again.
#include "reports/merge.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/verdict.h"
#include "reports/writers.h"

namespace streamcheck::reports {
namespace {

using core::Level;
using core::Outcome;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<std::string> kCases = {"chat.a", "chat.b", "direct.c", "server.survives"};

std::vector<core::CaseInfo> Catalog() {
  std::vector<core::CaseInfo> catalog;
  for (const auto& id : kCases) {
    core::CaseInfo c;
    c.id = id;
    c.area = id.substr(0, id.find('.'));
    c.title = "title of " + id;
    catalog.push_back(c);
  }
  return catalog;
}

core::CaseResult Result(const std::string& target, const std::string& id, Outcome outcome) {
  core::CaseResult r;
  r.target = target;
  r.case_id = id;
  r.area = id.substr(0, id.find('.'));
  r.outcome = outcome;
  if (outcome != Outcome::kPass) r.message = id + " went " + std::string(ToString(outcome));
  return r;
}

core::TargetSummary Target(const std::string& name, const std::string& log = "") {
  core::TargetSummary t;
  t.name = name;
  t.url = "http://127.0.0.1:1/" + name;
  t.log_path = log;
  return t;
}

// Shard `index` of `count` of a run of kCases on cpp and flask, holding `cases`
// of each of `targets`, plus server.survives for each.
MergeInput Shard(int index, int count, const std::vector<std::string>& targets,
                 const std::vector<std::string>& cases, Outcome survives = Outcome::kPass) {
  MergeInput in;
  in.label = "s" + std::to_string(index) + ".json";
  auto& r = in.report;
  r.tool_version = "test";
  r.started_at = "2024-01-01T00:00:0" + std::to_string(index) + "Z";
  r.duration_ms = 1000 * (index + 1);
  r.catalog = Catalog();
  core::ShardInfo s;
  s.count = count;
  s.indexes = {index};
  s.selected = {{"cpp", kCases}, {"flask", kCases}};
  s.liveness = {"server.survives"};
  r.shard = s;
  for (const auto& t : targets) {
    r.targets.push_back(Target(t, "/logs/s" + std::to_string(index) + "/" + t + ".log"));
    for (const auto& c : cases) r.results.push_back(Result(t, c, Outcome::kPass));
    r.results.push_back(Result(t, "server.survives", survives));
  }
  return in;
}

std::vector<std::string> Pairs(const core::RunReport& report) {
  std::vector<std::string> out;
  for (const auto& r : report.results) {
    out.push_back(r.target + " " + r.case_id + " " + std::string(ToString(r.outcome)));
  }
  return out;
}

TEST(MergeTest, ShardsMergeInRunOrder) {
  // Given out of order: the merged results follow the run's selection.
  auto merged = Merge({Shard(1, 2, {"flask"}, {"chat.a", "chat.b", "direct.c"}),
                       Shard(0, 2, {"cpp"}, {"chat.a", "chat.b", "direct.c"})});
  ASSERT_TRUE(merged.ok()) << merged.error();
  EXPECT_THAT(Pairs(merged->report),
              ElementsAre("cpp chat.a pass", "cpp chat.b pass", "cpp direct.c pass",
                          "cpp server.survives pass", "flask chat.a pass", "flask chat.b pass",
                          "flask direct.c pass", "flask server.survives pass"));
  EXPECT_THAT(merged->missing, IsEmpty());
  EXPECT_THAT(merged->missing_shards, IsEmpty());
  ASSERT_TRUE(merged->report.shard);
  EXPECT_THAT(merged->report.shard->indexes, ElementsAre(0, 1));
  EXPECT_EQ(merged->report.shard->count, 2);
  ASSERT_EQ(merged->report.targets.size(), 2u);
  EXPECT_EQ(merged->report.targets[0].name, "cpp");  // in the run's order
  EXPECT_EQ(merged->report.started_at, "2024-01-01T00:00:00Z");
  EXPECT_DOUBLE_EQ(merged->report.duration_ms, 2000);  // the longest shard
  EXPECT_EQ(core::ExitCodeFor(merged->report), core::kExitPass);
  ASSERT_EQ(merged->logs.size(), 2u);
  EXPECT_EQ(merged->logs[0].from, "shard 1/2");
}

TEST(MergeTest, TheSameShardTwiceIsRefusedNamingBothFiles) {
  auto a = Shard(0, 2, {"cpp"}, {"chat.a"});
  auto b = Shard(0, 2, {"cpp"}, {"chat.a"});
  b.label = "copy.json";
  auto merged = Merge({a, b});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("s0.json and copy.json both hold shard 0/2"));
}

TEST(MergeTest, APairReportedTwiceIsRefusedNamingBothFiles) {
  // Whole runs (not sharded) that overlap in one case.
  MergeInput a, b;
  a.label = "chat.json";
  a.report.catalog = b.report.catalog = Catalog();
  a.report.targets = b.report.targets = {Target("cpp")};
  a.report.results = {Result("cpp", "chat.a", Outcome::kPass),
                      Result("cpp", "chat.b", Outcome::kPass)};
  b.label = "more.json";
  b.report.results = {Result("cpp", "chat.b", Outcome::kFail)};
  auto merged = Merge({a, b});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("chat.json and more.json both report it: cpp chat.b"));
  // One file that names a pair twice is refused as well.
  a.report.results.push_back(Result("cpp", "chat.a", Outcome::kFail));
  merged = Merge({a});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("chat.json reports it twice: cpp chat.a"));
}

TEST(MergeTest, WholeRunsOfOtherTargetsMerge) {
  MergeInput a, b;
  a.label = "cpp.json";
  b.label = "flask.json";
  a.report.catalog = b.report.catalog = Catalog();
  a.report.targets = {Target("cpp")};
  b.report.targets = {Target("flask")};
  // Out of catalog order in the file: merged in catalog order, liveness last.
  a.report.results = {Result("cpp", "server.survives", Outcome::kPass),
                      Result("cpp", "chat.b", Outcome::kPass),
                      Result("cpp", "chat.a", Outcome::kPass)};
  b.report.results = {Result("flask", "direct.c", Outcome::kFail)};
  auto merged = Merge({a, b});
  ASSERT_TRUE(merged.ok()) << merged.error();
  EXPECT_THAT(Pairs(merged->report),
              ElementsAre("cpp chat.a pass", "cpp chat.b pass", "cpp server.survives pass",
                          "flask direct.c fail"));
  EXPECT_FALSE(merged->report.shard);
  EXPECT_EQ(core::ExitCodeFor(merged->report), core::kExitMustFailed);
}

TEST(MergeTest, WholeRunsShareALivenessCaseByTheCatalogsRule) {
  MergeInput a, b;
  a.label = "chat.json";
  b.label = "direct.json";
  a.report.catalog = b.report.catalog = Catalog();
  a.report.results = {Result("cpp", "chat.a", Outcome::kPass),
                      Result("cpp", "server.survives", Outcome::kPass)};
  b.report.results = {Result("cpp", "direct.c", Outcome::kPass),
                      Result("cpp", "server.survives", Outcome::kFail)};
  // Without the rule it is a duplicate ...
  EXPECT_FALSE(Merge({a, b}).ok());
  // ... with it, the worst of the two.
  MergeOptions options;
  options.liveness = {"server.survives"};
  auto merged = Merge({a, b}, options);
  ASSERT_TRUE(merged.ok()) << merged.error();
  EXPECT_THAT(Pairs(merged->report),
              ElementsAre("cpp chat.a pass", "cpp direct.c pass", "cpp server.survives fail"));
  EXPECT_THAT(merged->report.results.back().message, HasSubstr("direct.json: server.survives"));
  EXPECT_THAT(merged->report.results.back().evidence.note, HasSubstr("judged on 2 runs"));
}

TEST(MergeTest, LivenessCaseFailsWhenAnyShardFailedIt) {
  auto merged = Merge({Shard(0, 3, {"cpp"}, {"chat.a"}, Outcome::kPass),
                       Shard(1, 3, {"cpp"}, {"chat.b"}, Outcome::kFail),
                       Shard(2, 3, {"cpp", "flask"}, {"direct.c"}, Outcome::kPass),
                       Shard(2, 3, {"flask"}, {"chat.a", "chat.b"})},
                      {});
  // Shard 2 twice: refused before any liveness merging.
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("both hold shard 2/3"));

  merged = Merge({Shard(0, 3, {"cpp"}, {"chat.a"}, Outcome::kPass),
                  Shard(1, 3, {"cpp", "flask"}, {"chat.b"}, Outcome::kFail),
                  Shard(2, 3, {"cpp", "flask"}, {"direct.c"}, Outcome::kPass)});
  ASSERT_TRUE(merged.ok()) << merged.error();
  const auto& results = merged->report.results;
  auto find = [&](const std::string& target, const std::string& id) -> const core::CaseResult& {
    for (const auto& r : results) {
      if (r.target == target && r.case_id == id) return r;
    }
    ADD_FAILURE() << "no result for " << target << " " << id;
    static core::CaseResult none;
    return none;
  };
  const auto& survives = find("cpp", "server.survives");
  EXPECT_EQ(survives.outcome, Outcome::kFail);
  EXPECT_THAT(survives.message, HasSubstr("shard 1/3: server.survives went fail"));
  EXPECT_THAT(survives.evidence.note,
              HasSubstr("judged on 3 shards (shard 0/3 pass, shard 1/3 fail, shard 2/3 pass)"));
  EXPECT_EQ(find("flask", "server.survives").outcome, Outcome::kFail);
  ASSERT_EQ(merged->notes.size(), 2u);
  EXPECT_EQ(core::ExitCodeFor(merged->report), core::kExitMustFailed);
  // Each pair once, liveness included (flask chat.a: no shard had it).
  EXPECT_EQ(results.size(), 8u);
  EXPECT_THAT(merged->missing, ElementsAre("flask chat.a"));
}

TEST(MergeTest, LivenessRanksErrorOverNotRunOverSkipOverPass) {
  for (auto [a, b, want] : {std::tuple{Outcome::kPass, Outcome::kError, Outcome::kError},
                            std::tuple{Outcome::kNotRun, Outcome::kPass, Outcome::kNotRun},
                            std::tuple{Outcome::kSkip, Outcome::kPass, Outcome::kSkip},
                            std::tuple{Outcome::kError, Outcome::kFail, Outcome::kFail},
                            std::tuple{Outcome::kNotRun, Outcome::kError, Outcome::kError}}) {
    auto merged = Merge({
        Shard(0, 2, {"cpp"}, {"chat.a", "chat.b"}, a),
        Shard(1, 2, {"cpp", "flask"}, {"direct.c"}, b),
        // flask's other cases, from a merge of its own later: not needed here
    });
    ASSERT_TRUE(merged.ok()) << merged.error();
    for (const auto& r : merged->report.results) {
      if (r.target == "cpp" && r.case_id == "server.survives") {
        EXPECT_EQ(r.outcome, want) << ToString(a) << " + " << ToString(b);
      }
    }
  }
}

TEST(MergeTest, WhatNoShardReportedIsAnErrorAndNotGreen) {
  // Shard 1 of 2 never arrived: its pairs are listed and are errors.
  auto merged = Merge({Shard(0, 2, {"cpp"}, {"chat.a", "chat.b", "direct.c"})});
  ASSERT_TRUE(merged.ok()) << merged.error();
  EXPECT_THAT(merged->missing_shards, ElementsAre(1));
  EXPECT_THAT(merged->missing, ElementsAre("flask chat.a", "flask chat.b", "flask direct.c",
                                           "flask server.survives"));
  int errors = 0;
  for (const auto& r : merged->report.results) {
    if (r.target != "flask") continue;
    ++errors;
    EXPECT_EQ(r.outcome, Outcome::kError);
    EXPECT_THAT(r.message, HasSubstr("no shard reported this case: shard 1/2 was not merged"));
    EXPECT_THAT(r.evidence.exchanges, IsEmpty());
  }
  EXPECT_EQ(errors, 4);
  EXPECT_EQ(core::ExitCodeFor(merged->report), core::kExitHarness);
  EXPECT_THAT(core::VerdictLine(merged->report), HasSubstr("exit 3"));
}

TEST(MergeTest, CatalogsThatDifferAreRefusedNamingBothFiles) {
  auto a = Shard(0, 2, {"cpp"}, {"chat.a"});
  auto b = Shard(1, 2, {"flask"}, {"chat.b"});
  core::CaseInfo extra;
  extra.id = "chat.new";
  b.report.catalog.push_back(extra);
  auto merged = Merge({a, b});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("s0.json and s1.json come from different catalogs"));
  EXPECT_THAT(merged.error(), HasSubstr("chat.new only in s1.json"));
  EXPECT_THAT(merged.error(), HasSubstr(CatalogVersion(a.report.catalog)));
  // A case whose facts changed is another catalog too.
  b.report.catalog = Catalog();
  b.report.catalog[1].level = Level::kShould;
  merged = Merge({a, b});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("chat.b differs"));
  EXPECT_NE(CatalogVersion(a.report.catalog), CatalogVersion(b.report.catalog));
}

TEST(MergeTest, ShardsOfOtherRunsAreRefused) {
  auto a = Shard(0, 2, {"cpp"}, {"chat.a"});
  auto b = Shard(1, 3, {"flask"}, {"chat.b"});
  auto merged = Merge({a, b});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("different splits: shard 0/2 and shard 1/3"));

  b = Shard(1, 2, {"flask"}, {"chat.b"});
  b.report.shard->selected.pop_back();
  merged = Merge({a, b});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("s0.json and s1.json are shards of different runs"));

  MergeInput whole;
  whole.label = "whole.json";
  whole.report.catalog = Catalog();
  whole.report.results = {Result("nginx", "chat.a", Outcome::kPass)};
  merged = Merge({a, whole});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("s0.json is shard 0/2 of a sharded run, whole.json is"));
}

TEST(MergeTest, RunsGatedDifferentlyAreRefused) {
  auto a = Shard(0, 2, {"cpp"}, {"chat.a"});
  auto b = Shard(1, 2, {"flask"}, {"chat.b"});
  b.report.gate.strict = true;
  auto merged = Merge({a, b});
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.error(), HasSubstr("s0.json and s1.json were gated differently"));
  a.report.gate.strict = true;
  merged = Merge({a, b});
  ASSERT_TRUE(merged.ok()) << merged.error();
  EXPECT_TRUE(merged->report.gate.strict);
}

TEST(MergeTest, InterruptedShardMakesTheMergeInterrupted) {
  auto a = Shard(0, 2, {"cpp"}, {"chat.a", "chat.b", "direct.c"});
  auto b = Shard(1, 2, {"flask"}, {"chat.a", "chat.b", "direct.c"});
  b.report.interrupted = core::Interruption{"the run's --timeout of 5 s was reached", 124};
  b.report.results[2].outcome = Outcome::kNotRun;
  auto merged = Merge({a, b});
  ASSERT_TRUE(merged.ok()) << merged.error();
  ASSERT_TRUE(merged->report.interrupted);
  EXPECT_EQ(core::ExitCodeFor(merged->report), 124);
  EXPECT_THAT(merged->missing, IsEmpty());  // not-run was reported: it stays not-run
}

TEST(MergeTest, TargetsTestedOnSeveralShardsKeepEveryProblem) {
  auto a = Shard(0, 2, {"cpp", "flask"}, {"chat.a"});
  auto b = Shard(1, 2, {"cpp", "flask"}, {"chat.b", "direct.c"});
  b.report.targets[1].problem = "could not be started: port in use";
  b.report.targets[1].stop.left_behind = true;
  b.report.targets[1].stop.exit = "killed by signal 9 (SIGKILL)";
  auto merged = Merge({a, b});
  ASSERT_TRUE(merged.ok()) << merged.error();
  ASSERT_EQ(merged->report.targets.size(), 2u);
  EXPECT_THAT(merged->report.targets[0].problem, IsEmpty());
  EXPECT_EQ(merged->report.targets[1].problem, "shard 1/2: could not be started: port in use");
  EXPECT_TRUE(merged->report.targets[1].stop.left_behind);
  EXPECT_THAT(merged->report.targets[1].stop.exit, HasSubstr("shard 1/2: killed by signal 9"));
  EXPECT_EQ(core::ExitCodeFor(merged->report), core::kExitHarness);
  EXPECT_EQ(merged->logs.size(), 4u);
}

TEST(MergeTest, AMergedReportSurvivesJsonAndMergesAgain) {
  auto a = Shard(0, 3, {"cpp"}, {"chat.a", "chat.b"});
  auto b = Shard(1, 3, {"cpp", "flask"}, {"direct.c"});
  auto c = Shard(2, 3, {"flask"}, {"chat.a", "chat.b"});
  auto partial = Merge({a, b});
  ASSERT_TRUE(partial.ok()) << partial.error();
  EXPECT_EQ(partial->missing.size(), 2u);  // flask chat.a, chat.b: shard 2 not yet merged
  // Through JSON and back, the partial merge is an input like any other.
  auto reread = ParseJsonReport(ToJsonString(partial->report));
  ASSERT_TRUE(reread.ok()) << reread.error();
  ASSERT_TRUE(reread->shard);
  EXPECT_THAT(reread->shard->indexes, ElementsAre(0, 1));
  EXPECT_EQ(reread->shard->selected.size(), 2u);
  EXPECT_THAT(reread->shard->liveness, ElementsAre("server.survives"));
  EXPECT_EQ(reread->shard->unreported.size(), 1u);
  MergeInput again{"partial.json", *reread};
  // Its errors for shard 2's pairs stand in for that shard: shard 2 replaces them.
  auto full = Merge({again, c});
  ASSERT_TRUE(full.ok()) << full.error();
  EXPECT_THAT(full->missing, IsEmpty());
  EXPECT_THAT(full->report.shard->indexes, ElementsAre(0, 1, 2));
  EXPECT_THAT(full->report.shard->unreported, IsEmpty());
  auto at_once = Merge({a, b, c});
  ASSERT_TRUE(at_once.ok()) << at_once.error();
  EXPECT_EQ(Pairs(full->report), Pairs(at_once->report));
  EXPECT_EQ(core::ExitCodeFor(full->report), core::kExitPass);
  // Given the partial merge twice, shards 0 and 1 are twice.
  auto twice = Merge({again, again});
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.error(), HasSubstr("partial.json and partial.json both hold shard 0/3"));
}

}  // namespace
}  // namespace streamcheck::reports
