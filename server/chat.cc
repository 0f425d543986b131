// The chat relay: POST /v1/chat/completions (and /chat/completions) checked,
// sent to the backend, and its event stream relayed event by event, re-framed
// the server's way. A piece of the backend's stream is read only once the
// previous events have been written to the client.
#include <chrono>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/text.h"
#include "server/connection.h"
#include "server/faults.h"
#include "server/proxy_rules.h"
#include "sse/sse_parser.h"

#ifdef STREAMCHECK_SERVER_FAULTS
#include <zlib.h>
#endif

namespace streamcheck::server {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;
using BodyRead = Connection::BodyRead;

// Small: an open stream's memory is mostly these two (the piece and Beast's
// read buffer), and tokens come in far smaller pieces.
constexpr std::size_t kPiece = 8 * 1024;
constexpr std::size_t kWholeBodyLimit = 16 * 1024 * 1024;  // non-stream answers, errors

std::string FrameData(const std::string& data) { return "data: " + data + "\n\n"; }

// chat-vendor-extensions: what Azure OpenAI sends before the first chunk.
constexpr char kAzurePromptFilterChunk[] =
    R"({"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":)"
    R"([{"prompt_index":0,"content_filter_results":{}}]})";

// chat-tool-call-parity: the chunk carries a piece of a tool call's arguments.
bool HasToolArguments(const json& chunk) {
  if (!chunk.is_object() || !chunk.contains("choices") || !chunk["choices"].is_array()) {
    return false;
  }
  for (const auto& c : chunk["choices"]) {
    if (!c.is_object() || !c.contains("delta") || !c["delta"].is_object() ||
        !c["delta"].contains("tool_calls") || !c["delta"]["tool_calls"].is_array()) {
      continue;
    }
    for (const auto& call : c["delta"]["tool_calls"]) {
      if (call.is_object() && call.contains("function") && call["function"].is_object() &&
          call["function"].contains("arguments")) {
        return true;
      }
    }
  }
  return false;
}

bool HasContent(const json& chunk) {
  if (!chunk.is_object() || !chunk.contains("choices") || !chunk["choices"].is_array()) {
    return false;
  }
  for (const auto& c : chunk["choices"]) {
    if (c.is_object() && c.contains("delta") && c["delta"].is_object() &&
        c["delta"].contains("content") && c["delta"]["content"].is_string() &&
        !c["delta"]["content"].get<std::string>().empty()) {
      return true;
    }
  }
  return false;
}

// chat-concurrent: one recorded stream, replayed to later requests. The fault
// build runs one event loop, so this map needs no lock.
struct Recording {
  bool finished = false;
  Clock::time_point finished_at;
  std::string body;
  std::vector<std::function<void()>> waiters;
  void Finish() {
    if (finished) return;
    finished = true;
    finished_at = Clock::now();
    auto w = std::move(waiters);
    for (auto& f : w) f();
  }
};
std::map<std::string, std::shared_ptr<Recording>>& RecordingCache() {
  static std::map<std::string, std::shared_ptr<Recording>> cache;
  return cache;
}

#ifdef STREAMCHECK_SERVER_FAULTS
// server-body-limits: inflates a gzip body with no bound on the result.
std::string InflateUnbounded(const std::string& in) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 32) != Z_OK) return in;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  inflateEnd(&z);
  return out;
}
#endif

class ChatExchange : public std::enable_shared_from_this<ChatExchange> {
 public:
  ChatExchange(std::shared_ptr<Connection> connection, bool plain_path)
      : conn_(std::move(connection)),
        plain_path_(plain_path),
        parser_([this](const sse::Event& e) { OnEvent(e); }) {}

  ~ChatExchange() {
    if (recording_) recording_->Finish();
  }

  void Start() {
    started_ = Clock::now();
    conn_->ReadWholeBody(conn_->core().options.max_chat_body_bytes,
                         [self = shared_from_this()](BodyRead r, std::string body) {
                           self->OnRequestBody(r, std::move(body));
                         });
  }

