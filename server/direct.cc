// The /directAccess/<path> reverse proxy: the request (any method, path and
// query byte for byte, end-to-end headers, the body streamed as it arrives)
// goes to the backend, and the response comes back as it arrives, read from
// the backend only as fast as the client takes it. A Content-Length body moves
// by splice(2) when it can; everything else through one bounded buffer.
#include <deque>
#include <set>
#include <sstream>

#include "common/text.h"
#include "server/connection.h"
#include "server/faults.h"
#include "server/proxy_rules.h"
#include "server/splice_pump.h"
#include "sse/sse_parser.h"

namespace streamcheck::server {
namespace {

using BodyRead = Connection::BodyRead;
using Framing = Connection::Framing;

constexpr std::size_t kPiece = 256 * 1024;
constexpr std::size_t kReadBuffer = 64 * 1024;  // Beast reads at most 64 KiB at a time anyway
const std::string kPrefix = "/directAccess/";

// direct-query-repeated: "?a=1&a=2&b=3" -> "?a=1&b=3".
std::string FirstValues(const std::string& query) {
  if (query.empty()) return query;
  std::set<std::string> seen;
  std::string out;
  std::size_t start = 1;
  while (start <= query.size()) {
    auto amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    std::string pair = query.substr(start, amp - start);
    if (seen.insert(pair.substr(0, pair.find('='))).second) out += (out.empty() ? "?" : "&") + pair;
    start = amp + 1;
  }
  return out;
}

// The faults that change body bytes or how they are held: they need the
// buffered path.
bool BodyFaultActive() {
  for (Fault f : {Fault::kDirectLargeGet, Fault::kDirectIntegrity, Fault::kDirectIncremental,
                  Fault::kDirectMemoryBounded, Fault::kDirectBackpressure,
                  Fault::kDirectBackpressureReadAhead, Fault::kDirectSsePassthrough,
                  Fault::kDirectResponseFraming, Fault::kDirectTruncationVisible,
                  Fault::kDirectClientAbort}) {
    if (FaultOn(f)) return true;
  }
  return false;
}

// direct-client-abort: backend calls left open and unread, for good.
std::vector<std::unique_ptr<BackendCall>>& Parked() {
  static std::vector<std::unique_ptr<BackendCall>> parked;
  return parked;
}

class ProxyExchange : public std::enable_shared_from_this<ProxyExchange> {
 public:
  explicit ProxyExchange(std::shared_ptr<Connection> connection)
      : conn_(std::move(connection)), address_(conn_->core().backend) {}

