#include "cli/cli.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/console.h"
#include "harness/http_client.h"
#include "mocks/mock_backend.h"
#include "reports/writers.h"
#include "suites/catalog.h"

namespace streamcheck::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

CliRun Cli(const std::vector<std::string>& args) {
  std::ostringstream out, err;
  CliRun r;
  r.code = RunCli(args, out, err);
  r.out = out.str();
  r.err = err.str();
  return r;
}

// Parses `args`, expecting an invocation of `command`.
Invocation Parse(const std::vector<std::string>& args, const std::string& command) {
  Parsed parsed = ParseArgs(args);
  EXPECT_TRUE(parsed.invocation) << "error: " << parsed.error;
  EXPECT_EQ(parsed.exit_code, 0);
  EXPECT_THAT(parsed.error, IsEmpty());
  if (!parsed.invocation) return {};
  EXPECT_EQ(parsed.invocation->command, command);
  return *parsed.invocation;
}

// Parses `args`, expecting a usage error (exit 2).
std::string UsageError(const std::vector<std::string>& args) {
  Parsed parsed = ParseArgs(args);
  EXPECT_FALSE(parsed.invocation);
  EXPECT_EQ(parsed.exit_code, 2);
  EXPECT_THAT(parsed.output, IsEmpty());
  return parsed.error;
}

std::size_t Count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    ++n;
  }
  return n;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cli_test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(CliTest, RunDefaults) {
  Invocation inv = Parse({"run"}, "run");
  EXPECT_THAT(inv.run.targets, IsEmpty());
  EXPECT_THAT(inv.run.cases, IsEmpty());
  EXPECT_DOUBLE_EQ(inv.run.size_mb, 100);
  EXPECT_THAT(inv.run.json_path, IsEmpty());
  EXPECT_THAT(inv.run.junit_path, IsEmpty());
  EXPECT_THAT(inv.run.markdown_path, IsEmpty());
  EXPECT_THAT(inv.run.html_path, IsEmpty());
  EXPECT_THAT(inv.run.report_dir, IsEmpty());
  EXPECT_THAT(inv.run.log_dir, IsEmpty());
}

TEST(CliTest, RunOptions) {
  Invocation inv = Parse({"run",
                          "--target",
                          "cpp",
                          "-t",
                          "flask",
                          "--target",
                          "targets/x.json",
                          "--cases",
                          "chat.*,direct.large-get",
                          "--size-mb",
                          "16",
                          "--json",
                          "r.json",
                          "--junit",
                          "j.xml",
                          "--md",
                          "s.md",
                          "--html",
                          "r.html",
                          "--report-dir",
                          "out",
                          "--log-dir",
                          "logs"},
                         "run");
  EXPECT_THAT(inv.run.targets, ElementsAre("cpp", "flask", "targets/x.json"));
  EXPECT_EQ(inv.run.cases, "chat.*,direct.large-get");
  EXPECT_DOUBLE_EQ(inv.run.size_mb, 16);
  EXPECT_EQ(inv.run.json_path, "r.json");
  EXPECT_EQ(inv.run.junit_path, "j.xml");
  EXPECT_EQ(inv.run.markdown_path, "s.md");
  EXPECT_EQ(inv.run.html_path, "r.html");
  EXPECT_EQ(inv.run.report_dir, "out");
  EXPECT_EQ(inv.run.log_dir, "logs");
  EXPECT_EQ(Parse({"run", "--target=all", "-c", "server.*"}, "run").run.targets[0], "all");
}

TEST(CliTest, SizeMbOutOfRangeIsAUsageError) {
  for (const char* value : {"0", "-1", "4097", "lots"}) {
    SCOPED_TRACE(value);
    EXPECT_THAT(UsageError({"run", "--size-mb", value}),
                AllOf(HasSubstr("--size-mb"), HasSubstr("streamcheck run"), HasSubstr("--help")));
  }
  EXPECT_DOUBLE_EQ(Parse({"run", "--size-mb", "4096"}, "run").run.size_mb, 4096);
  EXPECT_DOUBLE_EQ(Parse({"run", "--size-mb", "1"}, "run").run.size_mb, 1);
}

TEST(CliTest, UnknownFlagIsAUsageErrorWithAHelpHint) {
  EXPECT_THAT(UsageError({"run", "--bogus"}),
              AllOf(HasSubstr("--bogus"), HasSubstr("Run 'streamcheck run --help'")));
  EXPECT_THAT(UsageError({"--bogus"}), HasSubstr("Run 'streamcheck --help'"));
  EXPECT_THAT(UsageError({"frobnicate"}), HasSubstr("Run 'streamcheck --help'"));
  EXPECT_THAT(UsageError({"run", "--target"}), HasSubstr("--target"));
}

// Regression: CLI11 checks require_subcommand(1) before unexpected arguments,
// so a mistyped command or a flag before the command used to be reported only
// as "A subcommand is required".
TEST(CliTest, UnknownCommandIsNamed) {
  EXPECT_THAT(UsageError({"frobnicate"}), HasSubstr("frobnicate"));
  EXPECT_THAT(UsageError({"--bogus"}), HasSubstr("--bogus"));
}

TEST(CliTest, NoSubcommandIsAUsageError) {
  EXPECT_THAT(UsageError({}), AllOf(HasSubstr("subcommand"), HasSubstr("--help")));
  CliRun r = Cli({});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("subcommand"));
}

TEST(CliTest, HelpExitsZeroWithUsage) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--help"}, std::vector<std::string>{"-h"}}) {
    Parsed parsed = ParseArgs(args);
    EXPECT_FALSE(parsed.invocation);
    EXPECT_EQ(parsed.exit_code, 0);
    EXPECT_THAT(parsed.error, IsEmpty());
    EXPECT_THAT(parsed.output, AllOf(HasSubstr("streamcheck"), HasSubstr("run"), HasSubstr("list"),
                                     HasSubstr("serve"), HasSubstr("mock"), HasSubstr("probe"),
                                     HasSubstr("bench")));
  }
  Parsed run_help = ParseArgs({"run", "--help"});
  EXPECT_EQ(run_help.exit_code, 0);
  EXPECT_THAT(run_help.output, AllOf(HasSubstr("--target"), HasSubstr("--cases"),
                                     HasSubstr("--size-mb"), HasSubstr("--junit")));
  CliRun r = Cli({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("run"));
  EXPECT_THAT(r.err, IsEmpty());
}

