// Bytes on a plain socket, for requests no HTTP client would send: a malformed
// request line, a 64 KiB header, Content-Length with Transfer-Encoding.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"

namespace streamcheck::harness {

struct RawReply {
  int status = 0;           // from the status line; 0 when none came
  std::string status_line;  // e.g. "HTTP/1.1 400 Bad Request"
  bool closed = false;      // the server closed the connection
  std::string head;         // the first bytes received (up to 4 KiB)
};

// Connects to host:port, sends `request`, and reads until the server closes
// the connection, a whole response head has arrived, or `timeout` passes.
// Fails only when it cannot connect.
Result<RawReply> RawExchange(const std::string& host, int port, const std::string& request,
                             std::chrono::milliseconds timeout);

}  // namespace streamcheck::harness
