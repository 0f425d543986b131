// The raw-socket HTTP/1.1 cases (RFC 9112): message framing (request line,
// Content-Length, Transfer-Encoding, both at once), what follows a framing
// error on the same connection, pipelining and keep-alive, HTTP/1.0 clients,
// requests without a body length, limits and slow clients; and for the
// /directAccess/ proxy, header values that carry CR/LF and uploads that break
// off. Every request goes through harness/raw_http.h, so that the bytes on the
// wire are exactly the case's.
//
// Each case first proves it can judge: a control request (the same request,
// well formed) must get a complete 2xx response, else the case errors with
// the reason; a server that answers nothing, 404, or garbage never passes.
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "common/text.h"
#include "harness/process_memory.h"
#include "harness/raw_http.h"
#include "harness/target_spec.h"
#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using namespace std::chrono_literals;
using core::Level;
using harness::RawConnection;
using harness::RawResponse;
using harness::ReadEnd;
using harness::ReadResult;
using Fields = std::vector<std::pair<std::string, std::string>>;
using Clock = std::chrono::steady_clock;

constexpr auto kConnectTimeout = 10s;
// The bound on an answer that normally takes milliseconds.
constexpr auto kAnswer = 10s;
// How long a case watches for a close (or a response that must not come)
// after the server has answered; a correct server closes within milliseconds.
// Shorter than the keep-alive idle timeouts servers close on anyway (uvicorn,
// Apache and Node 5 s, nginx 75 s), so that such a close is not taken for the
// one a rule requires: with 5 s, uvicorn passed server.cl-te when slowed down.
constexpr auto kCloseWait = 2s;

// ---- talking raw to the target ----

// The target's endpoint, the fields every request carries, and the record.
class Wire {
 public:
  explicit Wire(CaseContext& ctx) : ctx_(ctx) {
    auto endpoint = harness::RawEndpointOf(ctx.Url(""), ctx.spec());
    if (!endpoint) {
      error_ = endpoint.error();
      return;
    }
    endpoint_ = *endpoint;
    std::string base = ctx.Url("");
    auto slash = base.find('/', base.find("://") + 3);
    prefix_ = slash == std::string::npos ? "" : base.substr(slash);
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
  }

  // False when the case cannot run here: the target's URL cannot be used
  // (an error), or the spec speaks HTTP/2 to it (a skip: these are HTTP/1.1
  // framing cases, and an HTTP/2 server need not speak HTTP/1.1 at all).
  bool Usable() {
    if (ctx_.spec().http_version == "2") {
      ctx_.Skip(
          "the spec speaks HTTP/2 to this target (http_version \"2\"); this case sends HTTP/1.1 "
          "bytes on a raw connection (RFC 9112) and cannot run over HTTP/2: set http_version to "
          "\"1.1\" if the server also speaks HTTP/1.1");
      return false;
    }
    if (!error_.empty()) ctx_.Error("cannot reach the target on a raw socket: " + error_);
    return error_.empty();
  }
  const std::string& host() const { return endpoint_.authority; }
  const harness::RawEndpoint& endpoint() const { return endpoint_; }
  // A request target for `path` under the target's base URL.
  std::string Target(const std::string& path) const { return prefix_ + path; }

  // A fresh connection; null (and the case errors) when none can be made.
  std::unique_ptr<RawConnection> Open() {
    auto conn =
        RawConnection::Open(endpoint_, kConnectTimeout, [this] { return ctx_.stop_requested(); });
    if (!conn) {
      ctx_.Error("cannot open a connection to " + endpoint_.authority + ": " + conn.error());
      return nullptr;
    }
    return std::move(*conn);
  }

  // Host, the spec's headers and the case header, then `fields`.
  Fields With(const Fields& fields) const {
    Fields out(ctx_.spec().headers.begin(), ctx_.spec().headers.end());
    out.emplace_back(engine::kCaseHeader, ctx_.info().id);
    out.insert(out.end(), fields.begin(), fields.end());
    return out;
  }
  std::string Head(const std::string& method, const std::string& path, const Fields& fields = {},
                   const std::string& version = "HTTP/1.1") const {
    return harness::RequestHead(method, Target(path), host(), With(fields), version);
  }

  // The head's field lines as evidence: at most kShownFields, the values of
  // secrets and of the spec's headers (API keys) redacted.
  core::HeaderList HeaderLines(const std::string& head) const {
    constexpr std::size_t kShownFields = 40;
    core::HeaderList out;
    std::size_t at = head.find("\r\n");
    while (at != std::string::npos && out.size() < kShownFields) {
      auto end = head.find("\r\n", at + 2);
      std::string line = head.substr(at + 2, end == std::string::npos ? end : end - at - 2);
      at = end;
      auto colon = line.find(':');
      if (line.empty() || colon == std::string::npos) continue;
      std::string name = line.substr(0, colon), value = line.substr(colon + 1);
      value.erase(0, std::min(value.size(), value.find_first_not_of(' ')));
      bool secret = std::any_of(ctx_.spec().headers.begin(), ctx_.spec().headers.end(),
                                [&](const auto& h) { return EqualsIgnoreCase(h.first, name); }) ||
                    EqualsIgnoreCase(name, "authorization") || EqualsIgnoreCase(name, "cookie");
      out.emplace_back(Excerpt(name, 100), secret ? "(redacted)" : Excerpt(value, 200));
    }
    return out;
  }

  void Record(const std::string& label, const std::string& sent, const ReadResult& r) {
    core::Exchange x;
    x.label = label + " (raw socket)";
    auto blank = sent.find("\r\n\r\n");
    std::size_t body_at = blank == std::string::npos ? sent.size() : blank + 4;
    x.request = Excerpt(sent.substr(0, std::min(body_at, sent.find("\r\n"))), 200);
    x.request_headers = HeaderLines(sent.substr(0, body_at));
    x.request_body = Excerpt(sent.substr(body_at), 300);
    x.status = r.response.status;
    x.http_version = r.response.version == 10 ? "1.0" : r.response.version == 11 ? "1.1" : "";
    for (const auto& [name, value] : r.response.headers) {
      x.response_headers.emplace_back(name, Excerpt(value, 200));
    }
    x.body_bytes = r.response.body_bytes;
    x.first_byte_ms = r.response.t_ms;
    x.error = r.end == ReadEnd::kResponse ? "" : std::string(harness::ToString(r.end));
    if (!r.error.empty()) x.error += ": " + r.error;
    ctx_.RecordExchange(std::move(x));
  }

 private:
  CaseContext& ctx_;
  harness::RawEndpoint endpoint_;
  std::string prefix_;
  std::string error_;
};

// What came back, in words: "HTTP/1.1 400 Bad Request", "the connection
// closed with no response", ...
std::string Saw(const ReadResult& r) {
  if (r.end == ReadEnd::kResponse) {
    return "\"HTTP/" + std::string(r.response.version == 10 ? "1.0 " : "1.1 ") +
           std::to_string(r.response.status) + " " + r.response.reason + "\"";
  }
  if (r.end == ReadEnd::kClosed) return "the connection closed with no (complete) response";
  if (r.end == ReadEnd::kTimeout) {
    return "no answer within " + std::to_string(kAnswer.count()) + " s, the connection open";
  }
  if (r.end == ReadEnd::kGarbage)
    return "bytes that are not an HTTP/1.x response (" + r.error + ")";
  return std::string(harness::ToString(r.end));
}

bool Is2xx(const ReadResult& r) {
  return r.end == ReadEnd::kResponse && r.response.status >= 200 && r.response.status < 300;
}
bool IsRefusal(const ReadResult& r) {
  return r.end == ReadEnd::kResponse && r.response.status >= 400;
}

