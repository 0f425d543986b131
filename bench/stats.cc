#include "bench/stats.h"

#include <algorithm>
#include <cmath>

namespace streamcheck::bench {

std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

std::optional<double> Percentile(std::vector<double> values, double p) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(
      std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * double(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

std::optional<double> PerSecond(double count, double seconds) {
  if (!(seconds > 0)) return std::nullopt;
  return count / seconds;
}

std::int64_t ScheduledOffsetNs(std::uint64_t i, double rate_per_s) {
  return static_cast<std::int64_t>(std::llround(double(i) * 1e9 / rate_per_s));
}

double LatencyMs(std::int64_t scheduled_ns, std::int64_t started_ns, std::int64_t event_ns) {
  std::int64_t from = scheduled_ns >= 0 ? std::min(scheduled_ns, started_ns) : started_ns;
  return double(event_ns - from) / 1e6;
}

std::uint64_t ShareOf(std::uint64_t total, int index, int count) {
  if (count <= 1) return total;
  auto n = static_cast<std::uint64_t>(count);
  auto i = static_cast<std::uint64_t>(index);
  return total / n + (i < total % n ? 1 : 0);
}

std::optional<int> Knee(const std::vector<KneePoint>& points, double max_added_p99_ms) {
  std::optional<int> knee;
  for (const auto& p : points) {
    if (!p.all_completed || !p.added_p99_ms || *p.added_p99_ms > max_added_p99_ms) continue;
    if (!knee || p.concurrency > *knee) knee = p.concurrency;
  }
  return knee;
}

}  // namespace streamcheck::bench
