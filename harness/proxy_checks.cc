#include "harness/proxy_checks.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common/json_bounded.h"
#include "common/text.h"
#include "mocks/content.h"

namespace streamcheck::harness {
namespace {

using nlohmann::json;

std::string StringField(const json& j, const char* key, std::string fallback = "") {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return fallback;
  return j[key].get<std::string>();
}

std::optional<long long> IntField(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number_integer()) return std::nullopt;
  return j[key].get<long long>();
}

// The echo route's JSON, or null with a failure message.
nlohmann::json EchoJson(const HttpResponse& echo, std::string& failure) {
  auto j = ParseJsonOrNull(echo.body);
  if (echo.status != 200 || !j.is_object() || !j.contains("method")) {
    failure = "expected the backend's echo (200, JSON), got status " + std::to_string(echo.status) +
              " \"" + Excerpt(echo.body) + "\"";
    return nullptr;
  }
  return j;
}

using FindHeader = std::function<std::optional<std::string>(const std::string&)>;

// Does the comma-separated Connection value name `option`?
bool NamesOption(const std::string& connection, const std::string& option) {
  std::string lower = ToLower(connection);
  std::size_t start = 0;
  while (start <= lower.size()) {
    auto comma = lower.find(',', start);
    if (comma == std::string::npos) comma = lower.size();
    std::string token = lower.substr(start, comma - start);
    token.erase(0, token.find_first_not_of(" \t"));
    token.erase(token.find_last_not_of(" \t") + 1);
    if (token == ToLower(option)) return true;
    start = comma + 1;
  }
  return false;
}

// Both directions: `where` says who received the message ("the backend",
// "the client").
CheckResult CheckHopByHop(const FindHeader& find, const Headers& present,
                          const std::vector<std::string>& absent,
                          const std::string& connection_option, const std::string& where) {
  std::string missing, leaked;
  for (const auto& [name, value] : present) {
    auto got = find(name);
    if (!got || *got != value) missing += (missing.empty() ? "" : ", ") + name;
  }
  for (const auto& name : absent) {
    auto got = find(name);
    // "TE: trailers" is a proxy's own option for the next hop (RFC 9110
    // §10.1.4), which §7.6.1 lets it put in place of the client's.
    if (got && ToLower(name) == "te" && ToLower(*got) == "trailers") continue;
    if (got) leaked += (leaked.empty() ? "" : ", ") + name;
  }
  auto connection = find("Connection");
  if (!connection_option.empty() && connection && NamesOption(*connection, connection_option)) {
    leaked += (leaked.empty() ? "" : ", ") + std::string("Connection: ") + *connection;
  }
  if (missing.empty() && leaked.empty()) return CheckResult::Pass();
  std::string message = "expected end-to-end headers forwarded and hop-by-hop ones dropped;";
  if (!missing.empty()) message += " not forwarded (or changed): " + missing + ";";
  if (!leaked.empty()) message += " hop-by-hop headers that reached " + where + ": " + leaked;
  return CheckResult::Fail(message);
}

std::string Mib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return text;
}

}  // namespace

CheckResult CheckResponseFraming(const HttpResponse& r) {
  auto te = r.Header("Transfer-Encoding");
  auto cl = r.Header("Content-Length");
  if (te && cl) {
    return CheckResult::Fail("expected Transfer-Encoding or Content-Length, got both (" + *te +
                             ", " + *cl + "): the framing is ambiguous");
  }
  if (cl) {
    char* end = nullptr;
    unsigned long long length = std::strtoull(cl->c_str(), &end, 10);
    if (end == cl->c_str() || *end != '\0') {
      return CheckResult::Fail("expected a numeric Content-Length, got \"" + *cl + "\"");
    }
    if (length != r.body_bytes) {
      return CheckResult::Fail("expected " + *cl + " bytes as Content-Length says, got " +
                               std::to_string(r.body_bytes));
    }
  }
  if (!r.complete) return CheckTransferComplete(r);
  return CheckResult::Pass();
}

