#include "bench/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace streamcheck::bench {
namespace {

constexpr int kHalfBits = Histogram::kExactBelowBits - 1;  // 64 buckets per power of two
constexpr std::uint64_t kHalf = 1u << kHalfBits;

}  // namespace

std::size_t Histogram::IndexOf(std::uint64_t value) {
  if (value < kExactBelow) return static_cast<std::size_t>(value);
  int msb = 63 - std::countl_zero(value);  // >= kExactBelowBits
  int shift = msb - kHalfBits;
  std::uint64_t top = value >> shift;  // in [kHalf, 2 * kHalf)
  return kExactBelow + static_cast<std::size_t>(msb - kExactBelowBits) * kHalf + (top - kHalf);
}

std::uint64_t Histogram::LowestOf(std::size_t index) {
  if (index < kExactBelow) return index;
  std::size_t rest = index - kExactBelow;
  int shift = static_cast<int>(rest / kHalf) + 1;
  return (kHalf + rest % kHalf) << shift;
}

std::uint64_t Histogram::WidthOf(std::size_t index) {
  if (index < kExactBelow) return 1;
  return std::uint64_t{1} << (static_cast<int>((index - kExactBelow) / kHalf) + 1);
}

void Histogram::Record(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  std::size_t index = IndexOf(value);
  if (index >= counts_.size()) counts_.resize(index + 1, 0);
  counts_[index] += count;
  min_ = count_ == 0 ? value : std::min(min_, value);
  max_ = std::max(max_, value);
  count_ += count;
  sum_ += double(value) * double(count);
}

void Histogram::RecordMs(double ms) {
  if (!(ms > 0)) ms = 0;  // also NaN
  Record(static_cast<std::uint64_t>(std::llround(ms * 1000.0)));
}

void Histogram::Merge(const Histogram& other) {
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

double Histogram::Percentile(double p) const {
  if (count_ == 0) return 0;
  p = std::clamp(p, 0.0, 100.0);
  auto rank = static_cast<std::uint64_t>(std::ceil(p / 100.0 * double(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      double middle = double(LowestOf(i)) + double(WidthOf(i) - 1) / 2.0;
      return std::clamp(middle, double(min_), double(max_));
    }
  }
  return double(max_);
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> Histogram::Buckets() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i]) out.emplace_back(LowestOf(i), counts_[i]);
  }
  return out;
}

Result<Histogram> Histogram::FromBuckets(
    const std::vector<std::pair<std::uint64_t, std::uint64_t>>& buckets, std::uint64_t min,
    std::uint64_t max) {
  Histogram h;
  std::uint64_t lowest = 0, highest = 0;
  for (const auto& [value, count] : buckets) {
    std::size_t index = IndexOf(value);
    if (LowestOf(index) != value) {
      return Error{"histogram bucket " + std::to_string(value) + " is not the start of a bucket"};
    }
    if (count == 0) return Error{"histogram bucket " + std::to_string(value) + " has count 0"};
    if (index >= h.counts_.size()) h.counts_.resize(index + 1, 0);
    h.counts_[index] += count;
    if (h.count_ == 0 || value < lowest) lowest = value;
    highest = std::max(highest, value + WidthOf(index) - 1);
    h.count_ += count;
    // The exact sum is lost in the JSON; the middles stand in for the mean.
    h.sum_ += (double(value) + double(WidthOf(index) - 1) / 2) * double(count);
  }
  if (h.count_ == 0) return h;
  // The exact extremes must sit in the first and the last bucket.
  if (IndexOf(min) != IndexOf(lowest) || IndexOf(max) != IndexOf(highest) || min > max) {
    return Error{"histogram min " + std::to_string(min) + " / max " + std::to_string(max) +
                 " lie outside its buckets"};
  }
  h.min_ = min;
  h.max_ = max;
  return h;
}

}  // namespace streamcheck::bench
