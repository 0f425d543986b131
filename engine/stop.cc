#include "engine/stop.h"

namespace streamcheck::engine {

void StopSource::RequestStop(std::string reason, int exit_code) {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    interruption_ = {std::move(reason), exit_code};
    stopped_ = true;
  }
  changed_.notify_all();
}

void StopSource::SetDeadline(Clock::time_point deadline, std::string reason, int exit_code) {
  {
    std::lock_guard lock(mutex_);
    deadline_ = deadline;
    deadline_interruption_ = {std::move(reason), exit_code};
  }
  changed_.notify_all();
}

bool StopSource::stop_requested() {
  if (stopped_) return true;
  std::unique_lock lock(mutex_);
  if (deadline_ && Clock::now() >= *deadline_) {
    core::Interruption why = deadline_interruption_;
    lock.unlock();
    RequestStop(std::move(why.reason), why.exit_code);
    return true;
  }
  return false;
}

std::optional<core::Interruption> StopSource::interruption() {
  if (!stop_requested()) return std::nullopt;
  std::lock_guard lock(mutex_);
  return interruption_;
}

bool StopSource::WaitFor(std::chrono::milliseconds timeout) {
  auto until = Clock::now() + timeout;
  std::unique_lock lock(mutex_);
  for (;;) {
    if (stopped_) return true;
    auto wake = until;
    if (deadline_ && *deadline_ < wake) wake = *deadline_;
    if (changed_.wait_until(lock, wake) == std::cv_status::timeout) {
      if (deadline_ && Clock::now() >= *deadline_) {
        lock.unlock();
        return stop_requested();
      }
      if (Clock::now() >= until) return stopped_;
    }
  }
}

std::function<bool()> StopSource::Predicate() {
  return [this] { return stop_requested(); };
}

}  // namespace streamcheck::engine
