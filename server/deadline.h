// A timeout for a sequence of I/O steps, re-armed at every step without
// touching the kernel's timer each time: the timer waits for the earliest
// deadline set, and when it fires to find the deadline moved later, it waits
// again. At gigabytes a second a body moves in thousands of steps a second;
// this keeps the timer out of the profile.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "server/beast.h"

namespace streamcheck::server {

class Deadline {
 public:
  explicit Deadline(asio::any_io_executor executor) : timer_(std::move(executor)) {}

  // `on_expiry` runs once `after` has passed, unless Arm() or Disarm() comes
  // first. It may destroy the owner of this Deadline.
  void Arm(std::chrono::milliseconds after, std::function<void()> on_expiry) {
    deadline_ = Clock::now() + after;
    on_expiry_ = std::move(on_expiry);
    if (waiting_ && timer_.expiry() <= deadline_) return;  // it wakes first, then waits on
    Wait();
  }
  void Disarm() { deadline_ = Clock::time_point::max(); }

 private:
  using Clock = std::chrono::steady_clock;

  void Wait() {
    waiting_ = true;
    unsigned generation = ++generation_;
    timer_.expires_at(deadline_);
    // A handler already queued when the owner dies must not touch this object.
    timer_.async_wait([this, generation, alive = std::weak_ptr<int>(alive_)](const error_code& ec) {
      if (ec || alive.expired() || generation != generation_) return;
      waiting_ = false;
      if (deadline_ == Clock::time_point::max()) return;
      if (Clock::now() < deadline_) return Wait();
      deadline_ = Clock::time_point::max();
      auto expired = std::move(on_expiry_);
      expired();
    });
  }

  asio::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();
  bool waiting_ = false;
  unsigned generation_ = 0;
  std::function<void()> on_expiry_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace streamcheck::server
