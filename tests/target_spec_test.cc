#include "harness/target_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

namespace streamcheck::harness {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

json ValidSpec() {
  return json::parse(R"({
    "name": "fastapi",
    "description": "a FastAPI port",
    "command": ["python3", "targets/fastapi/app.py", "--port", "{port}"],
    "env": {"OPENAI_HOST": "{backend_host}", "OPENAI_PORT": "{backend_port}"},
    "ready_path": "/ping",
    "ready_timeout_s": 45,
    "backend_timeout_s": 2.5,
    "features": ["chat", "direct_access"]
  })");
}

// The error of parsing `spec` as if it came from "targets/x.json".
std::string ParseError(const json& spec) {
  auto parsed = ParseTargetSpec(spec, "targets/x.json");
  EXPECT_FALSE(parsed.ok()) << "parsed: " << spec.dump();
  return parsed.ok() ? std::string() : parsed.error();
}

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "target_spec_test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path Write(const std::string& relative, const std::string& text) const {
    fs::path file = path_ / relative;
    fs::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file;
  }

 private:
  fs::path path_;
};

std::string SpecText(const std::string& name) {
  return json{{"name", name}, {"url", "http://127.0.0.1:9"}, {"backend", "external"}}.dump();
}

TEST(TargetSpecTest, ParsesAValidSpec) {
  auto parsed = ParseTargetSpec(ValidSpec(), "targets/fastapi.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  const TargetSpec& spec = *parsed;
  EXPECT_EQ(spec.name, "fastapi");
  EXPECT_THAT(spec.command, ElementsAre("python3", "targets/fastapi/app.py", "--port", "{port}"));
  EXPECT_EQ(spec.env.at("OPENAI_HOST"), "{backend_host}");
  EXPECT_EQ(spec.env.at("OPENAI_PORT"), "{backend_port}");
  EXPECT_EQ(spec.ready_path, "/ping");
  EXPECT_EQ(spec.ready_timeout_s, 45);
  EXPECT_DOUBLE_EQ(spec.backend_timeout_s, 2.5);
  EXPECT_THAT(spec.features, ElementsAre("chat", "direct_access"));
  EXPECT_EQ(spec.origin, "targets/fastapi.json");
  EXPECT_TRUE(spec.managed());
  EXPECT_TRUE(spec.url.empty());
  EXPECT_TRUE(spec.HasFeature("chat"));
  EXPECT_FALSE(spec.HasFeature("server"));
}

TEST(TargetSpecTest, DefaultsAndUrlTargets) {
  auto parsed = ParseTargetSpec({{"name", "remote"},
                                 {"url", "http://10.0.0.1:8080"},
                                 {"mock", {{"listen", "127.0.0.1:8000"}}}},
                                "cli");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_FALSE(parsed->managed());
  EXPECT_EQ(parsed->url, "http://10.0.0.1:8080");
  EXPECT_EQ(parsed->ready_path, "/ping");
  EXPECT_EQ(parsed->ready_timeout_s, 30);
  EXPECT_DOUBLE_EQ(parsed->backend_timeout_s, 10);
  EXPECT_THAT(parsed->features, ElementsAre("chat", "direct_access"));

  json only_chat = ValidSpec();
  only_chat["features"] = {"chat"};
  auto chat = ParseTargetSpec(only_chat, "x");
  ASSERT_TRUE(chat.ok()) << chat.error();
  EXPECT_TRUE(chat->HasFeature("chat"));
  EXPECT_FALSE(chat->HasFeature("direct_access"));
}

TEST(TargetSpecTest, UnknownKeyNamesOriginKeyAndAllowed) {
  json spec = ValidSpec();
  spec["readyPath"] = "/ping";
  EXPECT_THAT(ParseError(spec),
              AllOf(HasSubstr("targets/x.json"), HasSubstr("unknown key \"readyPath\""),
                    HasSubstr("allowed:"), HasSubstr("ready_path"), HasSubstr("command"),
                    HasSubstr("features")));
}

TEST(TargetSpecTest, NeedsExactlyOneOfCommandAndUrl) {
  json neither = ValidSpec();
  neither.erase("command");
  EXPECT_THAT(ParseError(neither), AllOf(HasSubstr("targets/x.json"), HasSubstr("missing"),
                                         HasSubstr("\"command\""), HasSubstr("\"url\"")));
  json both = ValidSpec();
  both["url"] = "http://127.0.0.1:1";
  EXPECT_THAT(ParseError(both), AllOf(HasSubstr("targets/x.json"), HasSubstr("\"command\""),
                                      HasSubstr("\"url\""), HasSubstr("not both")));
}

TEST(TargetSpecTest, CommandMustBeANonEmptyArrayOfStrings) {
  for (const json& command :
       {json("python3 app.py"), json::array(), json({"python3", 5}), json({{"a", "b"}})}) {
    SCOPED_TRACE(command.dump());
    json spec = ValidSpec();
    spec["command"] = command;
    EXPECT_THAT(ParseError(spec),
                AllOf(HasSubstr("targets/x.json"), HasSubstr("\"command\""),
                      HasSubstr("non-empty array of strings"), HasSubstr("e.g.")));
  }
}

TEST(TargetSpecTest, UnknownPlaceholderIsNamedWithTheAllowedOnes) {
  json spec = ValidSpec();
  spec["command"] = {"python3", "app.py", "--port", "{nope}"};
  EXPECT_THAT(ParseError(spec),
              AllOf(HasSubstr("targets/x.json"), HasSubstr("\"command\""),
                    HasSubstr("unknown placeholder {nope}"), HasSubstr("allowed:"),
                    HasSubstr("backend_url"), HasSubstr("port")));
  json env = ValidSpec();
  env["env"]["X"] = "{backend_uri}";
  EXPECT_THAT(ParseError(env),
              AllOf(HasSubstr("\"env\""), HasSubstr("X"), HasSubstr("{backend_uri}")));
  json url = ValidSpec();
  url.erase("command");
  url["url"] = "http://{hots}:1";
  url["backend"] = "external";
  EXPECT_THAT(ParseError(url), AllOf(HasSubstr("\"url\""), HasSubstr("{hots}")));
}

// A url target says which backend its server calls; each kind is checked.
TEST(TargetSpecTest, BackendKinds) {
  json url = {{"name", "u"}, {"url", "http://127.0.0.1:8080"}};
  EXPECT_THAT(ParseError(url),
              AllOf(HasSubstr("needs to say which backend"), HasSubstr("\"mock\": {\"listen\""),
                    HasSubstr("\"backend\": \"external\"")));
  url["mock"] = {{"listen", "127.0.0.1:8000"}};
  auto listen = ParseTargetSpec(url, "x");
  ASSERT_TRUE(listen.ok()) << listen.error();
  EXPECT_EQ(listen->mock_listen, "127.0.0.1:8000");
  EXPECT_TRUE(listen->mocked());
  url["mock"] = {{"url", "http://127.0.0.1:8000"}};
  auto remote = ParseTargetSpec(url, "x");
  ASSERT_TRUE(remote.ok()) << remote.error();
  EXPECT_EQ(remote->mock_url, "http://127.0.0.1:8000");
  url.erase("mock");
  url["backend"] = "external";
  auto external = ParseTargetSpec(url, "x");
  ASSERT_TRUE(external.ok()) << external.error();
  EXPECT_FALSE(external->mocked());
  for (json bad : {json{{"listen", "8000"}}, json{{"listen", "h:99999"}}, json{{"url", "x"}},
                   json{{"listen", "h:1"}, {"url", "http://h:1"}}, json("127.0.0.1:8000")}) {
    json spec = {{"name", "u"}, {"url", "http://127.0.0.1:8080"}, {"mock", bad}};
    EXPECT_THAT(ParseError(spec), HasSubstr("\"mock\"")) << bad.dump();
  }
  json both = {
      {"name", "u"}, {"url", "http://h:1"}, {"backend", "external"}, {"mock", {{"listen", "h:2"}}}};
  EXPECT_THAT(ParseError(both), HasSubstr("not both"));
  json other = {{"name", "u"}, {"url", "http://h:1"}, {"backend", "real"}};
  EXPECT_THAT(ParseError(other), HasSubstr("\"backend\" can only be \"external\""));
}

TEST(TargetSpecTest, MockDefaultsAreMockConfigKeysCheckedAtParse) {
  json spec = {{"name", "c"},
               {"command", {"srv"}},
               {"mock", {{"config", {{"compress", "gzip"}, {"size_mb", 2}}}}}};
  auto parsed = ParseTargetSpec(spec, "x.json");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->mock_defaults, json({{"compress", "gzip"}, {"size_mb", 2}}));
  EXPECT_TRUE(parsed->mock_listen.empty());
  spec["mock"] = {{"listen", "127.0.0.1:8000"}, {"config", {{"token_count", 4}}}};
  ASSERT_TRUE(ParseTargetSpec(spec, "x.json").ok());
  spec["mock"] = {{"config", {{"chunk_size", -1}}}};
  EXPECT_THAT(ParseError(spec), AllOf(HasSubstr("\"mock\": \"config\""), HasSubstr("chunk_size")));
  spec["mock"] = {{"config", {{"no_such_key", 1}}}};
  EXPECT_THAT(ParseError(spec), HasSubstr("no_such_key"));
  spec["mock"] = {{"config", "gzip"}};
  EXPECT_THAT(ParseError(spec), HasSubstr("an object of mock config keys"));
  spec["mock"] = json::object();
  EXPECT_THAT(ParseError(spec), HasSubstr("\"mock\" must be"));
  // A url target still has to say where its backend is: defaults alone do not.
  json url = {{"name", "u"}, {"url", "http://h:1"}, {"mock", {{"config", json::object()}}}};
  EXPECT_THAT(ParseError(url), HasSubstr("needs to say which backend"));
}