  void Start() {
    const auto& req = conn_->request();
    std::string rest(conn_->target().substr(kPrefix.size()));
    auto question = rest.find('?');
    std::string raw_path = rest.substr(0, question);
    std::string query = question == std::string::npos ? "" : rest.substr(question);
    if (FaultOn(Fault::kDirectQueryString)) query.clear();
    if (FaultOn(Fault::kDirectQueryRepeated)) query = FirstValues(query);
    auto target = BackendTarget(raw_path, query);
    if (!target) {
      return conn_->SendError(400, "path leaves the backend: /directAccess/" + raw_path,
                              "invalid_request_error");
    }
    std::uint64_t limit = conn_->core().options.max_body_bytes;
    if (limit > 0 && conn_->body_length() && *conn_->body_length() > limit &&
        !FaultOn(Fault::kServerBodyLimits)) {
      conn_->NoKeepAlive();
      return conn_->SendError(413, "request body over " + std::to_string(limit) + " bytes",
                              "invalid_request_error");
    }
    head_request_ = req.method() == http::verb::head;

    http::request<http::empty_body> out;
    out.version(11);
    std::string method(req.method_string());
    if (FaultOn(Fault::kDirectMethods) && method == "PUT") method = "POST";
    out.method_string(method);
    out.target(*target);
    out.set(http::field::host, address_.authority);
    auto hop = HopByHopHeaders(req[http::field::connection]);
    for (const auto& f : req) {
      std::string lower = ToLower(std::string(f.name_string()));
      // Framing is ours to set, Host is the backend's, and the client's
      // Expect was answered here (RFC 9110 §10.1.1).
      bool own = lower == "host" || lower == "content-length" || lower == "transfer-encoding" ||
                 lower == "expect";
      if (own || (hop.count(lower) && !FaultOn(Fault::kDirectRequestHeaders))) continue;
      std::string value(f.value());
      if (FaultOn(Fault::kDirectHeaderInjection)) {
        value = PercentDecode(value);  // the fault: decoded and sent raw
      } else if (!SafeFieldValue(value)) {
        return conn_->SendError(400, "a header value holds a line break", "invalid_request_error");
      }
      out.insert(f.name_string(), value);
    }
    if (conn_->has_body()) {
      bool drop =
          FaultOn(Fault::kDirectMethodsExtended) && (method == "DELETE" || method == "PATCH");
      if (drop) {
        upload_ = Upload::kDiscard;
      } else if (FaultOn(Fault::kDirectLargeUpload)) {
        upload_ = Upload::kWhole;
      } else if (conn_->body_length() && !FaultOn(Fault::kDirectTruncatedUpload)) {
        upload_ = Upload::kLength;
        out.set(http::field::content_length, std::to_string(*conn_->body_length()));
      } else {
        upload_ = Upload::kChunked;
        out.set(http::field::transfer_encoding, "chunked");
      }
    }
    if (!conn_->has_body() && (method == "POST" || method == "PUT" || method == "PATCH")) {
      // RFC 9110 §8.6: a method that gives content a meaning says its length,
      // so the backend does not wait for a body (RFC 9112 §6.3 (7) holds here).
      out.set(http::field::content_length, "0");
    }
    request_head_ = out;
    if (upload_ == Upload::kDiscard || upload_ == Upload::kWhole) return ReadBodyFirst();
    Connect();
  }

 private:
  enum class Upload { kNone, kLength, kChunked, kDiscard, kWhole };

  // The backend target for a path that stays inside the backend, or nullopt.
  std::optional<std::string> BackendTarget(const std::string& raw_path, const std::string& query) {
    if (FaultOn(Fault::kDirectPathConfined)) {
      // urljoin(backend + "/", path): a path that is a URL, or starts with
      // "//", names its own host.
      std::string url;
      if (raw_path.rfind("http://", 0) == 0) url = raw_path;
      if (raw_path.rfind("/", 0) == 0) url = "http:/" + raw_path;
      if (!url.empty()) {
        auto slash = url.find('/', 7);
        auto other = ParseBackendUrl(url.substr(0, slash));
        if (other) {
          address_ = *other;
          address_.base_path.clear();
          return (slash == std::string::npos ? "/" : url.substr(slash)) + query;
        }
      }
    }
    auto path = ConfinedPath(raw_path);
    if (!path) return std::nullopt;
    return address_.base_path + "/" + *path + query;
  }

