// Latency samples kept compact: a log-linear histogram (HdrHistogram's
// layout) of non-negative integer values, here microseconds. Values below 128
// are kept exactly; above, each power of two is cut into 64 buckets, so a
// bucket is never wider than 1/64 of its lowest value. A percentile is
// reported as the middle of the bucket that holds the sample of that rank, so
// it is within kRelativePrecision (1/128, under 0.8%) of that sample, exact
// below 128. Histograms of the same values merge by adding their buckets: a
// merged histogram equals the one that recorded every sample itself (bench
// shards rely on this). 1000 streams x 64 tokens fill a few hundred buckets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/result.h"

namespace streamcheck::bench {

class Histogram {
 public:
  static constexpr int kExactBelowBits = 7;  // values below 2^7 are their own bucket
  static constexpr std::uint64_t kExactBelow = 1u << kExactBelowBits;
  static constexpr double kRelativePrecision = 1.0 / 128;

  void Record(std::uint64_t value, std::uint64_t count = 1);
  // A duration in milliseconds, recorded in whole microseconds (negative as 0).
  void RecordMs(double ms);
  void Merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  std::uint64_t min() const { return count_ ? min_ : 0; }  // exact
  std::uint64_t max() const { return max_; }               // exact
  double mean() const { return count_ ? sum_ / double(count_) : 0; }

  // The nearest-rank percentile p (0 < p <= 100): the middle of the bucket of
  // the sample ranked ceil(p/100 * count), clamped to [min, max]. 0 when empty:
  // callers check empty() and report "not measured".
  double Percentile(double p) const;
  double PercentileMs(double p) const { return Percentile(p) / 1000.0; }

  // The non-empty buckets as (lowest value of the bucket, count), ascending.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> Buckets() const;
  // The inverse of Buckets(); `min` and `max` are the exact extremes when
  // known (else those of the buckets). Refuses a value that is not a bucket's
  // lowest, a zero count, or extremes outside the buckets.
  static Result<Histogram> FromBuckets(
      const std::vector<std::pair<std::uint64_t, std::uint64_t>>& buckets, std::uint64_t min,
      std::uint64_t max);

  // The layout, public for tests and for readers of the JSON.
  static std::size_t IndexOf(std::uint64_t value);
  static std::uint64_t LowestOf(std::size_t index);
  static std::uint64_t WidthOf(std::size_t index);

 private:
  std::vector<std::uint64_t> counts_;  // by bucket index, grown on demand
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;  // for the mean only
};

}  // namespace streamcheck::bench