TEST(TargetSpecTest, RequestKeys) {
  json spec = ValidSpec();
  spec["headers"] = {{"Authorization", "Bearer ${STREAMCHECK_TEST_TOKEN}"}, {"X-Team", "llm"}};
  spec["model"] = "meta/llama3";
  spec["chat_path"] = "/deployments/abc/chat/completions";
  spec["direct_prefix"] = "/deployments/abc/directAccess";
  spec["ca_file"] = "/etc/ssl/ca.pem";
  spec["insecure"] = true;
  spec["http_version"] = "2";
  spec["accept_encoding"] = "identity";
  spec["memory"] = {{"cgroup", "/sys/fs/cgroup/system.slice/docker-1.scope"}};
  spec["features"] = {"chat", "tools"};
  auto parsed = ParseTargetSpec(spec, "x");
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->model, "meta/llama3");
  EXPECT_EQ(parsed->chat_path, "/deployments/abc/chat/completions");
  EXPECT_EQ(parsed->direct_prefix, "/deployments/abc/directAccess/") << "a slash is added";
  EXPECT_EQ(parsed->DirectPath("/large-file"), "/deployments/abc/directAccess/large-file");
  EXPECT_EQ(parsed->http_version, "2");
  EXPECT_TRUE(parsed->insecure);
  EXPECT_EQ(parsed->accept_encoding, "identity");
  EXPECT_EQ(parsed->memory_cgroup, "/sys/fs/cgroup/system.slice/docker-1.scope");
  EXPECT_TRUE(parsed->HasFeature("tools"));

  // ${VAR} comes from the environment when the spec is expanded.
  setenv("STREAMCHECK_TEST_TOKEN", "s3cret", 1);
  const Placeholders values = {{"port", "1"},         {"host", "h"},         {"backend_url", "u"},
                               {"backend_host", "h"}, {"backend_port", "2"}, {"root", "/"},
                               {"bin", "/b"}};
  auto expanded = ExpandSpec(*parsed, values, "/");
  ASSERT_TRUE(expanded.ok()) << expanded.error();
  EXPECT_EQ(expanded->headers[0].second, "Bearer s3cret");
  unsetenv("STREAMCHECK_TEST_TOKEN");
  auto missing = ExpandSpec(*parsed, values, "/");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), AllOf(HasSubstr("Authorization"),
                                     HasSubstr("STREAMCHECK_TEST_TOKEN"), HasSubstr("not set")));

  for (auto [key, value, says] : std::vector<std::tuple<const char*, json, const char*>>{
           {"headers", json{{"Bad Name", "x"}}, "not a header name"},
           {"headers", json{{"X", "a\r\nInjected: 1"}}, "without CR, LF or NUL"},
           {"headers", json::array(), "object of strings"},
           {"chat_path", "chat", "starting with /"},
           {"http_version", "3", "\"1.1\" or \"2\""},
           {"insecure", "yes", "true or false"},
           {"memory", json{{"cgroup", "relative"}}, "cgroup v2 folder"},
           {"model", "", "non-empty"}}) {
    json bad = ValidSpec();
    bad[key] = value;
    EXPECT_THAT(ParseError(bad), HasSubstr(says)) << key;
  }
}

