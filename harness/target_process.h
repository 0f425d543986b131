// Lifecycle of a server under test that the harness starts itself: its own
// process group, its environment, a log file, a bounded readiness wait, and a
// stop that never leaves anything behind (SIGTERM to the group, then SIGKILL).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace streamcheck::harness {

struct LaunchOptions {
  std::vector<std::string> argv;              // argv[0] is looked up in PATH
  std::map<std::string, std::string> env;     // set on top of the inherited environment
  std::filesystem::path working_dir;          // empty: the current directory
  std::filesystem::path log_path;             // stdout and stderr go here (truncated)
};

struct StopReport {
  bool was_running = false;   // still running when Stop() was called
  bool needed_kill = false;   // ignored SIGTERM for the whole grace period
  std::string exit;           // how it ended, e.g. "exited with code 0", "killed by signal 9"
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

  // Reaps without blocking; false once the process has exited.
  bool IsRunning();
  // "exited with code N" / "killed by signal N (SIGKILL)"; empty while running.
  std::string DescribeExit() const { return exit_description_; }

  // Polls GET base_url + path until it answers 200, the process exits, or the
  // timeout passes, whichever is first. Each failure message says which, with
  // the tail of the log.
  Status WaitReady(const std::string& base_url, const std::string& path,
                   std::chrono::milliseconds timeout);

  // SIGTERM to the process group, waits up to `grace` for the leader to exit,
  // then SIGKILL to the group. Also kills group members left after the leader
  // exited. Idempotent.
  StopReport Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // The last `max_lines` lines of the log, for error messages.
  std::string LogTail(std::size_t max_lines = 20) const;
  const std::filesystem::path& log_path() const { return log_path_; }

 private:
  TargetProcess(pid_t pid, std::filesystem::path log_path);
  void RecordExit(int wait_status);

  pid_t pid_;
  std::filesystem::path log_path_;
  bool exited_ = false;
  bool stopped_ = false;
  std::string exit_description_;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it,
// close). For servers that take `--port N` and cannot report their own port.
Result<int> PickFreePort();

// Kills every process group this process started and has not stopped yet. Safe
// to call from a signal handler (only kill(2) on a fixed table).
void KillAllStartedGroups();

// Installs SIGINT/SIGTERM/SIGHUP handlers that call KillAllStartedGroups() and
// then re-raise the signal with its default action. Call once, from main().
void InstallInterruptCleanup();

}  // namespace streamcheck::harness
