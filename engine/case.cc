#include "engine/case.h"

#include <algorithm>
#include <stdexcept>

#include "common/text.h"

namespace streamcheck::engine {
namespace {

constexpr std::size_t kTimelinePoints = 200;
constexpr std::size_t kRecordedOfMany = 3;  // exchanges recorded of a PerformAll
constexpr std::size_t kRequestBodyExcerpt = 512;

std::vector<core::TimelinePoint> Downsample(const std::vector<harness::ArrivalPoint>& points) {
  std::vector<core::TimelinePoint> out;
  if (points.empty()) return out;
  std::size_t step = std::max<std::size_t>(1, points.size() / kTimelinePoints);
  for (std::size_t i = 0; i < points.size(); i += step) {
    out.push_back({points[i].t_ms, points[i].bytes, points[i].events});
  }
  const auto& last = points.back();
  if (out.empty() || out.back().t_ms != last.t_ms)
    out.push_back({last.t_ms, last.bytes, last.events});
  return out;
}

// Header values that are secrets are never written to a report or a log.
bool IsSecret(const std::string& name) {
  for (const char* secret :
       {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key"}) {
    if (EqualsIgnoreCase(name, secret)) return true;
  }
  return false;
}

// Secret by name, or set by the spec (its values may be API keys).
core::HeaderList Redacted(const harness::Headers& headers, const harness::Headers& from_spec) {
  core::HeaderList out;
  for (const auto& [name, value] : headers) {
    const bool spec_set = std::any_of(from_spec.begin(), from_spec.end(), [&](const auto& h) {
      return EqualsIgnoreCase(h.first, name);
    });
    out.emplace_back(name, IsSecret(name) || spec_set
                               ? "(redacted, " + std::to_string(value.size()) + " bytes)"
                               : Excerpt(value, 200));
  }
  return out;
}

// "/v1/chat/completions?x=1" from a URL, or the request target the case set.
std::string PathOf(const harness::HttpRequest& request) {
  if (!request.request_target.empty()) return request.request_target;
  auto scheme = request.url.find("://");
  auto slash = request.url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : request.url.substr(slash);
}

}  // namespace

CaseContext::CaseContext(TargetSession& session, const core::CaseInfo& info,
                         const CaseOptions& options, core::CaseResult& result,
                         core::CaseRecord& record, CaseProgress* progress)
    : session_(session),
      info_(info),
      options_(options),
      result_(result),
      record_(record),
      progress_(progress) {
  if (session.mock()) backend_.emplace(*session.mock(), record);
}

CaseBackend& CaseContext::backend() {
  if (!backend_) {
    throw std::logic_error("case " + info_.id +
                           " used the mock of a target with an external backend");
  }
  return *backend_;
}

std::string CaseContext::Url(const std::string& path) const {
  return harness::JoinUrl(session_.base_url(), path);
}

harness::HttpRequest CaseContext::Prepare(harness::HttpRequest request) {
  // The spec's way of talking to the server, then the case's own headers
  // (a case's header replaces the spec's of that name).
  const auto defaults = session_.RequestDefaults();
  harness::Headers headers;
  for (const auto& [name, value] : defaults.headers) {
    bool replaced = std::any_of(request.headers.begin(), request.headers.end(),
                                [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
    if (!replaced) headers.emplace_back(name, value);
  }
  headers.insert(headers.end(), request.headers.begin(), request.headers.end());
  headers.emplace_back(kCaseHeader, info_.id);
  request.headers = std::move(headers);
  request.http_version = defaults.http_version;
  if (request.accept_encoding.empty()) request.accept_encoding = defaults.accept_encoding;
  request.ca_file = defaults.ca_file;
  request.insecure = defaults.insecure;
  request.should_stop = session_.stop().Predicate();
  return request;
}

harness::HttpResponse CaseContext::Perform(harness::HttpRequest request, const std::string& label,
                                           const harness::Observers& observers) {
  request = Prepare(std::move(request));
  if (!progress_) {
    auto response = harness::Perform(request, observers);
    Record(request, response, label);
    return response;
  }
  // The live counters, then the case's own observers.
  progress_->requests++;
  progress_->bytes = 0;
  progress_->events = 0;
  harness::Observers counted;
  counted.on_bytes = [&](std::uint64_t total, double t_ms) {
    progress_->bytes = total;
    return !observers.on_bytes || observers.on_bytes(total, t_ms);
  };
  counted.on_event = [&](const harness::ReceivedEvent& e) {
    progress_->events++;
    return !observers.on_event || observers.on_event(e);
  };
  auto response = harness::Perform(request, counted);
  Record(request, response, label);
  return response;
}

std::vector<harness::HttpResponse> CaseContext::PerformAll(
    std::vector<harness::HttpRequest> requests, const std::string& label) {
  for (auto& r : requests) r = Prepare(std::move(r));
  if (progress_) progress_->requests += int(requests.size());
  auto responses = harness::PerformAll(requests);
  for (std::size_t i = 0; i < responses.size() && i < kRecordedOfMany; ++i) {
    Record(requests[i], responses[i],
           label + " (stream " + std::to_string(i + 1) + " of " + std::to_string(responses.size()) +
               ")");
  }
  if (responses.size() > kRecordedOfMany) {
    result_.evidence.exchanges_dropped += responses.size() - kRecordedOfMany;
  }
  return responses;
}

void CaseContext::RecordExchange(core::Exchange exchange) {
  auto& e = result_.evidence;
  if (e.exchanges.size() >= core::Evidence::kMaxExchanges) {
    ++e.exchanges_dropped;
    return;
  }
  e.exchanges.push_back(std::move(exchange));
}

void CaseContext::Record(const harness::HttpRequest& request, const harness::HttpResponse& r,
                         const std::string& label) {
  core::Exchange x;
  x.label = label;
  x.request = request.method + " " + PathOf(request);
  x.request_headers = Redacted(request.headers, session_.spec().headers);
  if (request.upload_size) {
    x.request_body = "(" + std::to_string(*request.upload_size) + " bytes generated)";
  } else {
    x.request_body = Excerpt(request.body, kRequestBodyExcerpt);
  }
  x.status = int(r.status);
  x.http_version = r.http_version;
  x.response_headers = Redacted(r.headers, {});
  x.first_events = r.stream.FirstData();
  x.last_events = r.stream.LastData();
  for (auto* events : {&x.first_events, &x.last_events}) {
    for (auto& data : *events) data = Excerpt(data, 1000);
  }
  x.body_bytes = r.body_bytes;
  x.wire_bytes = r.wire_bytes;
  x.events = r.stream.count;
  x.headers_ms = r.t_headers_ms;
  x.first_byte_ms = r.t_first_byte_ms;
  x.total_ms = r.t_total_ms;
  x.error = r.complete ? "" : r.error;
  RecordExchange(std::move(x));

  // The case's chart: the exchange that moved the most bytes.
  if (!charted_ || r.body_bytes > chart_bytes_) {
    charted_ = true;
    chart_bytes_ = r.body_bytes;
    result_.evidence.timeline = Downsample(r.arrivals);
  }
  result_.metrics["bytes"] = r.body_bytes;
  if (r.t_headers_ms >= 0) result_.metrics["headers_ms"] = r.t_headers_ms;
  if (r.t_first_byte_ms >= 0) result_.metrics["first_byte_ms"] = r.t_first_byte_ms;
  if (!r.stream.empty()) {
    result_.metrics["events"] = r.stream.count;
    result_.metrics["first_event_ms"] = r.stream.first_event_ms;
  }
}

void CaseContext::Memory(const std::vector<harness::MemoryPoint>& curve) {
  auto& out = result_.evidence.memory;
  out.clear();
  for (const auto& p : curve) out.push_back({p.t_ms, p.rss_bytes, p.pss_bytes});
}

void CaseContext::Expect(const harness::CheckResult& check) {
  if (check.ok) return;
  int exchange =
      result_.evidence.exchanges.empty() ? -1 : int(result_.evidence.exchanges.size()) - 1;
  record_.failures.push_back({check.message, exchange});
}

void CaseContext::Skip(std::string reason) {
  if (!record_.skip) record_.skip = std::move(reason);
}

void CaseContext::Error(std::string message) {
  if (!record_.error) record_.error = std::move(message);
}

}  // namespace streamcheck::engine
