#include "bench/bench.h"

#include <algorithm>
#include <cstdio>

#include "harness/http_client.h"
#include "harness/ports.h"
#include "harness/process_memory.h"
#include "harness/target_process.h"
#include "mocks/mock_backend.h"

namespace streamcheck::bench {
namespace {

Result<double> MeasureGet(const std::string& url, std::uint64_t expected_bytes) {
  harness::HttpRequest request;
  request.url = url;
  request.keep_body_bytes = 0;
  request.hash_body = false;  // measure the server, not the client's hashing
  request.total_timeout = std::chrono::seconds(300);
  auto r = harness::Perform(request);
  if (!r.complete || r.status != 200 || r.body_bytes != expected_bytes) {
    return Error{"GET " + url + " failed: status " + std::to_string(r.status) + ", " +
                 std::to_string(r.body_bytes) + " of " + std::to_string(expected_bytes) + " bytes" +
                 (r.error.empty() ? "" : ", " + r.error)};
  }
  // Whole request time: what a client waits for, headers and connection included.
  return double(r.body_bytes) / (1024.0 * 1024.0) / (r.t_total_ms / 1000.0);
}

}  // namespace

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  std::size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

Result<BenchReport> RunProxyBench(const BenchOptions& options) {
  auto backend = mocks::MockBackend::Start();
  if (!backend) return Error{"mock backend: " + backend.error()};
  auto port = harness::PickFreePort();
  if (!port) return Error{port.error()};
  harness::LaunchOptions launch;
  launch.argv = {(options.bin / "streamcheck").string(),
                 "serve",
                 "--port",
                 std::to_string(*port),
                 "--backend",
                 (*backend)->url()};
  launch.log_path = options.log_dir / "bench-server.log";
  auto server = harness::TargetProcess::Start(launch);
  if (!server) return Error{server.error()};
  std::string server_url = "http://127.0.0.1:" + std::to_string(*port);
  if (auto ready = (*server)->WaitReady(server_url, "/ping", std::chrono::seconds(30)); !ready) {
    return Error{ready.message()};
  }

  std::string query = "/large-file?size_mb=" + std::to_string(options.size_mb);
  auto bytes = static_cast<std::uint64_t>(options.size_mb * 1024 * 1024);
  BenchReport report;
  harness::MemorySampler sampler({{(*server)->pid()}, {}, "the reference server"});
  sampler.Start();
  for (int round = 0; round < options.rounds; ++round) {
    auto direct = MeasureGet((*backend)->url() + query, bytes);
    if (!direct) return Error{direct.error()};
    auto proxied = MeasureGet(server_url + "/directAccess" + query, bytes);
    if (!proxied) return Error{proxied.error()};
    report.direct_mib_s.push_back(*direct);
    report.proxied_mib_s.push_back(*proxied);
    if (options.on_round) {
      char line[160];
      std::snprintf(line, sizeof line, "round %d: direct %.1f MiB/s, proxied %.1f MiB/s", round + 1,
                    *direct, *proxied);
      options.on_round(line);
    }
  }
  report.server_rss_growth_mib = sampler.Stop().rss_growth_mib();
  report.median_direct = Median(report.direct_mib_s);
  report.median_proxied = Median(report.proxied_mib_s);
  report.ratio = report.median_direct > 0 ? report.median_proxied / report.median_direct : 0;
  return report;
}

}  // namespace streamcheck::bench
