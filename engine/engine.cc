#include "engine/engine.h"

#include <fnmatch.h>

#include <algorithm>
#include <ctime>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "common/text.h"

namespace streamcheck::engine {
namespace {

using Clock = std::chrono::steady_clock;
using core::CaseRecord;
using core::CaseResult;

constexpr std::size_t kRunMessageBytes = 300;  // of each run's message, under --repeat

std::string NowIso8601() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::vector<std::string> Globs(const std::string& filter) {
  std::vector<std::string> globs;
  std::size_t start = 0;
  while (start <= filter.size()) {
    auto comma = filter.find(',', start);
    if (comma == std::string::npos) comma = filter.size();
    std::string glob = filter.substr(start, comma - start);
    glob.erase(0, glob.find_first_not_of(' '));
    glob.erase(glob.find_last_not_of(' ') + 1);
    if (!glob.empty()) globs.push_back(glob);
    start = comma + 1;
  }
  return globs;
}

bool GlobMatches(const std::string& glob, const std::string& id) {
  return fnmatch(glob.c_str(), id.c_str(), 0) == 0;
}

// Runs one target's cases into its slots of the report.
class TargetRun {
 public:
  TargetRun(const harness::TargetSpec& spec, const std::vector<const CaseDef*>& cases,
            const RunOptions& options, StopSource& stop, CaseResult* results)
      : session_(spec, options.session, stop),
        cases_(cases),
        options_(options),
        stop_(stop),
        results_(results) {}

  core::TargetSummary Run() {
    if (options_.observer) options_.observer->TargetStarting(session_.spec());
    for (std::size_t i = 0; i < cases_.size(); ++i) RunCase(*cases_[i], results_[i]);
    session_.Stop();
    auto summary = session_.Summary();
    if (options_.observer) options_.observer->TargetStopped(summary);
    return summary;
  }

 private:
  void RunCase(const CaseDef& def, CaseResult& result) {
    const auto& spec = session_.spec();
    result.target = spec.name;
    result.case_id = def.info.id;
    result.area = def.info.area;
    result.level = def.info.level;
    CaseProgress progress;
    progress.runs = std::max(1, options_.repeat);
    if (options_.observer) {
      options_.observer->CaseStarting(spec.name, def.info);
      options_.observer->CaseRunning(spec.name, def.info, progress);
    }
    if (progress.runs == 1) {
      RunOnce(def, result, progress);
    } else {
      RunRepeated(def, result, progress);
    }
    if (options_.observer) options_.observer->CaseFinished(result);
  }

  // One run into `result`, judged.
  void RunOnce(const CaseDef& def, CaseResult& result, CaseProgress& progress) {
    CaseRecord record;
    auto start = Clock::now();
    Prepare(def, result, record, progress);
    result.duration_ms = MsSince(start);
    auto verdict = core::Judge(def.info.level, record);
    result.outcome = verdict.outcome;
    result.message = verdict.message;
    result.failures = record.failures;
  }

  // `--repeat N`: the case N times in a row (until a stop), each run judged on
  // its own; the result keeps the evidence of the first of the worst runs
  // (the one the message quotes) and counts the passes.
  void RunRepeated(const CaseDef& def, CaseResult& result, CaseProgress& progress) {
    std::vector<core::Verdict> verdicts;
    std::optional<CaseResult> shown;
    std::string stopped;
    double total_ms = 0;
    for (int i = 0; i < progress.runs; ++i) {
      progress.run = i + 1;
      CaseResult one = result;
      RunOnce(def, one, progress);
      total_ms += one.duration_ms;
      if (one.outcome == core::Outcome::kNotRun) {
        stopped = one.message;
        break;
      }
      verdicts.push_back({one.outcome, one.message});
      result.runs.push_back({one.outcome, Excerpt(one.message, kRunMessageBytes), one.duration_ms});
      if (!shown || core::WorseRun(one.outcome, shown->outcome)) shown = std::move(one);
    }
    if (shown) {
      result.failures = std::move(shown->failures);
      result.metrics = std::move(shown->metrics);
      result.evidence = std::move(shown->evidence);
    }
    result.repeat = progress.runs;
    result.duration_ms = total_ms;
    auto verdict = core::JudgeRepeated(verdicts, progress.runs, stopped);
    result.outcome = verdict.outcome;
    result.message = verdict.message;
  }

  // Everything before, around and after the body, deciding whether it runs.
  void Prepare(const CaseDef& def, CaseResult& result, CaseRecord& record, CaseProgress& progress) {
    const auto& spec = session_.spec();
    if (auto why = stop_.interruption()) {
      record.not_run = "not run: " + why->reason;
      return;
    }
    if (!def.info.feature.empty() && !spec.HasFeature(def.info.feature)) {
      record.ran = true;
      record.skip = "the target's features do not include " + def.info.feature;
      return;
    }
    if (!session_.EnsureStarted()) {
      if (auto why = stop_.interruption()) {
        record.not_run = "not run: " + why->reason;
        return;
      }
      record.ran = true;
      record.error = problem_reported_
                         ? "target " + spec.name + " could not be started (see above)"
                         : "target " + spec.name + " could not be started: " + session_.problem();
      problem_reported_ = true;
      return;
    }
    if (!def.judges_liveness && !died_.empty()) {
      record.ran = true;
      record.error = "the target had died during " + died_in_ + " (see there)";
      return;
    }
    mocks::MockControl* mock = session_.mock();
    if (NeedsTheMock(def.backend) && !mock) {
      record.ran = true;
      record.skip =
          "needs the mock backend; the target's spec keeps its real backend "
          "(\"backend\": \"external\")";
      return;
    }
    if (!unmocked_.empty() && def.backend != BackendUse::kNone) {
      record.ran = true;
      record.error = "the server never called the mock backend (see " + unmocked_ + ")";
      return;
    }
    // Every case starts from the backend's defaults and fresh counters.
    if (mock) {
      if (auto reset = mock->Reset(); !reset) {
        record.ran = true;
        record.error =
            "the mock backend at " + mock->url() + " could not be reset: " + reset.message();
        return;
      }
    }
    CaseContext ctx(session_, def.info, options_.case_options, result, record, &progress);
    try {
      def.body(ctx);
      record.ran = true;
    } catch (const std::exception& e) {
      record.ran = true;
      record.error = std::string("the harness failed in this case (please report it): ") + e.what();
    }
    if (auto why = stop_.interruption()) {
      // Cut short: what it saw so far proves nothing either way.
      record.not_run = "stopped while running: " + why->reason;
      return;
    }
    if (mock && (def.backend == BackendUse::kCalls || def.backend == BackendUse::kAnyCalls)) {
      CheckTheMockWasCalled(def, *mock, record);
    }
    if (def.judges_liveness) return;
    if (auto died = session_.Died(); !died.empty()) {
      died_ = died;
      died_in_ = def.info.id;
      record.error = "the target died during this case: " + died;
    }
  }

