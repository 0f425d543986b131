#include "mocks/mock_backend.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/httplib_fixes.h"
#include "common/sha256.h"
#include "mocks/content.h"

namespace streamcheck::mocks {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr int kServerThreads = 160;  // each open stream holds one

const std::pair<SseVariant, const char*> kVariantNames[] = {
    {SseVariant::kStandard, "standard"},
    {SseVariant::kCrlf, "crlf"},
    {SseVariant::kCr, "cr"},
    {SseVariant::kBom, "bom"},
    {SseVariant::kComments, "comments"},
    {SseVariant::kMultiTokenChunks, "multi_token_chunks"},
    {SseVariant::kBytePerWrite, "byte_per_write"},
    {SseVariant::kNoDone, "no_done"},
};

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

json RequestSummary(const httplib::Request& req) {
  json query = json::object();
  for (const auto& [key, value] : req.params) query[key].push_back(value);
  json headers = json::object();
  for (const auto& [name, value] : req.headers) headers[name].push_back(value);
  return {{"method", req.method},
          {"path", req.path},
          {"target", req.target},
          {"query", query},
          {"headers", headers},
          {"body_length", req.body.size()},
          {"body_sha256", Sha256::Of(req.body)}};
}

void JsonError(httplib::Response& res, int status, const std::string& message) {
  res.status = status;
  res.set_content(json{{"error", {{"message", message}, {"code", status}}}}.dump(),
                  "application/json");
}

// The frames of one chat stream, each with how many content tokens have been
// sent once it is written.
struct ChatFrame {
  std::string text;
  int tokens_after = 0;
  bool is_token = false;
};

std::string FrameEvent(const std::string& data, SseVariant variant) {
  switch (variant) {
    case SseVariant::kCrlf:
      return "data: " + data + "\r\n\r\n";
    case SseVariant::kCr:
      return "data: " + data + "\r\r";
    case SseVariant::kComments:
      return ": keep-alive\n" + ("data: " + data) + "\n\n";
    default:
      return "data: " + data + "\n\n";
  }
}

// The socket of the connection local_port <- remote_port, found among this
// process's descriptors (httplib does not hand it to handlers).
int FindConnection(int local_port, int remote_port) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::atoi(entry.path().filename().c_str());
    sockaddr_in local{}, peer{};
    socklen_t local_size = sizeof local, peer_size = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_size) != 0 ||
        getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0 ||
        local.sin_family != AF_INET) {
      continue;
    }
    if (ntohs(local.sin_port) == local_port && ntohs(peer.sin_port) == remote_port) return fd;
  }
  return -1;
}

// Makes the next close() of the connection send RST instead of FIN.
void ArmReset(int local_port, int remote_port) {
  int fd = FindConnection(local_port, remote_port);
  if (fd < 0) return;
  linger abort_on_close{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
}

}  // namespace

Result<MockConfig> ConfigFromJson(const json& j) {
  if (!j.is_object()) return Error{"mock config must be a JSON object"};
  MockConfig c;
  try {
    for (const auto& [key, value] : j.items()) {
      if (key == "seed")
        c.seed = value.get<std::uint64_t>();
      else if (key == "size_mb")
        c.size_mb = value.get<double>();
      else if (key == "chunk_size")
        c.chunk_size = value.get<std::size_t>();
      else if (key == "rate_mib_s")
        c.rate_mib_s = value.get<double>();
      else if (key == "content_length")
        c.content_length = value.get<bool>();
      else if (key == "token_count")
        c.token_count = value.get<int>();
      else if (key == "token_delay_ms")
        c.token_delay_ms = value.get<int>();
      else if (key == "gate_after_tokens")
        c.gate_after_tokens = value.get<long long>();
      else if (key == "gate_after_bytes")
        c.gate_after_bytes = value.get<long long>();
      else if (key == "gate_timeout_ms")
        c.gate_timeout_ms = value.get<int>();
      else if (key == "fail_after_tokens")
        c.fail_after_tokens = value.get<long long>();
      else if (key == "error_event_after_tokens")
        c.error_event_after_tokens = value.get<long long>();
      else if (key == "truncate_after_bytes")
        c.truncate_after_bytes = value.get<long long>();
      else if (key == "reset_after_bytes")
        c.reset_after_bytes = value.get<long long>();
      else if (key == "stall_after_bytes")
        c.stall_after_bytes = value.get<long long>();
      else if (key == "stall_ms")
        c.stall_ms = value.get<int>();
      else if (key == "headers_delay_ms")
        c.headers_delay_ms = value.get<int>();
      else if (key == "sse_variant") {
        auto name = value.get<std::string>();
        bool found = false;
        for (const auto& [variant, variant_name] : kVariantNames) {
          if (name == variant_name) c.sse_variant = variant, found = true;
        }
        if (!found) return Error{"unknown sse_variant \"" + name + "\""};
      } else {
        return Error{"unknown mock config key \"" + key + "\""};
      }
    }
  } catch (const json::exception& e) {
    return Error{std::string("bad mock config value: ") + e.what()};
  }
  if (c.chunk_size == 0) return Error{"chunk_size must be at least 1"};
  if (c.size_mb < 0) return Error{"size_mb must not be negative"};
  if (c.token_count < 0) return Error{"token_count must not be negative"};
  return c;
}

