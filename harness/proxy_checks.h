// Checks of a reverse proxy (/directAccess/): framing, truncation, status and
// body passthrough, what the backend's /echo saw, gateway errors.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "harness/check_result.h"
#include "harness/http_checks.h"
#include "harness/http_client.h"

namespace streamcheck::harness {

// Never both Transfer-Encoding and Content-Length; a Content-Length matches the body.
CheckResult CheckResponseFraming(const HttpResponse& response);
// The backend broke off mid-body: the client must see an incomplete response
// (or a 5xx, when the server knew before its headers), never a clean end of a
// shorter body. No response at all, with a transport error, also counts as
// visible (a proxy that had not sent its headers yet may reset instead).
CheckResult CheckTruncationVisible(const HttpResponse& response);
// Same status and same body as the backend sent.
CheckResult CheckPassthrough(const HttpResponse& response, long status, const std::string& body);
// The backend's /echo saw this method and a body of this length and SHA-256.
CheckResult CheckEcho(const HttpResponse& echo, const std::string& method,
                      std::uint64_t body_length, const std::string& body_sha256);
// The backend's /echo saw every `key=value` of `query` (repeated keys in order).
CheckResult CheckEchoQuery(const HttpResponse& echo,
                           const std::vector<std::pair<std::string, std::string>>& query);
// The backend's /echo saw each of `present` (name: value) and none of `absent`.
CheckResult CheckEchoHeaders(const HttpResponse& echo, const Headers& present,
                             const std::vector<std::string>& absent);
// A partial response passed on: 206, exactly one Content-Range, equal to the
// backend's `content_range` ("bytes 100-199/1048576"), and as many body bytes
// as it names.
CheckResult CheckPartialContent(const HttpResponse& response, const std::string& content_range);
// The Content-Encoding the client got agrees with the bytes it got (RFC 9110
// §8.4): the body decodes by its label to the backend's bytes (SHA-256
// `expected_hex`). A plain body labelled gzip does not decode; gzip bytes
// labelled identity (no Content-Encoding) arrive as gzip.
CheckResult CheckContentCoding(const HttpResponse& response, const std::string& expected_hex);
// A 5xx (status `preferred` SHOULD) with a body, within `bound_ms` of the request.
CheckResult CheckServerError(const HttpResponse& response, long preferred, double bound_ms);

}  // namespace streamcheck::harness