CheckResult CheckPartialContent(const HttpResponse& r, const std::string& content_range) {
  if (r.status != 206) {
    return CheckResult::Fail("expected the backend's 206 Partial Content (" + content_range +
                             "), got status " + std::to_string(r.status));
  }
  std::vector<std::string> ranges;
  for (const auto& [name, value] : r.headers) {
    if (EqualsIgnoreCase(name, "Content-Range")) ranges.push_back(value);
  }
  if (ranges.size() != 1) {
    std::string seen;
    for (const auto& v : ranges) seen += (seen.empty() ? "\"" : ", \"") + Excerpt(v, 80) + "\"";
    return CheckResult::Fail("expected one Content-Range (" + content_range + "), got " +
                             std::to_string(ranges.size()) + (seen.empty() ? "" : ": " + seen));
  }
  if (ranges[0] != content_range) {
    return CheckResult::Fail("expected the backend's Content-Range \"" + content_range +
                             "\", got \"" + Excerpt(ranges[0], 80) + "\"");
  }
  // "bytes FIRST-LAST/SIZE": the body holds LAST - FIRST + 1 bytes.
  unsigned long long first = 0, last = 0;
  if (std::sscanf(content_range.c_str(), "bytes %llu-%llu/", &first, &last) == 2 &&
      r.body_bytes != last - first + 1) {
    return CheckResult::Fail("expected " + std::to_string(last - first + 1) + " bytes as " +
                             content_range + " says, got " + std::to_string(r.body_bytes));
  }
  if (!r.complete) return CheckTransferComplete(r);
  return CheckResult::Pass();
}

CheckResult CheckTruncationVisible(const HttpResponse& r) {
  // No response at all (an empty reply, an HTTP/2 RST_STREAM before the
  // headers): the client sees the failure. Whether the server answers at all
  // is the case's precondition.
  if (r.status == 0) {
    // libcurl: empty reply (52), receive failure or reset (56), HTTP/2 stream
    // or framing error (92, 16), partial file (18). Not a refused connection
    // or a timeout: those say nothing about a cut.
    for (int cut : {52, 56, 92, 16, 18}) {
      if (r.curl_code == cut) return CheckResult::Pass();
    }
    return CheckResult::Fail("expected a response that breaks off, got none: " + r.error);
  }
  // A proxy that learns of the failure before its headers may say so with a 5xx.
  if (r.complete && r.status >= 500) return CheckResult::Pass();
  if (r.complete) {
    return CheckResult::Fail(
        "expected the client to see the body cut short (an unterminated chunked body or fewer "
        "bytes than Content-Length); it got a clean end after " +
        std::to_string(r.body_bytes) + " bytes, indistinguishable from a whole body");
  }
  return CheckResult::Pass();
}

CheckResult CheckPassthrough(const HttpResponse& r, long status, const std::string& body) {
  if (r.status != status) {
    return CheckResult::Fail("expected the backend's status " + std::to_string(status) + ", got " +
                             std::to_string(r.status) + " (body \"" + Excerpt(r.body) + "\")");
  }
  if (r.body != body) {
    return CheckResult::Fail("expected the backend's body \"" + Excerpt(body) + "\" with the " +
                             std::to_string(status) + ", got \"" + Excerpt(r.body) + "\"");
  }
  return CheckResult::Pass();
}

CheckResult CheckEcho(const HttpResponse& echo, const std::string& method,
                      std::uint64_t body_length, const std::string& body_sha256) {
  std::string failure;
  auto j = EchoJson(echo, failure);
  if (j.is_null()) return CheckResult::Fail(failure);
  if (StringField(j, "method") != method) {
    return CheckResult::Fail("expected the backend to see " + method + ", it saw " +
                             StringField(j, "method", "?"));
  }
  auto length = static_cast<std::uint64_t>(IntField(j, "body_length").value_or(0));
  if (length != body_length || StringField(j, "body_sha256") != body_sha256) {
    return CheckResult::Fail("expected the backend to get the " + std::to_string(body_length) +
                             "-byte " + method + " body intact, it got " + std::to_string(length) +
                             " bytes" + (length == body_length ? " with a different SHA-256" : ""));
  }
  return CheckResult::Pass();
}

