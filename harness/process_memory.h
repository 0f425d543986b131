// Resident memory of a process tree (a server and every worker it forked), read
// from /proc, and a background sampler for a case's peak growth.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "common/result.h"

namespace streamcheck::harness {

// `root` and all its descendants, found through the parent ids in /proc/*/stat;
// `root` first. Empty when `root` does not exist.
std::vector<pid_t> ProcessTree(pid_t root);

// Processes (zombies excluded) whose process group is `pgid`, from /proc/*/stat.
std::vector<pid_t> LiveGroupMembers(pid_t pgid);

// Sum of VmRSS over the tree, in bytes (resident pages shared between processes
// count once per process). Processes that vanish mid-scan are skipped. Fails when
// `root` does not exist.
Result<std::uint64_t> TreeRssBytes(pid_t root);

// One point of a memory curve: the highest sample of its stretch of time.
struct RssPoint {
  double t_ms = 0;  // since the baseline sample
  std::uint64_t bytes = 0;
};

struct RssSummary {
  std::uint64_t baseline_bytes = 0;  // first sample, taken in Start()
  std::uint64_t peak_bytes = 0;
  std::uint64_t last_bytes = 0;
  std::size_t samples = 0;
  // The samples over time, at most kMaxCurvePoints: once full, neighbouring
  // points merge in pairs (the higher one stays), so the curve covers the
  // whole sampling with its peaks kept, in bounded memory.
  std::vector<RssPoint> curve;
  static constexpr std::size_t kMaxCurvePoints = 256;
  double growth_mib() const {
    return peak_bytes > baseline_bytes ? double(peak_bytes - baseline_bytes) / (1 << 20) : 0.0;
  }
};

// Samples TreeRssBytes(root) every `interval` on its own thread between
// Start() and Stop(). Stop() wakes and joins the thread at once and takes a last
// sample; the destructor stops it too. Samples of a vanished tree are skipped.
class RssSampler {
 public:
  RssSampler(pid_t root, std::chrono::milliseconds interval = std::chrono::milliseconds(20));
  ~RssSampler();
  RssSampler(const RssSampler&) = delete;
  RssSampler& operator=(const RssSampler&) = delete;

  void Start();  // takes the baseline sample before returning; restarts from scratch
  RssSummary Stop();
  RssSummary Current();  // the summary so far, from any thread

 private:
  void Sample();
  void Run();

  pid_t root_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_requested_ = false;  // guarded by mutex_
  RssSummary summary_;           // guarded by mutex_
  // The curve's pending point (guarded by mutex_): samples per point, and
  // how many the pending one holds.
  std::chrono::steady_clock::time_point start_;
  std::size_t stride_ = 1;
  std::size_t pending_ = 0;
  RssPoint pending_point_;
};

}  // namespace streamcheck::harness
