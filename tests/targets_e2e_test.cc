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
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>

#include "harness/target_process.h"

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
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
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
  std::string WriteSpec(const std::string& name, const nlohmann::json& command,
                        int ready_timeout_s = 10) {
    nlohmann::json spec = {{"name", name},
                           {"command", command},
                           {"env", {{"MARKER", marker_}}},
                           {"ready_path", "/ping"},
                           {"ready_timeout_s", ready_timeout_s},
                           {"features", {"chat", "direct_access"}}};
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
  Outcome Run(std::vector<std::string> args) {
    harness::LaunchOptions launch;
    launch.argv = {STREAMCHECK_BIN, "run"};
    launch.argv.insert(launch.argv.end(), args.begin(), args.end());
    launch.argv.insert(launch.argv.end(), {"--json", (dir_ / "results.json").string(), "--log-dir",
                                           (dir_ / "logs").string()});
    launch.env = {{"STREAMCHECK_ROOT", STREAMCHECK_SOURCE_ROOT}};
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
    return outcome;
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
  auto outcome = Run({"--target", spec, "--cases", "server.*"});
  EXPECT_EQ(outcome.exit, "exited with code 0") << outcome.output;
  // TearDown checks that the stubborn server is gone.
}

TEST_F(TargetsEndToEndTest, InterruptStopsTheRunAndItsTargets) {
  // A target that is slow to answer chat, so the run is mid-case when interrupted.
  auto spec = WriteSpec("slow", PythonServer("import time; time.sleep(60)"));
  harness::LaunchOptions launch;
  launch.argv = {STREAMCHECK_BIN, "run",
                 "--target",      spec,
                 "--cases",       "server.ready,chat.status",
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
  EXPECT_THAT((*process)->DescribeExit(), HasSubstr("SIGINT"));
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
