// The raw HTTP/1.1 cases (suites/http_cases.cc) run by `streamcheck run`
// against servers they can and cannot be judged on:
//
// - stubs (tests/http_servers/stub.py) that answer 404 to everything but the
//   ready path, close every case connection at once, or answer garbage: no
//   case may pass where it could not see what it needs;
// - real servers that follow RFC 9112, each with the verdict its behaviour
//   earns: nginx and HAProxy (targets/), uvicorn (h11), werkzeug and gunicorn
//   (sync) serving tests/http_servers/app.py, and the comparison servers that
//   proxy /directAccess/ (fastapi on uvicorn, flask on werkzeug, flask under
//   gunicorn). Where a real server breaks a MUST rule of the RFC, the expected
//   outcome is `fail` and the comment quotes the rule; anything else is `pass`.
//
// Every server is started by the run (its spec's command) and stopped with it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

constexpr int kRunTimeoutS = 240;

// Every raw HTTP/1.1 case: the area lists of suites/http_cases.cc.
std::vector<std::string> HttpCaseIds(const std::string& area = "") {
  std::vector<std::string> ids;
  for (auto part :
       {streamcheck::suites::HttpServerCases(), streamcheck::suites::HttpDirectCases()}) {
    for (const auto& c : part) {
      if (area.empty() || c.info.area == area) ids.push_back(c.info.id);
    }
  }
  return ids;
}

std::string Join(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "http-cases-XXXXXX").string();
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

struct Run {
  int exit_code = -1;
  std::string output;
  json report;
  // case id -> (outcome, message)
  std::map<std::string, std::pair<std::string, std::string>> results;
};

// `streamcheck run ARGS... --json`, bounded by `timeout`.
Run RunStreamcheck(const fs::path& dir, const std::vector<std::string>& args) {
  Run run;
  fs::path json_path = dir / "results.json", out_path = dir / "streamcheck.out";
  std::vector<std::string> argv = {"timeout", "--kill-after=10", std::to_string(kRunTimeoutS),
                                   STREAMCHECK_BIN, "run"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--json", json_path.string(), "--log-dir", (dir / "logs").string()});
  std::vector<char*> c_argv;
  for (auto& a : argv) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);
  std::vector<std::string> env = {"STREAMCHECK_ROOT=" STREAMCHECK_SOURCE_ROOT};
  for (char** e = environ; *e; ++e) {
    if (std::string(*e).rfind("STREAMCHECK_ROOT=", 0) != 0) env.push_back(*e);
  }
  std::vector<char*> c_env;
  for (auto& e : env) c_env.push_back(e.data());
  c_env.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, "timeout", &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    run.output = std::string("cannot start streamcheck: ") + std::strerror(err);
    return run;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  run.output = ReadFile(out_path);
  if (fs::exists(json_path)) run.report = json::parse(ReadFile(json_path), nullptr, false);
  if (run.report.is_object() && run.report.contains("results")) {
    for (const auto& r : run.report["results"]) {
      run.results[r.value("case", "")] = {r.value("outcome", ""), r.value("message", "")};
    }
  }
  return run;
}

fs::path WriteSpec(const fs::path& dir, const std::string& name, const json& command,
                   const json& features) {
  json spec = {{"name", name},          {"command", command},     {"ready_path", "/ping"},
               {"ready_timeout_s", 30}, {"backend_timeout_s", 3}, {"features", features}};
  fs::path path = dir / (name + ".json");
  std::ofstream(path) << spec.dump(2);
  return path;
}

std::string Outcomes(const Run& run) {
  std::string out;
  for (const auto& [id, r] : run.results)
    out += "  " + id + ": " + r.first + " — " + r.second.substr(0, 300) + "\n";
  return out + "--- output ---\n" + run.output;
}

// ---- stubs: never a pass on what a case cannot see ----

struct Stub {
  std::string kind;
  std::set<std::string> may_pass;  // cases that can see what they need on it
};

void PrintTo(const Stub& s, std::ostream* os) { *os << s.kind; }

class StubTest : public testing::TestWithParam<Stub> {};

TEST_P(StubTest, NoCasePassesOnWhatItCannotSee) {
  const auto& stub = GetParam();
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  auto spec =
      WriteSpec(dir.path(), "stub",
                {"/usr/bin/python3", "{root}/tests/http_servers/stub.py", stub.kind, "{port}"},
                {"chat", "direct_access"});
  auto run =
      RunStreamcheck(dir.path(), {"--target", spec.string(), "--cases", Join(HttpCaseIds())});
  for (const auto& id : HttpCaseIds()) {
    ASSERT_TRUE(run.results.count(id)) << "no result for " << id << "\n" << Outcomes(run);
    const auto& [outcome, message] = run.results.at(id);
    if (stub.may_pass.count(id)) continue;
    EXPECT_NE(outcome, "pass") << id << " passed on the " << stub.kind << " stub: " << message;
    EXPECT_FALSE(message.empty()) << id << " says nothing on the " << stub.kind << " stub";
  }
  std::cout << Outcomes(run).substr(0, Outcomes(run).find("--- output"));
}

