// Free ports for servers the harness starts.
#pragma once

#include <string>

#include "common/result.h"

namespace streamcheck::harness {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it,
// close). For servers that take `--port N` and cannot report their own port.
Result<int> PickFreePort();

// The port of an http(s) URL ("http://h:8080/x" -> 8080; 80 or 443 by default;
// 0 when it has none to read).
int PortOf(const std::string& url);

}  // namespace streamcheck::harness
