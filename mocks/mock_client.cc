#include "mocks/mock_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>

#include "common/json_bounded.h"
#include "mocks/mock_backend.h"

namespace streamcheck::mocks {
namespace {

// Stats nest: last_request.headers.<name>[values].
constexpr std::size_t kReplyJsonDepth = 16;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// The "message" of the mock's JSON error body, else the body itself.
std::string MessageOf(const std::string& body) {
  auto j = ParseJsonBounded(body, kReplyJsonDepth);
  if (j && j->is_object() && j->contains("error") && (*j)["error"].is_object()) {
    return (*j)["error"].value("message", body);
  }
  return body.substr(0, 200);
}

}  // namespace

Result<MockClient::Reply> MockClient::Call(const std::string& method, const std::string& path,
                                           const std::string& body,
                                           std::chrono::milliseconds timeout) const {
  GlobalInit();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{"mock client: curl_easy_init failed"};
  CURL* e = curl.get();
  std::string url = url_ + path;
  Reply reply;
  char error[CURL_ERROR_SIZE] = "";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_NOPROXY, "*");  // an http_proxy in the environment must not intervene
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &reply.body);
  if (method != "GET") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  CURLcode rc = curl_easy_perform(e);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return Error{"mock at " + url_ + " did not answer " + method + " " + path + ": " +
                 (error[0] ? error : curl_easy_strerror(rc))};
  }
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

Result<MockClient::Reply> MockClient::Expect200(const std::string& method, const std::string& path,
                                                const std::string& body,
                                                std::chrono::milliseconds timeout) const {
  auto reply = Call(method, path, body, timeout.count() > 0 ? timeout : timeout_);
  if (!reply) return reply;
  if (reply->status != 200) {
    return Error{"mock at " + url_ + ": " + method + " " + path + " answered " +
                 std::to_string(reply->status) + ": " + MessageOf(reply->body)};
  }
  return reply;
}

Result<std::unique_ptr<MockClient>> MockClient::Connect(const std::string& url,
                                                        std::chrono::milliseconds timeout) {
  std::string base = url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::unique_ptr<MockClient> client(new MockClient(base, timeout));
  auto info = client->Call("GET", "/_mock/info", "", timeout);
  if (!info) return Error{info.error()};
  auto j = ParseJsonBounded(info->body, kReplyJsonDepth);
  if (info->status != 200 || !j || !j->is_object() ||
      j->value("service", "") != "streamcheck-mock") {
    return Error{base + " is not a streamcheck mock: GET /_mock/info answered " +
                 std::to_string(info->status) + " \"" + info->body.substr(0, 80) +
                 "\" (start one with `streamcheck mock --port N`)"};
  }
  if (j->value("api", 0) != 1) {
    return Error{base + " is a streamcheck mock of control API " +
                 std::to_string(j->value("api", 0)) + "; this client speaks API 1"};
  }
  auto config = client->Expect200("GET", "/_mock/config");
  if (!config) return Error{config.error()};
  auto parsed_json = ParseJsonBounded(config->body, kReplyJsonDepth);
  if (!parsed_json) return Error{"mock at " + base + ": its config is not JSON"};
  auto parsed = ConfigFromJson(*parsed_json);
  if (!parsed) return Error{"mock at " + base + ": its config: " + parsed.error()};
  client->config_ = *parsed;
  return client;
}

Status MockClient::SetConfig(const MockConfig& config) {
  if (auto valid = ValidateConfig(config); !valid) return valid;
  auto reply = Expect200("PUT", "/_mock/config", ToJson(config).dump());
  if (!reply) return Status::Failure(reply.error());
  config_ = config;
  return Status::Ok();
}

Status MockClient::Reset() {
  auto reply = Expect200("POST", "/_mock/reset");
  if (!reply) return Status::Failure(reply.error());
  config_ = MockConfig{};
  return Status::Ok();
}

Status MockClient::OpenGate() {
  auto reply = Expect200("POST", "/_mock/gate/open");
  return reply ? Status::Ok() : Status::Failure(reply.error());
}

Result<bool> MockClient::WaitFor(const std::string& what, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    long long round = std::clamp<long long>(left.count(), 0, kMaxLongPollMs);
    auto reply =
        Expect200("GET", "/_mock/wait?for=" + what + "&timeout_ms=" + std::to_string(round), "",
                  std::chrono::milliseconds(round) + timeout_);
    if (!reply) return Error{reply.error()};
    auto j = ParseJsonBounded(reply->body, kReplyJsonDepth);
    if (!j || !j->is_object() || !(*j)["reached"].is_boolean()) {
      return Error{"mock at " + url_ + ": GET /_mock/wait answered \"" + reply->body + "\""};
    }
    if ((*j)["reached"].get<bool>()) return true;
    if (Clock::now() >= deadline) return false;
  }
}

Result<bool> MockClient::WaitGateReached(std::chrono::milliseconds timeout) {
  return WaitFor("gate", timeout);
}

Result<bool> MockClient::WaitCancelled(std::chrono::milliseconds timeout) {
  return WaitFor("cancelled", timeout);
}

Result<bool> MockClient::WaitUploadStarted(std::chrono::milliseconds timeout) {
  return WaitFor("upload", timeout);
}

Result<MockStats> MockClient::Stats() {
  auto reply = Expect200("GET", "/_mock/stats");
  if (!reply) return Error{reply.error()};
  auto j = ParseJsonBounded(reply->body, kReplyJsonDepth);
  if (!j) return Error{"mock at " + url_ + ": stats: " + j.error()};
  return StatsFromJson(*j);
}

Status MockClient::ResetStats() {
  auto reply = Expect200("POST", "/_mock/stats/reset");
  return reply ? Status::Ok() : Status::Failure(reply.error());
}

Status MockClient::Suspend() {
  auto reply = Expect200("POST", "/_mock/suspend");
  return reply ? Status::Ok() : Status::Failure(reply.error());
}

Status MockClient::Resume() {
  auto reply = Expect200("POST", "/_mock/resume");
  return reply ? Status::Ok() : Status::Failure(reply.error());
}

}  // namespace streamcheck::mocks
