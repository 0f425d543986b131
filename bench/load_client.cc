#include "bench/load_client.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <mutex>
#include <thread>

#include "bench/stats.h"
#include "common/text.h"
#include "mocks/content.h"
#include "sse/sse_parser.h"

namespace streamcheck::bench {

std::int64_t NowNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return std::int64_t(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

double LoadResult::duration_s() const {
  if (first_start_ns < 0 || last_end_ns < first_start_ns) return 0;
  return double(last_end_ns - first_start_ns) / 1e9;
}

void LoadResult::CountError(const std::string& why, std::uint64_t n) {
  if (error_kinds.count(why) || error_kinds.size() < kMaxErrorKinds) {
    error_kinds[why] += n;
  } else {
    error_kinds["other"] += n;
  }
}

void LoadResult::Merge(const LoadResult& other) {
  ttft_us.Merge(other.ttft_us);
  added_us.Merge(other.added_us);
  e2e_us.Merge(other.e2e_us);
  streams += other.streams;
  completed += other.completed;
  errors += other.errors;
  timeouts += other.timeouts;
  ttft_censored += other.ttft_censored;
  tokens += other.tokens;
  unstamped_tokens += other.unstamped_tokens;
  peak_open = std::max(peak_open, other.peak_open);
  if (other.first_start_ns >= 0 && (first_start_ns < 0 || other.first_start_ns < first_start_ns)) {
    first_start_ns = other.first_start_ns;
  }
  last_end_ns = std::max(last_end_ns, other.last_end_ns);
  for (const auto& [why, n] : other.error_kinds) CountError(why, n);
}

namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;

// A content delta with text in it ("content":"x", any spacing), for counting
// tokens that carry no stamp.
bool HasContentText(std::string_view data) {
  std::size_t at = data.find("\"content\"");
  if (at == std::string_view::npos) return false;
  at += 9;
  while (at < data.size() && (data[at] == ' ' || data[at] == ':')) ++at;
  return at + 1 < data.size() && data[at] == '"' && data[at + 1] != '"';
}

class Loop;

// One stream in flight.
struct Stream {
  Stream(Loop* owner, std::int64_t due, std::int64_t started)
      : loop(owner),
        due_ns(due),
        started_ns(started),
        parser([this](const sse::Event& e) { OnEvent(e); }) {}
  void OnEvent(const sse::Event& event);

  Loop* loop;
  CURL* easy = nullptr;
  std::size_t slot = 0;
  std::int64_t due_ns;  // -1: no schedule (closed level)
  std::int64_t started_ns;
  std::int64_t now_ns = 0;  // arrival time of the read being parsed
  bool first_byte = false;
  bool first_token = false;
  bool done_marker = false;
  int tokens = 0;
  long status = 0;
  std::string excerpt;  // the start of a body that is not a 200's stream
  sse::Parser parser;
};

// One event loop: a curl multi handle driven over epoll, on one thread.
class Loop {
 public:
  Loop(const StreamLoad& load, LoadProgress& progress, std::int64_t t0_ns,
       std::vector<std::uint64_t> indexes)
      : load_(load), progress_(progress), t0_ns_(t0_ns), indexes_(std::move(indexes)) {
    result_.streams = indexes_.size();
    slots_.resize(indexes_.size());
  }
  ~Loop() {
    for (auto& s : slots_) {
      if (s) Release(*s);
    }
    if (multi_) curl_multi_cleanup(multi_);
    if (epoll_ >= 0) close(epoll_);
    curl_slist_free_all(headers_);
  }

  LoadResult Run();

 private:
  static int OnSocket(CURL*, curl_socket_t fd, int what, void* self, void* assigned) {
    return static_cast<Loop*>(self)->Socket(fd, what, assigned);
  }
  static int OnTimer(CURLM*, long timeout_ms, void* self) {
    auto* loop = static_cast<Loop*>(self);
    loop->timer_ns_ = timeout_ms < 0 ? -1 : NowNs() + timeout_ms * kNsPerMs;
    return 0;
  }
  static size_t OnData(char* data, size_t size, size_t n, void* stream) {
    auto* s = static_cast<Stream*>(stream);
    return s->loop->Data(*s, std::string_view(data, size * n));
  }

  int Socket(curl_socket_t fd, int what, void* assigned) {
    if (what == CURL_POLL_REMOVE) {
      epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);  // may be closed already: no matter
      return 0;
    }
    epoll_event ev{};
    ev.data.fd = fd;
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    int op = assigned ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epoll_, op, fd, &ev) != 0) {
      // A descriptor number reused behind curl's back: the other operation.
      epoll_ctl(epoll_, op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
    }
    if (!assigned) curl_multi_assign(multi_, fd, this);
    return 0;
  }

