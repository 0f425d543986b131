// mock_load: opens N concurrent streams against a mock backend and counts how
// many end cleanly. A measurement, not a test: it prints figures and exits 0
// only when every stream completed (status 200, a clean end of the chunked
// body, [DONE] for chat, every byte for files). Bounded: it gives up after
// --timeout-s and reports the streams still open as stalled.
//
//   mock_load --url http://127.0.0.1:8000 --streams 10000 --kind chat --tokens 64 --delay-ms 20
//   mock_load --url http://127.0.0.1:8000 --streams 1000 --kind file --size-mb 4
//   mock_load --in-process --streams 500        (starts its own MockBackend: the ctest smoke run)
//
// The client is event-driven too (Boost.Asio, responses parsed by Beast), one
// thread, so it measures the mock rather than its own threads.
// clang-format off
// Before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <sys/resource.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mocks/content.h"
#include "mocks/mock_backend.h"
#include "mocks/mock_client.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using streamcheck::mocks::MockConfig;

struct Options {
  std::string url;
  bool in_process = false;
  int streams = 1000;
  std::string kind = "chat";
  int tokens = 64;
  int delay_ms = 20;
  double size_mb = 1;
  int ramp_per_s = 5000;  // new connections a second
  int timeout_s = 120;
};

struct Outcome {
  bool count_events = true;  // SSE events; off for byte streams
  bool connected = false;
  bool done = false;
  bool complete = false;
  int status = 0;
  std::string error;
  std::uint64_t bytes = 0;
  std::uint64_t events = 0;
  bool saw_done = false;
  Clock::time_point start, first_byte, last_byte;
  double max_gap_ms = 0;
};

// A response body that is only counted: bytes, SSE events ("\n\n"), the tail.
struct CountingBody {
  struct value_type {
    Outcome* outcome = nullptr;
    char last = 0;
    std::string tail;
  };
  class reader {
   public:
    template <bool isRequest, class Fields>
    reader(http::header<isRequest, Fields>&, value_type& body) : body_(body) {}
    void init(const boost::optional<std::uint64_t>&, beast::error_code& ec) { ec = {}; }
    template <class Buffers>
    std::size_t put(const Buffers& buffers, beast::error_code& ec) {
      std::size_t n = 0;
      Outcome& o = *body_.outcome;
      auto now = Clock::now();
      if (o.bytes == 0) {
        o.first_byte = now;
      } else {
        o.max_gap_ms = std::max(
            o.max_gap_ms, std::chrono::duration<double, std::milli>(now - o.last_byte).count());
      }
      o.last_byte = now;
      for (auto b : beast::buffers_range_ref(buffers)) {
        const char* data = static_cast<const char*>(b.data());
        if (o.count_events) {
          for (std::size_t i = 0; i < b.size(); ++i) {
            if (data[i] == '\n' && body_.last == '\n') ++o.events;
            body_.last = data[i];
          }
        }
        std::size_t keep = std::min<std::size_t>(b.size(), 64);
        body_.tail.append(data + b.size() - keep, keep);
        if (body_.tail.size() > 64) body_.tail.erase(0, body_.tail.size() - 64);
        n += b.size();
      }
      o.bytes += n;
      ec = {};
      return n;
    }
    void finish(beast::error_code& ec) {
      body_.outcome->saw_done =
          body_.tail.size() >= 14 &&
          body_.tail.compare(body_.tail.size() - 14, 14, "data: [DONE]\n\n") == 0;
      ec = {};
    }

   private:
    value_type& body_;
  };
};

class Stream : public std::enable_shared_from_this<Stream> {
 public:
  Stream(asio::io_context& ioc, tcp::endpoint endpoint, std::string request, Outcome& outcome)
      : socket_(ioc), endpoint_(endpoint), request_(std::move(request)), outcome_(outcome) {}

