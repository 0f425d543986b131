// Target specs (targets/*.json): how to start a server under test, or where an
// already running one listens, and which areas of the catalog apply to it.
// Every key is documented in targets/README.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"

namespace streamcheck::harness {

struct TargetSpec {
  std::string name;
  std::vector<std::string> command;  // empty for a `url` target
  std::map<std::string, std::string> env;
  std::string url;  // an already running server (no command)
  std::string ready_path = "/ping";
  int ready_timeout_s = 30;
  // How long the server waits for backend response headers before its 504;
  // direct.backend-timeout waits that long plus a margin.
  double backend_timeout_s = 10;
  // Optional figures about the server; 0 where the spec declares none.
  double request_timeout_s = 0;        // its whole-request limit (gunicorn's timeout)
  std::uint64_t max_upload_bytes = 0;  // request bodies above this get 413
  double stop_timeout_s = 0;           // how long it may take to exit after SIGTERM
  std::vector<std::string> features = {"chat", "direct_access"};
  std::string origin;  // the file it came from, or "built-in"

  // The backend the server calls. By default (command targets) the harness
  // starts its own mock on a free port and hands it over as {backend_url};
  // `mock_listen` starts it on a fixed address the server is configured to;
  // `mock_url` drives an already running `streamcheck mock`; `external_backend`
  // leaves the server's real backend alone (only cases that need no mock run).
  std::string mock_listen;  // "127.0.0.1:8000"
  std::string mock_url;     // "http://127.0.0.1:8000"
  bool external_backend = false;
  // "mock": {"config": {...}}: the mock's defaults for every case (mock config
  // keys, e.g. {"compress": "gzip"}); an empty object when the spec sets none.
  nlohmann::json mock_defaults = nlohmann::json::object();

  // How every request is made.
  std::vector<std::pair<std::string, std::string>> headers;  // ${VAR} expanded by ExpandSpec
  std::string model = "gpt-4";
  std::string chat_path = "/v1/chat/completions";
  std::string direct_prefix = "/directAccess/";
  std::string ca_file;                            // https: a CA certificate file to trust
  bool insecure = false;                          // https: no certificate verification
  std::string http_version = "1.1";               // or "2"
  std::string accept_encoding = "gzip, deflate";  // as python-requests; "identity" forbids coding

  // Memory of a server the harness cannot see as processes (a container):
  // the cgroup v2 folder that holds it.
  std::string memory_cgroup;

  bool managed() const { return !command.empty(); }
  bool HasFeature(const std::string& feature) const;
  // The harness's mock is the backend (not an external one).
  bool mocked() const { return !external_backend; }
  // The cases' paths under this spec: "/directAccess/x" -> direct_prefix + "x",
  // "/v1/chat/completions" -> chat_path.
  std::string DirectPath(const std::string& rest) const;
};

// Values for the placeholders `{port}`, `{host}`, `{backend_url}`,
// `{backend_host}`, `{backend_port}`, `{root}`, `{bin}`.
using Placeholders = std::map<std::string, std::string>;

inline const std::vector<std::string> kFeatures = {"chat", "direct_access", "tools"};

// Validates a parsed spec; errors name `origin`, the key and what is allowed.
Result<TargetSpec> ParseTargetSpec(const nlohmann::json& json, const std::string& origin);
Result<TargetSpec> LoadTargetSpec(const std::filesystem::path& path);

// Replaces every {name} in `text`; an unknown or unclosed placeholder is an error.
// `{{` and `}}` stand for a literal brace, so a value can hold JSON, e.g. a DRUM
// runtime parameter: "{{\"type\": \"numeric\", \"payload\": 10}}".
Result<std::string> ExpandPlaceholders(const std::string& text, const Placeholders& values);

// The spec with every placeholder in command, env and url expanded, and
// every ${VAR} in header values taken from the environment (a variable that
// is not set is an error naming it). Relative paths in command (arguments
// naming an existing file under `root`, like "targets/flask/app.py") resolve
// against `root`.
Result<TargetSpec> ExpandSpec(const TargetSpec& spec, const Placeholders& values,
                              const std::filesystem::path& root);

// Every ${VAR} the spec's header values use is set in the environment: checked
// before a run starts, so a missing secret is a spec error (exit 2), not a
// target that fails to start.
Status CheckEnvironment(const TargetSpec& spec);

// The reference server, as `run` starts it by default (same as targets/cpp.json).
TargetSpec BuiltinCppSpec();

// `--target` arguments to specs: "all" (every targets/*.json), a NAME
// (targets/NAME.json, or "cpp" built in), or a PATH to a .json file.
Result<std::vector<TargetSpec>> ResolveTargets(const std::vector<std::string>& args,
                                               const std::filesystem::path& root);

}  // namespace streamcheck::harness
