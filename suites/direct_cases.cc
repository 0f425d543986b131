// direct: /directAccess/<path>, a reverse proxy to the backend.
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <optional>

#include "mocks/content.h"
#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using harness::CheckResult;
using harness::HttpResponse;
using reports::Level;

CaseDef Case(std::string id, Level level, std::string title,
             std::function<void(CaseContext&)> body) {
  return {{std::move(id), "direct", level, std::move(title)}, "direct_access", std::move(body)};
}

std::uint64_t SizeBytes(const CaseContext& ctx) {
  return static_cast<std::uint64_t>(ctx.options().size_mb * double(mocks::kMiB));
}

// The expected SHA-256 of a body, computed once per (seed, size) and kept.
std::string ExpectedSha(std::uint64_t seed, std::uint64_t size) {
  static std::mutex mutex;
  static std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> cache;
  std::lock_guard lock(mutex);
  auto [it, inserted] = cache.try_emplace({seed, size});
  if (inserted) it->second = mocks::BodySha256Hex(seed, size);
  return it->second;
}

// GET /directAccess/large-file with the backend set to the run's size, the
// target's process tree sampled throughout when the harness started it.
struct LargeGet {
  HttpResponse response;
  std::optional<harness::RssSummary> rss;
};

LargeGet FetchLarge(CaseContext& ctx, std::uint64_t read_piece_hint = mocks::kMiB) {
  ctx.backend().SetStreamResponse(ctx.options().size_mb);
  harness::HttpRequest request;
  request.url = ctx.Url("/directAccess/large-file");
  request.keep_body_bytes = 0;
  request.total_timeout = std::chrono::seconds(300);
  request.idle_timeout = std::chrono::seconds(60);
  std::optional<harness::RssSampler> sampler;
  if (ctx.process()) {
    sampler.emplace(ctx.process()->pid());
    sampler->Start();
  }
  LargeGet result;
  result.response = harness::Perform(request);
  if (sampler) result.rss = sampler->Stop();
  ctx.Evidence("GET /directAccess/large-file (backend size_mb=" +
                   std::to_string(ctx.options().size_mb) + ")",
               result.response);
  ctx.Metric("mib_per_s", result.response.mib_per_s());
  if (result.rss) ctx.Metric("rss_growth_mib", result.rss->growth_mib());
  (void)read_piece_hint;
  return result;
}

void Incremental(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.size_mb = 8;
  config.gate_after_bytes = static_cast<long long>(mocks::kMiB);
  config.gate_timeout_ms = 5'000;
  ctx.backend().SetConfig(config);
  bool bytes_before_gate = false;
  double first_byte_ms = -1;
  harness::Observers observers;
  observers.on_bytes = [&](std::uint64_t, double t_ms) {
    if (first_byte_ms < 0) {
      first_byte_ms = t_ms;
      bytes_before_gate = ctx.backend().stats().gate_opened_by.empty();
      ctx.backend().OpenGate();
    }
    return true;
  };
  harness::HttpRequest request;
  request.url = ctx.Url("/directAccess/large-file");
  request.total_timeout = std::chrono::seconds(60);
  auto response = harness::Perform(request, observers);
  ctx.Evidence("GET /directAccess/large-file (8 MiB, backend gated after 1 MiB)", response);
  ctx.Expect(harness::CheckStatus(response, 200));
  if (first_byte_ms < 0) {
    ctx.Expect(CheckResult::Fail("expected body bytes, got none: " + response.error));
  } else if (!bytes_before_gate) {
    ctx.Expect(CheckResult::Fail(
        "expected bytes before the backend's gate opened (it held after 1 MiB); the first byte "
        "arrived after " + std::to_string(int(first_byte_ms)) +
        " ms, only once the gate had timed out: the server buffered the whole body"));
  }
}

}  // namespace

std::vector<CaseDef> DirectCases() {
  return {
      Case("direct.large-get", Level::kMust,
           "GET /directAccess/large-file of size_mb MiB gives 200 and exactly that many bytes",
           [](CaseContext& ctx) {
             auto got = FetchLarge(ctx);
             ctx.Expect(harness::CheckStatus(got.response, 200));
             ctx.Expect(harness::CheckByteCount(got.response, SizeBytes(ctx)));
           }),
      Case("direct.integrity", Level::kMust, "those bytes' SHA-256 equals the backend's",
           [](CaseContext& ctx) {
             auto got = FetchLarge(ctx);
             ctx.Expect(harness::CheckSha256(got.response,
                                             ExpectedSha(ctx.backend().config().seed, SizeBytes(ctx))));
           }),
      Case("direct.incremental", Level::kMust,
           "with the backend gated after its first MiB, bytes reach the client before it opens",
           Incremental),
      Case("direct.memory-bounded", Level::kMust,
           "the server's process tree grows by at most 64 MiB RSS while proxying the body",
           [](CaseContext& ctx) {
             if (!ctx.process()) {
               GTEST_SKIP() << "memory is measured only for targets the harness starts; this one "
                               "is a url target";
             }
             auto got = FetchLarge(ctx);
             ctx.Expect(harness::CheckTransferComplete(got.response));
             ctx.Expect(harness::CheckRssGrowth(*got.rss, ctx.options().memory_limit_mib));
           }),
  };
}

}  // namespace streamcheck::suites