CheckResult CheckEchoQuery(const HttpResponse& echo,
                           const std::vector<std::pair<std::string, std::string>>& query) {
  std::string failure;
  auto j = EchoJson(echo, failure);
  if (j.is_null()) return CheckResult::Fail(failure);
  std::map<std::string, std::vector<std::string>> expected;
  for (const auto& [k, v] : query) expected[k].push_back(v);
  const json seen = j.contains("query") && j["query"].is_object() ? j["query"] : json::object();
  for (const auto& [key, values] : expected) {
    // The echo came through the server under test: read it defensively.
    std::vector<std::string> got;
    if (seen.contains(key) && seen[key].is_array()) {
      for (const auto& v : seen[key])
        got.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    }
    if (got != values) {
      std::string want, have;
      for (const auto& v : values) want += (want.empty() ? "" : ",") + v;
      for (const auto& v : got) have += (have.empty() ? "" : ",") + v;
      return CheckResult::Fail("expected the backend to see " + key + "=" + want + ", it saw " +
                               (got.empty() ? "no " + key : key + "=" + have) + " (target " +
                               StringField(j, "target", "?") + ")");
    }
  }
  return CheckResult::Pass();
}

CheckResult CheckEchoHeaders(const HttpResponse& echo, const Headers& present,
                             const std::vector<std::string>& absent,
                             const std::string& connection_option) {
  std::string failure;
  auto j = EchoJson(echo, failure);
  if (j.is_null()) return CheckResult::Fail(failure);
  auto find = [&](const std::string& name) -> std::optional<std::string> {
    if (!j.contains("headers") || !j["headers"].is_object()) return std::nullopt;
    for (const auto& [n, values] : j["headers"].items()) {
      if (ToLower(n) == ToLower(name) && values.is_array() && !values.empty() &&
          values[0].is_string()) {
        return values[0].get<std::string>();
      }
    }
    return std::nullopt;
  };
  return CheckHopByHop(find, present, absent, connection_option, "the backend");
}

CheckResult CheckResponseHeaders(const HttpResponse& response, const Headers& present,
                                 const std::vector<std::string>& absent,
                                 const std::string& connection_option) {
  if (response.status == 0) {
    return CheckResult::Fail("expected the backend's response, got none: " + response.error);
  }
  auto find = [&](const std::string& name) { return response.Header(name); };
  return CheckHopByHop(find, present, absent, connection_option, "the client");
}

BackendLead MaxBackendLead(const std::vector<ArrivalPoint>& sent, const HttpResponse& client) {
  BackendLead lead;
  const auto& read = client.arrivals;
  double start = std::max(0.0, client.t_first_byte_ms);
  for (const auto& point : sent) {
    double at = start + point.t_ms;
    // The client's count at the first point at or after `at`: no less than
    // what it had read by then.
    auto later = std::lower_bound(read.begin(), read.end(), at,
                                  [](const ArrivalPoint& p, double t) { return p.t_ms < t; });
    std::uint64_t had = later == read.end() ? client.body_bytes : later->bytes;
    double ahead = point.bytes > had ? double(point.bytes - had) : 0.0;
    if (ahead / (1024.0 * 1024.0) > lead.max_mib) {
      lead = {ahead / (1024.0 * 1024.0), at, point.bytes, had};
    }
  }
  return lead;
}

namespace {
// The maximum (third) figure of /proc/sys/net/ipv4/tcp_rmem or tcp_wmem.
std::uint64_t TcpBufferMax(const char* path) {
  std::ifstream in(path);
  std::uint64_t min = 0, initial = 0, max = 0;
  in >> min >> initial >> max;
  return in ? max : 0;
}
}  // namespace