TEST(CliTest, Version) {
  Parsed parsed = ParseArgs({"--version"});
  EXPECT_FALSE(parsed.invocation);
  EXPECT_EQ(parsed.exit_code, 0);
  EXPECT_EQ(parsed.output, "streamcheck " + Version() + "\n");
  // The git revision of the build, or "unknown" outside a git checkout.
  EXPECT_THAT(Version(), ::testing::MatchesRegex("[0-9]+\\.[0-9]+\\.[0-9]+ \\(git [0-9a-z-]+\\)"));
  CliRun r = Cli({"--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr(Version()));
}

TEST(CliTest, ServeOptions) {
  Invocation defaults = Parse({"serve"}, "serve");
  EXPECT_EQ(defaults.serve.host, "127.0.0.1");
  EXPECT_EQ(defaults.serve.port, 8080);
  EXPECT_THAT(defaults.serve.backend, IsEmpty());
  EXPECT_EQ(defaults.serve.backend_connect_timeout_ms, 5000);
  EXPECT_EQ(defaults.serve.backend_headers_timeout_ms, 30000);
  EXPECT_EQ(defaults.serve.backend_idle_timeout_ms, 30000);

  Invocation inv =
      Parse({"serve", "--host", "0.0.0.0", "--port", "0", "--port-file", "p.txt", "-b",
             "http://127.0.0.1:9000", "--backend-connect-timeout-ms", "100",
             "--backend-headers-timeout-ms", "3000", "--backend-idle-timeout-ms", "7000"},
            "serve");
  EXPECT_EQ(inv.serve.host, "0.0.0.0");
  EXPECT_EQ(inv.serve.port, 0);
  EXPECT_EQ(inv.serve.port_file, "p.txt");
  EXPECT_EQ(inv.serve.backend, "http://127.0.0.1:9000");
  EXPECT_EQ(inv.serve.backend_connect_timeout_ms, 100);
  EXPECT_EQ(inv.serve.backend_headers_timeout_ms, 3000);
  EXPECT_EQ(inv.serve.backend_idle_timeout_ms, 7000);

  EXPECT_THAT(UsageError({"serve", "--port", "70000"}), HasSubstr("--port"));
  EXPECT_THAT(UsageError({"serve", "--backend-headers-timeout-ms", "0"}),
              HasSubstr("--backend-headers-timeout-ms"));
}

// Every limit of the server is a documented option of `serve`.
TEST(CliTest, ServeLimits) {
  Invocation defaults = Parse({"serve"}, "serve");
  EXPECT_EQ(defaults.serve.max_connections, 10000);
  EXPECT_EQ(defaults.serve.max_header_bytes, 32u * 1024);
  EXPECT_EQ(defaults.serve.max_header_count, 100u);
  EXPECT_EQ(defaults.serve.max_body_bytes, 0u);
  EXPECT_EQ(defaults.serve.header_timeout_ms, 10000);
  EXPECT_FALSE(defaults.serve.no_zero_copy);
  EXPECT_EQ(defaults.serve.processes, 1);

  Invocation inv = Parse({"serve",       "--io-threads",
                          "3",           "--max-connections",
                          "50",          "--max-header-bytes",
                          "4096",        "--max-header-count",
                          "20",          "--max-body-bytes",
                          "1000",        "--max-chat-body-bytes",
                          "2000",        "--header-timeout-ms",
                          "300",         "--keepalive-timeout-ms",
                          "400",         "--client-idle-timeout-ms",
                          "500",         "--no-zero-copy",
                          "--processes", "4"},
                         "serve");
  EXPECT_EQ(inv.serve.io_threads, 3);
  EXPECT_EQ(inv.serve.max_connections, 50);
  EXPECT_EQ(inv.serve.max_header_bytes, 4096u);
  EXPECT_EQ(inv.serve.max_header_count, 20u);
  EXPECT_EQ(inv.serve.max_body_bytes, 1000u);
  EXPECT_EQ(inv.serve.max_chat_body_bytes, 2000u);
  EXPECT_EQ(inv.serve.header_timeout_ms, 300);
  EXPECT_EQ(inv.serve.keepalive_timeout_ms, 400);
  EXPECT_EQ(inv.serve.client_idle_timeout_ms, 500);
  EXPECT_TRUE(inv.serve.no_zero_copy);
  EXPECT_EQ(inv.serve.processes, 4);
  EXPECT_THAT(UsageError({"serve", "--processes", "0"}), HasSubstr("--processes"));

  CliRun help = Cli({"serve", "--help"});
  for (const char* option : {"--max-connections", "--max-header-bytes", "--max-header-count",
                             "--max-body-bytes", "--max-chat-body-bytes", "--header-timeout-ms",
                             "--keepalive-timeout-ms", "--client-idle-timeout-ms", "--io-threads",
                             "--no-zero-copy", "--processes", "503", "431", "413"}) {
    EXPECT_THAT(help.out, HasSubstr(option));
  }
  EXPECT_THAT(UsageError({"serve", "--max-header-bytes", "10"}), HasSubstr("--max-header-bytes"));
}

TEST(CliTest, MockOptions) {
  Invocation defaults = Parse({"mock"}, "mock");
  EXPECT_EQ(defaults.mock.port, 8000);
  EXPECT_EQ(defaults.mock.host, "127.0.0.1");
  Invocation inv =
      Parse({"mock", "-p", "0", "--port-file", "m.port", "--config", R"({"size_mb": 2})"}, "mock");
  EXPECT_EQ(inv.mock.port, 0);
  EXPECT_EQ(inv.mock.port_file, "m.port");
  EXPECT_EQ(inv.mock.config, R"({"size_mb": 2})");
  EXPECT_EQ(Parse({"mock", "--config", "@cfg.json"}, "mock").mock.config, "@cfg.json");
  EXPECT_THAT(UsageError({"mock", "--port", "-1"}), HasSubstr("--port"));
}

TEST(CliTest, ProbeOptions) {
  Invocation inv =
      Parse({"probe", "http://127.0.0.1:1/v1/chat/completions", "-X", "PUT", "-d", "body", "--chat",
             "hello", "-H", "A: 1", "--header", "B: 2", "--sse", "--timeout-s", "5"},
            "probe");
  EXPECT_EQ(inv.probe.url, "http://127.0.0.1:1/v1/chat/completions");
  EXPECT_EQ(inv.probe.method, "PUT");
  EXPECT_EQ(inv.probe.data, "body");
  EXPECT_EQ(inv.probe.chat, "hello");
  EXPECT_THAT(inv.probe.headers, ElementsAre("A: 1", "B: 2"));
  EXPECT_TRUE(inv.probe.sse);
  EXPECT_DOUBLE_EQ(inv.probe.timeout_s, 5);

  Invocation defaults = Parse({"probe", "http://x/"}, "probe");
  EXPECT_THAT(defaults.probe.method, IsEmpty());
  EXPECT_FALSE(defaults.probe.sse);
  EXPECT_DOUBLE_EQ(defaults.probe.timeout_s, 60);
  EXPECT_THAT(UsageError({"probe", "http://x/", "--timeout-s", "0"}), HasSubstr("--timeout-s"));
}

TEST(CliTest, ProbeRequiresAUrl) {
  EXPECT_THAT(UsageError({"probe"}),
              AllOf(HasSubstr("url"), HasSubstr("streamcheck probe"), HasSubstr("--help")));
}

TEST(CliTest, BenchOptions) {
  Invocation defaults = Parse({"bench"}, "bench");
  EXPECT_DOUBLE_EQ(defaults.bench.size_mb, 256);
  EXPECT_EQ(defaults.bench.rounds, 3);
  EXPECT_EQ(defaults.bench.concurrency, "1,16,64,256,1000");
  EXPECT_EQ(defaults.bench.tokens, 64);
  EXPECT_EQ(defaults.bench.token_delay_ms, 20);
  EXPECT_LT(defaults.bench.min_ratio, 0);  // no gate unless asked
  EXPECT_FALSE(defaults.bench.chunked);    // a Content-Length body, as a file server sends
  EXPECT_TRUE(Parse({"bench", "--chunked"}, "bench").bench.chunked);
  Invocation gated = Parse(
      {"bench", "--target", "cpp", "--target", "flask", "--concurrency", "1,64", "--min-ratio", "2",
       "--max-added-p99-ms", "5", "--rate", "50", "--shard", "1/4", "--json", "b.json"},
      "bench");
  EXPECT_THAT(gated.bench.targets, ElementsAre("cpp", "flask"));
  EXPECT_EQ(gated.bench.concurrency, "1,64");
  EXPECT_DOUBLE_EQ(gated.bench.min_ratio, 2);
  EXPECT_DOUBLE_EQ(gated.bench.max_added_p99_ms, 5);
  EXPECT_THAT(gated.bench.rates, ElementsAre(50));
  EXPECT_EQ(gated.bench.shard, "1/4");
  Invocation inv = Parse({"bench", "--size-mb", "64", "--rounds", "3"}, "bench");
  EXPECT_DOUBLE_EQ(inv.bench.size_mb, 64);
  EXPECT_EQ(inv.bench.rounds, 3);
  EXPECT_THAT(UsageError({"bench", "--rounds", "0"}), HasSubstr("--rounds"));
  EXPECT_THAT(UsageError({"bench", "--size-mb", "0.5"}), HasSubstr("--size-mb"));
}

// Refused before anything starts (exit 2), each saying which flag.
TEST(CliTest, BenchUsageErrors) {
  CliRun levels = Cli({"bench", "--concurrency", "1,x"});
  EXPECT_EQ(levels.code, 2);
  EXPECT_THAT(levels.err, HasSubstr("--concurrency"));
  CliRun shard = Cli({"bench", "--shard", "4/4"});
  EXPECT_EQ(shard.code, 2);
  EXPECT_THAT(shard.err, HasSubstr("--shard must be I/N"));
  CliRun target = Cli({"bench", "--target", "no-such-target-name"});
  EXPECT_EQ(target.code, 2);
  CliRun folder = Cli({"bench", "--json", "/nonexistent-folder/b.json"});
  EXPECT_EQ(folder.code, 2);
  EXPECT_THAT(folder.err, HasSubstr("does not exist"));
}

// --merge refuses the same shard twice (exit 2) and merges distinct ones.
TEST(CliTest, BenchMergeRefusesADuplicateShard) {
  fs::path dir = fs::temp_directory_path() / ("cli-bench-merge-" + std::to_string(getpid()));
  fs::create_directories(dir);
  auto shard = [&](int index) {
    nlohmann::json j = {
        {"tool", {{"name", "streamcheck"}, {"version", "t"}}},
        {"settings",
         {{"concurrency", {4}},
          {"tokens", 2},
          {"token_delay_ms", 1},
          {"shard", {{"index", index}, {"count", 2}}}}},
        {"targets",
         {{{"name", "cpp"},
           {"levels",
            {{{"target", "cpp"},
              {"mode", "concurrency"},
              {"concurrency", 4},
              {"streams", 2},
              {"completed", 2},
              {"errors", 0},
              {"timeouts", 0},
              {"tokens", 4},
              {"duration_s", 1.0},
              {"histograms",
               {{"ttft", {{"min", 900}, {"max", 1000}, {"buckets", {{896, 1}, {1000, 1}}}}},
                {"added",
                 {{"min", 50}, {"max", 60 + index}, {"buckets", {{50, 3}, {60 + index, 1}}}}},
                {"e2e", {{"min", 5}, {"max", 5}, {"buckets", {{5, 2}}}}}}}}}}}}}};
    fs::path p = dir / ("s" + std::to_string(index) + ".json");
    std::ofstream(p) << j.dump();
    return p.string();
  };
  std::string s0 = shard(0), s1 = shard(1);
  CliRun merged = Cli({"bench", "--merge", s0, s1, "--json", (dir / "m.json").string()});
  EXPECT_EQ(merged.code, 0) << merged.err;
  auto m = nlohmann::json::parse(std::ifstream(dir / "m.json"), nullptr, false);
  ASSERT_FALSE(m.is_discarded());
  EXPECT_EQ(m["targets"][0]["levels"][0]["completed"], 4);
  EXPECT_EQ(m["targets"][0]["levels"][0]["added_ms"]["samples"], 8);
  EXPECT_DOUBLE_EQ(m["targets"][0]["levels"][0]["added_ms"]["max"].get<double>(), 0.061);
  CliRun twice = Cli({"bench", "--merge", s0, s0});
  EXPECT_EQ(twice.code, 2);
  EXPECT_THAT(twice.err, HasSubstr("two results of shard 0"));
  fs::remove_all(dir);
}

TEST(CliTest, ListAndReport) {
  EXPECT_EQ(Parse({"list"}, "list").command, "list");
  CliRun list = Cli({"list"});
  EXPECT_EQ(list.code, 0);
  EXPECT_THAT(list.out, AllOf(HasSubstr("chat.done-terminator"), HasSubstr("direct.large-get"),
                              HasSubstr("server.ready"), HasSubstr("MUST"), HasSubstr("SHOULD")));
  // Each case says what it must have seen before it judges.
  EXPECT_THAT(list.out, HasSubstr("judged only after: the mock's cut after 3 tokens fired"));
  CliRun no_results = Cli({"report"});
  EXPECT_EQ(no_results.code, 2);
  EXPECT_THAT(no_results.err, HasSubstr("results file"));
  EXPECT_THAT(UsageError({"report", "/nonexistent/results.json"}),
              HasSubstr("/nonexistent/results.json"));
}

TEST(CliTest, RunWithAMissingTargetSpecIsAUsageError) {
  CliRun r = Cli({"run", "--target", "/nonexistent.json"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("streamcheck run"), HasSubstr("/nonexistent.json")));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("cases on"))) << "it started a run";

  CliRun unknown = Cli({"run", "--target", "no-such-target-name"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no-such-target-name"));
}

TEST(CliTest, RunWithCasesThatMatchNothingIsAUsageError) {
  CliRun r = Cli({"run", "--cases", "nomatch.*"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, AllOf(HasSubstr("nomatch.*"), HasSubstr("matches no case"),
                           HasSubstr("streamcheck list")));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("cases on"))) << "it started a run";
  // Whether it made a log folder is checked with --log-dir
  // (RunWithNoCasesCreatesNoLogDir): /tmp is shared with concurrent runs.
}

// Regression: --cases used to be checked only after the log folder existed,
// so every typo left an empty folder behind (or created --log-dir).
TEST(CliTest, RunWithNoCasesCreatesNoLogDir) {
  TempDir tmp;
  const fs::path log_dir = tmp.path() / "new" / "logs";
  CliRun r = Cli({"run", "--cases", "nomatch.*", "--log-dir", log_dir.string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(fs::exists(tmp.path() / "new")) << "a failed usage check created " << log_dir;
}

// Report paths are checked before anything runs: a folder that does not exist
// is a usage error, not a lost report at the end of a long run.
TEST(CliTest, AReportPathInAMissingFolderIsAUsageErrorBeforeAnythingRuns) {
  TempDir tmp;
  const fs::path log_dir = tmp.path() / "logs";
  for (const char* flag : {"--json", "--junit", "--md", "--html"}) {
    CliRun r = Cli({"run", "--cases", "server.ready", flag, (tmp.path() / "missing/r").string(),
                    "--log-dir", log_dir.string()});
    EXPECT_EQ(r.code, 2) << flag;
    EXPECT_THAT(r.err, AllOf(HasSubstr("missing"), HasSubstr("does not exist"))) << flag;
    EXPECT_THAT(r.out, ::testing::Not(HasSubstr("cases on"))) << flag << ": it started a run";
  }
  EXPECT_FALSE(fs::exists(log_dir));
}

// A run in which no case ran is not green: every selected case skipped.
TEST(CliTest, ARunWhoseCasesAllSkipIsNotGreen) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  TempDir tmp;
  const fs::path spec = tmp.path() / "chat-only.json";
  std::ofstream(spec)
      << R"({"name": "chat-only", "url": ")" << (*mock)->url()
      << R"(", "backend": "external", "ready_path": "/v1/health/ready", "features": ["chat"]})";
  CliRun r = Cli({"run", "--target", spec.string(), "--cases", "direct.large-get,direct.methods",
                  "--log-dir", (tmp.path() / "logs").string()});
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("no case ran"));
}