// One exchange on a fresh connection: `bytes` in one write, one response read.
struct Sent {
  std::unique_ptr<RawConnection> conn;
  ReadResult first;
};
std::optional<Sent> SendAndRead(Wire& wire, const std::string& label, const std::string& bytes,
                                std::chrono::milliseconds timeout = kAnswer) {
  auto conn = wire.Open();
  if (!conn) return std::nullopt;
  conn->Send(bytes);
  Sent sent{std::move(conn), {}};
  sent.first = sent.conn->ReadResponse(timeout);
  wire.Record(label, bytes, sent.first);
  return sent;
}

// After a response: does the connection close, or does more come?
enum class After { kClosed, kMore, kOpen, kStopped };
After WatchAfter(RawConnection& conn, std::chrono::milliseconds timeout = kCloseWait) {
  switch (conn.WaitActivity(timeout)) {
    case ReadEnd::kClosed:
      return After::kClosed;
    case ReadEnd::kResponse:
      return After::kMore;
    case ReadEnd::kStopped:
      return After::kStopped;
    default:
      return After::kOpen;
  }
}

// The JSON body of an echo response ({"body_length": N, "target": ...}), or {}.
nlohmann::json EchoOf(const RawResponse& r) {
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();  // value() reads defaults off it
}

// Where the server-area cases send bodies: the proxy's echo (the backend says
// what it got), else the chat path; "" when the target has neither.
struct BodyPath {
  std::string path;
  bool echo = false;  // the response says how many body bytes arrived
};
BodyPath BodyPathOf(const CaseContext& ctx) {
  if (ctx.spec().HasFeature("direct_access")) return {ctx.spec().DirectPath("echo"), true};
  if (ctx.spec().HasFeature("chat")) return {ctx.spec().chat_path, false};
  return {};
}

std::string ChatJson() { return ChatBody("Hello", false); }

// The ready path answers 200 on a raw connection: the precondition of every
// case here. False (and the case errors) when it does not.
bool ReadyControl(CaseContext& ctx, Wire& wire) {
  if (!wire.Usable()) return false;
  auto sent = SendAndRead(wire, "control: the ready path", wire.Head("GET", ctx.spec().ready_path));
  if (!sent) return false;
  if (sent->first.end != ReadEnd::kResponse || sent->first.response.status != 200) {
    ctx.Error("cannot judge: a well-formed GET " + ctx.spec().ready_path +
              " on a raw connection got " + Saw(sent->first) + ", not 200");
    return false;
  }
  return true;
}

// A well-formed POST of `body` to `where` (framed by `framing`: "length" or
// "chunked") gets a complete 2xx. When it does not and it is `required`, the
// case errors; else the miss is noted.
bool BodyControl(CaseContext& ctx, Wire& wire, const BodyPath& where, const std::string& framing,
                 bool required) {
  std::string body = ChatJson();
  Fields fields = {{"Content-Type", "application/json"}};
  std::string bytes;
  if (framing == "chunked") {
    fields.emplace_back("Transfer-Encoding", "chunked");
    bytes = wire.Head("POST", where.path, fields) + harness::Chunked(body);
  } else {
    fields.emplace_back("Content-Length", std::to_string(body.size()));
    bytes = wire.Head("POST", where.path, fields) + body;
  }
  auto sent = SendAndRead(wire, "control: a well-formed POST (" + framing + ")", bytes);
  if (!sent) return false;
  if (!Is2xx(sent->first)) {
    std::string what = "a well-formed POST " + where.path + " (" + framing + ") got " +
                       Saw(sent->first) + ", not 2xx";
    required ? ctx.Error("cannot judge: " + what) : ctx.Note(what + "; ");
    return false;
  }
  auto echo = EchoOf(sent->first.response);
  if (where.echo && echo.value("body_length", -1) != int(body.size())) {
    ctx.Error("cannot judge: the echo of a well-formed " + std::to_string(body.size()) +
              "-byte POST (" + framing + ") said " + Excerpt(sent->first.response.body, 200));
    return false;
  }
  return true;
}

// Preconditions of the framing cases: a body path, the ready path, and a
// well-formed Content-Length body accepted (so that a 4xx is a refusal of
// the probe, not of everything). A chunked body is tried too: a server that
// takes none (some WSGI apps) can still be judged, since refusing is allowed.
std::optional<BodyPath> FramingPreconditions(CaseContext& ctx, Wire& wire) {
  auto where = BodyPathOf(ctx);
  if (where.path.empty()) {
    ctx.Skip("the target has neither direct_access nor chat: no path takes a request body");
    return std::nullopt;
  }
  if (!ReadyControl(ctx, wire)) return std::nullopt;
  if (!BodyControl(ctx, wire, where, "length", true)) return std::nullopt;
  BodyControl(ctx, wire, where, "chunked", false);
  return where;
}

// ---- issue 11: message framing ----

// RFC 9112 §3 and §2.2: a request line that does not parse is refused.
void RequestLine(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  const std::string& ready = ctx.spec().ready_path;
  Fields fields = wire.With({});
  auto with_head = [&](const std::string& line) {
    std::string out = line + "\r\nHost: " + wire.host() + "\r\n";
    for (const auto& [n, v] : fields) out += n + ": " + v + "\r\n";
    return out + "\r\n";
  };
  const std::vector<std::pair<std::string, std::string>> probes = {
      {"a request line that is not HTTP", "GARBAGE / NOT-HTTP"},
      {"a fourth word in the request line", "GET " + wire.Target(ready) + " HTTP/1.1 extra"},
      {"a version without its numbers", "GET " + wire.Target(ready) + " HTTP/"},
      {"a lower-case protocol name", "GET " + wire.Target(ready) + " http/1.1"},
  };
  for (const auto& [what, line] : probes) {
    auto sent = SendAndRead(wire, what, with_head(line));
    if (!sent) return;
    const auto& r = sent->first;
    bool refused =
        (r.end == ReadEnd::kResponse && r.response.status == 400) || r.end == ReadEnd::kClosed;
    if (r.end == ReadEnd::kGarbage) {
      // An HTTP/0.9-style error body (no status line) and a close is a refusal.
      refused = sent->conn->ReadToClose(kCloseWait) == ReadEnd::kClosed;
    }
    if (r.end == ReadEnd::kStopped) return;
    if (!refused) {
      ctx.Fail("expected 400 or a closed connection for " + what + " (`" + line + "`), got " +
               Saw(r));
    }
  }
  // And the server goes on serving.
  auto after = SendAndRead(wire, "the ready path afterwards", wire.Head("GET", ready));
  if (after && !(after->first.end == ReadEnd::kResponse && after->first.response.status == 200)) {
    ctx.Fail("after the malformed request lines the ready path got " + Saw(after->first));
  }
}

