#include "harness/process_memory.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "harness/target_process.h"
#include "tests/test_support.h"

namespace streamcheck::harness {
namespace {

using testing_support::kLongWait;
using testing_support::PollUntil;
using testing_support::ReadFile;

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::Contains;
using ::testing::HasSubstr;

constexpr std::uint64_t kMiB = 1 << 20;

MemoryScope Tree(pid_t root) { return {{root}, {}, "pid " + std::to_string(root)}; }

// Waits until the target's log holds "<label> <pid>" and returns the pid (0 on timeout).
pid_t WaitForPidInLog(const TargetProcess& target, const std::string& label) {
  pid_t pid = 0;
  PollUntil([&] {
    const std::string log = ReadFile(target.log_path());
    const auto at = log.find(label + " ");
    const auto end = log.find('\n', at);
    if (at == std::string::npos || end == std::string::npos) return false;
    pid = std::stoi(log.substr(at + label.size() + 1));
    return true;
  });
  return pid;
}

// A pid that cannot exist: one above the kernel's maximum.
pid_t NonexistentPid() {
  return static_cast<pid_t>(std::stol(ReadFile("/proc/sys/kernel/pid_max")) + 1);
}

class ProcessMemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "streamcheck-memory-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::unique_ptr<TargetProcess> StartShell(const std::string& script,
                                            std::vector<std::string> args = {}) {
    LaunchOptions options;
    options.argv = {"/bin/sh", "-c", script};
    options.argv.insert(options.argv.end(), args.begin(), args.end());
    options.working_dir = dir_;
    options.log_path = dir_ / "target.log";
    auto started = TargetProcess::Start(options);
    EXPECT_TRUE(started.ok()) << started.error();
    return started.ok() ? std::move(*started) : nullptr;
  }

  std::filesystem::path dir_;
};

TEST_F(ProcessMemoryTest, ProcessTreeFindsGrandchild) {
  // root sh -> child sh -> grandchild sleep
  auto target = StartShell("sh -c 'sleep 60 & echo grandchild $!; wait' & wait");
  ASSERT_TRUE(target);
  const pid_t grandchild = WaitForPidInLog(*target, "grandchild");
  ASSERT_GT(grandchild, 0);
  const std::vector<pid_t> tree = ProcessTree(target->pid());
  ASSERT_FALSE(tree.empty());
  EXPECT_EQ(tree.front(), target->pid());
  EXPECT_THAT(tree, Contains(grandchild));
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_THAT(ProcessTree(1), Contains(target->pid()));
}

TEST_F(ProcessMemoryTest, ProcessTreeParsesCommWithParenthesesAndSpaces) {
  // comm comes from the executable's file name; this one breaks a parser that
  // stops at the first ')' or splits on spaces.
  const auto odd = dir_ / "a) b (c) d";
  std::filesystem::create_symlink("/bin/sleep", odd);
  auto target = StartShell("\"$0\" 60 & echo child $!; wait", {odd.string()});
  ASSERT_TRUE(target);
  const pid_t child = WaitForPidInLog(*target, "child");
  ASSERT_GT(child, 0);
  ASSERT_TRUE(PollUntil([&] {  // until the exec has happened
    return ReadFile("/proc/" + std::to_string(child) + "/stat").find("(a) b (c) d)") !=
           std::string::npos;
  }));
  EXPECT_THAT(ProcessTree(target->pid()), Contains(child));
}

TEST_F(ProcessMemoryTest, ProcessTreeOfMissingProcessIsEmpty) {
  EXPECT_TRUE(ProcessTree(NonexistentPid()).empty());
}

TEST_F(ProcessMemoryTest, TreeRssBytesFailsForMissingProcess) {
  const pid_t missing = NonexistentPid();
  const auto rss = TreeRssBytes(missing);
  ASSERT_FALSE(rss.ok());
  EXPECT_THAT(rss.error(), HasSubstr(std::to_string(missing)));
  EXPECT_THAT(rss.error(), HasSubstr("does not exist"));
}

TEST_F(ProcessMemoryTest, TreeRssBytesOfThisProcessIsPlausible) {
  const auto rss = TreeRssBytes(getpid());
  ASSERT_TRUE(rss.ok()) << rss.error();
  EXPECT_GT(*rss, 1 * kMiB);
  EXPECT_LT(*rss, 64ull * 1024 * kMiB);
}

