#include "mocks/mock_backend.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <regex>
#include <set>

#include "common/json_bounded.h"
#include "common/sha256.h"
#include "common/text.h"
#include "mocks/chat_stream.h"
#include "mocks/content.h"
#include "mocks/http_server.h"

namespace streamcheck::mocks {
namespace {

using detail::Clock;
using detail::Framing;
using detail::Request;
using detail::Response;
using detail::ResponseHead;
using detail::Step;
using nlohmann::json;

constexpr std::size_t kChatJsonDepth = 128;  // tool schemas nest
constexpr std::size_t kControlJsonDepth = 8;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

double MsSince(Clock::time_point start, Clock::time_point now = Clock::now()) {
  return std::chrono::duration<double, std::milli>(now - start).count();
}

Clock::duration Ms(long long ms) { return std::chrono::milliseconds(ms); }

std::string ErrorBody(int status, const std::string& message) {
  return Dump({{"error", {{"message", ValidUtf8(message)}, {"code", status}}}});
}

ResponseHead JsonHead(int status, std::string body) {
  ResponseHead head;
  head.status = status;
  head.headers = {{"Content-Type", "application/json"}};
  head.body = std::move(body);
  return head;
}

// A whole response at once.
class FixedResponse : public Response {
 public:
  explicit FixedResponse(ResponseHead head) : head_(std::move(head)) {}
  Step Next(Clock::time_point) override { return Step::Head(std::move(head_)); }

 private:
  ResponseHead head_;
};

std::unique_ptr<Response> Fixed(ResponseHead head) {
  return std::make_unique<FixedResponse>(std::move(head));
}
std::unique_ptr<Response> JsonResponse(int status, const json& body) {
  return Fixed(JsonHead(status, Dump(body)));
}
std::unique_ptr<Response> ErrorResponse(int status, const std::string& message) {
  return Fixed(JsonHead(status, ErrorBody(status, message)));
}

// headers_delay_ms: nothing at all until `until`, then `inner`.
class DelayedResponse : public Response {
 public:
  DelayedResponse(Clock::time_point until, std::unique_ptr<Response> inner)
      : until_(until), inner_(std::move(inner)) {}
  Step Next(Clock::time_point now) override {
    if (now < until_) return Step::Wait(until_);
    return inner_->Next(now);
  }
  void Written(std::uint64_t n) override { inner_->Written(n); }
  void ClientGone() override { inner_->ClientGone(); }
  void Cut() override { inner_->Cut(); }
  unsigned WakeOn() const override { return inner_->WakeOn(); }

 private:
  Clock::time_point until_;
  std::unique_ptr<Response> inner_;
};

std::unique_ptr<Response> Delayed(int delay_ms, std::unique_ptr<Response> inner) {
  if (delay_ms <= 0) return inner;
  return std::make_unique<DelayedResponse>(Clock::now() + Ms(delay_ms), std::move(inner));
}

// A pause of a stream (token delay, stall) that ends at a fixed time.
struct Pause {
  bool started = false;
  Clock::time_point until;
  // A Wait step while the pause lasts; nullopt once it is over (and re-armed).
  std::optional<Step> Hold(Clock::time_point now, int ms) {
    if (ms <= 0) return std::nullopt;
    if (!started) started = true, until = now + Ms(ms);
    if (now < until) return Step::Wait(until);
    started = false;
    return std::nullopt;
  }
};

bool IsControlPath(const std::string& path) {
  return path == "/_mock" || path.rfind("/_mock/", 0) == 0;
}

bool IsEchoPath(const std::string& path) { return path == "/echo" || path.rfind("/echo/", 0) == 0; }

// A strict non-negative decimal integer, or nullopt.
std::optional<long long> ParseCount(const std::string& text) {
  if (text.empty() || text.size() > 12 ||
      text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(text);
}

std::optional<std::string> QueryValue(const Request& r, const std::string& key) {
  for (const auto& [k, v] : r.query) {
    if (k == key) return v;
  }
  return std::nullopt;
}

}  // namespace

class MockBackend::Impl : public detail::Handler {
 public:
  explicit Impl(MockConfig config) : config_(config) {}
  ~Impl() override { Stop(); }

  Status Bind(const std::string& host, int port, int threads) {
    host_ = host;
    server_ = std::make_unique<detail::HttpServer>(*this, threads);
    if (auto s = server_->Listen(host, port); !s) return s;
    port_ = server_->port();
    return Status::Ok();
  }

  int port() const { return port_; }
  const std::string& host() const { return host_; }
  std::string url() const { return "http://" + host_ + ":" + std::to_string(port_); }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (server_) server_->Stop();
  }

  MockControl& control();

  // --- MockControl, in-process -------------------------------------------

  Status SetConfig(const MockConfig& config) {
    if (auto s = ValidateConfig(config); !s) return s;
    {
      std::lock_guard lock(mutex_);
      config_ = config;
      RearmGateLocked();
    }
    WakeAll();
    return Status::Ok();
  }