  void Start() {
    outcome_.start = Clock::now();
    socket_.async_connect(endpoint_, [self = shared_from_this()](const beast::error_code& ec) {
      if (ec) return self->Fail("connect: " + ec.message());
      self->outcome_.connected = true;
      asio::async_write(self->socket_, asio::buffer(self->request_),
                        [self](const beast::error_code& e, std::size_t) {
                          if (e) return self->Fail("write: " + e.message());
                          self->Read();
                        });
    });
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_->get().body().outcome = &outcome_;
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](const beast::error_code& ec, std::size_t) {
                       self->outcome_.status = self->parser_->get().result_int();
                       if (ec) return self->Fail("read: " + ec.message());
                       self->outcome_.done = true;
                       self->outcome_.complete = true;
                       beast::error_code ignored;
                       self->socket_.shutdown(tcp::socket::shutdown_both, ignored);
                     });
  }
  void Fail(const std::string& error) {
    outcome_.done = true;
    outcome_.error = error;
  }

  tcp::socket socket_;
  tcp::endpoint endpoint_;
  std::string request_;
  Outcome& outcome_;
  beast::flat_buffer buffer_;
  std::optional<http::response_parser<CountingBody>> parser_;
};

bool ParseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--url")
      o.url = value();
    else if (a == "--in-process")
      o.in_process = true;
    else if (a == "--streams")
      o.streams = std::stoi(value());
    else if (a == "--kind")
      o.kind = value();
    else if (a == "--tokens")
      o.tokens = std::stoi(value());
    else if (a == "--delay-ms")
      o.delay_ms = std::stoi(value());
    else if (a == "--size-mb")
      o.size_mb = std::stod(value());
    else if (a == "--ramp-per-s")
      o.ramp_per_s = std::stoi(value());
    else if (a == "--timeout-s")
      o.timeout_s = std::stoi(value());
    else
      return false;
  }
  return (o.in_process || !o.url.empty()) && (o.kind == "chat" || o.kind == "file") &&
         o.streams > 0 && o.ramp_per_s > 0;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * double(v.size())))];
}

