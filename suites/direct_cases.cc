// direct: /directAccess/<path>, a reverse proxy to the backend.
#include <map>
#include <mutex>
#include <optional>

#include "common/sha256.h"
#include "common/text.h"
#include "harness/checks.h"
#include "harness/raw_exchange.h"
#include "mocks/content.h"
#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using core::Level;
using harness::CheckResult;
using harness::HttpResponse;

constexpr char kProxy[] = "RFC 9110 §7.6 (intermediaries forward messages)";

CaseDef Case(const Row& row, std::function<void(CaseContext&)> body) {
  return MakeCase("direct", "direct_access", row, std::move(body));
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

// Samples the server's memory (PSS and RSS, harness/process_memory.h) while
// a case's request runs, when the server's processes can be seen.
class MemoryWatch {
 public:
  explicit MemoryWatch(CaseContext& ctx) {
    auto scope = ctx.Memory();
    if (!scope) {
      why_not_ = scope.error();
      return;
    }
    sampler_.emplace(*scope);
    sampler_->Start();
  }
  // Stops sampling and records the figures; the summary when it measured.
  std::optional<harness::MemorySummary> Finish(CaseContext& ctx) {
    if (!sampler_) return std::nullopt;
    auto summary = sampler_->Stop();
    ctx.Metric("pss_growth_mib", summary.pss_growth_mib());
    ctx.Metric("rss_growth_mib", summary.rss_growth_mib());
    ctx.Metric("memory_processes", double(summary.peak.processes));
    ctx.Memory(summary.curve);
    return summary;
  }
  const std::string& why_not() const { return why_not_; }

 private:
  std::optional<harness::MemorySampler> sampler_;
  std::string why_not_;
};

// GET /directAccess/large-file with the backend set to the run's size, the
// server's memory sampled throughout where it can be.
struct LargeGet {
  HttpResponse response;
  std::optional<harness::MemorySummary> memory;
  std::string unmeasured;  // why memory was not measured
};

LargeGet FetchLarge(CaseContext& ctx) {
  ctx.backend().SetStreamResponse(ctx.options().size_mb);
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.DirectPath("large-file"));
  request.keep_body_bytes = 0;
  request.read_piece_bytes = mocks::kMiB;  // the seed plan's iter_content(1 MiB)
  request.total_timeout = std::chrono::seconds(300);
  request.idle_timeout = std::chrono::seconds(60);
  MemoryWatch memory(ctx);
  LargeGet result;
  result.response =
      ctx.Perform(request, "backend size_mb=" + std::to_string(ctx.options().size_mb));
  result.memory = memory.Finish(ctx);
  result.unmeasured = memory.why_not();
  ctx.Metric("mib_per_s", result.response.mib_per_s());
  return result;
}

void Incremental(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.size_mb = 8;
  config.gate_after_bytes = static_cast<long long>(mocks::kMiB);
  config.gate_timeout_ms = kGateTimeoutMs;
  ctx.backend().SetConfig(config);
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.DirectPath("large-file"));
  request.total_timeout = std::chrono::seconds(60);
  auto gated = PerformGated(ctx, request, /*by_bytes=*/true, "8 MiB, backend gated after 1 MiB");
  ctx.Expect(harness::CheckStatus(gated.response, 200));
  ctx.Expect(CheckBeforeGate(gated, "the body after its first MiB"));
}

// A 1 MiB body through the proxy from a backend that gzips when the request
// allows it, then from one that sends it plain: each time the label the client
// gets must match its bytes.
void ContentCoding(CaseContext& ctx) {
  for (auto compress : {mocks::Compression::kGzip, mocks::Compression::kNone}) {
    auto config = ctx.backend().config();
    config.size_mb = 1;
    config.compress = compress;
    config.content_length = false;
    ctx.backend().SetConfig(config);
    ctx.backend().ResetStats();
    harness::HttpRequest request;
    request.url = ctx.Url(ctx.DirectPath("large-file"));
    request.total_timeout = std::chrono::seconds(60);
    const std::string backend =
        compress == mocks::Compression::kGzip ? "a backend that gzips" : "a plain backend";
    auto r = ctx.Perform(request, "1 MiB from " + backend);
    ctx.Expect(harness::CheckStatus(r, 200));
    ctx.Expect(harness::CheckContentCoding(r, ExpectedSha(config.seed, mocks::kMiB)));
    if (compress == mocks::Compression::kGzip && ctx.backend().stats().responses_gzipped == 0) {
      ctx.Note("The backend sent this body plain: the request it got did not accept gzip.\n");
    }
  }
}

