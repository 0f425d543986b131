// Every conformance check is shown to fail (the project rule). For each catalog
// case, `streamcheck run` against tests/fixtures/defective_server with the
// defect the catalog table names for it must report exactly that case as
// `fail` (MUST) or `warn` (SHOULD), with a message, and exit 1 or 0 accordingly. Controls run
// the same cases against the reference server and against the fixture without
// a defect, where every case must pass: a defect test cannot pass because its
// case always fails, nor because the fixture differs from the reference server
// in some other way.
//
// chat.framing is INFO (recorded, never judged) and has nothing to fail.
// direct.backpressure and direct.large-upload also fail on defects that hold
// a body on disk: see ConformanceExtraDefectTest.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "suites/catalog.h"
#include "tests/test_support.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A run is bounded by `timeout`: a hung harness or target fails the test, it
// does not stall ctest. The slowest case takes about 6 s, a control run 15 s.
// The bound on one streamcheck run; sanitizers slow every process of it
// several times (TSan most: the 128 MiB uploads alone take half a minute).
#if defined(__SANITIZE_THREAD__)
constexpr int kRunTimeoutS = 300;
#elif defined(__SANITIZE_ADDRESS__)
constexpr int kRunTimeoutS = 180;
#else
constexpr int kRunTimeoutS = 90;
#endif
constexpr double kSmallMb = 8;
// The memory cases need a body larger than their 64 MiB RSS limit.
constexpr double kLargeMb = 100;
const std::set<std::string> kNeedsLargeBody = {"direct.memory-bounded", "direct.large-upload"};

struct DefectCase {
  std::string case_id;
  std::string defect;   // tests/fixtures/defective_server.cc, --defect
  std::string outcome;  // "fail" for a MUST case, "warn" for a SHOULD case
  double size_mb = kSmallMb;
};

// For test listings (ctest names): "chat.status on --defect chat-status".
void PrintTo(const DefectCase& c, std::ostream* os) {
  *os << c.case_id << " on --defect " << c.defect;
}

// One per judged case of the catalog table (suites/), with the defect the
// table names for it: adding a case without a defect fails CatalogTest.
const std::vector<DefectCase>& DefectCases() {
  static const std::vector<DefectCase> cases = [] {
    std::vector<DefectCase> out;
    for (const auto& c : streamcheck::suites::CatalogInfo()) {
      if (c.level == streamcheck::core::Level::kInfo) continue;
      DefectCase d{c.id, c.defect, c.level == streamcheck::core::Level::kMust ? "fail" : "warn"};
      if (kNeedsLargeBody.count(c.id)) d.size_mb = kLargeMb;
      out.push_back(d);
    }
    return out;
  }();
  return cases;
}

// A fresh folder for one run's spec, results and logs; kept when the test failed.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "conformance-failure-XXXXXX").string();
    if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty() && !testing::Test::HasFailure()) fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct SpecOptions {
  std::string name = "defective";
  std::string defect = "none";
  int ready_timeout_s = 30;
};

// The fixture's upload limit: above the largest upload of the cases
// (direct.large-upload's 100 MiB), small enough to send past quickly.
constexpr std::uint64_t kMaxUploadBytes = 128ull << 20;

// A target spec for the fixture with one defect, as any user would write one.
// request_timeout_s is the 2 s after which chat-long-stream cuts a stream.
fs::path WriteSpec(const fs::path& dir, const SpecOptions& options) {
  json spec = {{"name", options.name},
               {"command",
                {"{bin}/defective_server", "--port", "{port}", "--backend", "{backend_url}",
                 "--defect", options.defect, "--backend-headers-timeout-ms", "3000",
                 "--max-body-bytes", std::to_string(kMaxUploadBytes)}},
               {"ready_path", "/ping"},
               {"ready_timeout_s", options.ready_timeout_s},
               {"backend_timeout_s", 3},
               {"request_timeout_s", 2},
               {"max_upload_bytes", kMaxUploadBytes},
               {"stop_timeout_s", 5},
               {"features", {"chat", "direct_access", "tools"}}};
  fs::path path = dir / (options.name + ".json");
  std::ofstream(path) << spec.dump(2);
  return path;
}

struct RunResult {
  int exit_code = -1;  // 124: killed by `timeout`
  std::string output;  // streamcheck's stdout and stderr
  json report;         // the --json file, null when none was written
  fs::path log_dir;

  // This case's entry in the results, or null.
  json Result(const std::string& case_id, const std::string& target) const {
    if (!report.is_object() || !report.contains("results")) return nullptr;
    for (const auto& r : report["results"]) {
      if (r.value("case", "") == case_id && r.value("target", "") == target) return r;
    }
    return nullptr;
  }

  // A field of this case's result, "" when there is none.
  std::string Field(const std::string& case_id, const std::string& target,
                    const std::string& key) const {
    auto r = Result(case_id, target);
    return r.is_object() && r.contains(key) && r[key].is_string() ? r[key].get<std::string>() : "";
  }

