#include "harness/process_memory.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace streamcheck::harness {
namespace {

// Reads a small /proc file whole; false when it cannot be read (the process is gone).
bool ReadSmallFile(const char* path, char* buf, std::size_t size, std::size_t& length) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n;
  do {
    n = read(fd, buf, size - 1);
  } while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) return false;
  length = static_cast<std::size_t>(n);
  buf[length] = '\0';
  return true;
}

struct StatFields {
  pid_t pid = 0;
  char state = '?';
  pid_t ppid = 0;
  pid_t pgrp = 0;
};

// /proc/<pid>/stat is "pid (comm) state ppid pgrp ...", and comm may itself
// hold spaces and parentheses: the fields resume after the LAST ')'.
bool ReadStat(pid_t pid, StatFields& out) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  char buf[1024];
  std::size_t length = 0;
  if (!ReadSmallFile(path, buf, sizeof buf, length)) return false;
  const char* close_paren = std::strrchr(buf, ')');
  if (!close_paren) return false;
  char state = 0;
  int ppid = 0;
  int pgrp = 0;
  if (std::sscanf(close_paren + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) return false;
  out = {pid, state, static_cast<pid_t>(ppid), static_cast<pid_t>(pgrp)};
  return true;
}

// Calls `visit` with the stat line of every process in /proc.
template <typename Visit>
void ForEachProcess(Visit visit) {
  DIR* dir = opendir("/proc");
  if (!dir) return;
  while (const dirent* entry = readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    StatFields stat;
    if (ReadStat(static_cast<pid_t>(pid), stat)) visit(stat);  // vanished: skipped
  }
  closedir(dir);
}

// Resident bytes of one process, from the second field of /proc/<pid>/statm
// (the same number as VmRSS in /proc/<pid>/status).
bool ReadRssBytes(pid_t pid, std::uint64_t& bytes) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  char buf[256];
  std::size_t length = 0;
  if (!ReadSmallFile(path, buf, sizeof buf, length)) return false;
  unsigned long long size_pages = 0;
  unsigned long long resident_pages = 0;
  if (std::sscanf(buf, "%llu %llu", &size_pages, &resident_pages) != 2) return false;
  static const std::uint64_t page_size = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  bytes = resident_pages * page_size;
  return true;
}

// Proportional bytes of one process: the Pss line of /proc/<pid>/smaps_rollup
// (kernel 4.14+). 0 when unreadable (another user's process, an old kernel).
bool ReadPssBytes(pid_t pid, std::uint64_t& bytes) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/smaps_rollup", static_cast<int>(pid));
  char buf[4096];
  std::size_t length = 0;
  if (!ReadSmallFile(path, buf, sizeof buf, length)) return false;
  const char* pss = std::strstr(buf, "\nPss:");
  unsigned long long kib = 0;
  if (!pss || std::sscanf(pss + 5, " %llu kB", &kib) != 1) return false;
  bytes = kib * 1024;
  return true;
}

}  // namespace

std::vector<pid_t> ProcessTree(pid_t root) {
  std::unordered_map<pid_t, std::vector<pid_t>> children;
  bool root_found = false;
  ForEachProcess([&](const StatFields& stat) {
    if (stat.pid == root) root_found = true;
    children[stat.ppid].push_back(stat.pid);
  });
  if (!root_found) return {};
  std::vector<pid_t> tree{root};
  std::unordered_set<pid_t> seen{root};  // a pid reused mid-scan must not loop
  for (std::size_t i = 0; i < tree.size(); ++i) {
    auto it = children.find(tree[i]);
    if (it == children.end()) continue;
    for (const pid_t child : it->second) {
      if (seen.insert(child).second) tree.push_back(child);
    }
  }
  return tree;
}

std::vector<pid_t> LiveGroupMembers(pid_t pgid) {
  std::vector<pid_t> members;
  ForEachProcess([&](const StatFields& stat) {
    if (stat.pgrp == pgid && stat.state != 'Z' && stat.state != 'X') members.push_back(stat.pid);
  });
  return members;
}

Result<std::uint64_t> TreeRssBytes(pid_t root) {
  const std::vector<pid_t> tree = ProcessTree(root);
  std::uint64_t total = 0;
  for (const pid_t pid : tree) {
    std::uint64_t bytes = 0;
    if (ReadRssBytes(pid, bytes)) {
      total += bytes;
    } else if (pid == root) {
      return Error{"process " + std::to_string(root) + " does not exist"};
    }
  }
  if (tree.empty()) return Error{"process " + std::to_string(root) + " does not exist"};
  return total;
}