harness::HttpResponse Get(CaseContext& ctx, const std::string& path, const std::string& what) {
  harness::HttpRequest request;
  request.url = ctx.Url(path);
  request.total_timeout = std::chrono::seconds(60);
  return ctx.Perform(request, what);
}

// The bytes the backend itself answers for `path`, fetched directly.
harness::HttpResponse FromBackend(CaseContext& ctx, const std::string& method,
                                  const std::string& path) {
  harness::HttpRequest request;
  request.method = method;
  request.url = ctx.backend().url() + path;
  request.total_timeout = std::chrono::seconds(30);
  return harness::Perform(request);
}

// A request to /directAccess/echo: what the backend saw, as JSON.
harness::HttpResponse Echo(CaseContext& ctx, const std::string& method, const std::string& body,
                           const std::string& path_and_query = "echo",
                           const harness::Headers& headers = {}) {
  harness::HttpRequest request;
  request.method = method;
  request.url = ctx.Url(ctx.DirectPath(path_and_query));
  request.body = body;
  request.headers = headers;
  request.total_timeout = std::chrono::seconds(30);
  return ctx.Perform(request, std::to_string(body.size()) + "-byte body");
}

// GET goes without a body: RFC 9110 §9.3.1 gives content in a GET no meaning,
// and common servers (cpp-httplib among them) do not read it.
void CheckMethods(CaseContext& ctx, std::initializer_list<const char*> methods) {
  for (const char* method : methods) {
    std::string body =
        std::string(method) == "GET" ? "" : std::string(method) + " body " + std::string(1000, 'x');
    auto echo = Echo(ctx, method, body);
    auto check = harness::CheckEcho(echo, method, body.size(), Sha256::Of(body));
    if (!check.ok) check.message = std::string(method) + ": " + check.message;
    ctx.Expect(check);
  }
}

void SsePassthrough(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = kGateTimeoutMs;
  ctx.backend().SetConfig(config);
  auto request = ChatRequest(ctx, "Hello", true, ctx.DirectPath("v1/chat/completions"));
  auto gated = PerformGated(ctx, request, /*by_bytes=*/false, "backend gated after 1 token");
  const auto& response = gated.response;
  ctx.Expect(harness::CheckStatus(response, 200));
  auto stats = ctx.backend().stats();
  if (response.sha256 != stats.last_stream_sha256) {
    ctx.Fail("expected the backend's SSE bytes unchanged: the backend sent " +
             std::to_string(stats.last_stream_bytes) + " bytes (SHA-256 " +
             stats.last_stream_sha256 + "), the client got " + std::to_string(response.body_bytes) +
             " (SHA-256 " + response.sha256 + ")");
  }
  ctx.Expect(CheckBeforeGate(gated, "the stream after its first token"));
}

void StatusPassthrough(CaseContext& ctx) {
  for (int status : {404, 429, 500, 503}) {
    std::string path = "/status/" + std::to_string(status);
    auto expected = FromBackend(ctx, "GET", path);
    auto got = Get(ctx, ctx.DirectPath(path), "");
    auto check = harness::CheckPassthrough(got, status, expected.body);
    if (!check.ok) check.message = path + ": " + check.message;
    ctx.Expect(check);
  }
}

void ResponseFraming(CaseContext& ctx) {
  for (bool content_length : {false, true}) {
    auto config = ctx.backend().config();
    config.content_length = content_length;
    ctx.backend().SetConfig(config);
    auto r = Get(
        ctx, ctx.DirectPath("large-file?size_mb=1"),
        std::string("1 MiB; the backend sends ") + (content_length ? "Content-Length" : "chunked"));
    auto check = harness::CheckResponseFraming(r);
    if (check.ok) check = harness::CheckByteCount(r, mocks::kMiB);
    if (!check.ok) {
      check.message =
          std::string(content_length ? "Content-Length" : "chunked") + " backend: " + check.message;
    }
    ctx.Expect(check);
  }
}

