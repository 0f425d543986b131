// The load client: many chat streams at once on a few libcurl multi handles,
// each driven by curl_multi_socket_action over its own epoll loop (one thread
// per loop), so one thread holds thousands of streams. Every stream is a POST
// of the same chat request; its body is parsed as Server-Sent Events
// (sse::Parser) and every content token's send stamp (the mock's
// stamp_tokens, mocks/content.h) is subtracted from the token's arrival time:
// the latency the path between the mock and the client adds. Both clocks are
// CLOCK_MONOTONIC of this machine.
//
// Per stream only a few numbers and a parser are kept; the samples go into
// histograms (bench/histogram.h), one set per loop, merged at the end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bench/histogram.h"
#include "harness/http_client.h"

namespace streamcheck::bench {

struct StreamLoad {
  std::string url;  // the chat completions URL
  std::string body;
  harness::Headers headers;
  std::uint64_t streams = 1;
  // 0: every stream starts at once (a closed level of `streams` concurrent
  // streams); else stream i is due at i / rate_per_s and its latencies are
  // measured from then (bench/stats.h, coordinated omission).
  double rate_per_s = 0;
  // The longest a stream may take from its due time; open then, it is a timeout.
  std::chrono::milliseconds stream_timeout{30'000};
  std::chrono::milliseconds connect_timeout{10'000};
  int expected_tokens = 0;  // content tokens of a complete stream (0: not checked)
  int loops = 1;            // event loops, each on its own thread
  std::string http_version = "1.1";
  std::string ca_file;                // https: a CA certificate file to trust
  bool insecure = false;              // https: no certificate verification
  std::function<bool()> should_stop;  // polled at least every 100 ms
};

// Live counts, readable from any thread while the load runs.
struct LoadProgress {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> open{0};  // first body byte seen, not yet ended
  std::atomic<std::uint64_t> peak_open{0};
  std::atomic<std::uint64_t> ended{0};
};

struct LoadResult {
  Histogram ttft_us;            // request due/start to the first content token
  Histogram added_us;           // per token: arrival at the client minus the mock's send stamp
  Histogram e2e_us;             // request due/start to the end of a completed stream
  std::uint64_t streams = 0;    // asked for
  std::uint64_t completed = 0;  // 200, every expected token, [DONE], a clean end
  std::uint64_t errors = 0;     // anything else that ended
  std::uint64_t timeouts = 0;   // still open at its timeout (or never started in time)
  // Streams that timed out before their first token: their TTFT is recorded
  // as the time they waited, a lower bound.
  std::uint64_t ttft_censored = 0;
  std::uint64_t tokens = 0;            // content tokens received
  std::uint64_t unstamped_tokens = 0;  // content events without a stamp (nothing to subtract)
  std::uint64_t peak_open = 0;         // streams open at once, at most
  std::int64_t first_start_ns = -1;    // NowNs() of the first start
  std::int64_t last_end_ns = -1;       // ... and of the last end
  // Why streams failed or timed out, with counts: at most kMaxErrorKinds
  // reasons, the rest counted under "other".
  std::map<std::string, std::uint64_t> error_kinds;
  static constexpr std::size_t kMaxErrorKinds = 8;

  double duration_s() const;  // first start to last end; 0 when nothing ran
  void CountError(const std::string& why, std::uint64_t n = 1);

  void Merge(const LoadResult& other);
};

LoadResult RunStreams(const StreamLoad& load, LoadProgress* progress = nullptr);

// CLOCK_MONOTONIC in nanoseconds (the clock of the mock's stamps).
std::int64_t NowNs();

}  // namespace streamcheck::bench