INSTANTIATE_TEST_SUITE_P(
    Stubs, StubTest,
    testing::Values(
        // 200 on the ready path, 404 elsewhere: the cases that need only the
        // ready path can judge it (its slow-client handling, the INFO cases).
        Stub{"not-found", {"server.slow-clients", "server.header-size", "server.keep-alive"}},
        Stub{"closer", {}}, Stub{"garbage", {}}),
    [](const auto& param_info) {
      return streamcheck::testing_support::TestNameOf(param_info.param.kind);
    });

// ---- real servers ----

struct Real {
  std::string name;
  json command;  // empty: --target name (targets/NAME.json)
  json features;
  std::vector<std::string> cases;
  // case -> expected outcome where it is not `pass`, with the reason.
  std::map<std::string, std::string> expected;
};

void PrintTo(const Real& r, std::ostream* os) { *os << r.name; }

class RealServerTest : public testing::TestWithParam<Real> {};

TEST_P(RealServerTest, VerdictsFollowTheRfc) {
  const auto& real = GetParam();
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  std::string target = real.command.is_null()
                           ? real.name
                           : WriteSpec(dir.path(), real.name, real.command, real.features).string();
  auto run = RunStreamcheck(dir.path(), {"--target", target, "--cases", Join(real.cases)});
  for (const auto& id : real.cases) {
    ASSERT_TRUE(run.results.count(id)) << "no result for " << id << "\n" << Outcomes(run);
    const auto& [outcome, message] = run.results.at(id);
    auto it = real.expected.find(id);
    std::string want = it == real.expected.end() ? "pass" : it->second;
    EXPECT_EQ(outcome, want) << real.name << " " << id << ": " << message;
    std::cout << "[ verdict  ] " << real.name << " " << id << " -> " << outcome << ": "
              << message.substr(0, 200) << "\n";
  }
}

const std::string kApp = "{root}/tests/http_servers/app.py";

// Verdicts as each server earned them (Debian 12: nginx 1.22, HAProxy 2.6,
// uvicorn 0.17.6 with h11 0.14 and httptools 0.1.1, werkzeug 2.2.2, gunicorn
// 20.1). A `fail` is a MUST the server breaks, with the RFC's words.
std::vector<Real> RealServers() {
  auto server_cases = HttpCaseIds("server");
  auto direct_cases = HttpCaseIds("direct");
  direct_cases.push_back("direct.range");
  auto all = server_cases;
  all.insert(all.end(), direct_cases.begin(), direct_cases.end());
  // No body limit is configured (nginx's client_max_body_size 0, HAProxy and
  // the Python servers have none): a 1 TiB Content-Length is left waiting.
  const std::pair<std::string, std::string> no_limit = {"server.body-limits", "warn"};
  // RFC 9112 §6.1: "A server MUST NOT send a response containing
  // Transfer-Encoding unless the corresponding request indicates HTTP/1.1":
  // uvicorn's httptools protocol and werkzeug add chunked for any request
  // without looking at its version.
  const std::pair<std::string, std::string> chunked_to_http10 = {"server.http10", "fail"};
  // werkzeug and gunicorn's sync worker answer `Connection: close`: nothing to pipeline.
  const std::pair<std::string, std::string> closes = {"server.pipelining", "skip"};
  return {
      {"cpp", nullptr, nullptr, all, {}},
      {"nginx", nullptr, nullptr, all, {no_limit}},
      {"haproxy", nullptr, nullptr, all, {no_limit}},
      {"uvicorn",
       {"/usr/bin/python3", kApp, "uvicorn", "{port}"},
       {"direct_access"},
       server_cases,
       {
           // RFC 9112 §6.1: "Regardless, the server MUST close the connection
           // after responding to such a request": h11 reads CL+TE by TE
           // (no smuggling) but keeps the connection open.
           {"server.cl-te", "fail"},
           // h11 takes a 64 KiB field and 10,000 fields.
           {"server.large-header", "warn"},
           {"server.header-count", "warn"},
           no_limit,
       }},
      {"uvicorn-httptools",
       {"/usr/bin/python3", kApp, "uvicorn-httptools", "{port}"},
       {"direct_access"},
       server_cases,
       {
           // httptools takes `Transfer-Encoding: chunked` on two lines as one
           // chunked, and a 64 KiB field.
           {"server.transfer-encoding", "warn"},
           {"server.large-header", "warn"},
           chunked_to_http10,
           no_limit,
       }},
      {"werkzeug",
       {"/usr/bin/python3", kApp, "werkzeug", "{port}"},
       {"direct_access"},
       server_cases,
       {
           // RFC 9112 §6.3 item 5: differing Content-Lengths are invalid
           // framing, the server MUST answer 400; werkzeug takes the first.
           {"server.content-length", "fail"},
           // It reads `chunked, identity`, `xchunked` and two lines as chunked.
           {"server.transfer-encoding", "warn"},
           closes,
           chunked_to_http10,
           no_limit,
       }},
      {"gunicorn",
       {"/usr/bin/python3", "-m", "gunicorn", "-b", "127.0.0.1:{port}", "--chdir",
        "{root}/tests/http_servers", "app:wsgi"},
       {"direct_access"},
       server_cases,
       {
           // One sync worker: a slow client holds it (gunicorn's documented
           // reason to run behind a buffering proxy).
           {"server.slow-clients", "warn"},
           closes,
           no_limit,
       }},
      // The comparison servers as they proxy /directAccess/ (targets/).
      // uvicorn pinned to h11 (targets/fastapi/app.py), its guards in front.
      {"fastapi", nullptr, nullptr, all, {no_limit}},
      {"flask",
       nullptr,
       nullptr,
       direct_cases,
       {
           // RFC 9112 §2.2: a recipient of a bare CR "MUST consider that
           // element to be invalid or replace each bare CR with SP";
           // werkzeug (http.server's header parser) ends the line there, and
           // the app forwards `X-Injected: 3` to the backend as a header.
           {"direct.header-injection", "fail"},
       }},
      {"flask-gunicorn",
       nullptr,
       nullptr,
       direct_cases,
       {
           // RFC 9112 §8: when the connection closes before the Content-Length
           // is received, "the recipient MUST consider the message to be
           // incomplete"; gunicorn hands the app the 10 bytes that came of
           // 100 as the whole body, and the app sends them on, complete.
           {"direct.truncated-upload", "fail"},
       }},
  };
}