// A partial response passed on as the backend sent it: one Content-Range,
// the range's bytes. Judged only when the backend got the Range and answered
// 206 (a server may drop Range, RFC 9110 §14.2: then there is nothing to judge).
void Range(CaseContext& ctx) {
  constexpr std::uint64_t kFirst = 100, kLast = 199;
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.DirectPath("large-file?size_mb=1"));
  request.headers = {{"Range", "bytes=" + std::to_string(kFirst) + "-" + std::to_string(kLast)}};
  request.total_timeout = std::chrono::seconds(30);
  auto r = ctx.Perform(request, "Range: bytes=100-199 of 1 MiB");
  auto last = ctx.backend().stats().last_request;
  if (!last.is_object() || last.value("path", "") != "/large-file") {
    return ctx.Error("cannot judge: the backend got no GET /large-file; the server answered " +
                     std::to_string(r.status) + (r.error.empty() ? "" : " (" + r.error + ")"));
  }
  bool forwarded = false;
  if (last.contains("headers") && last["headers"].is_object()) {
    for (const auto& [name, values] : last["headers"].items()) {
      forwarded = forwarded || EqualsIgnoreCase(name, "Range");
    }
  }
  if (!forwarded) {
    return ctx.Skip(
        "the server did not forward Range to the backend (it may ignore Range, RFC "
        "9110 §14.2): no partial response to pass on");
  }
  std::string expected = "bytes " + std::to_string(kFirst) + "-" + std::to_string(kLast) + "/" +
                         std::to_string(mocks::kMiB);
  auto check = harness::CheckPartialContent(r, expected);
  if (check.ok) {
    std::string bytes(kLast - kFirst + 1, '\0');
    mocks::FillBytes(ctx.backend().config().seed, kFirst, bytes.data(), bytes.size());
    if (r.sha256 != Sha256::Of(bytes)) {
      check = CheckResult::Fail("expected bytes 100-199 of the backend's body, got other bytes");
    }
  }
  ctx.Expect(check);
}

void TruncationVisible(CaseContext& ctx) {
  // Precondition: the same body, uncut, arrives whole; else a server that
  // answers nothing would pass.
  auto whole = ctx.backend().config();
  whole.size_mb = 4;
  ctx.backend().SetConfig(whole);
  auto plain = Get(ctx, ctx.DirectPath("large-file"), "4 MiB, the backend sends it whole");
  if (!plain.complete || plain.status != 200) {
    return ctx.Fail(
        "expected the uncut 4 MiB body to arrive whole first (else nothing can be "
        "judged), got " +
        (plain.status ? "status " + std::to_string(plain.status) : std::string("no response")) +
        (plain.error.empty() ? "" : ": " + plain.error));
  }
  struct Variant {
    const char* name;
    bool content_length;
    bool reset;
  };
  for (const Variant& v : {Variant{"chunked backend closes", false, false},
                           Variant{"Content-Length backend closes", true, false},
                           Variant{"chunked backend resets (RST)", false, true}}) {
    auto config = ctx.backend().config();
    config.size_mb = 4;
    config.content_length = v.content_length;
    (v.reset ? config.reset_after_bytes : config.truncate_after_bytes) =
        static_cast<long long>(mocks::kMiB);
    ctx.backend().SetConfig(config);
    ctx.backend().ResetStats();
    auto r =
        Get(ctx, ctx.DirectPath("large-file"), std::string("4 MiB; after 1 MiB the ") + v.name);
    auto check = CheckFaultFired(ctx, "a cut after 1 MiB");
    if (check.ok) check = harness::CheckTruncationVisible(r);
    if (!check.ok) check.message = std::string(v.name) + ": " + check.message;
    ctx.Expect(check);
  }
}

void BackendDown(CaseContext& ctx) {
  ctx.backend().Suspend();
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.DirectPath("large-file"));
  request.total_timeout = std::chrono::seconds(10);
  auto r = ctx.Perform(request, "the backend not listening");
  auto resumed = ctx.backend().Resume();
  if (!resumed) return ctx.Error("could not bring the mock backend back: " + resumed.message());
  ctx.Expect(harness::CheckServerError(r, 502, 5'000));
  if (r.status != 502 && r.status >= 500) ctx.Note("502 is the status a gateway SHOULD use; ");
}

void BackendTimeout(CaseContext& ctx) {
  double timeout_s = ctx.spec().backend_timeout_s;
  auto config = ctx.backend().config();
  config.headers_delay_ms = int((timeout_s + 3) * 1000);
  ctx.backend().SetConfig(config);
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.DirectPath("echo"));
  request.total_timeout = std::chrono::milliseconds(int((timeout_s + 2) * 1000));
  auto r = ctx.Perform(request, "the backend silent for " + std::to_string(int(timeout_s + 3)) +
                                    " s (server timeout " + std::to_string(timeout_s) +
                                    " s per the spec)");
  auto check = harness::CheckServerError(r, 504, (timeout_s + 2) * 1000);
  if (check.ok && r.status != 504) {
    check = CheckResult::Fail("expected 504 for a backend that sends no headers, got " +
                              std::to_string(r.status));
  }
  ctx.Expect(check);
}

