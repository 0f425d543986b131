#include "harness/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "common/sha256.h"
#include "common/text.h"

namespace streamcheck::harness {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxArrivalPoints = 20'000;
constexpr double kArrivalSpacingMs = 2.0;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// SHA-256 of a body as it arrives. SHA-256 is most of what reading a large
// body costs the client (a profile of a 1 GiB read: 71% of its CPU time in
// OpenSSL's SHA-NI block function, 9% copying from the socket), so once a
// body is large it is hashed on a thread of its own: the reads go on while
// the bytes before them are hashed, and on a machine with a core to spare
// the client reads at the socket's pace. Memory stays bounded: at most
// kMaxQueued bytes wait; a read that would queue more waits for the hasher.
class BodyHasher {
 public:
  ~BodyHasher() { Join(); }

  void Update(std::string_view data) {
    bytes_ += data.size();
    if (!thread_.joinable() && bytes_ <= kInlineBytes) {
      sha_.Update(data);
      return;
    }
    if (!thread_.joinable()) thread_ = std::thread([this] { Work(); });
    std::unique_lock lock(mutex_);
    while (!data.empty()) {
      changed_.wait(lock, [this] { return queued_ < kMaxQueued; });
      if (queue_.empty() || queue_.back().size() >= kBlockBytes) {
        queue_.emplace_back();
        if (!spare_.empty()) {
          queue_.back().swap(spare_.back());
          spare_.pop_back();
        }
        queue_.back().reserve(kBlockBytes);
      }
      std::string& block = queue_.back();
      std::size_t n = std::min(data.size(), kBlockBytes - block.size());
      block.append(data.substr(0, n));
      queued_ += n;
      data.remove_prefix(n);
    }
    changed_.notify_all();
  }

  std::string HexDigest() {
    Join();
    return sha_.HexDigest();
  }

 private:
  static constexpr std::uint64_t kInlineBytes = 8 << 20;
  static constexpr std::size_t kBlockBytes = 1 << 20;
  static constexpr std::size_t kMaxQueued = 16 << 20;

  void Work() {
    std::unique_lock lock(mutex_);
    while (true) {
      // A block is taken once full (or at the end), so reads never wait on a half block.
      changed_.wait(lock, [this] {
        return done_ || queue_.size() > 1 ||
               (!queue_.empty() && queue_.front().size() >= kBlockBytes);
      });
      if (queue_.empty()) return;
      std::string block;
      block.swap(queue_.front());
      queue_.pop_front();
      lock.unlock();
      sha_.Update(block);
      lock.lock();
      queued_ -= block.size();
      block.clear();
      if (spare_.size() < 4) spare_.push_back(std::move(block));
      changed_.notify_all();
    }
  }

  void Join() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }

  Sha256 sha_;  // the hasher thread's while it runs
  std::uint64_t bytes_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> queue_;   // guarded by mutex_
  std::vector<std::string> spare_;  // emptied blocks, reused; guarded by mutex_
  std::size_t queued_ = 0;          // guarded by mutex_
  bool done_ = false;               // guarded by mutex_
};

// One request in flight: the easy handle and everything its callbacks record.
class Transfer {
 public:
  Transfer(const HttpRequest& request, const Observers& observers)
      : request_(request),
        observers_(observers),
        recorder_([this](const ReceivedEvent& e) { return OnEvent(e); }),
        easy_(curl_easy_init(), curl_easy_cleanup) {
    Configure();
  }

  CURL* easy() { return easy_.get(); }
  void Start() { start_ = Clock::now(); }

