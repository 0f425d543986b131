#include "suites/catalog.h"

#include <nlohmann/json.hpp>

#include "harness/chat_stream.h"

namespace streamcheck::suites {

CaseDef MakeCase(const char* area, const char* feature, const Row& row,
                 std::function<void(CaseContext&)> body, bool judges_liveness) {
  CaseDef def;
  def.info = {row.id,     area,    row.level,  row.title,       row.measured,
              row.source, feature, row.defect, row.precondition};
  if (row.backend == BackendUse::kCalls) {
    def.info.precondition += std::string(def.info.precondition.empty() ? "" : "; ") +
                             "the server called the mock backend during the case (else error)";
  } else if (row.backend == BackendUse::kAnyCalls) {
    def.info.precondition += std::string(def.info.precondition.empty() ? "" : "; ") +
                             "with the mock as its backend, the server called it during the case "
                             "(else error)";
  }
  def.body = std::move(body);
  def.judges_liveness = judges_liveness;
  def.backend = row.backend;
  return def;
}

const std::vector<CaseDef>& Catalog() {
  static const std::vector<CaseDef> catalog = [] {
    std::vector<CaseDef> all, server_rest;
    for (auto& c : ServerCases()) (c.info.id == "server.ready" ? all : server_rest).push_back(c);
    for (auto& c : HttpServerCases()) server_rest.push_back(c);
    for (auto part : {ChatCases(), DirectCases(), HttpDirectCases(), server_rest}) {
      all.insert(all.end(), part.begin(), part.end());
    }
    // Cases that judge liveness (server.survives) go last, and the one that
    // stops the target (server.graceful-shutdown) after them.
    std::stable_sort(all.begin(), all.end(),
                     [](const CaseDef& a, const CaseDef& b) { return RunOrder(a) < RunOrder(b); });
    return all;
  }();
  return catalog;
}

std::vector<core::CaseInfo> CatalogInfo() {
  std::vector<core::CaseInfo> out;
  for (const auto& c : Catalog()) out.push_back(c.info);
  return out;
}

GatedResponse PerformGated(CaseContext& ctx, const harness::HttpRequest& request, bool by_bytes,
                           const std::string& label) {
  GatedResponse gated;
  auto arrived = [&](double t_ms) {
    if (gated.first_content_ms >= 0) return;
    gated.first_content_ms = t_ms;
    gated.before_gate = ctx.backend().stats().gate_opened_by.empty();
    ctx.backend().OpenGate();
  };
  harness::Observers observers;
  if (by_bytes) {
    observers.on_bytes = [&](std::uint64_t, double t_ms) { return arrived(t_ms), true; };
  } else {
    observers.on_event = [&](const harness::ReceivedEvent& e) {
      if (!harness::DeltaContent(e.event.data).empty()) arrived(e.t_ms);
      return true;
    };
  }
  gated.response = ctx.Perform(request, label, observers);
  ctx.Metric("first_content_ms", gated.first_content_ms);
  return gated;
}

harness::CheckResult CheckBeforeGate(const GatedResponse& gated, const std::string& held) {
  const auto& r = gated.response;
  if (gated.first_content_ms < 0) {
    return harness::CheckResult::Fail("expected content while the backend held " + held +
                                      ", got none: " + std::to_string(r.body_bytes) + " bytes, " +
                                      std::to_string(r.stream.count) + " events" +
                                      (r.error.empty() ? "" : ", " + r.error));
  }
  if (!gated.before_gate) {
    return harness::CheckResult::Fail(
        "expected content while the backend held " + held + "; the first arrived after " +
        std::to_string(int(gated.first_content_ms)) +
        " ms, only once the gate had timed out: the server buffered instead of streaming");
  }
  return harness::CheckResult::Pass();
}

harness::CheckResult CheckFaultFired(CaseContext& ctx, const std::string& fault) {
  const auto stats = ctx.backend().stats();
  if (stats.transfers_cut > 0) return harness::CheckResult::Pass();
  return harness::CheckResult::Fail(
      "expected the backend's fault (" + fault +
      ") to fire before judging what the client saw; "
      "the backend cut no transfer (" +
      std::to_string(stats.requests) + " request(s), " + std::to_string(stats.body_bytes_sent) +
      " bytes sent): the server did not relay the backend's response as far as the cut");
}

std::string ChatBody(const std::string& prompt, bool stream, const std::string& model) {
  return nlohmann::json{
      {"model", model}, {"messages", {{{"role", "user"}, {"content", prompt}}}}, {"stream", stream}}
      .dump();
}

harness::HttpRequest ChatRequest(const CaseContext& ctx, const std::string& prompt, bool stream,
                                 const std::string& path) {
  harness::HttpRequest r;
  r.method = "POST";
  r.url = ctx.Url(path.empty() ? ctx.spec().chat_path : path);
  r.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
  r.body = ChatBody(prompt, stream, ctx.spec().model);
  r.parse_sse = stream;
  r.total_timeout = std::chrono::seconds(30);
  return r;
}

}  // namespace streamcheck::suites