void ClientAbort(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.size_mb = 1024;  // far more than is ever read
  ctx.backend().SetConfig(config);
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.DirectPath("large-file"));
  request.abort_after_bytes = mocks::kMiB;
  request.total_timeout = std::chrono::seconds(30);
  auto r = ctx.Perform(request, "1 GiB; the client leaves after 1 MiB");
  if (r.body_bytes < mocks::kMiB) {
    return ctx.Fail("expected 1 MiB before leaving, got " + std::to_string(r.body_bytes) +
                    " bytes: " + r.error);
  }
  bool cancelled = ctx.backend().WaitCancelled(std::chrono::seconds(2));
  auto stats = ctx.backend().stats();
  ctx.Metric("backend_bytes_sent", double(stats.body_bytes_sent));
  if (stats.last_cancellation) {
    ctx.Metric("backend_cancelled_after_ms", stats.last_cancellation->after_ms);
  }
  if (!cancelled) {
    ctx.Expect(
        CheckResult::Fail("expected the backend transfer cancelled within 2 s of the "
                          "client leaving; the backend had sent " +
                          std::to_string(stats.body_bytes_sent) +
                          " bytes and was still "
                          "sending"));
  }
}

// The request target of the last request head the mock received ("" none).
std::string LastTargetAtBackend(const mocks::MockStats& stats) {
  if (stats.request_heads.empty()) return "";
  const std::string& head = stats.request_heads.back();
  auto first = head.find(' ');
  auto second = head.find(' ', first + 1);
  if (first == std::string::npos || second == std::string::npos) return "";
  return head.substr(first + 1, second - first - 1);
}

// A target that still leaves the backend's path: a dot-segment, decoded or
// encoded, an empty segment that names a host, or an absolute URL.
// A path that can leave the backend's tree: a dot-segment (RFC 3986 §5.2.4),
// one hidden by percent-encoding, an encoded slash, or a leading "//", which
// naive code (urljoin, redirects) reads as another host (a network-path
// reference, RFC 3986 §4.2). A "//" after the first segment, as in
// "/http://host/x", is an empty segment in the backend's own tree.
bool EscapesTheBackend(const std::string& target) {
  std::string lower = ToLower(target.substr(0, target.find('?')));
  for (const char* escape : {"/../", "%2e%2e", "%2f"}) {
    if (lower.find(escape) != std::string::npos) return true;
  }
  // ... and a target in absolute-form, which a backend may take as a proxy request.
  for (const char* start : {"//", "http://", "https://"}) {
    if (lower.rfind(start, 0) == 0) return true;
  }
  return lower == ".." || (lower.size() >= 3 && lower.compare(lower.size() - 3, 3, "/..") == 0);
}

void PathConfined(CaseContext& ctx) {
  // Precondition: the proxy forwards a plain request at all. A server that
  // refuses everything cannot be said to confine anything.
  auto control = Echo(ctx, "GET", "", "echo");
  if (control.status != 200 || ctx.backend().stats().requests == 0) {
    return ctx.Fail(
        "expected " + ctx.DirectPath("echo") +
        " to reach the backend before judging confinement; it answered " +
        (control.status ? std::to_string(control.status) : "nothing: " + control.error) +
        " and the backend saw " + std::to_string(ctx.backend().stats().requests) + " request(s)");
  }
  auto decoy = mocks::MockBackend::Start();
  if (!decoy) return ctx.Error("cannot start the decoy backend: " + decoy.error());
  const std::string decoy_authority = "127.0.0.1:" + std::to_string((*decoy)->port());
  const std::string prefix = ctx.spec().direct_prefix;
  const std::vector<std::string> targets = {
      prefix + "../ping",
      prefix + "v1/../../echo",
      prefix + "%2e%2e/echo",
      prefix + "%2E%2E%2Fecho",
      prefix + "/" + decoy_authority + "/echo",
      prefix + "http://" + decoy_authority + "/echo",
      "http://" + decoy_authority + prefix + "echo",
  };
  for (const auto& target : targets) {
    ctx.backend().ResetStats();
    harness::HttpRequest request;
    request.url = ctx.Url("/");
    request.request_target = target;
    request.total_timeout = std::chrono::seconds(10);
    auto r = ctx.Perform(request, "request target sent byte for byte");
    // Every request either backend received counts, whatever it answered
    // (an unknown path's 404 included): a 4xx from the backend is no refusal.
    auto seen = ctx.backend().stats();
    if ((*decoy)->stats().requests > 0) {
      ctx.Fail("expected " + target +
               " to reach nothing but the configured backend; it reached "
               "another host (the decoy at " +
               decoy_authority + ")");
      break;
    }
    if (seen.requests == 0) {
      if (r.status == 0) {
        ctx.Fail("expected " + target +
                 " refused with 4xx or kept within the backend; no "
                 "answer: " +
                 r.error);
      }
      continue;  // refused, or answered by the server itself: it reached no other place
    }
    const std::string at_backend = LastTargetAtBackend(seen);
    if (EscapesTheBackend(at_backend)) {
      ctx.Fail("expected " + target +
               " normalised within the backend or refused with 4xx; the "
               "backend got the target " +
               Excerpt(at_backend) + " (answered " + std::to_string(r.status) + ")");
    }
  }
}

