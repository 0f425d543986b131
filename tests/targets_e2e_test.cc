// The target side end to end: the real streamcheck binary run against targets
// that misbehave, checking the outcome, the message, the exit code, and that
// no process is left behind.
#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "harness/target_process.h"
#include "tests/test_support.h"

namespace streamcheck {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Processes whose command line contains `marker`: what a test left running.
int CountProcessesWith(const std::string& marker) {
  int count = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    // Not istreambuf_iterator: a read of a process that just exited fails
    // (ESRCH), and libstdc++ throws that from the iterator.
    std::string cmdline = testing_support::ReadFile(entry.path() / "cmdline");
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  return count;
}

class TargetsEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    marker_ = "streamcheck-e2e-" + std::to_string(random());
    // Not named after the marker: streamcheck's own command line holds this path.
    dir_ = fs::temp_directory_path() / ("sc-e2e-dir-" + std::to_string(random()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    EXPECT_EQ(CountProcessesWith(marker_), 0) << "a target process was left behind";
    fs::remove_all(dir_);
  }

  // A spec file whose command carries the test's marker, so leftovers can be found.
  // These servers answer by themselves, as a server with its own model does:
  // "backend": "external", so the cases that need the mock are skipped.
  std::string WriteSpec(const std::string& name, const nlohmann::json& command,
                        int ready_timeout_s = 10) {
    nlohmann::json spec = {{"name", name},
                           {"command", command},
                           {"env", {{"MARKER", marker_}}},
                           {"ready_path", "/ping"},
                           {"ready_timeout_s", ready_timeout_s},
                           {"features", {"chat", "direct_access"}},
                           {"backend", "external"}};
    auto path = dir_ / (name + ".json");
    std::ofstream(path) << spec.dump(2);
    return path.string();
  }

  // A Python server that answers /ping, and on anything else does `on_request`.
  nlohmann::json PythonServer(const std::string& on_request, const std::string& setup = "") {
    std::string code =
        "import http.server, os, signal, sys\n" + setup +
        "class H(http.server.BaseHTTPRequestHandler):\n"
        "    def log_message(self, *a): pass\n"
        "    def do_GET(self):\n"
        "        if self.path == '/ping':\n"
        "            self.send_response(200); self.end_headers(); self.wfile.write(b'ok'); return\n"
        "        " +
        on_request +
        "\n"
        "    do_POST = do_GET\n"
        "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";
    return {"/usr/bin/python3", "-c", code, "{port}", marker_};
  }

  struct Outcome {
    std::string exit;
    std::string output;
    nlohmann::json results;
  };

  // Runs streamcheck with `args` to the end (bounded), capturing its output.
  Outcome Run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    harness::LaunchOptions launch;
    launch.argv = {STREAMCHECK_BIN, "run"};
    launch.argv.insert(launch.argv.end(), args.begin(), args.end());
    launch.argv.insert(launch.argv.end(), {"--json", (dir_ / "results.json").string(), "--log-dir",
                                           (dir_ / "logs").string()});
    launch.env = std::move(env);
    launch.env["STREAMCHECK_ROOT"] = STREAMCHECK_SOURCE_ROOT;
    launch.log_path = dir_ / "streamcheck.log";
    auto process = harness::TargetProcess::Start(launch);
    EXPECT_TRUE(process.ok()) << (process.ok() ? "" : process.error());
    if (!process.ok()) return {};
    EXPECT_TRUE((*process)->WaitForExit(std::chrono::seconds(150)))
        << "streamcheck did not finish within 150 s; output:\n"
        << (*process)->LogTail(40);
    (*process)->Stop();
    Outcome outcome;
    outcome.exit = (*process)->DescribeExit();
    std::ifstream log(launch.log_path);
    outcome.output.assign(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>());
    std::ifstream json(dir_ / "results.json");
    if (json) outcome.results = nlohmann::json::parse(json, nullptr, false);
    fs::remove(dir_ / "results.json");
    return outcome;
  }

  // "case outcome" for every result, in report order.
  static std::vector<std::string> Outcomes(const nlohmann::json& results) {
    std::vector<std::string> out;
    if (!results.is_object()) return out;
    for (const auto& r : results["results"]) {
      out.push_back(r["case"].get<std::string>() + " " + r["outcome"].get<std::string>());
    }
    return out;
  }

