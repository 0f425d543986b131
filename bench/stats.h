// The bench's arithmetic, as pure functions tested without a network: medians
// and percentiles of a few round figures, rates, the open-loop schedule and
// its correction for coordinated omission, a shard's share of a load, and
// the knee of a target's levels.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace streamcheck::bench {

// The median of `values` (the mean of the middle two for an even count);
// nullopt when empty.
std::optional<double> Median(std::vector<double> values);

// The nearest-rank percentile p (0 < p <= 100) of `values`: the smallest value
// with at least p% of the values at or below it. nullopt when empty.
std::optional<double> Percentile(std::vector<double> values, double p);

// count / seconds; nullopt when no time passed (a rate that cannot be measured).
std::optional<double> PerSecond(double count, double seconds);

// Coordinated omission (Gil Tene; wrk2's correction). A client that starts its
// next request only when it gets around to it hides every stall of the server
// behind its own late start: the requests that should have been sent during a
// stall are sent after it and look fast. At a fixed arrival rate, stream `i`
// is due at ScheduledOffsetNs(i, rate) after the start of the load, and its
// latencies are measured from that moment, whenever the client sent it.
std::int64_t ScheduledOffsetNs(std::uint64_t i, double rate_per_s);
// Latency of an event at `event_ns` for a stream due at `scheduled_ns` that
// the client started at `started_ns` (>= scheduled_ns when the client was
// late): from the schedule, so the lateness is counted. Without a schedule
// (`scheduled_ns` < 0, a closed-loop level) from the actual start.
double LatencyMs(std::int64_t scheduled_ns, std::int64_t started_ns, std::int64_t event_ns);

// The streams of a load of `total` that shard `index` of `count` drives: the
// shares differ by at most one and add up to `total`.
std::uint64_t ShareOf(std::uint64_t total, int index, int count);

// One level's figures as the knee needs them.
struct KneePoint {
  int concurrency = 0;
  std::optional<double> added_p99_ms;  // nullopt: not measured
  bool all_completed = false;          // every stream completed: no error, no timeout
};

// The highest concurrency at which added-latency p99 <= max_added_p99_ms and
// every stream completed, among points measured; nullopt when none qualifies.
std::optional<int> Knee(const std::vector<KneePoint>& points, double max_added_p99_ms = 10.0);

}  // namespace streamcheck::bench
