// The streamcheck command line. Parsing is separate from running so tests can
// feed argv vectors in-process; main() only calls RunCli().
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace streamcheck::cli {

struct RunArgs {
  std::vector<std::string> targets;  // empty: the built-in cpp target
  std::string cases;                 // globs over case IDs
  double size_mb = 100;
  int jobs = 1;          // targets run at once (the command line's default: DefaultJobs())
  int repeat = 1;        // each case this many times (engine::RunOptions::repeat)
  double timeout_s = 0;  // the whole run (0: none)
  std::string json_path;
  std::string junit_path;
  std::string markdown_path;
  std::string html_path;
  std::string report_dir;      // all four: results.json, junit.xml, summary.md, report.html
  std::string log_dir;         // default: <report-dir>/logs, else a fresh folder under /tmp
  bool strict = false;         // SHOULD misses (and listed failures that now pass) fail the run
  std::string expect;          // a baseline of known outcomes (reports/baseline.h)
  bool quiet = false;          // -q: failures and the summary only
  bool verbose = false;        // -v: each exchange under its case
  std::string color = "auto";  // auto (a terminal without NO_COLOR), always, never
  std::string shard;           // "I/N": this process runs shard I of N (engine/shard.h)
};

struct ServeArgs {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string port_file;
  std::string backend;  // default: http://$OPENAI_HOST:$OPENAI_PORT
  int backend_connect_timeout_ms = 5'000;
  int backend_headers_timeout_ms = 30'000;
  int backend_idle_timeout_ms = 30'000;
  // Limits (server/reference_server.h, ServerOptions).
  int io_threads = 2;
  int processes = 1;  // server/server_processes.h
  int max_connections = 10'000;
  std::size_t max_header_bytes = 32 * 1024;
  std::size_t max_header_count = 100;
  std::uint64_t max_body_bytes = 0;
  std::size_t max_chat_body_bytes = 16 * 1024 * 1024;
  int header_timeout_ms = 10'000;
  int keepalive_timeout_ms = 60'000;
  int client_idle_timeout_ms = 60'000;
  bool no_zero_copy = false;
};

struct MockArgs {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string port_file;
  std::string config;  // JSON object of MockConfig keys, or @FILE
};

struct ProbeArgs {
  std::string url;
  std::string method;  // default GET, or POST with --data/--chat
  std::string data;
  std::string chat;  // a prompt: POST an OpenAI chat request with "stream": true
  std::vector<std::string> headers;
  bool sse = false;  // parse the body as SSE (implied by --chat or an event-stream reply)
  double timeout_s = 60;
};

struct ReportArgs {
  std::string results;  // a results JSON written by `run --json`
  std::string junit_path;
  std::string markdown_path;
  std::string html_path;
  std::string report_dir;
  bool strict = false;  // gate the saved run again (as run --strict / --expect)
  std::string expect;
  std::vector<std::string> compare;          // OLD.json NEW.json
  std::vector<std::string> compare_targets;  // BEFORE AFTER target names
  std::string metric_threshold = "20%";      // "20%", "0.2", or "off"
  std::vector<std::string> merge;            // results files to merge into one (reports/merge.h)
  std::string json_path;                     // write the (merged or re-gated) results JSON
};

struct BenchArgs {
  std::vector<std::string> targets;  // empty: the built-in cpp target
  std::string concurrency = "1,16,64,256,1000";
  std::vector<double> rates;  // streams per second, each a level of its own
  double rate_duration_s = 10;
  int tokens = 64;
  int token_delay_ms = 20;
  double size_mb = 256;
  bool chunked = false;  // throughput bodies chunked (default: with Content-Length)
  int rounds = 3;
  double timeout_s = 30;  // the longest one stream may take
  double min_ratio = -1;  // gates; < 0: off
  double max_added_p99_ms = -1;
  std::string json_path;
  std::string html_path;
  std::string report_dir;  // bench.json, bench.html and logs/
  std::string log_dir;
  std::string shard;               // "I/N"
  double start_at = -1;            // Unix time (seconds) when a shard's first load starts
  std::vector<std::string> merge;  // shard results to merge instead of running
  bool no_client = false;
  bool no_mock_direct = false;
  bool no_throughput = false;
  double client_size_mb = 1024;
  int loops = 1;
  std::vector<std::string> argv;  // the command line, for the report
};

struct ListArgs {
  bool json = false;
  bool markdown = false;
};

struct Invocation {
  std::string command;  // "run", "list", "serve", "mock", "probe", "bench", "report"
  ListArgs list;
  RunArgs run;
  ServeArgs serve;
  MockArgs mock;
  ProbeArgs probe;
  BenchArgs bench;
  ReportArgs report;
};

// Either an invocation to carry out, or an exit code with what to print (help,
// version, or a usage error that says what to do).
struct Parsed {
  std::optional<Invocation> invocation;
  int exit_code = 0;
  std::string output;  // for stdout (help, version)
  std::string error;   // for stderr
};

Parsed ParseArgs(const std::vector<std::string>& args);

// Parses and runs; returns the process exit code (core/verdict.h, ExitCodes()).
int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

std::string Version();

}  // namespace streamcheck::cli
