#include "harness/target_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <system_error>
#include <thread>

#include "common/text.h"
#include "harness/process_guard.h"
#include "harness/process_memory.h"
#include "harness/readiness.h"

extern char** environ;

namespace streamcheck::harness {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// --- Registry of started process groups, read from signal handlers. ---------

constexpr std::size_t kMaxGroups = 256;
static_assert(std::atomic<pid_t>::is_always_lock_free, "the signal handler needs lock-free slots");
std::atomic<pid_t> g_groups[kMaxGroups];

bool RegisterGroup(pid_t pgid) {
  for (auto& slot : g_groups) {
    pid_t expected = 0;
    if (slot.compare_exchange_strong(expected, pgid)) return true;
  }
  return false;
}

void UnregisterGroup(pid_t pgid) {
  for (auto& slot : g_groups) {
    pid_t expected = pgid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

// --- Small helpers. -----------------------------------------------------------

std::string ErrnoText(int err) { return std::strerror(err); }

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

// Turns a waitid() result into the equivalent waitpid() status.
int WaitStatusFromSiginfo(const siginfo_t& info) {
  switch (info.si_code) {
    case CLD_EXITED:
      return (info.si_status & 0xff) << 8;
    case CLD_DUMPED:
      return (info.si_status & 0x7f) | 0x80;
    default:  // CLD_KILLED
      return info.si_status & 0x7f;
  }
}

// Moves a descriptor to 3 or above, so that dup2() onto 0, 1 and 2 in the child
// cannot clobber it (the harness may run with a standard descriptor closed).
int AboveStdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  const int saved_errno = errno;
  close(fd);
  errno = saved_errno;
  return moved;
}

class FdCloser {
 public:
  explicit FdCloser(int& fd) : fd_(fd) {}
  ~FdCloser() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int& fd_;
};

// What the child writes to the close-on-exec pipe when it cannot exec.
struct ChildFailure {
  enum Stage : int { kSetup = 1, kChdir = 2, kExec = 3 } stage;
  int err;
};

[[noreturn]] void ChildFail(int pipe_fd, ChildFailure::Stage stage, int err) {
  const ChildFailure failure{stage, err};
  ssize_t n;
  do {
    n = write(pipe_fd, &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  _exit(127);
}

// Everything the child needs, built before fork() so the child only makes
// async-signal-safe calls.
struct ExecPlan {
  std::vector<std::string> candidates;  // paths to try, in PATH order
  std::vector<char*> argv;
  std::vector<char*> shell_argv;  // for ENOEXEC: /bin/sh <candidate> args..., slot 1 filled late
  std::vector<std::string> env_strings;
  std::vector<char*> envp;
};

void BuildExecPlan(const LaunchOptions& options, ExecPlan& plan) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (!eq) continue;
    env.emplace(std::string(*e, static_cast<std::size_t>(eq - *e)), std::string(eq + 1));
  }
  for (const auto& [key, value] : options.env) env[key] = value;
  for (const auto& [key, value] : env) plan.env_strings.push_back(key + "=" + value);
  for (auto& s : plan.env_strings) plan.envp.push_back(s.data());
  plan.envp.push_back(nullptr);

  for (const auto& arg : options.argv) plan.argv.push_back(const_cast<char*>(arg.c_str()));
  plan.argv.push_back(nullptr);
  static char kShell[] = "/bin/sh";
  plan.shell_argv.push_back(kShell);
  plan.shell_argv.push_back(nullptr);  // the candidate
  for (std::size_t i = 1; i < options.argv.size(); ++i) {
    plan.shell_argv.push_back(const_cast<char*>(options.argv[i].c_str()));
  }
  plan.shell_argv.push_back(nullptr);

  const std::string& program = options.argv[0];
  if (program.find('/') != std::string::npos) {
    plan.candidates.push_back(program);
    return;
  }
  // The child's PATH, as the child will see it; the default is the one execvp uses.
  auto path_it = env.find("PATH");
  const std::string path = path_it != env.end() ? path_it->second : "/bin:/usr/bin";
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? colon : colon - start);
    if (dir.empty()) dir = ".";
    plan.candidates.push_back(dir + "/" + program);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
}

// Runs in the child between fork() and exec: async-signal-safe calls only.
[[noreturn]] void RunChild(ExecPlan& plan, const char* working_dir, int stdin_fd, int log_fd,
                           int pipe_fd, pid_t parent) {
  // Dies with the harness, even by SIGKILL (the guardian covers its workers).
  // The signal follows the forking thread: the engine stops a target on the
  // thread that started it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  // Default dispositions: the harness's handlers and ignored signals (SIGPIPE)
  // are not the target's business. Signals are still blocked here.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, nullptr);
  }
  if (setpgid(0, 0) != 0) ChildFail(pipe_fd, ChildFailure::kSetup, errno);
  if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(log_fd, STDOUT_FILENO) < 0 ||
      dup2(log_fd, STDERR_FILENO) < 0) {
    ChildFail(pipe_fd, ChildFailure::kSetup, errno);
  }
  if (working_dir && chdir(working_dir) != 0) ChildFail(pipe_fd, ChildFailure::kChdir, errno);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  // execvp's search, without its allocations: EACCES is remembered and the
  // search goes on; a missing file moves on; other errors stop the search.
  bool saw_eacces = false;
  int err = ENOENT;
  char** shell_argv = plan.shell_argv.data();
  for (const auto& candidate : plan.candidates) {
    execve(candidate.c_str(), plan.argv.data(), plan.envp.data());
    err = errno;
    if (err == ENOEXEC) {  // no #! line: run it as a shell script, as execvp does
      shell_argv[1] = const_cast<char*>(candidate.c_str());
      execve(shell_argv[0], shell_argv, plan.envp.data());
      err = errno;
      break;
    }
    if (err == EACCES) {
      saw_eacces = true;
      continue;
    }
    if (err == ENOENT || err == ENOTDIR || err == ESTALE || err == ENODEV || err == ETIMEDOUT) {
      continue;
    }
    break;
  }
  if (saw_eacces && (err == ENOENT || err == ENOTDIR)) err = EACCES;
  ChildFail(pipe_fd, ChildFailure::kExec, err);
}

