// The conformance catalog: one table of cases (suites/*_cases.cc), each row a
// case's facts (ID, area, level, title, how it is measured, the rule it
// checks, the defect that shows it failing) and its body. `streamcheck list`
// prints the table and docs/catalog.md is rendered from it (suites/catalog_doc.h).
#pragma once

#include <string>
#include <vector>

#include "engine/case.h"

namespace streamcheck::suites {

using engine::CaseContext;
using engine::CaseDef;

// Every case, in run order: server.ready first, then chat, direct and the
// other server cases; server.survives last.
const std::vector<CaseDef>& Catalog();
std::vector<core::CaseInfo> CatalogInfo();

// Per-area lists, defined in chat_cases.cc, direct_cases.cc, server_cases.cc;
// the raw-socket HTTP/1.1 cases of the direct and server areas in http_cases.cc.
std::vector<CaseDef> ChatCases();
std::vector<CaseDef> DirectCases();
std::vector<CaseDef> ServerCases();
std::vector<CaseDef> HttpDirectCases();
std::vector<CaseDef> HttpServerCases();

using engine::BackendUse;

// One row of the table. `feature` is the target feature the case needs.
struct Row {
  const char* id;
  core::Level level;
  const char* title;     // what passing means
  const char* measured;  // how it is measured
  const char* source;    // the rule: RFC section, spec, client behaviour
  const char* defect;    // the defective server's switch that makes it fail
  // What the case needs of the mock (engine/case.h): kNone runs against any
  // backend (a target's real one too); kCalls says a correct server calls
  // its backend during the case.
  BackendUse backend = BackendUse::kUses;
  // What the case must have seen before its verdict means anything (a
  // complete exchange, the fault it set up fired); the body fails or errors
  // when it is missing, never passes. kCalls adds "the server called the mock".
  const char* precondition = "";
};
CaseDef MakeCase(const char* area, const char* feature, const Row& row,
                 std::function<void(CaseContext&)> body, bool judges_liveness = false);

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
GatedResponse PerformGated(CaseContext& ctx, const harness::HttpRequest& request, bool by_bytes,
                           const std::string& label);
// Fails unless content came while the gate was still closed; `held` says what
// the backend held back ("the stream after its first token").
harness::CheckResult CheckBeforeGate(const GatedResponse& gated, const std::string& held);
// How long the gate holds before it opens by itself: a buffering server's
// first byte comes after this.
inline constexpr int kGateTimeoutMs = 5'000;

// The precondition of a case that sets a backend fault (a cut after N tokens
// or bytes): it fired, so what the client saw follows from it. A server that
// never relayed the backend's stream as far as the cut gives the case nothing
// to judge. `fault` says what was set ("a cut after 3 tokens").
harness::CheckResult CheckFaultFired(CaseContext& ctx, const std::string& fault);

// Shared request builders. A chat request goes to `path`, or to the spec's
// chat_path (default /v1/chat/completions) when it is empty, with the spec's model.
harness::HttpRequest ChatRequest(const CaseContext& ctx, const std::string& prompt = "Hello",
                                 bool stream = true, const std::string& path = "");
std::string ChatBody(const std::string& prompt, bool stream, const std::string& model = "gpt-4");

}  // namespace streamcheck::suites