TEST(TargetSpecTest, UnclosedPlaceholder) {
  json spec = ValidSpec();
  spec["command"] = {"python3", "app.py", "--port", "{port"};
  EXPECT_THAT(ParseError(spec),
              AllOf(HasSubstr("targets/x.json"), HasSubstr("\"command\""), HasSubstr("unclosed"),
                    HasSubstr("{port"), HasSubstr("look like {port}")));
}

TEST(TargetSpecTest, BadFeatures) {
  json spec = ValidSpec();
  spec["features"] = {"chat", "websockets"};
  EXPECT_THAT(ParseError(spec), AllOf(HasSubstr("targets/x.json"), HasSubstr("\"features\""),
                                      HasSubstr("unknown feature \"websockets\""),
                                      HasSubstr("allowed: chat, direct_access")));
  spec["features"] = "chat";
  EXPECT_THAT(ParseError(spec), AllOf(HasSubstr("\"features\""), HasSubstr("array")));
  spec["features"] = {1};
  EXPECT_THAT(ParseError(spec), HasSubstr("unknown feature 1"));
}

TEST(TargetSpecTest, BadReadyTimeout) {
  for (const json& value : {json(0), json(-5), json(601), json("30"), json(true)}) {
    SCOPED_TRACE(value.dump());
    json spec = ValidSpec();
    spec["ready_timeout_s"] = value;
    EXPECT_THAT(ParseError(spec), AllOf(HasSubstr("targets/x.json"),
                                        HasSubstr("\"ready_timeout_s\""), HasSubstr("1 to 600")));
  }
  json ok = ValidSpec();
  ok["ready_timeout_s"] = 600;
  EXPECT_TRUE(ParseTargetSpec(ok, "x").ok());
}

