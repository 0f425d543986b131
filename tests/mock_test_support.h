// Helpers for the mock backend's tests: a plain socket to send exact bytes and
// read what comes back as it comes (no HTTP client in between), and a decoder
// of chunked bodies for reading gzip streams piece by piece.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace streamcheck::testing_support {

class RawConnection {
 public:
  static std::unique_ptr<RawConnection> Open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<unsigned short>(port));
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      if (fd >= 0) close(fd);
      return nullptr;
    }
    return std::unique_ptr<RawConnection>(new RawConnection(fd));
  }
  ~RawConnection() { close(fd_); }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads into `received` until `done(received)` holds, the peer closes, or
  // `timeout` passes; true only when `done` held.
  bool ReadUntil(const std::function<bool(const std::string&)>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done(received)) {
      if (closed) return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buffer[16384];
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0) {
        error = errno;
        closed = true;
      } else if (n == 0) {
        closed = true;
      } else {
        received.append(buffer, static_cast<std::size_t>(n));
      }
    }
    return true;
  }
  // Until the peer closes (or resets): true when it did within `timeout`.
  bool ReadToClose(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    ReadUntil([](const std::string&) { return false; }, timeout);
    return closed;
  }

  std::string received;
  bool closed = false;
  int error = 0;  // errno of a failed read: ECONNRESET when reset

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  int fd_;
};

// The body of a chunked message that starts at `body`: what its chunks hold so
// far; `complete` says whether the last chunk (size 0) arrived.
inline std::string Dechunk(std::string_view body, bool* complete = nullptr) {
  std::string out;
  if (complete) *complete = false;
  while (true) {
    auto line_end = body.find("\r\n");
    if (line_end == std::string_view::npos) return out;
    std::size_t size = std::strtoul(std::string(body.substr(0, line_end)).c_str(), nullptr, 16);
    if (size == 0) {
      if (complete) *complete = body.substr(line_end + 2, 2) == "\r\n";
      return out;
    }
    if (body.size() < line_end + 2 + size + 2) return out;
    out.append(body.substr(line_end + 2, size));
    body.remove_prefix(line_end + 2 + size + 2);
  }
}

// The part of a response after its head, or "" while the head is incomplete.
inline std::string_view AfterHead(std::string_view response) {
  auto end = response.find("\r\n\r\n");
  return end == std::string_view::npos ? std::string_view() : response.substr(end + 4);
}

}  // namespace streamcheck::testing_support