std::string DescribeStartFailure(const LaunchOptions& options, const ChildFailure& failure) {
  const std::string& program = options.argv[0];
  std::string text = "cannot start " + Quote(program) + ": ";
  switch (failure.stage) {
    case ChildFailure::kChdir:
      return text + "cannot enter working directory " + Quote(options.working_dir.string()) + ": " +
             ErrnoText(failure.err);
    case ChildFailure::kSetup:
      return text + "cannot set up the child process: " + ErrnoText(failure.err);
    case ChildFailure::kExec:
      break;
  }
  text += ErrnoText(failure.err);
  const bool searched_path = program.find('/') == std::string::npos;
  if (failure.err == ENOENT && searched_path) {
    text += " (is it installed and on PATH?)";
  } else if (failure.err == EACCES) {
    text += " (is it an executable file?)";
  }
  return text;
}

}  // namespace

// --- TargetProcess. -----------------------------------------------------------------

Result<std::unique_ptr<TargetProcess>> TargetProcess::Start(const LaunchOptions& options) {
  if (options.argv.empty() || options.argv[0].empty()) {
    return Error{"cannot start a target: the command is empty"};
  }
  const std::string& program = options.argv[0];
  if (options.log_path.empty()) {
    return Error{"cannot start " + Quote(program) + ": no log path given"};
  }
  std::error_code ec;
  if (options.log_path.has_parent_path()) {
    std::filesystem::create_directories(options.log_path.parent_path(), ec);
    if (ec) {
      return Error{"cannot start " + Quote(program) + ": cannot create log directory " +
                   Quote(options.log_path.parent_path().string()) + ": " + ec.message()};
    }
  }

  EnsureGuardian();
  LaunchOptions tagged = options;
  const std::string tag = NewTargetTag();
  tagged.env[kTargetTagVariable] = tag;
  ExecPlan plan;
  BuildExecPlan(tagged, plan);
  const std::string working_dir = options.working_dir.string();

  int log_fd = AboveStdio(
      open(options.log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644));
  FdCloser close_log(log_fd);
  if (log_fd < 0) {
    return Error{"cannot start " + Quote(program) + ": cannot open log file " +
                 Quote(options.log_path.string()) + ": " + ErrnoText(errno)};
  }
  int null_fd = AboveStdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
  FdCloser close_null(null_fd);
  if (null_fd < 0) return Error{"cannot open /dev/null: " + ErrnoText(errno)};
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return Error{"cannot create a pipe: " + ErrnoText(errno)};
  int read_fd = AboveStdio(pipe_fds[0]);
  int write_fd = AboveStdio(pipe_fds[1]);
  FdCloser close_read(read_fd);
  FdCloser close_write(write_fd);
  if (read_fd < 0 || write_fd < 0) return Error{"cannot create a pipe: " + ErrnoText(errno)};

  // Signals stay blocked across fork() until the child has default handlers and
  // the parent has registered the new group, so an interrupt cannot run the
  // harness's handler in the child nor miss the group.
  sigset_t all, old_mask;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old_mask);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    RunChild(plan, working_dir.empty() ? nullptr : working_dir.c_str(), null_fd, log_fd, write_fd,
             parent);
  }
  const int fork_errno = errno;
  bool registered = false;
  if (pid > 0) {
    setpgid(pid, pid);  // also in the child: whichever runs first wins the race
    registered = RegisterGroup(pid);
    GuardGroup(pid);
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  if (pid < 0) return Error{"cannot start " + Quote(program) + ": fork: " + ErrnoText(fork_errno)};
  close(write_fd);
  write_fd = -1;

  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(read_fd, &failure, sizeof failure);
  } while (n < 0 && errno == EINTR);
  if (n > 0 || !registered) {
    if (!registered) kill(-pid, SIGKILL);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (registered) UnregisterGroup(pid);
    UnguardGroup(pid);
    if (!registered) {
      return Error{"cannot start " + Quote(program) + ": already " + std::to_string(kMaxGroups) +
                   " targets running"};
    }
    if (n != static_cast<ssize_t>(sizeof failure)) {
      return Error{"cannot start " + Quote(program) + ": the child failed before exec"};
    }
    return Error{DescribeStartFailure(options, failure)};
  }

  int pidfd = -1;