// Was a bug in harness/target_spec.cc: "ready_timeout_s": 0.5 passed the
// check (> 0) and was truncated to 0, a readiness wait of no time at all,
// although the message says 1 to 600.
TEST(TargetSpecTest, ReadyTimeoutBelowOneSecondIsRejected) {
  json spec = ValidSpec();
  spec["ready_timeout_s"] = 0.5;
  EXPECT_THAT(ParseError(spec), HasSubstr("1 to 600"));
}

TEST(TargetSpecTest, OtherFieldErrors) {
  json name = ValidSpec();
  name["name"] = "";
  EXPECT_THAT(ParseError(name), HasSubstr("\"name\" must be a non-empty string"));
  name["name"] = "my server";
  EXPECT_THAT(ParseError(name), HasSubstr("spaces or slashes"));
  name.erase("name");
  EXPECT_THAT(ParseError(name), HasSubstr("\"name\""));

  json ready = ValidSpec();
  ready["ready_path"] = "ping";
  EXPECT_THAT(ParseError(ready), HasSubstr("\"ready_path\" must be a string starting with /"));

  json url = ValidSpec();
  url.erase("command");
  url["url"] = "ftp://example.com";
  EXPECT_THAT(ParseError(url),
              HasSubstr("\"url\" must be a string starting with http:// or https://"));

  json env = ValidSpec();
  env["env"] = {{"PORT", 8080}};
  EXPECT_THAT(ParseError(env),
              AllOf(HasSubstr("\"env\""), HasSubstr("PORT"), HasSubstr("must be a string")));
  env["env"] = {"A=B"};
  EXPECT_THAT(ParseError(env), HasSubstr("\"env\" must be an object"));

  json backend = ValidSpec();
  backend["backend_timeout_s"] = 0;
  EXPECT_THAT(ParseError(backend), HasSubstr("\"backend_timeout_s\""));
  backend["backend_timeout_s"] = 301;
  EXPECT_THAT(ParseError(backend), HasSubstr("\"backend_timeout_s\""));

  EXPECT_THAT(ParseError(json::array()), HasSubstr("must be a JSON object"));
}

