#include "harness/raw_exchange.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace streamcheck::harness {
namespace {

using Clock = std::chrono::steady_clock;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? int(left.count()) : 0;
}

}  // namespace

Result<RawReply> RawExchange(const std::string& host, int port, const std::string& request,
                             std::chrono::milliseconds timeout) {
  Socket sock(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (sock.fd() < 0) return Error{std::string("socket: ") + std::strerror(errno)};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return Error{"not an IPv4 address: " + host};
  }
  if (connect(sock.fd(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error{"cannot connect to " + host + ":" + std::to_string(port) + ": " +
                 std::strerror(errno)};
  }
  auto deadline = Clock::now() + timeout;
  RawReply reply;
  // The server may answer (and close) before taking the whole request: a
  // failed send is not an error here, what matters is what comes back.
  std::size_t sent = 0;
  while (sent < request.size()) {
    pollfd p{sock.fd(), POLLOUT, 0};
    if (poll(&p, 1, MillisLeft(deadline)) <= 0) break;
    ssize_t n = send(sock.fd(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += std::size_t(n);
  }
  char buf[4096];
  while (reply.head.size() < 4096) {
    pollfd p{sock.fd(), POLLIN, 0};
    int ready = poll(&p, 1, MillisLeft(deadline));
    if (ready <= 0) break;  // timeout: still open, no (more) answer
    ssize_t n = recv(sock.fd(), buf, sizeof buf, 0);
    if (n <= 0) {
      reply.closed = true;
      break;
    }
    reply.head.append(buf, std::size_t(n));
    if (reply.head.find("\r\n\r\n") != std::string::npos) break;
  }
  auto eol = reply.head.find("\r\n");
  reply.status_line = reply.head.substr(0, eol);
  if (reply.status_line.rfind("HTTP/", 0) == 0) {
    auto space = reply.status_line.find(' ');
    if (space != std::string::npos) reply.status = std::atoi(reply.status_line.c_str() + space + 1);
  }
  return reply;
}

}  // namespace streamcheck::harness
