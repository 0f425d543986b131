// Free ports for servers the harness starts.
#pragma once

#include "common/result.h"

namespace streamcheck::harness {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it,
// close). For servers that take `--port N` and cannot report their own port.
Result<int> PickFreePort();

}  // namespace streamcheck::harness
