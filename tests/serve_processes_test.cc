// `streamcheck serve --processes N` as a real process: the workers share the
// port, a stop signal stops them all, a worker that dies ends the server with
// its cause, and a port in use is refused.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "harness/http_client.h"
#include "harness/process_memory.h"
#include "test_support.h"

extern char** environ;

namespace streamcheck {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

struct ServeProcess {
  pid_t pid = -1;
  int port = 0;
  fs::path dir;
  fs::path err() const { return dir / "stderr"; }
  ~ServeProcess() {
    if (pid > 0) kill(pid, SIGKILL), waitpid(pid, nullptr, 0);
    fs::remove_all(dir);
  }
};

// `streamcheck serve --processes 2` with `extra` flags; the backend is never
// called (only /ping is asked). Its port stays 0 when it exited first or
// wrote none within 30 s.
std::unique_ptr<ServeProcess> SpawnServe(std::vector<std::string> extra = {}) {
  auto p = std::make_unique<ServeProcess>();
  char tmpl[] = "/tmp/serve-processes-test-XXXXXX";
  p->dir = mkdtemp(tmpl);
  std::string port_file = (p->dir / "port").string();
  std::vector<std::string> args = {
      STREAMCHECK_BIN,      "serve",       "--processes", "2", "--backend",
      "http://127.0.0.1:9", "--port-file", port_file};
  if (std::find(extra.begin(), extra.end(), "--port") == extra.end()) {
    extra.insert(extra.end(), {"--port", "0"});
  }
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, p->err().c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  EXPECT_EQ(posix_spawn(&p->pid, STREAMCHECK_BIN, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  // Until the port is written or serve has exited (its status left to reap).
  testing_support::PollUntil(
      [&] {
        siginfo_t info{};
        return !testing_support::ReadFile(port_file).empty() ||
               (waitid(P_PID, static_cast<id_t>(p->pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
                info.si_pid == p->pid);
      },
      std::chrono::seconds(30));
  std::string port = testing_support::ReadFile(port_file);
  if (!port.empty()) p->port = std::stoi(port);
  return p;
}

bool Gone(pid_t pid) {
  return testing_support::PollUntil(
      [&] { return kill(pid, 0) != 0 || harness::ProcessName(pid).empty(); },
      std::chrono::seconds(10));
}

int Ping(int port) {
  harness::HttpRequest request;
  request.url = "http://127.0.0.1:" + std::to_string(port) + "/ping";
  request.total_timeout = std::chrono::seconds(10);
  return harness::Perform(request).status;
}

TEST(ServeProcesses, WorkersShareThePortAndSigtermStopsThemAll) {
  auto serve = SpawnServe();
  ASSERT_GT(serve->port, 0) << testing_support::ReadFile(serve->err());
  // Both workers listen on the port; the parent only holds it (never listens).
  auto owners = harness::ListeningSocketOwners(serve->port);
  ASSERT_EQ(owners.size(), 2u) << "processes listening on the port";
  auto tree = harness::ProcessTree(serve->pid);
  for (pid_t owner : owners) {
    EXPECT_NE(owner, serve->pid);
    EXPECT_NE(std::find(tree.begin(), tree.end(), owner), tree.end())
        << owner << " is not a worker of " << serve->pid;
  }
  for (int i = 0; i < 16; ++i) EXPECT_EQ(Ping(serve->port), 200) << "request " << i;

  kill(serve->pid, SIGTERM);
  int status = testing_support::WaitExit(serve->pid, std::chrono::seconds(20));
  ASSERT_NE(status, -1) << "serve did not stop within 20 s of SIGTERM";
  serve->pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (pid_t owner : owners) EXPECT_TRUE(Gone(owner)) << "worker " << owner << " outlived serve";
}

TEST(ServeProcesses, AWorkerThatDiesEndsTheServerAndSaysWhy) {
  auto serve = SpawnServe();
  ASSERT_GT(serve->port, 0) << testing_support::ReadFile(serve->err());
  auto owners = harness::ListeningSocketOwners(serve->port);
  ASSERT_EQ(owners.size(), 2u);
  kill(owners[0], SIGKILL);
  int status = testing_support::WaitExit(serve->pid, std::chrono::seconds(20));
  ASSERT_NE(status, -1) << "serve went on with one worker dead";
  serve->pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
  EXPECT_THAT(testing_support::ReadFile(serve->err()),
              HasSubstr("(pid " + std::to_string(owners[0]) + ") killed by signal 9 (SIGKILL)"));
  EXPECT_TRUE(Gone(owners[1])) << "the other worker outlived serve";
}

TEST(ServeProcesses, APortInUseIsRefused) {
  int taken = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(taken, reinterpret_cast<sockaddr*>(&address), length), 0);
  ASSERT_EQ(listen(taken, 1), 0);
  getsockname(taken, reinterpret_cast<sockaddr*>(&address), &length);
  int port = ntohs(address.sin_port);
  auto serve = SpawnServe({"--port", std::to_string(port)});
  int status = testing_support::WaitExit(serve->pid, std::chrono::seconds(20));
  ASSERT_NE(status, -1) << "serve did not exit on a port in use";
  serve->pid = -1;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status;
  EXPECT_THAT(testing_support::ReadFile(serve->err()),
              HasSubstr("cannot listen on 127.0.0.1:" + std::to_string(port)));
  close(taken);
}

}  // namespace
}  // namespace streamcheck
