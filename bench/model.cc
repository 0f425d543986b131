#include "bench/model.h"

#include "bench/stats.h"

namespace streamcheck::bench {

std::optional<int> KneeOf(const TargetBench& target, double max_added_p99_ms) {
  std::vector<KneePoint> points;
  for (const auto& level : target.levels) {
    if (level.mode != "concurrency" || !level.skipped.empty()) continue;
    KneePoint p;
    p.concurrency = level.concurrency;
    if (!level.load.added_us.empty()) p.added_p99_ms = level.load.added_us.PercentileMs(99);
    p.all_completed = level.all_completed();
    points.push_back(p);
  }
  return Knee(points, max_added_p99_ms);
}

void Derive(Level& level) {
  level.duration_s = level.load.duration_s();
  level.tokens_per_s = PerSecond(double(level.load.tokens), level.duration_s);
}

}  // namespace streamcheck::bench
