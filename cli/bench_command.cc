#include "cli/bench_command.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <atomic>
#include <ctime>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "bench/report.h"
#include "bench/rounds.h"
#include "cli/run_command.h"
#include "core/verdict.h"
#include "harness/target_process.h"
#include "reports/bench_html.h"
#include "reports/writers.h"

namespace streamcheck::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kExitGate = 1;

// SIGINT and SIGTERM stop the bench: the running load is cut, every target
// stopped and the reports written with what was measured. A second signal
// ends the process at once.
class BenchSignals {
 public:
  explicit BenchSignals(engine::StopSource& stop) : stop_(stop) {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM}) sigaddset(&set_, sig);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] {
      timespec tick{0, 100'000'000};
      int seen = 0;
      while (!done_) {
        int sig = sigtimedwait(&set_, nullptr, &tick);
        if (sig <= 0) continue;
        int code = sig == SIGINT ? core::kExitSigint : core::kExitSigterm;
        if (++seen > 1) {
          harness::KillAllStartedGroups();
          _exit(code);
        }
        stop_.RequestStop(std::string("interrupted by SIG") + sigabbrev_np(sig), code);
      }
    });
  }
  ~BenchSignals() {
    done_ = true;
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  engine::StopSource& stop_;
  sigset_t set_;
  sigset_t old_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

Result<std::vector<int>> ParseLevels(const std::string& text) {
  std::vector<int> levels;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      std::size_t used = 0;
      int n = std::stoi(item, &used);
      if (used != item.size() || n < 1 || n > 1'000'000) throw std::out_of_range(item);
      levels.push_back(n);
    } catch (...) {
      return Error{"--concurrency: \"" + item + "\" is not a number of streams in 1..1000000"};
    }
  }
  if (levels.empty()) return Error{"--concurrency: give at least one level, e.g. 1,64"};
  return levels;
}

Result<std::pair<int, int>> ParseShard(const std::string& text) {
  int i = 0, n = 0;
  char slash = 0, extra = 0;
  if (std::sscanf(text.c_str(), "%d%c%d%c", &i, &slash, &n, &extra) != 3 || slash != '/' || n < 1 ||
      i < 0 || i >= n) {
    return Error{"--shard must be I/N with 0 <= I < N, e.g. 0/4; got \"" + text + "\""};
  }
  return std::pair{i, n};
}

std::string IsoNow() {
  std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

struct Output {
  std::string path;
  bool html = false;
};

std::vector<Output> Outputs(const BenchArgs& args) {
  std::vector<Output> outputs;
  if (!args.json_path.empty()) outputs.push_back({args.json_path, false});
  if (!args.html_path.empty()) outputs.push_back({args.html_path, true});
  if (!args.report_dir.empty()) {
    outputs.push_back({(fs::path(args.report_dir) / "bench.json").string(), false});
    outputs.push_back({(fs::path(args.report_dir) / "bench.html").string(), true});
  }
  return outputs;
}

// Every report can be written: its folder exists (a --report-dir is created).
Status CheckOutputs(const BenchArgs& args, const std::vector<Output>& outputs) {
  std::error_code ec;
  if (!args.report_dir.empty()) {
    fs::create_directories(args.report_dir, ec);
    if (ec) return Status::Failure("cannot create --report-dir " + args.report_dir);
  }
  for (const auto& o : outputs) {
    fs::path p = o.path;
    fs::path folder = p.has_parent_path() ? p.parent_path() : fs::path(".");
    if (!fs::is_directory(folder, ec)) {
      return Status::Failure("cannot write " + o.path + ": the folder " + folder.string() +
                             " does not exist");
    }
  }
  return Status::Ok();
}

bool WriteOutputs(const std::vector<Output>& outputs, const bench::BenchResult& result,
                  std::ostream& out, std::ostream& err) {
  nlohmann::json json = bench::ToJson(result);
  bool ok = true;
  for (const auto& o : outputs) {
    std::string text =
        o.html ? reports::BenchHtml(json)
               : json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    if (auto s = reports::WriteFile(o.path, text); !s) {
      err << "streamcheck bench: " << s.message() << "\n";
      ok = false;
    } else {
      out << "wrote " << o.path << "\n";
    }
  }
  return ok;
}

std::optional<double> Gate(double value) {
  return value >= 0 ? std::optional(value) : std::nullopt;
}

int Finish(bench::BenchResult& result, const BenchArgs& args, const std::vector<Output>& outputs,
           std::ostream& out, std::ostream& err, int code_if_ok) {
  bool gates = bench::ApplyGates(result, Gate(args.min_ratio), Gate(args.max_added_p99_ms));
  out << bench::ConsoleTables(result) << std::flush;
  bool written = WriteOutputs(outputs, result, out, err);
  if (code_if_ok != 0) return code_if_ok;
  if (!written) return core::kExitHarness;
  if (!gates) return kExitGate;
  for (const auto& t : result.targets) {
    if (!t.problem.empty()) return core::kExitHarness;
  }
  return 0;
}

int Merge(const BenchArgs& args, const std::vector<Output>& outputs, std::ostream& out,
          std::ostream& err) {
  std::vector<bench::BenchResult> shards;
  for (const auto& path : args.merge) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto json = nlohmann::json::parse(text.str(), nullptr, false);
    if (json.is_discarded()) {
      err << "streamcheck bench: --merge: " << path << " is not JSON\n";
      return core::kExitUsage;
    }
    auto parsed = bench::FromJson(json);
    if (!parsed) {
      err << "streamcheck bench: --merge: " << path << ": " << parsed.error() << "\n";
      return core::kExitUsage;
    }
    shards.push_back(std::move(*parsed));
  }
  auto merged = bench::Merge(shards);
  if (!merged) {
    err << "streamcheck bench: --merge: " << merged.error() << "\n";
    return core::kExitUsage;
  }
  merged->merged_from = args.merge;
  out << "merged " << args.merge.size() << " shard results\n";
  return Finish(*merged, args, outputs, out, err, 0);
}

}  // namespace

