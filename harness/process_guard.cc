#include "harness/process_guard.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "harness/process_memory.h"

namespace streamcheck::harness {
namespace {

std::atomic<int> g_guardian_fd{-1};
std::atomic<unsigned> g_next_tag{0};

// --- The guardian: runs in a child forked from a multithreaded process, so
// --- it makes async-signal-safe calls only, on static buffers.

// The kernel's struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2),
// d_type (1), then the name.
constexpr std::size_t kDirentRecordLength = 16;
constexpr std::size_t kDirentName = 19;

constexpr int kMaxGroups = 1024;
pid_t g_groups[kMaxGroups];
char g_environ[256 * 1024];
char g_dents[16 * 1024];

bool Contains(const char* hay, std::size_t n, const char* needle, std::size_t m) {
  // Environment entries are NUL-separated; the needle starts an entry.
  for (std::size_t i = 0; i + m <= n; ++i) {
    if ((i == 0 || hay[i - 1] == '\0') && std::memcmp(hay + i, needle, m) == 0) return true;
  }
  return false;
}

std::size_t FormatPath(char* out, long pid) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = char('0' + pid % 10);
    pid /= 10;
  } while (pid > 0);
  std::size_t at = 0;
  for (const char* p = "/proc/"; *p; ++p) out[at++] = *p;
  while (n > 0) out[at++] = digits[--n];
  for (const char* p = "/environ"; *p; ++p) out[at++] = *p;
  out[at] = '\0';
  return at;
}

void KillTaggedFromGuardian(const char* needle, std::size_t needle_size) {
  int dir = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return;
  const pid_t self = getpid();
  long n;
  while ((n = syscall(SYS_getdents64, dir, g_dents, sizeof g_dents)) > 0) {
    for (long at = 0; at < n;) {
      const char* record = g_dents + at;
      unsigned short length;
      std::memcpy(&length, record + kDirentRecordLength, sizeof length);
      at += length;
      const char* name = record + kDirentName;
      long pid = 0;
      bool numeric = name[0] != '\0';
      for (const char* c = name; *c; ++c) {
        if (*c < '0' || *c > '9') numeric = false;
        pid = pid * 10 + (*c - '0');
      }
      if (!numeric || pid == self) continue;
      char path[64];
      FormatPath(path, pid);
      int fd = open(path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) continue;
      std::size_t size = 0;
      ssize_t got;
      while (size < sizeof g_environ &&
             (got = read(fd, g_environ + size, sizeof g_environ - size)) > 0) {
        size += std::size_t(got);
      }
      close(fd);
      if (Contains(g_environ, size, needle, needle_size)) kill(pid_t(pid), SIGKILL);
    }
  }
  close(dir);
}

[[noreturn]] void GuardianMain(int fd, const char* needle, std::size_t needle_size) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT}) signal(sig, SIG_IGN);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  prctl(PR_SET_NAME, "sc-guardian", 0, 0, 0);
  setpgid(0, 0);  // out of the harness's group: a kill of that group leaves us to clean up
  if (fd != 3) {
    dup2(fd, 3);
    fd = 3;
  }
  int null_fd = open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
  }
  if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0) {
    for (int i = 4; i < 65536; ++i) close(i);
  }
  int groups = 0;
  pid_t record;
  for (;;) {
    ssize_t n = recv(fd, &record, sizeof record, MSG_WAITALL);
    if (n < 0 && errno == EINTR) continue;
    if (n != ssize_t(sizeof record)) break;  // EOF: the harness is gone
    if (record > 0 && groups < kMaxGroups) {
      g_groups[groups++] = record;
    } else if (record < 0) {
      for (int i = 0; i < groups; ++i) {
        if (g_groups[i] == -record) g_groups[i] = g_groups[--groups];
      }
    }
  }
  for (int i = 0; i < groups; ++i) kill(-g_groups[i], SIGKILL);
  // Twice: a process may have forked while the first pass ran.
  KillTaggedFromGuardian(needle, needle_size);
  KillTaggedFromGuardian(needle, needle_size);
  _exit(0);
}