  MockConfig config() const {
    std::lock_guard lock(mutex_);
    return config_;
  }

  Status Reset() {
    {
      std::lock_guard lock(mutex_);
      config_ = MockConfig{};
      RearmGateLocked();
      FreshStatsLocked();
      stats_.gate_reached = false;
      stats_.gate_opened_by.clear();
    }
    WakeAll();
    return Resume();
  }

  void OpenGate(const char* by) {
    {
      std::lock_guard lock(mutex_);
      OpenGateLocked(by);
    }
    WakeAll();
  }

  // Waits until `condition` (evaluated under mutex_) holds; false on timeout or Stop().
  bool WaitFor(std::chrono::milliseconds timeout, const std::function<bool()>& condition) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return stopping_ || condition(); }) && !stopping_;
  }
  bool WaitGateReached(std::chrono::milliseconds timeout) {
    return WaitFor(timeout, [this] { return stats_.gate_reached; });
  }
  bool WaitCancelled(std::chrono::milliseconds timeout) {
    return WaitFor(timeout, [this] { return stats_.transfers_cancelled > 0; });
  }
  bool WaitUploadStarted(std::chrono::milliseconds timeout) {
    return WaitFor(timeout, [this] { return stats_.request_body_bytes > 0; });
  }

  MockStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  void ResetStats() {
    std::lock_guard lock(mutex_);
    bool reached = stats_.gate_reached;
    std::string opened_by = stats_.gate_opened_by;
    FreshStatsLocked();
    stats_.gate_reached = reached;
    stats_.gate_opened_by = opened_by;
  }

  // In-process: connections refused.
  Status SuspendListener() {
    if (auto s = server_->CloseListener(); !s) return s;
    {
      std::lock_guard lock(mutex_);
      listener_closed_ = true;
    }
    server_->CutConnections(/*reset=*/false, /*keep_control=*/false);
    return Status::Ok();
  }

  // Over HTTP: the control API stays, the rest is reset.
  void SuspendHttp() {
    {
      std::lock_guard lock(mutex_);
      suspended_http_ = true;
    }
    server_->CutConnections(/*reset=*/true, /*keep_control=*/true);
  }

  Status Resume() {
    bool reopen = false;
    {
      std::lock_guard lock(mutex_);
      suspended_http_ = false;
      reopen = listener_closed_;
    }
    if (!reopen) return Status::Ok();
    if (auto s = server_->Reopen(); !s) return s;
    std::lock_guard lock(mutex_);
    listener_closed_ = false;
    return Status::Ok();
  }

  // --- detail::Handler ------------------------------------------------------

  detail::Admission Admit(const Request& r) override {
    bool control = IsControlPath(r.path);
    std::lock_guard lock(mutex_);
    if (!control && suspended_http_) {
      stats_.suspended_resets++;
      return detail::Admission::kReset;
    }
    if (control) return detail::Admission::kServeControl;
    CountRequestLocked(r.raw_head, r.Header("X-Streamcheck-Case").value_or(""));
    return detail::Admission::kServe;
  }

  detail::BodyMode BodyModeFor(const Request& r) override {
    return IsEchoPath(r.path) ? detail::BodyMode::kHash : detail::BodyMode::kKeep;
  }

  void BodyBytes(std::uint64_t n) override {
    bool first = false;
    {
      std::lock_guard lock(mutex_);
      first = stats_.request_body_bytes == 0;
      stats_.request_body_bytes += n;
    }
    if (first) WakeEvents();  // waits look only for the first bytes
  }

  std::unique_ptr<Response> Refuse(int status, const std::string& message,
                                   const std::string& unadmitted_head) override {
    if (!unadmitted_head.empty()) {
      std::lock_guard lock(mutex_);
      CountRequestLocked(unadmitted_head, "");
    }
    return ErrorResponse(status, message);
  }

  std::unique_ptr<Response> Handle(Request& r) override {
    if (IsControlPath(r.path)) return Control(r);
    RecordLastRequest(r);
    const std::string& m = r.method;
    const std::string& p = r.path;
    if (p == "/v1/health/ready" && (m == "GET" || m == "HEAD")) {
      return Encoded(
          r,
          JsonHead(200, Dump({{"object", "health.response"}, {"message", "Service is ready."}})));
    }
    if (p == "/v1/models" && (m == "GET" || m == "HEAD")) {
      return Encoded(r, JsonHead(200, Dump({{"object", "list"},
                                            {"data",
                                             {{{"id", "mock-model"},
                                               {"object", "model"},
                                               {"owned_by", "streamcheck"}}}}})));
    }
    if (p == "/v1/chat/completions" && m == "POST") return Chat(r);
    if (p == "/large-file" && (m == "GET" || m == "HEAD")) return LargeFile(r);
    if (IsEchoPath(p)) return Echo(r);
    if (p == "/response-headers") return ResponseHeaders(r);
    if (p.rfind("/status/", 0) == 0 && p.size() == 11 &&
        p.find_first_not_of("0123456789", 8) == std::string::npos) {
      int code = std::stoi(p.substr(8));
      if (code < 200 || code > 599) code = 400;
      return Encoded(r, ErrorResponseHead(code, "mock status " + std::to_string(code)));
    }
    return Encoded(r, ErrorResponseHead(404, "mock backend: no route for " + m + " " + p));
  }

 private:
  class ChatResponse;
  class ByteResponse;
  class WaitResponse;
  class InProcessControl;

  // Bookkeeping of one streamed response.
  struct Transfer {
    std::string path;
    std::uint64_t epoch = 0;      // of the statistics it counts in
    std::unique_ptr<Sha256> sha;  // chat streams: their exact bytes
    Clock::time_point start = Clock::now();
    std::uint64_t sent = 0;
    std::uint64_t written = 0;
    bool byte_stream = false;
    enum class End { kNone, kCompleted, kCancelled, kCut } end = End::kNone;
    std::vector<SendPoint> timeline;
    SendPoint latest;
    std::uint64_t writes = 0;
    std::uint64_t timeline_stride = 1;
  };

  // The gate as one stream sees it.
  struct GatePass {
    bool entered = false;
    bool passed = false;
    std::uint64_t generation = 0;
    Clock::time_point deadline;
  };

  // --- state under mutex_ ---

  void RearmGateLocked() {
    gate_open_ = false;
    ++gate_generation_;
    stats_.gate_reached = false;
    stats_.gate_opened_by.clear();
  }

  void OpenGateLocked(const char* by) {
    if (!gate_open_) {
      gate_open_ = true;
      stats_.gate_opened_by = by;
    }
  }

  void FreshStatsLocked() {
    stats_ = MockStats{};
    ++stats_epoch_;
  }

  void CountRequestLocked(const std::string& raw_head, const std::string& case_id) {
    stats_.requests++;
    std::string id = ValidUtf8(case_id);
    if (!stats_.requests_by_case.count(id) && stats_.requests_by_case.size() >= kMaxCaseIds) {
      id = kOtherCases;
    }
    stats_.requests_by_case[id]++;
    auto& heads = stats_.request_heads;
    heads.push_back(raw_head.substr(0, kMaxHeadBytes));
    if (heads.size() > kMaxRecordedHeads) heads.erase(heads.begin());
  }

  // What the echo route answers and last_request holds.
  static json Summary(const Request& r) {
    json query = json::object();
    for (const auto& [key, value] : r.query) query[ValidUtf8(key)].push_back(ValidUtf8(value));
    json headers = json::object();
    for (const auto& [name, value] : r.headers) {
      headers[ValidUtf8(name)].push_back(ValidUtf8(value));
    }
    // Hashed as it arrived, unless there was no body to read.
    bool hashed = !r.body_sha256.empty();
    return {{"method", ValidUtf8(r.method)},
            {"path", ValidUtf8(r.path)},
            {"target", ValidUtf8(r.target)},
            {"query", query},
            {"headers", headers},
            {"body_length", r.body_length},
            {"body_sha256", hashed ? r.body_sha256 : Sha256::Of(r.body)}};
  }

  void RecordLastRequest(const Request& r) {
    json summary = Summary(r);
    std::lock_guard lock(mutex_);
    stats_.last_request = std::move(summary);
  }

  // Wakes every wait that a change of gate or config may end.
  void WakeAll() {
    cv_.notify_all();
    if (server_) server_->Wake(detail::kWakeGate | detail::kWakeEvents);
  }
  void WakeEvents() {
    cv_.notify_all();
    if (server_) server_->Wake(detail::kWakeEvents);
  }

  // A Wait step while `pass` is held at the gate; nullopt once it may go on.
  std::optional<Step> HoldAtGate(GatePass& pass, Clock::time_point now, int timeout_ms) {
    if (pass.passed) return std::nullopt;
    bool reached_now = false;
    {
      std::lock_guard lock(mutex_);
      if (!pass.entered) {
        pass.entered = true;
        pass.deadline = now + Ms(timeout_ms);
        if (pass.generation == gate_generation_ && !stats_.gate_reached) {
          stats_.gate_reached = true;
          reached_now = true;
        }
      }
      // A config set since this stream began let go of its gate.
      if (pass.generation != gate_generation_ || gate_open_) {
        pass.passed = true;
      } else if (now >= pass.deadline) {
        OpenGateLocked("timeout");
        pass.passed = true;
      }
    }
    if (reached_now) WakeEvents();
    if (pass.passed) {
      return std::nullopt;
    }
    return Step::Wait(pass.deadline);
  }

  GatePass NewGatePass() {
    std::lock_guard lock(mutex_);
    GatePass pass;
    pass.generation = gate_generation_;
    return pass;
  }

  std::shared_ptr<Transfer> BeginTransfer(const std::string& path) {
    auto t = std::make_shared<Transfer>();
    t->path = path;
    std::lock_guard lock(mutex_);
    t->epoch = stats_epoch_;
    stats_.transfers_started++;
    return t;
  }

  // Counts first, then the caller writes: once the client holds the bytes,
  // the counters already say so (a harness reads them right after a response).
  void CountSent(Transfer& t, const std::string& data) {
    t.sent += data.size();
    if (t.sha) t.sha->Update(data);
    std::lock_guard lock(mutex_);
    if (t.epoch == stats_epoch_) stats_.body_bytes_sent += data.size();
  }

  // The whole body is handed over: called before its last bytes or its end
  // marker go out, for the same reason. Undone if that last write fails.
  void RecordComplete(Transfer& t) {
    std::lock_guard lock(mutex_);
    if (t.end != Transfer::End::kNone) return;
    t.end = Transfer::End::kCompleted;
    if (t.epoch != stats_epoch_) return;
    stats_.transfers_completed++;
    if (t.sha) {
      stats_.last_stream_sha256 = t.sha->HexDigest();
      stats_.last_stream_bytes = t.sent;
    }
    PublishTimelineLocked(t);
  }

  void RecordCancel(Transfer& t) {
    {
      std::lock_guard lock(mutex_);
      if (t.end == Transfer::End::kCancelled || t.end == Transfer::End::kCut) return;
      bool was_completed = t.end == Transfer::End::kCompleted;
      t.end = Transfer::End::kCancelled;
      if (t.epoch != stats_epoch_) return;
      if (was_completed) stats_.transfers_completed--;  // its last write failed after all
      stats_.transfers_cancelled++;
      stats_.last_cancellation = Cancellation{t.path, MsSince(t.start), t.sent};
      PublishTimelineLocked(t);
    }
    WakeEvents();
  }

  // Ended on purpose: a configured fault, or Stop/Suspend.
  void RecordCut(Transfer& t) {
    std::lock_guard lock(mutex_);
    if (t.end != Transfer::End::kNone) return;
    t.end = Transfer::End::kCut;
    if (t.epoch != stats_epoch_) return;
    stats_.transfers_cut++;
    PublishTimelineLocked(t);
  }

  // The send timeline: a point every `timeline_stride` writes; when
  // kMaxTimelinePoints are kept, every other one goes and the stride doubles.
  // The latest write is kept aside, so the published timeline ends exactly.
  void RecordWritten(Transfer& t, std::uint64_t n) {
    t.written += n;
    if (!t.byte_stream) return;
    t.latest = {MsSince(t.start), t.written};
    // A Content-Length body is complete before its last bytes go out (there
    // is no end marker to wait for): its timeline, published then, is
    // published again once they are written, so it ends exactly. t.end is
    // only changed on this response's strand.
    if (t.end == Transfer::End::kCompleted && t.written == t.sent) {
      std::lock_guard lock(mutex_);
      if (t.epoch == stats_epoch_) PublishTimelineLocked(t);
    }
    if (++t.writes % t.timeline_stride != 0) return;
    auto& points = t.timeline;
    if (points.size() >= kMaxTimelinePoints) {
      std::vector<SendPoint> thinned;
      for (std::size_t i = 0; i < points.size(); i += 2) thinned.push_back(points[i]);
      points = std::move(thinned);
      t.timeline_stride *= 2;
    }
    points.push_back(t.latest);
  }

  void PublishTimelineLocked(const Transfer& t) {
    if (!t.byte_stream) return;
    auto timeline = t.timeline;
    if (t.latest.bytes > 0 && (timeline.empty() || !(timeline.back() == t.latest))) {
      if (timeline.size() >= kMaxTimelinePoints) timeline.pop_back();
      timeline.push_back(t.latest);
    }
    stats_.last_byte_stream_timeline = std::move(timeline);
  }

  // --- routes ---

  ResponseHead ErrorResponseHead(int status, const std::string& message) {
    return JsonHead(status, ErrorBody(status, message));
  }

  // Whether this response's body is gzipped (and whether to say Vary).
  void Encode(const Request& r, const MockConfig& c, ResponseHead& head) {
    if (c.compress != Compression::kGzip) return;
    head.vary = true;
    head.gzip = wire::AcceptsGzip(r.Header("Accept-Encoding"));
    if (head.gzip) {
      std::lock_guard lock(mutex_);
      stats_.responses_gzipped++;
    }
  }

  std::unique_ptr<Response> Encoded(const Request& r, ResponseHead head) {
    Encode(r, config(), head);
    return Fixed(std::move(head));
  }

  std::unique_ptr<Response> Echo(const Request& r) {
    MockConfig c = config();
    ResponseHead head = JsonHead(200, Dump(Summary(r)));
    Encode(r, c, head);
    return Delayed(c.headers_delay_ms, Fixed(std::move(head)));
  }

  // Each query pair NAME=VALUE a response header, hop-by-hop ones included
  // (for proxies' response side); the body lists them. The framing is the
  // server's: Content-Length and Transfer-Encoding are refused.
  std::unique_ptr<Response> ResponseHeaders(const Request& r) {
    ResponseHead head = JsonHead(200, "");
    json sent = json::object();
    for (const auto& [name, value] : r.query) {
      std::string lower = ToLower(name);
      bool token = !name.empty() && name.find_first_of(" \t\r\n:\0", 0, 6) == std::string::npos;
      if (!token || value.find_first_of("\r\n\0", 0, 3) != std::string::npos ||
          lower == "content-length" || lower == "transfer-encoding") {
        return ErrorResponse(400, "/response-headers: cannot send the header \"" + name + "\"");
      }
      head.headers.emplace_back(name, value);
      sent[ValidUtf8(name)].push_back(ValidUtf8(value));
    }
    head.body = Dump({{"headers", sent}});
    return Encoded(r, std::move(head));
  }

  std::unique_ptr<Response> Chat(const Request& r);
  std::unique_ptr<Response> LargeFile(const Request& r);
  std::unique_ptr<Response> Control(const Request& r);

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  MockConfig config_;
  MockStats stats_;
  std::uint64_t stats_epoch_ = 0;
  bool gate_open_ = false;
  std::uint64_t gate_generation_ = 0;
  bool stopping_ = false;
  bool listener_closed_ = false;
  bool suspended_http_ = false;
  std::atomic<std::uint64_t> next_id_{1};

  std::string host_;
  int port_ = -1;
  std::unique_ptr<MockControl> control_;
  // Last: destroyed first, so no handler runs on a half-destroyed Impl.
  std::unique_ptr<detail::HttpServer> server_;
};

