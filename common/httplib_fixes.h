// Workarounds for cpp-httplib 0.11, the version Debian 12 ships. Templates on
// the server type, so this header needs no httplib include.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

namespace streamcheck {

// httplib listens with a backlog of 5: 64 clients connecting at once overflow
// it and wait for SYN retransmits (1 s, then 3 s). Linux lets a second listen()
// on the same socket raise the backlog, so: record the listening socket through
// httplib's socket-options hook, then raise it after binding.
class ListenBacklog {
 public:
  // For httplib::Server::set_socket_options. Replaces httplib's default
  // options, so it sets SO_REUSEADDR as they did.
  std::function<void(int)> SocketOptions() const {
    return [fd = fd_](int sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      *fd = sock;
    };
  }
  // Call after bind_to_port / bind_to_any_port.
  void Raise() const {
    if (*fd_ >= 0) listen(*fd_, SOMAXCONN);
  }

 private:
  std::shared_ptr<int> fd_ = std::make_shared<int>(-1);
};

// Runs `server.listen_after_bind()` on `thread` and waits until the accept
// loop is running: httplib's stop() does nothing before that, so a server
// stopped right after it started would keep accepting, and joining its thread
// would never return. False when it did not start within the bound.
template <typename HttpServer>
bool StartServing(HttpServer& server, std::thread& thread,
                  std::function<void()> after_serving = {}) {
  thread = std::thread([&server, after_serving] {
    server.listen_after_bind();
    if (after_serving) after_serving();
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server.is_running()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

}  // namespace streamcheck
