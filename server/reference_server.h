// The bundled reference streaming server: the gold standard the catalog is
// written against.
//   GET  /, /ping                       {"message": "OK"}
//   POST /v1/chat/completions, /chat/completions
//        relays the backend's chat stream as SSE, event by event as it arrives,
//        with Cache-Control: no-cache and X-Accel-Buffering: no; an in-band
//        `data: {"error": …}` event (and no [DONE]) when the backend fails.
//   GET|POST|PUT|DELETE|PATCH /directAccess/<path>
//        a streaming reverse proxy to <backend>/<path>: bytes flow as they
//        arrive, pulled only as fast as the client reads (bounded memory),
//        status and body passed through, hop-by-hop headers dropped, 502 for an
//        unreachable backend, 504 for one that sends no headers in time.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"

namespace streamcheck::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;             // 0: any free port
  std::string backend_url;  // "http://127.0.0.1:8000"
  std::chrono::milliseconds backend_connect_timeout{5'000};
  std::chrono::milliseconds backend_headers_timeout{30'000};
  std::chrono::milliseconds backend_idle_timeout{30'000};
  int threads = 160;  // each open stream holds one
};

class ReferenceServer {
 public:
  // Binds and starts serving on its own threads; ready when it returns.
  static Result<std::unique_ptr<ReferenceServer>> Start(const ServerOptions& options);
  ~ReferenceServer();
  ReferenceServer(const ReferenceServer&) = delete;
  ReferenceServer& operator=(const ReferenceServer&) = delete;

  int port() const;
  std::string url() const;
  void Stop();
  // Blocks until Stop() is called from another thread (or a signal handler path).
  void Wait();

  class Impl;

 private:
  explicit ReferenceServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamcheck::server