std::string Request(const Options& o, int i) {
  if (o.kind == "file") return "GET /large-file HTTP/1.1\r\nHost: mock\r\n\r\n";
  std::string body =
      "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"load " +
      std::to_string(i) + "\"}]}";
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, o)) {
    std::cerr << "usage: mock_load (--url http://HOST:PORT | --in-process) [--streams N] "
                 "[--kind chat|file] [--tokens N] [--delay-ms N] [--size-mb X] [--ramp-per-s N] "
                 "[--timeout-s N]\n";
    return 2;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);

  std::unique_ptr<streamcheck::mocks::MockBackend> local;
  if (o.in_process) {
    auto started = streamcheck::mocks::MockBackend::Start();
    if (!started) return std::cerr << started.error() << "\n", 3;
    local = std::move(*started);
    o.url = local->url();
  }
  auto client = streamcheck::mocks::MockClient::Connect(o.url);
  if (!client) return std::cerr << "mock_load: " << client.error() << "\n", 3;
  MockConfig config;
  config.token_count = o.tokens;
  config.token_delay_ms = o.delay_ms;
  config.size_mb = o.size_mb;
  if (auto s = (*client)->Reset(); !s) return std::cerr << s.message() << "\n", 3;
  if (auto s = (*client)->SetConfig(config); !s) return std::cerr << s.message() << "\n", 3;

  std::string hostport = o.url.substr(o.url.find("//") + 2);
  tcp::endpoint endpoint(
      asio::ip::make_address(hostport.substr(0, hostport.rfind(':'))),
      static_cast<unsigned short>(std::stoi(hostport.substr(hostport.rfind(':') + 1))));
  asio::io_context ioc;
  std::vector<Outcome> outcomes(o.streams);
  for (auto& x : outcomes) x.count_events = o.kind == "chat";
  const auto begin = Clock::now();
  const auto deadline = begin + std::chrono::seconds(o.timeout_s);
  asio::steady_timer ramp(ioc);
  int opened = 0;
  // Opens connections in slices of 10 ms at --ramp-per-s.
  std::function<void()> open_more = [&] {
    int due = std::min<long long>(
        o.streams,
        1 + (std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - begin).count() *
             o.ramp_per_s) /
                1000);
    for (; opened < due; ++opened) {
      std::make_shared<Stream>(ioc, endpoint, Request(o, opened), outcomes[opened])->Start();
    }
    if (opened < o.streams) {
      ramp.expires_after(std::chrono::milliseconds(10));
      ramp.async_wait([&](const beast::error_code&) { open_more(); });
    }
  };
  open_more();
  asio::steady_timer stop(ioc);
  stop.expires_at(deadline);
  stop.async_wait([&](const beast::error_code& ec) {
    if (!ec) ioc.stop();
  });
  // Stop as soon as every stream is done.
  asio::steady_timer poll(ioc);
  std::function<void()> check = [&] {
    bool all = opened == o.streams && std::all_of(outcomes.begin(), outcomes.end(),
                                                  [](const Outcome& x) { return x.done; });
    if (all) return ioc.stop();
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([&](const beast::error_code&) { check(); });
  };
  check();
  ioc.run();
  double elapsed_s = std::chrono::duration<double>(Clock::now() - begin).count();

  const std::uint64_t file_bytes =
      static_cast<std::uint64_t>(o.size_mb * double(streamcheck::mocks::kMiB));
  int completed = 0, stalled = 0;
  std::map<std::string, int> errors;
  std::vector<double> durations, first_bytes, gaps;
  std::uint64_t bytes = 0, events = 0;
  for (const auto& x : outcomes) {
    bytes += x.bytes;
    events += x.events;
    if (!x.done) {
      ++stalled;
      continue;
    }
    bool ok = x.complete && x.status == 200 &&
              (o.kind == "chat" ? x.saw_done && x.events == std::uint64_t(o.tokens) + 3
                                : x.bytes == file_bytes);
    if (!ok) {
      std::string why = !x.error.empty()  ? x.error.substr(0, x.error.find(':'))
                        : x.status != 200 ? "status " + std::to_string(x.status)
                                          : "incomplete body";
      ++errors[why];
      continue;
    }
    ++completed;
    durations.push_back(std::chrono::duration<double, std::milli>(x.last_byte - x.start).count());
    first_bytes.push_back(
        std::chrono::duration<double, std::milli>(x.first_byte - x.start).count());
    gaps.push_back(x.max_gap_ms);
  }
  auto stats = (*client)->Stats();
  std::printf("mock_load: %d %s streams (%s), %.1f s\n", o.streams, o.kind.c_str(),
              o.kind == "chat" ? (std::to_string(o.tokens) + " tokens every " +
                                  std::to_string(o.delay_ms) + " ms")
                                     .c_str()
                               : (std::to_string(o.size_mb) + " MiB each").c_str(),
              elapsed_s);
  std::printf("  completed %d, errors %d, stalled %d\n", completed, o.streams - completed - stalled,
              stalled);
  for (const auto& [why, n] : errors) std::printf("    %s: %d\n", why.c_str(), n);
  std::printf(
      "  stream duration ms: p50 %.0f p99 %.0f max %.0f; first byte ms: p50 %.0f p99 %.0f\n",
      Percentile(durations, 0.5), Percentile(durations, 0.99), Percentile(durations, 1.0),
      Percentile(first_bytes, 0.5), Percentile(first_bytes, 0.99));
  std::printf("  longest pause within a stream ms: p50 %.0f p99 %.0f max %.0f\n",
              Percentile(gaps, 0.5), Percentile(gaps, 0.99), Percentile(gaps, 1.0));
  std::printf("  received %.1f MiB, %llu SSE events (%.0f MiB/s)\n",
              double(bytes) / double(1 << 20), static_cast<unsigned long long>(events),
              double(bytes) / double(1 << 20) / elapsed_s);
  if (stats) {
    std::printf("  mock says: started %llu, completed %llu, cancelled %llu, cut %llu\n",
                static_cast<unsigned long long>(stats->transfers_started),
                static_cast<unsigned long long>(stats->transfers_completed),
                static_cast<unsigned long long>(stats->transfers_cancelled),
                static_cast<unsigned long long>(stats->transfers_cut));
  }
  bool agree = stats && stats->transfers_completed == std::uint64_t(completed);
  if (!agree)
    std::printf("  the mock's count of completed transfers disagrees with the client's\n");
  return completed == o.streams && agree ? 0 : 1;
}
