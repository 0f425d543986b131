// direct: /directAccess/<path>, a reverse proxy to the backend.
#include <cstdio>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include "common/json_bounded.h"
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

// What the backend did with its last transfer, in words, for evidence beside
// what the client saw: a proxy that cut a stream must not read as "the
// backend sent nothing".
std::string BackendSide(const mocks::MockStats& stats) {
  std::string what = "the backend sent " + std::to_string(stats.body_bytes_sent) + " body bytes";
  if (stats.transfers_cut > 0) return what + " and then broke off as configured";
  if (stats.last_cancellation) {
    return what + ", and its transfer was cancelled by the server under test after " +
           std::to_string(int(stats.last_cancellation->after_ms)) + " ms";
  }
  if (stats.transfers_completed > 0) return what + ", its whole body";
  if (stats.transfers_started > 0) return what + ", its transfer still open";
  return "the backend began no transfer (" + std::to_string(stats.requests) + " request(s))";
}

// Adds the backend's side to a failed check of a transfer the client saw.
CheckResult WithBackendSide(CheckResult check, CaseContext& ctx) {
  if (!check.ok) check.message += "; " + BackendSide(ctx.backend().stats());
  return check;
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
  if (!result.response.complete) {
    ctx.Note("the client got " + std::to_string(result.response.body_bytes) + " bytes, " +
             BackendSide(ctx.backend().stats()) + "; ");
  }
  return result;
}