 private:
  void OnRequestBody(BodyRead r, std::string body) {
    if (r == BodyRead::kGone) return conn_->Abort();
    if (r == BodyRead::kInvalid) {
      return conn_->SendError(400, "malformed request body framing", "invalid_request_error");
    }
    if (r == BodyRead::kTooLarge) {
      return conn_->SendError(413,
                              "request body over " +
                                  std::to_string(conn_->core().options.max_chat_body_bytes) +
                                  " bytes",
                              "invalid_request_error");
    }
    const auto& req = conn_->request();
    std::string coding = ToLower(TrimHeaderValue(req[http::field::content_encoding]));
    if (!coding.empty() && coding != "identity") {
#ifdef STREAMCHECK_SERVER_FAULTS
      if (FaultOn(Fault::kServerBodyLimits) && coding == "gzip") body = InflateUnbounded(body);
#endif
      if (!FaultOn(Fault::kServerBodyLimits)) {
        // RFC 9110 §15.5.16: a content coding the server does not decode. The
        // body is never inflated here: a small gzip body can inflate to GiBs.
        return conn_->SendError(415, "Content-Encoding \"" + coding + "\" is not accepted",
                                "invalid_request_error");
      }
    }
    auto parsed = json::parse(body, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      if (FaultOn(Fault::kChatBadJson)) {
        return conn_->SendComplete(400, "text/html",
                                   "<html><body><h1>400 Bad Request</h1></body></html>");
      }
      return conn_->SendError(400, "request body is not a JSON object", "invalid_request_error");
    }
    std::string forwarded = std::move(body);
    if (!parsed.contains("messages") || !parsed["messages"].is_array()) {
      if (!FaultOn(Fault::kChatMissingMessages)) {
        return conn_->SendError(400, "'messages' is required and must be an array",
                                "invalid_request_error");
      }
      parsed["messages"] = json::array();
      forwarded = parsed.dump();
    }
    stream_ =
        parsed.contains("stream") && parsed["stream"].is_boolean() && parsed["stream"].get<bool>();
    if (FaultOn(Fault::kChatNonstreamParity) && !stream_ && !parsed.contains("max_tokens")) {
      parsed["max_tokens"] = 8;
      forwarded = parsed.dump();
    }
    if (FaultOn(Fault::kChatConcurrent) && stream_ && Replay(parsed)) return;
    request_id_ = std::string(req["X-Request-ID"]);
    if (!SafeFieldValue(request_id_)) request_id_.clear();

    http::request<http::empty_body> out{
        http::verb::post, conn_->core().backend.base_path + "/v1/chat/completions", 11};
    out.set(http::field::host, conn_->core().backend.authority);
    out.set(http::field::content_type, "application/json");
    if (req.count(http::field::authorization)) {
      // Byte for byte: the value as it came, never percent-decoded.
      std::string authorization(req[http::field::authorization]);
      if (FaultOn(Fault::kDirectHeaderInjection)) authorization = PercentDecode(authorization);
      if (!SafeFieldValue(authorization) && !FaultOn(Fault::kDirectHeaderInjection)) {
        return conn_->SendError(400, "Authorization holds a line break", "invalid_request_error");
      }
      out.set(http::field::authorization, authorization);
    }
    if (stream_) out.set(http::field::accept, "text/event-stream");
    out.set(http::field::content_length, std::to_string(forwarded.size()));
    std::ostringstream head;
    head << out.base();
    request_bytes_ = head.str() + forwarded;

    backend_ = std::make_unique<BackendCall>(conn_->executor(), conn_->core().timeouts(), kPiece);
    conn_->OnClientGone([weak = weak_from_this()] {
      if (auto self = weak.lock()) self->ClientLeft();
    });
    conn_->WatchClient();
    backend_->Connect(conn_->core().backend, [self = shared_from_this()](BackendFailure f) {
      if (f != BackendFailure::kNone) return self->OpenFailed(f);
      self->backend_->Write(asio::buffer(self->request_bytes_), [self](BackendFailure wf) {
        std::string().swap(self->request_bytes_);  // sent: an open stream keeps no copy
        if (wf != BackendFailure::kNone) return self->OpenFailed(wf);
        self->backend_->ReadHead(false, true, [self](BackendFailure hf) { self->OnHead(hf); });
      });
    });
  }

