#include "engine/shard.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <thread>

namespace streamcheck::engine {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// Typical durations in ms at the default body size (100 MiB): the mean over
// the eight targets in targets/ of one `run --target all` on a 2-core machine
// (rounded; chat cases of a few ms at 20). What a case costs is mostly its
// waits (gates, stalls, timeouts) and, where a target buffers, the gate's
// timeout. Cases not listed get kDefaultCaseMs.
// A target's start is TypicalStartMs, not server.ready's.
// Checked against the reports of scripts/measure-shards on a loaded 2-core
// machine: within 50% of each case's mean there, but direct.large-upload
// (1.9 s) and server.ready (0.9 s, its target's start).
const std::map<std::string, int, std::less<>>& TypicalCaseTable() {
  static const std::map<std::string, int, std::less<>> table = {
      {"server.ready", 50},
      {"chat.status", 20},
      {"chat.content-type", 20},
      {"chat.first-line-data", 20},
      {"chat.sse-grammar", 20},
      {"chat.chunk-schema", 20},
      {"chat.role-first", 20},
      {"chat.finish-reason", 20},
      {"chat.done-terminator", 20},
      {"chat.content-parity", 20},
      {"chat.nonstream-parity", 20},
      {"chat.usage", 30},
      {"chat.incremental", 20},
      {"chat.both-paths", 20},
      {"chat.no-cache", 20},
      {"chat.framing", 20},
      {"chat.bad-json", 10},
      {"chat.missing-messages", 10},
      {"chat.backend-error-midstream", 10},
      {"chat.error-event", 10},
      {"chat.client-abort", 300},
      {"chat.concurrent", 550},
      {"chat.finish-reason-value", 20},
      {"chat.utf8", 20},
      {"chat.sdk-safe", 20},
      {"chat.vendor-extensions", 20},
      {"chat.tool-call-parity", 20},
      {"chat.multi-choice", 20},
      {"chat.long-stream", 7000},
      {"direct.large-get", 1050},
      {"direct.integrity", 1050},
      {"direct.content-coding", 300},
      {"direct.incremental", 2000},
      {"direct.memory-bounded", 950},
      {"direct.backpressure", 9600},
      {"direct.stall-survives", 5050},
      {"direct.sse-passthrough", 1900},
      {"direct.status-passthrough", 90},
      {"direct.methods", 60},
      {"direct.methods-extended", 10},
      {"direct.query-string", 20},
      {"direct.query-repeated", 20},
      {"direct.request-headers", 20},
      {"direct.response-headers", 20},
      {"direct.response-framing", 60},
      {"direct.truncation-visible", 90},
      {"direct.backend-down", 400},
      {"direct.backend-timeout", 6400},
      {"direct.client-abort", 3150},
      {"direct.path-confined", 150},
      {"direct.large-upload", 1200},
      {"direct.content-coding", 60},
      {"direct.upload-limit", 350},
      {"direct.range", 20},
      {"direct.header-injection", 60},
      {"direct.truncated-upload", 8100},
      {"server.request-line", 10},
      {"server.cl-te", 10},
      {"server.content-length", 10},
      {"server.transfer-encoding", 1000},
      {"server.large-header", 10},
      {"server.header-size", 10},
      {"server.keep-alive", 10},
      {"server.desync", 10},
      {"server.pipelining", 20},
      {"server.http10", 20},
      {"server.no-length-body", 30},
      {"server.slow-clients", 5300},
      {"server.body-limits", 3700},
      {"server.header-count", 10},
      {"server.survives", 10},
      {"server.health-during-stream", 1150},
      {"server.graceful-shutdown", 1800},
  };
  return table;
}

namespace {

// The pieces a plan assigns: one non-liveness case of a target, or (when the
// only selected cases judge liveness) all of a target's at once.
struct Piece {
  std::size_t target = 0;
  std::vector<const CaseDef*> cases;
  long long ms = 0;
  bool liveness_only = false;
};

std::optional<int> ParseCount(std::string_view text) {
  int value = 0;
  if (text.empty() || text.size() > 9) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string NowIso8601() {
  std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

}  // namespace

Result<Shard> ParseShard(std::string_view text) {
  const auto slash = text.find('/');
  const auto index = ParseCount(text.substr(0, slash));
  const auto count =
      slash == std::string_view::npos ? std::nullopt : ParseCount(text.substr(slash + 1));
  if (!index || !count || *count < 1 || *count > kMaxShards || *index >= *count) {
    return Error{"--shard \"" + std::string(text) +
                 "\": expected I/N with 0 <= I < N <= " + std::to_string(kMaxShards) +
                 ", 0-based as JOB_COMPLETION_INDEX counts (e.g. 0/4 ... 3/4)"};
  }
  return Shard{*index, *count};
}

int TypicalCaseMs(const core::CaseInfo& info) {
  const auto& table = TypicalCaseTable();
  const auto it = table.find(info.id);
  return it == table.end() ? kDefaultCaseMs : it->second;
}

int TypicalStartMs(const harness::TargetSpec& spec) { return spec.managed() ? 1000 : 100; }

std::vector<ShardPlan> PlanShards(const std::vector<harness::TargetSpec>& targets,
                                  const std::vector<const CaseDef*>& selected, int count,
                                  const PlanCosts& costs) {
  count = std::max(1, count);
  std::map<const CaseDef*, std::size_t> position;
  for (std::size_t i = 0; i < selected.size(); ++i) position.emplace(selected[i], i);
  std::vector<const CaseDef*> liveness, others;
  long long liveness_ms = 0, others_ms = 0;
  for (const auto* c : selected) {
    (c->judges_liveness ? liveness : others).push_back(c);
    (c->judges_liveness ? liveness_ms : others_ms) += costs.case_ms(c->info);
  }
  const bool liveness_only = others.empty();

  // The pieces: each target's cases, longest first; the targets, largest
  // first (a target's size: its start, its cases, its liveness cases once).
  std::vector<long long> setup(targets.size());
  std::vector<std::size_t> by_size(targets.size());
  long long total = 0;
  for (std::size_t t = 0; t < targets.size(); ++t) {
    setup[t] = costs.start_ms(targets[t]) + (liveness_only ? 0 : liveness_ms);
    total += setup[t] + others_ms + (liveness_only ? liveness_ms : 0);
    by_size[t] = t;
  }
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](std::size_t a, std::size_t b) { return setup[a] > setup[b]; });
  std::vector<Piece> pieces;
  if (!selected.empty()) {
    for (std::size_t t : by_size) {
      if (liveness_only) {
        pieces.push_back({t, liveness, liveness_ms, true});
        continue;
      }
      std::vector<Piece> mine;
      for (const auto* c : others) mine.push_back({t, {c}, costs.case_ms(c->info), false});
      std::stable_sort(mine.begin(), mine.end(),
                       [](const Piece& a, const Piece& b) { return a.ms > b.ms; });
      pieces.insert(pieces.end(), mine.begin(), mine.end());
    }
  }