#ifdef SYS_pidfd_open
  pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));  // close-on-exec by definition
  if (pidfd < 0) pidfd = -1;
#endif
  return std::unique_ptr<TargetProcess>(new TargetProcess(pid, pidfd, options.log_path, tag));
}

TargetProcess::TargetProcess(pid_t pid, int pidfd, std::filesystem::path log_path, std::string tag)
    : pid_(pid), pidfd_(pidfd), log_path_(std::move(log_path)), tag_(std::move(tag)) {}

TargetProcess::~TargetProcess() {
  Stop();
  if (pidfd_ >= 0) close(pidfd_);
}

void TargetProcess::RecordExit(int wait_status) {
  exited_ = true;
  exit_description_ = DescribeWaitStatus(wait_status);
  if (WIFEXITED(wait_status)) exit_code_ = WEXITSTATUS(wait_status);
}

bool TargetProcess::IsAlive() {
  if (IsRunning()) return true;
  return exit_code_ == 0 && !ProcessesTagged(kTargetTagVariable, tag_).empty();
}

bool TargetProcess::IsRunning() {
  if (exited_) return false;
  siginfo_t info{};
  // WNOWAIT: see the exit but leave the zombie, which keeps the pgid reserved.
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    if (errno == EINTR) return true;
    // ECHILD: someone else reaped it (SIGCHLD ignored, waitpid(-1)).
    exited_ = reaped_ = true;
    exit_description_ = "exited (status unknown: reaped elsewhere)";
    UnregisterGroup(pid_);
    return false;
  }
  if (info.si_pid == 0) return true;
  RecordExit(WaitStatusFromSiginfo(info));
  return false;
}

bool TargetProcess::WaitUntilExited(Clock::time_point deadline) {
  auto interval = milliseconds(1);
  while (IsRunning()) {
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const auto remaining = std::chrono::ceil<milliseconds>(deadline - now);
    if (pidfd_ >= 0) {
      pollfd pfd{pidfd_, POLLIN, 0};
      const int timeout = static_cast<int>(std::min<milliseconds::rep>(remaining.count(), 60000));
      if (poll(&pfd, 1, timeout) < 0 && errno != EINTR) {
        close(pidfd_);  // unusable: fall back to polling waitid()
        pidfd_ = -1;
      }
    } else {
      std::this_thread::sleep_for(std::min<milliseconds>(interval, remaining));
      interval = std::min(interval * 2, milliseconds(50));
    }
  }
  return true;
}

bool TargetProcess::WaitForExit(milliseconds timeout) {
  return WaitUntilExited(Clock::now() + timeout);
}

Status TargetProcess::WaitReady(const std::string& base_url, const std::string& path,
                                milliseconds timeout, const std::function<bool()>& should_stop,
                                const HttpRequest& request) {
  ReadinessProbe probe;
  probe.request = request;
  probe.url = JoinUrl(base_url, path);
  probe.timeout = timeout;
  probe.should_stop = should_stop;
  probe.exited = [this]() -> std::string {
    if (IsAlive()) return "";
    return "target " + exit_description_ + " before it was ready" +
           (exit_code_ == 0 ? " and left no process behind" : "");
  };
  probe.wait_a_little = [this](milliseconds d) {
    // A daemonised target has no leader to wait on: the probe's pause is a pause.
    if (IsRunning())
      WaitUntilExited(Clock::now() + d);
    else
      std::this_thread::sleep_for(d);
  };
  auto status = harness::WaitReady(probe);
  if (status) return status;
  const std::string tail = LogTail();
  std::string log = tail.empty() ? "the log (" + log_path_.string() + ") is empty"
                                 : "last log lines (" + log_path_.string() + "):";
  std::size_t start = 0;
  while (!tail.empty() && start <= tail.size()) {
    const std::size_t end = std::min(tail.find('\n', start), tail.size());
    log += "\n  " + tail.substr(start, end - start);
    start = end + 1;
  }
  return Status::Failure(status.message() + "; " + log);
}

