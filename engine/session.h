// One target for the length of its cases: its mock backend, its process (when
// the harness starts it), its base URL, and how it ended. Started on first
// use, stopped once; everything it starts is stopped by Stop(), also on an
// interrupt.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/result.h"
#include "core/model.h"
#include "engine/stop.h"
#include "harness/http_client.h"
#include "harness/process_memory.h"
#include "harness/target_process.h"
#include "harness/target_spec.h"
#include "mocks/mock_backend.h"
#include "mocks/mock_client.h"
#include "mocks/mock_defaults.h"

namespace streamcheck::engine {

struct SessionOptions {
  std::filesystem::path root;     // {root}, and the working folder of spawned targets
  std::filesystem::path bin;      // {bin}
  std::filesystem::path log_dir;  // <target>.log goes here
  // A running `streamcheck mock` for the target to call, "http://HOST:PORT",
  // driven over HTTP (the bench runs its mocks as processes of their own);
  // empty: the spec decides (a mock in this process, or its mock.url).
  std::string backend_url;
  // false: a url target is not polled for its ready path before the first
  // case; the cases meet it as it is (tests that point the catalog at servers
  // that answer nothing, tests/vacuous_pass_test.cc).
  bool wait_ready = true;
};

class TargetSession {
 public:
  TargetSession(harness::TargetSpec spec, SessionOptions options, StopSource& stop);
  ~TargetSession();
  TargetSession(const TargetSession&) = delete;
  TargetSession& operator=(const TargetSession&) = delete;

  // Starts the mock and the target, once; false (see problem()) when either
  // cannot start, or the run stopped meanwhile.
  bool EnsureStarted();
  // Why the target is no longer usable ("" while it is): its process exited.
  std::string Died();
  // Stops the target (SIGTERM, then SIGKILL, then its leftovers) and the mock.
  // Idempotent.
  void Stop();

  // The spec as expanded for this run (placeholders, ${VAR} in headers).
  const harness::TargetSpec& spec() const { return expanded_; }
  const std::string& base_url() const { return base_url_; }
  const std::string& problem() const { return problem_; }
  // The mock the server calls; null for a target with an external backend.
  mocks::MockControl* mock() { return mock_; }
  // The target's process when the harness started it, else null.
  harness::TargetProcess* process() { return process_.get(); }
  StopSource& stop() { return stop_; }
  core::TargetSummary Summary() const;

  // The processes that make up the server, for the memory cases: the spawned
  // command's tree plus the process that owns the listening socket (and its
  // tree), or the spec's cgroup. An error says why memory cannot be measured
  // here (a url target whose socket is not ours to see, a container behind
  // docker-proxy without a cgroup in its spec): the memory cases then skip.
  Result<harness::MemoryScope> Memory();

  // Every request to this target starts from these: the spec's headers, HTTP
  // version, content coding and TLS settings.
  harness::HttpRequest RequestDefaults() const;

 private:
  Status Start();
  // The mock the spec asks for, and the placeholders that name it.
  Status StartMock(harness::Placeholders& values);

  harness::TargetSpec spec_;
  SessionOptions options_;
  StopSource& stop_;
  harness::TargetSpec expanded_;
  std::unique_ptr<mocks::MockBackend> backend_;  // the harness's own mock
  std::unique_ptr<mocks::MockClient> client_;    // or a running one, over HTTP
  // Either, under the spec's "mock": {"config"} defaults.
  std::unique_ptr<mocks::MockWithDefaults> with_defaults_;
  mocks::MockControl* mock_ = nullptr;  // with_defaults_, once the mock is up
  std::unique_ptr<harness::TargetProcess> process_;
  std::string base_url_;
  int port_ = 0;  // the port of base_url_
  std::filesystem::path log_path_;
  bool attempted_ = false;
  bool stopped_ = false;
  std::string problem_;
  core::StopSummary stop_summary_;
};

}  // namespace streamcheck::engine