  std::string marker_;
  fs::path dir_;
};

TEST_F(TargetsEndToEndTest, TargetThatNeverGetsReadyIsAnErrorWithExitThree) {
  auto spec = WriteSpec("sleeper", {"/bin/sh", "-c", "echo starting up; exec sleep 60", marker_},
                        /*ready_timeout_s=*/2);
  auto outcome = Run({"--target", spec, "--cases", "server.*,chat.status"});
  EXPECT_EQ(outcome.exit, "exited with code 3") << outcome.output;
  EXPECT_THAT(outcome.output, HasSubstr("did not answer 200"));
  EXPECT_THAT(outcome.output, HasSubstr("starting up")) << "the log tail should be shown";
  ASSERT_TRUE(outcome.results.is_object());
  for (const auto& r : outcome.results["results"]) EXPECT_EQ(r["outcome"], "error") << r.dump();
}

TEST_F(TargetsEndToEndTest, TargetThatExitsEarlyShowsItsExitAndLog) {
  auto spec = WriteSpec("quitter", {"/bin/sh", "-c", "echo config missing >&2; exit 7", marker_});
  auto outcome = Run({"--target", spec, "--cases", "server.ready"});
  EXPECT_EQ(outcome.exit, "exited with code 3") << outcome.output;
  EXPECT_THAT(outcome.output, HasSubstr("exited with code 7"));
  EXPECT_THAT(outcome.output, HasSubstr("config missing"));
}

TEST_F(TargetsEndToEndTest, CrashMidCaseIsAnErrorAndTheNextTargetStillRuns) {
  auto crasher = WriteSpec("crasher", PythonServer("os._exit(9)"));
  auto outcome = Run({"--target", crasher, "--target", "cpp", "--cases",
                      "server.ready,chat.status,server.survives"});
  // server.survives fails (a MUST case): exit 1.
  EXPECT_EQ(outcome.exit, "exited with code 1") << outcome.output;
  ASSERT_TRUE(outcome.results.is_object()) << outcome.output;
  std::map<std::string, std::string> seen;
  std::string crash_message;
  for (const auto& r : outcome.results["results"]) {
    seen[r["target"].get<std::string>() + " " + r["case"].get<std::string>()] = r["outcome"];
    if (r["target"] == "crasher" && r["case"] == "chat.status") crash_message = r["message"];
  }
  EXPECT_EQ(seen["crasher server.ready"], "pass");
  // The crash is noticed during or right after the case that caused it.
  EXPECT_THAT(seen["crasher chat.status"], ::testing::AnyOf("error", "fail"));
  EXPECT_EQ(seen["crasher server.survives"], "fail");
  EXPECT_EQ(seen["cpp server.ready"], "pass");
  EXPECT_EQ(seen["cpp chat.status"], "pass");
  EXPECT_EQ(seen["cpp server.survives"], "pass");
  EXPECT_THAT(outcome.output, HasSubstr("exited with code 9"));
}

TEST_F(TargetsEndToEndTest, TargetThatIgnoresSigtermIsKilledAndNothingIsLeft) {
  auto spec =
      WriteSpec("stubborn", PythonServer("self.send_response(404); self.end_headers()",
                                         "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"));
  // The cases that can be judged on a server that answers 404 but to its ready path.
  auto outcome = Run({"--target", spec, "--cases", "server.ready,server.survives"});
  EXPECT_EQ(outcome.exit, "exited with code 0") << outcome.output;
  // TearDown checks that the stubborn server is gone.
}

