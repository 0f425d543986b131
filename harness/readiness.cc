#include "harness/readiness.h"

#include <algorithm>
#include <cstdio>
#include <thread>

namespace streamcheck::harness {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string FormatDuration(milliseconds d) {
  const auto ms = d.count();
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

std::string Describe(const HttpResponse& r, milliseconds attempt) {
  if (r.status != 0) return "HTTP " + std::to_string(r.status);
  if (r.curl_code == 28) return "no answer within " + FormatDuration(attempt);
  if (r.curl_code == 7) return "connection refused";
  if (r.curl_code == 52) return "connection closed without a response";
  return r.error;
}

}  // namespace

Status WaitReady(const ReadinessProbe& probe) {
  const auto deadline = Clock::now() + probe.timeout;
  auto gone = [&] { return probe.exited ? probe.exited() : std::string(); };
  std::string last_attempt = "none made";
  // The last answer that was not a timeout (a TLS certificate error, a 503),
  // which the final attempt, cut short by the deadline, would otherwise hide.
  std::string last_answer;
  milliseconds attempt_cap(1000);
  milliseconds pause(20);
  for (;;) {
    if (auto why = gone(); !why.empty()) return Status::Failure(why + " (GET " + probe.url + ")");
    if (probe.should_stop && probe.should_stop()) {
      return Status::Failure("stopped while waiting for GET " + probe.url + " to answer 200");
    }
    const auto remaining = std::chrono::ceil<milliseconds>(deadline - Clock::now());
    const auto attempt =
        std::clamp(attempt_cap, milliseconds(50), std::max(remaining, milliseconds(50)));
    HttpRequest request = probe.request;
    request.method = "GET";
    request.url = probe.url;
    request.total_timeout = attempt;
    request.connect_timeout = attempt;
    request.keep_body_bytes = 0;
    request.hash_body = false;
    request.should_stop = probe.should_stop;
    HttpResponse r = Perform(request);
    if (r.complete && r.status == 200) return Status::Ok();
    last_attempt = Describe(r, attempt);
    if (r.curl_code != 28) last_answer = last_attempt;
    if (r.curl_code == 28) attempt_cap *= 2;
    if (auto why = gone(); !why.empty()) return Status::Failure(why + " (GET " + probe.url + ")");
    const auto now = Clock::now();
    if (now >= deadline) {
      return Status::Failure("target did not answer 200 on GET " + probe.url + " within " +
                             FormatDuration(probe.timeout) + " (last attempt: " + last_attempt +
                             (last_answer.empty() || last_answer == last_attempt
                                  ? ""
                                  : "; the last answer before it: " + last_answer) +
                             ")");
    }
    const auto wait =
        std::min<milliseconds>(pause, std::chrono::ceil<milliseconds>(deadline - now));
    if (probe.wait_a_little) {
      probe.wait_a_little(wait);
    } else {
      std::this_thread::sleep_for(wait);
    }
    pause = std::min(pause * 2, milliseconds(200));
  }
}

}  // namespace streamcheck::harness