INSTANTIATE_TEST_SUITE_P(Servers, RealServerTest, testing::ValuesIn(RealServers()),
                         [](const auto& param_info) {
                           return streamcheck::testing_support::TestNameOf(param_info.param.name);
                         });

// ---- addresses: names and IPv6 literals ----

// A process of the test's own (the mock, the reference server), stopped with it.
class Spawned {
 public:
  Spawned(std::vector<std::string> argv, const fs::path& log) {
    std::vector<char*> c_argv;
    for (auto& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, c_argv[0], &actions, nullptr, c_argv.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Spawned() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  bool started() const { return pid_ > 0; }

 private:
  pid_t pid_ = 0;
};

// The port a process wrote to `file`, waited for (bounded); 0 when none came.
int PortFrom(const fs::path& file) {
  bool written = streamcheck::testing_support::PollUntil(
      [&] { return std::atoi(ReadFile(file).c_str()) > 0; }, std::chrono::seconds(20));
  return written ? std::atoi(ReadFile(file).c_str()) : 0;
}

// The raw-socket cases on a url target named by an IPv6 literal and by
// `localhost`: the reference server listens on [::1] only, so a client that
// took only IPv4 literals, or only a name's first address, could not judge.
TEST(HttpCasesAddresses, NamesAndIpv6LiteralsAreReached) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const fs::path bin = STREAMCHECK_BIN;
  Spawned mock(
      {bin.string(), "mock", "--port", "0", "--port-file", (dir.path() / "mock.port").string()},
      dir.path() / "mock.log");
  ASSERT_TRUE(mock.started());
  int mock_port = PortFrom(dir.path() / "mock.port");
  ASSERT_GT(mock_port, 0) << ReadFile(dir.path() / "mock.log");
  std::string mock_url = "http://127.0.0.1:" + std::to_string(mock_port);
  Spawned server({bin.string(), "serve", "--host", "::1", "--port", "0", "--port-file",
                  (dir.path() / "serve.port").string(), "--backend", mock_url},
                 dir.path() / "serve.log");
  ASSERT_TRUE(server.started());
  int port = PortFrom(dir.path() / "serve.port");
  ASSERT_GT(port, 0) << ReadFile(dir.path() / "serve.log");
  const std::vector<std::string> cases = {"server.request-line", "server.cl-te",
                                          "server.pipelining", "direct.header-injection"};
  for (const std::string host : {"[::1]", "localhost"}) {
    json spec = {{"name", "v6"},
                 {"url", "http://" + host + ":" + std::to_string(port)},
                 {"mock", {{"url", mock_url}}},
                 {"ready_path", "/ping"},
                 {"features", {"chat", "direct_access"}}};
    fs::path path = dir.path() / "v6.json";
    std::ofstream(path) << spec.dump(2);
    auto run = RunStreamcheck(dir.path(), {"--target", path.string(), "--cases", Join(cases)});
    for (const auto& id : cases) {
      ASSERT_TRUE(run.results.count(id)) << host << ": no result for " << id << "\n"
                                         << Outcomes(run);
      EXPECT_EQ(run.results.at(id).first, "pass")
          << host << " " << id << ": " << run.results.at(id).second;
    }
  }
}

}  // namespace
