#include "server/server_processes.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/text.h"

namespace streamcheck::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kReadyTimeout = std::chrono::seconds(10);
constexpr auto kStopTimeout = std::chrono::seconds(5);

struct PortHolder {
  int fd;
  int port;
};

// A socket bound to host:port with SO_REUSEPORT and not listening: it takes
// no connection, and it fixes the port (a free one for port 0) that every
// worker then binds and listens on.
Result<PortHolder> BindPortHolder(const std::string& host, int port) {
  sockaddr_storage address{};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof(*v4);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof(*v6);
  } else {
    return Error{"cannot listen on \"" + host + "\": not an IP address"};
  }
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  int on = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    int error = errno;
    close(fd);
    return Error{"cannot listen on " + host + ":" + std::to_string(port) + ": " +
                 std::strerror(error) + " (port in use? pass --port 0 for any free port)"};
  }
  int bound = ntohs(address.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);
  return PortHolder{fd, bound};
}

// The worker's side, in the forked child: serve until a stop signal. Tells
// the parent "ok" or why it could not start, one line on `ready_fd`.
[[noreturn]] void RunWorker(ServerOptions options, const sigset_t& stop_signals, int ready_fd,
                            pid_t parent) {
  // The parent gone (even by SIGKILL), the worker goes too.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(1);
  options.reuse_port = true;
  auto server = ReferenceServer::Start(options);
  std::string line = server ? std::string("ok") : server.error();
  line = line.substr(0, 400) + "\n";
  ssize_t ignored = write(ready_fd, line.data(), line.size());
  (void)ignored;
  close(ready_fd);
  if (!server) _exit(3);
  int signal = 0;
  sigwait(&stop_signals, &signal);
  (*server)->Stop();
  _exit(0);
}

// Reads the workers' ready lines until there are `count` or the deadline;
// "" when every line is "ok", else the first other line.
std::string AwaitReady(int fd, int count) {
  std::string lines;
  auto deadline = Clock::now() + kReadyTimeout;
  int ready = 0;
  while (ready < count) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0) {
      return "a worker did not start listening within " + std::to_string(kReadyTimeout.count()) +
             " s";
    }
    char buffer[512];
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return "a worker ended before it listened";
    lines.append(buffer, static_cast<std::size_t>(n));
    for (std::size_t end; (end = lines.find('\n')) != std::string::npos;) {
      std::string line = lines.substr(0, end);
      lines.erase(0, end + 1);
      if (line != "ok") return line;
      ++ready;
    }
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<ServerProcesses>> ServerProcesses::Start(const ServerOptions& options,
                                                                int count,
                                                                const sigset_t& stop_signals) {
  if (count < 1) return Error{"--processes must be at least 1"};
  auto holder = BindPortHolder(options.host, options.port);
  if (!holder) return Error{holder.error()};
  // SIGCHLD blocked, so Wait() and StopWorkers() take it by sigwait.
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &child, nullptr);
  std::unique_ptr<ServerProcesses> processes(
      new ServerProcesses(holder->port, holder->fd, stop_signals));
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
  ServerOptions worker = options;
  worker.port = processes->port_;
  pid_t parent = getpid();
  for (int i = 0; i < count; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      close(ready[0]);
      close(ready[1]);
      return Error{std::string("fork: ") + std::strerror(errno)};
    }
    if (pid == 0) {
      close(ready[0]);
      close(processes->port_holder_fd_);
      RunWorker(worker, stop_signals, ready[1], parent);
    }
    processes->workers_.push_back(pid);
  }
  close(ready[1]);
  std::string problem = AwaitReady(ready[0], count);
  close(ready[0]);
  if (!problem.empty()) return Error{problem};  // the destructor stops the others
  return processes;
}

ServerProcesses::~ServerProcesses() {
  StopWorkers();
  close(port_holder_fd_);
}

std::string ServerProcesses::Wait() {
  sigset_t wanted = stop_signals_;
  sigaddset(&wanted, SIGCHLD);
  for (;;) {
    int signal = 0;
    if (sigwait(&wanted, &signal) != 0) continue;
    if (signal != SIGCHLD) break;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
      int status = 0;
      if (waitpid(workers_[i], &status, WNOHANG) == workers_[i]) {
        std::string what = "worker " + std::to_string(i + 1) + " (pid " +
                           std::to_string(workers_[i]) + ") " + DescribeWaitStatus(status);
        workers_.erase(workers_.begin() + static_cast<std::ptrdiff_t>(i));
        StopWorkers();
        return what;
      }
    }
  }
  StopWorkers();
  return "";
}

void ServerProcesses::StopWorkers() {
  for (pid_t pid : workers_) kill(pid, SIGTERM);
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  auto deadline = Clock::now() + kStopTimeout;
  while (!workers_.empty()) {
    for (std::size_t i = 0; i < workers_.size();) {
      if (waitpid(workers_[i], nullptr, WNOHANG) == workers_[i]) {
        workers_.erase(workers_.begin() + static_cast<std::ptrdiff_t>(i));
      } else {
        ++i;
      }
    }
    if (workers_.empty()) break;
    auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) {
      for (pid_t pid : workers_) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);  // SIGKILL cannot be caught: the wait is short
      }
      workers_.clear();
      break;
    }
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timespec timeout{static_cast<time_t>(ns / 1'000'000'000),
                     static_cast<long>(ns % 1'000'000'000)};
    sigtimedwait(&child, nullptr, &timeout);
  }
}

}  // namespace streamcheck::server