TEST(CliTest, RepeatIsCountedAndBounded) {
  EXPECT_EQ(Parse({"run"}, "run").run.repeat, 1);
  EXPECT_EQ(Parse({"run", "--repeat", "10"}, "run").run.repeat, 10);
  EXPECT_THAT(UsageError({"run", "--repeat", "0"}), HasSubstr("--repeat"));
  EXPECT_THAT(UsageError({"run", "--repeat", "1001"}), HasSubstr("--repeat"));
  // --help defines the outcome of a repeated case.
  const std::string help = ParseArgs({"run", "--help"}).output;
  EXPECT_THAT(help, HasSubstr("--repeat"));
  EXPECT_THAT(help, HasSubstr("one failed run fails it"));
  EXPECT_THAT(help, HasSubstr("passed 7 of 10 runs"));
}

// Two running targets at once, each case three times, the liveness case
// (server.survives) too: every report says how many runs passed.
TEST(CliTest, RunRepeatWithJobsCountsRunsInEveryReport) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  TempDir tmp;
  std::vector<std::string> args = {"run",
                                   "--repeat",
                                   "3",
                                   "--jobs",
                                   "2",
                                   "--cases",
                                   "server.ready,server.survives",
                                   "--report-dir",
                                   (tmp.path() / "out").string()};
  for (const char* name : {"one", "two"}) {
    const fs::path spec = tmp.path() / (std::string(name) + ".json");
    std::ofstream(spec) << R"({"name": ")" << name << R"(", "url": ")" << (*mock)->url()
                        << R"(", "backend": "external", "ready_path": "/v1/health/ready"})";
    args.insert(args.end(), {"--target", spec.string()});
  }
  CliRun r = Cli(args);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("each case 3 times"));
  EXPECT_EQ(Count(r.out, "3 of 3 runs passed"), 4u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("PASS 3/3"));  // the matrix
  const auto results =
      nlohmann::json::parse(std::ifstream(tmp.path() / "out" / "results.json"), nullptr, false);
  ASSERT_TRUE(results.is_object());
  ASSERT_EQ(results["results"].size(), 4u);
  for (const auto& result : results["results"]) {
    EXPECT_EQ(result["outcome"], "pass") << result.dump();
    EXPECT_EQ(result["repeat"], 3);
    EXPECT_EQ(result["passed_runs"], 3);
    EXPECT_EQ(result["runs"].size(), 3u);
  }
  // server.survives ran after server.ready on each target.
  EXPECT_EQ(results["results"][1]["case"], "server.survives");
  std::ifstream md(tmp.path() / "out" / "summary.md");
  std::stringstream text;
  text << md.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("pass 3/3 runs"));
}

