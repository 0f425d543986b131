#include "server/reference_server.h"

#include <httplib.h>
#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/httplib_fixes.h"
#include "common/text.h"
#include "server/backend_stream.h"
#include "server/proxy_rules.h"
#include "sse/sse_parser.h"

namespace streamcheck::server {
namespace {

using nlohmann::json;

void JsonError(httplib::Response& res, int status, const std::string& message,
               const std::string& type) {
  res.status = status;
  res.set_content(json{{"error", {{"message", message}, {"type", type}, {"code", status}}}}.dump(),
                  "application/json");
}

// Maps a failed Open() to the status a proxy owes its client.
void BackendOpenError(httplib::Response& res, BackendStream::OpenError error,
                      const std::string& detail) {
  if (error == BackendStream::OpenError::kTimeout) {
    JsonError(res, 504, "backend timed out: " + detail, "backend_timeout");
  } else {
    JsonError(res, 502, "backend unreachable: " + detail, "backend_unreachable");
  }
}

// State of one relayed chat stream, shared by the content provider calls.
struct ChatRelay {
  explicit ChatRelay(BackendRequest request) : backend(std::move(request)) {}
  BackendStream backend;
  std::unique_ptr<sse::Parser> parser;
  httplib::DataSink* sink = nullptr;
  bool client_gone = false;
  bool saw_done = false;
  bool last_was_error = false;

  void OnEvent(const sse::Event& event) {
    if (saw_done || client_gone) return;
    if (event.data == "[DONE]") saw_done = true;
    auto parsed = json::parse(event.data, nullptr, false);
    last_was_error = parsed.is_object() && parsed.contains("error");
    std::string frame = FrameSseEvent(event);
    if (!sink->write(frame.data(), frame.size())) client_gone = true;
  }

  // The backend's stream ended; close ours on an event boundary. Without the
  // backend's [DONE] the client gets an in-band error instead of a [DONE].
  bool Finish(const std::string& why) {
    parser->Finish();
    if (!saw_done && !last_was_error) {
      std::string frame = "data: " +
                          json{{"error",
                                {{"message", "backend stream ended before [DONE]: " + why},
                                 {"type", "backend_error"}}}}
                              .dump() +
                          "\n\n";
      if (!sink->write(frame.data(), frame.size())) return false;
    }
    sink->done();
    return true;
  }
};

}  // namespace

class ReferenceServer::Impl {
 public:
  explicit Impl(ServerOptions options) : options_(std::move(options)) {
    while (!options_.backend_url.empty() && options_.backend_url.back() == '/') {
      options_.backend_url.pop_back();
    }
  }

  Status Bind() {
    int threads = options_.threads;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_tcp_nodelay(true);
    server_.set_socket_options(backlog_.SocketOptions());
    server_.set_read_timeout(30, 0);
    server_.set_write_timeout(30, 0);
    server_.set_exception_handler(
        [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
          std::string what = "unknown error";
          try {
            std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          JsonError(res, 500, "internal error: " + what, "server_error");
        });
    // RFC 9112 §6.3: a message with both Content-Length and Transfer-Encoding
    // may be a request-smuggling attempt; refuse it and close the connection.
    server_.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      if (req.has_header("Content-Length") && req.has_header("Transfer-Encoding")) {
        JsonError(res, 400, "both Content-Length and Transfer-Encoding", "invalid_request_error");
        res.set_header("Connection", "close");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    Routes();
    port_ = options_.port == 0
                ? server_.bind_to_any_port(options_.host)
                : (server_.bind_to_port(options_.host, options_.port) ? options_.port : -1);
    if (port_ <= 0) {
      return Status::Failure("cannot listen on " + options_.host + ":" +
                             std::to_string(options_.port) +
                             " (port in use? pass --port 0 for any free port)");
    }
    backlog_.Raise();
    bool serving = StartServing(server_, thread_, [this] {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      cv_.notify_all();
    });
    if (!serving) return Status::Failure("the server's accept loop did not start");
    return Status::Ok();
  }

  void Stop() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return stopped_; });
  }

  int port() const { return port_; }
  const ServerOptions& options() const { return options_; }