TEST_F(ProcessMemoryTest, LiveGroupMembersListsGroup) {
  auto target = StartShell("sleep 60 & echo child $!; wait");
  ASSERT_TRUE(target);
  const pid_t child = WaitForPidInLog(*target, "child");
  ASSERT_GT(child, 0);
  const std::vector<pid_t> members = LiveGroupMembers(target->pid());
  EXPECT_THAT(members, Contains(target->pid()));
  EXPECT_THAT(members, Contains(child));
  EXPECT_THAT(LiveGroupMembers(getpgrp()), Contains(getpid()));
}

TEST_F(ProcessMemoryTest, TreeRssBytesGrowsWhenChildAllocates) {
  // The child opens a FIFO read-write (so opening it never blocks), says so,
  // and allocates 200 MiB (touched: bytes * n writes every page) once the test
  // writes a line.
  const auto fifo = dir_ / "go";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  const std::string script =
      "import os, sys, time\n"
      "fd = os.open(sys.argv[1], os.O_RDWR)\n"
      "print('waiting', os.getpid(), flush=True)\n"
      "os.read(fd, 1)\n"
      "data = b'x' * (200 << 20)\n"
      "print('allocated', flush=True)\n"
      "time.sleep(600)\n";
  auto target = StartShell("/usr/bin/python3 -c \"$0\" \"$1\" & wait", {script, fifo.string()});
  ASSERT_TRUE(target);
  const pid_t python = WaitForPidInLog(*target, "waiting");
  ASSERT_GT(python, 0);
  ASSERT_THAT(ProcessTree(target->pid()), Contains(python));

  MemorySampler sampler(Tree(target->pid()), milliseconds(10));
  sampler.Start();
  const std::uint64_t baseline = sampler.Current().baseline.rss_bytes;
  ASSERT_GT(baseline, 0u);

  const int fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(fd, 0) << std::strerror(errno);
  ASSERT_EQ(write(fd, "g", 1), 1);
  close(fd);

  std::uint64_t grown = 0;
  EXPECT_TRUE(PollUntil([&] {
    const auto rss = TreeRssBytes(target->pid());
    grown = rss.ok() ? *rss : 0;
    return grown >= baseline + 150 * kMiB;
  })) << "baseline "
      << baseline << ", last " << grown;

  const MemorySummary summary = sampler.Stop();
  EXPECT_EQ(summary.baseline.rss_bytes, baseline);
  EXPECT_GE(summary.peak_rss_bytes, baseline + 150 * kMiB);
  EXPECT_GE(summary.last.rss_bytes, baseline + 150 * kMiB);
  EXPECT_GE(summary.rss_growth_mib(), 150.0);
  EXPECT_GE(summary.pss_growth_mib(), 150.0) << "the pages are the child's alone";
  EXPECT_GE(summary.samples, 2u);
  EXPECT_FALSE(summary.curve.empty());
  EXPECT_LE(summary.curve.size(), MemorySummary::kCurvePoints);
}

// Forked workers share their parent's pages: RSS counts them once per
// process, PSS once in all. The memory cases judge PSS.
TEST_F(ProcessMemoryTest, PssCountsSharedPagesOnce) {
  const std::string script =
      "import os, sys, time\n"
      "data = b'x' * (100 << 20)\n"
      "for _ in range(3):\n"
      "    if os.fork() == 0:\n"
      "        time.sleep(600)\n"
      "print('forked', os.getpid(), flush=True)\n"
      "time.sleep(600)\n";
  auto target = StartShell("exec /usr/bin/python3 -c \"$0\"", {script});
  ASSERT_TRUE(target);
  ASSERT_GT(WaitForPidInLog(*target, "forked"), 0);
  ASSERT_TRUE(PollUntil([&] { return ProcessTree(target->pid()).size() == 4; }));
  auto use = MeasureMemory(Tree(target->pid()));
  ASSERT_TRUE(use.ok()) << use.error();
  EXPECT_EQ(use->processes, 4u);
  EXPECT_GE(use->rss_bytes, 350 * kMiB) << "RSS counts the shared 100 MiB four times";
  EXPECT_LT(use->pss_bytes, 200 * kMiB) << "PSS counts it once";
  EXPECT_GE(use->pss_bytes, 90 * kMiB);
}

