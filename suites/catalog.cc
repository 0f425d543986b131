#include "suites/catalog.h"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace streamcheck::suites {
namespace {

constexpr std::size_t kEvidenceEvents = 3;
constexpr std::size_t kTimelinePoints = 200;

std::vector<reports::TimelinePoint> Downsample(const std::vector<harness::ArrivalPoint>& points) {
  std::vector<reports::TimelinePoint> out;
  if (points.empty()) return out;
  std::size_t step = std::max<std::size_t>(1, points.size() / kTimelinePoints);
  for (std::size_t i = 0; i < points.size(); i += step) {
    out.push_back({points[i].t_ms, points[i].bytes, points[i].events});
  }
  const auto& last = points.back();
  if (out.empty() || out.back().t_ms != last.t_ms) {
    out.push_back({last.t_ms, last.bytes, last.events});
  }
  return out;
}

}  // namespace

void CaseContext::Expect(const harness::CheckResult& check) {
  if (!check.ok) ADD_FAILURE() << check.message;
}

void CaseContext::Error(const std::string& message) {
  result_.outcome = reports::Outcome::kError;
  result_.message = message;
  ADD_FAILURE() << message;
}

void CaseContext::Evidence(const std::string& request, const harness::HttpResponse& r) {
  auto& e = result_.evidence;
  e.request = request;
  e.status = int(r.status);
  e.response_headers = r.headers;
  e.first_events.clear();
  e.last_events.clear();
  for (std::size_t i = 0; i < r.events.size() && i < kEvidenceEvents; ++i) {
    e.first_events.push_back(r.events[i].event.data);
  }
  for (std::size_t i = r.events.size() > kEvidenceEvents ? r.events.size() - kEvidenceEvents : 0;
       i < r.events.size(); ++i) {
    e.last_events.push_back(r.events[i].event.data);
  }
  e.timeline = Downsample(r.arrivals);
  result_.metrics["bytes"] = r.body_bytes;
  if (r.t_headers_ms >= 0) result_.metrics["headers_ms"] = r.t_headers_ms;
  if (r.t_first_byte_ms >= 0) result_.metrics["first_byte_ms"] = r.t_first_byte_ms;
  if (!r.events.empty()) {
    result_.metrics["events"] = r.events.size();
    result_.metrics["first_event_ms"] = r.events.front().t_ms;
  }
}

const std::vector<CaseDef>& Catalog() {
  static const std::vector<CaseDef> catalog = [] {
    // server.ready first, server.survives last: it checks the server outlived the rest.
    std::vector<CaseDef> all;
    std::vector<CaseDef> last;
    for (auto& c : ServerCases()) (c.info.id == "server.survives" ? last : all).push_back(c);
    for (auto part : {ChatCases(), DirectCases()}) all.insert(all.end(), part.begin(), part.end());
    all.insert(all.end(), last.begin(), last.end());
    return all;
  }();
  return catalog;
}

std::vector<reports::CaseInfo> CatalogInfo() {
  std::vector<reports::CaseInfo> out;
  for (const auto& c : Catalog()) out.push_back(c.info);
  return out;
}

bool MatchesFilter(const std::string& case_id, const std::string& filter) {
  if (filter.empty()) return true;
  std::size_t start = 0;
  while (start <= filter.size()) {
    auto comma = filter.find(',', start);
    if (comma == std::string::npos) comma = filter.size();
    std::string glob = filter.substr(start, comma - start);
    if (!glob.empty() && fnmatch(glob.c_str(), case_id.c_str(), 0) == 0) return true;
    start = comma + 1;
  }
  return false;
}

GatedResponse PerformGated(CaseContext& ctx, const harness::HttpRequest& request, bool by_bytes) {
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
  gated.response = harness::Perform(request, observers);
  ctx.Metric("first_content_ms", gated.first_content_ms);
  return gated;
}

harness::CheckResult CheckBeforeGate(const GatedResponse& gated, const std::string& held) {
  if (gated.first_content_ms < 0) {
    return harness::CheckResult::Fail(
        "expected content while the backend held " + held +
        ", got none: " + std::to_string(gated.response.body_bytes) + " bytes, " +
        std::to_string(gated.response.events.size()) + " events" +
        (gated.response.error.empty() ? "" : ", " + gated.response.error));
  }
  if (!gated.before_gate) {
    return harness::CheckResult::Fail(
        "expected content while the backend held " + held + "; the first arrived after " +
        std::to_string(int(gated.first_content_ms)) +
        " ms, only once the gate had timed out: the server buffered instead of streaming");
  }
  return harness::CheckResult::Pass();
}

std::string ChatBody(const std::string& prompt, bool stream) {
  return nlohmann::json{{"model", "gpt-4"},
                        {"messages", {{{"role", "user"}, {"content", prompt}}}},
                        {"stream", stream}}
      .dump();
}

harness::HttpRequest ChatRequest(const CaseContext& ctx, const std::string& prompt, bool stream,
                                 const std::string& path) {
  harness::HttpRequest r;
  r.method = "POST";
  r.url = ctx.Url(path);
  r.headers = {{"Content-Type", "application/json"}, {"Accept", "text/event-stream"}};
  r.body = ChatBody(prompt, stream);
  r.parse_sse = stream;
  r.total_timeout = std::chrono::seconds(30);
  return r;
}

}  // namespace streamcheck::suites
