#include "cli/cli.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/bench_command.h"
#include "cli/console.h"
#include "cli/run_command.h"
#include "common/json_bounded.h"
#include "common/text.h"
#include "core/verdict.h"
#include "git_revision.h"
#include "mocks/mock_backend.h"
#include "reports/writers.h"
#include "server/reference_server.h"
#include "server/server_processes.h"
#include "suites/catalog.h"
#include "suites/catalog_doc.h"

namespace streamcheck::cli {
namespace {

namespace fs = std::filesystem;

using core::kExitHarness;
using core::kExitUsage;

// Waits for SIGINT or SIGTERM. The signals are blocked first, so every thread
// started afterwards inherits the mask and only this sigwait sees them.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  int Wait() {
    int signal = 0;
    sigwait(&set_, &signal);
    return signal;
  }
  const sigset_t& set() const { return set_; }

 private:
  sigset_t set_;
};

Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return Status::Ok();
  // Write then rename, so a reader never sees a half-written file.
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << port << "\n";
    if (!out) return Status::Failure("cannot write the port file " + path);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::Failure("cannot write the port file " + path + ": " + ec.message());
  return Status::Ok();
}

std::string DefaultBackend() {
  const char* host = std::getenv("OPENAI_HOST");
  const char* port = std::getenv("OPENAI_PORT");
  if (!host || !*host) return "";
  std::string h = host;
  if (h.rfind("http://", 0) != 0) h = "http://" + h;
  return port && *port ? h + ":" + port : h;
}

int CommandList(const ListArgs& args, std::ostream& out) {
  auto info = suites::CatalogInfo();
  if (args.json) {
    out << suites::CatalogJson(info);
  } else if (args.markdown) {
    out << suites::CatalogMarkdown(info);
  } else {
    out << suites::CatalogText(info);
  }
  return 0;
}

// serve --processes N: the workers share the port; a worker that dies ends
// the server (exit 3, naming it) rather than leaving it serving at half strength.
int ServeInProcesses(const server::ServerOptions& options, const ServeArgs& args,
                     const StopSignals& signals, std::ostream& out, std::ostream& err) {
  auto processes = server::ServerProcesses::Start(options, args.processes, signals.set());
  if (!processes) {
    err << "streamcheck serve: " << processes.error() << "\n";
    return kExitHarness;
  }
  if (auto s = WritePortFile(args.port_file, (*processes)->port()); !s) {
    err << "streamcheck serve: " << s.message() << "\n";
    return kExitHarness;
  }
  out << "streamcheck serve: listening on " << server::ListenUrl(options.host, (*processes)->port())
      << " in " << args.processes << " processes, backend " << options.backend_url
      << " (Ctrl-C stops)\n"
      << std::flush;
  std::string ended = (*processes)->Wait();
  if (ended.empty()) return 0;
  err << "streamcheck serve: " << ended << "; stopped the others\n";
  return kExitHarness;
}

