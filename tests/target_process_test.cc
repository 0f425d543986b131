#include "harness/target_process.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "harness/ports.h"
#include "harness/process_guard.h"
#include "tests/test_support.h"

namespace streamcheck::harness {
namespace {

using testing_support::kLongWait;
using testing_support::PollUntil;
using testing_support::ReadFile;

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The target writes `text` to its log once it has reached a point the test needs.
bool WaitForLog(const TargetProcess& target, const std::string& text) {
  return PollUntil([&] { return ReadFile(target.log_path()).find(text) != std::string::npos; });
}

bool GroupGone(pid_t pgid) { return kill(-pgid, 0) != 0 && errno == ESRCH; }

bool IsZombie(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  auto paren = stat.rfind(')');
  return paren == std::string::npos || (paren + 2 < stat.size() && stat[paren + 2] == 'Z');
}

class TargetProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "streamcheck-target-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  LaunchOptions Command(std::vector<std::string> argv) {
    LaunchOptions options;
    options.argv = std::move(argv);
    options.working_dir = dir_;
    options.log_path = dir_ / "logs" / "nested" / "target.log";
    return options;
  }
  LaunchOptions Shell(const std::string& script) { return Command({"/bin/sh", "-c", script}); }

  std::unique_ptr<TargetProcess> StartOk(const LaunchOptions& options) {
    auto started = TargetProcess::Start(options);
    EXPECT_TRUE(started.ok()) << started.error();
    return started.ok() ? std::move(*started) : nullptr;
  }

  std::filesystem::path dir_;
};

TEST_F(TargetProcessTest, ReportsExecFailure) {
  auto started = TargetProcess::Start(Command({"streamcheck-no-such-program", "--flag"}));
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.error(),
            "cannot start \"streamcheck-no-such-program\": No such file or directory (is it "
            "installed and on PATH?)");
}

TEST_F(TargetProcessTest, ReportsMissingPathWithoutPathHint) {
  auto started = TargetProcess::Start(Command({(dir_ / "missing").string()}));
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error(), HasSubstr("No such file or directory"));
  EXPECT_THAT(started.error(), Not(HasSubstr("PATH")));
}

TEST_F(TargetProcessTest, ReportsNonExecutableFile) {
  const auto script = dir_ / "not-executable";
  std::ofstream(script) << "#!/bin/sh\necho hi\n";
  std::filesystem::permissions(
      script, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  auto started = TargetProcess::Start(Command({script.string()}));
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error(), StartsWith("cannot start \"" + script.string() + "\""));
  EXPECT_THAT(started.error(), HasSubstr("Permission denied"));
}

TEST_F(TargetProcessTest, ReportsMissingWorkingDirectory) {
  LaunchOptions options = Shell("echo never");
  options.working_dir = dir_ / "no-such-dir";
  auto started = TargetProcess::Start(options);
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error(), HasSubstr("cannot enter working directory"));
  EXPECT_THAT(started.error(), HasSubstr("no-such-dir"));
  EXPECT_THAT(started.error(), HasSubstr("No such file or directory"));
}

TEST_F(TargetProcessTest, RejectsEmptyCommand) {
  auto started = TargetProcess::Start(Command({}));
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.error(), HasSubstr("empty"));
}

TEST_F(TargetProcessTest, PassesEnvironmentAndWorkingDirectory) {
  ASSERT_EQ(setenv("STREAMCHECK_TEST_INHERITED", "from-parent", 1), 0);
  ASSERT_EQ(setenv("STREAMCHECK_TEST_OVERRIDDEN", "parent-value", 1), 0);
  LaunchOptions options = Shell(
      "echo \"inherited=$STREAMCHECK_TEST_INHERITED\"; "
      "echo \"overridden=$STREAMCHECK_TEST_OVERRIDDEN\"; "
      "echo \"added=$STREAMCHECK_TEST_ADDED\"; "
      "echo \"cwd=$(pwd -P)\"");
  options.env = {{"STREAMCHECK_TEST_OVERRIDDEN", "child-value"},
                 {"STREAMCHECK_TEST_ADDED", "with spaces = and equals"}};
  auto target = StartOk(options);
  ASSERT_TRUE(target);
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_EQ(target->DescribeExit(), "exited with code 0");
  const std::string log = ReadFile(options.log_path);
  EXPECT_THAT(log, HasSubstr("inherited=from-parent\n"));
  EXPECT_THAT(log, HasSubstr("overridden=child-value\n"));
  EXPECT_THAT(log, HasSubstr("added=with spaces = and equals\n"));
  EXPECT_THAT(log, HasSubstr("cwd=" + std::filesystem::canonical(dir_).string() + "\n"));
  unsetenv("STREAMCHECK_TEST_INHERITED");
  unsetenv("STREAMCHECK_TEST_OVERRIDDEN");
}