  HttpResponse Finish(CURLcode code) {
    response_.t_total_ms = Ms();
    response_.curl_code = code;
    response_.complete = code == CURLE_OK;
    if (code != CURLE_OK) {
      response_.error = stopped_    ? "stopped before the transfer ended: the run is stopping"
                        : overflow_ ? "the event stream broke a limit: " + *recorder_.overflow() +
                                          "; the client stopped reading"
                        : aborted_ ? "aborted by the client as the case asked"
                                   : std::string(curl_easy_strerror(code)) +
                                         (errbuf_[0] ? std::string(": ") + errbuf_ : std::string());
    }
    response_.stopped = stopped_;
    response_.aborted_by_client = aborted_;
    curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &response_.status);
    curl_off_t wire = 0;
    curl_easy_getinfo(easy_.get(), CURLINFO_SIZE_DOWNLOAD_T, &wire);
    response_.wire_bytes = static_cast<std::uint64_t>(wire);
    long version = 0;
    curl_easy_getinfo(easy_.get(), CURLINFO_HTTP_VERSION, &version);
    response_.http_version = version == CURL_HTTP_VERSION_1_0   ? "1.0"
                             : version == CURL_HTTP_VERSION_1_1 ? "1.1"
                             : version == CURL_HTTP_VERSION_2_0 ? "2"
                                                                : "";
    if (request_.hash_body) response_.sha256 = sha_.HexDigest();
    response_.body_truncated = response_.body.size() < response_.body_bytes;
    if (request_.parse_sse) response_.stream = recorder_.Finish();
    Record(true);
    return std::move(response_);
  }

 private:
  double Ms() const {
    return std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
  }

  void Configure() {
    CURL* e = easy_.get();
    curl_easy_setopt(e, CURLOPT_URL, request_.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
    if (!request_.request_target.empty()) {
      curl_easy_setopt(e, CURLOPT_REQUEST_TARGET, request_.request_target.c_str());
    }
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf_);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, request_.read_piece_bytes);
    const bool tls = request_.url.rfind("https://", 0) == 0;
    long version = CURL_HTTP_VERSION_1_1;
    if (request_.http_version == "1.0") version = CURL_HTTP_VERSION_1_0;
    if (request_.http_version == "2") {
      version = tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    }
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, version);
    if (!request_.accept_encoding.empty()) {
      curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, request_.accept_encoding.c_str());
    }
    if (!request_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, request_.ca_file.c_str());
    if (request_.insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    // The server under test is addressed as given: a proxy from the
    // environment is never the way to it.
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, long(request_.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, long(request_.total_timeout.count()));
    if (request_.idle_timeout.count() > 0) {
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                       std::max(1L, long(request_.idle_timeout.count() / 1000)));
    }
    if (request_.max_recv_mib_s > 0) {
      curl_easy_setopt(e, CURLOPT_MAX_RECV_SPEED_LARGE,
                       curl_off_t(request_.max_recv_mib_s * 1024 * 1024));
    }
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::HeaderThunk);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, this);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::WriteThunk);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, this);
    if (request_.should_stop) {
      curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, &Transfer::ProgressThunk);
      curl_easy_setopt(e, CURLOPT_XFERINFODATA, this);
    }

    if (request_.upload_size) {
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, curl_off_t(*request_.upload_size));
      curl_easy_setopt(e, CURLOPT_READFUNCTION, &Transfer::ReadThunk);
      curl_easy_setopt(e, CURLOPT_READDATA, this);
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request_.method.c_str());
    } else if (request_.method == "GET") {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (request_.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, request_.method.c_str());
      if (!request_.body.empty() || request_.method == "POST" || request_.method == "PUT") {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, request_.body.data());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request_.body.size()));
      }
    }
    // No "Expect: 100-continue" round trip: send bodies straight away.
    header_list_ = curl_slist_append(header_list_, "Expect:");
    for (const auto& [name, value] : request_.headers) {
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      header_list_ = curl_slist_append(header_list_, line.c_str());
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, header_list_);
  }

  static size_t HeaderThunk(char* data, size_t size, size_t n, void* self) {
    return static_cast<Transfer*>(self)->OnHeader(std::string_view(data, size * n));
  }
  static size_t WriteThunk(char* data, size_t size, size_t n, void* self) {
    return static_cast<Transfer*>(self)->OnData(std::string_view(data, size * n));
  }
  static size_t ReadThunk(char* out, size_t size, size_t n, void* self) {
    return static_cast<Transfer*>(self)->OnUpload(out, size * n);
  }
  static int ProgressThunk(void* self, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<Transfer*>(self)->StopNow() ? 1 : 0;
  }

 public:
  // True once the request's should_stop said so; the transfer then ends.
  bool StopNow() {
    if (!stopped_ && request_.should_stop && request_.should_stop()) stopped_ = true;
    return stopped_;
  }

 private:
  size_t OnHeader(std::string_view line) {
    if (line.rfind("HTTP/", 0) == 0) {
      response_.headers.clear();  // a new response (after 1xx): start over
    } else if (line == "\r\n" || line == "\n") {
      if (response_.t_headers_ms < 0) response_.t_headers_ms = Ms();
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      response_.headers.emplace_back(std::string(line.substr(0, colon)),
                                     TrimHeaderValue(line.substr(colon + 1)));
    }
    return line.size();
  }

  size_t OnData(std::string_view data) {
    double t = Ms();
    if (response_.t_first_byte_ms < 0) response_.t_first_byte_ms = t;
    response_.t_last_byte_ms = t;
    std::uint64_t before = response_.body_bytes;
    response_.body_bytes += data.size();
    if (request_.hash_body) sha_.Update(data);
    if (response_.body.size() < request_.keep_body_bytes) {
      response_.body.append(data.substr(0, request_.keep_body_bytes - response_.body.size()));
    }
    if (request_.parse_sse) {
      recorder_.Feed(data, t);
      if (recorder_.overflow()) {
        overflow_ = true;
        return Abort();
      }
    }
    Record(false);
    if (observers_.on_bytes && !observers_.on_bytes(response_.body_bytes, t)) return Abort();
    if (request_.abort_after_bytes && before < *request_.abort_after_bytes &&
        response_.body_bytes >= *request_.abort_after_bytes) {
      return Abort();
    }
    if (recorder_.stop_requested() || StopNow()) return Abort();
    return data.size();
  }

  bool OnEvent(const ReceivedEvent& received) {
    if (request_.abort_after_first_event) return false;
    return !observers_.on_event || observers_.on_event(received);
  }

  size_t OnUpload(char* out, size_t n) {
    std::uint64_t left = *request_.upload_size - uploaded_;
    n = std::min<std::uint64_t>(n, left);
    if (n > 0) request_.upload_fill(uploaded_, out, n);
    uploaded_ += n;
    return n;
  }

  size_t Abort() {
    if (!stopped_ && !overflow_) aborted_ = true;
    return 0;  // CURLE_WRITE_ERROR: curl closes the connection
  }

  // Keeps a point at most every kArrivalSpacingMs, plus the last read before
  // each gap, so the end of a burst is drawn where it happened, not at the
  // next read after a pause.
  void Record(bool last) {
    double t = response_.t_last_byte_ms < 0 ? Ms() : response_.t_last_byte_ms;
    ArrivalPoint now{t, response_.body_bytes, recorder_.count()};
    auto& points = response_.arrivals;
    bool spaced = points.empty() || t - points.back().t_ms >= kArrivalSpacingMs ||
                  now.events != points.back().events;
    if ((spaced && points.size() < kMaxArrivalPoints) || last) {
      if (unrecorded_ && !points.empty() && unrecorded_->t_ms > points.back().t_ms &&
          unrecorded_->t_ms < t) {
        points.push_back(*unrecorded_);
      }
      points.push_back(now);
      unrecorded_.reset();
    } else {
      unrecorded_ = now;
    }
  }

  HttpRequest request_;
  const Observers& observers_;
  HttpResponse response_;
  EventStreamRecorder recorder_;
  BodyHasher sha_;
  std::unique_ptr<CURL, void (*)(CURL*)> easy_;
  curl_slist* header_list_ = nullptr;
  char errbuf_[CURL_ERROR_SIZE] = {};
  Clock::time_point start_ = Clock::now();
  std::uint64_t uploaded_ = 0;
  bool aborted_ = false;
  bool stopped_ = false;                    // should_stop ended it
  bool overflow_ = false;                   // the event stream broke a parser limit
  std::optional<ArrivalPoint> unrecorded_;  // the latest read not kept as a point

 public:
  ~Transfer() { curl_slist_free_all(header_list_); }
};