// In the mock's default framing, Content-Length, as a NIM sends it: a server
// that buffers fails here for buffering, not on a chunked framing it mangles
// (direct.response-framing judges that).
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
// allows it (chunked, as api.openai.com sends it), then from one that sends it
// plain with Content-Length (as a NIM): each time the label the client gets
// must match its bytes.
void ContentCoding(CaseContext& ctx) {
  for (auto compress : {mocks::Compression::kGzip, mocks::Compression::kNone}) {
    auto config = ctx.backend().config();
    config.size_mb = 1;
    config.compress = compress;
    // "length" also keeps a spec's gzip default off the plain body (OverDefaults).
    config.framing = compress == mocks::Compression::kGzip ? mocks::BodyFraming::kChunked
                                                           : mocks::BodyFraming::kLength;
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
  if (stats.last_stream_sha256.empty()) {
    // The backend's stream never ended whole: the server cut it, or it hangs.
    ctx.Fail("expected the backend's SSE bytes relayed whole; the client got " +
             std::to_string(response.body_bytes) + " bytes (" +
             (response.complete ? "a clean end" : "cut: " + response.error) + "), and " +
             BackendSide(stats));
  } else if (response.sha256 != stats.last_stream_sha256) {
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

// Both framings asked for explicitly: the mock's default is Content-Length,
// so only here does a server that copies an upstream's `Transfer-Encoding:
// chunked` onto a body it read whole (DRUM's Flask /directAccess/) meet the
// chunked upstream that shows it.
void ResponseFraming(CaseContext& ctx) {
  for (bool with_length : {false, true}) {
    auto config = ctx.backend().config();
    config.framing = with_length ? mocks::BodyFraming::kLength : mocks::BodyFraming::kChunked;
    ctx.backend().SetConfig(config);
    auto r = Get(
        ctx, ctx.DirectPath("large-file?size_mb=1"),
        std::string("1 MiB; the backend sends ") + (with_length ? "Content-Length" : "chunked"));
    auto check = harness::CheckResponseFraming(r);
    if (check.ok) check = harness::CheckByteCount(r, mocks::kMiB);
    if (!check.ok) {
      check.message =
          std::string(with_length ? "Content-Length" : "chunked") + " backend: " + check.message;
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
  // answers nothing would pass. It comes in the mock's default framing
  // (Content-Length): a chunked upstream's framing is direct.response-framing's
  // to judge, not this precondition's.
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
    bool with_length;
    bool reset;
  };
  for (const Variant& v : {Variant{"chunked backend closes", false, false},
                           Variant{"Content-Length backend closes", true, false},
                           Variant{"chunked backend resets (RST)", false, true}}) {
    auto config = ctx.backend().config();
    config.size_mb = 4;
    config.framing = v.with_length ? mocks::BodyFraming::kLength : mocks::BodyFraming::kChunked;
    (v.reset ? config.reset_after_bytes : config.truncate_after_bytes) =
        static_cast<long long>(mocks::kMiB);
    ctx.backend().SetConfig(config);
    ctx.backend().ResetStats();
    auto r =
        Get(ctx, ctx.DirectPath("large-file"), std::string("4 MiB; after 1 MiB the ") + v.name);
    auto check = CheckFaultFired(ctx, "a cut after 1 MiB");
    if (check.ok) check = harness::CheckTruncationVisible(r);
    if (!check.ok) check.message += "; " + BackendSide(ctx.backend().stats());
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
  if (r.status >= 500 && r.body.empty()) ctx.Note("no error body (RFC 9110 §15.6: SHOULD); ");
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

// The request targets of the request heads the mock received, oldest first.
std::vector<std::string> TargetsAtBackend(const mocks::MockStats& stats) {
  std::vector<std::string> targets;
  for (const std::string& head : stats.request_heads) {
    auto first = head.find(' ');
    auto second = head.find(' ', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    targets.push_back(head.substr(first + 1, second - first - 1));
  }
  return targets;
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
    // Every request this probe caused, however many the server made.
    for (const std::string& at_backend : TargetsAtBackend(seen)) {
      if (!EscapesTheBackend(at_backend)) continue;
      ctx.Fail("expected " + target +
               " normalised within the backend or refused with 4xx; the "
               "backend got the target " +
               Excerpt(at_backend) + " (answered " + std::to_string(r.status) + ")");
      break;
    }
  }
}

// The client holds its upload here until the backend has body bytes: a proxy
// that streams passes them on at once, one that stores and forwards has none
// to pass until the client finishes, so the hold ends by its timeout.
constexpr std::uint64_t kUploadHoldAt = 8 * mocks::kMiB;
constexpr auto kUploadHoldTimeout = std::chrono::milliseconds(kGateTimeoutMs);

void LargeUpload(CaseContext& ctx) {
  std::uint64_t size = SizeBytes(ctx);
  std::uint64_t seed = 7;
  const std::uint64_t hold_at = std::min(kUploadHoldAt, size / 2);
  struct Hold {
    bool done = false;
    bool streamed = false;  // the backend had bytes while the client held
  } hold;
  harness::HttpRequest request;
  request.method = "PUT";
  request.url = ctx.Url(ctx.DirectPath("echo"));
  request.upload_size = size;
  request.upload_fill = [&, seed](std::uint64_t offset, char* out, std::size_t n) {
    if (!hold.done && offset >= hold_at) {  // called within Perform, on this thread
      hold.done = true;
      hold.streamed = ctx.backend().WaitUploadStarted(kUploadHoldTimeout);
    }
    mocks::FillBytes(seed, offset, out, n);
  };
  request.total_timeout = std::chrono::seconds(300);
  MemoryWatch memory(ctx);
  auto r = ctx.Perform(request, std::to_string(size) + "-byte body generated on the fly, held " +
                                    std::to_string(kGateTimeoutMs / 1000) + " s at most after " +
                                    std::to_string(hold_at) + " bytes until the backend has some");
  ctx.Expect(harness::CheckEcho(r, "PUT", size, ExpectedSha(seed, size)));
  if (!hold.done) {
    ctx.Fail("expected the client to send " + std::to_string(hold_at) +
             " bytes and hold; the upload stopped before (" + r.error + ")");
  } else if (!hold.streamed) {
    ctx.Fail(
        "expected the backend to receive the body while the client was still sending; "
        "the client held its upload after " +
        std::to_string(hold_at) + " of " + std::to_string(size) + " bytes for " +
        std::to_string(kGateTimeoutMs / 1000) +
        " s and the backend had received none: the server stores the whole body (in "
        "memory or on disk) before it sends any on");
  }
  if (auto summary = memory.Finish(ctx)) {
    ctx.Expect(harness::CheckMemoryGrowth(*summary, ctx.options().memory_limit_mib));
  } else {
    ctx.Note("memory not measured: " + memory.why_not() + "; ");
  }
}

// How far over the spec's max_upload_bytes the upload-limit bodies go: a
// little, so a server that reads up to its limit and refuses has little left
// to drain.
constexpr std::uint64_t kOverLimit = 64 * 1024;

void UploadLimit(CaseContext& ctx) {
  const std::uint64_t limit = ctx.spec().max_upload_bytes;
  if (limit == 0) {
    return ctx.Skip("the spec declares no max_upload_bytes: the server's upload limit is unknown");
  }
  // First: an upload under the limit goes through, so a 413 below is about size.
  const std::string small(1024, 'u');
  auto echo = Echo(ctx, "PUT", small);
  if (auto check = harness::CheckEcho(echo, "PUT", small.size(), Sha256::Of(small)); !check.ok) {
    return ctx.Fail(
        "expected a 1 KiB upload (under max_upload_bytes) to reach the backend "
        "first: " +
        check.message);
  }
  const std::uint64_t size = limit + kOverLimit;
  for (bool chunked : {false, true}) {
    const std::string how = chunked ? "chunked" : "with Content-Length";
    ctx.backend().ResetStats();
    harness::HttpRequest request;
    request.method = "PUT";
    request.url = ctx.Url(ctx.DirectPath("echo"));
    request.upload_size = size;
    request.upload_chunked = chunked;
    request.upload_fill = [](std::uint64_t offset, char* out, std::size_t n) {
      mocks::FillBytes(11, offset, out, n);
    };
    request.keep_body_bytes = 4096;
    request.total_timeout = std::chrono::seconds(120);
    auto r = ctx.Perform(request, std::to_string(size) + "-byte body " + how);
    auto seen = ctx.backend().stats().last_request;
    if (seen.is_object() && seen.contains("body_length") &&
        seen["body_length"].is_number_unsigned() &&
        seen["body_length"].get<std::uint64_t>() >= size) {
      ctx.Fail("expected the backend never to get the whole " + std::to_string(size) +
               "-byte body sent " + how + " (max_upload_bytes " + std::to_string(limit) +
               "); it got all of it");
    }
    if (r.status != 413) {
      ctx.Fail("expected 413 for a " + std::to_string(size) + "-byte body sent " + how +
               " (max_upload_bytes " + std::to_string(limit) + "), got " +
               (r.status ? std::to_string(r.status) : "no response: " + r.error));
    }
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
  // What waits unread at the client is then this, not what autotuning allows
  // (up to net.ipv4.tcp_rmem's maximum, 32 MiB on some machines).
  request.recv_buffer_bytes = 256 * 1024;
  request.total_timeout = std::chrono::seconds(120);
  MemoryWatch memory(ctx);
  auto r = ctx.Perform(request, "96 MiB read at 8 MiB/s");
  auto summary = memory.Finish(ctx);
  // Precondition: the whole body came (a short one says nothing of the lead).
  auto whole =
      WithBackendSide(harness::CheckByteCount(r, std::uint64_t(kSizeMb) * mocks::kMiB), ctx);
  if (!whole.ok) return ctx.Expect(whole);
  std::vector<harness::ArrivalPoint> sent;
  for (const auto& p : ctx.backend().stats().last_byte_stream_timeline) {
    sent.push_back({p.t_ms, p.bytes, 0});
  }
  auto lead = harness::MaxBackendLead(sent, r);
  ctx.Metric("backend_lead_mib", lead.max_mib);
  char text[120];
  std::snprintf(text, sizeof text,
                "the backend at most %.1f MiB ahead (at %.2f s: sent %.1f, read %.1f MiB); ",
                lead.max_mib, lead.at_ms / 1000, double(lead.sent) / mocks::kMiB,
                double(lead.read) / mocks::kMiB);
  ctx.Note(text);
  // How far the backend may run ahead of a client that reads slowly: the
  // socket buffers on the way and a proxy's own few pieces.
  ctx.Expect(harness::CheckBackendLead(
      sent, r, harness::BackendLeadAllowanceMib(request.recv_buffer_bytes)));
  if (summary) {
    ctx.Expect(harness::CheckMemoryGrowth(*summary, ctx.options().memory_limit_mib));
  } else {
    ctx.Note("memory not measured: " + memory.why_not() + "; ");
  }
}

// RFC 9110 §7.6.1: the fields a Connection header names (MUST), and those it
// lists as known to need removal (SHOULD), less Transfer-Encoding, which is
// framing and checked by the framing cases. RFC 2616's Trailer and Proxy-*
// authentication fields are no longer on that list; they are sent and noted.
const std::vector<std::string> kHopByHop = {"X-Hop-Secret", "Keep-Alive", "TE", "Upgrade",
                                            "Proxy-Connection"};
constexpr char kHopOption[] = "X-Hop-Secret";  // the option Connection names

// Says which of `names` `find` still has, for the record (not judged).
void NoteForwarded(CaseContext& ctx, const std::string& where,
                   const std::vector<std::string>& names,
                   const std::function<bool(const std::string&)>& has) {
  std::string forwarded, dropped;
  for (const auto& name : names) (has(name) ? forwarded : dropped) += " " + name;
  ctx.Note("RFC 2616 hop-by-hop, not in RFC 9110 §7.6.1 (not judged), to " + where + ": forwarded" +
           (forwarded.empty() ? " none" : forwarded) + ", dropped" +
           (dropped.empty() ? " none" : dropped) + "; ");
}

void RequestHeaders(CaseContext& ctx) {
  harness::Headers sent = {{"Authorization", "Bearer streamcheck-token"},
                           {"X-Custom-Trace", "abc-123"},
                           {"Connection", "keep-alive, X-Hop-Secret"},
                           {"X-Hop-Secret", "must-not-pass"},
                           {"Keep-Alive", "timeout=5"},
                           {"TE", "trailers, deflate"},
                           {"Upgrade", "h2c"},
                           {"Proxy-Connection", "keep-alive"},
                           {"Trailer", "X-Checksum"},
                           {"Proxy-Authorization", "Basic c2VjcmV0"},
                           {"Content-Type", "application/json"}};
  auto echo = Echo(ctx, "POST", R"({"x":1})", "echo", sent);
  ctx.Expect(harness::CheckEchoHeaders(echo,
                                       {{"Authorization", "Bearer streamcheck-token"},
                                        {"X-Custom-Trace", "abc-123"},
                                        {"Content-Type", "application/json"}},
                                       kHopByHop, kHopOption));
  auto seen = ParseJsonOrNull(echo.body);
  if (seen.is_object() && seen.contains("headers") && seen["headers"].is_object()) {
    NoteForwarded(ctx, "the backend", {"Trailer", "Proxy-Authorization"},
                  [&](const std::string& name) {
                    for (const auto& [n, v] : seen["headers"].items()) {
                      if (ToLower(n) == ToLower(name)) return true;
                    }
                    return false;
                  });
  }
}

void ResponseHeaders(CaseContext& ctx) {
  // The backend's response, as /response-headers sends it: Connection names
  // X-Hop-Secret and Upgrade (RFC 9110 §7.8: a server sending Upgrade lists it
  // in Connection); X-End-To-End must come through.
  const std::string query =
      "response-headers?Connection=upgrade,%20X-Hop-Secret&X-Hop-Secret=must-not-pass"
      "&Keep-Alive=timeout%3D5&Upgrade=h2c&Proxy-Connection=keep-alive"
      "&Proxy-Authenticate=Basic%20realm%3Dbackend&X-End-To-End=kept";
  auto r = Get(ctx, ctx.DirectPath(query), "the backend answers with hop-by-hop headers");
  // Precondition: this is the backend's answer to this request.
  auto body = ParseJsonOrNull(r.body);
  if (r.status != 200 || !body.is_object() || !body.contains("headers")) {
    return ctx.Fail("expected the backend's 200 from /response-headers to judge its headers; got " +
                    (r.status ? std::to_string(r.status) + " \"" + Excerpt(r.body) + "\""
                              : "nothing: " + r.error));
  }
  ctx.Expect(harness::CheckResponseHeaders(r, {{"X-End-To-End", "kept"}}, kHopByHop, kHopOption));
  NoteForwarded(ctx, "the client", {"Proxy-Authenticate"},
                [&](const std::string& name) { return r.Header(name).has_value(); });
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
            "a client reading at 8 MiB/s from a fast backend: the backend runs no further ahead "
            "of it than the socket buffers on the way allow, and memory growth stays within "
            "64 MiB",
            "96 MiB body read at 8 MiB/s (libcurl's receive limit) from a mock that can send it in "
            "well under a second. The mock's send timeline (bytes handed to its socket over time) "
            "is laid over the client's read timeline, each backend point at the latest moment it "
            "can have been (the client's first byte + its time), so the lead is never "
            "overstated: at most this machine's socket buffers on the way (2 × tcp_wmem max + "
            "tcp_rmem max + twice the client's 256 KiB) plus 4 MiB of a proxy's own pieces, "
            "16 MiB at least, whether the "
            "server holds the rest in memory or on disk. The whole body must arrive first. Where "
            "the server's memory can be measured, PSS growth ≤ 64 MiB too (even one copy of the "
            "body exceeds it).",
            "RFC 9110 §7.6; a proxy reads its upstream only as fast as its client drains (nginx "
            "`proxy_buffering`, HAProxy and Caddy stream by default)",
            "direct-backpressure", BackendUse::kCalls,
            "all 96 MiB were read (then the send timeline is judged; memory where it can be seen)"},
           Backpressure),
      Case({"direct.content-coding", Level::kMust,
            "the Content-Encoding the client gets agrees with the bytes it gets",
            "1 MiB GET through the proxy twice, the client sending the spec's Accept-Encoding "
            "(python-requests' `gzip, deflate` by default): once from a backend that gzips, "
            "chunked, as api.openai.com does, once from a plain one with Content-Length, as a "
            "NIM; each body, decoded by its label, has the backend's SHA-256. A gzip body "
            "labelled identity, or a plain one labelled gzip, fails.",
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
            "Authorization, X-Custom-Trace and Content-Type must arrive; the fields that "
            "`Connection: keep-alive, X-Hop-Secret` names (X-Hop-Secret) and those RFC 9110 lists "
            "(Keep-Alive, TE, Upgrade, Proxy-Connection) must not, nor a Connection that still "
            "names X-Hop-Secret. Trailer and Proxy-Authorization (hop-by-hop in RFC 2616, not in "
            "RFC 9110) are sent and whether they arrived is noted, not judged.",
            "RFC 9110 §7.6.1 (a MUST for the fields Connection names, a SHOULD for the listed "
            "ones)",
            "direct-request-headers", BackendUse::kCalls,
            "the backend's echo of the request (none fails)"},
           RequestHeaders),
      Case({"direct.response-headers", Level::kShould,
            "end-to-end response headers come back, the backend's hop-by-hop ones do not",
            "the backend answers `/response-headers` with `Connection: upgrade, X-Hop-Secret`, "
            "X-Hop-Secret, Keep-Alive, Upgrade, Proxy-Connection, Proxy-Authenticate and "
            "X-End-To-End. The client must get the backend's 200 and X-End-To-End (else nothing "
            "is judged), and none of X-Hop-Secret, Keep-Alive, Upgrade, Proxy-Connection, nor a "
            "Connection naming X-Hop-Secret; whether Proxy-Authenticate came is noted.",
            "RFC 9110 §7.6.1 (both directions: a MUST for the fields Connection names, a SHOULD "
            "for the listed ones)",
            "direct-response-headers", BackendUse::kCalls},
           ResponseHeaders),
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
            "with the backend unreachable, a 5xx (502 SHOULD) within 5 s",
            "the mock stops listening (connections refused): a 5xx within 5 s; 502 is noted when "
            "it is not the status, and so is an empty body (an explanation is a SHOULD of RFC "
            "9110 §15.6: Caddy's default 502 has none).",
            "RFC 9110 §15.6 and §15.6.3 (502 Bad Gateway)", "direct-backend-down",
            BackendUse::kUses, "a response within the bound (none fails)"},
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
            "a size_mb PUT body reaches the backend intact, streamed (the backend gets bytes "
            "while the client still sends), with memory growth within 64 MiB",
            "`PUT /directAccess/echo` with a `--size-mb` body generated on the fly: the backend's "
            "length and SHA-256 match. After 8 MiB (half the body if smaller) the client holds "
            "its upload until the mock counts body bytes arriving, 5 s at most: a server that "
            "streams passes them on at once, one that stores and forwards (in memory or a temp "
            "file) has none until the client finishes, so the hold times out and the case fails. "
            "PSS growth ≤ 64 MiB where measured.",
            "RFC 9110 §7.6. SHOULD: no rule requires a streamed request body and a client gets "
            "the same answer either way, later; what it costs is the proxy's memory or disk and "
            "the backend's time (nginx `proxy_request_buffering off`, HAProxy, Caddy and Apache "
            "with a Content-Length stream)",
            "direct-large-upload", BackendUse::kCalls,
            "the backend's echo of the whole body (none fails)"},
           LargeUpload),
      Case({"direct.upload-limit", Level::kMust,
            "above the spec's max_upload_bytes an upload gets 413 and never reaches the backend "
            "whole",
            "where the spec declares `max_upload_bytes` N: a 1 KiB PUT first reaches the "
            "backend; then `PUT /directAccess/echo` of N + 64 KiB, once with Content-Length and "
            "once chunked: each gets 413, and the backend's /echo never reports the whole body. "
            "Skipped when the spec declares none.",
            "RFC 9110 §15.5.14 (413 Content Too Large); DRUM's migration plan "
            "(`fastapi_migration_plan/`: 413 above 100 MiB); a limit read off Content-Length "
            "alone lets a chunked body through",
            "direct-upload-limit", BackendUse::kCalls},
           UploadLimit),
  };
}

}  // namespace streamcheck::suites
