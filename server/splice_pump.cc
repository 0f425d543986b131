#include "server/splice_pump.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace streamcheck::server {
namespace {

using boost::asio::ip::tcp;
using error_code = boost::system::error_code;

// 256 KiB: big enough that one splice moves a lot, small enough that a slow
// client pins little kernel memory per stream.
constexpr int kPipeBytes = 256 * 1024;

}  // namespace

Result<std::shared_ptr<SplicePump>> SplicePump::Create(tcp::socket& from, tcp::socket& to,
                                                       std::uint64_t length,
                                                       std::chrono::milliseconds idle_timeout) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return Error{"pipe2 failed"};
  fcntl(fds[1], F_SETPIPE_SZ, kPipeBytes);  // a smaller pipe still works
  error_code ec;
  from.native_non_blocking(true, ec);
  if (!ec) to.native_non_blocking(true, ec);
  if (ec) {
    close(fds[0]);
    close(fds[1]);
    return Error{"cannot make the sockets non-blocking"};
  }
  return std::make_shared<SplicePump>(from, to, length, idle_timeout, fds[0], fds[1]);
}

SplicePump::SplicePump(tcp::socket& from, tcp::socket& to, std::uint64_t length,
                       std::chrono::milliseconds idle_timeout, int pipe_read, int pipe_write)
    : from_(from),
      to_(to),
      left_(length),
      idle_timeout_(idle_timeout),
      timer_(to.get_executor()),
      pipe_read_(pipe_read),
      pipe_write_(pipe_write) {}

SplicePump::~SplicePump() {
  close(pipe_read_);
  close(pipe_write_);
}

void SplicePump::Start(Done done) {
  done_ = std::move(done);
  ArmIdle();
  Step();
}

void SplicePump::ArmIdle() {
  timer_.expires_after(idle_timeout_);
  timer_.async_wait([self = shared_from_this()](const error_code& ec) {
    if (ec || self->finished_) return;
    // Silent on whichever side it waits for: the backend (reading) or the client.
    self->Finish(self->waiting_write_ ? Outcome::kSinkFailed : Outcome::kSourceFailed);
  });
}

void SplicePump::Step() {
  bool progress = true;
  while (progress && !finished_) {
    progress = false;
    if (left_ > 0 && !source_failed_ && !waiting_read_) {
      std::size_t want = std::size_t(std::min<std::uint64_t>(left_, kPipeBytes));
      ssize_t n = splice(from_.native_handle(), nullptr, pipe_write_, nullptr, want,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        left_ -= std::uint64_t(n);
        in_pipe_ += std::size_t(n);
        progress = true;
      } else if (n == 0) {
        source_failed_ = true;  // EOF before `length` bytes: a truncated body
      } else if (errno == EAGAIN) {
        // EAGAIN is both "socket empty" and "pipe full". With bytes in the
        // pipe, the next drain retries; with none, the socket is empty.
        if (in_pipe_ == 0) {
          waiting_read_ = true;
          from_.async_wait(tcp::socket::wait_read,
                           [self = shared_from_this()](const error_code& ec) {
                             self->waiting_read_ = false;
                             if (ec) self->source_failed_ = true;
                             if (!self->finished_) self->Step();
                           });
        }
      } else if (errno != EINTR) {
        source_failed_ = true;
      }
    }
    if (in_pipe_ > 0 && !waiting_write_) {
      ssize_t n = splice(pipe_read_, nullptr, to_.native_handle(), nullptr, in_pipe_,
                         SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        in_pipe_ -= std::size_t(n);
        moved_ += std::uint64_t(n);
        progress = true;
      } else if (n < 0 && errno == EAGAIN) {
        waiting_write_ = true;
        to_.async_wait(tcp::socket::wait_write, [self = shared_from_this()](const error_code& ec) {
          self->waiting_write_ = false;
          if (ec) return self->Finish(Outcome::kSinkFailed);
          if (!self->finished_) self->Step();
        });
      } else if (n < 0 && errno != EINTR) {
        return Finish(Outcome::kSinkFailed);
      }
    }
    if (progress) ArmIdle();
    if (in_pipe_ == 0 && (left_ == 0 || source_failed_)) {
      return Finish(left_ == 0 ? Outcome::kDone : Outcome::kSourceFailed);
    }
  }
}

void SplicePump::Finish(Outcome outcome) {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  // Pending waits hold this object; cancel them so it can go.
  error_code ignored;
  if (waiting_read_) from_.cancel(ignored);
  if (waiting_write_) to_.cancel(ignored);
  auto done = std::move(done_);
  if (done) done(outcome, moved_);
}

}  // namespace streamcheck::server
