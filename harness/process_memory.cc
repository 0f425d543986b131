#include "harness/process_memory.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

RssSampler::RssSampler(pid_t root, std::chrono::milliseconds interval)
    : root_(root), interval_(interval) {}

RssSampler::~RssSampler() { Stop(); }

void RssSampler::Start() {
  Stop();
  {
    std::lock_guard lock(mutex_);
    summary_ = RssSummary{};
    stop_requested_ = false;
    start_ = std::chrono::steady_clock::now();
    stride_ = 1;
    pending_ = 0;
  }
  Sample();  // the baseline, before Start() returns
  running_ = true;
  thread_ = std::thread(&RssSampler::Run, this);
}

RssSummary RssSampler::Stop() {
  if (running_.exchange(false)) {
    {
      std::lock_guard lock(mutex_);
      stop_requested_ = true;
    }
    wake_.notify_all();
    thread_.join();
    Sample();  // the state at the end of the case
    std::lock_guard lock(mutex_);
    if (pending_ > 0 && summary_.curve.size() < RssSummary::kMaxCurvePoints) {
      summary_.curve.push_back(pending_point_);
    } else if (pending_ > 0 && pending_point_.bytes >= summary_.curve.back().bytes) {
      summary_.curve.back() = pending_point_;
    }
    pending_ = 0;
  }
  return Current();
}

RssSummary RssSampler::Current() {
  std::lock_guard lock(mutex_);
  return summary_;
}

void RssSampler::Run() {
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stop_requested_; })) {
    lock.unlock();
    Sample();
    lock.lock();
  }
}

void RssSampler::Sample() {
  const Result<std::uint64_t> rss = TreeRssBytes(root_);
  if (!rss.ok()) return;  // the tree is gone; its last samples stand
  std::lock_guard lock(mutex_);
  if (summary_.samples == 0) summary_.baseline_bytes = *rss;
  summary_.peak_bytes = std::max(summary_.peak_bytes, *rss);
  summary_.last_bytes = *rss;
  ++summary_.samples;
  const double t_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  if (pending_ == 0 || *rss > pending_point_.bytes) pending_point_ = {t_ms, *rss};
  if (++pending_ < stride_) return;
  auto& curve = summary_.curve;
  if (curve.size() == RssSummary::kMaxCurvePoints) {
    for (std::size_t i = 0; i < curve.size() / 2; ++i) {
      const auto& a = curve[2 * i];
      const auto& b = curve[2 * i + 1];
      curve[i] = a.bytes >= b.bytes ? a : b;
    }
    curve.resize(curve.size() / 2);
    stride_ *= 2;
  }
  curve.push_back(pending_point_);
  pending_ = 0;
}

}  // namespace streamcheck::harness