 private:
  BackendRequest NewBackendRequest(const std::string& method, const std::string& path) const {
    BackendRequest r;
    r.method = method;
    r.url = options_.backend_url + path;
    r.connect_timeout = options_.backend_connect_timeout;
    r.headers_timeout = options_.backend_headers_timeout;
    r.idle_timeout = options_.backend_idle_timeout;
    return r;
  }

  void Routes() {
    auto ok = [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"message":"OK"})", "application/json");
    };
    server_.Get("/", ok);
    server_.Get("/ping", ok);
    auto chat = [this](const httplib::Request& req, httplib::Response& res) { Chat(req, res); };
    server_.Post("/v1/chat/completions", chat);
    server_.Post("/chat/completions", chat);
    const std::string pattern = "/directAccess/.*";
    server_.Get(pattern, [this](const httplib::Request& req, httplib::Response& res) {
      Proxy(req, res, nullptr);
    });
    // Methods with a body get it streamed to the backend as it arrives.
    auto upload = [this](const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& reader) { Proxy(req, res, &reader); };
    server_.Post(pattern, upload);
    server_.Put(pattern, upload);
    server_.Delete(pattern, upload);
    server_.Patch(pattern, upload);
  }

  void Chat(const httplib::Request& req, httplib::Response& res) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return JsonError(res, 400, "request body is not a JSON object", "invalid_request_error");
    }
    if (!body.contains("messages") || !body["messages"].is_array()) {
      return JsonError(res, 400, "'messages' is required and must be an array",
                       "invalid_request_error");
    }
    if (req.has_header("X-Request-ID")) {
      res.set_header("X-Request-ID", req.get_header_value("X-Request-ID"));
    }
    BackendRequest request = NewBackendRequest("POST", "/v1/chat/completions");
    request.body = req.body;
    request.headers = {{"Content-Type", "application/json"}};
    if (req.has_header("Authorization")) {
      request.headers.emplace_back("Authorization", req.get_header_value("Authorization"));
    }
    bool stream = body.contains("stream") && body["stream"].is_boolean() && body["stream"];
    if (stream) request.headers.emplace_back("Accept", "text/event-stream");

    auto relay = std::make_shared<ChatRelay>(std::move(request));
    if (auto error = relay->backend.Open(); error != BackendStream::OpenError::kNone) {
      return BackendOpenError(res, error, relay->backend.error());
    }
    if (!stream || relay->backend.status() != 200) {
      std::string content;
      if (!relay->backend.ReadAll(content)) {
        return JsonError(res, 502, "backend failed: " + relay->backend.error(), "backend_error");
      }
      res.status = int(relay->backend.status());
      std::string type = relay->backend.Header("Content-Type");
      res.set_content(content, type.empty() ? "application/json" : type);
      return;
    }

    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    relay->parser = std::make_unique<sse::Parser>(
        [raw = relay.get()](const sse::Event& event) { raw->OnEvent(event); });
    res.set_chunked_content_provider(
        "text/event-stream", [relay](std::size_t, httplib::DataSink& sink) {
          relay->sink = &sink;
          auto result = relay->backend.Pump([&](const char* data, std::size_t n) {
            relay->parser->Feed(std::string_view(data, n));
            return !relay->client_gone;
          });
          switch (result) {
            case BackendStream::PumpResult::kData:
              return true;
            case BackendStream::PumpResult::kDone:
              return relay->Finish("the backend closed its stream");
            case BackendStream::PumpResult::kFailed:
              return relay->Finish(relay->backend.error());
            case BackendStream::PumpResult::kClientGone:
              return false;
          }
          return false;
        });
  }

  void Proxy(const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader* body_reader) {
    // req.target is the request target as received: the path is forwarded
    // still percent-encoded, exactly as the client sent it.
    static const std::string kPrefix = "/directAccess/";
    if (req.target.rfind(kPrefix, 0) != 0) {
      return JsonError(res, 400, "request target must start with " + kPrefix,
                       "invalid_request_error");
    }
    std::string rest = req.target.substr(kPrefix.size());
    auto question = rest.find('?');
    std::string raw_path = rest.substr(0, question);
    std::string query = question == std::string::npos ? "" : rest.substr(question);
    auto path = ConfinedPath(raw_path);
    if (!path) {
      return JsonError(res, 400, "path leaves the backend: /directAccess/" + raw_path,
                       "invalid_request_error");
    }

    BackendRequest request = NewBackendRequest(req.method, "/" + *path + query);
    if (body_reader) {
      request.streamed_upload = true;
      if (req.has_header("Content-Length")) {
        request.upload_size =
            std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
      }
    }
    auto hop = HopByHopHeaders(req.get_header_value("Connection"));
    for (const auto& [name, value] : req.headers) {
      std::string lower = ToLower(name);
      // httplib records the peer's addresses as pseudo headers; curl sets Host
      // and Content-Length itself.
      if (hop.count(lower) || lower == "host" || lower == "content-length" ||
          lower == "remote_addr" || lower == "remote_port" || lower == "local_addr" ||
          lower == "local_port") {
        continue;
      }
      request.headers.emplace_back(name, value);
    }

    auto backend = std::make_shared<BackendStream>(std::move(request));
    // A failed upload still goes on to Open(): the backend may have answered
    // early (413, 401...), and that answer is what the client should get.
    if (body_reader) StreamUpload(*body_reader, *backend);
    if (auto error = backend->Open(); error != BackendStream::OpenError::kNone) {
      return BackendOpenError(res, error, backend->error());
    }
    res.status = int(backend->status());
    auto response_hop = HopByHopHeaders(backend->Header("Connection"));
    for (const auto& [name, value] : backend->headers()) {
      std::string lower = ToLower(name);
      if (response_hop.count(lower) || lower == "content-length" || lower == "content-type") {
        continue;
      }
      res.headers.emplace(name, value);
    }
    std::string type = backend->Header("Content-Type");
    if (type.empty()) type = "application/octet-stream";
    if (req.method == "HEAD" || res.status == 204 || res.status == 304) return;

    // A known length is kept (the client can then see a short body for what it
    // is); otherwise the body is chunked and a broken backend leaves the
    // chunked body unterminated. Either way a failure closes the connection.
    std::string length = backend->Header("Content-Length");
    char* end = nullptr;
    unsigned long long content_length = std::strtoull(length.c_str(), &end, 10);
    bool has_length = !length.empty() && end && *end == '\0';
    auto pump = [backend](httplib::DataSink& sink) {
      return backend->Pump([&](const char* data, std::size_t n) { return sink.write(data, n); });
    };
    if (has_length) {
      res.set_content_provider(content_length, type,
                               [pump](std::size_t, std::size_t, httplib::DataSink& sink) {
                                 // kDone before the promised length: fail, so the client sees the
                                 // shortfall.
                                 return pump(sink) == BackendStream::PumpResult::kData;
                               });
    } else {
      res.set_chunked_content_provider(type, [pump](std::size_t, httplib::DataSink& sink) {
        switch (pump(sink)) {
          case BackendStream::PumpResult::kData:
            return true;
          case BackendStream::PumpResult::kDone:
            sink.done();
            return true;
          default:
            return false;
        }
      });
    }
  }

  ServerOptions options_;
  httplib::Server server_;
  ListenBacklog backlog_;
  std::thread thread_;
  int port_ = -1;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

ReferenceServer::ReferenceServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReferenceServer::~ReferenceServer() { Stop(); }

Result<std::unique_ptr<ReferenceServer>> ReferenceServer::Start(const ServerOptions& options) {
  if (options.backend_url.rfind("http://", 0) != 0) {
    return Error{"backend URL must start with http:// (got \"" + options.backend_url + "\")"};
  }
  signal(SIGPIPE, SIG_IGN);  // a client that goes away makes writes fail, not kill us
  auto impl = std::make_unique<Impl>(options);
  if (auto status = impl->Bind(); !status) return Error{status.message()};
  return std::unique_ptr<ReferenceServer>(new ReferenceServer(std::move(impl)));
}

int ReferenceServer::port() const { return impl_->port(); }
std::string ReferenceServer::url() const {
  return "http://" + impl_->options().host + ":" + std::to_string(impl_->port());
}
void ReferenceServer::Stop() { impl_->Stop(); }
void ReferenceServer::Wait() { impl_->Wait(); }

}  // namespace streamcheck::server
