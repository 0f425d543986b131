// Every conformance check, by concern: any HTTP exchange (http_checks.h),
// event-stream grammar (sse_checks.h), chat completion streams
// (chat_checks.h), reverse proxies (proxy_checks.h). Each check is a pure
// function of what the client runner recorded and returns ok or a sentence
// that says what was expected and what was seen.
#pragma once

#include "harness/chat_checks.h"
#include "harness/http_checks.h"
#include "harness/proxy_checks.h"
#include "harness/sse_checks.h"
