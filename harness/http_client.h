// The client runner: streaming HTTP requests over libcurl with constant memory.
// Bodies are counted and hashed as they arrive (never held unless asked),
// SSE bodies parsed incrementally with per-event timestamps, and many requests
// can run at once on one curl multi handle.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/event_stream.h"

namespace streamcheck::harness {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct ArrivalPoint {
  double t_ms = 0;
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  // Sent as the request target instead of the URL's path, byte for byte (no
  // "../" squashing): for path-confinement probes and absolute-form targets.
  std::string request_target;
  Headers headers;
  std::string body;

  // A large upload produced on the fly instead of `body`: `upload_size` bytes,
  // `upload_fill(offset, out, n)` writes bytes [offset, offset+n).
  std::optional<std::uint64_t> upload_size;
  std::function<void(std::uint64_t offset, char* out, std::size_t n)> upload_fill;
  // Send that upload with Transfer-Encoding: chunked instead of Content-Length.
  bool upload_chunked = false;

  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds total_timeout{120'000};  // the whole transfer, a hard bound
  // Abort when no byte arrives for this long (0: only total_timeout applies).
  std::chrono::milliseconds idle_timeout{0};

  double max_recv_mib_s = 0;  // a slow client (0: read as fast as possible)
  // SO_RCVBUF of the client's socket (0: the kernel's autotuning, which may
  // grow it to net.ipv4.tcp_rmem's maximum): bounds what waits unread here.
  int recv_buffer_bytes = 0;
  long read_piece_bytes = 256 * 1024;              // the most one read hands over (curl's buffer)
  std::optional<std::uint64_t> abort_after_bytes;  // the client goes away mid-body
  bool abort_after_first_event = false;            // ... or after the first SSE event

  bool parse_sse = false;
  bool hash_body = true;  // SHA-256 of the body (off only where CPU per byte is measured)
  std::size_t keep_body_bytes = 64 * 1024;  // keep at most this much of the body (0: none)

  // "1.1" (default), "1.0", or "2": over https by ALPN, over http with prior
  // knowledge (h2c), through libcurl's nghttp2.
  std::string http_version = "1.1";
  // Sent as Accept-Encoding, and the body decoded before it is counted,
  // hashed and parsed (python-requests sends "gzip, deflate"); "" sends none.
  // HttpResponse::wire_bytes keeps the bytes as they came.
  std::string accept_encoding;
  // https: a CA certificate file to trust (PEM), or no verification at all.
  std::string ca_file;
  bool insecure = false;

  // Polled while the transfer runs (at least every 100 ms); true ends it at
  // once with error "stopped: <stop_reason()>". For interrupts and run deadlines.
  std::function<bool()> should_stop;
};

struct HttpResponse {
  // Transport: false when the transfer did not complete (refused, timed out,
  // truncated, aborted). `error` says why in words; `curl_code` is CURLcode.
  bool complete = false;
  int curl_code = 0;
  std::string error;
  bool aborted_by_client = false;  // abort_after_* fired (then complete is false)

  long status = 0;
  std::string http_version;  // "1.0", "1.1", "2"
  Headers headers;           // every response header, names as received
  std::optional<std::string> Header(std::string_view name) const;  // case-insensitive

  std::uint64_t body_bytes = 0;  // after content decoding
  std::uint64_t wire_bytes = 0;  // as received, before content decoding
  std::string sha256;            // of the whole (decoded) body received
  std::string body;              // the first keep_body_bytes bytes
  bool body_truncated = false;   // body holds less than body_bytes

  double t_headers_ms = -1;  // -1: never
  double t_first_byte_ms = -1;
  double t_last_byte_ms = -1;
  double t_total_ms = 0;
  std::vector<ArrivalPoint> arrivals;  // downsampled byte/event arrival curve

  // With parse_sse: the events, kept in bounded memory (harness/event_stream.h).
  EventStream stream;
  bool stopped = false;  // should_stop ended it

  double mib_per_s() const;  // body bytes over first-to-last byte time
};

// Live observers, called on the transfer thread as data arrives; return false
// from one to abort that transfer (the response then says aborted_by_client).
struct Observers {
  std::function<bool(const ReceivedEvent&)> on_event;
  std::function<bool(std::uint64_t total_bytes, double t_ms)> on_bytes;
};

HttpResponse Perform(const HttpRequest& request, const Observers& observers = {});

// Runs every request at once on one thread (curl multi); results in order.
std::vector<HttpResponse> PerformAll(const std::vector<HttpRequest>& requests);

// "http://127.0.0.1:8080" + "/v1/x" with exactly one slash between.
std::string JoinUrl(const std::string& base, const std::string& path);

}  // namespace streamcheck::harness
