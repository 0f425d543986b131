// Zero-copy relay of a Content-Length body between two plain TCP sockets:
// splice(2) moves the bytes socket -> pipe -> socket inside the kernel, as
// HAProxy does, and the process never touches them. The pipe is the only
// buffer: bytes are taken from the source only while the pipe has room, and
// the pipe drains only as fast as the sink takes them, so backpressure holds
// as in the buffered path (at most pipe_bytes in flight, kernel memory, not
// the process's). A source that ends early is reported, never papered over.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "common/result.h"
#include "server/beast.h"

namespace streamcheck::server {

class SplicePump : public std::enable_shared_from_this<SplicePump> {
 public:
  enum class Outcome {
    kDone,          // exactly `length` bytes moved
    kSourceFailed,  // the source ended, failed or went silent first
    kSinkFailed,    // the sink went away or took nothing for the idle timeout
  };
  using Done = std::function<void(Outcome, std::uint64_t moved)>;

  // A pipe for the relay; fails when the kernel refuses one (out of fds),
  // and the caller then takes the bounded-buffer path.
  static Result<std::shared_ptr<SplicePump>> Create(tcp::socket& from, tcp::socket& to,
                                                    std::uint64_t length,
                                                    std::chrono::milliseconds idle_timeout);
  ~SplicePump();

  // `done` is called once; the sockets must outlive it.
  void Start(Done done);

  SplicePump(tcp::socket& from, tcp::socket& to, std::uint64_t length,
             std::chrono::milliseconds idle_timeout, int pipe_read, int pipe_write);

 private:
  void Step();
  void ArmIdle();
  void Finish(Outcome outcome);

  tcp::socket& from_;
  tcp::socket& to_;
  std::uint64_t left_;  // still to take from the source
  std::uint64_t moved_ = 0;
  std::size_t in_pipe_ = 0;
  bool source_failed_ = false;
  bool waiting_read_ = false;
  bool waiting_write_ = false;
  bool finished_ = false;
  std::chrono::milliseconds idle_timeout_;
  asio::steady_timer timer_;
  int pipe_read_;
  int pipe_write_;
  Done done_;
};

}  // namespace streamcheck::server