  void OpenFailed(BackendFailure f) {
    if (conn_->closed()) return;
    if (f == BackendFailure::kTimeout) {
      return conn_->SendError(504, "backend timed out: " + Describe(f, backend_->timeouts()),
                              "backend_timeout");
    }
    conn_->SendError(502, "backend unreachable: " + Describe(f, backend_->timeouts()),
                     "backend_unreachable");
  }

  void OnHead(BackendFailure f) {
    if (f != BackendFailure::kNone) return OpenFailed(f);
    if (!stream_ || backend_->status() != 200) return RelayWhole();
    http::response<http::empty_body> head{
        FaultOn(Fault::kChatStatus) ? http::status::created : http::status::ok, 11};
    head.set(http::field::content_type,
             FaultOn(Fault::kChatContentType) ? "text/plain; charset=utf-8" : "text/event-stream");
    if (!FaultOn(Fault::kChatNoCache)) {
      head.set(http::field::cache_control, "no-cache");
      head.set("X-Accel-Buffering", "no");
    }
    if (!request_id_.empty()) head.set("X-Request-ID", request_id_);
    piece_ = std::make_unique<char[]>(kPiece);
    conn_->SendHead(head, Connection::Framing::kChunked, 0, [self = shared_from_this()](bool ok) {
      if (ok) self->ReadMore();
    });
  }

  // Non-stream answers and backend errors: small, relayed whole.
  void RelayWhole() {
    piece_ = std::make_unique<char[]>(kPiece);
    ReadWhole();
  }
  void ReadWhole() {
    backend_->ReadBody(
        piece_.get(), kPiece,
        [self = shared_from_this()](BackendFailure f, std::size_t n, bool done) {
          if (self->conn_->closed()) return;
          self->whole_.append(self->piece_.get(), n);
          if (f != BackendFailure::kNone || self->whole_.size() > kWholeBodyLimit) {
            return self->conn_->SendError(
                502, "backend failed: " + Describe(f, self->backend_->timeouts()), "backend_error");
          }
          if (!done) return self->ReadWhole();
          std::string type(self->backend_->parser().get()[http::field::content_type]);
          self->conn_->SendComplete(self->backend_->status(),
                                    type.empty() ? "application/json" : type,
                                    std::move(self->whole_));
        });
  }

  void ReadMore() {
    backend_->ReadBody(piece_.get(), kPiece,
                       [self = shared_from_this()](BackendFailure f, std::size_t n, bool done) {
                         self->OnPiece(f, n, done);
                       });
  }

  void OnPiece(BackendFailure f, std::size_t n, bool done) {
    if (client_gone_) {
      // chat-client-abort: the backend is read to its end, for no one.
      if (FaultOn(Fault::kChatClientAbort) && f == BackendFailure::kNone && !done) ReadMore();
      return;
    }
    if (FaultOn(Fault::kChatLongStream) && Clock::now() - started_ > std::chrono::seconds(2)) {
      backend_->Abort();
      return conn_->Abort();
    }
    if (FaultOn(Fault::kServerGracefulShutdown) && ShuttingDown()) {
      // The fault: a stream cut short but ended cleanly, then the exit.
      backend_->Abort();
      return conn_->SendEnd([](bool) { std::_Exit(0); });
    }
    parser_.Feed(std::string_view(piece_.get(), n));
    if (f != BackendFailure::kNone) return End(Describe(f, backend_->timeouts()));
    if (done) return End("the backend closed its stream");
    Flush([self = shared_from_this()] { self->ReadMore(); });
  }