int CommandServe(const ServeArgs& args, std::ostream& out, std::ostream& err) {
  StopSignals signals;
  server::ServerOptions options;
  options.host = args.host;
  options.port = args.port;
  options.backend_url = args.backend.empty() ? DefaultBackend() : args.backend;
  if (options.backend_url.empty()) {
    err << "streamcheck serve: no backend: pass --backend http://HOST:PORT or set OPENAI_HOST "
           "and OPENAI_PORT\n";
    return kExitUsage;
  }
  options.backend_connect_timeout = std::chrono::milliseconds(args.backend_connect_timeout_ms);
  options.backend_headers_timeout = std::chrono::milliseconds(args.backend_headers_timeout_ms);
  options.backend_idle_timeout = std::chrono::milliseconds(args.backend_idle_timeout_ms);
  options.io_threads = args.io_threads;
  options.max_connections = args.max_connections;
  options.max_header_bytes = args.max_header_bytes;
  options.max_header_count = args.max_header_count;
  options.max_body_bytes = args.max_body_bytes;
  options.max_chat_body_bytes = args.max_chat_body_bytes;
  options.header_timeout = std::chrono::milliseconds(args.header_timeout_ms);
  options.keepalive_timeout = std::chrono::milliseconds(args.keepalive_timeout_ms);
  options.client_idle_timeout = std::chrono::milliseconds(args.client_idle_timeout_ms);
  options.zero_copy = !args.no_zero_copy;
  if (args.processes > 1) return ServeInProcesses(options, args, signals, out, err);
  auto server = server::ReferenceServer::Start(options);
  if (!server) {
    err << "streamcheck serve: " << server.error() << "\n";
    return kExitHarness;
  }
  if (auto s = WritePortFile(args.port_file, (*server)->port()); !s) {
    err << "streamcheck serve: " << s.message() << "\n";
    return kExitHarness;
  }
  out << "streamcheck serve: listening on " << (*server)->url() << ", backend "
      << options.backend_url << " (Ctrl-C stops)\n"
      << std::flush;
  signals.Wait();
  (*server)->Stop();
  return 0;
}

int CommandMock(const MockArgs& args, std::ostream& out, std::ostream& err) {
  StopSignals signals;
  mocks::MockConfig config;
  if (!args.config.empty()) {
    std::string text = args.config;
    if (text.front() == '@') {
      std::ifstream in(text.substr(1));
      if (!in) {
        err << "streamcheck mock: cannot read " << text.substr(1) << "\n";
        return kExitUsage;
      }
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    }
    auto parsed = mocks::ConfigFromText(text);
    if (!parsed) {
      err << "streamcheck mock: --config: " << parsed.error() << "\n";
      return kExitUsage;
    }
    config = *parsed;
  }
  RaiseOpenFileLimit();
  auto mock = mocks::MockBackend::Start(config, args.host, args.port);
  if (!mock) {
    err << "streamcheck mock: " << mock.error() << "\n";
    return kExitHarness;
  }
  if (auto s = WritePortFile(args.port_file, (*mock)->port()); !s) {
    err << "streamcheck mock: " << s.message() << "\n";
    return kExitHarness;
  }
  out << "streamcheck mock: listening on " << (*mock)->url()
      << " (PUT /_mock/config to change, GET /_mock/stats to read; Ctrl-C stops)\n"
      << std::flush;
  signals.Wait();
  (*mock)->Stop();  // bounded: every wait wakes, every transfer is cut
  return 0;
}

int CommandProbe(const ProbeArgs& args, std::ostream& out, std::ostream& err) {
  harness::HttpRequest request;
  request.url = args.url;
  request.total_timeout = std::chrono::milliseconds(static_cast<long>(args.timeout_s * 1000));
  request.keep_body_bytes = 4096;
  request.body = args.data;
  if (!args.chat.empty()) {
    request.body = suites::ChatBody(args.chat, true);
    request.headers.emplace_back("Content-Type", "application/json");
  }
  request.method = !args.method.empty() ? args.method : request.body.empty() ? "GET" : "POST";
  for (const auto& h : args.headers) {
    auto colon = h.find(':');
    if (colon == std::string::npos) {
      err << "streamcheck probe: --header \"" << h << "\" must look like \"Name: value\"\n";
      return kExitUsage;
    }
    std::string value = h.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    request.headers.emplace_back(h.substr(0, colon), value);
  }
  request.parse_sse = args.sse || !args.chat.empty();
  harness::Observers observers;
  char line[96];
  observers.on_event = [&](const harness::ReceivedEvent& e) {
    std::snprintf(line, sizeof line, "%9.1f ms  event #%zu  ", e.t_ms, e.event.index);
    out << line << (e.event.type == "message" ? "" : "[" + e.event.type + "] ")
        << Excerpt(e.event.data, 160) << "\n"
        << std::flush;
    return true;
  };
  auto r = harness::Perform(request, observers);
  if (r.status == 0) {
    err << "streamcheck probe: no response from " << args.url << ": " << r.error << "\n";
    return kExitHarness;
  }
  out << "HTTP/" << r.http_version << " " << r.status << "\n";
  for (const auto& [name, value] : r.headers) out << "  " << name << ": " << value << "\n";
  if (!request.parse_sse && !r.body.empty()) {
    out << "body (first " << r.body.size() << " bytes): " << Excerpt(r.body, 400) << "\n";
  }
  std::snprintf(line, sizeof line, "headers %.1f ms, first byte %.1f ms, last byte %.1f ms",
                r.t_headers_ms, r.t_first_byte_ms, r.t_last_byte_ms);
  out << r.body_bytes << " bytes, " << r.stream.count << " events, " << line << ", "
      << r.mib_per_s() << " MiB/s\nsha256 " << r.sha256 << "\n";
  if (!r.complete) out << "transfer incomplete: " << r.error << "\n";
  if (request.parse_sse && !r.stream.leftover.clean()) {
    out << "stream ended mid-event: \"" << Excerpt(r.stream.leftover.bytes) << "\"\n";
  }
  return r.complete ? 0 : 1;
}