TEST_F(ProcessMemoryTest, ListeningSocketOwnersFindsTheServer) {
  for (const char* bind : {"127.0.0.1", "::1"}) {
    const std::string script =
        "import socket, os, time\n"
        "s = socket.socket(socket.AF_INET6 if ':' in '" +
        std::string(bind) +
        "' else socket.AF_INET)\n"
        "s.bind(('" +
        bind +
        "', 0)); s.listen()\n"
        "print('listening', s.getsockname()[1], flush=True)\n"
        "time.sleep(600)\n";
    auto target = StartShell("exec /usr/bin/python3 -c \"$0\"", {script});
    ASSERT_TRUE(target);
    const pid_t port = WaitForPidInLog(*target, "listening");  // the port, read the same way
    ASSERT_GT(port, 0);
    EXPECT_THAT(ListeningSocketOwners(port), Contains(target->pid())) << bind;
    EXPECT_EQ(ProcessName(target->pid()), "python3");
  }
  EXPECT_TRUE(ListeningSocketOwners(1).empty());
}

// A cgroup v2 folder is its cgroup.procs and those of the folders below it
// (a container's cgroup holds its processes in child cgroups too).
TEST_F(ProcessMemoryTest, CgroupProcessesReadsTheFolderAndItsChildren) {
  const auto cgroup = dir_ / "container";
  std::filesystem::create_directories(cgroup / "init.scope");
  std::ofstream(cgroup / "cgroup.procs") << "101\n102\n";
  std::ofstream(cgroup / "init.scope" / "cgroup.procs") << "103\n";
  auto members = CgroupProcesses(cgroup);
  ASSERT_TRUE(members.ok()) << members.error();
  std::sort(members->begin(), members->end());
  EXPECT_EQ(*members, (std::vector<pid_t>{101, 102, 103}));
  auto missing = CgroupProcesses(dir_ / "no-such-cgroup");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), HasSubstr("does not exist"));
}

TEST_F(ProcessMemoryTest, MemorySamplerTracksPeakAndSamples) {
  auto target = StartShell("exec sleep 60");
  ASSERT_TRUE(target);
  MemorySampler sampler(Tree(target->pid()), milliseconds(5));
  sampler.Start();
  EXPECT_EQ(sampler.Current().samples, 1u);  // the baseline, taken in Start()
  EXPECT_TRUE(PollUntil([&] { return sampler.Current().samples >= 5; }));
  const MemorySummary summary = sampler.Stop();
  EXPECT_GE(summary.samples, 5u);
  EXPECT_GT(summary.baseline.rss_bytes, 0u);
  EXPECT_GT(summary.baseline.pss_bytes, 0u);
  EXPECT_GE(summary.peak.pss_bytes, summary.baseline.pss_bytes);
  EXPECT_GE(summary.peak_rss_bytes, summary.last.rss_bytes);
  // Stop() is idempotent and the summary stays.
  EXPECT_EQ(sampler.Stop().samples, summary.samples);
}

TEST_F(ProcessMemoryTest, MemorySamplerStopDoesNotWaitForTheInterval) {
  auto target = StartShell("exec sleep 60");
  ASSERT_TRUE(target);
  MemorySampler sampler(Tree(target->pid()), std::chrono::hours(1));
  sampler.Start();
  const auto before = std::chrono::steady_clock::now();
  const MemorySummary summary = sampler.Stop();
  // An hour-long interval: only a wake-up on Stop() returns within the bound.
  EXPECT_LT(std::chrono::steady_clock::now() - before, seconds(30));
  EXPECT_EQ(summary.samples, 2u);  // baseline and the final sample
}

TEST_F(ProcessMemoryTest, MemorySamplerKeepsSamplesAfterTargetExits) {
  auto target = StartShell("exec sleep 60");
  ASSERT_TRUE(target);
  MemorySampler sampler(Tree(target->pid()), milliseconds(5));
  sampler.Start();
  const MemorySummary before = sampler.Current();
  ASSERT_EQ(before.samples, 1u);
  ASSERT_GT(before.baseline.rss_bytes, 0u);
  (void)target->Stop();  // kills and reaps: the pid is gone from /proc
  const MemorySummary summary = sampler.Stop();
  EXPECT_GE(summary.samples, 1u);
  EXPECT_EQ(summary.baseline.rss_bytes, before.baseline.rss_bytes);
  EXPECT_GE(summary.peak.pss_bytes, summary.baseline.pss_bytes);
}

TEST_F(ProcessMemoryTest, MemorySamplerOfMissingProcessHasNoSamples) {
  MemorySampler sampler(Tree(NonexistentPid()), milliseconds(5));
  sampler.Start();
  const MemorySummary summary = sampler.Stop();
  EXPECT_EQ(summary.samples, 0u);
  EXPECT_EQ(summary.peak.pss_bytes, 0u);
  EXPECT_EQ(summary.pss_growth_mib(), 0.0);
  EXPECT_FALSE(MeasureMemory(Tree(NonexistentPid())).ok());
}

}  // namespace
}  // namespace streamcheck::harness