  // A case during which a correct server calls its backend: if the mock saw
  // no request, the server is not pointed at it, and whatever the case saw
  // came from elsewhere. It cannot pass; and if the mock has never been
  // called at all, no later case can be judged either.
  void CheckTheMockWasCalled(const CaseDef& def, mocks::MockControl& mock, CaseRecord& record) {
    auto stats = mock.Stats();
    if (!stats || stats->requests > 0) {
      if (stats) mock_called_ = true;
      return;
    }
    std::string message = "the server never called the mock backend at " + mock.url() +
                          " during this case: point its backend there";
    if (session_.spec().mock_listen.empty() && session_.spec().mock_url.empty() &&
        session_.spec().managed()) {
      message += " (the spec's command gets it as {backend_url}, {backend_host}, {backend_port})";
    }
    if (record.failures.empty()) {
      record.error = message;
    } else {
      record.failures.push_back({message, -1});
    }
    if (!mock_called_ && unmocked_.empty()) unmocked_ = def.info.id;
  }

  TargetSession session_;
  const std::vector<const CaseDef*>& cases_;
  const RunOptions& options_;
  StopSource& stop_;
  CaseResult* results_;
  bool problem_reported_ = false;
  std::string died_;
  std::string died_in_;
  bool mock_called_ = false;  // the mock has seen a request from this target
  std::string unmocked_;      // the case that found the mock never called
};

}  // namespace

bool MatchesFilter(const std::string& case_id, const std::string& filter) {
  auto globs = Globs(filter);
  if (globs.empty()) return true;
  return std::any_of(globs.begin(), globs.end(),
                     [&](const std::string& g) { return GlobMatches(g, case_id); });
}

Result<std::vector<const CaseDef*>> SelectCases(const std::vector<CaseDef>& catalog,
                                                const std::string& filter) {
  auto globs = Globs(filter);
  std::vector<std::string> unmatched;
  for (const auto& g : globs) {
    bool any = std::any_of(catalog.begin(), catalog.end(),
                           [&](const CaseDef& c) { return GlobMatches(g, c.info.id); });
    if (!any) unmatched.push_back(g);
  }
  if (!unmatched.empty()) {
    std::string names;
    for (const auto& g : unmatched) names += (names.empty() ? "\"" : ", \"") + g + "\"";
    return Error{"--cases " + names + (unmatched.size() == 1 ? " matches" : " match") +
                 " no case; `streamcheck list` shows the IDs"};
  }
  std::vector<const CaseDef*> selected;
  for (const auto& c : catalog) {
    if (globs.empty() || MatchesFilter(c.info.id, filter)) selected.push_back(&c);
  }
  // Cases that judge the target's liveness run after the rest of their target's.
  std::stable_partition(selected.begin(), selected.end(),
                        [](const CaseDef* c) { return !c->judges_liveness; });
  return selected;
}

core::RunReport Run(const std::vector<CaseDef>& catalog,
                    const std::vector<const CaseDef*>& selected, const RunOptions& options) {
  auto start = Clock::now();
  StopSource own_stop;
  StopSource& stop = options.stop ? *options.stop : own_stop;
  core::RunReport report;
  report.tool_version = options.version;
  report.started_at = NowIso8601();
  for (const auto& c : catalog) report.catalog.push_back(c.info);

  const std::size_t n_targets = options.targets.size();
  std::vector<CaseResult> results(n_targets * selected.size());
  std::vector<core::TargetSummary> summaries(n_targets);
  std::mutex queue_mutex;
  std::deque<std::size_t> queue;
  for (std::size_t t = 0; t < n_targets; ++t) queue.push_back(t);

  auto worker = [&] {
    for (;;) {
      std::size_t t;
      {
        std::lock_guard lock(queue_mutex);
        if (queue.empty()) return;
        t = queue.front();
        queue.pop_front();
      }
      // The session lives on this thread from start to stop: a spawned
      // target's parent-death signal follows the thread that forked it.
      TargetRun run(options.targets[t], selected, options, stop, &results[t * selected.size()]);
      summaries[t] = run.Run();
    }
  };
  const int jobs = std::max(1, std::min<int>(options.jobs, int(n_targets)));
  if (jobs <= 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    for (int i = 0; i < jobs; ++i) threads.emplace_back(worker);
    for (auto& th : threads) th.join();
  }
  report.targets = std::move(summaries);
  report.results = std::move(results);
  if (auto why = stop.interruption()) report.interrupted = *why;
  report.duration_ms = MsSince(start);
  return report;
}

}  // namespace streamcheck::engine
