#include "harness/http_checks.h"

#include <cstdio>

#include "common/text.h"

namespace streamcheck::harness {

CheckResult CheckTransferComplete(const HttpResponse& r) {
  if (r.complete) return CheckResult::Pass();
  return CheckResult::Fail("expected a complete response; the transfer failed after " +
                           std::to_string(r.body_bytes) + " body bytes and " +
                           std::to_string(int(r.t_total_ms)) + " ms: " + r.error);
}

CheckResult CheckStatus(const HttpResponse& r, long expected) {
  if (r.status == expected) return CheckResult::Pass();
  if (r.status == 0) {
    return CheckResult::Fail("expected status " + std::to_string(expected) +
                             ", got no response: " + r.error);
  }
  return CheckResult::Fail("expected status " + std::to_string(expected) + ", got " +
                           std::to_string(r.status) + " (body: \"" + Excerpt(r.body) + "\")");
}

CheckResult CheckMediaType(const HttpResponse& r, const std::string& expected) {
  auto value = r.Header("Content-Type");
  if (!value) {
    return CheckResult::Fail("expected Content-Type " + expected + ", got none" +
                             (r.status ? "" : " (no response: " + r.error + ")"));
  }
  std::string media = value->substr(0, value->find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  if (ToLower(media) == ToLower(expected)) return CheckResult::Pass();
  return CheckResult::Fail("expected media type " + expected + ", got Content-Type \"" +
                           Excerpt(*value) + "\"");
}

CheckResult CheckByteCount(const HttpResponse& r, std::uint64_t expected) {
  if (r.body_bytes == expected) return CheckResult::Pass();
  return CheckResult::Fail("expected exactly " + std::to_string(expected) + " bytes, got " +
                           std::to_string(r.body_bytes) +
                           (r.complete ? "" : " before the transfer failed: " + r.error));
}

CheckResult CheckSha256(const HttpResponse& r, const std::string& expected_hex) {
  if (r.sha256 == expected_hex) return CheckResult::Pass();
  return CheckResult::Fail("expected SHA-256 " + expected_hex + " (the backend's), got " +
                           r.sha256 + " over " + std::to_string(r.body_bytes) + " bytes");
}

CheckResult CheckMemoryGrowth(const MemorySummary& m, double limit_mib) {
  if (m.samples == 0) {
    return CheckResult::Fail(
        "expected memory samples of the server, got none (its processes were gone)");
  }
  if (m.pss_growth_mib() <= limit_mib) return CheckResult::Pass();
  char buf[320];
  std::snprintf(buf, sizeof buf,
                "expected PSS growth within %.0f MiB, got %.1f MiB (%.1f -> %.1f MiB peak over %zu "
                "samples of %zu process(es); RSS +%.1f MiB): the server held the body in memory",
                limit_mib, m.pss_growth_mib(), double(m.baseline.pss_bytes) / (1 << 20),
                double(m.peak.pss_bytes) / (1 << 20), m.samples, m.peak.processes,
                m.rss_growth_mib());
  return CheckResult::Fail(buf);
}

}  // namespace streamcheck::harness
