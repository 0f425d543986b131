// cpp-httplib 0.11 listens with a backlog of 5: 64 clients connecting at once
// overflow it and wait for SYN retransmits (1 s, then 3 s). Linux lets a second
// listen() on the same socket raise the backlog, so: record the listening
// socket through httplib's socket-options hook, then raise it after binding.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>

namespace streamcheck {

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

}  // namespace streamcheck
