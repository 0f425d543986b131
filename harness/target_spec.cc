#include "harness/target_spec.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string_view>

#include "common/json_bounded.h"
#include "mocks/mock_config.h"

namespace streamcheck::harness {
namespace {

using nlohmann::json;

const std::set<std::string> kPlaceholderNames = {
    "port", "host", "backend_url", "backend_host", "backend_port", "root", "bin"};
const std::set<std::string> kKeys = {"name",
                                     "command",
                                     "env",
                                     "url",
                                     "ready_path",
                                     "ready_timeout_s",
                                     "features",
                                     "backend_timeout_s",
                                     "description",
                                     "request_timeout_s",
                                     "max_upload_bytes",
                                     "stop_timeout_s",
                                     "mock",
                                     "backend",
                                     "headers",
                                     "model",
                                     "chat_path",
                                     "direct_prefix",
                                     "ca_file",
                                     "insecure",
                                     "http_version",
                                     "accept_encoding",
                                     "memory"};

// "host:port" with a port from 1 to 65535 ("[::1]:8000" for IPv6).
bool IsHostPort(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  for (std::size_t i = colon + 1; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  long port = std::strtol(s.c_str() + colon + 1, nullptr, 10);
  return port >= 1 && port <= 65535 && colon + 1 < s.size() && s.size() - colon <= 6;
}

bool IsHttpUrl(const std::string& s) {
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

// A header name as RFC 9110 §5.6.2 allows (a token); values must not hold
// CR, LF or NUL.
bool IsToken(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127 ||
        std::string_view("\"(),/:;<=>?@[\\]{}").find(char(c)) != std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// Replaces every ${NAME} in `value` with the environment's NAME.
Result<std::string> ExpandEnvironment(const std::string& value) {
  std::string out;
  for (std::size_t i = 0; i < value.size();) {
    if (value.compare(i, 2, "${") != 0) {
      out += value[i++];
      continue;
    }
    auto close = value.find('}', i);
    if (close == std::string::npos) return Error{"an unclosed ${ in a header value"};
    std::string name = value.substr(i + 2, close - i - 2);
    const char* env = std::getenv(name.c_str());
    if (!env)
      return Error{"the environment variable " + name + " (used as ${" + name + "}) is not set"};
    out += env;
    i = close + 1;
  }
  return out;
}

std::string Allowed(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Every placeholder in `text` must be known; values do not matter here.
Status CheckPlaceholders(const std::string& text) {
  Placeholders dummy;
  for (const auto& n : kPlaceholderNames) dummy[n] = "x";
  auto expanded = ExpandPlaceholders(text, dummy);
  if (!expanded) return Status::Failure(expanded.error());
  return Status::Ok();
}

}  // namespace

bool TargetSpec::HasFeature(const std::string& feature) const {
  return std::find(features.begin(), features.end(), feature) != features.end();
}

std::string TargetSpec::DirectPath(const std::string& rest) const {
  std::string tail = rest;
  while (!tail.empty() && tail.front() == '/') tail.erase(0, 1);
  return direct_prefix + tail;
}

Result<std::string> ExpandPlaceholders(const std::string& text, const Placeholders& values) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    bool doubled = i + 1 < text.size() && text[i + 1] == text[i];
    if ((text[i] == '{' || text[i] == '}') && doubled) {
      out += text[i];
      i += 2;
      continue;
    }
    if (text[i] != '{') {
      out += text[i++];
      continue;
    }
    auto close = text.find('}', i);
    if (close == std::string::npos) {
      return Error{"unclosed placeholder in \"" + text +
                   "\" (placeholders look like {port}; write {{ for a literal brace)"};
    }
    std::string name = text.substr(i + 1, close - i - 1);
    auto it = values.find(name);
    if (it == values.end()) {
      return Error{"unknown placeholder {" + name + "} in \"" + text + "\"; allowed: " +
                   Allowed(kPlaceholderNames) + " (write {{ and }} for literal braces)"};
    }
    out += it->second;
    i = close + 1;
  }
  return out;
}

Result<TargetSpec> ParseTargetSpec(const json& j, const std::string& origin) {
  auto fail = [&](const std::string& what) { return Error{origin + ": " + what}; };
  if (!j.is_object()) return fail("a target spec must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (!kKeys.count(key)) return fail("unknown key \"" + key + "\"; allowed: " + Allowed(kKeys));
  }
  TargetSpec spec;
  spec.origin = origin;
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty()) {
    return fail("\"name\" must be a non-empty string");
  }
  spec.name = j["name"];
  if (spec.name.find_first_of(" /\\\t") != std::string::npos) {
    return fail("\"name\" must not contain spaces or slashes (it names files and columns)");
  }
  bool has_command = j.contains("command");
  bool has_url = j.contains("url");
  if (has_command == has_url) {
    return fail(has_command ? "give \"command\" (a server to start) or \"url\" (one already "
                              "running), not both"
                            : "missing \"command\" (a server to start) or \"url\" (one already "
                              "running)");
  }
  if (has_command) {
    const auto& c = j["command"];
    if (!c.is_array() || c.empty() ||
        !std::all_of(c.begin(), c.end(), [](const json& a) { return a.is_string(); })) {
      return fail(
          "\"command\" must be a non-empty array of strings, e.g. [\"python3\", "
          "\"app.py\", \"--port\", \"{port}\"]");
    }
    for (const auto& arg : c) {
      spec.command.push_back(arg);
      if (auto s = CheckPlaceholders(arg); !s) return fail("\"command\": " + s.message());
    }
  }
  if (has_url) {
    if (!j["url"].is_string() || !IsHttpUrl(j["url"].get<std::string>())) {
      return fail("\"url\" must be a string starting with http:// or https://");
    }
    spec.url = j["url"];
    if (auto s = CheckPlaceholders(spec.url); !s) return fail("\"url\": " + s.message());
  }
  if (j.contains("mock")) {
    const auto& m = j["mock"];
    const bool listen = m.is_object() && m.contains("listen");
    const bool url = m.is_object() && m.contains("url");
    const bool config = m.is_object() && m.contains("config");
    if (!m.is_object() || m.size() != std::size_t(listen) + url + config || (listen && url) ||
        m.empty()) {
      return fail(
          "\"mock\" must be {\"listen\": \"HOST:PORT\"} (the harness starts its mock "
          "there) or {\"url\": \"http://HOST:PORT\"} (a running streamcheck mock), either "
          "with an optional \"config\": {...} of mock config keys (`streamcheck mock --help`)");
    }
    if (listen) {
      if (!m["listen"].is_string() || !IsHostPort(m["listen"].get<std::string>())) {
        return fail("\"mock\": \"listen\" must be \"HOST:PORT\", e.g. \"127.0.0.1:8000\"");
      }
      spec.mock_listen = m["listen"];
    } else if (url) {
      if (!m["url"].is_string() || m["url"].get<std::string>().rfind("http://", 0) != 0) {
        return fail("\"mock\": \"url\" must start with http://, e.g. \"http://127.0.0.1:8000\"");
      }
      spec.mock_url = m["url"];
    }
    if (config) {
      if (!m["config"].is_object()) {
        return fail("\"mock\": \"config\" must be an object of mock config keys");
      }
      if (auto checked = mocks::ConfigFromJson(m["config"]); !checked) {
        return fail("\"mock\": \"config\": " + checked.error());
      }
      spec.mock_defaults = m["config"];
    }
  }
  if (j.contains("backend")) {
    if (j["backend"] != "external") {
      return fail(
          "\"backend\" can only be \"external\" (the server keeps its real backend; only "
          "cases that need no mock run)");
    }
    if (j.contains("mock")) return fail("give \"mock\" or \"backend\": \"external\", not both");
    spec.external_backend = true;
  }
  if (has_url && spec.mock_listen.empty() && spec.mock_url.empty() && !spec.external_backend) {
    return fail(
        "a \"url\" target needs to say which backend its server calls: \"mock\": "
        "{\"listen\": \"127.0.0.1:8000\"} (the address its backend is configured to; the "
        "harness starts its mock there), \"mock\": {\"url\": \"http://127.0.0.1:8000\"} (a "
        "running `streamcheck mock`), or \"backend\": \"external\" (its real backend)");
  }
  if (j.contains("headers")) {
    const auto& h = j["headers"];
    if (!h.is_object()) return fail("\"headers\" must be an object of strings");
    for (const auto& [name, value] : h.items()) {
      if (!IsToken(name)) return fail("\"headers\": \"" + name + "\" is not a header name");
      if (!value.is_string() ||
          value.get<std::string>().find_first_of(std::string("\r\n\0", 3)) != std::string::npos) {
        return fail("\"headers\": the value of " + name +
                    " must be a string without CR, LF or NUL (${VAR} takes it from the "
                    "environment)");
      }
      spec.headers.emplace_back(name, value.get<std::string>());
    }
  }
  auto string_key = [&](const char* key, std::string& out, auto valid, const char* what) -> Status {
    if (!j.contains(key)) return Status::Ok();
    if (!j[key].is_string() || !valid(j[key].get<std::string>())) {
      return Status::Failure(std::string("\"") + key + "\" must be " + what);
    }
    out = j[key].get<std::string>();
    return Status::Ok();
  };
  auto non_empty = [](const std::string& v) { return !v.empty(); };
  auto absolute_path = [](const std::string& v) { return v.rfind('/', 0) == 0; };
  for (auto s :
       {string_key("model", spec.model, non_empty, "a non-empty string"),
        string_key("chat_path", spec.chat_path, absolute_path,
                   "a path starting with / (default /v1/chat/completions)"),
        string_key("direct_prefix", spec.direct_prefix, absolute_path,
                   "a path starting with / (default /directAccess/)"),
        string_key("ca_file", spec.ca_file, non_empty, "the path of a PEM file"),
        string_key(
            "http_version", spec.http_version,
            [](const std::string& v) { return v == "1.1" || v == "2"; }, "\"1.1\" or \"2\""),
        string_key("accept_encoding", spec.accept_encoding, non_empty,
                   "an Accept-Encoding value, e.g. \"gzip, deflate\" or \"identity\"")}) {
    if (!s) return fail(s.message());
  }
  if (!spec.direct_prefix.empty() && spec.direct_prefix.back() != '/') spec.direct_prefix += '/';
  if (j.contains("insecure")) {
    if (!j["insecure"].is_boolean()) return fail("\"insecure\" must be true or false");
    spec.insecure = j["insecure"];
  }
  if (j.contains("memory")) {
    const auto& m = j["memory"];
    if (!m.is_object() || m.size() != 1 || !m.contains("cgroup") || !m["cgroup"].is_string() ||
        m["cgroup"].get<std::string>().rfind('/', 0) != 0) {
      return fail(
          "\"memory\" must be {\"cgroup\": \"/sys/fs/cgroup/...\"} (the cgroup v2 folder "
          "that holds the server)");
    }
    spec.memory_cgroup = m["cgroup"];
  }
  if (j.contains("env")) {
    if (!j["env"].is_object()) return fail("\"env\" must be an object of strings");
    for (const auto& [k, v] : j["env"].items()) {
      if (!v.is_string()) return fail("\"env\": value of " + k + " must be a string");
      spec.env[k] = v;
      if (auto s = CheckPlaceholders(v); !s) return fail("\"env\": " + k + ": " + s.message());
    }
  }
  if (j.contains("ready_path")) {
    if (!j["ready_path"].is_string() || j["ready_path"].get<std::string>().rfind("/", 0) != 0) {
      return fail("\"ready_path\" must be a string starting with /");
    }
    spec.ready_path = j["ready_path"];
  }
  if (j.contains("ready_timeout_s")) {
    // Below 1 the int below would be 0: no readiness wait at all.
    if (!j["ready_timeout_s"].is_number() || j["ready_timeout_s"].get<double>() < 1 ||
        j["ready_timeout_s"].get<double>() > 600) {
      return fail("\"ready_timeout_s\" must be a number of seconds from 1 to 600");
    }
    spec.ready_timeout_s = static_cast<int>(j["ready_timeout_s"].get<double>());
  }
  if (j.contains("backend_timeout_s")) {
    const auto& t = j["backend_timeout_s"];
    if (!t.is_number() || t.get<double>() <= 0 || t.get<double>() > 300) {
      return fail(
          "\"backend_timeout_s\" must be a number of seconds above 0, at most 300 (how long "
          "the server waits for backend headers)");
    }
    spec.backend_timeout_s = t.get<double>();
  }
  // Optional seconds above 0, at most `max`; `what` says what they measure.
  auto seconds = [&](const char* key, double max, const char* what, double& out) -> Status {
    if (!j.contains(key)) return Status::Ok();
    const auto& t = j[key];
    if (!t.is_number() || t.get<double>() <= 0 || t.get<double>() > max) {
      return Status::Failure(std::string("\"") + key +
                             "\" must be a number of seconds above 0, at most " +
                             std::to_string(int(max)) + " (" + what + ")");
    }
    out = t.get<double>();
    return Status::Ok();
  };
  if (auto s = seconds("request_timeout_s", 3600, "the server's whole-request limit",
                       spec.request_timeout_s);
      !s) {
    return fail(s.message());
  }
  if (auto s = seconds("stop_timeout_s", 300, "how long the server may take to exit after SIGTERM",
                       spec.stop_timeout_s);
      !s) {
    return fail(s.message());
  }
  if (j.contains("max_upload_bytes")) {
    const auto& m = j["max_upload_bytes"];
    if (!m.is_number_unsigned() || m.get<std::uint64_t>() == 0) {
      return fail(
          "\"max_upload_bytes\" must be a whole number of bytes above 0 (request bodies above "
          "it get 413)");
    }
    spec.max_upload_bytes = m.get<std::uint64_t>();
  }
  if (j.contains("features")) {
    if (!j["features"].is_array()) return fail("\"features\" must be an array");
    spec.features.clear();
    for (const auto& f : j["features"]) {
      if (!f.is_string() ||
          std::find(kFeatures.begin(), kFeatures.end(), f.get<std::string>()) == kFeatures.end()) {
        return fail("\"features\": unknown feature " + f.dump() +
                    "; allowed: chat, direct_access, tools");
      }
      spec.features.push_back(f);
    }
  }
  return spec;
}

Result<TargetSpec> LoadTargetSpec(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return Error{path.string() + ": cannot read the target spec (does the file exist?)"};
  std::stringstream text;
  text << in.rdbuf();
  auto j = ParseJsonBounded(text.str());
  if (!j) return Error{path.string() + ": " + j.error()};
  return ParseTargetSpec(*j, path.string());
}

Result<TargetSpec> ExpandSpec(const TargetSpec& spec, const Placeholders& values,
                              const std::filesystem::path& root) {
  TargetSpec out = spec;
  out.command.clear();
  for (std::size_t i = 0; i < spec.command.size(); ++i) {
    const std::string& arg = spec.command[i];
    auto expanded = ExpandPlaceholders(arg, values);
    if (!expanded) return Error{spec.origin + ": " + expanded.error()};
    std::string value = *expanded;
    // Only what names an existing file under the root counts as a relative
    // path: an inline program (`python3 -c "..."`) may contain slashes too.
    bool relative_path = arg.find('/') != std::string::npos && arg.front() != '/' &&
                         arg.front() != '{' && arg.front() != '-' &&
                         arg.find_first_of(" \n\t") == std::string::npos;
    std::error_code ec;
    if (relative_path && std::filesystem::exists(root / value, ec)) {
      value = (root / value).string();
    }
    out.command.push_back(value);
  }
  for (auto& [k, v] : out.env) {
    auto expanded = ExpandPlaceholders(v, values);
    if (!expanded) return Error{spec.origin + ": " + expanded.error()};
    v = *expanded;
  }
  if (!spec.url.empty()) {
    auto expanded = ExpandPlaceholders(spec.url, values);
    if (!expanded) return Error{spec.origin + ": " + expanded.error()};
    out.url = *expanded;
  }
  for (auto& [name, value] : out.headers) {
    auto expanded = ExpandEnvironment(value);
    if (!expanded) return Error{spec.origin + ": \"headers\": " + name + ": " + expanded.error()};
    value = *expanded;
  }
  return out;
}

Status CheckEnvironment(const TargetSpec& spec) {
  for (const auto& [name, value] : spec.headers) {
    if (auto expanded = ExpandEnvironment(value); !expanded) {
      return Status::Failure(spec.origin + ": \"headers\": " + name + ": " + expanded.error() +
                             "; set it, or change the spec");
    }
  }
  return Status::Ok();
}

TargetSpec BuiltinCppSpec() {
  TargetSpec spec;
  spec.name = "cpp";
  spec.command = {"{bin}/streamcheck",
                  "serve",
                  "--port",
                  "{port}",
                  "--backend",
                  "{backend_url}",
                  "--backend-headers-timeout-ms",
                  "3000",
                  "--backend-connect-timeout-ms",
                  "10000",
                  "--processes",
                  "2",
                  "--io-threads",
                  "1",
                  "--max-body-bytes",
                  "1073741824"};
  spec.backend_timeout_s = 3;
  // Its header timeout (--header-timeout-ms): a stream must outlive it.
  spec.request_timeout_s = 10;
  spec.max_upload_bytes = 1073741824;
  spec.stop_timeout_s = 5;
  spec.features = {"chat", "direct_access", "tools"};
  spec.ready_path = "/ping";
  spec.ready_timeout_s = 30;
  spec.origin = "built-in";
  return spec;
}

Result<std::vector<TargetSpec>> ResolveTargets(const std::vector<std::string>& args,
                                               const std::filesystem::path& root) {
  std::vector<TargetSpec> specs;
  auto targets_dir = root / "targets";
  for (const auto& arg : args) {
    if (arg == "all") {
      std::vector<std::filesystem::path> files;
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(targets_dir, ec)) {
        if (entry.path().extension() == ".json") files.push_back(entry.path());
      }
      if (ec || files.empty()) {
        return Error{"--target all: no target specs (*.json) in " + targets_dir.string()};
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        auto spec = LoadTargetSpec(f);
        if (!spec) return Error{spec.error()};
        specs.push_back(*spec);
      }
      continue;
    }
    bool is_path = arg.find('/') != std::string::npos ||
                   (arg.size() > 5 && arg.substr(arg.size() - 5) == ".json");
    if (!is_path && arg == "cpp" && !std::filesystem::exists(targets_dir / "cpp.json")) {
      specs.push_back(BuiltinCppSpec());
      continue;
    }
    auto path = is_path ? std::filesystem::path(arg) : targets_dir / (arg + ".json");
    if (!is_path && !std::filesystem::exists(path)) {
      return Error{"--target " + arg + ": no spec " + path.string() +
                   "; give a name from targets/, a path to a .json spec, or all"};
    }
    auto spec = LoadTargetSpec(path);
    if (!spec) return Error{spec.error()};
    specs.push_back(*spec);
  }
  std::set<std::string> names;
  for (const auto& s : specs) {
    if (!names.insert(s.name).second) {
      return Error{"two targets are named \"" + s.name + "\"; names must be unique in a run"};
    }
  }
  return specs;
}

}  // namespace streamcheck::harness
