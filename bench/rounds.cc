#include "bench/rounds.h"

#include <sys/resource.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench/stats.h"
#include "bench/usage.h"
#include "harness/http_client.h"
#include "harness/ports.h"
#include "harness/target_process.h"
#include "mocks/mock_client.h"

namespace streamcheck::bench {
namespace {

namespace fs = std::filesystem;

constexpr double kMiB = 1024.0 * 1024.0;

std::string Format(const char* format, auto... args) {
  char line[512];
  std::snprintf(line, sizeof line, format, args...);
  return line;
}

// The mock a subject calls and its control client: a `streamcheck mock`
// process of the bench's own, or (a spec's mock.url) one already running.
struct MockProcess {
  std::unique_ptr<harness::TargetProcess> process;  // null: not ours
  std::unique_ptr<mocks::MockClient> control;
  std::string url;
  harness::MemoryScope scope() const {
    return {{process->pid()}, {}, "the mock (pid " + std::to_string(process->pid()) + ")"};
  }
};

Result<MockProcess> ConnectMock(MockProcess mock, const std::string& name) {
  auto control = mocks::MockClient::Connect(mock.url);
  if (!control) return Error{"mock for " + name + ": " + control.error()};
  mock.control = std::move(*control);
  return mock;
}

// `listen`: "HOST:PORT" (a spec's mock.listen, the address its server is
// configured to call); empty: a free port on 127.0.0.1.
Result<MockProcess> StartMock(const BenchOptions& options, const std::string& name,
                              const std::string& listen = "") {
  std::string host = "127.0.0.1";
  int port = 0;
  if (listen.empty()) {
    auto free = harness::PickFreePort();
    if (!free) return Error{free.error()};
    port = *free;
  } else {
    auto colon = listen.rfind(':');
    host = listen.substr(0, colon);
    port = std::atoi(listen.c_str() + colon + 1);
  }
  harness::LaunchOptions launch;
  launch.argv = {(options.session.bin / "streamcheck").string(),
                 "mock",
                 "--host",
                 host,
                 "--port",
                 std::to_string(port)};
  launch.log_path = options.session.log_dir / (name + "-mock.log");
  auto process = harness::TargetProcess::Start(launch);
  if (!process) return Error{"mock for " + name + ": " + process.error()};
  MockProcess mock;
  mock.process = std::move(*process);
  mock.url = "http://" + listen + (listen.empty() ? "127.0.0.1:" + std::to_string(port) : "");
  std::function<bool()> stop;
  if (options.stop) stop = options.stop->Predicate();
  if (auto ready =
          mock.process->WaitReady(mock.url, "/v1/health/ready", std::chrono::seconds(30), stop);
      !ready) {
    return Error{"mock for " + name + (listen.empty() ? "" : " on " + listen + " (mock.listen)") +
                 ": " + ready.message()};
  }
  return ConnectMock(std::move(mock), name);
}

// The mock the target's spec makes it call.
Result<MockProcess> MockFor(const BenchOptions& options, const harness::TargetSpec& spec) {
  if (!spec.mock_url.empty()) {
    MockProcess running;
    running.url = spec.mock_url;
    return ConnectMock(std::move(running), spec.name);
  }
  return StartMock(options, spec.name, spec.mock_listen);
}

// One target with its mock: a session (spawned or attached), or the mock-direct row.
struct Subject {
  TargetBench* bench = nullptr;
  MockProcess mock;
  std::unique_ptr<engine::TargetSession> session;  // null for mock-direct
  std::optional<harness::MemoryScope> scope;       // what its memory and CPU are
  std::string scope_problem;
  std::string chat_url;
  std::string body;
  bool chat = true;
  std::string no_chat_reason = "the spec has no chat feature";
  bool failed_level = false;  // a concurrency level did not complete: higher ones are skipped
  std::string failed_reason;
};

// `request`: the target's defaults (headers, TLS), or none for the mock.
Result<double> MeasureGet(harness::HttpRequest request, const std::string& url,
                          std::uint64_t expected_bytes, const std::function<bool()>& stop) {
  request.url = url;
  request.keep_body_bytes = 0;
  request.hash_body = false;  // the server is measured here, not the client's hashing
  request.total_timeout = std::chrono::seconds(300);
  request.should_stop = stop;
  auto r = harness::Perform(request);
  if (!r.complete || r.status != 200 || r.body_bytes != expected_bytes) {
    return Error{"GET " + url + " failed: status " + std::to_string(r.status) + ", " +
                 std::to_string(r.body_bytes) + " of " + std::to_string(expected_bytes) + " bytes" +
                 (r.error.empty() ? "" : ", " + r.error)};
  }
  // The whole request: what a client waits for, headers and connection included.
  return double(r.body_bytes) / kMiB / (r.t_total_ms / 1000.0);
}

long OpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return limit.rlim_cur == RLIM_INFINITY ? 1 << 30 : long(limit.rlim_cur);
}

double LoadAverage() {
  double load[1] = {-1};
  return getloadavg(load, 1) == 1 ? load[0] : -1;
}

std::string Rate(double r) { return Format("%g/s", r); }

class Runner {
 public:
  explicit Runner(const BenchOptions& options) : options_(options) {
    result_.settings = options.settings;
    if (options.stop) stop_ = options.stop->Predicate();
  }

