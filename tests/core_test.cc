// The verdict rules: one pure function from what a case recorded to its
// outcome, and one from a run to its exit status.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "core/verdict.h"

namespace streamcheck::core {
namespace {

using ::testing::HasSubstr;

CaseRecord Ran() {
  CaseRecord r;
  r.ran = true;
  return r;
}

CaseRecord WithFailure(std::string message) {
  CaseRecord r = Ran();
  r.failures.push_back({std::move(message), 0});
  return r;
}

TEST(JudgeTest, ACaseThatDidNotRunIsNeverAPass) {
  for (Level level : {Level::kMust, Level::kShould, Level::kInfo}) {
    EXPECT_EQ(Judge(level, CaseRecord{}).outcome, Outcome::kNotRun);
    CaseRecord cut = Ran();
    cut.not_run = "stopped while running: interrupted by SIGINT";
    EXPECT_EQ(Judge(level, cut).outcome, Outcome::kNotRun);
    EXPECT_EQ(Judge(level, cut).message, *cut.not_run);
    // Not run wins over what a cut-short body saw, either way.
    cut.failures.push_back({"half a check", -1});
    EXPECT_EQ(Judge(level, cut).outcome, Outcome::kNotRun);
  }
}

TEST(JudgeTest, FailuresAreJudgedByLevel) {
  EXPECT_EQ(Judge(Level::kMust, WithFailure("x")).outcome, Outcome::kFail);
  EXPECT_EQ(Judge(Level::kShould, WithFailure("x")).outcome, Outcome::kWarn);
  // INFO is recorded, never judged: the message keeps what was seen.
  auto info = Judge(Level::kInfo, WithFailure("seen"));
  EXPECT_EQ(info.outcome, Outcome::kPass);
  EXPECT_EQ(info.message, "seen");
}

Verdict RunOf(Outcome o, std::string message = "") { return {o, std::move(message)}; }

TEST(JudgeRepeatedTest, PassesOnlyWhenEveryRunPassed) {
  std::vector<Verdict> runs(10, RunOf(Outcome::kPass));
  EXPECT_EQ(JudgeRepeated(runs, 10).outcome, Outcome::kPass);
  EXPECT_EQ(JudgeRepeated(runs, 10).message, "");
  runs[2] = RunOf(Outcome::kFail, "expected 200, got 502");
  runs[4] = RunOf(Outcome::kFail, "expected 200, got 503");
  runs[8] = RunOf(Outcome::kFail, "expected 200, got 502");
  auto v = JudgeRepeated(runs, 10);
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_EQ(v.message, "passed 7 of 10 runs (fail in runs 3, 5, 9); run 3: expected 200, got 502");
}

TEST(JudgeRepeatedTest, AFlakyShouldCaseWarnsAndASteadyFailureSaysSo) {
  std::vector<Verdict> runs = {RunOf(Outcome::kPass),
                               RunOf(Outcome::kWarn, "no X-Accel-Buffering")};
  EXPECT_EQ(JudgeRepeated(runs, 2).outcome, Outcome::kWarn);
  std::vector<Verdict> steady(3, RunOf(Outcome::kFail, "no [DONE]"));
  EXPECT_EQ(JudgeRepeated(steady, 3).message,
            "passed 0 of 3 runs (fail in every run); run 1: no [DONE]");
}

TEST(JudgeRepeatedTest, TheWorstRunDecidesAndIsQuoted) {
  // fail > error > skip > pass, whatever the order of the runs.
  std::vector<Verdict> runs = {RunOf(Outcome::kSkip, "no memory"),
                               RunOf(Outcome::kError, "mock gone"), RunOf(Outcome::kPass),
                               RunOf(Outcome::kFail, "cut")};
  auto v = JudgeRepeated(runs, 4);
  EXPECT_EQ(v.outcome, Outcome::kFail);
  EXPECT_THAT(v.message, HasSubstr("passed 1 of 4 runs (fail in run 4; error in run 2; skip in "
                                   "run 1); run 4: cut"));
  runs.pop_back();
  EXPECT_EQ(JudgeRepeated(runs, 3).outcome, Outcome::kError);
  runs.erase(runs.begin() + 1);
  EXPECT_EQ(JudgeRepeated(runs, 2).outcome, Outcome::kSkip);  // a run that measured nothing
  EXPECT_TRUE(WorseRun(Outcome::kFail, Outcome::kError));
  EXPECT_TRUE(WorseRun(Outcome::kError, Outcome::kSkip));
  EXPECT_TRUE(WorseRun(Outcome::kSkip, Outcome::kPass));
  EXPECT_FALSE(WorseRun(Outcome::kFail, Outcome::kFail));  // the first of the worst is shown
}

TEST(JudgeRepeatedTest, ARepeatCutShortIsNeverAPass) {
  const std::string stopped = "stopped while running: interrupted by SIGINT";
  std::vector<Verdict> three(3, RunOf(Outcome::kPass));
  auto v = JudgeRepeated(three, 10, stopped);
  EXPECT_EQ(v.outcome, Outcome::kNotRun);
  EXPECT_EQ(v.message, "stopped after 3 of 10 runs (3 passed): " + stopped);
  // A failure seen before the stop is still a failure.
  three[1] = RunOf(Outcome::kFail, "no [DONE]");
  EXPECT_EQ(JudgeRepeated(three, 10, stopped).outcome, Outcome::kFail);
  EXPECT_THAT(JudgeRepeated(three, 10, stopped).message,
              HasSubstr("passed 2 of 3 runs, of 10 asked for (fail in run 2)"));
  // None judged: not-run with the stop's reason.
  EXPECT_EQ(JudgeRepeated({}, 10, "not run: interrupted by SIGINT").outcome, Outcome::kNotRun);
  EXPECT_EQ(JudgeRepeated({}, 10, "not run: interrupted by SIGINT").message,
            "not run: interrupted by SIGINT");
}

TEST(JudgeRepeatedTest, RunsLineCountsThePasses) {
  CaseResult r;
  EXPECT_EQ(RunsLine(r), "");
  r.repeat = 10;
  r.runs.assign(7, {Outcome::kPass, "", 1});
  r.runs.push_back({Outcome::kFail, "x", 1});
  EXPECT_EQ(r.PassedRuns(), 7);
  EXPECT_EQ(RunsLine(r), "7 of 10 runs passed (8 ran)");
  r.runs.push_back({Outcome::kPass, "", 1});
  r.runs.push_back({Outcome::kPass, "", 1});
  EXPECT_EQ(RunsLine(r), "9 of 10 runs passed");
}

TEST(JudgeTest, MessagesJoinEveryFailure) {
  CaseRecord r = WithFailure("first");
  r.failures.push_back({"second", 1});
  EXPECT_EQ(Judge(Level::kMust, r).message, "first; second");
}

TEST(JudgeTest, ErrorsWinOverFailuresAndSkips) {
  CaseRecord r = WithFailure("a failure");
  r.error = "could not reach the mock";
  r.skip = "not measurable";
  auto v = Judge(Level::kMust, r);
  EXPECT_EQ(v.outcome, Outcome::kError);
  EXPECT_THAT(v.message, HasSubstr("could not reach the mock"));
  EXPECT_THAT(v.message, HasSubstr("a failure"));
}

TEST(JudgeTest, ASkipIsASkipUnlessSomethingFailed) {
  CaseRecord r = Ran();
  r.skip = "memory is measured only for spawned targets";
  EXPECT_EQ(Judge(Level::kMust, r).outcome, Outcome::kSkip);
  EXPECT_EQ(Judge(Level::kMust, r).message, *r.skip);
  r.failures.push_back({"failed before it found it could not measure", -1});
  EXPECT_EQ(Judge(Level::kMust, r).outcome, Outcome::kFail);
}

TEST(JudgeTest, NothingRecordedIsAPass) {
  EXPECT_EQ(Judge(Level::kMust, Ran()).outcome, Outcome::kPass);
  EXPECT_EQ(Judge(Level::kMust, Ran()).message, "");
}

CaseResult Result(Level level, Outcome outcome) {
  CaseResult r;
  r.target = "t";
  r.case_id = "c";
  r.level = level;
  r.outcome = outcome;
  return r;
}

TEST(ExitCodeTest, EachOutcomeMix) {
  RunReport run;
  EXPECT_EQ(ExitCodeFor(run), kExitNothingRan) << "an empty run is not green";
  run.results = {Result(Level::kMust, Outcome::kSkip), Result(Level::kMust, Outcome::kNotRun)};
  EXPECT_EQ(ExitCodeFor(run), kExitNothingRan) << "every case skipped or not run";
  run.results.push_back(Result(Level::kShould, Outcome::kWarn));
  EXPECT_EQ(ExitCodeFor(run), kExitPass);
  run.results.push_back(Result(Level::kMust, Outcome::kError));
  EXPECT_EQ(ExitCodeFor(run), kExitHarness);
  run.results.push_back(Result(Level::kMust, Outcome::kFail));
  EXPECT_EQ(ExitCodeFor(run), kExitMustFailed);
  run.interrupted = Interruption{"interrupted by SIGINT", kExitSigint};
  EXPECT_EQ(ExitCodeFor(run), kExitSigint);
}

TEST(ExitCodeTest, ATargetThatCouldNotStartOrLeftProcessesIsAnError) {
  RunReport run;
  run.results = {Result(Level::kMust, Outcome::kPass)};
  run.targets.resize(1);
  run.targets[0].stop.left_behind = true;
  EXPECT_EQ(ExitCodeFor(run), kExitHarness);
  run.targets[0].stop.left_behind = false;
  run.targets[0].problem = "could not start";
  EXPECT_EQ(ExitCodeFor(run), kExitHarness);
}

TEST(ExitCodeTest, EveryCodeIsDocumentedOnce) {
  std::set<int> codes;
  for (const auto& c : ExitCodes()) {
    EXPECT_TRUE(codes.insert(c.code).second) << c.code;
    EXPECT_NE(std::string(c.meaning), "");
  }
  for (int code : {kExitPass, kExitMustFailed, kExitUsage, kExitHarness, kExitNothingRan,
                   kExitTimeout, kExitSigint, kExitSigterm}) {
    EXPECT_TRUE(codes.count(code)) << code;
  }
}

TEST(ExitCodeTest, VerdictLineNamesTheCode) {
  RunReport run;
  EXPECT_THAT(VerdictLine(run), HasSubstr("no case ran"));
  EXPECT_THAT(VerdictLine(run), HasSubstr("exit 4"));
  run.interrupted = Interruption{"the run's --timeout of 5 s was reached", kExitTimeout};
  EXPECT_THAT(VerdictLine(run), HasSubstr("--timeout of 5 s"));
  EXPECT_THAT(VerdictLine(run), HasSubstr("exit 124"));
}

// --- the gate: --strict and the baseline --------------------------------------

GateSettings Baseline(std::vector<Expectation> expected, bool strict = false) {
  GateSettings g;
  g.strict = strict;
  g.baseline = "expect.yaml";
  g.expected = std::move(expected);
  return g;
}

TEST(GateTest, WithoutAGateTheLevelDecides) {
  const GateSettings none;
  EXPECT_EQ(GateOf(Result(Level::kMust, Outcome::kFail), none).effect, GateEffect::kMustFailed);
  EXPECT_TRUE(GateOf(Result(Level::kMust, Outcome::kFail), none).fails_run);
  EXPECT_EQ(GateOf(Result(Level::kShould, Outcome::kWarn), none).effect, GateEffect::kShouldMissed);
  EXPECT_FALSE(GateOf(Result(Level::kShould, Outcome::kWarn), none).fails_run);
  EXPECT_EQ(GateOf(Result(Level::kMust, Outcome::kError), none).effect, GateEffect::kErrored);
  for (Outcome o : {Outcome::kPass, Outcome::kSkip, Outcome::kNotRun}) {
    EXPECT_EQ(GateOf(Result(Level::kMust, o), none).effect, GateEffect::kNone);
  }
  EXPECT_EQ(GateOf(Result(Level::kInfo, Outcome::kFail), none).effect, GateEffect::kNone);
  EXPECT_EQ(GateNote(Result(Level::kMust, Outcome::kFail), none), "");
}

TEST(GateTest, StrictFailsTheRunOnASouldMiss) {
  RunReport run;
  run.results = {Result(Level::kMust, Outcome::kPass), Result(Level::kShould, Outcome::kWarn)};
  EXPECT_EQ(ExitCodeFor(run), kExitPass);
  EXPECT_THAT(VerdictLine(run), HasSubstr("1 SHOULD miss (warn)"));
  run.gate.strict = true;
  EXPECT_EQ(GateOf(run.results[1], run.gate).effect, GateEffect::kStrictFailed);
  EXPECT_EQ(ExitCodeFor(run), kExitMustFailed);
  EXPECT_THAT(VerdictLine(run), HasSubstr("failed under --strict"));
}

TEST(GateTest, ABaselineAcceptsExactlyTheOutcomeItLists) {
  RunReport run;
  run.results = {Result(Level::kMust, Outcome::kFail)};
  run.gate = Baseline({{"t", "c", Outcome::kFail, "buffers by design"}});
  const Gated g = GateOf(run.results[0], run.gate);
  EXPECT_EQ(g.effect, GateEffect::kAccepted);
  ASSERT_NE(g.expectation, nullptr);
  EXPECT_EQ(g.expectation->reason, "buffers by design");
  EXPECT_EQ(ExitCodeFor(run), kExitPass);
  EXPECT_EQ(GateNote(run.results[0], run.gate),
            "known fail, accepted by expect.yaml: buffers by design");
  EXPECT_THAT(VerdictLine(run), HasSubstr("1 known failure accepted by expect.yaml"));
  // Still accepted under --strict: that is what the baseline is for.
  run.gate.strict = true;
  EXPECT_EQ(ExitCodeFor(run), kExitPass);
  // A listed fail does not accept an error, nor another target's failure.
  run.results[0].outcome = Outcome::kError;
  EXPECT_EQ(ExitCodeFor(run), kExitHarness);
  EXPECT_THAT(GateNote(run.results[0], run.gate), HasSubstr("which it does not accept"));
  run.results[0].outcome = Outcome::kFail;
  run.results[0].target = "other";
  EXPECT_EQ(ExitCodeFor(run), kExitMustFailed);
}

TEST(GateTest, AListedFailureThatNowPassesIsSaidAndFailsUnderStrict) {
  RunReport run;
  run.results = {Result(Level::kMust, Outcome::kPass)};
  run.gate = Baseline({{"t", "c", Outcome::kFail, ""}});
  EXPECT_EQ(GateOf(run.results[0], run.gate).effect, GateEffect::kNowPasses);
  EXPECT_EQ(ExitCodeFor(run), kExitPass);
  EXPECT_THAT(GateNote(run.results[0], run.gate),
              HasSubstr("now passes: remove it from expect.yaml"));
  run.gate.strict = true;
  EXPECT_EQ(ExitCodeFor(run), kExitMustFailed);
  // A skip of a listed case says nothing either way.
  run.results[0].outcome = Outcome::kSkip;
  run.results.push_back(Result(Level::kMust, Outcome::kPass));
  run.results[1].case_id = "d";
  EXPECT_EQ(ExitCodeFor(run), kExitPass);
}

}  // namespace
}  // namespace streamcheck::core
