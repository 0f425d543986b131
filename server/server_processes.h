// `streamcheck serve --processes N`: N reference-server processes share one
// port, each listening on it with SO_REUSEPORT so the kernel spreads new
// connections over them (as nginx's workers and HAProxy's `nbproc` do). Each
// process has its own event loops, its own --max-connections and, what makes
// this worth having, its own open-file limit: a proxied stream holds two
// descriptors (client and backend), so one process under a 20,000-descriptor
// hard limit can never hold 10,000 streams, two can.
//
// The parent binds the port first (without listening, so it takes no
// connection itself; it only holds the port for the workers), forks the
// workers before it starts any thread (fork copies only the calling thread),
// and supervises them: a stop signal is passed on to every worker, and a
// worker that dies stops the others, so a crash is never half hidden.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "server/reference_server.h"

namespace streamcheck::server {

class ServerProcesses {
 public:
  // Forks `count` workers serving `options` on one port (options.port 0: any
  // free port) and returns once every one of them listens, or with the first
  // worker's error (bounded: 10 s). `stop_signals` are blocked in the caller
  // (its sigwait set); each worker waits on them too. Call it before the
  // process starts any thread.
  static Result<std::unique_ptr<ServerProcesses>> Start(const ServerOptions& options, int count,
                                                        const sigset_t& stop_signals);
  ~ServerProcesses();
  ServerProcesses(const ServerProcesses&) = delete;
  ServerProcesses& operator=(const ServerProcesses&) = delete;

  int port() const { return port_; }

  // Blocks until a signal of `stop_signals` arrives (returns "") or a worker
  // exits on its own (returns what became of it). Either way every worker is
  // then stopped: SIGTERM, and SIGKILL for one still there after 5 s.
  std::string Wait();

 private:
  ServerProcesses(int port, int listen_fd, sigset_t stop_signals)
      : port_(port), port_holder_fd_(listen_fd), stop_signals_(stop_signals) {}
  void StopWorkers();

  int port_;
  int port_holder_fd_;  // bound, never listening: keeps the port for the workers
  sigset_t stop_signals_;
  std::vector<pid_t> workers_;
};

}  // namespace streamcheck::server