// RFC 9112 §6.1: CL+TE is refused, or read by Transfer-Encoding alone; either
// way the connection closes after the response. The probe's chunked body holds
// a whole request that only a Content-Length reader would see.
void ClTe(CaseContext& ctx) {
  Wire wire(ctx);
  auto where = FramingPreconditions(ctx, wire);
  if (!where) return;
  std::string smuggled = wire.Head("GET", ctx.spec().ready_path, {{"X-Smuggled", "1"}});
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", smuggled.size());
  std::string body = size_line + smuggled + "\r\n" + harness::Chunked(ChatJson());
  // The Content-Length covers the first chunk's size line only.
  std::string bytes = wire.Head("POST", where->path,
                                {{"Content-Type", "application/json"},
                                 {"Content-Length", std::to_string(std::strlen(size_line))},
                                 {"Transfer-Encoding", "chunked"}}) +
                      body;
  auto sent =
      SendAndRead(wire, "Content-Length with Transfer-Encoding, a request inside the body", bytes);
  if (!sent) return;
  const auto& r = sent->first;
  if (r.end == ReadEnd::kStopped) return;
  if (r.end != ReadEnd::kResponse) {
    return ctx.Fail("expected a 4xx, or a response to the body read by Transfer-Encoding, got " +
                    Saw(r));
  }
  if (Is2xx(r) && where->echo) {
    auto echo = EchoOf(r.response);
    long long expected = static_cast<long long>(smuggled.size() + ChatJson().size());
    if (echo.value("body_length", -1LL) != expected) {
      ctx.Fail("expected the body read by Transfer-Encoding (" + std::to_string(expected) +
               " bytes), the backend got " + Excerpt(r.response.body, 200));
    }
  } else if (!Is2xx(r) && !IsRefusal(r)) {
    ctx.Fail("expected a 4xx or a 2xx, got " + Saw(r));
  }
  switch (WatchAfter(*sent->conn)) {
    case After::kClosed:
      return;
    case After::kMore: {
      auto second = sent->conn->ReadResponse(kAnswer);
      wire.Record("what followed on the same connection", "", second);
      return ctx.Fail("a second response (" + Saw(second) +
                      ") came on the connection: the server read the body by Content-Length "
                      "and served the request inside it (request smuggling)");
    }
    case After::kOpen:
      return ctx.Fail(
          "expected the connection closed after the response to a request with both "
          "Content-Length and Transfer-Encoding (RFC 9112 §6.1: regardless, MUST "
          "close); it was still open " +
          std::to_string(kCloseWait.count()) + " s after " + Saw(r));
    case After::kStopped:
      return;
  }
}

// RFC 9112 §6.3 (5), RFC 9110 §8.6: Content-Length values that differ are a 400.
void ContentLength(CaseContext& ctx) {
  Wire wire(ctx);
  auto where = FramingPreconditions(ctx, wire);
  if (!where) return;
  const std::vector<std::pair<std::string, Fields>> probes = {
      {"two Content-Length lines, 3 and 5", {{"Content-Length", "3"}, {"Content-Length", "5"}}},
      {"two Content-Length lines, 5 and 3", {{"Content-Length", "5"}, {"Content-Length", "3"}}},
      {"Content-Length: 5, 3", {{"Content-Length", "5, 3"}}},
  };
  for (const auto& [what, lengths] : probes) {
    Fields fields = {{"Content-Type", "application/json"}};
    fields.insert(fields.end(), lengths.begin(), lengths.end());
    auto sent = SendAndRead(wire, what, wire.Head("POST", where->path, fields) + "hello");
    if (!sent) return;
    const auto& r = sent->first;
    if (r.end == ReadEnd::kStopped) return;
    if (!(r.end == ReadEnd::kResponse && r.response.status == 400)) {
      ctx.Fail("expected 400 for " + what + ", got " + Saw(r));
    }
  }
}