TEST(CliTest, RunHelpListsTheExitCodes) {
  Parsed parsed = ParseArgs({"run", "--help"});
  for (const char* code :
       {"  0  ", "  1  ", "  2  ", "  3  ", "  4  ", "124  ", "130  ", "143  "}) {
    EXPECT_THAT(parsed.output, HasSubstr(code));
  }
  EXPECT_THAT(parsed.output, HasSubstr("--jobs"));
  EXPECT_THAT(parsed.output, HasSubstr("--timeout"));
}

TEST(CliTest, ListAsJsonAndMarkdown) {
  CliRun json = Cli({"list", "--json"});
  EXPECT_EQ(json.code, 0);
  auto parsed = nlohmann::json::parse(json.out, nullptr, false);
  ASSERT_TRUE(parsed.is_object()) << json.out;
  EXPECT_GE(parsed["cases"].size(), 44u);
  CliRun md = Cli({"list", "--markdown"});
  EXPECT_EQ(md.code, 0);
  EXPECT_THAT(md.out, HasSubstr("# The conformance catalog"));
  EXPECT_EQ(UsageError({"list", "--json", "--markdown"}).empty(), false);
}

TEST(CliTest, ProbeAgainstAnInProcessMock) {
  auto mock = mocks::MockBackend::Start();
  ASSERT_TRUE(mock.ok()) << mock.error();
  const std::string base = (*mock)->url();
  {
    // Serving: one answered request proves it.
    harness::HttpRequest ready;
    ready.url = base + "/v1/health/ready";
    ready.total_timeout = std::chrono::seconds(30);
    ASSERT_EQ(harness::Perform(ready).status, 200);
  }
  CliRun chat = Cli({"probe", base + "/v1/chat/completions", "--chat", "hi", "--timeout-s", "30"});
  EXPECT_EQ(chat.code, 0) << chat.err;
  EXPECT_THAT(chat.out, AllOf(HasSubstr("HTTP/1.1 200"), HasSubstr("event #0"), HasSubstr("[DONE]"),
                              HasSubstr("19 events"), HasSubstr("sha256")));

  CliRun file = Cli({"probe", base + "/large-file?size_mb=1", "--timeout-s", "30"});
  EXPECT_EQ(file.code, 0) << file.err;
  EXPECT_THAT(file.out, HasSubstr("1048576 bytes"));

  CliRun bad_header = Cli({"probe", base + "/echo", "-H", "NoColon"});
  EXPECT_EQ(bad_header.code, 2);
  EXPECT_THAT(bad_header.err, HasSubstr("NoColon"));
}