TEST(TargetSpecTest, LoadTargetSpecErrors) {
  TempDir dir;
  auto missing = LoadTargetSpec(dir.path() / "nope.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(),
              AllOf(HasSubstr((dir.path() / "nope.json").string()), HasSubstr("cannot read")));

  auto bad = dir.Write("bad.json", "{\"name\": \"x\", ");
  auto invalid = LoadTargetSpec(bad);
  ASSERT_FALSE(invalid.ok());
  EXPECT_THAT(invalid.error(), AllOf(HasSubstr(bad.string()), HasSubstr("not valid JSON")));

  auto good = dir.Write("good.json", ValidSpec().dump());
  auto loaded = LoadTargetSpec(good);
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->origin, good.string());

  json unknown = ValidSpec();
  unknown["colour"] = "blue";
  auto with_unknown = dir.Write("unknown.json", unknown.dump());
  auto rejected = LoadTargetSpec(with_unknown);
  ASSERT_FALSE(rejected.ok());
  EXPECT_THAT(rejected.error(), AllOf(HasSubstr(with_unknown.string()), HasSubstr("\"colour\"")));
}

// Hostile specs end as clear errors, never a crash or an "internal error":
// nesting deep enough to overflow a recursive walk, a number out of range.
TEST(TargetSpecTest, DeepNestingAndHugeNumbersAreErrors) {
  TempDir dir;
  std::string deep = R"({"name": "x", "command": ["y"], "features": )" + std::string(200000, '[') +
                     std::string(200000, ']') + "}";
  auto nested = LoadTargetSpec(dir.Write("deep.json", deep));
  ASSERT_FALSE(nested.ok());
  EXPECT_THAT(nested.error(), AllOf(HasSubstr("deep.json"), HasSubstr("levels deep")));

  auto huge = LoadTargetSpec(
      dir.Write("huge.json", R"({"name": "x", "command": ["y"], "ready_timeout_s": 1e400})"));
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.error(), AllOf(HasSubstr("huge.json"), HasSubstr("not valid JSON")));
}

TEST(TargetSpecTest, ExpandPlaceholders) {
  Placeholders values = {{"port", "8080"}, {"host", "127.0.0.1"}, {"root", "/r"}};
  auto expanded = ExpandPlaceholders("http://{host}:{port}/x/{port}", values);
  ASSERT_TRUE(expanded.ok()) << expanded.error();
  EXPECT_EQ(*expanded, "http://127.0.0.1:8080/x/8080");
  EXPECT_EQ(*ExpandPlaceholders("no placeholders", values), "no placeholders");
  EXPECT_EQ(*ExpandPlaceholders("", values), "");
  EXPECT_EQ(*ExpandPlaceholders("{root}", values), "/r");
  // Closing braces alone are text.
  EXPECT_EQ(*ExpandPlaceholders("a}b", values), "a}b");

  auto unknown = ExpandPlaceholders("--x={bin}", values);  // known name, no value given
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error(), AllOf(HasSubstr("{bin}"), HasSubstr("--x={bin}")));
  auto unclosed = ExpandPlaceholders("x{port", values);
  ASSERT_FALSE(unclosed.ok());
  EXPECT_THAT(unclosed.error(), HasSubstr("unclosed"));
  EXPECT_FALSE(ExpandPlaceholders("{}", values).ok());
  // Doubled braces are literal ones: runtime parameters are JSON values.
  EXPECT_EQ(*ExpandPlaceholders(R"({{"type": "string", "payload": "{port}"}})", values),
            R"({"type": "string", "payload": "8080"})");
  EXPECT_EQ(*ExpandPlaceholders("}}{{", values), "}{");
}