// --- chat -------------------------------------------------------------------

class MockBackend::Impl::ChatResponse : public Response {
 public:
  ChatResponse(Impl& impl, const MockConfig& c, ChatPlan plan, ResponseHead head)
      : impl_(impl),
        c_(c),
        stream_(std::move(plan)),
        head_(std::move(head)),
        transfer_(impl.BeginTransfer("/v1/chat/completions")),
        gate_(impl.NewGatePass()) {
    transfer_->sha = std::make_unique<Sha256>();
  }

  Step Next(Clock::time_point now) override {
    if (!head_sent_) {
      head_sent_ = true;
      return Step::Head(std::move(head_));
    }
    if (!pending_.empty()) return Byte();
    if (error_sent_ || stream_.done()) {
      impl_.RecordComplete(*transfer_);
      return Step::End();
    }
    if (stream_.next_is_token()) {
      long long sent = stream_.tokens_sent();
      if (sent == c_.fail_after_tokens) {
        impl_.RecordCut(*transfer_);
        return Step::Close();  // no [DONE], no end of the chunked body
      }
      if (sent == c_.error_event_after_tokens) {
        error_sent_ = true;
        return Send(stream_.ErrorEvent());
      }
      if (c_.gate_after_tokens >= 0 && sent == c_.gate_after_tokens) {
        if (auto hold = impl_.HoldAtGate(gate_, now, c_.gate_timeout_ms)) return *hold;
      }
      if (auto hold = delay_.Hold(now, c_.token_delay_ms)) return *hold;
    }
    // Several frames in one write for multi_token_chunks, else one.
    std::string out = stream_.Next();
    while (c_.sse_variant == SseVariant::kMultiTokenChunks && !stream_.done() &&
           stream_.frames_sent() % 4 != 0) {
      out += stream_.Next();
    }
    return Send(std::move(out));
  }

