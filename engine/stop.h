// Why and when a run must stop: an interrupt (SIGINT, SIGTERM) or the run's
// deadline. Every wait in a run polls or waits on this, so a stop ends the
// current case at once and leaves the reports to be written.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "core/model.h"

namespace streamcheck::engine {

class StopSource {
 public:
  using Clock = std::chrono::steady_clock;

  // The first request wins; later ones are ignored. Thread-safe.
  void RequestStop(std::string reason, int exit_code);
  // After `deadline`, stop_requested() becomes true with this reason and code.
  void SetDeadline(Clock::time_point deadline, std::string reason, int exit_code);

  bool stop_requested();
  std::optional<core::Interruption> interruption();
  // Waits up to `timeout`, returning early (true) when a stop is requested.
  bool WaitFor(std::chrono::milliseconds timeout);
  // stop_requested() as a predicate for the harness (HttpRequest::should_stop).
  std::function<bool()> Predicate();

 private:
  std::atomic<bool> stopped_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  core::Interruption interruption_;  // guarded by mutex_
  std::optional<Clock::time_point> deadline_;
  core::Interruption deadline_interruption_;
};

}  // namespace streamcheck::engine