TEST(CliTest, RunGateAndConsoleFlags) {
  Invocation defaults = Parse({"run"}, "run");
  EXPECT_FALSE(defaults.run.strict);
  EXPECT_THAT(defaults.run.expect, IsEmpty());
  EXPECT_FALSE(defaults.run.quiet);
  EXPECT_FALSE(defaults.run.verbose);
  EXPECT_EQ(defaults.run.color, "auto");
  Invocation inv =
      Parse({"run", "--strict", "--expect", "e.yaml", "-q", "--color", "never"}, "run");
  EXPECT_TRUE(inv.run.strict);
  EXPECT_EQ(inv.run.expect, "e.yaml");
  EXPECT_TRUE(inv.run.quiet);
  EXPECT_EQ(inv.run.color, "never");
  EXPECT_TRUE(Parse({"run", "-v"}, "run").run.verbose);
  EXPECT_THAT(UsageError({"run", "-q", "-v"}), HasSubstr("excludes"));
  EXPECT_THAT(UsageError({"run", "--color", "sometimes"}), HasSubstr("--color"));
}

// Regression: --size-mb and --timeout-s did not show their defaults, and the
// exit codes were only in `run --help`.
TEST(CliTest, HelpShowsEveryDefaultAndTheExitCodes) {
  const std::string run = ParseArgs({"run", "--help"}).output;
  for (const char* text :
       {"(default: 100)", "(default: 1)", "(default: 0, no limit)", "(default: cpp)",
        "(default: auto)", "(default: <report-dir>/logs", "(default: off;", "(default: none)"}) {
    EXPECT_THAT(run, HasSubstr(text));
  }
  EXPECT_THAT(ParseArgs({"probe", "--help"}).output, HasSubstr("(default: 60)"));
  EXPECT_THAT(ParseArgs({"bench", "--help"}).output, HasSubstr("(default: 256)"));
  EXPECT_THAT(ParseArgs({"serve", "--help"}).output, HasSubstr("(default: 30000)"));
  const std::string top = ParseArgs({"--help"}).output;
  EXPECT_THAT(top, AllOf(HasSubstr("Exit codes:"), HasSubstr("124  "), HasSubstr("--strict")));
  const std::string report = ParseArgs({"report", "--help"}).output;
  EXPECT_THAT(report, AllOf(HasSubstr("--compare"), HasSubstr("--compare-targets"),
                            HasSubstr("--metric-threshold"), HasSubstr("(default: 20%)"),
                            HasSubstr("1  a regression")));
}

