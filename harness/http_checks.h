// Checks of any HTTP exchange: the transfer, status, media type, bytes,
// digests, memory growth.
#pragma once

#include <cstdint>
#include <string>

#include "harness/check_result.h"
#include "harness/http_client.h"
#include "harness/process_memory.h"

namespace streamcheck::harness {

// The transfer itself completed (not refused, timed out or cut).
CheckResult CheckTransferComplete(const HttpResponse& response);
CheckResult CheckStatus(const HttpResponse& response, long expected);
// Media type (before any ';' parameters), case-insensitive.
CheckResult CheckMediaType(const HttpResponse& response, const std::string& expected);
// Exactly `expected` body bytes arrived.
CheckResult CheckByteCount(const HttpResponse& response, std::uint64_t expected);
CheckResult CheckSha256(const HttpResponse& response, const std::string& expected_hex);
// The server's peak PSS growth stayed within `limit_mib` (harness/process_memory.h:
// PSS, so shared pages of forked workers count once).
CheckResult CheckMemoryGrowth(const MemorySummary& memory, double limit_mib);

}  // namespace streamcheck::harness