json ToJson(const MockConfig& c) {
  std::string variant = "standard";
  for (const auto& [v, name] : kVariantNames) {
    if (v == c.sse_variant) variant = name;
  }
  return {{"seed", c.seed},
          {"size_mb", c.size_mb},
          {"chunk_size", c.chunk_size},
          {"rate_mib_s", c.rate_mib_s},
          {"content_length", c.content_length},
          {"token_count", c.token_count},
          {"token_delay_ms", c.token_delay_ms},
          {"sse_variant", variant},
          {"gate_after_tokens", c.gate_after_tokens},
          {"gate_after_bytes", c.gate_after_bytes},
          {"gate_timeout_ms", c.gate_timeout_ms},
          {"fail_after_tokens", c.fail_after_tokens},
          {"error_event_after_tokens", c.error_event_after_tokens},
          {"truncate_after_bytes", c.truncate_after_bytes},
          {"reset_after_bytes", c.reset_after_bytes},
          {"stall_after_bytes", c.stall_after_bytes},
          {"stall_ms", c.stall_ms},
          {"headers_delay_ms", c.headers_delay_ms}};
}

json ToJson(const MockStats& s) {
  json j = {{"requests", s.requests},
            {"chat_requests", s.chat_requests},
            {"body_bytes_sent", s.body_bytes_sent},
            {"transfers_started", s.transfers_started},
            {"transfers_completed", s.transfers_completed},
            {"transfers_cancelled", s.transfers_cancelled},
            {"gate_reached", s.gate_reached},
            {"gate_opened_by", s.gate_opened_by},
            {"last_stream_sha256", s.last_stream_sha256},
            {"last_stream_bytes", s.last_stream_bytes},
            {"last_request", s.last_request}};
  if (s.last_cancellation) {
    j["last_cancellation"] = {{"path", s.last_cancellation->path},
                              {"after_ms", s.last_cancellation->after_ms},
                              {"bytes_sent", s.last_cancellation->bytes_sent}};
  }
  return j;
}

class MockBackend::Impl {
 public:
  explicit Impl(MockConfig config) : config_(std::move(config)) {}

  Status Bind(const std::string& host, int port) {
    host_ = host;
    server_ = NewServer();
    port_ = port == 0 ? server_->bind_to_any_port(host)
                      : (server_->bind_to_port(host, port) ? port : -1);
    if (port_ <= 0) {
      return Status::Failure("mock backend: cannot listen on " + host + ":" + std::to_string(port) +
                             " (port in use? choose another, or 0 for any free port)");
    }
    backlog_.Raise();
    if (!StartServing(*server_, thread_)) return Status::Failure("mock backend: did not start");
    return Status::Ok();
  }