TEST(ConsoleTest, EscapesWhatATerminalWouldObey) {
  EXPECT_EQ(ConsoleText("plain caf\xC3\xA9 \xF0\x9F\x9A\x80"),
            "plain caf\xC3\xA9 \xF0\x9F\x9A\x80");
  EXPECT_EQ(ConsoleText("a\x1b[2Jb"), "a\\x1B[2Jb");  // no clearing the screen
  EXPECT_EQ(ConsoleText("bell\x07 cr\r nul" + std::string(1, '\0')), "bell\\x07 cr\\x0D nul\\x00");
  EXPECT_EQ(ConsoleText("bad \xC3\x28 \xFF"), "bad \\xC3( \\xFF");
  EXPECT_EQ(ConsoleText("c1 \xC2\x9B"
                        "31m"),
            "c1 \\xC2\\x9B31m");  // CSI as a C1 control
  EXPECT_EQ(ConsoleText("two\nlines\tand a tab"), "two\nlines and a tab");
}

core::CaseResult Finished(std::string target, std::string id, core::Outcome outcome,
                          std::string message = "") {
  core::CaseResult r;
  r.target = std::move(target);
  r.case_id = std::move(id);
  r.area = r.case_id.substr(0, r.case_id.find('.'));
  r.outcome = outcome;
  r.message = std::move(message);
  return r;
}

core::CaseInfo InfoOf(const std::string& id) {
  core::CaseInfo info;
  info.id = id;
  return info;
}

TEST(ConsoleTest, OffATerminalALineEveryTenSecondsForACaseStillRunning) {
  std::ostringstream out;
  ConsoleOptions options;  // off a terminal, a line every 10 s
  engine::CaseProgress progress;
  progress.requests = 1;
  progress.bytes = 3 * 1024 * 1024;
  {
    ConsoleObserver console(out, options);
    const auto start = std::chrono::steady_clock::now();
    console.CaseRunning("cpp", InfoOf("direct.backend-timeout"), progress);
    console.TickAt(start + std::chrono::seconds(5));   // not yet
    console.TickAt(start + std::chrono::seconds(11));  // one line
    console.TickAt(start + std::chrono::seconds(12));  // not again so soon
    console.TickAt(start + std::chrono::seconds(22));  // the next one
    console.CaseFinished(Finished("cpp", "direct.backend-timeout", core::Outcome::kPass));
    console.TickAt(start + std::chrono::seconds(40));  // it finished: nothing
  }
  const std::string text = out.str();
  EXPECT_EQ(Count(text, "still running"), 2u) << text;
  EXPECT_THAT(text, HasSubstr("  ... direct.backend-timeout still running after 11 s: 3.0 MiB so "
                              "far (request 1)\n"));
  EXPECT_THAT(text, HasSubstr("still running after 22 s"));
  EXPECT_THAT(text, Not(HasSubstr("\r"))) << "no status line off a terminal";
}

TEST(ConsoleTest, OnATerminalOneStatusLineRedrawn) {
  std::ostringstream out;
  ConsoleOptions options;
  options.live = true;
  options.redraw = std::chrono::hours(1);  // only the ticks below
  engine::CaseProgress progress;
  progress.events = 12;
  {
    ConsoleObserver console(out, options);
    const auto start = std::chrono::steady_clock::now();
    console.CaseRunning("cpp", InfoOf("chat.incremental"), progress);
    console.TickAt(start + std::chrono::seconds(3));
    console.CaseFinished(Finished("cpp", "chat.incremental", core::Outcome::kPass));
  }
  const std::string text = out.str();
  EXPECT_THAT(text, HasSubstr("\r\x1b[2Krunning chat.incremental 3 s, 12 events"));
  // The case line replaces the status line.
  EXPECT_THAT(text, HasSubstr("\r\x1b[2KPASS   chat.incremental"));
}

TEST(ConsoleTest, QuietVerboseAndALogTailOnce) {
  std::ostringstream out;
  ConsoleOptions options;
  options.quiet = true;
  {
    ConsoleObserver console(out, options);
    console.CaseFinished(Finished("t", "chat.status", core::Outcome::kPass));
    console.CaseFinished(Finished("t", "chat.no-cache", core::Outcome::kWarn, "no header"));
    console.CaseFinished(Finished("t", "chat.x", core::Outcome::kError,
                                  "the target died during this case: exited; last log lines:\n"
                                  "Traceback\nBoom \x1b[31m"));
    console.CaseFinished(Finished("t", "server.survives", core::Outcome::kFail,
                                  "expected alive; it exited; last log lines:\nTraceback\nBoom "
                                  "\x1b[31m"));
  }
  const std::string text = out.str();
  EXPECT_THAT(text, Not(HasSubstr("chat.status"))) << "-q hides passes";
  EXPECT_THAT(text, HasSubstr("WARN   chat.no-cache"));
  EXPECT_THAT(text, HasSubstr("Boom \\x1B[31m")) << "escaped";
  EXPECT_EQ(Count(text, "Traceback"), 1u) << text;
  EXPECT_THAT(text, HasSubstr("last log lines: as printed above for t"));

  std::ostringstream verbose_out;
  ConsoleOptions verbose;
  verbose.verbose = true;
  core::CaseResult r = Finished("t", "chat.status", core::Outcome::kPass);
  core::Exchange x;
  x.request = "POST /v1/chat/completions";
  x.label = "streaming chat request";
  x.status = 200;
  x.http_version = "1.1";
  x.body_bytes = 4371;
  x.events = 19;
  x.first_byte_ms = 1.25;
  x.total_ms = 3.5;
  r.evidence.exchanges = {x};
  PrintCaseLine(verbose_out, r, verbose);
  EXPECT_THAT(verbose_out.str(),
              HasSubstr("       > POST /v1/chat/completions (streaming chat request) -> 200 "
                        "HTTP/1.1, 4371 bytes, 19 events, first byte 1.2 ms, total 3.5 ms\n"));
}

