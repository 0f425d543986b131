#include "harness/ports.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace streamcheck::harness {

Result<int> PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{std::string("cannot create a socket: ") + std::strerror(errno)};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    close(fd);
    return Error{std::string("cannot find a free port on 127.0.0.1: ") + std::strerror(err)};
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

int PortOf(const std::string& url) {
  auto scheme = url.find("://");
  if (scheme == std::string::npos) return 0;
  std::string authority = url.substr(scheme + 3);
  authority = authority.substr(0, authority.find('/'));
  auto bracket = authority.rfind(']');  // [::1]:8080
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    return std::atoi(authority.c_str() + colon + 1);
  }
  return url.rfind("https://", 0) == 0 ? 443 : 80;
}

}  // namespace streamcheck::harness