// A flag's description with its default, as `--help` shows it.
template <typename T>
std::string WithDefault(const std::string& text, const T& value) {
  std::ostringstream v;
  v << value;
  return text + " (default: " + v.str() + ")";
}

// --host, --port, --port-file: shared by the commands that run a server.
void AddListenOptions(CLI::App& command, std::string& host, int& port, std::string& port_file) {
  command.add_option("--host", host, WithDefault("Address to listen on", host));
  command.add_option("--port,-p", port, WithDefault("Port (0: any free port)", port))
      ->check(CLI::Range(0, 65535));
  command.add_option("--port-file", port_file, "Write the port it listens on here");
}

}  // namespace

std::string Version() {
  return std::string(STREAMCHECK_VERSION) + " (git " + STREAMCHECK_GIT_REVISION + ")";
}

Parsed ParseArgs(const std::vector<std::string>& args) {
  Invocation inv;
  CLI::App app{
      "streamcheck: conformance harness for servers that stream LLM output (SSE chat "
      "completions and /directAccess/ proxies)",
      "streamcheck"};
  app.set_version_flag("--version", Version());
  app.set_help_all_flag("--help-all", "Print the help of every command and exit");
  app.require_subcommand(1);
  app.footer("Run 'streamcheck COMMAND --help' for a command's options.\n\n" + ExitCodesHelp());

  auto* run = app.add_subcommand("run",
                                 "Run the conformance catalog (default: the reference "
                                 "server against the embedded mock, every case)");
  run->add_option("--target,-t", inv.run.targets,
                  "Target to test: a name from targets/ (cpp, flask, fastapi, ...), a path to a "
                  "spec .json (relative to the current folder), or all; repeatable (default: cpp)");
  run->add_option("--cases,-c", inv.run.cases,
                  "Comma-separated globs of case IDs to run, e.g. 'chat.*,direct.large-get' "
                  "(default: every case)");
  run->add_option("--size-mb", inv.run.size_mb,
                  WithDefault("Body size for the large direct cases, in MiB", inv.run.size_mb))
      ->check(CLI::Range(1.0, 4096.0));
  // One target per core: a run of several targets (--target all) then takes
  // about as long as its slowest target on a 2-core machine.
  inv.run.jobs = static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 64u));
  run->add_option("--jobs,-j", inv.run.jobs,
                  WithDefault("Targets to run at once, each with its own mock; one per CPU core "
                              "unless set",
                              inv.run.jobs))
      ->check(CLI::Range(1, 64));
  run->add_option("--repeat", inv.run.repeat,
                  "Run each case this many times in a row, to tell a flaky case from a steady "
                  "one: a case passes only when every run passed; one failed run fails it "
                  "(a SHOULD case warns), else an errored run makes it error, else a skipped "
                  "run skip; reports say how many runs passed, e.g. \"passed 7 of 10 runs\" "
                  "(default: 1)")
      ->check(CLI::Range(1, 1000));
  run->add_option("--timeout", inv.run.timeout_s,
                  "Stop the whole run after this many seconds, writing the reports "
                  "(exit 124) (default: 0, no limit)")
      ->check(CLI::Range(0.0, 1e6));
  run->add_flag("--strict", inv.run.strict,
                "SHOULD misses fail the run (exit 1), and so does a baseline failure that now "
                "passes (default: off; SHOULD misses are warnings)");
  run->add_option("--expect", inv.run.expect,
                  "Baseline of known outcomes, JSON or YAML: target: {case: {outcome, reason}}; "
                  "a listed outcome does not fail the run (default: none)");
  run->add_option("--json", inv.run.json_path, "Write the results as JSON to this file");
  run->add_option("--junit", inv.run.junit_path,
                  "Write JUnit XML (one testsuite per target, classname <target>.<area>)");
  run->add_option("--md", inv.run.markdown_path,
                  "Write a Markdown summary (for a CI step summary)");
  run->add_option("--html", inv.run.html_path, "Write a self-contained HTML comparison report");
  run->add_option("--report-dir", inv.run.report_dir,
                  "Write all four (results.json, junit.xml, summary.md, report.html) and the "
                  "targets' logs (logs/) into this folder, created if missing");
  run->add_option("--log-dir", inv.run.log_dir,
                  "Folder for the targets' logs (default: <report-dir>/logs, else a new "
                  "folder in /tmp)");
  auto* quiet = run->add_flag("--quiet,-q", inv.run.quiet,
                              "Print only failures, warnings, errors and the summary");
  run->add_flag("--verbose,-v", inv.run.verbose, "Print each exchange under its case")
      ->excludes(quiet);
  run->add_option("--color", inv.run.color,
                  "Colour and a live status line: auto (on a terminal, unless NO_COLOR is "
                  "set), always, never (default: auto)")
      ->check(CLI::IsMember({"auto", "always", "never"}));
  run->add_option("--shard", inv.run.shard,
                  "Run shard I of N (0-based, e.g. 0/4 ... 3/4): a deterministic part of the "
                  "selected (target, case) pairs, balanced by the cases' typical durations; "
                  "server.survives runs on every shard of its target. Put the shards together "
                  "with report --merge (default: the whole run)")
      ->type_name("I/N");
  run->footer(ExitCodesHelp());

  auto* list =
      app.add_subcommand("list", "Print the conformance catalog: case IDs, levels, descriptions");
  auto* list_json = list->add_flag(
      "--json", inv.list.json,
      "As JSON: id, area, level, title, measured, source, feature, defect, precondition");
  list->add_flag("--markdown", inv.list.markdown, "As the catalog page (docs/catalog.md)")
      ->excludes(list_json);

  auto* serve = app.add_subcommand("serve", "Run the reference streaming server");
  AddListenOptions(*serve, inv.serve.host, inv.serve.port, inv.serve.port_file);
  serve->add_option("--backend,-b", inv.serve.backend,
                    "Backend base URL (default: http://$OPENAI_HOST:$OPENAI_PORT)");
  serve
      ->add_option("--backend-connect-timeout-ms", inv.serve.backend_connect_timeout_ms,
                   WithDefault("Give up connecting to the backend after this long",
                               inv.serve.backend_connect_timeout_ms))
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--backend-headers-timeout-ms", inv.serve.backend_headers_timeout_ms,
                   WithDefault("504 when the backend sends no headers within this time",
                               inv.serve.backend_headers_timeout_ms))
      ->check(CLI::PositiveNumber);
  serve
      ->add_option("--backend-idle-timeout-ms", inv.serve.backend_idle_timeout_ms,
                   WithDefault("Give up on a backend silent this long mid-body",
                               inv.serve.backend_idle_timeout_ms))
      ->check(CLI::PositiveNumber);
  auto& s = inv.serve;
  serve->add_option("--io-threads", s.io_threads, "Event loops serving the connections")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve
      ->add_option("--processes", s.processes,
                   "Server processes sharing the port (SO_REUSEPORT), each with its own event "
                   "loops, connection limit and open-file limit; a proxied stream holds two "
                   "descriptors, so holding 10,000 takes more than one process under a 20,000 "
                   "limit")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  serve
      ->add_option("--max-connections", s.max_connections,
                   "Open client connections (per process); one more gets 503 and is closed")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve
      ->add_option("--max-header-bytes", s.max_header_bytes,
                   "Largest request head (request line and fields); larger gets 431")
      ->check(CLI::Range(1024, 1024 * 1024))
      ->capture_default_str();
  serve
      ->add_option("--max-header-count", s.max_header_count,
                   "Most header fields in a request; more gets 431")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve
      ->add_option("--max-body-bytes", s.max_body_bytes,
                   "Largest /directAccess/ request body, streamed (0: no limit); larger gets 413")
      ->capture_default_str();
  serve
      ->add_option("--max-chat-body-bytes", s.max_chat_body_bytes,
                   "Largest chat request body, held to be parsed; larger gets 413")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve
      ->add_option("--header-timeout-ms", s.header_timeout_ms,
                   "A request head must arrive whole within this time (slowloris); else 408")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve
      ->add_option("--keepalive-timeout-ms", s.keepalive_timeout_ms,
                   "Close a kept-alive connection idle this long between requests")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve
      ->add_option("--client-idle-timeout-ms", s.client_idle_timeout_ms,
                   "Drop a client that sends no body bytes or reads no response bytes this long")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  serve->add_flag("--no-zero-copy", s.no_zero_copy,
                  "Relay /directAccess/ bodies through a bounded buffer, never splice(2)");

  auto* mock = app.add_subcommand("mock", "Run the mock NIM backend");
  AddListenOptions(*mock, inv.mock.host, inv.mock.port, inv.mock.port_file);
  mock->add_option("--config", inv.mock.config,
                   "Initial configuration: a JSON object (keys as PUT /_mock/config) or @FILE");
  mock->footer(mocks::ConfigHelp());

  auto* probe = app.add_subcommand("probe",
                                   "Send one request and show its events live, with "
                                   "timings");
  probe
      ->add_option("url", inv.probe.url, "Full URL, e.g. http://127.0.0.1:8080/v1/chat/completions")
      ->required();
  probe->add_option("--method,-X", inv.probe.method, "HTTP method (default GET, POST with a body)");
  probe->add_option("--data,-d", inv.probe.data, "Request body");
  probe->add_option("--chat", inv.probe.chat, "Send a streaming chat request with this prompt");
  probe->add_option("--header,-H", inv.probe.headers, "Header 'Name: value'; repeatable");
  probe->add_flag("--sse", inv.probe.sse, "Parse the body as Server-Sent Events");
  probe
      ->add_option("--timeout-s", inv.probe.timeout_s,
                   WithDefault("Give up after this many seconds", inv.probe.timeout_s))
      ->check(CLI::PositiveNumber);

  auto* bench = app.add_subcommand(
      "bench",
      "Performance side by side: /directAccess/ throughput against the mock read directly, "
      "and chat streams under load (time to first token, the latency the server adds to "
      "each token, errors, memory per stream), for any target");
  auto& b = inv.bench;
  bench->add_option("--target,-t", b.targets,
                    "Target to measure, as for run: a name from targets/, a spec path, or all; "
                    "repeatable (default: cpp)");
  bench
      ->add_option("--concurrency", b.concurrency,
                   "Comma-separated stream levels: each that many chat streams at once")
      ->capture_default_str();
  bench
      ->add_option("--rate", b.rates,
                   "Also streams started at this fixed rate (streams/s), latencies measured "
                   "from each stream's scheduled start; repeatable (default: none)")
      ->check(CLI::Range(0.001, 1e6));
  bench
      ->add_option("--rate-duration-s", b.rate_duration_s,
                   "How long a --rate level schedules streams")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  bench->add_option("--tokens", b.tokens, "Tokens the mock streams per chat stream")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  bench->add_option("--token-delay-ms", b.token_delay_ms, "The mock's pause before each token")
      ->check(CLI::Range(0, 60000))
      ->capture_default_str();
  bench
      ->add_option("--size-mb", b.size_mb,
                   WithDefault("Throughput: body size per request, in MiB", b.size_mb))
      ->check(CLI::Range(1.0, 4096.0));
  bench->add_flag("--chunked", b.chunked,
                  "Throughput: the mock sends the body chunked (default: with Content-Length, "
                  "as a file server does)");
  bench
      ->add_option("--rounds", b.rounds,
                   WithDefault("Throughput and client rounds (medians are reported)", b.rounds))
      ->check(CLI::Range(1, 100));
  bench
      ->add_option("--timeout-s", b.timeout_s,
                   "The longest one stream may take from its start; still open then, it is a "
                   "timeout")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  bench
      ->add_option("--min-ratio", b.min_ratio,
                   "Gate: exit 1 when a target's /directAccess/ throughput ratio (proxied / "
                   "direct) is below this (default: off)")
      ->check(CLI::Range(0.0, 1000.0));
  bench
      ->add_option("--max-added-p99-ms", b.max_added_p99_ms,
                   "Gate: exit 1 when a target's added-latency p99 at any concurrency level is "
                   "above this (default: off)")
      ->check(CLI::Range(0.0, 1e6));
  bench->add_option("--json", b.json_path, "Write the results as JSON to this file");
  bench->add_option("--html", b.html_path, "Write the results as a self-contained HTML page");
  bench->add_option("--report-dir", b.report_dir,
                    "Write bench.json, bench.html and the targets' logs (logs/) here");
  bench->add_option("--log-dir", b.log_dir,
                    "Folder for the targets' logs (default: <report-dir>/logs, else a new "
                    "folder in /tmp)");
  bench->add_option("--shard", b.shard,
                    "I/N: drive shard I's share (of N) of every stream level, to be merged "
                    "with --merge; throughput, mock-direct and client rows are not run");
  bench
      ->add_option("--start-at", b.start_at,
                   "Unix time in seconds at which the first load starts (shards begin "
                   "together; load k starts at start + k * slot, slot = --timeout-s + "
                   "--rate-duration-s + 5 s)")
      ->check(CLI::Range(0.0, 1e11));
  bench->add_option("--merge", b.merge, "Merge these shards' bench JSON files instead of running")
      ->check(CLI::ExistingFile);
  bench->add_flag("--no-client", b.no_client, "Skip the client row (harness vs curl)");
  bench->add_flag("--no-mock-direct", b.no_mock_direct, "Skip the mock-direct row");
  bench->add_flag("--no-throughput", b.no_throughput, "Skip the /directAccess/ throughput rounds");
  bench->add_option("--client-size-mb", b.client_size_mb, "The client row's body, in MiB")
      ->check(CLI::Range(1.0, 16384.0))
      ->capture_default_str();
  bench->add_option("--loops", b.loops, "Client event loops (threads), each a curl multi handle")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  bench->footer(BenchExitCodesHelp());

  auto* report = app.add_subcommand(
      "report",
      "Render a saved run (results JSON from run --json) as JUnit XML, Markdown or HTML, "
      "gate it again, or compare two runs or two targets");
  report->add_option("results", inv.report.results, "results JSON file")->check(CLI::ExistingFile);
  report
      ->add_option("--merge", inv.report.merge,
                   "Merge results files (the shards of run --shard, or runs of other targets "
                   "or cases) into one run, written in every format asked for; refuses a "
                   "(target, case) reported twice, a shard given twice and other catalogs "
                   "(exit 2); a selected case no shard reported is an error")
      ->expected(1, -1)
      ->type_name("FILE...")
      ->check(CLI::ExistingFile);
  report->add_option("--json", inv.report.json_path, "Write the results JSON");
  report->add_option("--junit", inv.report.junit_path, "Write JUnit XML");
  report->add_option("--md", inv.report.markdown_path, "Write a Markdown summary");
  report->add_option("--html", inv.report.html_path, "Write the HTML comparison report");
  report->add_option("--report-dir", inv.report.report_dir, "Write all of them");
  report->add_flag("--strict", inv.report.strict,
                   "Gate the saved run as run --strict would (default: as it was run)");
  report->add_option("--expect", inv.report.expect,
                     "Gate the saved run with this baseline (default: the run's own, if any)");
  report
      ->add_option("--compare", inv.report.compare,
                   "Compare two saved runs: print each case whose outcome changed and each "
                   "metric that moved; exit 1 on a regression")
      ->expected(2)
      ->type_name("OLD.json NEW.json")
      ->check(CLI::ExistingFile);
  report
      ->add_option("--compare-targets", inv.report.compare_targets,
                   "Compare target BEFORE with target AFTER (of one results file, or of "
                   "--compare's OLD and NEW) (default: the targets the runs share by name)")
      ->expected(2)
      ->type_name("BEFORE AFTER");
  report->add_option("--metric-threshold", inv.report.metric_threshold,
                     "Show (and count as a regression, when worse) a metric that moved by more "
                     "than this, e.g. 20% or 0.2; off: outcomes only. Moves under 50 ms, 4 MiB "
                     "of RSS or 5 MiB/s are noise (default: 20%)");
  report->footer(ReportExitCodesHelp());

  Parsed parsed;
  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    parsed.output = app.help();
    return parsed;
  } catch (const CLI::CallForAllHelp&) {
    parsed.output = app.help("", CLI::AppFormatMode::All);
    return parsed;
  } catch (const CLI::CallForVersion&) {
    parsed.output = "streamcheck " + Version() + "\n";
    return parsed;
  } catch (const CLI::ParseError& e) {
    parsed.exit_code = kExitUsage;
    std::string where;
    for (auto* sub : app.get_subcommands()) where = sub->get_name();
    std::string what = e.what();
    // CLI11 checks for a missing command before it looks at what was given
    // instead: name the mistyped command or option.
    if (where.empty() && !args.empty()) {
      what = (args.front().rfind("-", 0) == 0 ? "unknown option \"" : "unknown command \"") +
             args.front() + "\"; commands: run, list, serve, mock, probe, bench, report";
    }
    parsed.error = "streamcheck" + (where.empty() ? "" : " " + where) + ": " + what +
                   "\nRun 'streamcheck " + (where.empty() ? "" : where + " ") +
                   "--help' for the options.\n";
    return parsed;
  }
  inv.command = app.get_subcommands().front()->get_name();
  inv.bench.argv = args;
  parsed.invocation = inv;
  return parsed;
}

int RunCli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  Parsed parsed = ParseArgs(args);
  out << parsed.output;
  err << parsed.error;
  if (!parsed.invocation) return parsed.exit_code;
  const Invocation& inv = *parsed.invocation;
  try {
    if (inv.command == "run") return CommandRun(inv.run, out, err);
    if (inv.command == "list") return CommandList(inv.list, out);
    if (inv.command == "serve") return CommandServe(inv.serve, out, err);
    if (inv.command == "mock") return CommandMock(inv.mock, out, err);
    if (inv.command == "probe") return CommandProbe(inv.probe, out, err);
    if (inv.command == "bench") return CommandBench(inv.bench, out, err);
    if (inv.command == "report") return CommandReport(inv.report, out, err);
  } catch (const std::exception& e) {
    err << "streamcheck " << inv.command << ": internal error: " << e.what()
        << "\nPlease report this with the command line you used.\n";
    return kExitHarness;
  }
  return kExitUsage;
}

}  // namespace streamcheck::cli