  // What to read when an expectation fails: the harness's output and the target's log.
  std::string Diagnostics(const std::string& target) const {
    std::string log = ReadFile(log_dir / (target + ".log"));
    if (log.size() > 4000) log = "..." + log.substr(log.size() - 4000);
    return "exit code " + std::to_string(exit_code) + "\n--- streamcheck output ---\n" + output +
           "\n--- " + target + ".log ---\n" + log;
  }
};

// `streamcheck run ARGS... --json --log-dir` in `dir`, bounded by `timeout`.
RunResult RunStreamcheck(const fs::path& dir, const std::vector<std::string>& args) {
  RunResult result;
  result.log_dir = dir / "logs";
  fs::path json_path = dir / "results.json";
  fs::path output_path = dir / "streamcheck.out";
  std::vector<std::string> argv = {"timeout", "--kill-after=10", std::to_string(kRunTimeoutS),
                                   STREAMCHECK_BIN, "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--json", json_path.string(), "--log-dir", result.log_dir.string()});

  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  std::vector<std::string> env_strings = {"STREAMCHECK_ROOT=" STREAMCHECK_SOURCE_ROOT};
  for (char** e = environ; *e; ++e) {
    if (std::string(*e).rfind("STREAMCHECK_ROOT=", 0) != 0) env_strings.push_back(*e);
  }
  std::vector<char*> c_env;
  for (auto& e : env_strings) c_env.push_back(e.data());
  c_env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, output_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int spawn_error = posix_spawnp(&pid, "timeout", &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (spawn_error != 0) {
    result.output = std::string("cannot start timeout/streamcheck: ") + std::strerror(spawn_error);
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.output = ReadFile(output_path);
  if (fs::exists(json_path)) result.report = json::parse(ReadFile(json_path), nullptr, false);
  return result;
}

std::string JoinIds(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

std::string SizeArg(double size_mb) { return std::to_string(static_cast<int>(size_mb)); }

// The test's name: the case ID with '.' and '-' as '_' ("chat_status").
std::string ParamName(const testing::TestParamInfo<DefectCase>& info) {
  return streamcheck::testing_support::TestNameOf(info.param.case_id);
}

class ConformanceFailureTest : public testing::TestWithParam<DefectCase> {};

TEST_P(ConformanceFailureTest, CaseFailsOnItsDefect) {
  const DefectCase& param = GetParam();
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto spec = WriteSpec(dir.path(), {.defect = param.defect});
  auto run = RunStreamcheck(dir.path(), {"--target", spec.string(), "--cases", param.case_id,
                                         "--size-mb", SizeArg(param.size_mb)});
  auto result = run.Result(param.case_id, "defective");
  ASSERT_TRUE(result.is_object()) << "no result for " << param.case_id << "\n"
                                  << run.Diagnostics("defective");
  std::string message = result.value("message", "");
  EXPECT_EQ(result.value("outcome", ""), param.outcome)
      << param.case_id << " on --defect " << param.defect << ": " << message << "\n"
      << run.Diagnostics("defective");
  EXPECT_FALSE(message.empty()) << "a " << param.outcome << " must say what was seen";
  // Only a MUST failure fails the run; a SHOULD case's warning does not.
  EXPECT_EQ(run.exit_code, param.outcome == "fail" ? 1 : 0) << run.Diagnostics("defective");
  std::cout << "[ outcome  ] " << param.case_id << " -> " << result.value("outcome", "") << ": "
            << message.substr(0, 150) << "\n";
}

INSTANTIATE_TEST_SUITE_P(EveryCase, ConformanceFailureTest, testing::ValuesIn(DefectCases()),
                         ParamName);

// The same cases, with the same body sizes, on a server without the defect.
void ExpectEveryCasePasses(const std::vector<std::string>& target_args, const std::string& target) {
  std::map<double, std::vector<std::string>> by_size;
  for (const auto& c : DefectCases()) by_size[c.size_mb].push_back(c.case_id);
  for (const auto& [size_mb, ids] : by_size) {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    std::vector<std::string> args = target_args;
    if (args.empty()) {
      args = {"--target", WriteSpec(dir.path(), {.name = target}).string()};
    }
    args.insert(args.end(), {"--cases", JoinIds(ids), "--size-mb", SizeArg(size_mb)});
    auto run = RunStreamcheck(dir.path(), args);
    for (const auto& id : ids) {
      auto result = run.Result(id, target);
      ASSERT_TRUE(result.is_object()) << "no result for " << id << "\n" << run.Diagnostics(target);
      EXPECT_EQ(result.value("outcome", ""), "pass")
          << id << " (--size-mb " << size_mb << "): " << result.value("message", "");
    }
    EXPECT_EQ(run.exit_code, 0) << run.Diagnostics(target);
  }
}

TEST(ConformanceFailureControlTest, ReferenceServerPassesEveryCase) {
  ExpectEveryCasePasses({"--target", "cpp"}, "cpp");
}

TEST(ConformanceFailureControlTest, FixtureWithoutDefectPassesEveryCase) {
  ExpectEveryCasePasses({}, "faithful");
}

TEST(ConformanceFailureExitCodeTest, RunExitsOneWhenAMustCaseFails) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto spec = WriteSpec(dir.path(), {.defect = "chat-status"});
  auto run = RunStreamcheck(dir.path(),
                            {"--target", spec.string(), "--cases", "chat.status,chat.no-cache"});
  EXPECT_EQ(run.Field("chat.status", "defective", "outcome"), "fail");
  EXPECT_EQ(run.Field("chat.no-cache", "defective", "outcome"), "pass");
  EXPECT_EQ(run.exit_code, 1) << run.Diagnostics("defective");
}

TEST(ConformanceFailureExitCodeTest, RunExitsZeroWhenOnlyShouldCasesWarn) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto spec = WriteSpec(dir.path(), {.defect = "chat-no-cache"});
  auto run = RunStreamcheck(dir.path(),
                            {"--target", spec.string(), "--cases", "chat.status,chat.no-cache"});
  EXPECT_EQ(run.Field("chat.status", "defective", "outcome"), "pass");
  EXPECT_EQ(run.Field("chat.no-cache", "defective", "outcome"), "warn");
  EXPECT_EQ(run.exit_code, 0) << run.Diagnostics("defective");
}