  void Stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
    }
    cv_.notify_all();
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }

  // Closes the listening socket: connections are refused until Resume().
  void Suspend() { Stop(); }

  // Listens again on the same port.
  Status Resume() {
    if (thread_.joinable()) return Status::Ok();
    {
      std::lock_guard lock(mutex_);
      stopping_ = false;
    }
    server_ = NewServer();
    if (!server_->bind_to_port(host_, port_)) {
      return Status::Failure("mock backend: cannot listen again on port " + std::to_string(port_));
    }
    backlog_.Raise();
    if (!StartServing(*server_, thread_)) return Status::Failure("mock backend: did not restart");
    return Status::Ok();
  }

  int port() const { return port_; }
  const std::string& host() const { return host_; }

  void SetConfig(const MockConfig& config) {
    std::lock_guard lock(mutex_);
    config_ = config;
    gate_open_ = false;
    stats_.gate_reached = false;
    stats_.gate_opened_by.clear();
  }
  MockConfig config() const {
    std::lock_guard lock(mutex_);
    return config_;
  }

  void OpenGate(const char* by) {
    {
      std::lock_guard lock(mutex_);
      if (!gate_open_) {
        gate_open_ = true;
        stats_.gate_opened_by = by;
      }
    }
    cv_.notify_all();
  }

  // Waits until `condition` (evaluated under mutex_) holds; false on timeout or Stop().
  bool WaitFor(std::chrono::milliseconds timeout, const std::function<bool()>& condition) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return stopping_ || condition(); }) && !stopping_;
  }

  MockStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }
  bool WaitGateReached(std::chrono::milliseconds timeout) {
    return WaitFor(timeout, [this] { return stats_.gate_reached; });
  }
  bool WaitCancelled(std::chrono::milliseconds timeout) {
    return WaitFor(timeout, [this] { return stats_.transfers_cancelled > 0; });
  }
  void ResetStats() {
    std::lock_guard lock(mutex_);
    bool reached = stats_.gate_reached;
    std::string opened_by = stats_.gate_opened_by;
    stats_ = MockStats{};
    stats_.gate_reached = reached;
    stats_.gate_opened_by = opened_by;
  }

 private:
  // Holds a stream at the gate until the harness opens it or the timeout
  // passes (then the gate opens for everyone, marked "timeout").
  void WaitAtGate(int timeout_ms) {
    {
      std::lock_guard lock(mutex_);
      stats_.gate_reached = true;
    }
    cv_.notify_all();
    if (!WaitFor(std::chrono::milliseconds(timeout_ms), [this] { return gate_open_; })) {
      OpenGate("timeout");
    }
  }

  // Pauses for `ms` (simulated backend latency), cut short by Stop().
  void Pause(int ms) {
    if (ms > 0) WaitFor(std::chrono::milliseconds(ms), [] { return false; });
  }

  bool stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  void Count(const httplib::Request& req, bool chat = false) {
    std::lock_guard lock(mutex_);
    stats_.requests++;
    if (chat) stats_.chat_requests++;
    stats_.last_request = RequestSummary(req);
  }

  // Bookkeeping of one streamed response, shared by its provider and releaser.
  struct Transfer {
    std::string path;
    std::unique_ptr<Sha256> sha;  // only for chat streams: their exact bytes
    Clock::time_point start = Clock::now();
    std::uint64_t sent = 0;
    bool deliberate_cut = false;
    bool cancel_recorded = false;
    bool completed = false;
  };

  std::shared_ptr<Transfer> BeginTransfer(const std::string& path) {
    std::lock_guard lock(mutex_);
    stats_.transfers_started++;
    auto t = std::make_shared<Transfer>();
    t->path = path;
    return t;
  }

  // Writes to the client; on failure records that the client went away.
  // Counts first, then writes: once the client holds the bytes, the counters
  // already say so (a harness reads them right after the response).
  bool Write(httplib::DataSink& sink, Transfer& t, const char* data, std::size_t n) {
    t.sent += n;
    if (t.sha) t.sha->Update(data, n);
    {
      std::lock_guard lock(mutex_);
      stats_.body_bytes_sent += n;
    }
    if (!sink.write(data, n)) {
      RecordCancel(t);
      return false;
    }
    return true;
  }

  // The whole body is handed over (called before its last bytes or its end
  // marker go out, for the same reason). Idempotent.
  void RecordComplete(Transfer& t) {
    std::lock_guard lock(mutex_);
    if (t.completed) return;
    t.completed = true;
    stats_.transfers_completed++;
    if (t.sha) {
      stats_.last_stream_sha256 = t.sha->HexDigest();
      stats_.last_stream_bytes = t.sent;
    }
  }

  void RecordCancel(Transfer& t) {
    {
      std::lock_guard lock(mutex_);
      if (t.cancel_recorded || t.deliberate_cut) return;
      t.cancel_recorded = true;
      if (t.completed) {  // its last write failed after all
        t.completed = false;
        stats_.transfers_completed--;
      }
      stats_.transfers_cancelled++;
      stats_.last_cancellation = Cancellation{t.path, MsSince(t.start), t.sent};
    }
    cv_.notify_all();
  }

  void EndTransfer(Transfer& t, bool success) {
    if (success) {
      RecordComplete(t);
    } else {
      RecordCancel(t);
    }
  }

  std::unique_ptr<httplib::Server> NewServer() {
    auto server = std::make_unique<httplib::Server>();
    server->new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
    server->set_write_timeout(30, 0);
    server->set_read_timeout(30, 0);
    server->set_socket_options(backlog_.SocketOptions());
    Routes(*server);
    return server;
  }

  void Routes(httplib::Server& server) {
    server.Get("/v1/health/ready", [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      res.set_content(R"({"object":"health.response","message":"Service is ready."})",
                      "application/json");
    });
    server.Get("/v1/models", [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      res.set_content(
          json{{"object", "list"},
               {"data", {{{"id", "mock-model"}, {"object", "model"}, {"owned_by", "streamcheck"}}}}}
              .dump(),
          "application/json");
    });
    server.Post("/v1/chat/completions",
                [this](const httplib::Request& req, httplib::Response& res) { Chat(req, res); });
    server.Get("/large-file", [this](const httplib::Request& req, httplib::Response& res) {
      LargeFile(req, res);
    });
    // Bodies are hashed as they arrive, never held: a 100 MiB upload costs nothing.
    auto echo_reader = [this](const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader& content_reader) {
      Sha256 sha;
      std::uint64_t length = 0;
      content_reader([&](const char* data, std::size_t n) {
        sha.Update(data, n);
        length += n;
        return true;
      });
      Echo(req, res, length, sha.HexDigest());
    };
    auto echo = [this](const httplib::Request& req, httplib::Response& res) {
      Echo(req, res, req.body.size(), Sha256::Of(req.body));
    };
    for (const char* pattern : {"/echo", R"(/echo/.*)"}) {
      server.Get(pattern, echo);
      server.Post(pattern, echo_reader);
      server.Put(pattern, echo_reader);
      server.Delete(pattern, echo_reader);
      server.Patch(pattern, echo_reader);
    }
    auto status = [this](const httplib::Request& req, httplib::Response& res) {
      Count(req);
      int code = std::stoi(req.matches[1].str());
      if (code < 200 || code > 599) code = 400;
      JsonError(res, code, "mock status " + std::to_string(code));
    };
    server.Get(R"(/status/(\d{3}))", status);
    server.Post(R"(/status/(\d{3}))", status);
    server.Put(R"(/status/(\d{3}))", status);

    server.Put("/_mock/config", [this](const httplib::Request& req, httplib::Response& res) {
      auto body = json::parse(req.body, nullptr, false);
      auto config = ConfigFromJson(body);
      if (!config) return JsonError(res, 400, config.error());
      SetConfig(*config);
      res.set_content(ToJson(*config).dump(), "application/json");
    });
    server.Get("/_mock/config", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(ToJson(config()).dump(), "application/json");
    });
    server.Get("/_mock/stats", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(ToJson(stats()).dump(), "application/json");
    });
    server.Post("/_mock/stats/reset", [this](const httplib::Request&, httplib::Response& res) {
      ResetStats();
      res.set_content("{}", "application/json");
    });
    server.Post("/_mock/gate/open", [this](const httplib::Request&, httplib::Response& res) {
      OpenGate("harness");
      res.set_content("{}", "application/json");
    });
  }

  void Echo(const httplib::Request& req, httplib::Response& res, std::uint64_t body_length,
            const std::string& body_sha256) {
    json summary = RequestSummary(req);
    summary["body_length"] = body_length;
    summary["body_sha256"] = body_sha256;
    {
      std::lock_guard lock(mutex_);
      stats_.requests++;
      stats_.last_request = summary;
    }
    Pause(config().headers_delay_ms);
    res.set_content(summary.dump(), "application/json");
  }

  void Chat(const httplib::Request& req, httplib::Response& res) {
    Count(req, /*chat=*/true);
    MockConfig c = config();
    Pause(c.headers_delay_ms);
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return JsonError(res, 400, "request body is not valid JSON");
    }
    if (!body.contains("messages") || !body["messages"].is_array()) {
      return JsonError(res, 400, "'messages' is required and must be an array");
    }
    int tokens = c.token_count;
    if (body.contains("max_tokens") && body["max_tokens"].is_number_integer()) {
      tokens = std::min(tokens, body["max_tokens"].get<int>());
    }
    std::string finish = tokens < c.token_count ? "length" : "stop";
    std::string model = body.value("model", "mock-model");
    auto words = CompletionTokens(c.seed, PromptOf(req.body), tokens);
    std::string id = "chatcmpl-mock-" + std::to_string(next_id_++);
    long long created = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    json usage = {
        {"prompt_tokens", 8}, {"completion_tokens", tokens}, {"total_tokens", 8 + tokens}};

    if (!body.value("stream", false)) {
      std::string text;
      for (const auto& w : words) text += w;
      res.set_content(json{{"id", id},
                           {"object", "chat.completion"},
                           {"created", created},
                           {"model", model},
                           {"choices",
                            {{{"index", 0},
                              {"message", {{"role", "assistant"}, {"content", text}}},
                              {"finish_reason", finish}}}},
                           {"usage", usage}}
                          .dump(),
                      "application/json");
      return;
    }

    auto chunk = [&](json delta, json finish_reason) {
      return json{{"id", id},
                  {"object", "chat.completion.chunk"},
                  {"created", created},
                  {"model", model},
                  {"choices",
                   {{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish_reason}}}}}
          .dump();
    };
    auto frames = std::make_shared<std::vector<ChatFrame>>();
    frames->push_back(
        {FrameEvent(chunk({{"role", "assistant"}, {"content", ""}}, nullptr), c.sse_variant), 0,
         false});
    for (std::size_t i = 0; i < words.size(); ++i) {
      frames->push_back(
          {FrameEvent(chunk({{"content", words[i]}}, nullptr), c.sse_variant), int(i + 1), true});
    }
    frames->push_back({FrameEvent(chunk(json::object(), finish), c.sse_variant), tokens, false});
    if (body.contains("stream_options") && body["stream_options"].is_object() &&
        body["stream_options"].value("include_usage", false)) {
      json last = {{"id", id},       {"object", "chat.completion.chunk"}, {"created", created},
                   {"model", model}, {"choices", json::array()},          {"usage", usage}};
      frames->push_back({FrameEvent(last.dump(), c.sse_variant), tokens, false});
    }
    if (c.sse_variant != SseVariant::kNoDone) {
      frames->push_back({FrameEvent("[DONE]", c.sse_variant), tokens, false});
    }
    if (c.sse_variant == SseVariant::kBom) frames->front().text.insert(0, "\xEF\xBB\xBF");

    auto transfer = BeginTransfer(req.path);
    transfer->sha = std::make_unique<Sha256>();
    auto next = std::make_shared<std::size_t>(0);
    res.set_header("Cache-Control", "no-cache");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, c, frames, next, transfer](std::size_t, httplib::DataSink& sink) {
          if (*next == frames->size()) {
            RecordComplete(*transfer);
            sink.done();
            return true;
          }
          int tokens_sent = *next == 0 ? 0 : (*frames)[*next - 1].tokens_after;
          bool token_next = (*frames)[*next].is_token;
          if (token_next && tokens_sent == c.fail_after_tokens) {
            transfer->deliberate_cut = true;
            return false;  // cut: no [DONE], no clean end of the chunked body
          }
          if (token_next && tokens_sent == c.error_event_after_tokens) {
            std::string error = FrameEvent(
                json{{"error", {{"message", "mock backend failure"}, {"type", "server_error"}}}}
                    .dump(),
                c.sse_variant);
            if (!Write(sink, *transfer, error.data(), error.size())) return false;
            sink.done();
            return true;
          }
          if (token_next && c.gate_after_tokens >= 0 && tokens_sent == c.gate_after_tokens) {
            WaitAtGate(c.gate_timeout_ms);
          }
          if (token_next) Pause(c.token_delay_ms);
          if (stopping()) return false;
          // Several frames in one write for kMultiTokenChunks, else one.
          std::string out = (*frames)[(*next)++].text;
          while (c.sse_variant == SseVariant::kMultiTokenChunks && *next < frames->size() &&
                 (*next) % 4 != 0) {
            out += (*frames)[(*next)++].text;
          }
          if (c.sse_variant == SseVariant::kBytePerWrite) {
            for (char ch : out) {
              if (!Write(sink, *transfer, &ch, 1)) return false;
            }
            return true;
          }
          return Write(sink, *transfer, out.data(), out.size());
        },
        [this, transfer](bool success) { EndTransfer(*transfer, success); });
  }

  void LargeFile(const httplib::Request& req, httplib::Response& res) {
    Count(req);
    MockConfig c = config();
    Pause(c.headers_delay_ms);
    double size_mb = c.size_mb;
    if (req.has_param("size_mb")) {
      try {
        size_mb = std::stod(req.get_param_value("size_mb"));
      } catch (const std::exception&) {
        return JsonError(res, 400, "size_mb must be a number");
      }
    }
    if (size_mb < 0) return JsonError(res, 400, "size_mb must not be negative");
    auto size = static_cast<std::uint64_t>(size_mb * double(kMiB));
    auto transfer = BeginTransfer(req.path);
    auto buffer = std::make_shared<std::string>(c.chunk_size, '\0');
    auto stall_done = std::make_shared<bool>(false);
    res.set_header("X-Mock-Size", std::to_string(size));

    int remote_port = req.remote_port;
    auto provide = [this, c, size, transfer, buffer, stall_done, remote_port](
                       std::size_t offset, httplib::DataSink& sink) {
      if (offset >= size) {
        RecordComplete(*transfer);
        if (!c.content_length) sink.done();
        return true;
      }
      auto at = static_cast<long long>(offset);
      if (at == c.truncate_after_bytes || at == c.reset_after_bytes) {
        if (at == c.reset_after_bytes) ArmReset(port_, remote_port);
        transfer->deliberate_cut = true;
        return false;  // httplib closes the connection
      }
      if (at == c.gate_after_bytes) WaitAtGate(c.gate_timeout_ms);
      if (at == c.stall_after_bytes && !*stall_done) {
        *stall_done = true;
        Pause(c.stall_ms);
      }
      if (stopping()) return false;
      if (c.rate_mib_s > 0) {
        auto due = transfer->start +
                   std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(double(offset) / (c.rate_mib_s * kMiB)));
        std::this_thread::sleep_until(due);  // pacing the simulated backend, not synchronising
      }
      // Stop exactly at the next configured point so every fault lands on its byte.
      std::uint64_t n = std::min<std::uint64_t>(c.chunk_size, size - offset);
      for (long long point :
           {c.truncate_after_bytes, c.reset_after_bytes, c.gate_after_bytes, c.stall_after_bytes}) {
        if (point > at) n = std::min<std::uint64_t>(n, std::uint64_t(point - at));
      }
      FillBytes(c.seed, offset, buffer->data(), n);
      // With Content-Length there is no end marker: the last bytes end the body.
      if (c.content_length && offset + n == size) RecordComplete(*transfer);
      return Write(sink, *transfer, buffer->data(), n);
    };
    auto release = [this, transfer](bool success) { EndTransfer(*transfer, success); };
    if (c.content_length) {
      res.set_content_provider(
          size, "application/octet-stream",
          [provide](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            return provide(offset, sink);
          },
          release);
    } else {
      res.set_chunked_content_provider("application/octet-stream", provide, release);
    }
  }

  std::unique_ptr<httplib::Server> server_;
  ListenBacklog backlog_;
  std::thread thread_;
  std::string host_;
  int port_ = -1;
  std::atomic<std::uint64_t> next_id_{1};

  mutable std::mutex mutex_;
  std::condition_variable cv_;
  MockConfig config_;
  MockStats stats_;
  bool gate_open_ = false;
  bool stopping_ = false;
};