TEST(CliTest, ABadBaselineIsAUsageErrorBeforeAnythingRuns) {
  TempDir tmp;
  const fs::path baseline = tmp.path() / "e.yaml";
  std::ofstream(baseline) << "cpp:\n  chat.status: warn\n";
  CliRun r = Cli({"run", "--expect", baseline.string(), "--log-dir", (tmp.path() / "l").string()});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("list it as fail"));
  EXPECT_FALSE(fs::exists(tmp.path() / "l"));
  CliRun missing = Cli({"run", "--expect", (tmp.path() / "none.yaml").string()});
  EXPECT_EQ(missing.code, 2);
  EXPECT_THAT(missing.err, HasSubstr("cannot read the baseline"));
}

TEST(CliTest, ReportCompareAndRegate) {
  TempDir tmp;
  auto save = [&](const std::string& name, core::Outcome outcome) {
    core::RunReport report;
    core::TargetSummary t;
    t.name = name;
    report.targets = {t};
    core::CaseResult r = Finished(name, "chat.status", outcome,
                                  outcome == core::Outcome::kPass ? "" : "expected 200, got 500");
    report.results = {r};
    const fs::path file = tmp.path() / (name + ".json");
    EXPECT_TRUE(reports::WriteFile(file.string(), reports::ToJsonString(report)).ok());
    return file.string();
  };
  const std::string flask = save("flask", core::Outcome::kPass);
  const std::string fastapi = save("fastapi", core::Outcome::kFail);
  CliRun worse = Cli({"report", "--compare", flask, fastapi});
  EXPECT_EQ(worse.code, 1) << worse.out << worse.err;
  EXPECT_THAT(worse.out, AllOf(HasSubstr("comparing flask in"), HasSubstr("pass -> fail"),
                               HasSubstr("REGRESSION"), HasSubstr("expected 200, got 500")));
  CliRun better = Cli({"report", "--compare", fastapi, flask, "--metric-threshold", "50%"});
  EXPECT_EQ(better.code, 0) << better.out << better.err;
  EXPECT_THAT(better.out, HasSubstr("1 better"));
  EXPECT_EQ(Cli({"report", "--compare", flask, fastapi, "--metric-threshold", "lots"}).code, 2);
  CliRun unknown = Cli({"report", flask, "--compare-targets", "flask", "cpp"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("no target \"cpp\""));

  // A saved run exits with its verdict, and --expect re-gates it.
  const fs::path md = tmp.path() / "s.md";
  EXPECT_EQ(Cli({"report", fastapi, "--md", md.string()}).code, 1);
  const fs::path baseline = tmp.path() / "e.json";
  std::ofstream(baseline)
      << R"({"fastapi": {"chat.status": {"outcome": "fail", "reason": "wip"}}})";
  CliRun accepted = Cli({"report", fastapi, "--md", md.string(), "--expect", baseline.string()});
  EXPECT_EQ(accepted.code, 0) << accepted.out << accepted.err;
  EXPECT_THAT(accepted.out, HasSubstr("1 known failure accepted by"));
}

// By default a run takes one target per CPU core at once; --jobs overrides it.
TEST(CliTest, JobsDefaultToOnePerCore) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  EXPECT_EQ(Parse({"run"}, "run").run.jobs, cores);
  EXPECT_EQ(Parse({"run", "-j", "1"}, "run").run.jobs, 1);
  EXPECT_THAT(Cli({"run", "--help"}).out,
              HasSubstr("one per CPU core unless set (default: " + std::to_string(cores) + ")"));
}

TEST(CliTest, ShardAndMergeOptions) {
  Invocation inv = Parse({"run", "--shard", "2/7", "--jobs", "2"}, "run");
  EXPECT_EQ(inv.run.shard, "2/7");
  EXPECT_EQ(inv.run.jobs, 2);
  EXPECT_THAT(Parse({"run"}, "run").run.shard, IsEmpty());
  TempDir tmp;
  const std::string a = (tmp.path() / "a.json").string(), b = (tmp.path() / "b.json").string();
  std::ofstream(a) << "{}";
  std::ofstream(b) << "{}";
  inv = Parse({"report", "--merge", a, b, "--json", "m.json", "--report-dir", "out"}, "report");
  EXPECT_THAT(inv.report.merge, ElementsAre(a, b));
  EXPECT_EQ(inv.report.json_path, "m.json");
  EXPECT_EQ(inv.report.report_dir, "out");
  EXPECT_THAT(UsageError({"report", "--merge", (tmp.path() / "none.json").string()}),
              HasSubstr("none.json"));
  const std::string help = ParseArgs({"run", "--help"}).output;
  EXPECT_THAT(help, HasSubstr("--shard I/N"));
  EXPECT_THAT(ParseArgs({"report", "--help"}).output, HasSubstr("--merge FILE..."));
}

TEST(CliTest, ABadShardIsAUsageErrorBeforeAnythingRuns) {
  TempDir tmp;
  for (const char* bad : {"3/3", "x", "1/0", "-1/2"}) {
    CliRun r = Cli({"run", "--shard", bad, "--log-dir", (tmp.path() / "l").string()});
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_THAT(r.err, HasSubstr("expected I/N with 0 <= I < N")) << bad;
    EXPECT_THAT(r.err, HasSubstr("nothing was run")) << bad;
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "l"));
}