void LargeUpload(CaseContext& ctx) {
  std::uint64_t size = SizeBytes(ctx);
  std::uint64_t seed = 7;
  harness::HttpRequest request;
  request.method = "PUT";
  request.url = ctx.Url(ctx.DirectPath("echo"));
  request.upload_size = size;
  request.upload_fill = [seed](std::uint64_t offset, char* out, std::size_t n) {
    mocks::FillBytes(seed, offset, out, n);
  };
  request.total_timeout = std::chrono::seconds(300);
  MemoryWatch memory(ctx);
  auto r = ctx.Perform(request, std::to_string(size) + "-byte body generated on the fly");
  ctx.Expect(harness::CheckEcho(r, "PUT", size, ExpectedSha(seed, size)));
  if (auto summary = memory.Finish(ctx)) {
    ctx.Expect(harness::CheckMemoryGrowth(*summary, ctx.options().memory_limit_mib));
  } else {
    ctx.Note("memory not measured: " + memory.why_not() + "; ");
  }
}

void Backpressure(CaseContext& ctx) {
  // A 96 MiB body read at 8 MiB/s from a backend that could send it in well
  // under a second: a server without backpressure holds most of it, and even
  // one copy is over the 64 MiB limit.
  constexpr double kSizeMb = 96;
  auto config = ctx.backend().config();
  config.size_mb = kSizeMb;
  ctx.backend().SetConfig(config);
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.DirectPath("large-file"));
  request.keep_body_bytes = 0;
  request.max_recv_mib_s = 8;
  request.total_timeout = std::chrono::seconds(120);
  MemoryWatch memory(ctx);
  if (!memory.why_not().empty()) return ctx.Skip(memory.why_not());
  auto r = ctx.Perform(request, "96 MiB read at 8 MiB/s");
  auto summary = memory.Finish(ctx);
  ctx.Expect(harness::CheckByteCount(r, std::uint64_t(kSizeMb) * mocks::kMiB));
  ctx.Expect(harness::CheckMemoryGrowth(*summary, ctx.options().memory_limit_mib));
}