TEST(TargetSpecTest, ExpandSpecResolvesRelativePathsAgainstRoot) {
  TempDir root;
  root.Write("targets/app.py", "print()");
  root.Write("rel/y", "");
  root.Write("x.py", "");
  const std::string r = root.path().string();
  TargetSpec spec;
  spec.name = "t";
  spec.origin = "targets/t.json";
  spec.command = {
      "python3", "targets/app.py", "{bin}/streamcheck", "/usr/bin/env", "--conf=a/b",  "-c",
      "--port",  "{port}",         "{root}/x.py",       "rel/y",        "not/there.py"};
  spec.env = {{"OPENAI_HOST", "{backend_host}"}, {"LITERAL", "rel/y"}};
  Placeholders values = {
      {"port", "4000"}, {"bin", "/opt/sc/bin"}, {"root", r}, {"backend_host", "127.0.0.1"}};
  auto expanded = ExpandSpec(spec, values, root.path());
  ASSERT_TRUE(expanded.ok()) << expanded.error();
  EXPECT_THAT(
      expanded->command,
      ElementsAre("python3", r + "/targets/app.py", "/opt/sc/bin/streamcheck", "/usr/bin/env",
                  "--conf=a/b", "-c", "--port", "4000", r + "/x.py", r + "/rel/y", "not/there.py"));
  EXPECT_EQ(expanded->env.at("OPENAI_HOST"), "127.0.0.1");
  EXPECT_EQ(expanded->env.at("LITERAL"), "rel/y") << "env values are not paths";
  EXPECT_EQ(spec.command[1], "targets/app.py") << "the input spec is left alone";

  TargetSpec url;
  url.name = "u";
  url.url = "http://{host}:{port}";
  auto expanded_url = ExpandSpec(url, {{"host", "h"}, {"port", "1"}}, root.path());
  ASSERT_TRUE(expanded_url.ok()) << expanded_url.error();
  EXPECT_EQ(expanded_url->url, "http://h:1");

  spec.command.push_back("{backend_url}");  // no value for it
  auto failed = ExpandSpec(spec, values, root.path());
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error(), AllOf(HasSubstr("targets/t.json"), HasSubstr("{backend_url}")));
}

TEST(TargetSpecTest, ExpandSpecLeavesUrlsAndInlineProgramsAlone) {
  TempDir root;
  root.Write("a/b", "");
  TargetSpec spec;
  spec.name = "t";
  spec.command = {"python3", "-c", "import os; print(os.path.join('a/b'))", "--backend",
                  "http://127.0.0.1:9000/v1"};
  auto expanded = ExpandSpec(spec, {}, root.path());
  ASSERT_TRUE(expanded.ok()) << expanded.error();
  EXPECT_EQ(expanded->command, spec.command);
}