  void Written(std::uint64_t n) override { impl_.RecordWritten(*transfer_, n); }
  void ClientGone() override { impl_.RecordCancel(*transfer_); }
  void Cut() override { impl_.RecordCut(*transfer_); }
  unsigned WakeOn() const override {
    return c_.gate_after_tokens >= 0 ? detail::kWakeGate : detail::kWakeNone;
  }

 private:
  Step Send(std::string out) {
    if (c_.sse_variant == SseVariant::kBytePerWrite) {
      pending_ = std::move(out);
      return Byte();
    }
    impl_.CountSent(*transfer_, out);
    return Step::Body(std::move(out));
  }

  // byte_per_write: the frame's bytes one write each.
  Step Byte() {
    std::string one(1, pending_.front());
    pending_.erase(0, 1);
    impl_.CountSent(*transfer_, one);
    return Step::Body(std::move(one));
  }

  Impl& impl_;
  MockConfig c_;
  ChatStream stream_;
  ResponseHead head_;
  std::shared_ptr<Transfer> transfer_;
  GatePass gate_;
  Pause delay_;
  std::string pending_;
  bool head_sent_ = false;
  bool error_sent_ = false;
};

std::unique_ptr<Response> MockBackend::Impl::Chat(const Request& r) {
  {
    std::lock_guard lock(mutex_);
    stats_.chat_requests++;
  }
  MockConfig c = config();
  auto body = ParseJsonBounded(r.body, kChatJsonDepth);
  if (!body)
    return Delayed(c.headers_delay_ms,
                   Encoded(r, ErrorResponseHead(400, "request body: " + body.error())));
  auto plan = PlanChat(*body, c);
  if (!plan) return Delayed(c.headers_delay_ms, Encoded(r, ErrorResponseHead(400, plan.error())));
  plan->id = "chatcmpl-mock-" + std::to_string(next_id_++);
  plan->created = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  if (!plan->stream) {
    return Delayed(c.headers_delay_ms, Encoded(r, JsonHead(200, CompletionBody(*plan))));
  }
  ResponseHead head;
  head.headers = {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
  head.framing = Framing::kChunked;
  Encode(r, c, head);
  return Delayed(c.headers_delay_ms,
                 std::make_unique<ChatResponse>(*this, c, std::move(*plan), std::move(head)));
}

// --- /large-file -----------------------------------------------------------

class MockBackend::Impl::ByteResponse : public Response {
 public:
  ByteResponse(Impl& impl, const MockConfig& c, std::uint64_t size, ResponseHead head)
      : impl_(impl),
        c_(c),
        size_(size),
        head_(std::move(head)),
        length_framed_(head_.framing == Framing::kLength),
        transfer_(impl.BeginTransfer("/large-file")),
        gate_(impl.NewGatePass()) {
    transfer_->byte_stream = true;
  }

  Step Next(Clock::time_point now) override {
    if (!head_sent_) {
      head_sent_ = true;
      return Step::Head(std::move(head_));
    }
    if (offset_ >= size_) {
      impl_.RecordComplete(*transfer_);  // chunked: before the end marker
      return Step::End();
    }
    auto at = static_cast<long long>(offset_);
    if (at == c_.truncate_after_bytes || at == c_.reset_after_bytes) {
      impl_.RecordCut(*transfer_);
      return at == c_.reset_after_bytes ? Step::Reset() : Step::Close();
    }
    if (at == c_.gate_after_bytes) {
      if (auto hold = impl_.HoldAtGate(gate_, now, c_.gate_timeout_ms)) return *hold;
    }
    if (at == c_.stall_after_bytes && !stall_done_) {
      if (auto hold = stall_.Hold(now, c_.stall_ms)) return *hold;
      stall_done_ = true;
    }
    if (c_.rate_mib_s > 0) {
      auto due = transfer_->start +
                 std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                     double(offset_) / (c_.rate_mib_s * double(kMiB))));
      if (now < due) return Step::Wait(due);
    }
    // Stop exactly at the next configured point so every fault lands on its byte.
    std::uint64_t n = std::min<std::uint64_t>(c_.chunk_size, size_ - offset_);
    for (long long point : {c_.truncate_after_bytes, c_.reset_after_bytes, c_.gate_after_bytes,
                            c_.stall_after_bytes}) {
      if (point > at) n = std::min<std::uint64_t>(n, std::uint64_t(point - at));
    }
    std::string bytes(n, '\0');
    FillBytes(c_.seed, offset_, bytes.data(), n);
    offset_ += n;
    impl_.CountSent(*transfer_, bytes);
    // With Content-Length there is no end marker: the last bytes end the body.
    if (length_framed_ && offset_ == size_) impl_.RecordComplete(*transfer_);
    return Step::Body(std::move(bytes));
  }

  void Written(std::uint64_t n) override { impl_.RecordWritten(*transfer_, n); }
  void ClientGone() override { impl_.RecordCancel(*transfer_); }
  void Cut() override { impl_.RecordCut(*transfer_); }
  unsigned WakeOn() const override {
    return c_.gate_after_bytes >= 0 ? detail::kWakeGate : detail::kWakeNone;
  }

 private:
  Impl& impl_;
  MockConfig c_;
  std::uint64_t size_;
  std::uint64_t offset_ = 0;
  ResponseHead head_;
  bool length_framed_;  // Content-Length, not chunked (head_ is moved out first)
  std::shared_ptr<Transfer> transfer_;
  GatePass gate_;
  Pause stall_;
  bool stall_done_ = false;
  bool head_sent_ = false;
};

