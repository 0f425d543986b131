#include "server/backend_stream.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <mutex>

#include "common/text.h"

namespace streamcheck::server {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

struct BackendStream::Curl {
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  curl_slist* headers = nullptr;
  char errbuf[CURL_ERROR_SIZE] = {};
  ~Curl() {
    if (multi && easy) curl_multi_remove_handle(multi, easy);
    if (easy) curl_easy_cleanup(easy);
    if (multi) curl_multi_cleanup(multi);
    curl_slist_free_all(headers);
  }
};

BackendStream::BackendStream(BackendRequest request)
    : request_(std::move(request)), curl_(std::make_unique<Curl>()) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  CURL* e = curl_->easy = curl_easy_init();
  curl_->multi = curl_multi_init();
  curl_easy_setopt(e, CURLOPT_URL, request_.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, curl_->errbuf);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  // Large reads mean fewer, larger writes to the client: the proxy's main cost.
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(request_.connect_timeout.count()));
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &BackendStream::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &BackendStream::OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
  if (request_.streamed_upload) {
    curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request_.method.c_str());
    curl_easy_setopt(e, CURLOPT_READFUNCTION, &BackendStream::OnUploadRead);
    curl_easy_setopt(e, CURLOPT_READDATA, this);
    if (request_.upload_size) {
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, curl_off_t(*request_.upload_size));
    }
  } else if (request_.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (request_.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request_.method.c_str());
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, request_.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request_.body.size()));
  }
  // curl adds its own Accept and Expect unless told otherwise; forward only ours.
  curl_->headers = curl_slist_append(curl_->headers, "Expect:");
  curl_->headers = curl_slist_append(curl_->headers, "Accept:");
  for (const auto& [name, value] : request_.headers) {
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_->headers = curl_slist_append(curl_->headers, line.c_str());
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, curl_->headers);
  curl_multi_add_handle(curl_->multi, e);
}

BackendStream::~BackendStream() = default;

std::size_t BackendStream::OnHeader(char* data, std::size_t size, std::size_t n, void* self) {
  auto* s = static_cast<BackendStream*>(self);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    s->headers_.clear();
    auto space = line.find(' ');
    s->status_ = space == std::string_view::npos ? 0 : std::atol(line.data() + space + 1);
  } else if (line == "\r\n" || line == "\n") {
    if (s->status_ >= 200) s->headers_done_ = true;  // not after a 1xx interim response
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    s->headers_.emplace_back(std::string(line.substr(0, colon)),
                             TrimHeaderValue(line.substr(colon + 1)));
  }
  return line.size();
}

std::size_t BackendStream::OnBody(char* data, std::size_t size, std::size_t n, void* self) {
  auto* s = static_cast<BackendStream*>(self);
  if (s->sink_ == nullptr) {
    // Headers are in but nobody is pumping yet: hold the bytes inside curl.
    s->paused_ = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  if (!(*s->sink_)(data, size * n)) {
    s->client_gone_ = true;
    return 0;  // aborts the backend transfer: the backend sees the cancel
  }
  s->delivered_ += size * n;
  return size * n;
}

std::size_t BackendStream::OnUploadRead(char* out, std::size_t size, std::size_t n, void* self) {
  auto* s = static_cast<BackendStream*>(self);
  if (s->upload_left_ == 0) {
    if (s->upload_done_) return 0;  // end of the request body
    s->upload_paused_ = true;
    return CURL_READFUNC_PAUSE;  // until Send() has more
  }
  std::size_t take = std::min(size * n, s->upload_left_);
  std::memcpy(out, s->upload_data_, take);
  s->upload_data_ += take;
  s->upload_left_ -= take;
  return take;
}

void BackendStream::ResumeUpload() {
  if (upload_paused_) {
    upload_paused_ = false;
    // Keep a paused download paused: only the send direction resumes here.
    curl_easy_pause(curl_->easy, paused_ ? CURLPAUSE_RECV : CURLPAUSE_CONT);
  }
}

bool BackendStream::Send(const char* data, std::size_t n) {
  upload_data_ = data;
  upload_left_ = n;
  ResumeUpload();
  auto deadline = Clock::now() + request_.idle_timeout;
  while (upload_left_ > 0) {
    if (!Perform()) {
      error_ = "the backend ended the exchange before taking the whole request body";
      return false;
    }
    if (upload_left_ == 0) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      error_ = "the backend took no request body for " +
               std::to_string(request_.idle_timeout.count()) + " ms";
      return false;
    }
    Poll(std::min(left, std::chrono::milliseconds(200)));
  }
  upload_data_ = nullptr;
  return true;
}