void TargetProcess::Terminate() {
  if (!reaped_) kill(pid_, SIGTERM);
}

StopReport TargetProcess::Stop(milliseconds grace) {
  if (stopped_) {
    StopReport again = stop_report_;
    again.was_running = again.needed_kill = again.killed_leftovers = false;
    return again;
  }
  StopReport report;
  const auto deadline = Clock::now() + grace;
  report.was_running = IsRunning();
  if (!reaped_) {
    // Also when the leader already exited: its workers may still be there.
    kill(-pid_, SIGTERM);
    if (!WaitUntilExited(deadline)) {
      report.needed_kill = true;
      kill(-pid_, SIGKILL);
      WaitUntilExited(Clock::now() + std::chrono::seconds(10));
    }
  }
  if (exited_ && !reaped_) {
    // Leave the table while the zombie still reserves the pgid, then reap.
    UnregisterGroup(pid_);
    UnguardGroup(pid_);
    int status;
    pid_t r;
    do {
      r = waitpid(pid_, &status, 0);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) RecordExit(status);
    reaped_ = true;
  }
  if (!exited_) {
    // Unkillable for now (uninterruptible sleep): keep it registered and let a
    // later Stop() try again.
    report.exit = "still running after SIGKILL";
    report.left_behind = true;
    return report;
  }

  // The rest of the group, orphans now: after SIGTERM they get what is left of
  // the grace period, then SIGKILL. Zombies do not count as alive, but Stop()
  // waits (bounded) for init to reap them too, so that the group is gone.
  auto poll_until = [](Clock::time_point until, auto done) {
    auto interval = milliseconds(1);
    while (!done()) {
      const auto now = Clock::now();
      if (now >= until) return false;
      std::this_thread::sleep_for(std::min<Clock::duration>(interval, until - now));
      interval = std::min(interval * 2, milliseconds(50));
    }
    return true;
  };
  const pid_t pgid = pid_;
  auto group_gone = [pgid] {
    // Members only become our children when we are init (PID 1 in a container)
    // or a subreaper: then nobody else reaps them.
    while (waitpid(-pgid, nullptr, WNOHANG) > 0) {
    }
    return kill(-pgid, 0) != 0 && errno == ESRCH;
  };
  auto none_alive = [pgid, &group_gone] { return group_gone() || LiveGroupMembers(pgid).empty(); };
  if (!report.needed_kill && !poll_until(deadline, none_alive)) {
    report.killed_leftovers = true;
  }
  if (report.needed_kill || report.killed_leftovers) kill(-pgid, SIGKILL);
  report.left_behind = !poll_until(Clock::now() + std::chrono::seconds(10), group_gone);
  // Descendants that left the group (setsid, a double fork) still carry the tag.
  report.leftovers_killed = KillTagged(tag_);
  if (!ProcessesTagged(kTargetTagVariable, tag_).empty()) report.left_behind = true;
  report.exit = exit_description_;
  stopped_ = true;
  stop_report_ = report;
  return report;
}

std::string TargetProcess::LogTail(std::size_t max_lines) const {
  constexpr std::streamoff kMaxBytes = 64 * 1024;
  std::ifstream in(log_path_, std::ios::binary);
  if (!in || max_lines == 0) return {};
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size <= 0) return {};
  const std::streamoff start = std::max<std::streamoff>(0, size - kMaxBytes);
  in.seekg(start);
  std::string data(static_cast<std::size_t>(size - start), '\0');
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  data.resize(static_cast<std::size_t>(in.gcount()));
  if (start > 0) {  // the first line is cut: drop it unless it is all there is
    const std::size_t newline = data.find('\n');
    if (newline != std::string::npos && newline + 1 < data.size()) data.erase(0, newline + 1);
  }
  while (!data.empty() && data.back() == '\n') data.pop_back();
  std::size_t begin = data.size();
  for (std::size_t lines = 0; begin > 0; --begin) {
    if (data[begin - 1] == '\n' && ++lines == max_lines) break;
  }
  return data.substr(begin);
}

// --- Free functions. ----------------------------------------------------------------

void KillAllStartedGroups() {
  for (auto& slot : g_groups) {
    const pid_t pgid = slot.load();
    if (pgid > 0) kill(-pgid, SIGKILL);
  }
}

}  // namespace streamcheck::harness
