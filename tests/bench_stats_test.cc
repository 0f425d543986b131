// The bench's statistics without a network: the histogram's layout and
// precision, percentiles, merging (shards), rates, the coordinated-omission
// correction, the knee, the JSON contract, the merge of shard results, gates.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "bench/histogram.h"
#include "bench/model.h"
#include "bench/report.h"
#include "bench/stats.h"
#include "bench/usage.h"

namespace streamcheck::bench {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The exact nearest-rank percentile of `values`.
double Exact(std::vector<std::uint64_t> values, double p) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(values.size())));
  return double(values[std::max<std::size_t>(rank, 1) - 1]);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (std::uint64_t v = 0; v < 128; ++v) h.Record(v);
  EXPECT_EQ(h.count(), 128u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.max(), 127u);
  EXPECT_DOUBLE_EQ(h.Percentile(50), 63);
  EXPECT_DOUBLE_EQ(h.Percentile(100), 127);
  EXPECT_DOUBLE_EQ(h.mean(), 63.5);
}

TEST(HistogramTest, LayoutIsContiguousAndBucketsAreNarrow) {
  for (std::size_t i = 0; i < 3000; ++i) {
    std::uint64_t low = Histogram::LowestOf(i);
    EXPECT_EQ(Histogram::IndexOf(low), i);
    EXPECT_EQ(Histogram::IndexOf(low + Histogram::WidthOf(i) - 1), i);
    EXPECT_EQ(Histogram::LowestOf(i + 1), low + Histogram::WidthOf(i)) << i;
    if (low >= Histogram::kExactBelow) {
      EXPECT_LE(double(Histogram::WidthOf(i)) / double(low), 1.0 / 64);
    }
  }
  EXPECT_LT(Histogram::IndexOf(UINT64_MAX), 4000u);
}

TEST(HistogramTest, PercentilesAreWithinTheStatedPrecision) {
  std::mt19937_64 random(7);
  std::lognormal_distribution<double> latency(7.0, 1.5);  // ~1 ms, long tail
  std::vector<std::uint64_t> values;
  Histogram h;
  for (int i = 0; i < 64'000; ++i) {
    auto v = static_cast<std::uint64_t>(latency(random));
    values.push_back(v);
    h.Record(v);
  }
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    double exact = Exact(values, p);
    EXPECT_NEAR(h.Percentile(p), exact, exact * Histogram::kRelativePrecision + 0.5) << "p" << p;
  }
  EXPECT_EQ(h.max(), *std::max_element(values.begin(), values.end()));
  EXPECT_LT(h.Buckets().size(), 1500u);  // compact whatever the count
}

TEST(HistogramTest, RecordMsKeepsMicroseconds) {
  Histogram h;
  h.RecordMs(1.5);
  h.RecordMs(-3);  // a clock step backwards is 0, not a wrap
  EXPECT_EQ(h.max(), 1500u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_NEAR(h.PercentileMs(100), 1.5, 1.5 * Histogram::kRelativePrecision);
}

TEST(HistogramTest, EmptyHasNoPercentile) {
  Histogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.Percentile(99), 0);
  EXPECT_TRUE(h.Buckets().empty());
}

