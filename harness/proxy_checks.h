// Checks of a reverse proxy (/directAccess/): framing, truncation, status and
// body passthrough, what the backend's /echo saw, hop-by-hop headers both
// ways, how far the backend ran ahead of the client, gateway errors.
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
// The backend's /echo saw each of `present` (name: value) and none of
// `absent`, and no Connection header of its naming `connection_option` (RFC
// 9110 §7.6.1: a proxy removes Connection or replaces it with its own options).
CheckResult CheckEchoHeaders(const HttpResponse& echo, const Headers& present,
                             const std::vector<std::string>& absent,
                             const std::string& connection_option = "");
// The same for the response a client got: hop-by-hop headers of the backend's
// response were not passed back.
CheckResult CheckResponseHeaders(const HttpResponse& response, const Headers& present,
                                 const std::vector<std::string>& absent,
                                 const std::string& connection_option = "");

// How far a backend's sends ran ahead of a client's reads, at the worst moment.
struct BackendLead {
  double max_mib = 0;                // bytes the backend had sent minus bytes the client had read
  double at_ms = 0;                  // when, on the client's clock
  std::uint64_t sent = 0, read = 0;  // the two counts then
};
// `sent` is the backend's send timeline (t_ms since its transfer began, bytes
// handed to its socket). That transfer began before the client's first byte,
// so each point is placed at the latest moment it can have been,
// t_first_byte_ms + t_ms, and the client's count is taken at or after it: the
// lead found is never more than the real one, whatever the two clocks.
BackendLead MaxBackendLead(const std::vector<ArrivalPoint>& sent, const HttpResponse& client);
// How far a proxy that keeps no data of its own can still let the backend run
// ahead of a client with `client_recv_buffer` bytes of socket buffer: the
// backend's send buffer, the proxy's receive and send buffers (each up to this
// machine's net.ipv4.tcp_wmem / tcp_rmem maxima, which autotuning reaches
// under load), the client's buffer (doubled by the kernel), and 4 MiB of the
// proxy's own pieces. 16 MiB at least; 16 MiB when /proc is unreadable.
double BackendLeadAllowanceMib(std::uint64_t client_recv_buffer);
// The backend ran at most `bound_mib` ahead of the client: a proxy that reads
// its upstream only as fast as its client drains holds little, in memory or on
// disk. `sent` must not be empty (nothing seen is no pass).
CheckResult CheckBackendLead(const std::vector<ArrivalPoint>& sent, const HttpResponse& client,
                             double bound_mib);
// A partial response passed on: 206, exactly one Content-Range, equal to the
// backend's `content_range` ("bytes 100-199/1048576"), and as many body bytes
// as it names.
CheckResult CheckPartialContent(const HttpResponse& response, const std::string& content_range);
// The Content-Encoding the client got agrees with the bytes it got (RFC 9110
// §8.4): the body decodes by its label to the backend's bytes (SHA-256
// `expected_hex`). A plain body labelled gzip does not decode; gzip bytes
// labelled identity (no Content-Encoding) arrive as gzip.
CheckResult CheckContentCoding(const HttpResponse& response, const std::string& expected_hex);
// A 5xx (status `preferred` SHOULD) within `bound_ms` of the request. Its
// body is not judged: RFC 9110 §15.6 asks for an explanation only as a SHOULD.
CheckResult CheckServerError(const HttpResponse& response, long preferred, double bound_ms);

}  // namespace streamcheck::harness