  BenchResult Run() {
    result_.open_file_limit = OpenFileLimit();
    result_.cores = static_cast<int>(std::thread::hardware_concurrency());
    result_.load_average_start = LoadAverage();
    StartSubjects();
    if (options_.throughput) Throughputs();
    Levels();
    if (options_.client_row && !Stopped()) MeasureClient();
    for (auto& s : subjects_) {
      if (s.session) s.session->Stop();
      if (s.mock.process) s.mock.process->Stop();
    }
    for (auto& t : result_.targets) t.knee = KneeOf(t);
    result_.load_average_end = LoadAverage();
    return std::move(result_);
  }

 private:
  void Say(const std::string& line) {
    if (options_.on_line) options_.on_line(line);
  }
  bool Stopped() const { return stop_ && stop_(); }

  void StartSubjects() {
    // Slots are reserved first: subjects keep pointers into result_.targets.
    std::size_t count = options_.targets.size() + (options_.mock_direct ? 1 : 0);
    result_.targets.reserve(count);
    subjects_.reserve(count);
    if (options_.mock_direct) {
      auto& t = result_.targets.emplace_back();
      t.name = "mock-direct";
      t.kind = "mock-direct";
      t.throughput_skipped = "the mock itself: no proxy between";
      Subject s;
      s.bench = &t;
      if (auto mock = StartMock(options_, "mock-direct"); !mock) {
        t.problem = mock.error();
      } else {
        s.mock = std::move(*mock);
        s.scope = s.mock.scope();
        s.chat_url = s.mock.url + "/v1/chat/completions";
        s.body = StreamBody("gpt-4");
      }
      subjects_.push_back(std::move(s));
    }
    for (const auto& spec : options_.targets) {
      auto& t = result_.targets.emplace_back();
      t.name = spec.name;
      Subject s;
      s.bench = &t;
      s.chat = spec.HasFeature("chat");
      Say("-- starting target " + spec.name);
      if (spec.external_backend) {
        // Its backend is not a mock: no stamps to subtract, no large body to read.
        s.chat = false;
        s.no_chat_reason = "the spec's backend is external: its tokens carry no send stamps";
        t.throughput_skipped = "the spec's backend is external: no mock to read directly";
        subjects_.push_back(std::move(s));
        continue;
      }
      auto mock = MockFor(options_, spec);
      if (!mock) {
        t.problem = mock.error();
        subjects_.push_back(std::move(s));
        continue;
      }
      s.mock = std::move(*mock);
      engine::SessionOptions session = options_.session;
      session.backend_url = s.mock.url;
      static engine::StopSource no_stop;
      s.session = std::make_unique<engine::TargetSession>(spec, session,
                                                          options_.stop ? *options_.stop : no_stop);
      if (!s.session->EnsureStarted()) {
        t.problem = s.session->problem();
        Say("   " + spec.name + " could not start: " + t.problem);
      } else {
        auto scope = s.session->Memory();
        if (scope) {
          s.scope = *scope;
        } else {
          s.scope_problem = scope.error();
        }
        s.chat_url = harness::JoinUrl(s.session->base_url(), spec.chat_path);
        s.body = StreamBody(spec.model);
      }
      if (!spec.HasFeature("direct_access")) {
        t.throughput_skipped = "the spec has no direct_access feature";
      }
      subjects_.push_back(std::move(s));
    }
  }