// Issue 15: four shards merged give the percentiles of one run over the same
// samples, within the histogram's precision (here: exactly the same histogram).
TEST(HistogramTest, FourShardsMergedEqualOneRunOverTheSameSamples) {
  std::mt19937_64 random(15);
  std::exponential_distribution<double> gap(1.0 / 800);
  std::vector<std::uint64_t> values;
  Histogram one;
  Histogram shard[4];
  for (int i = 0; i < 40'000; ++i) {
    auto v = static_cast<std::uint64_t>(gap(random)) + (i % 97 == 0 ? 250'000 : 0);
    values.push_back(v);
    one.Record(v);
    shard[i % 4].Record(v);
  }
  Histogram merged;
  for (auto& s : shard) merged.Merge(s);
  EXPECT_EQ(merged.count(), one.count());
  EXPECT_EQ(merged.Buckets(), one.Buckets());
  EXPECT_EQ(merged.min(), one.min());
  EXPECT_EQ(merged.max(), one.max());
  for (double p : {50.0, 90.0, 99.0, 99.9}) {
    EXPECT_DOUBLE_EQ(merged.Percentile(p), one.Percentile(p));
    double exact = Exact(values, p);
    EXPECT_NEAR(merged.Percentile(p), exact, exact * Histogram::kRelativePrecision + 0.5);
  }
}

TEST(HistogramTest, BucketsRoundTrip) {
  Histogram h;
  for (std::uint64_t v : {3u, 500u, 501u, 90'000u, 7'000'000u}) h.Record(v);
  auto back = Histogram::FromBuckets(h.Buckets(), h.min(), h.max());
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(back->Buckets(), h.Buckets());
  EXPECT_EQ(back->max(), 7'000'000u);
  for (double p : {50.0, 99.0}) EXPECT_DOUBLE_EQ(back->Percentile(p), h.Percentile(p));
  EXPECT_FALSE(Histogram::FromBuckets({{129, 1}}, 129, 129));  // not a bucket's start
  EXPECT_FALSE(Histogram::FromBuckets({{5, 0}}, 5, 5));
  EXPECT_FALSE(Histogram::FromBuckets({{5, 1}}, 5, 900));  // max outside the buckets
}

TEST(StatsTest, MedianAndPercentileOfRounds) {
  EXPECT_EQ(Median({}), std::nullopt);
  EXPECT_DOUBLE_EQ(*Median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(*Median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(*Percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 90), 9);
  EXPECT_DOUBLE_EQ(*Percentile({1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 91), 10);
  EXPECT_DOUBLE_EQ(*Percentile({5}, 1), 5);
  EXPECT_EQ(Percentile({}, 50), std::nullopt);
}

TEST(StatsTest, RatesNeedTime) {
  EXPECT_DOUBLE_EQ(*PerSecond(640, 2), 320);
  EXPECT_EQ(PerSecond(640, 0), std::nullopt);
  EXPECT_EQ(PerSecond(1, std::nan("")), std::nullopt);
}

// A server that stalls for one second while streams are due every 10 ms: a
// client that waits for each reply hides the stall; latency from the
// schedule shows every stream that waited behind it.
TEST(StatsTest, LatencyFromTheScheduleCountsCoordinatedOmission) {
  const double rate = 100;  // a stream every 10 ms
  std::vector<double> naive, corrected;
  std::int64_t client_free_ns = 0;  // a client that sends one at a time
  for (std::uint64_t i = 0; i < 1000; ++i) {
    std::int64_t due = ScheduledOffsetNs(i, rate);
    std::int64_t start = std::max(due, client_free_ns);
    // The server answers in 1 ms, except that it stalls between 2 s and 3 s.
    std::int64_t served =
        std::max<std::int64_t>(
            start, start >= 2'000'000'000 && start < 3'000'000'000 ? 3'000'000'000 : start) +
        1'000'000;
    client_free_ns = served;
    naive.push_back(LatencyMs(-1, start, served));
    corrected.push_back(LatencyMs(due, start, served));
  }
  EXPECT_DOUBLE_EQ(ScheduledOffsetNs(3, rate), 30'000'000);
  // Without the schedule only the one stream caught in the stall is slow.
  EXPECT_NEAR(*Percentile(naive, 99), 1.0, 1e-9);
  EXPECT_NEAR(*Percentile(naive, 100), 1001.0, 1e-9);
  // From the schedule the 100 streams due during the stall waited: p90 and p99 show it.
  EXPECT_GT(*Percentile(corrected, 90), 100.0);
  EXPECT_GT(*Percentile(corrected, 99), 900.0);
  EXPECT_NEAR(*Percentile(corrected, 50), 1.0, 1e-9);
}

TEST(StatsTest, SharesAddUp) {
  std::uint64_t total = 0;
  for (int i = 0; i < 4; ++i) total += ShareOf(1001, i, 4);
  EXPECT_EQ(total, 1001u);
  EXPECT_EQ(ShareOf(1001, 0, 4), 251u);
  EXPECT_EQ(ShareOf(1001, 3, 4), 250u);
  EXPECT_EQ(ShareOf(7, 0, 1), 7u);
}

TEST(StatsTest, KneeIsTheHighestGoodLevel) {
  std::vector<KneePoint> points = {
      {1, 0.2, true}, {16, 0.4, true}, {64, 12.0, true}, {256, 3.0, false}, {1000, 0.5, true}};
  EXPECT_EQ(Knee(points), 1000);
  points.back().added_p99_ms = std::nullopt;  // not measured never counts
  EXPECT_EQ(Knee(points), 16);
  EXPECT_EQ(Knee({{1, 11.0, true}}), std::nullopt);
  EXPECT_EQ(Knee(points, 20.0), 64);
}

TEST(UsageTest, StatLineCpuTicks) {
  // comm with a space and a parenthesis; utime 100, stime 20, cutime 3, cstime 4.
  std::string line =
      "1234 (my (server) x) S 1 1234 1234 0 -1 4194560 500 0 0 0 100 20 3 4 20 0 1 0 5 0 0";
  EXPECT_EQ(StatCpuTicks(line), 127u);
  EXPECT_EQ(StatCpuTicks("garbage"), std::nullopt);
  EXPECT_EQ(StatCpuTicks("1 (x) S 1 2"), std::nullopt);
}

TEST(UsageTest, PerStreamKib) {
  EXPECT_DOUBLE_EQ(*PerStreamKib(1 << 20, (1 << 20) + 10 * 22 * 1024, 10), 22.0);
  EXPECT_EQ(PerStreamKib(0, 100, 0), std::nullopt);
}

Level SampleLevel(const std::string& target, int concurrency, std::uint64_t base) {
  Level l;
  l.target = target;
  l.concurrency = concurrency;
  l.load.streams = concurrency;
  l.load.completed = concurrency;
  for (std::uint64_t i = 0; i < 64; ++i) {
    l.load.added_us.Record(base + i);
    l.load.ttft_us.Record(1000 + base * i);
  }
  l.load.e2e_us.Record(1'300'000);
  l.load.tokens = 64;
  l.load.first_start_ns = 0;
  l.load.last_end_ns = 2'000'000'000;
  l.pss_kib_per_stream = 20;
  Derive(l);
  return l;
}

BenchResult SampleResult() {
  BenchResult r;
  r.version = "test";
  r.settings.concurrency = {1, 64};
  r.settings.tokens = 64;
  r.settings.token_delay_ms = 20;
  TargetBench t;
  t.name = "cpp";
  t.throughput_measured = true;
  t.throughput.direct_median = 1000;
  t.throughput.proxied_median = 800;
  t.throughput.ratio = 0.8;
  t.throughput.cpu_s_per_gib = 0.4;
  t.levels = {SampleLevel("cpp", 1, 100), SampleLevel("cpp", 64, 200)};
  t.knee = KneeOf(t);
  r.targets.push_back(t);
  return r;
}

TEST(BenchReportTest, JsonCarriesTheContract) {
  auto j = ToJson(SampleResult());
  EXPECT_EQ(j["tool"]["name"], "streamcheck");
  const auto& t = j["targets"][0];
  EXPECT_EQ(t["name"], "cpp");
  for (const char* key : {"direct_mib_s", "proxied_mib_s", "ratio", "cpu_s_per_gib"}) {
    EXPECT_TRUE(t["throughput"][key].is_number()) << key;
  }
  const auto& l = t["levels"][1];
  EXPECT_EQ(l["target"], "cpp");
  EXPECT_EQ(l["concurrency"], 64);
  for (const char* key : {"p50", "p90", "p99"}) EXPECT_TRUE(l["ttft_ms"][key].is_number()) << key;
  for (const char* key : {"p50", "p99", "max"}) EXPECT_TRUE(l["added_ms"][key].is_number()) << key;
  for (const char* key : {"p50", "p99"}) EXPECT_TRUE(l["e2e_ms"][key].is_number()) << key;
  for (const char* key :
       {"completed", "errors", "timeouts", "tokens_per_s", "pss_kib_per_stream"}) {
    EXPECT_TRUE(l[key].is_number()) << key;
  }
  EXPECT_TRUE(l.contains("rss_kib_per_stream"));
  EXPECT_TRUE(l["rss_kib_per_stream"].is_null());  // not measured: null, never 0
  EXPECT_TRUE(l["cpu_s"].is_null());
  EXPECT_DOUBLE_EQ(l["added_ms"]["max"].get<double>(), 0.263);
  EXPECT_EQ(t["knee"], 64);
  EXPECT_DOUBLE_EQ(l["tokens_per_s"].get<double>(), 32.0);
}

TEST(BenchReportTest, JsonRoundTripKeepsHistograms) {
  BenchResult r = SampleResult();
  r.settings.chunked = true;
  auto back = FromJson(ToJson(r));
  ASSERT_TRUE(back) << back.error();
  const Level& l = back->targets[0].levels[1];
  EXPECT_EQ(l.load.added_us.Buckets(), r.targets[0].levels[1].load.added_us.Buckets());
  EXPECT_DOUBLE_EQ(l.load.ttft_us.Percentile(99),
                   r.targets[0].levels[1].load.ttft_us.Percentile(99));
  EXPECT_EQ(ToJson(*back)["targets"], ToJson(r)["targets"]);
  EXPECT_TRUE(back->settings.chunked);
  EXPECT_FALSE(FromJson(nlohmann::json::object()));
}

TEST(BenchReportTest, ShardsMerge) {
  std::vector<BenchResult> shards;
  Histogram all;
  for (int i = 0; i < 4; ++i) {
    BenchResult r = SampleResult();
    r.settings.shard_index = i;
    r.settings.shard_count = 4;
    Level& l = r.targets[0].levels[1];
    l.load.added_us = Histogram();
    for (std::uint64_t v = 0; v < 1000; ++v) {
      l.load.added_us.Record(v * 7 + std::uint64_t(i));
      all.Record(v * 7 + std::uint64_t(i));
    }
    // Each shard's result goes through its JSON file, as --merge reads it.
    auto back = FromJson(ToJson(r));
    ASSERT_TRUE(back) << back.error();
    shards.push_back(*back);
  }
  auto merged = Merge(shards);
  ASSERT_TRUE(merged) << merged.error();
  const Level& l = merged->targets[0].levels[1];
  EXPECT_EQ(l.load.added_us.count(), 4000u);
  EXPECT_EQ(l.load.completed, 4u * 64);
  for (double p : {50.0, 99.0}) {
    EXPECT_DOUBLE_EQ(l.load.added_us.Percentile(p), all.Percentile(p));
  }
  EXPECT_EQ(l.load.added_us.max(), all.max());
  EXPECT_DOUBLE_EQ(*l.tokens_per_s, 4 * 64 / 2.0);

  shards[1].settings.shard_index = 0;
  auto twice = Merge(shards);
  ASSERT_FALSE(twice);
  EXPECT_THAT(twice.error(), HasSubstr("shard 0"));
}

TEST(BenchReportTest, GatesNameTheTargetAndFigure) {
  BenchResult r = SampleResult();
  EXPECT_TRUE(ApplyGates(r, std::nullopt, std::nullopt));
  EXPECT_TRUE(r.gates.empty());
  EXPECT_FALSE(ApplyGates(r, 2.0, std::nullopt));
  ASSERT_EQ(r.gates.size(), 1u);
  EXPECT_THAT(r.gates[0].text, HasSubstr("cpp: throughput ratio 0.80 < --min-ratio 2"));
  BenchResult fast = SampleResult();
  EXPECT_TRUE(ApplyGates(fast, 0.5, 1.0));
  BenchResult slow = SampleResult();
  EXPECT_FALSE(ApplyGates(slow, std::nullopt, 0.1));
  EXPECT_THAT(slow.gates[0].text, HasSubstr("cpp: added p99 at 1 streams"));
  // Fast tokens on the streams that got through do not pass a level where
  // others failed: the failed ones are not in the latency at all.
  BenchResult failing = SampleResult();
  failing.targets[0].levels[1].load.completed = 60;
  failing.targets[0].levels[1].load.errors = 3;
  failing.targets[0].levels[1].load.timeouts = 1;
  EXPECT_FALSE(ApplyGates(failing, std::nullopt, 100.0));
  ASSERT_EQ(failing.gates.size(), 2u);
  EXPECT_TRUE(failing.gates[0].passed);
  EXPECT_FALSE(failing.gates[1].passed);
  EXPECT_THAT(failing.gates[1].text,
              HasSubstr("4 of 64 streams did not complete (3 errors, 1 timeouts)"));
  EXPECT_EQ(KneeOf(failing.targets[0]), 1);  // nor is it the knee
  // A figure that was not measured misses its gate.
  BenchResult none = SampleResult();
  none.targets[0].throughput.ratio.reset();
  none.targets[0].throughput.problem = "proxied read: status 502";
  EXPECT_FALSE(ApplyGates(none, 0.1, std::nullopt));
  EXPECT_THAT(none.gates[0].text, HasSubstr("not measured"));
}

TEST(BenchReportTest, ConsoleShowsFiguresGoalsAndMissingOnes) {
  BenchResult r = SampleResult();
  Level skipped;
  skipped.target = "cpp";
  skipped.concurrency = 256;
  skipped.skipped = "at 64 streams 3 of 64 did not complete; higher levels skipped";
  r.targets[0].levels.push_back(skipped);
  std::string text = ConsoleTables(r);
  EXPECT_THAT(text, HasSubstr("goal: proxied >= 0.80 of direct"));
  EXPECT_THAT(text, HasSubstr("0.80"));
  EXPECT_THAT(text, HasSubstr("skipped: at 64 streams"));
  EXPECT_THAT(text, HasSubstr("knee"));
  EXPECT_THAT(text, Not(HasSubstr("PASS")));
}

}  // namespace
}  // namespace streamcheck::bench
