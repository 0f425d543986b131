// Lifecycle of a server under test that the harness starts itself: its own
// process group, its environment, a log file, a bounded readiness wait, and a
// stop that never leaves anything behind (SIGTERM to the group, then SIGKILL,
// then every tagged descendant that left the group: harness/process_guard.h).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "harness/http_client.h"

namespace streamcheck::harness {

struct LaunchOptions {
  // argv[0] is looked up in PATH (the child's PATH: options.env may override it) unless it
  // contains a '/'; a relative path with a '/' is taken from working_dir, as execvp would.
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;  // set on top of the inherited environment
  std::filesystem::path working_dir;       // empty: the current directory
  std::filesystem::path log_path;  // stdout and stderr go here (truncated); parent dirs created
};

struct StopReport {
  bool was_running = false;       // still running when Stop() was called
  bool needed_kill = false;       // ignored SIGTERM for the whole grace period
  std::string exit;               // how it ended, e.g. "exited with code 0", "killed by signal 9"
  bool killed_leftovers = false;  // group members outlived the leader's grace and got SIGKILL
  bool left_behind = false;       // group members still present when Stop() gave up waiting
  // Descendants outside the group (setsid, double fork), found by their tag
  // and killed: "pid 123 (python3)".
  std::vector<std::string> leftovers_killed;
};

class TargetProcess {
 public:
  // Starts the process in a new process group. Fails with a clear message when
  // the program cannot be executed (not found, not executable): exec failure is
  // reported through a close-on-exec pipe, not discovered later.
  static Result<std::unique_ptr<TargetProcess>> Start(const LaunchOptions& options);

  ~TargetProcess();  // Stop() with the default grace period
  TargetProcess(const TargetProcess&) = delete;
  TargetProcess& operator=(const TargetProcess&) = delete;

  pid_t pid() const { return pid_; }

  // Checks without blocking; false once the process has exited. The exited leader is
  // left a zombie until Stop(), so its pid (= the process group id) cannot be reused
  // while KillAllStartedGroups() may still signal it.
  bool IsRunning();
  // Running, or daemonised: the leader exited with code 0 and left processes
  // that carry its tag (a launcher that double-forks, `docker run -d`-like
  // scripts). The server is then those processes, found by its tag.
  bool IsAlive();
  // Waits up to `timeout` for the process to exit by itself (sends no signal); true once
  // it has exited.
  bool WaitForExit(std::chrono::milliseconds timeout);
  // "exited with code N" / "killed by signal N (SIGKILL)"; empty while running.
  std::string DescribeExit() const { return exit_description_; }

  // Polls GET base_url + path until it answers 200, the process exits, the
  // timeout passes or `should_stop` says so, whichever is first
  // (harness/readiness.h). Each failure message says which, with the tail of
  // the log.
  Status WaitReady(const std::string& base_url, const std::string& path,
                   std::chrono::milliseconds timeout, const std::function<bool()>& should_stop = {},
                   const HttpRequest& request = {});

  // SIGTERM to the process group, waits up to `grace` for the leader to exit,
  // then SIGKILL to the group. Group members left after the leader exited get
  // the rest of the grace period, then SIGKILL; Stop() then waits (bounded) until
  // the group is empty. Reaps the leader. Idempotent: later calls return the same
  // report with was_running = false.
  StopReport Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // The last `max_lines` lines of the log, for error messages.
  std::string LogTail(std::size_t max_lines = 20) const;
  const std::filesystem::path& log_path() const { return log_path_; }

 private:
  TargetProcess(pid_t pid, int pidfd, std::filesystem::path log_path, std::string tag);
  void RecordExit(int wait_status);
  // Waits until the leader has exited or `deadline` passes; true if it has exited.
  bool WaitUntilExited(std::chrono::steady_clock::time_point deadline);

  pid_t pid_;
  int pidfd_;  // -1 when pidfd_open is unavailable: waits then poll waitid()
  std::filesystem::path log_path_;
  std::string tag_;  // STREAMCHECK_TARGET_TAG of it and its descendants
  bool exited_ = false;
  bool reaped_ = false;
  bool stopped_ = false;
  std::string exit_description_;
  int exit_code_ = -1;  // the leader's exit code once it exited normally
  StopReport stop_report_;
};

// Kills (SIGKILL) every process group this process started and has not stopped
// yet. Safe to call from a signal handler (only kill(2) on a fixed table).
void KillAllStartedGroups();

}  // namespace streamcheck::harness
