#include "harness/sse_checks.h"

#include "common/text.h"

namespace streamcheck::harness {

CheckResult CheckFirstLineIsData(const HttpResponse& r) {
  const auto& first = r.stream.stats.first_content_line;
  if (!first) {
    return CheckResult::Fail("expected a first line starting with \"data:\", got no line (body \"" +
                             Excerpt(r.body) + "\"" + (r.status ? "" : "; " + r.error) + ")");
  }
  if (first->rfind("data:", 0) == 0) return CheckResult::Pass();
  return CheckResult::Fail("expected the first non-comment line to start with \"data:\", got \"" +
                           Excerpt(*first) + "\"");
}

CheckResult CheckSseGrammar(const HttpResponse& r) {
  const auto& s = r.stream;
  if (s.stats.overflow) {
    return CheckResult::Fail("expected an event stream a client can parse; it had " +
                             *s.stats.overflow + " after " + std::to_string(s.count) +
                             " events, and the client stopped reading");
  }
  if (!s.leftover.clean()) {
    return CheckResult::Fail(
        std::string("expected the stream to end on an event boundary; it ended with ") +
        (s.leftover.partial_event ? "an event missing its blank line" : "a partial line") +
        " after " + std::to_string(s.count) + " events: \"" + Excerpt(s.leftover.bytes) + "\"");
  }
  if (s.empty()) {
    return CheckResult::Fail("expected at least one event; the " + std::to_string(r.body_bytes) +
                             "-byte body had none: \"" + Excerpt(r.body) + "\"" +
                             (r.status ? "" : " (no response: " + r.error + ")"));
  }
  return CheckResult::Pass();
}

}  // namespace streamcheck::harness
