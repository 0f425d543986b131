// The proxy throughput benchmark: the same large GET read directly from the
// mock backend and through the reference server's /directAccess/, alternated
// round by round in one run, so the ratio of medians compares like with like.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace streamcheck::bench {

struct BenchOptions {
  double size_mb = 256;
  int rounds = 5;
  std::filesystem::path bin;      // holds the streamcheck binary (the server is spawned)
  std::filesystem::path log_dir;  // the server's log
  std::function<void(const std::string&)> on_round;  // one line per measurement
};

struct BenchReport {
  std::vector<double> direct_mib_s;
  std::vector<double> proxied_mib_s;
  double median_direct = 0;
  double median_proxied = 0;
  double ratio = 0;                  // median_proxied / median_direct
  double server_rss_growth_mib = 0;  // peak over all proxied rounds
};

Result<BenchReport> RunProxyBench(const BenchOptions& options);

// The median of `values` (the mean of the middle two for an even count); 0 when empty.
double Median(std::vector<double> values);

}  // namespace streamcheck::bench
