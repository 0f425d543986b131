// What `streamcheck bench` measured, as the console, the JSON (bench/report.h)
// and the HTML section render it. A figure that could not be measured is an
// empty optional with the reason beside it, never a zero.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "bench/load_client.h"

namespace streamcheck::bench {

// /directAccess/ large-body reads: the same body from the target's own mock
// (direct) and through the target, alternated round by round.
struct Throughput {
  std::vector<double> direct_mib_s;
  std::vector<double> proxied_mib_s;
  std::optional<double> direct_median;
  std::optional<double> proxied_median;
  std::optional<double> ratio;          // proxied / direct medians
  std::optional<double> cpu_s_per_gib;  // the target's CPU seconds per GiB proxied
  std::string problem;                  // why a figure is missing
};

// One load against one target: `concurrency` streams at once, or streams at
// a fixed arrival rate.
struct Level {
  std::string target;
  std::string mode = "concurrency";  // or "rate"
  int concurrency = 0;               // asked for (all shards together); rate: 0
  double rate_per_s = 0;             // rate mode: streams per second (all shards)
  double rate_duration_s = 0;
  int shard_index = 0;
  int shard_count = 1;
  std::string skipped;  // not run, and why
  LoadResult load;      // this run's streams (a shard: its share)
  double duration_s = 0;
  std::optional<double> tokens_per_s;
  std::optional<double> rss_kib_per_stream;
  std::optional<double> pss_kib_per_stream;
  std::uint64_t memory_open_streams = 0;  // open when memory was sampled
  std::string memory_problem;
  std::optional<double> cpu_s;  // the target's CPU seconds over the level
  std::string cpu_problem;

  bool all_completed() const {
    return skipped.empty() && load.streams > 0 && load.completed == load.streams;
  }
};

struct TargetBench {
  std::string name;
  std::string kind = "target";  // or "mock-direct": the same load straight at a mock
  std::string problem;          // could not be started, or died
  bool throughput_measured = false;
  std::string throughput_skipped;  // why there is no throughput section
  Throughput throughput;
  std::vector<Level> levels;
  std::optional<int> knee;  // highest concurrency with added p99 <= 10 ms, every stream completed
};

// The harness's own reading speed against curl's on one large body.
struct ClientRow {
  double size_mb = 0;
  std::vector<double> harness_mib_s;
  std::vector<double> curl_mib_s;
  std::optional<double> harness_median;
  std::optional<double> curl_median;
  std::optional<double> ratio;
  std::string problem;
};

struct GateResult {
  std::string target;
  std::string figure;  // "throughput ratio", "added p99 at 64 streams"
  std::optional<double> value;
  double limit = 0;
  bool passed = false;
  std::string text;  // one line for the console
};

struct BenchSettings {
  std::vector<int> concurrency;
  std::vector<double> rates;
  double rate_duration_s = 0;
  int tokens = 0;
  int token_delay_ms = 0;
  double size_mb = 0;
  bool chunked = false;  // throughput bodies chunked by the mock (else with Content-Length)
  int rounds = 0;
  double timeout_s = 0;
  int shard_index = 0;
  int shard_count = 1;
  int loops = 1;
};

struct BenchResult {
  std::string version;
  std::string started_at;  // ISO 8601 UTC
  std::string command;
  BenchSettings settings;
  int cores = 0;
  double load_average_start = -1;
  double load_average_end = -1;
  long open_file_limit = 0;
  std::vector<std::string> notes;  // what limits this run (descriptors, ...)
  std::vector<TargetBench> targets;
  std::optional<ClientRow> client;
  std::vector<GateResult> gates;
  std::vector<std::string> merged_from;  // --merge: the shard files
};

// The knee of a target's concurrency levels (bench/stats.h Knee).
std::optional<int> KneeOf(const TargetBench& target, double max_added_p99_ms = 10.0);

// Per level: the figures derived from its samples (tokens per second).
void Derive(Level& level);

}  // namespace streamcheck::bench