std::vector<HttpResponse> Run(std::vector<std::unique_ptr<Transfer>>& transfers) {
  std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi(curl_multi_init(), curl_multi_cleanup);
  for (auto& t : transfers) {
    t->Start();
    curl_multi_add_handle(multi.get(), t->easy());
  }
  std::vector<HttpResponse> responses(transfers.size());
  std::vector<bool> done(transfers.size(), false);
  auto finish = [&](std::size_t i, CURLcode code) {
    curl_multi_remove_handle(multi.get(), transfers[i]->easy());
    responses[i] = transfers[i]->Finish(code);
    done[i] = true;
  };
  std::size_t left = transfers.size();
  // Bounded: every easy handle carries CURLOPT_TIMEOUT_MS.
  while (left > 0) {
    int running = 0;
    curl_multi_perform(multi.get(), &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi.get(), &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      for (std::size_t i = 0; i < transfers.size(); ++i) {
        if (!done[i] && transfers[i]->easy() == msg->easy_handle) {
          finish(i, msg->data.result);
          --left;
        }
      }
    }
    if (left == 0) break;
    // A transfer waiting on a silent server gets no callback to stop it from.
    for (std::size_t i = 0; i < transfers.size(); ++i) {
      if (!done[i] && transfers[i]->StopNow()) {
        finish(i, CURLE_ABORTED_BY_CALLBACK);
        --left;
      }
    }
    if (left > 0) curl_multi_poll(multi.get(), nullptr, 0, 100, nullptr);
  }
  return responses;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (EqualsIgnoreCase(n, name)) return v;
  }
  return std::nullopt;
}

double HttpResponse::mib_per_s() const {
  double seconds = (t_last_byte_ms - t_first_byte_ms) / 1000.0;
  if (body_bytes == 0 || seconds <= 0) return 0;
  return double(body_bytes) / (1024.0 * 1024.0) / seconds;
}

HttpResponse Perform(const HttpRequest& request, const Observers& observers) {
  GlobalInit();
  std::vector<std::unique_ptr<Transfer>> transfers;
  transfers.push_back(std::make_unique<Transfer>(request, observers));
  return std::move(Run(transfers).front());
}

std::vector<HttpResponse> PerformAll(const std::vector<HttpRequest>& requests) {
  GlobalInit();
  static const Observers kNone;
  std::vector<std::unique_ptr<Transfer>> transfers;
  for (const auto& r : requests) transfers.push_back(std::make_unique<Transfer>(r, kNone));
  return Run(transfers);
}

std::string JoinUrl(const std::string& base, const std::string& path) {
  if (path.empty()) return base;
  bool base_slash = !base.empty() && base.back() == '/';
  bool path_slash = path.front() == '/';
  if (base_slash && path_slash) return base + path.substr(1);
  if (!base_slash && !path_slash) return base + "/" + path;
  return base + path;
}

}  // namespace streamcheck::harness