  // Writes the frames made so far, then `next`.
  void Flush(std::function<void()> next) {
    if (pending_.empty() || FaultOn(Fault::kChatIncremental)) return next();
    if (recording_) recording_->body += pending_;
    writing_ = std::move(pending_);
    pending_.clear();
    conn_->SendBody(asio::buffer(writing_),
                    [self = shared_from_this(), next = std::move(next)](bool ok) {
                      if (ok) return next();
                      // Gone: ClientLeft() has run. The fault reads on regardless.
                      if (FaultOn(Fault::kChatClientAbort)) self->ReadMore();
                    });
  }

  void OnEvent(const sse::Event& event) {
    if (saw_done_) return;
    if (event.data == "[DONE]") saw_done_ = true;
    auto chunk = json::parse(event.data, nullptr, false);
    last_was_error_ = chunk.is_object() && chunk.contains("error");
    pending_ += Rewrite(event, chunk);
    ++events_;
  }

  // The frame for one backend event as this server sends it; the faults
  // change it ("" drops it).
  std::string Rewrite(const sse::Event& event, json& chunk) {
    bool done = event.data == "[DONE]";
    bool content = HasContent(chunk);
    if (content) ++content_events_;
    bool has_choices =
        chunk.is_object() && chunk.contains("choices") && chunk["choices"].is_array();
    if (FaultOn(Fault::kChatFirstLineData) && events_ == 0) return "id: 1\n" + FrameSseEvent(event);
    if (FaultOn(Fault::kChatSseGrammar) && done) return "data: [DONE]\n";
    if (FaultOn(Fault::kChatChunkSchema) && chunk.is_object()) {
      chunk["object"] = "chat.completion";
      return FrameData(chunk.dump());
    }
    if (FaultOn(Fault::kChatRoleFirst) && events_ == 0 && has_choices &&
        !chunk["choices"].empty()) {
      chunk["choices"][0]["delta"].erase("role");
      return FrameData(chunk.dump());
    }
    if (FaultOn(Fault::kChatFinishReason) && has_choices) {
      for (auto& choice : chunk["choices"]) choice["finish_reason"] = nullptr;
      return FrameData(chunk.dump());
    }
    if (FaultOn(Fault::kChatDoneTerminator) && done) return "";
    if (FaultOn(Fault::kChatContentParity) && content && content_events_ == 3) return "";
    if (FaultOn(Fault::kChatUsage) && chunk.is_object() && chunk.contains("usage") && has_choices &&
        chunk["choices"].empty()) {
      return "";
    }
    if (FaultOn(Fault::kChatBothPaths) && plain_path_ && events_ == 0) return "";
    if (FaultOn(Fault::kChatFinishReasonValue) && has_choices) {
      for (auto& choice : chunk["choices"]) {
        if (choice.is_object() && choice.value("finish_reason", json()) == "stop") {
          choice["finish_reason"] = "eos_token";
        }
      }
      return FrameData(chunk.dump());
    }
    if (FaultOn(Fault::kChatUtf8) && content && content_events_ == 2) {
      // A marker in valid JSON, then the raw byte in its place.
      constexpr std::string_view kMarker = "@@cut@@";
      auto& delta = chunk["choices"][0]["delta"];
      delta["content"] = delta["content"].get<std::string>() + std::string(kMarker);
      std::string data = chunk.dump();
      data.replace(data.find(kMarker), kMarker.size(), "\xC3");
      return FrameData(data);
    }
    if (FaultOn(Fault::kChatSdkSafe) && events_ == 1)
      return "event: ping\n\n" + FrameSseEvent(event);
    if (FaultOn(Fault::kChatVendorExtensions) && events_ == 0) {
      return FrameData(kAzurePromptFilterChunk) + FrameSseEvent(event);
    }
    if (FaultOn(Fault::kChatToolCallParity) && HasToolArguments(chunk) && ++tool_pieces_ == 2) {
      return "";
    }
    if (FaultOn(Fault::kChatMultiChoice) && has_choices && !chunk["choices"].empty()) {
      json kept = json::array();
      for (const auto& choice : chunk["choices"]) {
        if (choice.is_object() && choice.value("index", json()) == 0) kept.push_back(choice);
      }
      if (kept.empty()) return "";
      chunk["choices"] = kept;
      return FrameData(chunk.dump());
    }
    return FrameSseEvent(event);
  }

