// Memory of the server under test, read from /proc: the processes that make
// it up (a spawned command's tree, the owner of its listening socket and that
// owner's tree, or every process of a cgroup), their resident (RSS) and
// proportional (PSS) memory, and a background sampler for a case's peak
// growth. PSS counts a page shared by N processes as 1/N in each, so a
// forking server (gunicorn's workers) is not counted N times for shared
// pages; the memory cases judge PSS.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"

namespace streamcheck::harness {

// `root` and all its descendants, found through the parent ids in /proc/*/stat;
// `root` first. Empty when `root` does not exist.
std::vector<pid_t> ProcessTree(pid_t root);

// Processes (zombies excluded) whose process group is `pgid`, from /proc/*/stat.
std::vector<pid_t> LiveGroupMembers(pid_t pgid);

// Processes that hold a TCP socket listening on `port` (IPv4 or IPv6, any
// address), found from the socket inodes of /proc/net/tcp{,6} and the
// descriptors in /proc/*/fd. Only processes this user may inspect.
std::vector<pid_t> ListeningSocketOwners(int port);

// Every process of a cgroup v2 folder and the cgroups below it (cgroup.procs).
Result<std::vector<pid_t>> CgroupProcesses(const std::filesystem::path& cgroup);

// The short name of a process (/proc/<pid>/comm), "" when it is gone.
std::string ProcessName(pid_t pid);

// What to measure: each root with its descendants, and every process of the
// cgroup when one is named.
struct MemoryScope {
  std::vector<pid_t> roots;
  std::filesystem::path cgroup;
  std::string description;  // "process tree of pid 123 and the owner of port 8080 (pid 130)"
};

struct MemoryUse {
  std::uint64_t rss_bytes = 0;  // summed VmRSS (shared pages once per process)
  std::uint64_t pss_bytes = 0;  // summed Pss from smaps_rollup
  std::size_t processes = 0;
};

// Fails when no process of the scope exists (any more).
Result<MemoryUse> MeasureMemory(const MemoryScope& scope);

// The sum of VmRSS over `root`'s tree, in bytes. Fails when `root` does not exist.
Result<std::uint64_t> TreeRssBytes(pid_t root);

struct MemoryPoint {
  double t_ms = 0;  // since Start()
  std::uint64_t rss_bytes = 0;
  std::uint64_t pss_bytes = 0;
};

struct MemorySummary {
  MemoryUse baseline;                // first sample, taken in Start()
  MemoryUse peak;                    // the largest PSS sample (and its RSS)
  std::uint64_t peak_rss_bytes = 0;  // the largest RSS sample
  MemoryUse last;
  std::size_t samples = 0;
  std::vector<MemoryPoint> curve;  // downsampled to at most kCurvePoints
  static constexpr std::size_t kCurvePoints = 200;

  double pss_growth_mib() const { return Growth(peak.pss_bytes, baseline.pss_bytes); }
  double rss_growth_mib() const { return Growth(peak_rss_bytes, baseline.rss_bytes); }

 private:
  static double Growth(std::uint64_t peak, std::uint64_t base) {
    return peak > base ? double(peak - base) / (1 << 20) : 0.0;
  }
};

// Samples MeasureMemory(scope) every `interval` on its own thread between
// Start() and Stop(). Stop() wakes and joins the thread at once and takes a
// last sample; the destructor stops it too. Samples of a vanished scope are
// skipped.
class MemorySampler {
 public:
  explicit MemorySampler(MemoryScope scope,
                         std::chrono::milliseconds interval = std::chrono::milliseconds(20));
  ~MemorySampler();
  MemorySampler(const MemorySampler&) = delete;
  MemorySampler& operator=(const MemorySampler&) = delete;

  void Start();  // takes the baseline sample before returning; restarts from scratch
  MemorySummary Stop();
  MemorySummary Current();  // the summary so far, from any thread

 private:
  void Sample();
  void Run();

  MemoryScope scope_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point start_;
  std::thread thread_;
  std::atomic<bool> running_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_requested_ = false;   // guarded by mutex_
  MemorySummary summary_;         // guarded by mutex_
  std::size_t curve_stride_ = 1;  // every how many samples a curve point is kept
};

}  // namespace streamcheck::harness
