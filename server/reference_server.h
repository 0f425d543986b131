// The bundled reference streaming server: the gold standard the catalog is
// written against.
//   GET  /, /ping                       {"message": "OK"}
//   POST /v1/chat/completions, /chat/completions
//        relays the backend's chat stream as SSE, event by event as it arrives,
//        with Cache-Control: no-cache and X-Accel-Buffering: no; an in-band
//        `data: {"error": …}` event (and no [DONE]) when the backend fails.
//   any method /directAccess/<path>
//        a streaming reverse proxy to <backend>/<path>: bytes flow as they
//        arrive, pulled only as fast as the client reads (bounded memory),
//        status and body passed through, hop-by-hop headers dropped, 502 for an
//        unreachable backend, 504 for one that sends no headers in time.
// Event-driven: a few io threads (Boost.Asio) serve every connection, each
// request parsed by Boost.Beast's strict HTTP/1.1 parser; an open stream costs
// memory, not a thread. A request whose framing is in doubt is answered 400
// (501 for an unknown transfer coding) and its connection closed. The limits
// below are each answered with their own status.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
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
  int io_threads = 2;  // event loops; connections are spread over them
  // /directAccess/ bodies with a Content-Length move socket to socket by
  // splice(2); false: always through a bounded user-space buffer.
  bool zero_copy = true;
  // Listen with SO_REUSEPORT, sharing the port with the other workers of
  // `serve --processes` (server/server_processes.h).
  bool reuse_port = false;

  // Limits. Open client connections beyond max_connections get a 503 and are
  // closed; a request head over max_header_bytes or with more than
  // max_header_count fields gets 431; a /directAccess/ body over max_body_bytes
  // gets 413 (0: no limit; it is streamed, never held); a chat body, which is
  // held to be parsed, over max_chat_body_bytes gets 413.
  int max_connections = 10'000;
  std::size_t max_header_bytes = 32 * 1024;
  std::size_t max_header_count = 100;
  std::uint64_t max_body_bytes = 0;
  std::size_t max_chat_body_bytes = 16 * 1024 * 1024;
  // A client must send a whole request head within header_timeout of its
  // connection (or of its first byte, after a keep-alive wait): slowloris.
  std::chrono::milliseconds header_timeout{10'000};
  // A kept-alive connection idle this long between requests is closed.
  std::chrono::milliseconds keepalive_timeout{60'000};
  // A client that takes no request body bytes, or no response bytes, for this
  // long is dropped.
  std::chrono::milliseconds client_idle_timeout{60'000};
};

// "http://HOST:PORT", an IPv6 literal in brackets (RFC 3986 §3.2.2).
std::string ListenUrl(const std::string& host, int port);

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