  bool Usable(Subject& s) {
    if (!s.bench->problem.empty()) return false;
    if (s.session) {
      if (std::string died = s.session->Died(); !died.empty()) {
        s.bench->problem = died;
        return false;
      }
    }
    return true;
  }

  void Throughputs() {
    const auto& settings = options_.settings;
    auto bytes = static_cast<std::uint64_t>(settings.size_mb * kMiB);
    std::string query = "large-file?size_mb=" + Format("%g", settings.size_mb);
    std::vector<Subject*> proxies;
    for (auto& s : subjects_) {
      if (s.session && s.bench->throughput_skipped.empty() && Usable(s)) proxies.push_back(&s);
    }
    if (proxies.empty()) return;
    Say(
        Format("throughput: GET %g MiB directly from each target's mock and through its "
               "/directAccess/, %d rounds, targets alternated",
               settings.size_mb, settings.rounds));
    std::vector<double> cpu(proxies.size(), 0), proxied_bytes(proxies.size(), 0);
    std::vector<bool> cpu_ok(proxies.size(), true);
    mocks::MockConfig body;
    body.framing = settings.chunked ? mocks::BodyFraming::kChunked : mocks::BodyFraming::kLength;
    for (auto* s : proxies) {
      if (auto set = s->mock.control->SetConfig(body); !set) {
        s->bench->throughput.problem = "the mock refused its configuration: " + set.message();
      }
    }
    for (int round = 0; round < settings.rounds && !Stopped(); ++round) {
      for (std::size_t i = 0; i < proxies.size(); ++i) {
        Subject& s = *proxies[i];
        Throughput& tp = s.bench->throughput;
        if (!tp.problem.empty() || !Usable(s)) continue;
        auto direct = MeasureGet({}, s.mock.url + "/" + query, bytes, stop_);
        if (!direct) {
          tp.problem = "direct read: " + direct.error();
          continue;
        }
        std::optional<double> before;
        if (s.scope) {
          if (auto c = CpuSeconds(*s.scope)) before = *c;
        }
        auto proxied =
            MeasureGet(s.session->RequestDefaults(),
                       harness::JoinUrl(s.session->base_url(), s.session->spec().DirectPath(query)),
                       bytes, stop_);
        if (!proxied) {
          tp.problem = "proxied read: " + proxied.error();
          continue;
        }
        if (before) {
          if (auto after = CpuSeconds(*s.scope)) {
            cpu[i] += *after - *before;
          } else {
            cpu_ok[i] = false;
          }
        } else {
          cpu_ok[i] = false;
        }
        proxied_bytes[i] += double(bytes);
        tp.direct_mib_s.push_back(*direct);
        tp.proxied_mib_s.push_back(*proxied);
        Say(Format("  round %d  %-16s direct %8.1f MiB/s  proxied %8.1f MiB/s", round + 1,
                   s.bench->name.c_str(), *direct, *proxied));
      }
    }
    for (std::size_t i = 0; i < proxies.size(); ++i) {
      Subject& s = *proxies[i];
      Throughput& tp = s.bench->throughput;
      s.bench->throughput_measured = !tp.proxied_mib_s.empty();
      tp.direct_median = Median(tp.direct_mib_s);
      tp.proxied_median = Median(tp.proxied_mib_s);
      if (tp.direct_median && tp.proxied_median && *tp.direct_median > 0) {
        tp.ratio = *tp.proxied_median / *tp.direct_median;
      }
      if (cpu_ok[i] && proxied_bytes[i] > 0) {
        tp.cpu_s_per_gib = cpu[i] / (proxied_bytes[i] / (kMiB * 1024.0));
      } else if (tp.problem.empty() && !s.scope) {
        tp.problem = "CPU not measured: " + s.scope_problem;
      }
    }
  }