// Defects beyond the one each case names, for checks that see what memory
// cannot: a body held on disk (as nginx's default buffering holds it).
struct ExtraDefect {
  std::string case_id;
  std::string defect;
  std::string says;  // the message names what was seen
  double size_mb = kSmallMb;
};

void PrintTo(const ExtraDefect& d, std::ostream* os) { *os << d.case_id << " on " << d.defect; }

class ConformanceExtraDefectTest : public testing::TestWithParam<ExtraDefect> {};

// Each is a SHOULD case: a warn, and the run still exits 0.
TEST_P(ConformanceExtraDefectTest, CaseFailsOnTheDefect) {
  const ExtraDefect& param = GetParam();
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto spec = WriteSpec(dir.path(), {.defect = param.defect});
  auto run = RunStreamcheck(dir.path(), {"--target", spec.string(), "--cases", param.case_id,
                                         "--size-mb", SizeArg(param.size_mb)});
  EXPECT_EQ(run.Field(param.case_id, "defective", "outcome"), "warn")
      << run.Diagnostics("defective");
  EXPECT_NE(run.Field(param.case_id, "defective", "message").find(param.says), std::string::npos)
      << run.Field(param.case_id, "defective", "message");
  EXPECT_EQ(run.exit_code, 0) << run.Diagnostics("defective");
}

// The read-ahead buffer: direct.backpressure's 96 MiB body is above its 64 MiB
// limit, so even one copy fails it (a 48 MiB body once let this defect pass
// at +33 to +42 MiB); the send timeline shows it too. The spools keep memory
// flat: only the timelines can see them.
INSTANTIATE_TEST_SUITE_P(
    Extra, ConformanceExtraDefectTest,
    testing::Values(ExtraDefect{"direct.backpressure", "direct-backpressure-read-ahead",
                                "ahead of the client"},
                    ExtraDefect{"direct.backpressure", "direct-backpressure-spool",
                                "held by the server, in memory or on disk"},
                    ExtraDefect{"direct.large-upload", "direct-large-upload-spool",
                                "the backend had received none", 32}),
    [](const testing::TestParamInfo<ExtraDefect>& param_info) {
      return streamcheck::testing_support::TestNameOf(param_info.param.defect);
    });

// A server whose readiness path never answers 200 never gets as far as the
// server.ready case: the lifecycle gives up on it, every case is an `error`
// and the run exits 3 (a target that could not be started), not 1.
TEST(ConformanceFailureLifecycleTest, NeverReadyServerIsReportedAsAnError) {
  const std::string case_id = "server.ready";
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto spec = WriteSpec(dir.path(), {.defect = "server-ready-never", .ready_timeout_s = 2});
  auto run = RunStreamcheck(dir.path(), {"--target", spec.string(), "--cases", case_id});
  EXPECT_EQ(run.Field(case_id, "defective", "outcome"), "error") << run.Diagnostics("defective");
  std::string message = run.Field(case_id, "defective", "message");
  EXPECT_NE(message.find("could not be started"), std::string::npos) << message;
  EXPECT_EQ(run.exit_code, 3) << run.Diagnostics("defective");
}

// A server that exits after its first request (the lifecycle's readiness
// probe). Which verdict the runner gives is a race: `error` (exit 3) when it
// sees the dead target before server.survives runs, `fail` (exit 1) when the
// case's request reaches the process as it exits. Either way never a pass.
TEST(ConformanceFailureLifecycleTest, ServerThatExitsIsNeverAPass) {
  const std::string case_id = "server.survives";
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto spec = WriteSpec(dir.path(), {.defect = "server-survives-exit"});
  auto run = RunStreamcheck(dir.path(), {"--target", spec.string(), "--cases", case_id});
  std::string outcome = run.Field(case_id, "defective", "outcome");
  EXPECT_TRUE(outcome == "fail" || outcome == "error") << run.Diagnostics("defective");
  EXPECT_FALSE(run.Field(case_id, "defective", "message").empty());
  EXPECT_EQ(run.exit_code, outcome == "fail" ? 1 : 3) << run.Diagnostics("defective");
}

}  // namespace