  size_t Data(Stream& s, std::string_view data) {
    s.now_ns = NowNs();
    if (!s.first_byte) {
      s.first_byte = true;
      curl_easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &s.status);
      std::uint64_t open = ++progress_.open;
      std::uint64_t peak = progress_.peak_open.load();
      while (open > peak && !progress_.peak_open.compare_exchange_weak(peak, open)) {
      }
    }
    if (s.status != 200) {
      if (s.excerpt.size() < 200) s.excerpt.append(data.substr(0, 200 - s.excerpt.size()));
      return data.size();
    }
    s.parser.Feed(data);
    return data.size();
  }

 public:
  void Event(Stream& s, const sse::Event& event) {
    if (event.data == "[DONE]") {
      s.done_marker = true;
      return;
    }
    auto stamps = mocks::TokenStamps(event.data);
    if (stamps.empty()) {
      if (HasContentText(event.data)) ++result_.unstamped_tokens, ++s.tokens, ++result_.tokens;
      return;
    }
    for (std::uint64_t stamp : stamps) {
      result_.added_us.RecordMs(double(s.now_ns - std::int64_t(stamp)) / 1e6);
    }
    s.tokens += static_cast<int>(stamps.size());
    result_.tokens += stamps.size();
    if (!s.first_token) {
      s.first_token = true;
      result_.ttft_us.RecordMs(LatencyMs(s.due_ns, s.started_ns, s.now_ns));
    }
  }

 private:
  bool Setup() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    multi_ = curl_multi_init();
    if (epoll_ < 0 || !multi_) return false;
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Loop::OnSocket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Loop::OnTimer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Expect:");
    for (const auto& [name, value] : load_.headers) {
      headers_ = curl_slist_append(headers_, (name + ": " + value).c_str());
    }
    return true;
  }

  void Start(std::size_t slot, std::int64_t due_ns, std::int64_t now_ns) {
    auto stream = std::make_unique<Stream>(this, due_ns, now_ns);
    Stream& s = *stream;
    s.slot = slot;
    s.easy = curl_easy_init();
    CURL* e = s.easy;
    curl_easy_setopt(e, CURLOPT_URL, load_.url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, load_.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(load_.body.size()));
    curl_easy_setopt(
        e, CURLOPT_HTTP_VERSION,
        load_.http_version == "2" ? CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : CURL_HTTP_VERSION_1_1);
    if (!load_.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, load_.ca_file.c_str());
    if (load_.insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    std::int64_t late_ms = due_ns >= 0 ? (now_ns - due_ns) / kNsPerMs : 0;
    long timeout_ms = std::max<long>(1, long(load_.stream_timeout.count() - late_ms));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     std::min<long>(timeout_ms, long(load_.connect_timeout.count())));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Loop::OnData);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &s);
    if (result_.first_start_ns < 0) result_.first_start_ns = now_ns;
    ++progress_.started;
    ++active_;
    slots_[slot] = std::move(stream);
    curl_multi_add_handle(multi_, e);
  }

  // Ends a stream: classifies it, records its end, frees it.
  void End(Stream& s, CURLcode code, bool cut) {
    std::int64_t now = NowNs();
    if (s.status == 0) curl_easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &s.status);
    if (s.first_byte) --progress_.open;
    ++progress_.ended;
    result_.last_end_ns = std::max(result_.last_end_ns, now);
    if (cut || code == CURLE_OPERATION_TIMEDOUT) {
      ++result_.timeouts;
      result_.CountError(s.first_byte ? "timed out mid-stream" : "timed out before the response");
      if (!s.first_token) {
        ++result_.ttft_censored;
        result_.ttft_us.RecordMs(LatencyMs(s.due_ns, s.started_ns, now));
      }
    } else if (code != CURLE_OK) {
      ++result_.errors;
      result_.CountError(curl_easy_strerror(code));
    } else if (s.status != 200) {
      ++result_.errors;
      result_.CountError("HTTP " + std::to_string(s.status) + ": " + Excerpt(s.excerpt, 80));
    } else if (!s.done_marker) {
      ++result_.errors;
      result_.CountError("the stream ended without data: [DONE]");
    } else if (load_.expected_tokens > 0 && s.tokens != load_.expected_tokens) {
      ++result_.errors;
      result_.CountError(std::to_string(s.tokens) + " tokens instead of " +
                         std::to_string(load_.expected_tokens));
    } else {
      ++result_.completed;
      result_.e2e_us.RecordMs(LatencyMs(s.due_ns, s.started_ns, now));
    }
    --active_;
    Release(s);
  }

  void Release(Stream& s) {
    std::size_t slot = s.slot;
    curl_multi_remove_handle(multi_, s.easy);
    curl_easy_cleanup(s.easy);
    slots_[slot].reset();  // destroys s
  }

  void ReadDone() {
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_, &queued)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Stream* s = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
      CURLcode code = msg->data.result;
      if (s) End(*s, code, false);
    }
  }

  void Action(curl_socket_t fd, int flags) {
    int running = 0;
    curl_multi_socket_action(multi_, fd, flags, &running);
  }

  std::int64_t DueNs(std::size_t slot) const {
    return load_.rate_per_s > 0 ? t0_ns_ + ScheduledOffsetNs(indexes_[slot], load_.rate_per_s)
                                : t0_ns_;
  }

  const StreamLoad& load_;
  LoadProgress& progress_;
  std::int64_t t0_ns_;
  std::vector<std::uint64_t> indexes_;  // the load's stream numbers this loop drives
  std::vector<std::unique_ptr<Stream>> slots_;
  LoadResult result_;
  CURLM* multi_ = nullptr;
  int epoll_ = -1;
  curl_slist* headers_ = nullptr;
  std::int64_t timer_ns_ = -1;
  std::size_t active_ = 0;
};