TEST_F(TargetsEndToEndTest, InterruptStopsTheRunAndItsTargets) {
  // A target that is slow to answer chat, so the run is mid-case when interrupted.
  auto spec = WriteSpec("slow", PythonServer("import time; time.sleep(60)"));
  harness::LaunchOptions launch;
  const auto results = dir_ / "interrupted.json";
  launch.argv = {STREAMCHECK_BIN, "run",
                 "--target",      spec,
                 "--cases",       "server.ready,chat.status,chat.done-terminator",
                 "--json",        results.string(),
                 "--log-dir",     (dir_ / "logs").string()};
  launch.log_path = dir_ / "streamcheck.log";
  auto process = harness::TargetProcess::Start(launch);
  ASSERT_TRUE(process.ok()) << process.error();
  // Wait (bounded) until the run is inside chat.status, i.e. the target is up.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline &&
         (*process)->LogTail(50).find("server.ready") == std::string::npos) {
    (*process)->WaitForExit(std::chrono::milliseconds(50));
  }
  ASSERT_THAT((*process)->LogTail(50), HasSubstr("server.ready"));
  ASSERT_EQ(CountProcessesWith(marker_), 1) << "the target should be running";
  kill((*process)->pid(), SIGINT);
  EXPECT_TRUE((*process)->WaitForExit(std::chrono::seconds(20)));
  // Stopped as asked, reports written with what ran, the target gone.
  EXPECT_EQ((*process)->DescribeExit(), "exited with code 130") << (*process)->LogTail(50);
  EXPECT_THAT((*process)->LogTail(50), HasSubstr("interrupted by SIGINT"));
  EXPECT_EQ(CountProcessesWith(marker_), 0) << "the target outlived the interrupted run";
  auto report = nlohmann::json::parse(testing_support::ReadFile(results), nullptr, false);
  ASSERT_TRUE(report.is_object()) << "no results written after the interrupt";
  std::map<std::string, std::string> seen;
  for (const auto& r : report["results"]) seen[r["case"]] = r["outcome"];
  EXPECT_EQ(seen["server.ready"], "pass");
  EXPECT_EQ(seen["chat.status"], "not-run");
  EXPECT_EQ(seen["chat.done-terminator"], "not-run");
  EXPECT_EQ(report["interrupted"]["exit_code"], 130);
  (*process)->Stop();
}

// The engine is streamcheck's own: GoogleTest's variables, which CI systems
// export for their gtest binaries, change nothing.
TEST_F(TargetsEndToEndTest, GtestVariablesChangeNothing) {
  auto spec = WriteSpec("chatless", PythonServer("self.send_response(404); self.end_headers()"));
  const std::vector<std::string> args = {"--target", spec, "--cases",
                                         "server.ready,chat.status,chat.done-terminator"};
  auto plain = Run(args);
  auto with_gtest = Run(args, {{"GTEST_FILTER", "-*"},
                               {"GTEST_REPEAT", "3"},
                               {"GTEST_SHUFFLE", "1"},
                               {"GTEST_ALSO_RUN_DISABLED_TESTS", "1"}});
  EXPECT_EQ(plain.exit, "exited with code 1") << plain.output;
  EXPECT_EQ(with_gtest.exit, plain.exit) << with_gtest.output;
  EXPECT_EQ(Outcomes(plain.results),
            (std::vector<std::string>{"server.ready pass", "chat.status fail",
                                      "chat.done-terminator fail"}));
  EXPECT_EQ(Outcomes(with_gtest.results), Outcomes(plain.results));
}

// A hostile stream cannot take the harness down: a chunk nested 200,000
// arrays deep is a failure of the stream, reported; the run ends normally.
TEST_F(TargetsEndToEndTest, DeeplyNestedChunkIsAFailureNotACrash) {
  auto spec = WriteSpec(
      "nested", PythonServer("self.send_response(200); self.send_header('Content-Type', "
                             "'text/event-stream'); self.end_headers(); self.wfile.write(b'data: ' "
                             "+ b'[' * 200000 + b']' * 200000 + b'\\n\\ndata: [DONE]\\n\\n')"));
  auto outcome = Run({"--target", spec, "--cases", "chat.chunk-schema,chat.finish-reason"});
  EXPECT_EQ(outcome.exit, "exited with code 1") << outcome.output;
  ASSERT_TRUE(outcome.results.is_object()) << outcome.output;
  for (const auto& r : outcome.results["results"]) EXPECT_EQ(r["outcome"], "fail") << r.dump();
}