  // The backend's stream ended; close ours on an event boundary. Without the
  // backend's [DONE] the client gets an in-band error instead of a [DONE].
  void End(const std::string& why) {
    parser_.Finish();
    if (!saw_done_ && !last_was_error_) {
      // chat-error-event: the Flask way, the connection is just cut.
      if (FaultOn(Fault::kChatErrorEvent)) return conn_->Abort();
      pending_ += FrameData(json{
          {"error",
           {{"message", "backend stream ended before [DONE]: " + why}, {"type", "backend_error"}}}}
                                .dump());
    }
    if (FaultOn(Fault::kChatBackendErrorMidstream) && !saw_done_) pending_ += FrameData("[DONE]");
    if (FaultOn(Fault::kChatIncremental)) {
      // The whole stream, held until now, goes out at once.
      writing_ = std::move(pending_);
      pending_.clear();
      return conn_->SendBody(asio::buffer(writing_), [self = shared_from_this()](bool ok) {
        if (ok) self->SendEnd();
      });
    }
    Flush([self = shared_from_this()] { self->SendEnd(); });
  }

  void SendEnd() {
    if (recording_) recording_->Finish();
    conn_->SendEnd([self = shared_from_this()](bool ok) {
      if (ok) self->conn_->Finish();
    });
  }

  void ClientLeft() {
    client_gone_ = true;
    // The backend's request is cancelled at once: it sees its socket close.
    if (!FaultOn(Fault::kChatClientAbort) && backend_) backend_->Abort();
  }

  // chat-concurrent: serve a fresh recording of the same model instead of
  // asking the backend. True when it did.
  bool Replay(const json& request) {
    std::string key = request.value("model", "") + (plain_path_ ? " plain" : " v1");
    auto& slot = RecordingCache()[key];
    bool fresh =
        slot && (!slot->finished || Clock::now() - slot->finished_at < std::chrono::seconds(10));
    if (!fresh) {
      slot = recording_ = std::make_shared<Recording>();
      return false;
    }
    auto recording = slot;
    http::response<http::empty_body> head{http::status::ok, 11};
    head.set(http::field::content_type, "text/event-stream");
    head.set(http::field::cache_control, "no-cache");
    head.set("X-Accel-Buffering", "no");
    conn_->SendHead(head, Connection::Framing::kChunked, 0,
                    [self = shared_from_this(), recording](bool ok) {
                      if (!ok) return;
                      auto send = [self, recording] {
                        self->writing_ = recording->body;
                        self->conn_->SendBody(asio::buffer(self->writing_), [self](bool sent) {
                          if (sent) self->SendEnd();
                        });
                      };
                      if (recording->finished) return send();
                      recording->waiters.push_back(send);
                    });
    return true;
  }

  std::shared_ptr<Connection> conn_;
  bool plain_path_;
  sse::Parser parser_;
  std::unique_ptr<BackendCall> backend_;
  bool stream_ = false;
  std::string request_id_;
  std::string request_bytes_;
  std::unique_ptr<char[]> piece_;
  std::string whole_;
  std::string pending_;  // frames not yet written
  std::string writing_;  // the frames of the write in progress
  bool saw_done_ = false;
  bool last_was_error_ = false;
  bool client_gone_ = false;
  int events_ = 0;
  int content_events_ = 0;
  int tool_pieces_ = 0;  // chat-tool-call-parity
  Clock::time_point started_;
  std::shared_ptr<Recording> recording_;
};

}  // namespace

void StartChat(std::shared_ptr<Connection> connection, bool plain_path) {
  std::make_shared<ChatExchange>(std::move(connection), plain_path)->Start();
}

}  // namespace streamcheck::server