void RequestHeaders(CaseContext& ctx) {
  harness::Headers sent = {{"Authorization", "Bearer streamcheck-token"},
                           {"X-Custom-Trace", "abc-123"},
                           {"Connection", "keep-alive, X-Hop-Secret"},
                           {"X-Hop-Secret", "must-not-pass"},
                           {"Keep-Alive", "timeout=5"},
                           {"TE", "trailers"},
                           {"Trailer", "X-Checksum"},
                           {"Upgrade", "h2c"},
                           {"Proxy-Authorization", "Basic c2VjcmV0"},
                           {"Content-Type", "application/json"}};
  auto echo = Echo(ctx, "POST", R"({"x":1})", "echo", sent);
  ctx.Expect(harness::CheckEchoHeaders(
      echo,
      {{"Authorization", "Bearer streamcheck-token"},
       {"X-Custom-Trace", "abc-123"},
       {"Content-Type", "application/json"}},
      {"X-Hop-Secret", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization"}));
}

}  // namespace

std::vector<CaseDef> DirectCases() {
  return {
      Case({"direct.large-get", Level::kMust,
            "GET /directAccess/large-file of size_mb MiB gives 200 and exactly that many bytes",
            "`GET /directAccess/large-file` with the mock at `--size-mb` (default 100): 200 and "
            "exactly that many bytes, read in 1 MiB pieces as the seed plan does.",
            kProxy, "direct-large-get", BackendUse::kCalls,
            "a response with the whole body (none fails)"},
           [](CaseContext& ctx) {
             auto got = FetchLarge(ctx);
             ctx.Expect(harness::CheckStatus(got.response, 200));
             ctx.Expect(harness::CheckByteCount(got.response, SizeBytes(ctx)));
           }),
      Case({"direct.integrity", Level::kMust, "those bytes' SHA-256 equals the backend's",
            "SHA-256 of the received body equals the SHA-256 of the mock's deterministic content.",
            kProxy, "direct-integrity", BackendUse::kCalls,
            "a body to hash (a missing or short one fails)"},
           [](CaseContext& ctx) {
             auto got = FetchLarge(ctx);
             ctx.Expect(harness::CheckSha256(
                 got.response, ExpectedSha(ctx.backend().config().seed, SizeBytes(ctx))));
           }),
      Case({"direct.incremental", Level::kMust,
            "with the backend gated after its first MiB, bytes reach the client before it opens",
            "8 MiB body, mock gated after 1 MiB (5 s gate timeout); the harness opens the gate on "
            "the first byte; pass when it came while the gate was closed.",
            "a proxy of a stream must stream (the seed plan's no-buffering test)",
            "direct-incremental", BackendUse::kCalls,
            "bytes that arrived, before or after the gate (none fails)"},
           Incremental),
      Case({"direct.memory-bounded", Level::kMust,
            "the server grows by at most 64 MiB of memory (PSS) while proxying the body",
            "PSS and RSS of the server's processes (the spawned command's tree, the owner of its "
            "listening socket and its tree, or the spec's cgroup) sampled every 20 ms during the "
            "100 MiB GET; peak minus baseline PSS ≤ 64 MiB (PSS counts pages that forked workers "
            "share once). Skipped, with the reason, when no process of the server can be seen.",
            "the seed plan's memory test: a proxy must not hold the body", "direct-memory-bounded",
            BackendUse::kCalls,
            "the server's memory can be seen (else skip) and the whole body was proxied while it "
            "was sampled"},
           [](CaseContext& ctx) {
             auto got = FetchLarge(ctx);
             if (!got.memory) return ctx.Skip(got.unmeasured);
             ctx.Expect(harness::CheckTransferComplete(got.response));
             // Memory while proxying nothing proves nothing: the body came whole.
             ctx.Expect(harness::CheckByteCount(got.response, SizeBytes(ctx)));
             ctx.Expect(harness::CheckMemoryGrowth(*got.memory, ctx.options().memory_limit_mib));
           }),
      Case({"direct.backpressure", Level::kShould,
            "a client reading at 8 MiB/s from a fast backend: memory growth stays within 64 MiB",
            "96 MiB body read at 8 MiB/s (libcurl's receive limit) from a mock that can send it in "
            "well under a second, so even one buffered copy exceeds the limit; PSS growth ≤ 64 "
            "MiB. Skipped when the server's memory cannot be measured.",
            "RFC 9110 §7.6; a proxy reads its upstream only as fast as its client drains",
            "direct-backpressure", BackendUse::kCalls,
            "the server's memory can be seen (else skip) and all 96 MiB were read"},
           Backpressure),
      Case({"direct.content-coding", Level::kMust,
            "the Content-Encoding the client gets agrees with the bytes it gets",
            "1 MiB GET through the proxy twice, the client sending the spec's Accept-Encoding "
            "(python-requests' `gzip, deflate` by default): once from a backend that gzips, as "
            "api.openai.com does, once from a plain one, as a NIM; each body, decoded by its "
            "label, has the backend's SHA-256. A gzip body labelled identity, or a plain one "
            "labelled gzip, fails.",
            "RFC 9110 §8.4: Content-Encoding names the codings applied to the content; clients "
            "(python-requests, httpx, the OpenAI SDKs) decode by it",
            "direct-content-coding", BackendUse::kCalls},
           ContentCoding),
      Case({"direct.stall-survives", Level::kMust,
            "a backend that pauses 5 s mid-body still completes, intact",
            "4 MiB body; the mock pauses 5 s after 1 MiB; complete, exact length and SHA-256.",
            "model servers pause mid-stream (batching, GC); a proxy must not time out first",
            "direct-stall-survives", BackendUse::kCalls, "a complete transfer (none fails)"},
           [](CaseContext& ctx) {
             auto config = ctx.backend().config();
             config.size_mb = 4;
             config.stall_after_bytes = static_cast<long long>(mocks::kMiB);
             config.stall_ms = 5'000;
             ctx.backend().SetConfig(config);
             auto r = Get(ctx, ctx.DirectPath("large-file"),
                          "4 MiB, the backend pauses 5 s after 1 MiB");
             ctx.Expect(harness::CheckTransferComplete(r));
             ctx.Expect(harness::CheckByteCount(r, 4 * mocks::kMiB));
             ctx.Expect(harness::CheckSha256(r, ExpectedSha(config.seed, 4 * mocks::kMiB)));
           }),
      Case({"direct.sse-passthrough", Level::kMust,
            "POST /directAccess/v1/chat/completions relays the backend's SSE bytes unchanged, "
            "incrementally",
            "`POST /directAccess/v1/chat/completions`, mock gated after token 1: the body's "
            "SHA-256 equals the SHA-256 of the bytes the mock sent, and the first token arrives "
            "before the gate opens.",
            kProxy, "direct-sse-passthrough", BackendUse::kCalls,
            "the mock streamed (its digest to compare) and content arrived (none fails)"},
           SsePassthrough),
      Case({"direct.status-passthrough", Level::kMust,
            "backend 404, 429, 500 and 503 reach the client with the same status and body",
            "`/directAccess/status/{404,429,500,503}`: same status and the same body as the "
            "backend gives directly.",
            "RFC 9110 §7.6 and §15; clients retry on 429/503 only when they see them",
            "direct-status-passthrough", BackendUse::kCalls,
            "the backend's own answer to each status path, fetched directly, to compare with"},
           StatusPassthrough),
      Case({"direct.methods", Level::kMust,
            "GET, POST and PUT reach the backend with method, body and body length intact",
            "GET (no body: RFC 9110 §9.3.1 gives a GET body no meaning and common servers drop "
            "it), POST and PUT with a 1 KiB body to `/directAccess/echo`: method, body length and "
            "SHA-256 as sent.",
            "RFC 9110 §9.3", "direct-methods", BackendUse::kCalls,
            "the backend's echo of each request (none fails)"},
           [](CaseContext& ctx) {
             CheckMethods(ctx, {"GET", "POST", "PUT"});
           }),
      Case({"direct.methods-extended", Level::kShould,
            "DELETE and PATCH reach the backend with method, body and body length intact",
            "DELETE and PATCH, as above (the SHOULD half of direct.methods).",
            "RFC 9110 §9.3.5; RFC 5789", "direct-methods-extended", BackendUse::kCalls,
            "the backend's echo of each request (none fails)"},
           [](CaseContext& ctx) {
             CheckMethods(ctx, {"DELETE", "PATCH"});
           }),
      Case({"direct.query-string", Level::kMust, "the query string reaches the backend",
            "`?model=gpt-4&stream=true&q=a%20b` reaches the backend decoded to the same values.",
            "RFC 9110 §4.2 (the query is part of the target)", "direct-query-string",
            BackendUse::kCalls, "the backend's echo of the request (none fails)"},
           [](CaseContext& ctx) {
             auto echo = Echo(ctx, "GET", "", "echo?model=gpt-4&stream=true&q=a%20b");
             ctx.Expect(harness::CheckEchoQuery(
                 echo, {{"model", "gpt-4"}, {"stream", "true"}, {"q", "a b"}}));
           }),
      Case({"direct.query-repeated", Level::kShould,
            "repeated query keys keep every value, in order",
            "`?tag=a&tag=b&tag=c` keeps all three, in order (the SHOULD half of "
            "direct.query-string).",
            "RFC 9110 §4.2; WHATWG URL (application/x-www-form-urlencoded keeps repeats)",
            "direct-query-repeated", BackendUse::kCalls,
            "the backend's echo of the request (none fails)"},
           [](CaseContext& ctx) {
             auto echo = Echo(ctx, "GET", "", "echo?tag=a&tag=b&tag=c");
             ctx.Expect(harness::CheckEchoQuery(echo, {{"tag", "a"}, {"tag", "b"}, {"tag", "c"}}));
           }),
      Case({"direct.request-headers", Level::kShould,
            "end-to-end headers are forwarded, hop-by-hop headers are not",
            "Authorization, X-Custom-Trace and Content-Type must arrive; `Connection: keep-alive, "
            "X-Hop-Secret`, X-Hop-Secret, Keep-Alive, TE, Trailer, Upgrade and "
            "Proxy-Authorization must not.",
            "RFC 9110 §7.6.1 (Connection and the fields it names are hop-by-hop)",
            "direct-request-headers", BackendUse::kCalls,
            "the backend's echo of the request (none fails)"},
           RequestHeaders),
      Case({"direct.response-framing", Level::kMust,
            "never both Transfer-Encoding and Content-Length; a Content-Length matches the body",
            "1 MiB from a chunked backend and from a Content-Length backend: never both headers; "
            "a Content-Length equals the bytes received.",
            "RFC 9112 §6.1 (a sender MUST NOT send Content-Length with Transfer-Encoding)",
            "direct-response-framing", BackendUse::kCalls,
            "a complete transfer of exactly 1 MiB (none fails)"},
           ResponseFraming),
      Case({"direct.truncation-visible", Level::kMust,
            "a backend that closes mid-body gives the client an incomplete response, never a "
            "clean shorter one",
            "4 MiB body cut after 1 MiB three ways: the backend closes a chunked body, closes "
            "short of its Content-Length, or resets the connection (RST). The client's transfer "
            "must end incomplete (an unterminated chunked body or a short Content-Length), or the "
            "server answers 5xx; a clean end fails.",
            "RFC 9112 §6.3 and §8 (an incomplete message must look incomplete)",
            "direct-truncation-visible", BackendUse::kCalls,
            "for each variant the mock's cut after 1 MiB fired, and a response arrived"},
           TruncationVisible),
      Case({"direct.range", Level::kShould,
            "a partial response reaches the client with one Content-Range, the backend's",
            "`GET large-file?size_mb=1` with `Range: bytes=100-199`; where the backend got the "
            "Range (it answers 206): 206, exactly one Content-Range equal to the backend's, and "
            "those 100 bytes. A server that does not forward Range is a skip.",
            "RFC 9110 §14.4 (Content-Range), §15.3.7 (206); RFC 9110 §5.3 (one value only)",
            "direct-range", BackendUse::kCalls,
            "the backend got GET /large-file (none: error) with the Range header (without: skip)"},
           Range),
      Case({"direct.backend-down", Level::kMust,
            "with the backend unreachable, a 5xx (502 SHOULD) with an error body within 5 s",
            "the mock stops listening (connections refused): a 5xx with a body within 5 s; 502 "
            "is noted when it is not the status.",
            "RFC 9110 §15.6.3 (502 Bad Gateway)", "direct-backend-down", BackendUse::kUses,
            "a response within the bound (none fails)"},
           BackendDown),
      Case({"direct.backend-timeout", Level::kShould,
            "a backend that never sends headers gets a 504 within the server's configured timeout",
            "the mock holds its headers for `backend_timeout_s` + 3 s (spec key, default 10): a "
            "504 within `backend_timeout_s` + 2 s.",
            "RFC 9110 §15.6.5 (504 Gateway Timeout)", "direct-backend-timeout", BackendUse::kCalls,
            "a response within the bound (none fails)"},
           BackendTimeout),
      Case(
          {"direct.client-abort", Level::kShould,
           "when the client leaves mid-body, the backend transfer is cancelled within 2 s",
           "1 GiB body; the client leaves after 1 MiB; the mock must count the transfer "
           "cancelled within 2 s.",
           "a proxy that keeps reading for a gone client wastes the backend", "direct-client-abort",
           BackendUse::kCalls, "1 MiB arrived before the client left (less fails)"},
          ClientAbort),
      Case({"direct.path-confined", Level::kMust,
            "'..', '%2e%2e', '//host/' and absolute-form targets never reach another host",
            "request targets sent byte for byte: `/directAccess/../ping`, "
            "`/directAccess/v1/../../echo`, `%2e%2e`, `%2E%2E%2F`, "
            "`/directAccess//127.0.0.1:DECOY/echo`, `/directAccess/http://127.0.0.1:DECOY/echo`, "
            "absolute-form `http://127.0.0.1:DECOY/directAccess/echo`, after a plain request that "
            "must reach the backend (else nothing can be judged). A second (decoy) mock must see "
            "nothing; every request either mock receives counts, 404s included; a probe passes "
            "when no backend saw it (refused, or answered by the server itself) or the backend "
            "got a path with no `..`, `%2e%2e` or `%2F`, that starts neither with `//` nor "
            "with a scheme (a `//` later in the path is an empty segment, RFC 3986 §3.3).",
            "RFC 3986 §5.2.4 (dot-segments), §4.2 (network-path references); RFC 9112 §3.2.2 "
            "(absolute-form); SSRF",
            "direct-path-confined", BackendUse::kUses,
            "a plain request to the echo path reached the backend with 200 before any probe is "
            "judged"},
           PathConfined),
      Case({"direct.large-upload", Level::kShould,
            "a size_mb PUT body reaches the backend intact with memory growth within 64 MiB",
            "`PUT /directAccess/echo` with a `--size-mb` body generated on the fly: the backend's "
            "length and SHA-256 match; PSS growth ≤ 64 MiB where measured.",
            "RFC 9110 §7.6; a proxy streams request bodies too", "direct-large-upload",
            BackendUse::kCalls, "the backend's echo of the whole body (none fails)"},
           LargeUpload),
  };
}

}  // namespace streamcheck::suites
