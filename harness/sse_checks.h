// Checks of an event stream's grammar (WHATWG HTML, "Server-sent events").
#pragma once

#include "harness/check_result.h"
#include "harness/http_client.h"

namespace streamcheck::harness {

// The first non-comment line of an event stream starts with "data:".
CheckResult CheckFirstLineIsData(const HttpResponse& response);
// The body parsed as an event stream within the parser's limits, had at least
// one event, and ended on an event boundary.
CheckResult CheckSseGrammar(const HttpResponse& response);

}  // namespace streamcheck::harness