  // Waits for the k-th load's slot of a sharded run (bounded by the stop).
  void WaitForSlot() {
    if (!options_.start_at) return;
    auto slot = std::chrono::duration<double>(SlotSeconds(options_.settings) * double(load_index_));
    auto when = *options_.start_at + std::chrono::duration_cast<std::chrono::milliseconds>(slot);
    ++load_index_;
    while (std::chrono::system_clock::now() < when && !Stopped()) {
      auto left = when - std::chrono::system_clock::now();
      std::this_thread::sleep_for(
          std::min<std::chrono::system_clock::duration>(left, std::chrono::milliseconds(100)));
    }
  }

  void Levels() {
    const auto& settings = options_.settings;
    const long limit = OpenFileLimit();
    for (int c : settings.concurrency) {
      std::uint64_t share = ShareOf(std::uint64_t(c), settings.shard_index, settings.shard_count);
      if (long(2 * share + 64) > limit && !noted_fds_) {
        noted_fds_ = true;
        result_.notes.push_back(Format(
            "a proxying target holds two descriptors per open stream (its client's and its "
            "backend's): %llu streams need more than %ld, the open-file limit here "
            "(hard limit; `ulimit -Hn`), so a proxy in one process can hold at most about %ld",
            static_cast<unsigned long long>(share), limit, (limit - 32) / 2));
        Say("note: " + result_.notes.back());
      }
      for (auto& s : subjects_) {
        if (Stopped()) return;
        Level level;
        level.target = s.bench->name;
        level.concurrency = c;
        level.shard_index = settings.shard_index;
        level.shard_count = settings.shard_count;
        if (!s.chat) {
          level.skipped = s.no_chat_reason;
        } else if (!Usable(s)) {
          level.skipped = "the target is not running: " + Excerpt(s.bench->problem);
        } else if (s.failed_level) {
          level.skipped = s.failed_reason;
        } else if (long(share + 64) > limit) {
          level.skipped = Format("the client needs %llu descriptors, the limit is %ld",
                                 static_cast<unsigned long long>(share + 64), limit);
        } else {
          RunLevel(s, level, share, 0);
          if (!level.all_completed() && level.skipped.empty()) {
            s.failed_level = true;
            s.failed_reason =
                Format("at %d streams %llu of %llu did not complete; higher levels skipped", c,
                       static_cast<unsigned long long>(level.load.streams - level.load.completed),
                       static_cast<unsigned long long>(level.load.streams));
          }
        }
        if (!level.skipped.empty())
          Say(Format("  %-16s %6d streams  skipped: %s", level.target.c_str(), c,
                     level.skipped.c_str()));
        s.bench->levels.push_back(std::move(level));
      }
    }
    for (double rate : settings.rates) {
      double total = rate * settings.rate_duration_s;
      for (auto& s : subjects_) {
        if (Stopped()) return;
        Level level;
        level.target = s.bench->name;
        level.mode = "rate";
        level.rate_per_s = rate;
        level.rate_duration_s = settings.rate_duration_s;
        level.shard_index = settings.shard_index;
        level.shard_count = settings.shard_count;
        std::uint64_t share =
            ShareOf(std::uint64_t(std::llround(total)), settings.shard_index, settings.shard_count);
        if (!s.chat) {
          level.skipped = s.no_chat_reason;
        } else if (!Usable(s)) {
          level.skipped = "the target is not running: " + Excerpt(s.bench->problem);
        } else {
          RunLevel(s, level, share, rate / settings.shard_count);
        }
        s.bench->levels.push_back(std::move(level));
      }
    }
  }