namespace {

// One byte range of a `size`-byte body: "bytes=FIRST-LAST" or "bytes=FIRST-"
// (RFC 9110 §14.1.2), LAST clipped to the body and to kMaxRangeBytes. Any
// other Range (several ranges, a suffix, beyond the end) is ignored: the
// whole body is sent, as RFC 9110 §14.2 allows.
constexpr std::uint64_t kMaxRangeBytes = kMiB;
std::optional<std::pair<std::uint64_t, std::uint64_t>> ByteRange(const std::string& value,
                                                                 std::uint64_t size) {
  static const std::regex one("bytes=([0-9]{1,18})-([0-9]{0,18})");
  std::smatch m;
  if (!std::regex_match(value, m, one)) return std::nullopt;
  std::uint64_t first = std::stoull(m[1]);
  std::uint64_t last = m[2].length() ? std::stoull(m[2]) : size - 1;
  if (first >= size || last < first) return std::nullopt;
  last = std::min({last, size - 1, first + kMaxRangeBytes - 1});
  return std::make_pair(first, last);
}

}  // namespace

std::unique_ptr<Response> MockBackend::Impl::LargeFile(const Request& r) {
  MockConfig c = config();
  double size_mb = c.size_mb;
  if (auto text = QueryValue(r, "size_mb")) {
    auto parsed = ParseNumberParameter("size_mb", *text);
    if (!parsed) return Encoded(r, ErrorResponseHead(400, parsed.error()));
    size_mb = *parsed;
  }
  auto size = static_cast<std::uint64_t>(size_mb * double(kMiB));
  ResponseHead head;
  head.headers = {{"Content-Type", "application/octet-stream"},
                  {"X-Mock-Size", std::to_string(size)}};
  auto range = r.method == "GET" ? ByteRange(r.Header("Range").value_or(""), size) : std::nullopt;
  if (range) {
    // 206 with the range's bytes, whole at once (direct.range).
    auto [first, last] = *range;
    head.status = 206;
    head.headers.emplace_back(
        "Content-Range",
        "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
    head.body.resize(last - first + 1);
    FillBytes(c.seed, first, head.body.data(), head.body.size());
    return Fixed(std::move(head));
  }
  head.length = size;
  Encode(r, c, head);
  // As a NIM (uvicorn) sends a body whose length it knows: Content-Length,
  // chunked only when it is gzipped (a gzip body's length is not known before
  // it is sent) or when the config asks for chunked. "length" never meets a
  // gzipped body: ConfigFromJson refuses it with compress gzip.
  switch (c.framing) {
    case BodyFraming::kAuto:
      head.framing = head.gzip ? Framing::kChunked : Framing::kLength;
      break;
    case BodyFraming::kLength:
      head.framing = Framing::kLength;
      break;
    case BodyFraming::kChunked:
      head.framing = Framing::kChunked;
      break;
  }
  if (r.method == "HEAD") return Fixed(std::move(head));  // the head alone: no transfer
  return Delayed(c.headers_delay_ms,
                 std::make_unique<ByteResponse>(*this, c, size, std::move(head)));
}

// --- control API ------------------------------------------------------------

// GET /_mock/wait: holds the request until the condition holds or the deadline.
class MockBackend::Impl::WaitResponse : public Response {
 public:
  WaitResponse(std::function<bool()> reached, Clock::time_point deadline)
      : reached_(std::move(reached)), deadline_(deadline) {}
  Step Next(Clock::time_point now) override {
    bool reached = reached_();
    if (!reached && now < deadline_) return Step::Wait(deadline_);
    return Step::Head(JsonHead(200, Dump({{"reached", reached}})));
  }
  unsigned WakeOn() const override { return detail::kWakeEvents; }

 private:
  std::function<bool()> reached_;
  Clock::time_point deadline_;
};

std::unique_ptr<Response> MockBackend::Impl::Control(const Request& r) {
  const std::string& m = r.method;
  const std::string& p = r.path;
  auto ok = [] { return JsonResponse(200, json::object()); };
  auto wrong_method = [&](const char* allowed) {
    return ErrorResponse(405, m + " " + p + ": use " + allowed);
  };
  if (p == "/_mock/info") {
    return JsonResponse(200, {{"service", "streamcheck-mock"}, {"api", 1}});
  }
  if (p == "/_mock/config") {
    if (m == "GET") return JsonResponse(200, ToJson(config()));
    if (m != "PUT") return wrong_method("GET or PUT");
    auto parsed = ConfigFromText(r.body);
    if (!parsed) return ErrorResponse(400, parsed.error());
    if (auto s = SetConfig(*parsed); !s) return ErrorResponse(400, s.message());
    return JsonResponse(200, ToJson(*parsed));
  }
  if (p == "/_mock/config/keys") {
    json keys = json::array();
    for (const auto& key : kConfigKeys) {
      keys.push_back({{"name", key.name},
                      {"range", RangeText(key)},
                      {"default", json::parse(key.default_value)},
                      {"meaning", key.meaning}});
    }
    return JsonResponse(200, {{"keys", keys}});
  }
  if (p == "/_mock/stats")
    return m == "GET" ? JsonResponse(200, ToJson(stats())) : wrong_method("GET");
  if (p == "/_mock/wait") {
    if (m != "GET") return wrong_method("GET");
    auto what = QueryValue(r, "for").value_or("");
    auto timeout = ParseCount(QueryValue(r, "timeout_ms").value_or(""));
    if ((what != "gate" && what != "cancelled" && what != "upload") || !timeout ||
        *timeout > kMaxLongPollMs) {
      return ErrorResponse(400,
                           "GET /_mock/wait needs for=gate|cancelled|upload and timeout_ms=0.." +
                               std::to_string(kMaxLongPollMs));
    }
    std::function<bool()> reached = [this, what] {
      std::lock_guard lock(mutex_);
      if (what == "upload") return stats_.request_body_bytes > 0;
      return what == "gate" ? stats_.gate_reached : stats_.transfers_cancelled > 0;
    };
    return std::make_unique<WaitResponse>(reached, Clock::now() + Ms(*timeout));
  }
  static const std::set<std::string> kPostRoutes = {
      "/_mock/stats/reset", "/_mock/gate/open", "/_mock/suspend", "/_mock/reset", "/_mock/resume"};
  if (kPostRoutes.count(p) && m != "POST") return wrong_method("POST");
  if (p == "/_mock/stats/reset") return ResetStats(), ok();
  if (p == "/_mock/gate/open") return OpenGate("harness"), ok();
  if (p == "/_mock/suspend") return SuspendHttp(), ok();
  if (p == "/_mock/reset" || p == "/_mock/resume") {
    auto s = p == "/_mock/reset" ? Reset() : Resume();
    return s ? ok() : ErrorResponse(500, s.message());
  }
  return ErrorResponse(404, "no control route " + p +
                                "; routes: /_mock/info, /_mock/config, /_mock/config/keys, "
                                "/_mock/stats, /_mock/stats/reset, /_mock/reset, "
                                "/_mock/gate/open, /_mock/wait, /_mock/suspend, /_mock/resume");
}

// --- MockControl in-process, and the public class -------------------------

class MockBackend::Impl::InProcessControl : public MockControl {
 public:
  explicit InProcessControl(Impl& impl) : impl_(impl) {}
  std::string url() const override { return impl_.url(); }
  Status SetConfig(const MockConfig& config) override { return impl_.SetConfig(config); }
  MockConfig config() const override { return impl_.config(); }
  Status Reset() override { return impl_.Reset(); }
  Status OpenGate() override { return impl_.OpenGate("harness"), Status::Ok(); }
  Result<bool> WaitGateReached(std::chrono::milliseconds timeout) override {
    return impl_.WaitGateReached(timeout);
  }
  Result<bool> WaitCancelled(std::chrono::milliseconds timeout) override {
    return impl_.WaitCancelled(timeout);
  }
  Result<bool> WaitUploadStarted(std::chrono::milliseconds timeout) override {
    return impl_.WaitUploadStarted(timeout);
  }
  Result<MockStats> Stats() override { return impl_.stats(); }
  Status ResetStats() override { return impl_.ResetStats(), Status::Ok(); }
  Status Suspend() override { return impl_.SuspendListener(); }
  Status Resume() override { return impl_.Resume(); }

 private:
  Impl& impl_;
};

MockControl& MockBackend::Impl::control() {
  if (!control_) control_ = std::make_unique<InProcessControl>(*this);
  return *control_;
}

MockBackend::MockBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockBackend::~MockBackend() { Stop(); }

Result<std::unique_ptr<MockBackend>> MockBackend::Start(MockConfig config, const std::string& host,
                                                        int port, int threads) {
  // A client that goes away must not kill the process: writes then fail with EPIPE.
  signal(SIGPIPE, SIG_IGN);
  if (auto s = ValidateConfig(config); !s) return Error{s.message()};
  auto impl = std::make_unique<Impl>(config);
  if (auto status = impl->Bind(host, port, threads); !status) return Error{status.message()};
  return std::unique_ptr<MockBackend>(new MockBackend(std::move(impl)));
}

int MockBackend::port() const { return impl_->port(); }
std::string MockBackend::host() const { return impl_->host(); }
std::string MockBackend::url() const { return impl_->url(); }
MockControl& MockBackend::control() { return impl_->control(); }

void MockBackend::SetConfig(const MockConfig& config) {
  if (auto s = impl_->SetConfig(config); !s) {
    std::fprintf(stderr, "MockBackend::SetConfig: %s\n", s.message().c_str());
    std::abort();
  }
}
MockConfig MockBackend::config() const { return impl_->config(); }
void MockBackend::SetStreamResponse(double size_mb) {
  MockConfig c = impl_->config();
  c.size_mb = size_mb;
  SetConfig(c);
}
void MockBackend::OpenGate() { impl_->OpenGate("harness"); }
bool MockBackend::WaitGateReached(std::chrono::milliseconds timeout) {
  return impl_->WaitGateReached(timeout);
}
bool MockBackend::WaitCancelled(std::chrono::milliseconds timeout) {
  return impl_->WaitCancelled(timeout);
}
MockStats MockBackend::stats() const { return impl_->stats(); }
void MockBackend::ResetStats() { impl_->ResetStats(); }
void MockBackend::Stop() { impl_->Stop(); }
void MockBackend::Suspend() { (void)impl_->SuspendListener(); }
Status MockBackend::Resume() { return impl_->Resume(); }

}  // namespace streamcheck::mocks