// RFC 9112 §6.1, §6.3 (4), §7: a Transfer-Encoding other than a single
// final chunked is refused (4xx, 501) or the connection closed.
void TransferEncoding(CaseContext& ctx) {
  Wire wire(ctx);
  auto where = FramingPreconditions(ctx, wire);
  if (!where) return;
  struct Probe {
    const char* what;
    Fields te;
    bool valid;  // RFC-valid after all: may be read as chunked
  };
  const std::vector<Probe> probes = {
      {"Transfer-Encoding: chunked, identity", {{"Transfer-Encoding", "chunked, identity"}}, false},
      {"Transfer-Encoding: xchunked", {{"Transfer-Encoding", "xchunked"}}, false},
      {"Transfer-Encoding: chunked twice",
       {{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
       false},
      // Leading whitespace is OWS, not part of the value (RFC 9110 §5.5):
      // this is chunked, to be read as such or refused, never ignored.
      {"Transfer-Encoding:  chunked (leading whitespace)",
       {{"Transfer-Encoding", " chunked"}},
       true},
  };
  for (const auto& p : probes) {
    Fields fields = {{"Content-Type", "application/json"}};
    fields.insert(fields.end(), p.te.begin(), p.te.end());
    std::string bytes = wire.Head("POST", where->path, fields) + harness::Chunked("hello");
    auto sent = SendAndRead(wire, p.what, bytes);
    if (!sent) return;
    const auto& r = sent->first;
    if (r.end == ReadEnd::kStopped) return;
    if (r.end == ReadEnd::kClosed || IsRefusal(r)) continue;
    if (!Is2xx(r)) {
      ctx.Fail("expected a refusal (4xx, 501) or a close for " + std::string(p.what) + ", got " +
               Saw(r));
      continue;
    }
    if (!p.valid) {
      ctx.Fail("expected a refusal (4xx, 501) or a close for " + std::string(p.what) + ", got " +
               Saw(r) + ": the server accepted a transfer coding it should not");
      continue;
    }
    // Accepted as chunked: the body must be the chunk, and nothing of it
    // taken as a second request.
    auto echo = EchoOf(r.response);
    if (where->echo && echo.value("body_length", -1) != 5) {
      ctx.Fail(std::string(p.what) + ": expected the body read as chunked (5 bytes), got " +
               Excerpt(r.response.body, 200));
    }
    if (WatchAfter(*sent->conn, 1s) == After::kMore) {
      ctx.Fail(std::string(p.what) +
               ": a second response came: the chunked body was read as a request");
    }
  }
}

std::string HeaderOf(std::size_t bytes) { return std::string(bytes, 'a'); }

// RFC 9110 §5.4, RFC 6585 §5: a 64 KiB field is refused with 431 (or 400).
void LargeHeader(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  const std::string& ready = ctx.spec().ready_path;
  auto sent = SendAndRead(wire, "a 64 KiB header field",
                          wire.Head("GET", ready, {{"X-Big", HeaderOf(64 * 1024)}}));
  if (!sent) return;
  const auto& r = sent->first;
  if (r.end == ReadEnd::kStopped) return;
  bool refused =
      r.end == ReadEnd::kResponse && (r.response.status == 431 || r.response.status == 400);
  if (!refused) ctx.Fail("expected 431 (or 400) for a 64 KiB header field, got " + Saw(r));
}

// INFO: the largest single header field the server takes.
void HeaderSize(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  int largest = 0;
  std::string seen;
  for (int kib : {4, 8, 16, 32, 64, 128}) {
    auto sent = SendAndRead(wire, std::to_string(kib) + " KiB header field",
                            wire.Head("GET", ctx.spec().ready_path,
                                      {{"X-Big", HeaderOf(std::size_t(kib) * 1024 - 16)}}));
    if (!sent || sent->first.end == ReadEnd::kStopped) return;
    seen += (seen.empty() ? "" : ", ") + std::to_string(kib) + " KiB: " + Saw(sent->first);
    if (sent->first.end == ReadEnd::kResponse && sent->first.response.status == 200) largest = kib;
  }
  ctx.Metric("largest_header_kib", largest);
  ctx.Note("header field sizes: " + seen);
}

// INFO: a second request on the same connection.
void KeepAlive(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  std::string ping = wire.Head("GET", ctx.spec().ready_path);
  auto sent = SendAndRead(wire, "the first request", ping);
  if (!sent || sent->first.end != ReadEnd::kResponse) return;
  bool reused = false;
  std::string note;
  if (!sent->first.response.keep_alive) {
    note =
        "the server closes after each response (" + sent->first.response.Header("Connection") + ")";
  } else if (sent->conn->Send(ping)) {
    auto second = sent->conn->ReadResponse(kAnswer);
    wire.Record("the second request on the same connection", ping, second);
    reused = second.end == ReadEnd::kResponse && second.response.status == 200;
    note = reused ? "the connection was reused for a second request"
                  : "the second request on the connection got " + Saw(second);
  } else {
    note = "the connection was gone before the second request";
  }
  ctx.Metric("keep_alive", reused ? 1 : 0);
  ctx.Note(note);
}

// ---- issue 13: hardening ----

// RFC 9112 §6.3 (4, 5), §11.2: after framing the server refused or could
// not be sure of, the connection closes; bytes sent later (in a later
// segment) never produce a response.
void Desync(CaseContext& ctx) {
  Wire wire(ctx);
  auto where = FramingPreconditions(ctx, wire);
  if (!where) return;
  const std::string post = "POST";
  struct Probe {
    const char* what;
    Fields fields;
    std::string body;
  };
  const std::vector<Probe> probes = {
      {"two different Content-Lengths",
       {{"Content-Length", "3"}, {"Content-Length", "5"}},
       "hello"},
      {"Content-Length: 5, 3", {{"Content-Length", "5, 3"}}, "hello"},
      {"an invalid chunk size", {{"Transfer-Encoding", "chunked"}}, "5\r\nhello\r\nzz\r\n"},
      {"Transfer-Encoding not ending in chunked", {{"Transfer-Encoding", "gzip"}}, "hello"},
  };
  std::string later = wire.Head("GET", ctx.spec().ready_path, {{"X-Later-Segment", "1"}});
  for (const auto& p : probes) {
    Fields fields = {{"Content-Type", "application/json"}};
    fields.insert(fields.end(), p.fields.begin(), p.fields.end());
    auto sent = SendAndRead(wire, p.what, wire.Head(post, where->path, fields) + p.body);
    if (!sent) return;
    const auto& r = sent->first;
    if (r.end == ReadEnd::kStopped) return;
    if (r.end == ReadEnd::kClosed) continue;  // closed at once: nothing can follow
    if (r.end != ReadEnd::kResponse) {
      ctx.Fail("expected a 400 and a close for " + std::string(p.what) + ", got " + Saw(r));
      continue;
    }
    // The later segment, once the answer is in.
    sent->conn->Send(later);
    auto next = sent->conn->ReadResponse(kCloseWait);
    if (next.end == ReadEnd::kStopped) return;
    if (next.end == ReadEnd::kClosed && sent->conn->pending().empty()) continue;
    wire.Record("a GET sent later on the same connection", later, next);
    if (next.end == ReadEnd::kTimeout && sent->conn->pending().empty()) {
      ctx.Fail("after " + Saw(r) + " to " + p.what + " the connection stayed open " +
               std::to_string(kCloseWait.count()) +
               " s (RFC 9112 §6.3: the framing is in doubt, close the connection)");
    } else {
      ctx.Fail("after " + Saw(r) + " to " + p.what +
               ", bytes sent later on the same connection got " + Saw(next) +
               ": the connection was kept in an unknown state (desync)");
    }
  }
}

// RFC 9112 §9.3.2: pipelined requests are answered, in order.
void Pipelining(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  bool echo = ctx.spec().HasFeature("direct_access");
  constexpr int kRequests = 8;
  // Control: one such request alone gets 200, so that a refusal of the path
  // is not taken for a pipelining failure.
  std::string alone = echo ? ctx.spec().DirectPath("echo?seq=0") : ctx.spec().ready_path;
  auto control = SendAndRead(wire, "control: one request alone", wire.Head("GET", alone));
  if (!control || control->first.end == ReadEnd::kStopped) return;
  if (!(control->first.end == ReadEnd::kResponse && control->first.response.status == 200)) {
    return ctx.Error("cannot judge: GET " + alone + " alone got " + Saw(control->first) +
                     ", not 200");
  }
  std::string bytes;
  for (int i = 1; i <= kRequests; ++i) {
    std::string path =
        echo ? ctx.spec().DirectPath("echo?seq=" + std::to_string(i)) : ctx.spec().ready_path;
    bytes += wire.Head("GET", path);
  }
  auto conn = wire.Open();
  if (!conn) return;
  conn->Send(bytes);
  int answered = 0;
  for (int i = 1; i <= kRequests; ++i) {
    auto r = conn->ReadResponse(kAnswer);
    if (r.end == ReadEnd::kStopped) return;
    if (i == 1 || r.end != ReadEnd::kResponse)
      wire.Record("pipelined request " + std::to_string(i), bytes, r);
    if (r.end != ReadEnd::kResponse) {
      if (r.end == ReadEnd::kClosed && answered == 0) {
        return ctx.Fail("the connection closed before any of " + std::to_string(kRequests) +
                        " pipelined requests was answered");
      }
      return ctx.Fail("answered " + std::to_string(answered) + " of " + std::to_string(kRequests) +
                      " pipelined requests, then " + Saw(r));
    }
    if (r.response.status != 200) {
      return ctx.Fail("pipelined request " + std::to_string(i) + " got " + Saw(r) + ", not 200");
    }
    if (echo) {
      auto target = EchoOf(r.response).value("target", "");
      if (target.find("seq=" + std::to_string(i)) == std::string::npos ||
          target.find("seq=" + std::to_string(i) + "0") != std::string::npos) {
        return ctx.Fail("response " + std::to_string(i) +
                        " answers another request: the backend saw " + Excerpt(target, 100) +
                        ": pipelined responses out of order");
      }
    }
    ++answered;
    if (!r.response.keep_alive) {
      // The server said it closes: it may, with notice (RFC 9112 §9.6).
      if (answered == 1) {
        return ctx.Skip("the server closes the connection after each response (Connection: " +
                        r.response.Header("Connection") + "): it does not offer pipelining");
      }
      ctx.Note("the server answered " + std::to_string(answered) +
               " pipelined requests in order, then closed with notice");
      return;
    }
  }
  ctx.Metric("pipelined", answered);
}

// RFC 9112 §6.1: a server MUST NOT send Transfer-Encoding (chunked) to an
// HTTP/1.0 client; the body is close-delimited (or has a Content-Length).
void Http10(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  std::string bytes, what;
  if (ctx.spec().HasFeature("direct_access")) {
    what = "an HTTP/1.0 GET of a 1 MiB streamed body";
    // A chunked upstream, whose framing the server must not pass on to an
    // HTTP/1.0 client (the mock's default, Content-Length, would let it
    // forward the length and never show how it frames a stream).
    if (ctx.has_backend()) {
      auto config = ctx.backend().config();
      config.framing = mocks::BodyFraming::kChunked;
      ctx.backend().SetConfig(config);
      what += " (the backend sends it chunked)";
    }
    bytes = wire.Head("GET", ctx.spec().DirectPath("large-file?size_mb=1"), {}, "HTTP/1.0");
  } else if (ctx.spec().HasFeature("chat")) {
    what = "an HTTP/1.0 streaming chat request";
    std::string body = ChatBody("Hello", true);
    bytes = wire.Head("POST", ctx.spec().chat_path,
                      {{"Content-Type", "application/json"},
                       {"Content-Length", std::to_string(body.size())}},
                      "HTTP/1.0") +
            body;
  } else {
    return ctx.Skip("the target has neither direct_access nor chat: no streamed response");
  }
  auto sent = SendAndRead(wire, what, bytes, 60s);
  if (!sent) return;
  const auto& r = sent->first;
  if (r.end == ReadEnd::kStopped) return;
  if (r.response.status == 505) return ctx.Skip("the server refuses HTTP/1.0 (505)");
  if (r.response.status == 0) {
    // A head that does not parse may still show the coding it used.
    std::string te = ToLower(r.response.head).find("\r\ntransfer-encoding:") != std::string::npos
                         ? " (its head carries Transfer-Encoding)"
                         : "";
    return ctx.Fail("expected a response to " + what + ", got " + Saw(r) + te);
  }
  if (r.response.chunked || !r.response.Header("Transfer-Encoding").empty()) {
    return ctx.Fail("expected no Transfer-Encoding in the response to an HTTP/1.0 request; got " +
                    Saw(r) + " with Transfer-Encoding: " + r.response.Header("Transfer-Encoding"));
  }
  if (r.response.status < 200 || r.response.status >= 300) {
    return ctx.Error("cannot judge: " + what + " got " + Saw(r) + ", not 2xx");
  }
  // Only a body of the size asked for shows how the server frames a stream.
  bool direct = ctx.spec().HasFeature("direct_access");
  if (r.end == ReadEnd::kResponse &&
      (direct ? r.response.body_bytes != (1u << 20) : r.response.body_bytes == 0)) {
    return ctx.Error("cannot judge: " + what + " got " + std::to_string(r.response.body_bytes) +
                     " body bytes, not " + (direct ? "the 1 MiB asked for" : "a stream"));
  }
  if (r.end != ReadEnd::kResponse) {
    return ctx.Fail("expected a whole response to " + what + ", got " + Saw(r) + " after " +
                    std::to_string(r.response.body_bytes) + " body bytes");
  }
}

// RFC 9112 §6.3 (7): a request with neither Content-Length nor
// Transfer-Encoding has no body; it is answered without waiting for one.
void NoLengthBody(CaseContext& ctx) {
  Wire wire(ctx);
  auto where = FramingPreconditions(ctx, wire);
  if (!where) return;
  constexpr auto kAtOnce = 5s;
  // The connection stays open: a server that waits for a body waits.
  auto sent =
      SendAndRead(wire, "a POST with neither Content-Length nor Transfer-Encoding",
                  wire.Head("POST", where->path, {{"Content-Type", "application/json"}}), kAtOnce);
  if (!sent) return;
  const auto& r = sent->first;
  if (r.end == ReadEnd::kStopped) return;
  if (r.end != ReadEnd::kResponse) {
    return ctx.Fail("expected an answer within " + std::to_string(kAtOnce.count()) +
                    " s to a POST without a body length, got " + Saw(r) +
                    ": the server waits for a body the request does not have");
  }
  if (r.response.status == 411) return;  // Length Required: a refusal, at once
  if (where->echo && Is2xx(r)) {
    auto echo = EchoOf(r.response);
    if (echo.value("body_length", -1) != 0) {
      ctx.Fail("expected no body at the backend for a POST without a body length, it said " +
               Excerpt(r.response.body, 200));
    }
  }
}

// ---- slow clients, limits ----

// 200 slowloris connections (one byte a second) and 1000 idle ones do not
// keep the ready path from answering within 1 s.
void SlowClients(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  constexpr int kSlow = 200, kIdle = 1000, kProbes = 5;
  constexpr auto kWithin = 1000ms;
  std::string ping = wire.Head("GET", ctx.spec().ready_path);
  // Time to a whole response to the ready path on a fresh connection; -1: none within `bound`.
  auto probe = [&](std::chrono::milliseconds bound, std::string& saw) {
    auto start = Clock::now();
    auto conn = RawConnection::Open(wire.endpoint(), bound, [&] { return ctx.stop_requested(); });
    if (!conn) return saw = "no connection: " + conn.error(), -1.0;
    (*conn)->Send(ping, bound);
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(bound - (Clock::now() - start));
    auto r = (*conn)->ReadResponse(std::max(left, 1ms));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    saw = Saw(r);
    return r.end == ReadEnd::kResponse && r.response.status == 200 ? ms : -1.0;
  };
  std::string saw;
  if (probe(kWithin, saw) < 0) {
    return ctx.Error("cannot judge: unloaded, the ready path got " + saw + " within 1 s");
  }
  // Opening them all is bounded too: a server that accepts slowly (a thread
  // per connection, a short backlog) is probed with what got open in time.
  constexpr auto kOpenBudget = 20s;
  auto open_until = Clock::now() + kOpenBudget;
  auto open_one = [&]() -> Result<std::unique_ptr<RawConnection>> {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(open_until - Clock::now());
    if (left <= 0ms) {
      return Error{"the " + std::to_string(kOpenBudget.count()) + " s for opening them ran out"};
    }
    return RawConnection::Open(wire.endpoint(),
                               std::min<std::chrono::milliseconds>(left, kConnectTimeout),
                               [&] { return ctx.stop_requested(); });
  };
  std::vector<std::unique_ptr<RawConnection>> slow, idle;
  for (int i = 0; i < kIdle && !ctx.stop_requested(); ++i) {
    auto c = open_one();
    if (!c) {
      ctx.Note("idle connection " + std::to_string(i + 1) + " failed: " + c.error() + "; ");
      break;
    }
    idle.push_back(std::move(*c));
  }
  // The slow head: a byte a second, never finished.
  std::string head = "GET " + wire.Target(ctx.spec().ready_path) +
                     " HTTP/1.1\r\nHost: " + wire.host() + "\r\nX-Slow: ";
  for (int i = 0; i < kSlow && !ctx.stop_requested(); ++i) {
    auto c = open_one();
    if (!c) {
      ctx.Note("slow connection " + std::to_string(i + 1) + " failed: " + c.error() + "; ");
      break;
    }
    (*c)->Send(head.substr(0, 1), 100ms);
    slow.push_back(std::move(*c));
  }
  ctx.Metric("idle_connections", double(idle.size()));
  ctx.Metric("slow_connections", double(slow.size()));
  double worst = 0;
  std::size_t sent_bytes = 1;
  for (int p = 0; p < kProbes && !ctx.stop_requested(); ++p) {
    auto tick = Clock::now() + 1s;
    double ms = probe(kWithin, saw);
    if (ms < 0) {
      ctx.Metric("worst_ready_ms", -1);
      return ctx.Fail("with " + std::to_string(slow.size()) + " slowloris and " +
                      std::to_string(idle.size()) + " idle connections open, the ready path got " +
                      saw + " within 1 s (probe " + std::to_string(p + 1) + ")");
    }
    worst = std::max(worst, ms);
    // The pace of the slow clients: one more byte each, about a second apart.
    while (Clock::now() < tick && !ctx.stop_requested()) {
      std::this_thread::sleep_for(std::min<Clock::duration>(tick - Clock::now(), 100ms));
    }
    char next = sent_bytes < head.size() ? head[sent_bytes] : 'a';
    ++sent_bytes;
    for (auto& c : slow) {
      if (!c->closed()) c->Send(std::string_view(&next, 1), 10ms);
    }
  }
  ctx.Metric("worst_ready_ms", worst);
  auto closed = std::count_if(slow.begin(), slow.end(), [](const auto& c) { return c->closed(); });
  ctx.Note("ready path at worst " + std::to_string(int(worst)) + " ms; the server closed " +
           std::to_string(closed) + " of " + std::to_string(slow.size()) + " slow connections");
}

// A gzip stream that inflates to `inflated` zero bytes (a few hundred KiB).
const std::string& GzipBomb(std::size_t inflated) {
  static const std::string bomb = [inflated] {
    z_stream z{};
    deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
    std::string zeros(1 << 20, ' ');
    std::string out;
    char buf[1 << 16];
    for (std::size_t done = 0; done < inflated; done += zeros.size()) {
      z.next_in = reinterpret_cast<Bytef*>(zeros.data());
      z.avail_in = uInt(zeros.size());
      int flush = done + zeros.size() >= inflated ? Z_FINISH : Z_NO_FLUSH;
      do {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        deflate(&z, flush);
        out.append(buf, sizeof buf - z.avail_out);
      } while (z.avail_out == 0);
    }
    deflateEnd(&z);
    return out;
  }();
  return bomb;
}

// RFC 9110 §15.5.14: a body over the server's limit gets 413; and a
// compressed body (RFC 9110 §8.4) is not inflated without a bound.
void BodyLimits(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  BodyPath where =
      ctx.spec().HasFeature("chat") ? BodyPath{ctx.spec().chat_path, false} : BodyPathOf(ctx);
  if (where.path.empty()) return ctx.Skip("the target has neither chat nor direct_access");
  std::uint64_t over = ctx.spec().max_upload_bytes ? ctx.spec().max_upload_bytes + 1
                                                   : std::uint64_t(1) << 40;  // 1 TiB
  // The head alone says the body is too large: a 413 can come at once.
  auto sent = SendAndRead(
      wire, "a Content-Length of " + std::to_string(over) + " bytes",
      wire.Head("POST", where.path,
                {{"Content-Type", "application/json"}, {"Content-Length", std::to_string(over)}}) +
          std::string(64 * 1024, ' '),
      5s);
  if (!sent) return;
  if (sent->first.end == ReadEnd::kStopped) return;
  if (!(sent->first.end == ReadEnd::kResponse && sent->first.response.status == 413)) {
    ctx.Fail("expected 413 for a " + std::to_string(over) + "-byte body (" +
             (ctx.spec().max_upload_bytes ? "over the spec's max_upload_bytes"
                                          : "1 TiB, over any limit") +
             "), got " + Saw(sent->first));
  }
  sent.reset();

  // The gzip bomb: 256 MiB of spaces in a few hundred KiB.
  constexpr std::size_t kInflated = 256u << 20;
  const std::string& bomb = GzipBomb(kInflated);
  std::string bytes = wire.Head("POST", where.path,
                                {{"Content-Type", "application/json"},
                                 {"Content-Encoding", "gzip"},
                                 {"Content-Length", std::to_string(bomb.size())}}) +
                      bomb;
  auto scope = ctx.Memory();
  std::optional<harness::MemorySampler> sampler;
  if (scope) {
    sampler.emplace(*scope);
    sampler->Start();
  }
  auto bombed = SendAndRead(
      wire, "a " + std::to_string(bomb.size() / 1024) + " KiB gzip body that inflates to 256 MiB",
      bytes, 60s);
  if (!bombed || bombed->first.end == ReadEnd::kStopped) return;
  const auto& r = bombed->first;
  if (r.end != ReadEnd::kResponse) {
    ctx.Fail("expected an answer to a gzip bomb, got " + Saw(r));
  }
  if (sampler) {
    auto summary = sampler->Stop();
    ctx.Metric("pss_growth_mib", summary.pss_growth_mib());
    ctx.Metric("rss_growth_mib", summary.rss_growth_mib());
    ctx.Memory(summary.curve);
    double limit = ctx.options().memory_limit_mib;
    if (summary.pss_growth_mib() > limit) {
      ctx.Fail("the server's memory grew by " + std::to_string(int(summary.pss_growth_mib())) +
               " MiB (over " + std::to_string(int(limit)) + ") on a " +
               std::to_string(bomb.size() / 1024) +
               " KiB gzip body: it inflated the body without a bound");
    }
  } else {
    // Judged by the answer only: a refusal of the coding, or of the size.
    ctx.Note("memory not measured (" + scope.error() + "): judged by the answer; ");
    if (Is2xx(r)) {
      ctx.Fail("the server's memory cannot be seen here, and it answered a gzip bomb with " +
               Saw(r) + ": it inflated 256 MiB");
    }
  }
}

// RFC 6585 §5: 10,000 header fields get 431 (or 400).
void HeaderCount(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  Fields many;
  for (int i = 0; i < 10'000; ++i) many.emplace_back("X-H" + std::to_string(i), "v");
  auto sent =
      SendAndRead(wire, "10,000 header fields", wire.Head("GET", ctx.spec().ready_path, many));
  if (!sent || sent->first.end == ReadEnd::kStopped) return;
  const auto& r = sent->first;
  if (!(r.end == ReadEnd::kResponse && (r.response.status == 431 || r.response.status == 400))) {
    ctx.Fail("expected 431 (or 400) for 10,000 header fields, got " + Saw(r));
  }
}

// ---- the proxy ----

// Splits a request head into its lines at CR, LF or CRLF: how a lenient
// backend might read it.
std::vector<std::string> LenientLines(const std::string& head) {
  std::vector<std::string> out;
  std::string line;
  for (char c : head) {
    if (c == '\r' || c == '\n') {
      if (!line.empty()) out.push_back(line);
      line.clear();
    } else {
      line += c;
    }
  }
  if (!line.empty()) out.push_back(line);
  return out;
}

// RFC 9112 §2.2, RFC 9110 §5.5: CR/LF in a header value, percent-encoded
// or raw, never becomes a header or a request at the backend.
void HeaderInjection(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  static const std::regex request_line("[A-Za-z]+ [^ ]+ HTTP/[0-9.]+");
  auto heads_for = [&](const std::string& marker) {
    std::vector<std::string> out;
    for (const auto& h : ctx.backend().stats().request_heads) {
      if (h.find(marker) != std::string::npos) out.push_back(h);
    }
    return out;
  };
  struct Probe {
    std::string what;
    std::string value;
  };
  const std::vector<Probe> probes = {
      {"a plain value (control)", "plain"},
      {"a percent-encoded CRLF",
       "a%0D%0AX-Injected: 1%0D%0A%0D%0AGET /smuggled HTTP/1.1%0D%0AX: y"},
      {"a percent-encoded LF", "a%0aX-Injected: 2"},
      {"a raw CR", "a\rX-Injected: 3"},
  };
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const auto& p = probes[i];
    std::string marker = "probe=" + std::to_string(i);
    std::string bytes = wire.Head("GET", ctx.spec().DirectPath("echo?" + marker),
                                  {{"X-Probe", p.value}, {"Connection", "close"}});
    auto sent = SendAndRead(wire, p.what, bytes);
    if (!sent || sent->first.end == ReadEnd::kStopped) return;
    const auto& r = sent->first;
    auto heads = heads_for(marker);
    for (const auto& h : ctx.backend().stats().request_heads) {
      if (h.find("/smuggled") != std::string::npos && h.find("GET /smuggled") == 0) {
        return ctx.Fail(p.what +
                        " in a header value became a request at the backend: " + Excerpt(h, 200));
      }
    }
    if (i == 0) {
      if (!Is2xx(r) || heads.empty()) {
        return ctx.Error("cannot judge: a plain GET " + ctx.spec().DirectPath("echo") + " got " +
                         Saw(r) + (heads.empty() ? ", and the backend saw no request" : ""));
      }
      continue;
    }
    for (const auto& h : heads) {
      auto lines = LenientLines(h);
      int request_lines = 0;
      for (const auto& line : lines) {
        if (std::regex_match(line, request_line)) ++request_lines;
        if (ToLower(line).rfind("x-injected", 0) == 0) {
          return ctx.Fail(p.what + " in a header value became a header line at the backend: `" +
                          Excerpt(line, 100) + "`");
        }
      }
      if (request_lines > 1) {
        return ctx.Fail(p.what +
                        " in a header value put a second request line into the head "
                        "the backend got: " +
                        Excerpt(h, 300));
      }
    }
    if (Is2xx(r) && heads.empty()) {
      ctx.Error("cannot judge " + p.what + ": the server answered " + Saw(r) +
                " but the backend saw no request for it");
    }
  }
}

// A backend request of this probe that arrived whole (the mock's echo
// records a request only once its body is complete).
bool BackendGotWhole(CaseContext& ctx, const std::string& marker) {
  auto last = ctx.backend().stats().last_request;
  return last.is_object() && last.value("target", "").find(marker) != std::string::npos;
}

// RFC 9112 §8 and §7.1: an upload that breaks off (the client dies, or a
// chunk is invalid) never reaches the backend as a complete request; a bad
// chunk is answered 400, never 2xx.
void TruncatedUpload(CaseContext& ctx) {
  Wire wire(ctx);
  if (!ReadyControl(ctx, wire)) return;
  auto path = [&](const std::string& marker) { return ctx.spec().DirectPath("echo?" + marker); };
  // Controls: whole uploads arrive whole. The Content-Length one must, else
  // nothing can be judged; a server that takes no chunked uploads (some WSGI
  // apps) is still judged, since it can only refuse the chunked probes.
  for (bool chunked : {false, true}) {
    std::string body(1000, 'x'), marker = chunked ? "upload=0c" : "upload=0";
    std::string what =
        std::string("a whole ") + (chunked ? "chunked" : "Content-Length") + " upload";
    Fields fields = {chunked ? std::pair<std::string, std::string>{"Transfer-Encoding", "chunked"}
                             : std::pair<std::string, std::string>{"Content-Length", "1000"}};
    auto sent = SendAndRead(
        wire, "control: " + what,
        wire.Head("POST", path(marker), fields) + (chunked ? harness::Chunked(body) : body));
    if (!sent || sent->first.end == ReadEnd::kStopped) return;
    auto last = ctx.backend().stats().last_request;
    if (!Is2xx(sent->first) || !BackendGotWhole(ctx, marker) ||
        last.value("body_length", -1) != 1000) {
      std::string saw =
          what + " got " + Saw(sent->first) + " and the backend saw " + Excerpt(last.dump(), 200);
      if (!chunked) return ctx.Error("cannot judge: " + saw);
      ctx.Note(saw + "; ");
    }
  }
  struct Probe {
    std::string what;
    std::string marker;
    Fields fields;
    std::string body;
    enum { kRespond, kReset, kHalfClose } then;
  };
  const std::vector<Probe> probes = {
      {"an invalid chunk size",
       "upload=1",
       {{"Transfer-Encoding", "chunked"}},
       "5\r\nhello\r\nzz\r\n",
       Probe::kRespond},
      {"a chunked upload whose client dies mid-chunk",
       "upload=2",
       {{"Transfer-Encoding", "chunked"}},
       "a\r\n01234",
       Probe::kReset},
      {"a Content-Length upload whose client dies mid-body",
       "upload=3",
       {{"Content-Length", "100"}},
       "0123456789",
       Probe::kReset},
      {"a Content-Length upload whose client half-closes mid-body",
       "upload=4",
       {{"Content-Length", "100"}},
       "0123456789",
       Probe::kHalfClose},
  };
  for (const auto& p : probes) {
    auto requests_before = ctx.backend().stats().requests;
    auto conn = wire.Open();
    if (!conn) return;
    std::string bytes = wire.Head("POST", path(p.marker), p.fields) + p.body;
    conn->Send(bytes);
    if (p.then == Probe::kRespond) {
      auto r = conn->ReadResponse(kAnswer);
      wire.Record(p.what, bytes, r);
      if (r.end == ReadEnd::kStopped) return;
      if (Is2xx(r)) ctx.Fail("expected 400 for " + p.what + ", got " + Saw(r));
      if (r.end == ReadEnd::kResponse && r.response.status != 400) {
        ctx.Note(p.what + " got " + Saw(r) + " (400 expected); ");
      }
    } else {
      // Once the backend has the head (a streaming proxy forwards it before
      // the body, within milliseconds; a buffering one never sends it, so
      // this wait is only 1 s), the client breaks off.
      auto until = Clock::now() + 1s;
      while (Clock::now() < until && !ctx.stop_requested() &&
             ctx.backend().stats().requests == requests_before) {
        std::this_thread::sleep_for(20ms);
      }
      if (p.then == Probe::kReset) {
        conn->Reset();
      } else {
        conn->ShutdownWrite();
        auto r = conn->ReadResponse(kAnswer);
        wire.Record(p.what, bytes, r);
        if (Is2xx(r)) ctx.Fail("expected no 2xx for " + p.what + ", got " + Saw(r));
      }
    }
    // The backend must not get it whole: watched for a while, since the
    // proxy may still be ending its side.
    auto until = Clock::now() + 2s;
    while (Clock::now() < until && !ctx.stop_requested()) {
      if (BackendGotWhole(ctx, p.marker)) {
        auto last = ctx.backend().stats().last_request;
        return ctx.Fail("after " + p.what + " the backend got a complete request of " +
                        std::to_string(last.value("body_length", -1)) +
                        " body bytes: the break was hidden from it");
      }
      std::this_thread::sleep_for(50ms);
    }
  }
}

CaseDef Server(const Row& row, std::function<void(CaseContext&)> body) {
  return MakeCase("server", "", row, std::move(body));
}
CaseDef Direct(const Row& row, std::function<void(CaseContext&)> body) {
  return MakeCase("direct", "direct_access", row, std::move(body));
}

}  // namespace

std::vector<CaseDef> HttpDirectCases() {
  return {
      Direct({"direct.header-injection", Level::kMust,
              "CR/LF in a forwarded header value, percent-encoded or raw, never becomes a header "
              "or a request at the backend",
              "raw socket: GET echo with `X-Probe` values holding %0D%0A, %0a and a raw CR; the "
              "mock's raw request heads, split at any CR or LF, must have no `X-Injected` line "
              "and one request line; a 400 passes. A plain value must reach the backend first.",
              "RFC 9112 §2.2 (bare CR), RFC 9110 §5.5 (field values)", "direct-header-injection",
              BackendUse::kCalls,
              "the ready path and a plain echo GET answered 2xx on a raw connection, that GET seen "
              "by the backend (none: error)"},
             HeaderInjection),
      Direct({"direct.truncated-upload", Level::kMust,
              "an upload that breaks off never reaches the backend as a complete request; a bad "
              "chunk gets 400",
              "raw socket: an invalid chunk size (no 2xx), a chunked and a Content-Length upload "
              "whose client resets mid-body, one that half-closes mid-body; the mock's echo must "
              "not record any of them whole (watched 2 s). A whole Content-Length upload must "
              "arrive whole first (a whole chunked one is tried and noted).",
              "RFC 9112 §7.1 (chunked), §8 (incomplete messages)", "direct-truncated-upload",
              BackendUse::kCalls,
              "the ready path answered 200, and a whole Content-Length upload reached the backend "
              "whole (none: error)"},
             TruncatedUpload),
  };
}

std::vector<CaseDef> HttpServerCases() {
  return {
      Server({"server.request-line", Level::kMust,
              "a malformed request line gets 400 or a closed connection, and the server goes on",
              "raw socket: `GARBAGE / NOT-HTTP`, a fourth word, `HTTP/` without numbers, "
              "`http/1.1`; each must get 400 or a close (an HTTP/0.9-style error then a close "
              "counts) within 10 s; the ready path must answer 200 before and after.",
              "RFC 9112 §3 (request line), §2.2 (400 and close)", "server-request-line",
              BackendUse::kNone, "the ready path answered 200 on a raw connection (none: error)"},
             RequestLine),
      Server(
          {"server.cl-te", Level::kMust,
           "Content-Length with Transfer-Encoding is refused or read by Transfer-Encoding "
           "alone, and the connection closes after the response",
           "raw socket: a POST with both, whose chunked body holds a whole GET that only a "
           "Content-Length reader would see; one response (4xx, or 2xx with the chunked body "
           "whole at the echo), then the close within 2 s, never a second response. A well-formed "
           "Content-Length POST must get 2xx first.",
           "RFC 9112 §6.1 (MAY reject, or process by TE; regardless MUST close), §11.2",
           "server-cl-te", BackendUse::kNone,
           "the ready path answered 200 and a well-formed Content-Length POST got 2xx on a raw "
           "connection (none: error)"},
          ClTe),
      Server({"server.content-length", Level::kMust, "Content-Length values that differ get 400",
              "raw socket: two Content-Length lines (3 and 5, then 5 and 3) and `Content-Length: "
              "5, 3`, each with a 5-byte body; each must get 400.",
              "RFC 9112 §6.3 item 5; RFC 9110 §8.6", "server-content-length", BackendUse::kNone,
              "the ready path answered 200 and a well-formed Content-Length POST got 2xx on a raw "
              "connection (none: error)"},
             ContentLength),
      Server({"server.transfer-encoding", Level::kShould,
              "an obfuscated Transfer-Encoding is refused (4xx, 501) or the connection closed",
              "raw socket: `chunked, identity`, `xchunked`, `chunked` on two lines: each a 4xx, "
              "5xx or a close; ` chunked` (leading whitespace, which is chunked) read as chunked "
              "or refused, never its chunk taken as a request.",
              "RFC 9112 §6.1 (501 for unknown codings), §6.3 item 4, §7 (chunked once)",
              "server-transfer-encoding", BackendUse::kNone,
              "the ready path answered 200 and a well-formed Content-Length POST got 2xx on a raw "
              "connection (none: error)"},
             TransferEncoding),
      Server({"server.large-header", Level::kShould, "a 64 KiB header field gets 431 (or 400)",
              "raw socket: GET the ready path with one 64 KiB field; 431 or 400 within 10 s.",
              "RFC 6585 §5 (431); RFC 9110 §5.4 (field limits)", "server-large-header",
              BackendUse::kNone, "the ready path answered 200 on a raw connection (none: error)"},
             LargeHeader),
      Server({"server.header-size", Level::kInfo,
              "records the largest single header field the server accepts",
              "raw socket: GET the ready path with one field of 4 to 128 KiB; each answer is "
              "recorded, the largest answered 200 is `largest_header_kib`.",
              "RFC 9110 §5.4 (a server chooses its field limits)", "", BackendUse::kNone,
              "the ready path answered 200 on a raw connection (none: error)"},
             HeaderSize),
      Server({"server.keep-alive", Level::kInfo,
              "records whether a connection is reused for a second request",
              "raw socket: two GETs of the ready path on one connection; `keep_alive` is 1 when "
              "the second was answered on it.",
              "RFC 9112 §9.3 (persistence)", "", BackendUse::kNone,
              "the ready path answered 200 on a raw connection (none: error)"},
             KeepAlive),
      Server({"server.desync", Level::kMust,
              "after framing that is refused or in doubt the connection closes: later bytes "
              "never get a response",
              "raw socket: two different Content-Lengths, `Content-Length: 5, 3`, an invalid "
              "chunk size, `Transfer-Encoding: gzip`; after each answer a GET of the ready path "
              "in a later segment must get no response and the connection must close within 2 s. "
              "(Content-Length with Transfer-Encoding: server.cl-te.)",
              "RFC 9112 §6.3 items 4 and 5 (400, then close), §11.2 (request smuggling)",
              "server-desync", BackendUse::kNone,
              "the ready path answered 200 and a well-formed Content-Length POST got 2xx on a raw "
              "connection (none: error)"},
             Desync),
      Server({"server.pipelining", Level::kMust, "8 pipelined requests get 8 responses, in order",
              "raw socket: 8 GETs in one write (echo?seq=N where direct_access, else the ready "
              "path); 8 responses of 200 within 10 s each, the echo's seq in order. One such GET "
              "alone must get 200 first; a server that closes with notice after the first "
              "response is a skip.",
              "RFC 9112 §9.3.2 (pipelining: responses in order)", "server-pipelining",
              BackendUse::kNone,
              "the ready path answered 200, and one of the GETs alone got 200 (none: error)"},
             Pipelining),
      Server({"server.http10", Level::kMust, "an HTTP/1.0 request never gets a chunked response",
              "raw socket: `GET <direct>large-file?size_mb=1 HTTP/1.0`, the mock (where there is "
              "one) sending it chunked (else a streaming chat POST); the 2xx response has no "
              "Transfer-Encoding and arrives whole (close-delimited or by Content-Length). 505 is "
              "a skip.",
              "RFC 9112 §6.1 (no Transfer-Encoding to HTTP/1.0), §6.3 item 8", "server-http10",
              BackendUse::kNone,
              "the ready path answered 200 on a raw connection, and the HTTP/1.0 request got a 2xx "
              "(else: error)"},
             Http10),
      Server({"server.no-length-body", Level::kMust,
              "a request with neither Content-Length nor Transfer-Encoding has no body and is "
              "answered at once",
              "raw socket: a POST with neither, the connection left open; an answer within 5 s "
              "(411 passes), and the echo's body_length 0.",
              "RFC 9112 §6.3 item 7 (no body)", "server-no-length-body", BackendUse::kNone,
              "the ready path answered 200 and a well-formed Content-Length POST got 2xx on a raw "
              "connection (none: error)"},
             NoLengthBody),
      Server({"server.slow-clients", Level::kShould,
              "with 200 slowloris and 1000 idle connections open the ready path answers within "
              "1 s",
              "raw socket: 1000 idle connections, 200 sending a request head one byte a second; "
              "5 GETs of the ready path on fresh connections, a second apart, each answered 200 "
              "within 1 s. Opening the connections is bounded at 20 s; what opened is noted.",
              "RFC 9112 §9.5 (timeouts); slowloris (CVE-2007-6750)", "server-slow-clients",
              BackendUse::kNone,
              "the ready path answered 200 within 1 s on a raw connection, unloaded (none: error)"},
             SlowClients),
      Server({"server.body-limits", Level::kShould,
              "a body over the limit gets 413 and a gzip body is not inflated without a bound",
              "raw socket: POST (chat, else echo) with a Content-Length over max_upload_bytes (1 "
              "TiB when the spec sets none): 413 within 5 s; then a ~250 KiB gzip body that "
              "inflates to 256 MiB: the server's PSS may grow at most memory_limit_mib (where it "
              "cannot be seen: no 2xx).",
              "RFC 9110 §15.5.14 (413), §8.4 (content codings)", "server-body-limits",
              BackendUse::kNone, "the ready path answered 200 on a raw connection (none: error)"},
             BodyLimits),
      Server({"server.header-count", Level::kShould, "10,000 header fields get 431 (or 400)",
              "raw socket: GET the ready path with 10,000 fields; 431 or 400 within 10 s.",
              "RFC 6585 §5 (431)", "server-header-count", BackendUse::kNone,
              "the ready path answered 200 on a raw connection (none: error)"},
             HeaderCount),
  };
}

}  // namespace streamcheck::suites