TEST_F(TargetProcessTest, LooksUpProgramInChildPath) {
  const auto bin = dir_ / "bin";
  std::filesystem::create_directories(bin);
  const auto tool = bin / "streamcheck-test-tool";
  std::ofstream(tool) << "#!/bin/sh\necho tool ran with \"$1\"\n";
  std::filesystem::permissions(tool, std::filesystem::perms::owner_all);
  LaunchOptions options = Command({"streamcheck-test-tool", "arg"});
  options.env = {{"PATH", "/nonexistent:" + bin.string() + ":/usr/bin:/bin"}};
  auto target = StartOk(options);
  ASSERT_TRUE(target);
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_EQ(target->LogTail(), "tool ran with arg");
}

TEST_F(TargetProcessTest, RunsScriptWithoutShebangThroughShell) {
  const auto script = dir_ / "plain-script";
  std::ofstream(script) << "echo plain script ran with \"$1\"\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto target = StartOk(Command({script.string(), "x"}));
  ASSERT_TRUE(target);
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_EQ(target->DescribeExit(), "exited with code 0");
  EXPECT_EQ(target->LogTail(), "plain script ran with x");
}

TEST_F(TargetProcessTest, CapturesStdoutAndStderrInTruncatedLog) {
  LaunchOptions options = Shell("for i in 1 2 3 4 5 6; do echo out$i; done; echo err >&2");
  std::filesystem::create_directories(options.log_path.parent_path());
  std::ofstream(options.log_path) << "stale content from an earlier run\n";
  auto target = StartOk(options);
  ASSERT_TRUE(target);
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_EQ(ReadFile(options.log_path), "out1\nout2\nout3\nout4\nout5\nout6\nerr\n");
  EXPECT_EQ(target->LogTail(3), "out5\nout6\nerr");
  EXPECT_EQ(target->LogTail(100), "out1\nout2\nout3\nout4\nout5\nout6\nerr");
  EXPECT_EQ(target->LogTail(0), "");
}

TEST_F(TargetProcessTest, LogTailReadsTheEndOfALargeLog) {
  auto target = StartOk(Command({"seq", "1", "200000"}));  // about 1.3 MB
  ASSERT_TRUE(target);
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_EQ(target->LogTail(3), "199998\n199999\n200000");
  const std::string many = target->LogTail(1000000);  // bounded by bytes, whole lines only
  EXPECT_LE(many.size(), 64u * 1024u);
  EXPECT_THAT(many, testing::EndsWith("\n200000"));
  const std::string first_line = many.substr(0, many.find('\n'));
  EXPECT_EQ(std::to_string(std::stoi(first_line)), first_line);
}

TEST_F(TargetProcessTest, ReadsStdinFromDevNull) {
  auto target = StartOk(Shell("cat; echo stdin closed"));
  ASSERT_TRUE(target);
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_EQ(target->LogTail(), "stdin closed");
}

TEST_F(TargetProcessTest, StartsTargetInItsOwnProcessGroup) {
  auto target = StartOk(Command({"sleep", "60"}));
  ASSERT_TRUE(target);
  EXPECT_EQ(getpgid(target->pid()), target->pid());
  EXPECT_NE(getpgid(target->pid()), getpgrp());
}

TEST_F(TargetProcessTest, WaitReadySucceedsAgainstHttpServer) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.error();
  auto target = StartOk(Command(
      {"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", std::to_string(*port)}));
  ASSERT_TRUE(target);
  const Status ready =
      target->WaitReady("http://127.0.0.1:" + std::to_string(*port), "/", kLongWait);
  ASSERT_TRUE(ready.ok()) << ready.message();
  EXPECT_TRUE(target->IsRunning());
  const StopReport report = target->Stop();
  EXPECT_TRUE(report.was_running);
  EXPECT_FALSE(report.needed_kill);
  EXPECT_FALSE(report.left_behind);
  EXPECT_EQ(report.exit, "killed by signal 15 (SIGTERM)");
  EXPECT_TRUE(GroupGone(target->pid()));
}

TEST_F(TargetProcessTest, WaitReadyReportsLastStatusCode) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.error();
  auto target = StartOk(Command(
      {"/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1", std::to_string(*port)}));
  ASSERT_TRUE(target);
  const std::string base = "http://127.0.0.1:" + std::to_string(*port) + "/";
  const Status ready = target->WaitReady(base, "/", kLongWait);
  ASSERT_TRUE(ready.ok()) << ready.message();
  const Status missing = target->WaitReady(base, "/no-such-page", milliseconds(300));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.message(), HasSubstr("target did not answer 200 on GET " + base +
                                           "no-such-page within 300 ms (last attempt: HTTP 404)"));
}