void SendRecord(pid_t record) {
  int fd = g_guardian_fd.load();
  if (fd < 0) return;
  ssize_t n;
  do {
    n = send(fd, &record, sizeof record, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
}

std::string Comm(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name.empty() ? "?" : name;
}

bool IsZombieOrGone(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return true;
  auto close_paren = stat.rfind(')');
  return close_paren == std::string::npos || close_paren + 2 >= stat.size() ||
         stat[close_paren + 2] == 'Z' || stat[close_paren + 2] == 'X';
}

}  // namespace

std::mutex g_mutex;
pid_t g_token_pid = 0;     // the process the token was made for (a fork makes its own)
pid_t g_guardian_for = 0;  // the process the guardian watches

std::string RunToken() {
  std::lock_guard lock(g_mutex);
  static std::string token;
  if (g_token_pid != getpid()) {
    std::random_device random;
    std::ostringstream out;
    out << getpid() << "-" << std::hex << random() << random();
    token = out.str();
    g_token_pid = getpid();
  }
  return token;
}

std::string NewTargetTag() { return RunToken() + "/" + std::to_string(g_next_tag++); }

void EnsureGuardian() {
  const std::string needle = std::string(kTargetTagVariable) + "=" + RunToken() + "/";
  std::lock_guard lock(g_mutex);
  // Per process: a fork of this process (a test's death test) gets a guardian
  // of its own; the one it inherited watches its parent.
  if (g_guardian_for == getpid()) return;
  if (int inherited = g_guardian_fd.exchange(-1); inherited >= 0) close(inherited);
  g_guardian_for = getpid();
  int fds[2];
  const bool paired = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0;
  pid_t pid = -1;
  if (paired) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    // The guardian is a grandchild, forked before this process becomes a
    // subreaper, so it is no descendant of this process: it outlives it by
    // design (to clean up after a SIGKILL), and then nothing this process
    // started is left behind, not even the guardian's own zombie.
    pid = fork();
    if (pid == 0) {
      if (fork() == 0) {
        close(fds[0]);
        GuardianMain(fds[1], needle.c_str(), needle.size());
      }
      _exit(0);
    }
    if (pid > 0) waitpid(pid, nullptr, 0);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }
  // With or without a guardian, orphans of the targets come back to us.
  prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
  if (!paired) return;
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return;
  }
  g_guardian_fd = fds[0];  // held open for the life of this process
}

void GuardGroup(pid_t pgid) {
  if (pgid > 0) SendRecord(pgid);
}

void UnguardGroup(pid_t pgid) {
  if (pgid > 0) SendRecord(-pgid);
}

std::vector<pid_t> ProcessesTagged(const std::string& variable, const std::string& value) {
  std::vector<pid_t> out;
  const std::string needle = variable + "=" + value;
  const pid_t self = getpid();
  DIR* dir = opendir("/proc");
  if (!dir) return out;
  while (dirent* d = readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(d->d_name, &end, 10);
    if (end == d->d_name || *end != '\0' || pid == self) continue;
    std::ifstream in("/proc/" + std::to_string(pid) + "/environ", std::ios::binary);
    if (!in) continue;
    std::string entry;
    while (std::getline(in, entry, '\0')) {
      if (entry == needle) {
        if (!IsZombieOrGone(pid_t(pid))) out.push_back(pid_t(pid));
        break;
      }
    }
  }
  closedir(dir);
  return out;
}

std::vector<std::string> KillTagged(const std::string& tag) {
  std::vector<std::string> killed;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  // A process in the middle of an exec shows no environment for a moment:
  // one more look after an empty one.
  bool looked_again = false;
  for (;;) {
    auto pids = ProcessesTagged(kTargetTagVariable, tag);
    if (pids.empty() && !looked_again && killed.empty()) {
      looked_again = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      pids = ProcessesTagged(kTargetTagVariable, tag);
    }
    for (pid_t pid : pids) {
      std::string what = "pid " + std::to_string(pid) + " (" + Comm(pid) + ")";
      if (kill(pid, SIGKILL) == 0 &&
          std::find(killed.begin(), killed.end(), what) == killed.end()) {
        killed.push_back(what);
      }
      waitpid(pid, nullptr, WNOHANG);  // ours when we are its subreaper
    }
    if (pids.empty() || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (pid_t pid : pids) waitpid(pid, nullptr, WNOHANG);
  }
  return killed;
}

}  // namespace streamcheck::harness