MockBackend::MockBackend(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MockBackend::~MockBackend() { Stop(); }

Result<std::unique_ptr<MockBackend>> MockBackend::Start(MockConfig config, const std::string& host,
                                                        int port) {
  // A client that goes away must not kill the process: writes then fail with EPIPE.
  signal(SIGPIPE, SIG_IGN);
  auto impl = std::make_unique<Impl>(std::move(config));
  if (auto status = impl->Bind(host, port); !status) return Error{status.message()};
  return std::unique_ptr<MockBackend>(new MockBackend(std::move(impl)));
}

int MockBackend::port() const { return impl_->port(); }
std::string MockBackend::host() const { return impl_->host(); }
std::string MockBackend::url() const {
  return "http://" + impl_->host() + ":" + std::to_string(impl_->port());
}
void MockBackend::SetConfig(const MockConfig& config) { impl_->SetConfig(config); }
MockConfig MockBackend::config() const { return impl_->config(); }
void MockBackend::SetStreamResponse(double size_mb) {
  MockConfig c = impl_->config();
  c.size_mb = size_mb;
  impl_->SetConfig(c);
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
void MockBackend::Suspend() { impl_->Suspend(); }
Status MockBackend::Resume() { return impl_->Resume(); }

}  // namespace streamcheck::mocks