TEST(CliTest, AShardWithNothingToRunSaysSoAndIsNotGreen) {
  // One pair over seven shards: shard 6 has nothing; no target starts.
  TempDir tmp;
  const fs::path json = tmp.path() / "s6.json";
  CliRun r = Cli({"run", "--cases", "server.ready", "--shard", "6/7", "--json", json.string(),
                  "--log-dir", (tmp.path() / "l").string(), "-q"});
  EXPECT_EQ(r.code, core::kExitNothingRan) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("shard 6/7: none of the run's 1 (target, case) pairs falls to "
                               "this shard"));
  EXPECT_THAT(r.out, HasSubstr("exit 4"));
  auto saved = reports::LoadJsonReport(json.string());
  ASSERT_TRUE(saved.ok()) << saved.error();
  EXPECT_THAT(saved->results, IsEmpty());
  ASSERT_TRUE(saved->shard);
  EXPECT_EQ(saved->shard->count, 7);
  EXPECT_THAT(saved->shard->indexes, ElementsAre(6));
  ASSERT_EQ(saved->shard->selected.size(), 1u);
  EXPECT_EQ(saved->shard->selected[0].target, "cpp");
  EXPECT_THAT(saved->shard->selected[0].cases, ElementsAre("server.ready"));
  // Merged alone it is missing the pair it did not have: not green either.
  CliRun merged = Cli({"report", "--merge", json.string(), "--md", (tmp.path() / "m.md").string()});
  EXPECT_EQ(merged.code, core::kExitHarness) << merged.out << merged.err;
  EXPECT_THAT(merged.out, HasSubstr("missing shards: 0/7 1/7 2/7 3/7 4/7 5/7"));
  EXPECT_THAT(merged.out, HasSubstr("1 selected (target, case) pairs no shard reported"));
  EXPECT_THAT(merged.out, HasSubstr("  cpp server.ready"));
  // The same shard twice is refused, naming both files, and writes nothing.
  const fs::path copy = tmp.path() / "copy.json";
  fs::copy_file(json, copy);
  const fs::path out = tmp.path() / "never.json";
  CliRun twice = Cli({"report", "--merge", json.string(), copy.string(), "--json", out.string()});
  EXPECT_EQ(twice.code, 2);
  EXPECT_THAT(twice.err,
              HasSubstr(json.string() + " and " + copy.string() + " both hold shard 6/7"));
  EXPECT_THAT(twice.err, HasSubstr("nothing was written"));
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliTest, ReportMergeWritesEveryFormatAndItsLogs) {
  TempDir tmp;
  // Two whole runs of other targets, each with its log beside it.
  auto save = [&](const std::string& name, core::Outcome outcome) {
    const fs::path dir = tmp.path() / name;
    fs::create_directories(dir / "logs");
    std::ofstream log(dir / "logs" / (name + ".log"));
    if (name != "cpp") log << "log of " << name << "\n";  // cpp's log is empty
    core::RunReport report;
    core::TargetSummary t;
    t.name = name;
    t.log_path = "logs/" + name + ".log";  // relative to its report, as --report-dir writes it
    report.targets = {t};
    report.catalog = suites::CatalogInfo();
    report.results = {Finished(name, "chat.status", outcome,
                               outcome == core::Outcome::kPass ? "" : "expected 200, got 500")};
    const fs::path file = dir / "results.json";
    EXPECT_TRUE(reports::WriteFile(file.string(), reports::ToJsonString(report)).ok());
    return file.string();
  };
  const std::string cpp = save("cpp", core::Outcome::kPass);
  const std::string flask = save("flask", core::Outcome::kFail);
  const fs::path out = tmp.path() / "merged";
  CliRun r = Cli({"report", "--merge", cpp, flask, "--report-dir", out.string()});
  EXPECT_EQ(r.code, core::kExitMustFailed) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("merged 2 results file(s)"));
  EXPECT_THAT(r.out, HasSubstr("verdict: a MUST case failed (exit 1)"));
  for (const char* f : {"results.json", "junit.xml", "summary.md", "report.html"}) {
    EXPECT_TRUE(fs::exists(out / f)) << f;
  }
  std::ifstream log(out / "logs" / "flask.log");
  std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "log of flask\n");
  EXPECT_TRUE(fs::exists(out / "logs" / "cpp.log"));
  EXPECT_EQ(fs::file_size(out / "logs" / "cpp.log"), 0u);
  EXPECT_THAT(r.err, IsEmpty());
  auto merged = reports::LoadJsonReport((out / "results.json").string());
  ASSERT_TRUE(merged.ok()) << merged.error();
  ASSERT_EQ(merged->results.size(), 2u);
  EXPECT_EQ(merged->targets[1].log_path, "logs/flask.log");
  // Rendered again, and merged again, it is the same run.
  CliRun again = Cli(
      {"report", (out / "results.json").string(), "--json", (tmp.path() / "again.json").string()});
  EXPECT_EQ(again.code, core::kExitMustFailed) << again.err;
  CliRun remerged = Cli({"report", "--merge", (out / "results.json").string(), "--md",
                         (tmp.path() / "m.md").string()});
  EXPECT_EQ(remerged.code, core::kExitMustFailed) << remerged.err;
  // Overlapping runs are refused, naming both.
  CliRun overlap = Cli({"report", "--merge", cpp, (out / "results.json").string(), "--json",
                        (tmp.path() / "x.json").string()});
  EXPECT_EQ(overlap.code, 2);
  EXPECT_THAT(overlap.err, HasSubstr(cpp + " and " + (out / "results.json").string() +
                                     " both report it: cpp chat.status"));
  // A results file before --merge, or no output, is a usage error.
  EXPECT_EQ(Cli({"report", cpp, "--merge", flask, "--json", "x.json"}).code, 2);
  CliRun no_output = Cli({"report", "--merge", cpp, flask});
  EXPECT_EQ(no_output.code, 2);
  EXPECT_THAT(no_output.err, HasSubstr("name an output"));
}

}  // namespace
}  // namespace streamcheck::cli