  static std::string Excerpt(const std::string& text) {
    return text.size() > 160 ? text.substr(0, 157) + "..." : text;
  }

  void RunLevel(Subject& s, Level& level, std::uint64_t streams, double rate) {
    const auto& settings = options_.settings;
    mocks::MockConfig config;
    config.token_count = settings.tokens;
    config.token_delay_ms = settings.token_delay_ms;
    config.stamp_tokens = true;
    if (auto set = s.mock.control->SetConfig(config); !set) {
      level.skipped = "the mock refused its configuration: " + set.message();
      return;
    }
    StreamLoad load;
    load.url = s.chat_url;
    load.body = s.body;
    if (s.session) load.headers = s.session->spec().headers;
    load.streams = streams;
    load.rate_per_s = rate;
    load.stream_timeout = std::chrono::milliseconds(std::llround(settings.timeout_s * 1000));
    load.expected_tokens = settings.tokens;
    load.loops = settings.loops;
    load.should_stop = stop_;
    if (s.session) {
      load.http_version = s.session->spec().http_version;
      load.ca_file = s.session->spec().ca_file;
      load.insecure = s.session->spec().insecure;
    }
    WaitForSlot();
    LoadProgress progress;
    std::optional<StreamMemorySampler> sampler;
    std::optional<double> cpu_before;
    if (s.scope) {
      sampler.emplace(*s.scope, progress.open);
      sampler->Start();
      if (auto c = CpuSeconds(*s.scope)) cpu_before = *c;
    }
    level.load = RunStreams(load, &progress);
    if (s.scope) {
      if (auto after = CpuSeconds(*s.scope); after && cpu_before) {
        level.cpu_s = *after - *cpu_before;
      } else {
        level.cpu_problem = after ? "CPU not read before the level" : after.error();
      }
      MemoryPerStream m = sampler->Stop();
      level.rss_kib_per_stream = m.rss_kib;
      level.pss_kib_per_stream = m.pss_kib;
      level.memory_open_streams = m.open;
      level.memory_problem = m.problem;
    } else {
      level.memory_problem = level.cpu_problem = "not measured: " + s.scope_problem;
    }
    Derive(level);
    const LoadResult& r = level.load;
    auto ms = [](const Histogram& h, double p) { return h.empty() ? -1.0 : h.PercentileMs(p); };
    std::string what = level.mode == "rate" ? Format("%8s", Rate(level.rate_per_s).c_str())
                                            : Format("%6d streams", level.concurrency);
    Say(Format(
        "  %-16s %s  %llu/%llu done, %llu errors, %llu timeouts; TTFT p99 %.1f ms, "
        "added p99 %.2f ms",
        level.target.c_str(), what.c_str(), static_cast<unsigned long long>(r.completed),
        static_cast<unsigned long long>(r.streams), static_cast<unsigned long long>(r.errors),
        static_cast<unsigned long long>(r.timeouts), ms(r.ttft_us, 99), ms(r.added_us, 99)));
    for (const auto& [why, n] : r.error_kinds) {
      Say(Format("      %llu x %s", static_cast<unsigned long long>(n), why.c_str()));
    }
  }