double BackendLeadAllowanceMib(std::uint64_t client_recv_buffer) {
  constexpr double kFloorMib = 16, kProxyOwnMib = 4;
  const auto rmem = TcpBufferMax("/proc/sys/net/ipv4/tcp_rmem");
  const auto wmem = TcpBufferMax("/proc/sys/net/ipv4/tcp_wmem");
  if (rmem == 0 || wmem == 0) return kFloorMib;
  const double buffers = double(2 * wmem + rmem + 2 * client_recv_buffer) / double(mocks::kMiB);
  return std::max(kFloorMib, buffers + kProxyOwnMib);
}

CheckResult CheckBackendLead(const std::vector<ArrivalPoint>& sent, const HttpResponse& client,
                             double bound_mib) {
  if (sent.empty()) {
    return CheckResult::Fail(
        "expected the backend's send timeline of the body; the backend recorded none (its "
        "transfer was never seen to end)");
  }
  auto lead = MaxBackendLead(sent, client);
  if (lead.max_mib <= bound_mib) return CheckResult::Pass();
  char when[32];
  std::snprintf(when, sizeof when, "%.2f s", lead.at_ms / 1000.0);
  return CheckResult::Fail(
      "expected the backend at most " + Mib(bound_mib * 1024 * 1024) +
      " ahead of the client (a proxy reads its upstream as its client drains); at " + when +
      " the backend had sent " + Mib(double(lead.sent)) + " while the client had read " +
      Mib(double(lead.read)) + ": " + Mib(double(lead.sent - lead.read)) +
      " held by the server, in memory or on disk (" + Mib(double(sent.back().bytes)) + " sent in " +
      std::to_string(int(sent.back().t_ms)) + " ms, read in " +
      std::to_string(int(client.t_last_byte_ms)) + " ms)");
}

CheckResult CheckContentCoding(const HttpResponse& r, const std::string& expected_hex) {
  const std::string label = r.Header("Content-Encoding").value_or("");
  const std::string labelled =
      label.empty() ? "no Content-Encoding (identity)" : "Content-Encoding: " + label;
  // libcurl's CURLE_BAD_CONTENT_ENCODING: the bytes do not decode by their label.
  constexpr int kBadContentEncoding = 61;
  if (r.curl_code == kBadContentEncoding) {
    return CheckResult::Fail("the body is labelled " + labelled +
                             " but its bytes do not decode that way (" + r.error +
                             "): a client fails on it");
  }
  if (!r.complete) return CheckTransferComplete(r);
  if (r.sha256 == expected_hex) return CheckResult::Pass();
  if (label.empty() && r.body.size() >= 2 && r.body[0] == '\x1f' && r.body[1] == '\x8b') {
    return CheckResult::Fail(
        "the body is gzip (it starts 1f 8b) but the response has no Content-Encoding: a "
        "client reads compressed bytes as the content (the backend's Content-Encoding was "
        "dropped)");
  }
  return CheckResult::Fail(
      "the body, decoded by its label (" + labelled + "), is not the backend's: SHA-256 " +
      r.sha256 + " over " + std::to_string(r.body_bytes) + " bytes (" +
      std::to_string(r.wire_bytes) + " on the wire), expected " + expected_hex);
}

CheckResult CheckServerError(const HttpResponse& r, long preferred, double bound_ms) {
  if (r.status == 0) {
    return CheckResult::Fail("expected a " + std::to_string(preferred) + " within " +
                             std::to_string(int(bound_ms / 1000)) + " s, got no response after " +
                             std::to_string(int(r.t_total_ms)) + " ms: " + r.error);
  }
  if (r.status < 500 || r.status > 599) {
    return CheckResult::Fail("expected a 5xx (" + std::to_string(preferred) + "), got " +
                             std::to_string(r.status) + " \"" + Excerpt(r.body) + "\"");
  }
  if (r.t_headers_ms > bound_ms) {
    return CheckResult::Fail("expected the " + std::to_string(r.status) + " within " +
                             std::to_string(int(bound_ms)) + " ms, it took " +
                             std::to_string(int(r.t_headers_ms)) + " ms");
  }
  // An explaining body is a SHOULD (RFC 9110 §15.6): the case notes it.
  return CheckResult::Pass();
}

}  // namespace streamcheck::harness