  // A piece stays on a shard that tests its target while that shard stays
  // within an even share of the whole; otherwise it goes where it ends
  // soonest, counting the target's setup on a shard that does not test it
  // yet. So a target is split only where its shard would run long, and
  // every tie goes to the lowest shard index.
  const long long share = (total + count - 1) / count;
  std::vector<long long> load(count, 0);
  // has[s][t]: shard s tests target t already (it pays the setup once).
  std::vector<std::vector<bool>> has(count, std::vector<bool>(targets.size(), false));
  std::vector<std::vector<std::vector<const CaseDef*>>> assigned(
      count, std::vector<std::vector<const CaseDef*>>(targets.size()));
  for (const auto& piece : pieces) {
    int best = -1;
    for (int s = 0; s < count; ++s) {
      if (has[s][piece.target] && load[s] + piece.ms <= share &&
          (best < 0 || load[s] < load[best])) {
        best = s;
      }
    }
    long long best_end = best >= 0 ? load[best] + piece.ms : 0;
    if (best < 0) {
      for (int s = 0; s < count; ++s) {
        const long long end = load[s] + piece.ms + (has[s][piece.target] ? 0 : setup[piece.target]);
        if (best < 0 || end < best_end) {
          best = s;
          best_end = end;
        }
      }
    }
    load[best] = best_end;
    has[best][piece.target] = true;
    auto& cases = assigned[best][piece.target];
    cases.insert(cases.end(), piece.cases.begin(), piece.cases.end());
  }

  std::vector<ShardPlan> plans(count);
  for (int s = 0; s < count; ++s) {
    plans[s].estimated_ms = load[s];
    for (std::size_t t = 0; t < targets.size(); ++t) {
      auto cases = assigned[s][t];
      if (cases.empty()) continue;
      if (!liveness_only) cases.insert(cases.end(), liveness.begin(), liveness.end());
      std::sort(cases.begin(), cases.end(), [&](const CaseDef* a, const CaseDef* b) {
        return position.at(a) < position.at(b);
      });
      plans[s].pairs += cases.size();
      plans[s].targets.push_back({t, std::move(cases)});
    }
  }
  return plans;
}

core::ShardInfo ShardInfoFor(const Shard& shard, const std::vector<harness::TargetSpec>& targets,
                             const std::vector<const CaseDef*>& selected) {
  core::ShardInfo info;
  info.count = shard.count;
  info.indexes = {shard.index};
  std::vector<std::string> ids;
  for (const auto* c : selected) {
    ids.push_back(c->info.id);
    if (c->judges_liveness) info.liveness.push_back(c->info.id);
  }
  for (const auto& t : targets) info.selected.push_back({t.name, ids});
  return info;
}

core::RunReport RunPlan(const std::vector<CaseDef>& catalog, const ShardPlan& plan,
                        const RunOptions& options) {
  const auto start = Clock::now();
  StopSource own_stop;
  StopSource& stop = options.stop ? *options.stop : own_stop;
  core::RunReport report;
  report.tool_version = options.version;
  report.started_at = NowIso8601();
  for (const auto& c : catalog) report.catalog.push_back(c.info);

  // One engine::Run per target, with that target's cases; `jobs` at once.
  std::vector<core::RunReport> parts(plan.targets.size());
  std::atomic<std::size_t> next{0};
  auto worker = [&] {
    for (std::size_t i = next++; i < parts.size(); i = next++) {
      RunOptions one = options;
      one.targets = {options.targets.at(plan.targets[i].target)};
      one.jobs = 1;
      one.stop = &stop;
      parts[i] = Run(catalog, plan.targets[i].cases, one);
    }
  };
  const int jobs = std::max(1, std::min<int>(options.jobs, int(parts.size())));
  if (jobs <= 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    for (int i = 0; i < jobs; ++i) threads.emplace_back(worker);
    for (auto& th : threads) th.join();
  }
  for (auto& part : parts) {
    report.targets.insert(report.targets.end(), part.targets.begin(), part.targets.end());
    for (auto& r : part.results) report.results.push_back(std::move(r));
  }
  if (auto why = stop.interruption()) report.interrupted = *why;
  report.duration_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  return report;
}

}  // namespace streamcheck::engine
