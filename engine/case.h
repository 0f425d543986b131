// What a conformance case is to the engine: its facts (core::CaseInfo, one
// row of the catalog table) and a body that runs against one target through
// a CaseContext. Bodies only record what they saw: ctx.Expect(check),
// ctx.Skip(reason), ctx.Error(message); the engine judges (core/verdict.h).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/verdict.h"
#include "engine/backend.h"
#include "engine/session.h"
#include "harness/check_result.h"
#include "harness/http_client.h"
#include "harness/process_memory.h"

namespace streamcheck::engine {

struct CaseOptions {
  double size_mb = 100;          // direct.large-get and friends
  double memory_limit_mib = 64;  // direct.memory-bounded
};

// What the running case has received so far, for a live status line:
// updated on the transfer thread as bytes and events arrive, read from any.
struct CaseProgress {
  std::atomic<int> requests{0};          // requests started so far
  std::atomic<std::uint64_t> bytes{0};   // body bytes of the request in flight
  std::atomic<std::uint64_t> events{0};  // SSE events of the request in flight
  std::atomic<int> run{1};               // under --repeat: the run going on, from 1
  int runs = 1;                          // under --repeat: the runs asked for
};

// The header every request of a case carries, so a server's own logs (and
// the mock) can be matched with the case.
inline constexpr char kCaseHeader[] = "X-Streamcheck-Case";

class CaseContext {
 public:
  CaseContext(TargetSession& session, const core::CaseInfo& info, const CaseOptions& options,
              core::CaseResult& result, core::CaseRecord& record, CaseProgress* progress = nullptr);

  const harness::TargetSpec& spec() const { return session_.spec(); }
  const core::CaseInfo& info() const { return info_; }
  const CaseOptions& options() const { return options_; }
  std::string Url(const std::string& path) const;
  // A path under the spec's direct prefix: DirectPath("echo") is "/directAccess/echo".
  std::string DirectPath(const std::string& rest) const { return spec().DirectPath(rest); }
  // The mock the server calls. Only cases that use it are run on a target
  // with an external backend (CaseDef::backend), so it is always there.
  CaseBackend& backend();
  // Whether there is a mock: a case that runs against any backend
  // (BackendUse::kNone) may still shape the mock's answer when there is one.
  bool has_backend() const { return backend_.has_value(); }
  // The target's process when the harness started it, else null (url targets).
  harness::TargetProcess* process() { return session_.process(); }
  bool stop_requested() { return session_.stop().stop_requested(); }
  // What to sample for the memory cases, or why it cannot be measured here.
  Result<harness::MemoryScope> Memory() { return session_.Memory(); }

  // Performs a request as the case's: adds X-Streamcheck-Case, makes it stop
  // when the run stops, and records the exchange as evidence (`label` says
  // what the case did, e.g. "backend gated after 1 token").
  harness::HttpResponse Perform(harness::HttpRequest request, const std::string& label = "",
                                const harness::Observers& observers = {});
  // Every request at once on one curl multi handle; the first few recorded.
  std::vector<harness::HttpResponse> PerformAll(std::vector<harness::HttpRequest> requests,
                                                const std::string& label = "");
  // PerformAll on another thread while `meanwhile` runs on this one (it may
  // use the context: the background requests are recorded after it returns).
  // Every wait in `meanwhile` must be bounded; the requests' own timeouts
  // bound the rest.
  std::vector<harness::HttpResponse> PerformAllWhile(std::vector<harness::HttpRequest> requests,
                                                     const std::string& label,
                                                     const std::function<void()>& meanwhile);
  // Records an exchange the case made some other way (raw sockets).
  void RecordExchange(core::Exchange exchange);

  // Records a failure (judged by level) when the check failed; it points at
  // the last exchange.
  void Expect(const harness::CheckResult& check);
  void Fail(std::string message) { Expect(harness::CheckResult::Fail(std::move(message))); }
  // The case cannot be measured on this target (a skip, never a pass).
  void Skip(std::string reason);
  // The case could not run (the harness's side, as opposed to: the server failed it).
  void Error(std::string message);
  void Metric(const std::string& name, double value) { result_.metrics[name] = value; }
  void Note(const std::string& note) { result_.evidence.note += note; }
  // The server's memory over the case, for the reports.
  void Memory(const std::vector<harness::MemoryPoint>& curve);

 private:
  void Record(const harness::HttpRequest& request, const harness::HttpResponse& response,
              const std::string& label);
  harness::HttpRequest Prepare(harness::HttpRequest request);

  TargetSession& session_;
  const core::CaseInfo& info_;
  const CaseOptions& options_;
  core::CaseResult& result_;
  core::CaseRecord& record_;
  CaseProgress* progress_;
  std::optional<CaseBackend> backend_;
  std::uint64_t chart_bytes_ = 0;  // body bytes of the exchange drawn as the case's chart
  bool charted_ = false;
};

// What a case needs of the mock backend.
enum class BackendUse {
  kNone,      // nothing: it runs against any backend (a target's real one too)
  kAnyCalls,  // it runs against any backend, and a correct server calls it: with
              // the mock, the case checks that the mock got its request
  kUses,      // it configures or reads the mock; a correct server may still not call it
  kCalls,     // a correct server calls the mock during the case: if it never does,
              // the server is not pointed at the mock and the case says so
};

// Whether the case configures or reads the mock (so it cannot run against a
// target's real backend).
inline bool NeedsTheMock(BackendUse use) {
  return use == BackendUse::kUses || use == BackendUse::kCalls;
}

struct CaseDef {
  core::CaseInfo info;
  std::function<void(CaseContext&)> body;
  // The case judges whether the target process is alive itself; the engine
  // then does not turn a dead target into `error` around it, and runs it last.
  bool judges_liveness = false;
  // The case ends the target itself (SIGTERM): it runs after every other case
  // of its target, judges_liveness ones included, and its exit is no error.
  bool stops_target = false;
  BackendUse backend = BackendUse::kUses;
};

// Where a case runs among its target's: 0 in catalog order, 1 after those
// (judges_liveness), 2 last (stops_target). Sorting is stable within each.
inline int RunOrder(const CaseDef& c) { return c.stops_target ? 2 : c.judges_liveness ? 1 : 0; }

}  // namespace streamcheck::engine