TEST_F(TargetProcessTest, WaitReadyFailsFastWhenTargetExits) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.error();
  auto target = StartOk(Shell("echo starting; echo boom >&2; exit 3"));
  ASSERT_TRUE(target);
  // A bound far beyond the test's own timeout: only noticing the exit ends the wait.
  const Status ready =
      target->WaitReady("http://127.0.0.1:" + std::to_string(*port), "/health", seconds(120));
  ASSERT_FALSE(ready.ok());
  EXPECT_THAT(ready.message(), StartsWith("target exited with code 3 before it was ready"));
  EXPECT_THAT(ready.message(), HasSubstr("last log lines"));
  EXPECT_THAT(ready.message(), HasSubstr("\n  starting\n  boom"));
  EXPECT_FALSE(target->IsRunning());
}

TEST_F(TargetProcessTest, WaitReadyTimesOutWhenNothingAnswers) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.error();
  auto target = StartOk(Shell("echo listening nowhere; exec sleep 60"));
  ASSERT_TRUE(target);
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/health";
  const Status ready =
      target->WaitReady("http://127.0.0.1:" + std::to_string(*port), "/health", milliseconds(500));
  ASSERT_FALSE(ready.ok());
  EXPECT_THAT(ready.message(),
              StartsWith("target did not answer 200 on GET " + url +
                         " within 500 ms (last attempt: connection refused); last log lines"));
  EXPECT_TRUE(target->IsRunning());
}