  void MeasureClient() {
    ClientRow row;
    row.size_mb = options_.client_size_mb;
    Subject* with_mock = nullptr;
    for (auto& s : subjects_) {
      if (s.mock.control && Usable(s)) {
        with_mock = &s;
        break;
      }
    }
    if (!with_mock) {
      row.problem = "no mock is running";
      result_.client = row;
      return;
    }
    if (auto set = with_mock->mock.control->SetConfig(mocks::MockConfig{}); !set) {
      row.problem = "the mock refused its configuration: " + set.message();
      result_.client = row;
      return;
    }
    auto bytes = static_cast<std::uint64_t>(row.size_mb * kMiB);
    std::string url = with_mock->mock.url + "/large-file?size_mb=" + Format("%g", row.size_mb);
    Say(
        Format("client: GET %g MiB from a mock with the harness's client (SHA-256 and arrival "
               "timeline on) and with curl -o /dev/null, alternated, %d rounds",
               row.size_mb, options_.settings.rounds));
    for (int round = 0; round < options_.settings.rounds && !Stopped(); ++round) {
      // Who goes first alternates too.
      for (int k = 0; k < 2; ++k) {
        bool harness_turn = (k == 0) == (round % 2 == 0);
        if (harness_turn) {
          harness::HttpRequest request;
          request.url = url;
          request.total_timeout = std::chrono::seconds(300);
          request.should_stop = stop_;
          auto r = harness::Perform(request);
          if (!r.complete || r.body_bytes != bytes) {
            row.problem = "the harness's read failed: " + r.error;
            break;
          }
          row.harness_mib_s.push_back(double(bytes) / kMiB / (r.t_total_ms / 1000.0));
        } else {
          auto curl = CurlRead(url, bytes);
          if (!curl) {
            row.problem = curl.error();
            break;
          }
          row.curl_mib_s.push_back(*curl);
        }
      }
      if (!row.problem.empty()) break;
      Say(Format("  round %d  harness %8.1f MiB/s  curl %8.1f MiB/s", round + 1,
                 row.harness_mib_s.back(), row.curl_mib_s.back()));
    }
    row.harness_median = Median(row.harness_mib_s);
    row.curl_median = Median(row.curl_mib_s);
    if (row.harness_median && row.curl_median && *row.curl_median > 0) {
      row.ratio = *row.harness_median / *row.curl_median;
    }
    result_.client = row;
  }

  // curl -o /dev/null on `url`: MiB/s over curl's own total time.
  static Result<double> CurlRead(const std::string& url, std::uint64_t bytes) {
    std::string command =
        "curl -s --noproxy '*' --max-time 300 -o /dev/null -w "
        "'%{http_code} %{size_download} %{time_total}' '" +
        url + "'";
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe) return Error{"cannot run curl"};
    char buffer[256] = {};
    std::size_t n = fread(buffer, 1, sizeof buffer - 1, pipe);
    int status = pclose(pipe);
    buffer[n] = 0;
    long code = 0;
    double size = 0, seconds = 0;
    if (status != 0 || std::sscanf(buffer, "%ld %lf %lf", &code, &size, &seconds) != 3 ||
        code != 200 || size != double(bytes) || seconds <= 0) {
      return Error{"curl -o /dev/null " + url + " failed (exit status " + std::to_string(status) +
                   ", it printed \"" + buffer + "\"); is curl installed?"};
    }
    return size / kMiB / seconds;
  }

  const BenchOptions& options_;
  BenchResult result_;
  std::vector<Subject> subjects_;
  std::function<bool()> stop_;
  std::size_t load_index_ = 0;
  bool noted_fds_ = false;
};

}  // namespace

double SlotSeconds(const BenchSettings& settings) {
  return settings.timeout_s + settings.rate_duration_s + 5.0;
}

std::string StreamBody(const std::string& model) {
  nlohmann::json body = {{"model", model},
                         {"messages", {{{"role", "user"}, {"content", "streamcheck bench"}}}},
                         {"stream", true}};
  return body.dump();
}

BenchResult RunBench(const BenchOptions& options) { return Runner(options).Run(); }

}  // namespace streamcheck::bench
