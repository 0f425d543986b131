// What a target costs while the bench drives it, read from /proc: CPU seconds
// (user + system) of its processes, and its memory per open stream, sampled
// while a level runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "common/result.h"
#include "harness/process_memory.h"

namespace streamcheck::bench {

// utime + stime (and cutime + cstime: children it has reaped) of every process
// of the scope's trees, from /proc/PID/stat; usage_usec of the cgroup's
// cpu.stat when the scope names one. Fails when no process is left.
Result<double> CpuSeconds(const harness::MemoryScope& scope);

// Fields 14-17 of a /proc/PID/stat line in clock ticks (utime + stime +
// cutime + cstime); nullopt for a line that does not parse. The command name
// (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
std::optional<std::uint64_t> StatCpuTicks(const std::string& stat_line);

struct MemoryPerStream {
  std::optional<double> rss_kib;  // (RSS at the sample - RSS before) / open streams
  std::optional<double> pss_kib;
  std::uint64_t open = 0;  // open streams at the sample
  std::string problem;     // why nothing was measured
};

// (at - before) / open in KiB; nullopt without an open stream.
std::optional<double> PerStreamKib(std::uint64_t before_bytes, std::uint64_t at_bytes,
                                   std::uint64_t open);

// Samples the scope's memory every `interval` on its own thread, with the
// number of open streams at that moment, and keeps the sample taken when the
// most streams were open (of those, the largest PSS): memory per open stream
// is measured there, against the baseline Start() takes.
class StreamMemorySampler {
 public:
  StreamMemorySampler(harness::MemoryScope scope, const std::atomic<std::uint64_t>& open,
                      std::chrono::milliseconds interval = std::chrono::milliseconds(50));
  ~StreamMemorySampler();
  StreamMemorySampler(const StreamMemorySampler&) = delete;
  StreamMemorySampler& operator=(const StreamMemorySampler&) = delete;

  void Start();
  MemoryPerStream Stop();

 private:
  void Sample();

  harness::MemoryScope scope_;
  const std::atomic<std::uint64_t>& open_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::optional<harness::MemoryUse> baseline_;
  std::optional<harness::MemoryUse> best_;
  std::uint64_t best_open_ = 0;
  std::string problem_;
};

}  // namespace streamcheck::bench
