// The conformance catalog: every case with its stable ID, level and body.
// Bodies are GoogleTest test bodies (EXPECT_/ASSERT_/ADD_FAILURE, GTEST_SKIP)
// run once per target by suites/runner.h.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "harness/checks.h"
#include "harness/http_client.h"
#include "harness/target_process.h"
#include "harness/target_spec.h"
#include "mocks/mock_backend.h"
#include "reports/results.h"

namespace streamcheck::suites {

struct CaseOptions {
  double size_mb = 100;          // direct.large-get and friends
  double memory_limit_mib = 64;  // direct.memory-bounded
};

// What a case body works with, and where it leaves its figures.
class CaseContext {
 public:
  CaseContext(const harness::TargetSpec& spec, std::string base_url, mocks::MockBackend& backend,
              harness::TargetProcess* process, const CaseOptions& options,
              reports::CaseResult& result)
      : spec_(spec),
        base_url_(std::move(base_url)),
        backend_(backend),
        process_(process),
        options_(options),
        result_(result) {}

  const harness::TargetSpec& spec() const { return spec_; }
  std::string Url(const std::string& path) const { return harness::JoinUrl(base_url_, path); }
  mocks::MockBackend& backend() { return backend_; }
  // The target's process when the harness started it, else null (url targets).
  harness::TargetProcess* process() { return process_; }
  const CaseOptions& options() const { return options_; }

  // Records a failure (or, for SHOULD cases, a warning) when the check failed.
  void Expect(const harness::CheckResult& check);
  void Metric(const std::string& name, double value) { result_.metrics[name] = value; }
  // Fills the evidence from a response: request line, status, headers, events, arrivals.
  void Evidence(const std::string& request, const harness::HttpResponse& response);
  void Note(const std::string& note) { result_.evidence.note += note; }
  // The case could not run (as opposed to: the server failed it).
  void Error(const std::string& message);

 private:
  const harness::TargetSpec& spec_;
  std::string base_url_;
  mocks::MockBackend& backend_;
  harness::TargetProcess* process_;
  const CaseOptions& options_;
  reports::CaseResult& result_;
};

struct CaseDef {
  reports::CaseInfo info;
  std::string feature;  // the target feature the case needs
  std::function<void(CaseContext&)> body;
  // The case itself judges whether the target process is alive; the runner
  // then does not turn a dead target into `error` around it.
  bool judges_liveness = false;
};

// Every case, in run order (server.survives last).
const std::vector<CaseDef>& Catalog();
std::vector<reports::CaseInfo> CatalogInfo();

// Per-area lists, defined in chat_cases.cc, direct_cases.cc, server_cases.cc.
std::vector<CaseDef> ChatCases();
std::vector<CaseDef> DirectCases();
std::vector<CaseDef> ServerCases();

// A case ID matches a filter of comma-separated globs ("chat.*,direct.large-get").
bool MatchesFilter(const std::string& case_id, const std::string& filter);

// The gate proof of streaming. With the backend set to hold at its gate
// (gate_after_tokens or gate_after_bytes), performs `request` and opens the gate
// as soon as the first content arrives: an event with delta content, or with
// `by_bytes` any body byte. A server that buffers delivers nothing until the
// gate opens by its own timeout, so `before_gate` is the verdict, not a time.
struct GatedResponse {
  harness::HttpResponse response;
  double first_content_ms = -1;  // -1: no content arrived
  bool before_gate = false;
};
GatedResponse PerformGated(CaseContext& ctx, const harness::HttpRequest& request, bool by_bytes);
// Fails unless content came while the gate was still closed; `held` says what
// the backend held back ("the stream after its first token").
harness::CheckResult CheckBeforeGate(const GatedResponse& gated, const std::string& held);

// Shared request builders.
harness::HttpRequest ChatRequest(const CaseContext& ctx, const std::string& prompt = "Hello",
                                 bool stream = true,
                                 const std::string& path = "/v1/chat/completions");
std::string ChatBody(const std::string& prompt, bool stream);

}  // namespace streamcheck::suites