TEST_F(TargetProcessTest, StopKillsTargetThatIgnoresTerm) {
  auto target = StartOk(Shell("trap '' TERM; echo trap set; while :; do sleep 1; done"));
  ASSERT_TRUE(target);
  ASSERT_TRUE(WaitForLog(*target, "trap set"));
  const StopReport report = target->Stop(milliseconds(300));
  EXPECT_TRUE(report.was_running);
  EXPECT_TRUE(report.needed_kill);
  EXPECT_FALSE(report.left_behind);
  EXPECT_EQ(report.exit, "killed by signal 9 (SIGKILL)");
  EXPECT_FALSE(target->IsRunning());
  EXPECT_EQ(kill(-target->pid(), 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

TEST_F(TargetProcessTest, StopKillsGrandchildThatIgnoresTerm) {
  // The leader obeys SIGTERM; the worker it forked ignores it.
  auto target =
      StartOk(Shell("sh -c 'trap \"\" TERM; echo worker $$; while :; do sleep 1; done' & "
                    "wait"));
  ASSERT_TRUE(target);
  ASSERT_TRUE(WaitForLog(*target, "worker "));
  const std::string log = ReadFile(target->log_path());
  const pid_t worker = std::stoi(log.substr(log.find("worker ") + 7));
  ASSERT_EQ(getpgid(worker), target->pid());

  const StopReport report = target->Stop(milliseconds(500));
  EXPECT_TRUE(report.was_running);
  EXPECT_FALSE(report.needed_kill);
  EXPECT_TRUE(report.killed_leftovers);
  EXPECT_FALSE(report.left_behind);
  EXPECT_EQ(report.exit, "killed by signal 15 (SIGTERM)");
  EXPECT_EQ(kill(-target->pid(), 0), -1);
  EXPECT_EQ(errno, ESRCH);
  EXPECT_EQ(kill(worker, 0), -1);
}

TEST_F(TargetProcessTest, StopIsIdempotent) {
  auto target = StartOk(Command({"sleep", "60"}));
  ASSERT_TRUE(target);
  const StopReport first = target->Stop();
  EXPECT_TRUE(first.was_running);
  EXPECT_EQ(first.exit, "killed by signal 15 (SIGTERM)");
  const StopReport second = target->Stop();
  EXPECT_FALSE(second.was_running);
  EXPECT_FALSE(second.needed_kill);
  EXPECT_EQ(second.exit, first.exit);
  EXPECT_EQ(target->DescribeExit(), first.exit);
}

TEST_F(TargetProcessTest, DescribesExitCode) {
  auto target = StartOk(Shell("exit 7"));
  ASSERT_TRUE(target);
  EXPECT_EQ(target->DescribeExit(), "");
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_FALSE(target->IsRunning());
  EXPECT_EQ(target->DescribeExit(), "exited with code 7");
  const StopReport report = target->Stop();
  EXPECT_FALSE(report.was_running);
  EXPECT_FALSE(report.needed_kill);
  EXPECT_EQ(report.exit, "exited with code 7");
}

TEST_F(TargetProcessTest, DescribesCrashBySignal) {
  auto target = StartOk(Shell("kill -SEGV $$"));
  ASSERT_TRUE(target);
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_THAT(target->DescribeExit(), StartsWith("killed by signal 11 (SIGSEGV"));
  EXPECT_THAT(target->Stop().exit, StartsWith("killed by signal 11 (SIGSEGV"));
}

TEST_F(TargetProcessTest, DestructorStopsTarget) {
  pid_t pgid = 0;
  {
    auto target = StartOk(Command({"sleep", "60"}));
    ASSERT_TRUE(target);
    pgid = target->pid();
    EXPECT_TRUE(target->IsRunning());
  }
  EXPECT_TRUE(GroupGone(pgid));
}

TEST_F(TargetProcessTest, KillAllStartedGroupsKillsRunningTarget) {
  auto target = StartOk(Shell("trap '' TERM; echo trap set; while :; do sleep 1; done"));
  ASSERT_TRUE(target);
  ASSERT_TRUE(WaitForLog(*target, "trap set"));
  KillAllStartedGroups();
  ASSERT_TRUE(target->WaitForExit(kLongWait));
  EXPECT_EQ(target->DescribeExit(), "killed by signal 9 (SIGKILL)");
  EXPECT_FALSE(target->Stop().left_behind);
  EXPECT_TRUE(GroupGone(target->pid()));
}

// A harness killed by SIGKILL takes its targets along, workers included: the
// leader by its parent-death signal, the rest by the guardian.
TEST_F(TargetProcessTest, TargetsDieWithAHarnessKilledBySigkill) {
  const auto pid_file = dir_ / "target.pid";
  const LaunchOptions options =
      Shell("sleep 60 & echo $! > " + (dir_ / "worker.pid").string() + "; exec sleep 60");
  EXPECT_EXIT(
      {
        auto target = TargetProcess::Start(options);
        if (!target.ok()) std::_Exit(2);
        std::ofstream(pid_file) << (*target)->pid() << "\n";
        if (!PollUntil([&] { return std::filesystem::exists(dir_ / "worker.pid"); })) std::_Exit(4);
        raise(SIGKILL);
        std::_Exit(3);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  const pid_t pgid = std::stoi(ReadFile(pid_file));
  const pid_t worker = std::stoi(ReadFile(dir_ / "worker.pid"));
  ASSERT_GT(pgid, 0);
  EXPECT_TRUE(PollUntil([&] { return GroupGone(pgid); })) << "the target outlived its harness";
  EXPECT_TRUE(PollUntil([&] { return kill(worker, 0) != 0; })) << "the worker outlived its harness";
}

// A descendant that leaves the target's process group (setsid, as a daemon
// does) is found by its tag, killed, and named in the stop report.
TEST_F(TargetProcessTest, StopFindsAndKillsADescendantThatDaemonised) {
  const auto daemon_pid = dir_ / "daemon.pid";
  auto target = StartOk(Shell("setsid sh -c 'echo $$ > " + daemon_pid.string() +
                              "; exec sleep 60' & echo started; exec sleep 60"));
  ASSERT_TRUE(target);
  ASSERT_TRUE(PollUntil([&] { return !ReadFile(daemon_pid).empty(); }));
  const pid_t daemon = std::stoi(ReadFile(daemon_pid));
  ASSERT_EQ(kill(daemon, 0), 0);
  // Past its exec: a process in the middle of one shows no environment.
  ASSERT_TRUE(PollUntil(
      [&] { return ReadFile("/proc/" + std::to_string(daemon) + "/comm") == "sleep\n"; }));
  auto report = target->Stop();
  ASSERT_EQ(report.leftovers_killed.size(), 1u);
  EXPECT_THAT(report.leftovers_killed[0], HasSubstr("pid " + std::to_string(daemon)));
  EXPECT_FALSE(report.left_behind);
  EXPECT_TRUE(PollUntil([&] { return kill(daemon, 0) != 0 || IsZombie(daemon); }));
}

// Every target carries its tag, and so do its descendants.
TEST_F(TargetProcessTest, TargetsCarryTheirTag) {
  auto target = StartOk(Shell("echo \"tag=$STREAMCHECK_TARGET_TAG\"; exec sleep 60"));
  ASSERT_TRUE(target);
  ASSERT_TRUE(WaitForLog(*target, "tag="));
  EXPECT_THAT(target->LogTail(), HasSubstr("tag=" + RunToken() + "/"));
}

TEST_F(TargetProcessTest, PickFreePortReturnsBindablePort) {
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok()) << port.error();
  ASSERT_GT(*port, 0);
  ASSERT_LT(*port, 65536);
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  close(fd);
}

}  // namespace
}  // namespace streamcheck::harness