TEST(TargetSpecTest, ResolveTargetsByNamePathAndAll) {
  TempDir root;
  root.Write("targets/alpha.json", SpecText("alpha"));
  root.Write("targets/beta.json", SpecText("beta"));
  root.Write("targets/README.md", "not a spec");
  auto elsewhere = root.Write("other/gamma.json", SpecText("gamma"));

  auto by_name = ResolveTargets({"beta"}, root.path());
  ASSERT_TRUE(by_name.ok()) << by_name.error();
  ASSERT_EQ(by_name->size(), 1u);
  EXPECT_EQ((*by_name)[0].name, "beta");
  EXPECT_EQ((*by_name)[0].origin, (root.path() / "targets/beta.json").string());

  auto by_path = ResolveTargets({elsewhere.string()}, root.path());
  ASSERT_TRUE(by_path.ok()) << by_path.error();
  EXPECT_EQ((*by_path)[0].name, "gamma");

  auto all = ResolveTargets({"all"}, root.path());
  ASSERT_TRUE(all.ok()) << all.error();
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "alpha");  // sorted by file name
  EXPECT_EQ((*all)[1].name, "beta");

  auto several = ResolveTargets({"alpha", elsewhere.string()}, root.path());
  ASSERT_TRUE(several.ok()) << several.error();
  EXPECT_EQ(several->size(), 2u);

  // "cpp" without targets/cpp.json is the built-in spec.
  auto cpp = ResolveTargets({"cpp"}, root.path());
  ASSERT_TRUE(cpp.ok()) << cpp.error();
  EXPECT_EQ((*cpp)[0].origin, "built-in");

  auto none = ResolveTargets({}, root.path());
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(TargetSpecTest, ResolveTargetsErrors) {
  TempDir root;
  root.Write("targets/alpha.json", SpecText("alpha"));
  root.Write("targets/copy.json", SpecText("alpha"));  // same name, other file

  auto unknown = ResolveTargets({"nginx"}, root.path());
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error(),
              AllOf(HasSubstr("--target nginx"), HasSubstr("nginx.json"), HasSubstr("all")));

  auto duplicate = ResolveTargets({"all"}, root.path());
  ASSERT_FALSE(duplicate.ok());
  EXPECT_THAT(duplicate.error(), AllOf(HasSubstr("\"alpha\""), HasSubstr("unique")));
  auto twice = ResolveTargets({"alpha", "alpha"}, root.path());
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.error(), HasSubstr("\"alpha\""));

  auto missing_path = ResolveTargets({"/nonexistent/dir/spec.json"}, root.path());
  ASSERT_FALSE(missing_path.ok());
  EXPECT_THAT(missing_path.error(), HasSubstr("/nonexistent/dir/spec.json"));

  TempDir empty;
  auto no_specs = ResolveTargets({"all"}, empty.path());
  ASSERT_FALSE(no_specs.ok());
  EXPECT_THAT(no_specs.error(), AllOf(HasSubstr("--target all"), HasSubstr("no target specs")));

  root.Write("targets/broken.json", R"({"name": "broken", "url": "http://x", "extra": 1})");
  auto broken = ResolveTargets({"broken"}, root.path());
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.error(), AllOf(HasSubstr("broken.json"), HasSubstr("\"extra\"")));
}

TEST(TargetSpecTest, BuiltinCppSpecMatchesTargetsCppJson) {
  TargetSpec builtin = BuiltinCppSpec();
  EXPECT_EQ(builtin.name, "cpp");
  EXPECT_EQ(builtin.origin, "built-in");
  EXPECT_TRUE(builtin.managed());
  EXPECT_THAT(builtin.command, ::testing::Contains("{port}"));
  EXPECT_THAT(builtin.command, ::testing::Contains("{backend_url}"));
  EXPECT_EQ(builtin.command.front(), "{bin}/streamcheck");
  EXPECT_TRUE(builtin.HasFeature("chat"));
  EXPECT_TRUE(builtin.HasFeature("direct_access"));

  auto file = LoadTargetSpec(fs::path(STREAMCHECK_SOURCE_ROOT) / "targets" / "cpp.json");
  ASSERT_TRUE(file.ok()) << file.error();
  EXPECT_EQ(file->command, builtin.command);
  EXPECT_EQ(file->ready_path, builtin.ready_path);
  EXPECT_EQ(file->ready_timeout_s, builtin.ready_timeout_s);
  EXPECT_DOUBLE_EQ(file->backend_timeout_s, builtin.backend_timeout_s);
  EXPECT_EQ(file->features, builtin.features);

  // Its placeholders all expand.
  Placeholders values = {{"port", "1"},         {"host", "h"},         {"backend_url", "http://b"},
                         {"backend_host", "b"}, {"backend_port", "2"}, {"root", "/r"},
                         {"bin", "/b"}};
  auto expanded = ExpandSpec(builtin, values, "/r");
  ASSERT_TRUE(expanded.ok()) << expanded.error();
  EXPECT_EQ(expanded->command.front(), "/b/streamcheck");
}

TEST(TargetSpecTest, EveryShippedSpecParses) {
  auto all = ResolveTargets({"all"}, STREAMCHECK_SOURCE_ROOT);
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_GE(all->size(), 3u);
  for (const auto& spec : *all) {
    SCOPED_TRACE(spec.origin);
    Placeholders values = {
        {"port", "1"},         {"host", "h"},         {"backend_url", "http://b"},
        {"backend_host", "b"}, {"backend_port", "2"}, {"root", "/r"},
        {"bin", "/b"}};
    EXPECT_TRUE(ExpandSpec(spec, values, "/r").ok());
  }
}

}  // namespace
}  // namespace streamcheck::harness