void BackendStream::FinishUpload() {
  upload_done_ = true;
  upload_left_ = 0;
  ResumeUpload();
}

std::string BackendStream::CurlError(int code) const {
  std::string text = curl_easy_strerror(static_cast<CURLcode>(code));
  return curl_->errbuf[0] ? text + ": " + curl_->errbuf : text;
}

bool BackendStream::Perform() {
  int running = 0;
  curl_multi_perform(curl_->multi, &running);
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(curl_->multi, &queued)) {
    if (msg->msg == CURLMSG_DONE) {
      finished_ = true;
      result_ = msg->data.result;
    }
  }
  return !finished_;
}

void BackendStream::Poll(std::chrono::milliseconds wait) {
  curl_multi_poll(curl_->multi, nullptr, 0, int(std::max<long>(1, wait.count())), nullptr);
}

BackendStream::OpenError BackendStream::Open() {
  auto deadline = Clock::now() + request_.headers_timeout;
  while (!headers_done_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      error_ = "backend sent no response headers within " +
               std::to_string(request_.headers_timeout.count()) + " ms";
      return OpenError::kTimeout;
    }
    if (!Perform() && !headers_done_) {
      auto code = static_cast<CURLcode>(result_);
      error_ = CurlError(result_);
      if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) {
        return OpenError::kConnect;
      }
      if (code == CURLE_OPERATION_TIMEDOUT) return OpenError::kTimeout;
      return OpenError::kOther;
    }
    if (!headers_done_) Poll(std::min(left, std::chrono::milliseconds(100)));
  }
  return OpenError::kNone;
}

std::string BackendStream::Header(std::string_view name) const {
  for (const auto& [n, v] : headers_) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return "";
}

BackendStream::PumpResult BackendStream::Pump(const Sink& sink) {
  sink_ = &sink;
  delivered_ = 0;
  if (paused_) {
    paused_ = false;
    curl_easy_pause(curl_->easy, CURLPAUSE_CONT);  // may deliver held bytes right here
  }
  auto deadline = Clock::now() + request_.idle_timeout;
  PumpResult result = PumpResult::kData;
  bool performed = false;
  while (true) {
    if (client_gone_) {
      result = PumpResult::kClientGone;
      break;
    }
    if (delivered_ > 0) break;
    if (finished_) {
      result = result_ == CURLE_OK ? PumpResult::kDone : PumpResult::kFailed;
      if (result == PumpResult::kFailed) {
        error_ = CurlError(result_);
      }
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      error_ = "backend went silent for " + std::to_string(request_.idle_timeout.count()) +
               " ms mid-body";
      result = PumpResult::kFailed;
      break;
    }
    // Perform first; wait for the socket only when that brought nothing.
    if (performed) Poll(std::min(left, std::chrono::milliseconds(200)));
    Perform();
    performed = true;
  }
  sink_ = nullptr;
  return result;
}

bool BackendStream::ReadAll(std::string& out, std::size_t limit) {
  Sink append = [&](const char* data, std::size_t n) {
    if (out.size() + n > limit) return false;
    out.append(data, n);
    return true;
  };
  while (true) {
    switch (Pump(append)) {
      case PumpResult::kData:
        continue;
      case PumpResult::kDone:
        return true;
      case PumpResult::kFailed:
      case PumpResult::kClientGone:
        return false;
    }
  }
}

}  // namespace streamcheck::server