  BackendTimeouts Timeouts() const {
    auto t = conn_->core().timeouts();
    if (FaultOn(Fault::kDirectStallSurvives)) t.idle = std::chrono::milliseconds(1'000);
    if (FaultOn(Fault::kDirectBackendTimeout)) t.headers = std::chrono::hours(1);
    return t;
  }

  // direct-methods-extended and direct-large-upload: the body is read whole
  // (and dropped, or held) before the backend is asked.
  void ReadBodyFirst() {
    conn_->ReadWholeBody(std::size_t(-1), [self = shared_from_this()](BodyRead r, std::string b) {
      if (r != BodyRead::kDone) return self->conn_->Abort();
      if (self->upload_ == Upload::kWhole) {
        self->held_body_ = std::move(b);
        self->request_head_.set(http::field::content_length,
                                std::to_string(self->held_body_.size()));
      }
      self->upload_ = Upload::kNone;
      self->Connect();
    });
  }

  void Connect() {
    std::ostringstream head;
    head << request_head_.base();
    request_bytes_ = head.str() + held_body_;
    held_body_.clear();
    backend_ = std::make_unique<BackendCall>(conn_->executor(), Timeouts(), kReadBuffer);
    conn_->OnClientGone([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->ClientLeft();
    });
    backend_->Connect(address_, [self = shared_from_this()](BackendFailure f) {
      if (f != BackendFailure::kNone) return self->OpenFailed(f);
      self->backend_->Write(asio::buffer(self->request_bytes_), [self](BackendFailure wf) {
        std::string().swap(self->request_bytes_);
        if (wf != BackendFailure::kNone) return self->OpenFailed(wf);
        bool uploading = self->upload_ == Upload::kLength || self->upload_ == Upload::kChunked;
        // The backend may answer before the body is all sent (an early 413):
        // its head is read meanwhile, timed only once the upload is done.
        self->backend_->ReadHead(self->head_request_, !uploading,
                                 [self](BackendFailure hf) { self->OnHead(hf); });
        if (uploading) {
          self->uploading_ = true;
          self->UploadNext();
        } else {
          self->conn_->WatchClient();
        }
      });
    });
  }

  void UploadNext() {
    conn_->ReadBody([self = shared_from_this()](BodyRead r, std::string_view piece) {
      if (!self->uploading_) return;  // the backend answered first
      switch (r) {
        case BodyRead::kPiece: {
          auto sent = [self](BackendFailure f) {
            if (!self->uploading_) return;
            if (f != BackendFailure::kNone) return self->UploadRefused();
            self->UploadNext();
          };
          if (self->upload_ == Upload::kChunked) {
            return self->backend_->WriteChunk(asio::buffer(piece.data(), piece.size()), sent);
          }
          return self->backend_->Write(asio::buffer(piece.data(), piece.size()), sent);
        }
        case BodyRead::kDone:
          return self->UploadDone();
        default:
          return self->UploadBroken(r);
      }
    });
  }

  void UploadDone() {
    auto finished = [self = shared_from_this()](BackendFailure f) {
      if (!self->uploading_) return;
      self->uploading_ = false;
      if (f != BackendFailure::kNone) return self->UploadRefused();
      self->backend_->ArmHeadersTimer();
      self->conn_->WatchClient();
    };
    if (upload_ == Upload::kChunked) return backend_->WriteLastChunk(finished);
    finished(BackendFailure::kNone);
  }

  // The backend stopped taking the body: its answer, if any, is what counts.
  void UploadRefused() {
    uploading_ = false;
    conn_->NoKeepAlive();
    backend_->ArmHeadersTimer();
  }

  // The client's upload broke (gone, invalid chunk, too large): the backend
  // must never see a complete request, so its connection is dropped.
  void UploadBroken(BodyRead r) {
    if (FaultOn(Fault::kDirectTruncatedUpload)) return UploadDone();  // the fault: a clean end
    uploading_ = false;
    upload_failed_ = true;
    backend_->Abort();
    if (r == BodyRead::kInvalid) {
      return conn_->SendError(400, "malformed request body (chunked framing)",
                              "invalid_request_error");
    }
    if (r == BodyRead::kTooLarge) {
      return conn_->SendError(
          413,
          "request body over " + std::to_string(conn_->core().options.max_body_bytes) + " bytes",
          "invalid_request_error");
    }
    conn_->Abort();
  }

  void OpenFailed(BackendFailure f) {
    if (conn_->closed() || upload_failed_) return;
    uploading_ = false;
    if (FaultOn(Fault::kDirectBackendDown) && f == BackendFailure::kConnect) {
      return conn_->SendComplete(200, "application/json", "{}");
    }
    if (f == BackendFailure::kTimeout) {
      return conn_->SendError(504, "backend timed out: " + Describe(f, backend_->timeouts()),
                              "backend_timeout");
    }
    conn_->SendError(502, "backend unreachable: " + Describe(f, backend_->timeouts()),
                     "backend_unreachable");
  }

  void OnHead(BackendFailure f) {
    if (upload_failed_ || conn_->closed()) return;
    if (f != BackendFailure::kNone) return OpenFailed(f);
    if (uploading_) {
      // An early answer: the rest of the client's body is left unread.
      uploading_ = false;
      conn_->NoKeepAlive();
    }
    int status = backend_->status();
    if (FaultOn(Fault::kDirectStatusPassthrough) && status >= 400) {
      backend_->Abort();
      return conn_->SendError(502, "the backend failed", "backend_error");
    }
    const auto& got = backend_->parser().get();
    http::response<http::empty_body> head;
    head.result(unsigned(status));
    head.reason(got.reason());
    auto hop = HopByHopHeaders(got[http::field::connection]);
    std::string content_range;
    for (const auto& field : got) {
      std::string lower = ToLower(std::string(field.name_string()));
      if (hop.count(lower) || lower == "content-length") continue;
      if (FaultOn(Fault::kDirectContentCoding) && lower == "content-encoding") continue;
      if (lower == "content-range") content_range = std::string(field.value());
      head.insert(field.name_string(), field.value());
    }
    if (FaultOn(Fault::kDirectRange) && !content_range.empty()) {
      head.insert(http::field::content_range, "bytes 0-0/*");  // a second, conflicting one
    }
    type_ = std::string(got[http::field::content_type]);
    auto length = backend_->parser().content_length();
    bool no_body =
        head_request_ || status == 204 || status == 304 || (status >= 100 && status < 200);
    if (no_body) {
      // A HEAD answer keeps its Content-Length: the size a GET would have.
      Framing framing = head_request_ && length ? Framing::kLength : Framing::kNone;
      backend_->Abort();
      return conn_->SendHead(head, framing, length.value_or(0),
                             [self = shared_from_this()](bool ok) {
                               if (ok) self->conn_->Finish();
                             });
    }
    if (FaultOn(Fault::kDirectIncremental) || FaultOn(Fault::kDirectMemoryBounded) ||
        FaultOn(Fault::kDirectBackpressure)) {
      head_ = head;
      return ReadAllThenSend();
    }
    bool keep_length = length && !FaultOn(Fault::kDirectTruncationVisible) &&
                       !FaultOn(Fault::kDirectResponseFraming) &&
                       !(FaultOn(Fault::kDirectSsePassthrough) && IsEventStream());
    if (FaultOn(Fault::kDirectResponseFraming) && length) {
      head.set(http::field::content_length, std::to_string(*length));
    }
    length_ = length.value_or(0);
    piece_ = std::make_unique<char[]>(kPiece);
    Framing framing = keep_length ? Framing::kLength : Framing::kChunked;
    conn_->SendHead(head, framing, length_, [self = shared_from_this(), keep_length](bool ok) {
      if (!ok) return;
      if (FaultOn(Fault::kDirectBackpressureReadAhead)) return self->ReadAhead();
      if (keep_length && self->conn_->core().options.zero_copy && !BodyFaultActive()) {
        return self->SpliceBody();
      }
      self->Relay();
    });
  }

  bool IsEventStream() const { return ToLower(type_).rfind("text/event-stream", 0) == 0; }

  // ---- the bounded-buffer path ----

  // Two pieces: the next one is read from the backend while the last one is
  // written to the client, never more. A piece is read only into a buffer the
  // client has taken, so a slow client still slows the backend.
  void Relay() {
    if (!spare_) spare_ = std::make_unique<char[]>(kPiece);
    Read(piece_.get());
  }

  void Read(char* into) {
    backend_->ReadBody(
        into, kPiece,
        [self = shared_from_this(), into](BackendFailure f, std::size_t n, bool done) {
          self->read_ = ReadPiece{into, n, f, done};
          self->Pump();
        });
  }

  void Pump() {
    if (conn_->closed() || sending_ || !read_) return;
    ReadPiece p = *read_;
    read_.reset();
    bool more = p.failure == BackendFailure::kNone && !p.done;
    if (more) Read(p.data == piece_.get() ? spare_.get() : piece_.get());
    std::string_view bytes = p.n > 0 ? Transform(p.data, p.n, p.done) : std::string_view();
    if (bytes.empty()) return AfterPiece(p.failure, p.done);
    sending_ = true;
    conn_->SendBody(asio::buffer(bytes.data(), bytes.size()),
                    [self = shared_from_this(), p](bool ok) {
                      self->sending_ = false;
                      if (ok) self->AfterPiece(p.failure, p.done);
                    });
  }

  void AfterPiece(BackendFailure f, bool done) {
    if (f != BackendFailure::kNone) {
      // direct-truncation-visible: a clean end after a broken backend.
      if (FaultOn(Fault::kDirectTruncationVisible)) return EndBody();
      // Cut: an unterminated chunked body or a short Content-Length, which
      // every client sees as incomplete. Never a clean shorter body.
      return conn_->Abort();
    }
    if (done) return EndBody();
    Pump();  // the next piece may be in already
  }

  void EndBody() {
    if (FaultOn(Fault::kDirectSsePassthrough) && reframer_) reframer_->Finish();
    if (!reframed_.empty()) {
      writing_ = std::move(reframed_);
      reframed_.clear();
      return conn_->SendBody(asio::buffer(writing_), [self = shared_from_this()](bool ok) {
        if (ok) self->EndBody();
      });
    }
    conn_->SendEnd([self = shared_from_this()](bool ok) {
      if (ok) self->conn_->Finish();
    });
  }

  // What the faults make of a piece of body (the piece itself without one).
  std::string_view Transform(char* data, std::size_t n, bool last) {
    std::string_view bytes(data, n);
    constexpr std::uint64_t kFlipAt = 1000;
    std::uint64_t offset = offset_;
    offset_ += bytes.size();
    if (FaultOn(Fault::kDirectIntegrity) && offset <= kFlipAt && kFlipAt < offset_) {
      data[kFlipAt - offset] ^= 0x01;
    }
    if (FaultOn(Fault::kDirectLargeGet)) {
      // Sends the previous piece, holds this one: the last one is never sent.
      writing_ = std::exchange(held_, std::string(bytes));
      if (last) held_.clear();
      return writing_;
    }
    if (FaultOn(Fault::kDirectSsePassthrough) && IsEventStream()) {
      if (!reframer_) {
        reframer_ = std::make_unique<sse::Parser>([this](const sse::Event& e) {
          reframed_ += FrameSseEvent(e, /*space_after_colon=*/false);
        });
      }
      reframer_->Feed(bytes);
      writing_ = std::move(reframed_);
      reframed_.clear();
      return writing_;
    }
    return bytes;
  }

  // ---- the zero-copy path ----

  void SpliceBody() {
    // Bytes Beast read past the head go first, then the rest socket to socket.
    auto& buffered = backend_->read_buffer();
    std::size_t early = std::size_t(std::min<std::uint64_t>(buffered.size(), length_));
    if (early > 0) {
      writing_ = beast::buffers_to_string(beast::buffers_prefix(early, buffered.data()));
      buffered.consume(buffered.size());
      return conn_->SendBody(asio::buffer(writing_), [self = shared_from_this(), early](bool ok) {
        if (!ok) return;
        self->length_ -= early;
        self->SpliceBody();
      });
    }
    if (length_ == 0) return EndBody();
    auto pump =
        SplicePump::Create(backend_->socket(), conn_->socket(), length_, backend_->timeouts().idle);
    if (!pump) return Relay();  // no pipe to be had: the buffered path
    (*pump)->Start([self = shared_from_this()](SplicePump::Outcome outcome, std::uint64_t) {
      switch (outcome) {
        case SplicePump::Outcome::kDone:
          return self->EndBody();
        case SplicePump::Outcome::kSourceFailed:
          return self->conn_->Abort();  // a short Content-Length body: visibly cut
        case SplicePump::Outcome::kSinkFailed:
          if (self->backend_) self->backend_->Abort();
          return self->conn_->Abort();
      }
    });
  }

  // ---- faults that hold the body ----

  // direct-incremental, direct-memory-bounded, direct-backpressure: the whole
  // body read into memory (twice for the last), then sent with its length.
  void ReadAllThenSend() {
    piece_ = std::make_unique<char[]>(kPiece);
    backend_->ReadBody(piece_.get(), kPiece,
                       [self = shared_from_this()](BackendFailure f, std::size_t n, bool done) {
                         if (self->conn_->closed()) return;
                         self->whole_.append(self->piece_.get(), n);
                         if (f != BackendFailure::kNone) {
                           return self->conn_->SendError(502, "backend failed", "backend_error");
                         }
                         if (!done) return self->ReadAllThenSend();
                         if (FaultOn(Fault::kDirectBackpressure)) self->copy_ = self->whole_;
                         const std::string& body =
                             FaultOn(Fault::kDirectBackpressure) ? self->copy_ : self->whole_;
                         self->conn_->SendHead(
                             self->head_, Framing::kLength, body.size(), [self, &body](bool ok) {
                               if (!ok) return;
                               self->conn_->SendBody(asio::buffer(body), [self](bool sent) {
                                 if (sent) self->EndBody();
                               });
                             });
                       });
  }

  // direct-backpressure-read-ahead: the backend read as fast as it sends, into
  // an unbounded queue that the client drains at its own pace.
  void ReadAhead() {
    backend_->ReadBody(piece_.get(), kPiece,
                       [self = shared_from_this()](BackendFailure f, std::size_t n, bool done) {
                         if (n > 0) self->ahead_.emplace_back(self->piece_.get(), n);
                         self->ahead_ended_ = done || f != BackendFailure::kNone;
                         self->ahead_failed_ = f != BackendFailure::kNone;
                         if (!self->ahead_ended_) self->ReadAhead();
                         if (!self->draining_) self->Drain();
                       });
  }
  void Drain() {
    if (conn_->closed()) return;
    if (ahead_.empty()) {
      draining_ = false;
      if (!ahead_ended_) return;
      if (ahead_failed_) return conn_->Abort();
      return EndBody();
    }
    draining_ = true;
    writing_ = std::move(ahead_.front());
    ahead_.pop_front();
    conn_->SendBody(asio::buffer(writing_), [self = shared_from_this()](bool ok) {
      if (ok) self->Drain();
    });
  }

  void ClientLeft() {
    if (!backend_) return;
    if (FaultOn(Fault::kDirectClientAbort)) {
      Parked().push_back(std::move(backend_));  // open and unread, for good
      return;
    }
    backend_->Abort();  // the backend sees its transfer cancelled at once
  }

  std::shared_ptr<Connection> conn_;
  BackendAddress address_;
  std::unique_ptr<BackendCall> backend_;
  http::request<http::empty_body> request_head_;
  std::string request_bytes_;
  std::string held_body_;
  Upload upload_ = Upload::kNone;
  bool uploading_ = false;
  bool upload_failed_ = false;
  bool head_request_ = false;
  std::string type_;
  std::uint64_t length_ = 0;
  std::unique_ptr<char[]> piece_;
  std::unique_ptr<char[]> spare_;  // the second piece of the buffered path
  struct ReadPiece {
    char* data;
    std::size_t n;
    BackendFailure failure;
    bool done;
  };
  std::optional<ReadPiece> read_;  // read from the backend, not yet written
  bool sending_ = false;
  std::string writing_;
  std::uint64_t offset_ = 0;
  std::string held_;                       // direct-large-get
  std::unique_ptr<sse::Parser> reframer_;  // direct-sse-passthrough
  std::string reframed_;
  http::response<http::empty_body> head_;  // faults that hold the body
  std::string whole_, copy_;
  std::deque<std::string> ahead_;  // direct-backpressure-read-ahead
  bool ahead_ended_ = false, ahead_failed_ = false, draining_ = false;
};

}  // namespace

void StartProxy(std::shared_ptr<Connection> connection) {
  std::make_shared<ProxyExchange>(std::move(connection))->Start();
}

}  // namespace streamcheck::server