void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

std::string BenchExitCodesHelp() {
  return "Exit codes:\n"
         "    0  measured; every gate given passed (without gates, goals are only printed)\n"
         "    1  a gate was missed (--min-ratio, --max-added-p99-ms); a figure that could not "
         "be measured misses its gate\n"
         "    2  usage error: a bad flag or spec, a report that cannot be written, shards that "
         "do not merge\n"
         "    3  a target could not be started or died, or a report could not be written\n"
         "  130  interrupted (SIGINT), 143 (SIGTERM): the reports hold what was measured\n";
}

int CommandBench(const BenchArgs& args, std::ostream& out, std::ostream& err) {
  auto outputs = Outputs(args);
  if (auto s = CheckOutputs(args, outputs); !s) {
    err << "streamcheck bench: " << s.message() << "\n";
    return core::kExitUsage;
  }
  if (!args.merge.empty()) return Merge(args, outputs, out, err);
  auto levels = ParseLevels(args.concurrency);
  if (!levels) {
    err << "streamcheck bench: " << levels.error() << "\n";
    return core::kExitUsage;
  }
  std::pair<int, int> shard{0, 1};
  if (!args.shard.empty()) {
    auto parsed = ParseShard(args.shard);
    if (!parsed) {
      err << "streamcheck bench: " << parsed.error() << "\n";
      return core::kExitUsage;
    }
    shard = *parsed;
  }
  fs::path root = Root();
  auto specs = harness::ResolveTargets(args.targets, root);
  if (!specs) {
    err << "streamcheck bench: " << specs.error() << "\n";
    return core::kExitUsage;
  }
  RaiseOpenFileLimit();

  bench::BenchOptions options;
  options.targets = *specs;
  options.session.root = root;
  options.session.bin = BinDir();
  std::error_code ec;
  if (args.log_dir.empty() && args.report_dir.empty()) {
    char tmpl[] = "/tmp/streamcheck-bench-XXXXXX";
    if (!mkdtemp(tmpl)) {
      err << "streamcheck bench: cannot create a log folder in /tmp\n";
      return core::kExitHarness;
    }
    options.session.log_dir = tmpl;
  } else {
    options.session.log_dir = fs::absolute(
        args.log_dir.empty() ? fs::path(args.report_dir) / "logs" : fs::path(args.log_dir), ec);
    fs::create_directories(options.session.log_dir, ec);
  }
  bench::BenchSettings& s = options.settings;
  s.concurrency = *levels;
  s.rates = args.rates;
  s.rate_duration_s = args.rates.empty() ? 0 : args.rate_duration_s;
  s.tokens = args.tokens;
  s.token_delay_ms = args.token_delay_ms;
  s.size_mb = args.size_mb;
  s.chunked = args.chunked;
  s.rounds = args.rounds;
  s.timeout_s = args.timeout_s;
  s.shard_index = shard.first;
  s.shard_count = shard.second;
  s.loops = args.loops;
  const bool sharded = shard.second > 1;
  options.throughput = !args.no_throughput && !sharded;
  options.mock_direct = !args.no_mock_direct && !sharded;
  options.client_row = !args.no_client && !sharded;
  options.client_size_mb = args.client_size_mb;
  if (args.start_at >= 0) {
    options.start_at = std::chrono::system_clock::time_point(
        std::chrono::milliseconds(static_cast<long long>(args.start_at * 1000)));
  }
  engine::StopSource stop;
  options.stop = &stop;
  options.on_line = [&](const std::string& line) { out << line << "\n" << std::flush; };

  std::string command = "streamcheck";
  for (const auto& a : args.argv) command += " " + a;
  out << "streamcheck bench " << Version() << ": " << specs->size() << " target(s), levels "
      << args.concurrency << (sharded ? ", shard " + args.shard : "") << ", logs in "
      << options.session.log_dir.string() << "\n"
      << std::flush;

  bench::BenchResult result;
  const std::string started = IsoNow();
  {
    BenchSignals signals(stop);
    result = bench::RunBench(options);
  }
  result.version = Version();
  result.started_at = started;
  result.command = command;
  int interrupted = 0;
  if (auto i = stop.interruption()) {
    out << "interrupted: " << i->reason << "; the reports hold what was measured\n";
    interrupted = i->exit_code;
  }
  return Finish(result, args, outputs, out, err, interrupted);
}

}  // namespace streamcheck::cli