void Stream::OnEvent(const sse::Event& event) { loop->Event(*this, event); }

LoadResult Loop::Run() {
  if (!Setup()) {
    result_.errors = indexes_.size();
    result_.CountError("the client could not set up curl and epoll", indexes_.size());
    return std::move(result_);
  }
  const std::int64_t timeout_ns = load_.stream_timeout.count() * kNsPerMs;
  const std::int64_t last_due = indexes_.empty() ? t0_ns_ : DueNs(indexes_.size() - 1);
  // Every stream has its own curl timeout; this is the bound behind them.
  const std::int64_t deadline = last_due + timeout_ns + 2'000 * kNsPerMs;
  std::size_t next = 0;
  epoll_event events[256];
  while (true) {
    std::int64_t now = NowNs();
    while (next < indexes_.size() && DueNs(next) <= now) {
      if (now - DueNs(next) >= timeout_ns) {
        // Due so long ago that its time is up before it starts: the client fell behind.
        ++result_.timeouts;
        ++result_.ttft_censored;
        result_.ttft_us.RecordMs(double(now - DueNs(next)) / 1e6);
        result_.CountError("never started: the client fell behind the schedule");
      } else {
        Start(next, load_.rate_per_s > 0 ? DueNs(next) : -1, now);
      }
      ++next;
    }
    if (next == indexes_.size() && active_ == 0) break;
    bool stop = load_.should_stop && load_.should_stop();
    if (now >= deadline || stop) {
      for (auto& s : slots_) {
        if (s) End(*s, CURLE_OPERATION_TIMEDOUT, true);
      }
      if (stop) result_.CountError("the bench was stopped", 0);
      std::uint64_t unstarted = indexes_.size() - next;
      result_.timeouts += unstarted;
      if (unstarted) result_.CountError("never started: the bench stopped", unstarted);
      break;
    }
    std::int64_t wait_ns = 100 * kNsPerMs;
    if (timer_ns_ >= 0) wait_ns = std::min(wait_ns, timer_ns_ - now);
    if (next < indexes_.size()) wait_ns = std::min(wait_ns, DueNs(next) - now);
    int wait_ms = static_cast<int>(std::max<std::int64_t>(0, (wait_ns + kNsPerMs - 1) / kNsPerMs));
    int n = epoll_wait(epoll_, events, 256, wait_ms);
    for (int i = 0; i < n; ++i) {
      int flags = 0;
      if (events[i].events & (EPOLLIN | EPOLLHUP)) flags |= CURL_CSELECT_IN;
      if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
      if (events[i].events & EPOLLERR) flags |= CURL_CSELECT_ERR;
      Action(events[i].data.fd, flags);
    }
    if (timer_ns_ >= 0 && NowNs() >= timer_ns_) {
      timer_ns_ = -1;
      Action(CURL_SOCKET_TIMEOUT, 0);
    }
    ReadDone();
  }
  result_.peak_open = progress_.peak_open.load();
  return std::move(result_);
}

}  // namespace

LoadResult RunStreams(const StreamLoad& load, LoadProgress* progress) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  LoadProgress own;
  LoadProgress& live = progress ? *progress : own;
  int loops = static_cast<int>(std::clamp<std::uint64_t>(std::uint64_t(std::max(1, load.loops)), 1,
                                                         std::max<std::uint64_t>(1, load.streams)));
  std::vector<std::vector<std::uint64_t>> shares(loops);
  for (std::uint64_t i = 0; i < load.streams; ++i) shares[i % loops].push_back(i);
  std::int64_t t0 = NowNs();
  std::vector<LoadResult> results(loops);
  std::vector<std::thread> threads;
  for (int k = 1; k < loops; ++k) {
    threads.emplace_back([&, k] { results[k] = Loop(load, live, t0, shares[k]).Run(); });
  }
  results[0] = Loop(load, live, t0, shares[0]).Run();
  for (auto& t : threads) t.join();
  LoadResult all = std::move(results[0]);
  for (int k = 1; k < loops; ++k) all.Merge(results[k]);
  all.peak_open = live.peak_open.load();
  return all;
}

}  // namespace streamcheck::bench