// A target that streams forever: the run's --timeout ends the run like an
// interrupt, with every report written and the rest not run.
TEST_F(TargetsEndToEndTest, RunTimeoutEndsARunAgainstAnEndlessStream) {
  auto spec = WriteSpec(
      "endless",
      PythonServer("self.send_response(200); self.send_header('Content-Type', "
                   "'text/event-stream'); self.end_headers()\n"
                   "        while True: self.wfile.write(b'data: tick\\n\\n'); self.wfile.flush(); "
                   "time.sleep(0.01)",
                   "import time\n"));
  auto start = std::chrono::steady_clock::now();
  auto outcome = Run({"--target", spec, "--timeout", "6"});
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_EQ(outcome.exit, "exited with code 124") << outcome.output;
  EXPECT_THAT(outcome.output, HasSubstr("--timeout of 6 s was reached"));
  ASSERT_TRUE(outcome.results.is_object()) << outcome.output;
  EXPECT_EQ(outcome.results["interrupted"]["exit_code"], 124);
  int not_run = 0;
  for (const auto& r : outcome.results["results"]) not_run += r["outcome"] == "not-run";
  EXPECT_GT(not_run, 0);
}

// A server that leaves its process group (setsid, as daemons do) is found,
// stopped and named; nothing of it is left.
TEST_F(TargetsEndToEndTest, DaemonisedServerIsStoppedAndReported) {
  auto server = PythonServer("self.send_response(404); self.end_headers()");
  const auto program = dir_ / "server.py";
  std::ofstream(program) << server[2].get<std::string>();
  // The leader stays; the server runs in a session of its own.
  auto spec = WriteSpec("daemon", {"/bin/sh", "-c",
                                   "setsid /usr/bin/python3 " + program.string() + " \"$0\" " +
                                       marker_ + " & exec sleep 600",
                                   "{port}", marker_});
  auto outcome = Run({"--target", spec, "--cases", "server.ready"});
  EXPECT_EQ(outcome.exit, "exited with code 0") << outcome.output;
  EXPECT_THAT(outcome.output, HasSubstr("outside its process group"));
  ASSERT_TRUE(outcome.results.is_object());
  EXPECT_FALSE(outcome.results["targets"][0]["stop"]["leftovers_killed"].empty());
  // TearDown checks that nothing with the marker is left.
}

// SIGKILL of the harness leaves no target behind (parent-death signal and the
// guardian), workers included.
TEST_F(TargetsEndToEndTest, KilledHarnessLeavesNoTarget) {
  auto spec = WriteSpec("victim", PythonServer("import time; time.sleep(60)"));
  harness::LaunchOptions launch;
  launch.argv = {STREAMCHECK_BIN, "run",
                 "--target",      spec,
                 "--cases",       "server.ready,chat.status",
                 "--log-dir",     (dir_ / "logs").string()};
  launch.log_path = dir_ / "streamcheck.log";
  auto process = harness::TargetProcess::Start(launch);
  ASSERT_TRUE(process.ok()) << process.error();
  ASSERT_TRUE(testing_support::PollUntil([&] { return CountProcessesWith(marker_) == 1; }))
      << (*process)->LogTail(20);
  ASSERT_TRUE(testing_support::PollUntil(
      [&] { return (*process)->LogTail(50).find("server.ready") != std::string::npos; }));
  kill((*process)->pid(), SIGKILL);
  EXPECT_TRUE((*process)->WaitForExit(std::chrono::seconds(10)));
  EXPECT_TRUE(testing_support::PollUntil([&] { return CountProcessesWith(marker_) == 0; },
                                         std::chrono::seconds(5)))
      << "the target outlived a harness killed by SIGKILL";
  (*process)->Stop();
}

TEST_F(TargetsEndToEndTest, MalformedSpecIsAUsageErrorNamingFileAndKey) {
  auto path = dir_ / "bad.json";
  std::ofstream(path) << R"({"name": "bad", "command": ["x"], "colour": "red"})";
  auto outcome = Run({"--target", path.string()});
  EXPECT_EQ(outcome.exit, "exited with code 2");
  EXPECT_THAT(outcome.output, HasSubstr("bad.json"));
  EXPECT_THAT(outcome.output, HasSubstr("unknown key \"colour\""));
}

}  // namespace
}  // namespace streamcheck
