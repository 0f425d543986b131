#include "bench/usage.h"

#include <unistd.h>

#include <fstream>
#include <set>
#include <sstream>

namespace streamcheck::bench {

std::optional<std::uint64_t> StatCpuTicks(const std::string& stat_line) {
  std::size_t close = stat_line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream in(stat_line.substr(close + 1));
  // After the name: field 3 (state) onwards; utime is field 14.
  std::string field;
  std::uint64_t total = 0;
  for (int n = 3; n <= 17; ++n) {
    if (!(in >> field)) return std::nullopt;
    if (n >= 14) {
      try {
        total += std::stoull(field);
      } catch (...) {
        return std::nullopt;
      }
    }
  }
  return total;
}

Result<double> CpuSeconds(const harness::MemoryScope& scope) {
  if (!scope.cgroup.empty()) {
    std::ifstream in(scope.cgroup / "cpu.stat");
    std::string key;
    std::uint64_t value = 0;
    while (in >> key >> value) {
      if (key == "usage_usec") return double(value) / 1e6;
    }
    return Error{"no usage_usec in " + (scope.cgroup / "cpu.stat").string()};
  }
  std::set<pid_t> pids;
  for (pid_t root : scope.roots) {
    for (pid_t p : harness::ProcessTree(root)) pids.insert(p);
  }
  static const long kTicks = sysconf(_SC_CLK_TCK);
  std::uint64_t ticks = 0;
  bool any = false;
  for (pid_t p : pids) {
    std::ifstream in("/proc/" + std::to_string(p) + "/stat");
    std::string line;
    if (!std::getline(in, line)) continue;
    if (auto t = StatCpuTicks(line)) ticks += *t, any = true;
  }
  if (!any) return Error{"no process of " + scope.description + " is left to read CPU time from"};
  return double(ticks) / double(kTicks > 0 ? kTicks : 100);
}

std::optional<double> PerStreamKib(std::uint64_t before_bytes, std::uint64_t at_bytes,
                                   std::uint64_t open) {
  if (open == 0) return std::nullopt;
  double growth = double(at_bytes) - double(before_bytes);
  return growth / 1024.0 / double(open);
}

StreamMemorySampler::StreamMemorySampler(harness::MemoryScope scope,
                                         const std::atomic<std::uint64_t>& open,
                                         std::chrono::milliseconds interval)
    : scope_(std::move(scope)), open_(open), interval_(interval) {}

StreamMemorySampler::~StreamMemorySampler() { Stop(); }

void StreamMemorySampler::Start() {
  auto base = harness::MeasureMemory(scope_);
  if (!base) {
    problem_ = base.error();
    return;
  }
  baseline_ = *base;
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stop_) {
      lock.unlock();
      Sample();
      lock.lock();
      wake_.wait_for(lock, interval_, [this] { return stop_; });
    }
  });
}

void StreamMemorySampler::Sample() {
  std::uint64_t open = open_.load();
  if (open == 0) return;
  auto use = harness::MeasureMemory(scope_);
  if (!use) return;
  // The count after the reading too: the fewer of the two is sure to have been open.
  open = std::min(open, open_.load());
  std::lock_guard lock(mutex_);
  if (!best_ || open > best_open_ || (open == best_open_ && use->pss_bytes > best_->pss_bytes)) {
    best_ = *use;
    best_open_ = open;
  }
}

MemoryPerStream StreamMemorySampler::Stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  MemoryPerStream m;
  if (!baseline_) {
    m.problem = problem_.empty() ? "memory was not sampled" : problem_;
    return m;
  }
  if (!best_) {
    m.problem = "no sample was taken while a stream was open";
    return m;
  }
  m.open = best_open_;
  m.rss_kib = PerStreamKib(baseline_->rss_bytes, best_->rss_bytes, best_open_);
  if (best_->pss_bytes > 0 && baseline_->pss_bytes > 0)
    m.pss_kib = PerStreamKib(baseline_->pss_bytes, best_->pss_bytes, best_open_);
  // A figure that is missing says why (never a silent null).
  if (!m.pss_kib) m.problem = "PSS could not be read (/proc/PID/smaps_rollup)";
  return m;
}

}  // namespace streamcheck::bench