std::vector<pid_t> ListeningSocketOwners(int port) {
  // Inodes of sockets in state 0A (LISTEN) on the port, IPv4 and IPv6.
  std::unordered_set<unsigned long> inodes;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmit, uid, timeout;
      unsigned long inode = 0;
      if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmit >> uid >>
            timeout >> inode)) {
        continue;
      }
      auto colon = local.rfind(':');
      if (colon == std::string::npos || state != "0A") continue;
      if (std::strtol(local.c_str() + colon + 1, nullptr, 16) == port && inode != 0) {
        inodes.insert(inode);
      }
    }
  }
  std::vector<pid_t> owners;
  if (inodes.empty()) return owners;
  ForEachProcess([&](const StatFields& stat) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%d/fd", static_cast<int>(stat.pid));
    DIR* dir = opendir(path);
    if (!dir) return;
    while (const dirent* entry = readdir(dir)) {
      char target[128];
      const std::string link = std::string(path) + "/" + entry->d_name;
      ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      unsigned long inode = 0;
      if (std::sscanf(target, "socket:[%lu]", &inode) == 1 && inodes.count(inode)) {
        owners.push_back(stat.pid);
        break;
      }
    }
    closedir(dir);
  });
  return owners;
}

Result<std::vector<pid_t>> CgroupProcesses(const std::filesystem::path& cgroup) {
  std::error_code ec;
  if (!std::filesystem::is_directory(cgroup, ec)) {
    return Error{"cgroup " + cgroup.string() + " does not exist"};
  }
  std::vector<pid_t> pids;
  auto read_procs = [&](const std::filesystem::path& folder) {
    std::ifstream in(folder / "cgroup.procs");
    long pid;
    while (in >> pid) pids.push_back(static_cast<pid_t>(pid));
  };
  read_procs(cgroup);
  for (auto it = std::filesystem::recursive_directory_iterator(cgroup, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec)) read_procs(it->path());
  }
  return pids;
}

std::string ProcessName(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

Result<MemoryUse> MeasureMemory(const MemoryScope& scope) {
  std::unordered_set<pid_t> pids;
  for (pid_t root : scope.roots) {
    for (pid_t pid : ProcessTree(root)) pids.insert(pid);
  }
  if (!scope.cgroup.empty()) {
    auto members = CgroupProcesses(scope.cgroup);
    if (!members) return Error{members.error()};
    pids.insert(members->begin(), members->end());
  }
  MemoryUse use;
  for (pid_t pid : pids) {
    std::uint64_t rss = 0, pss = 0;
    if (!ReadRssBytes(pid, rss)) continue;  // gone
    ReadPssBytes(pid, pss);
    use.rss_bytes += rss;
    use.pss_bytes += pss;
    ++use.processes;
  }
  if (use.processes == 0) return Error{"no process of " + scope.description + " exists"};
  return use;
}

MemorySampler::MemorySampler(MemoryScope scope, std::chrono::milliseconds interval)
    : scope_(std::move(scope)), interval_(interval) {}

MemorySampler::~MemorySampler() { Stop(); }

void MemorySampler::Start() {
  Stop();
  {
    std::lock_guard lock(mutex_);
    summary_ = MemorySummary{};
    stop_requested_ = false;
    curve_stride_ = 1;
  }
  start_ = std::chrono::steady_clock::now();
  Sample();  // the baseline, before Start() returns
  running_ = true;
  thread_ = std::thread(&MemorySampler::Run, this);
}

MemorySummary MemorySampler::Stop() {
  if (running_.exchange(false)) {
    {
      std::lock_guard lock(mutex_);
      stop_requested_ = true;
    }
    wake_.notify_all();
    thread_.join();
    Sample();  // the state at the end of the case
  }
  return Current();
}

MemorySummary MemorySampler::Current() {
  std::lock_guard lock(mutex_);
  return summary_;
}

void MemorySampler::Run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_requested_; })) {
    lock.unlock();
    Sample();
    lock.lock();
  }
}

void MemorySampler::Sample() {
  const Result<MemoryUse> use = MeasureMemory(scope_);
  if (!use.ok()) return;  // the scope is gone; its last samples stand
  const double t_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  std::lock_guard lock(mutex_);
  auto& s = summary_;
  if (s.samples == 0) s.baseline = s.peak = *use;
  if (use->pss_bytes > s.peak.pss_bytes) s.peak = *use;
  s.peak_rss_bytes = std::max(s.peak_rss_bytes, use->rss_bytes);
  s.last = *use;
  ++s.samples;
  // Keep at most kCurvePoints: when full, drop every other point and sample
  // the curve half as often from then on.
  if (s.samples % curve_stride_ == 0 || s.samples == 1) {
    s.curve.push_back({t_ms, use->rss_bytes, use->pss_bytes});
    if (s.curve.size() >= MemorySummary::kCurvePoints) {
      std::vector<MemoryPoint> half;
      for (std::size_t i = 0; i < s.curve.size(); i += 2) half.push_back(s.curve[i]);
      s.curve = std::move(half);
      curve_stride_ *= 2;
    }
  }
}

}  // namespace streamcheck::harness
