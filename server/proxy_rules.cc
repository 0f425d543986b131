#include "server/proxy_rules.h"

#include <algorithm>

#include "common/text.h"

namespace streamcheck::server {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The comma-separated elements of a list-valued field (RFC 9110 §5.6.1),
// trimmed, lower-cased, empty elements dropped.
std::vector<std::string> ListElements(std::string_view value) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    auto comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    std::string token = ToLower(TrimHeaderValue(value.substr(start, comma - start)));
    if (!token.empty()) out.push_back(std::move(token));
    start = comma + 1;
  }
  return out;
}

}  // namespace

std::set<std::string> HopByHopHeaders(std::string_view connection_value) {
  std::set<std::string> names = {"connection",          "keep-alive", "proxy-authenticate",
                                 "proxy-authorization", "te",         "trailer",
                                 "transfer-encoding",   "upgrade",    "proxy-connection"};
  for (auto& token : ListElements(connection_value)) names.insert(std::move(token));
  return names;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::optional<std::string> ConfinedPath(const std::string& raw_path) {
  // An encoded '/' would be one segment here and two at a backend that decodes
  // it; an encoded NUL ends a C string early. Neither is a path worth serving.
  std::string lower = ToLower(raw_path);
  if (lower.find("%2f") != std::string::npos || lower.find("%00") != std::string::npos ||
      lower.find("%5c") != std::string::npos) {
    return std::nullopt;
  }
  std::string decoded = PercentDecode(raw_path);
  if (decoded.find('\\') != std::string::npos) return std::nullopt;
  std::size_t start = 0;
  while (start <= decoded.size()) {
    auto slash = decoded.find('/', start);
    if (slash == std::string::npos) slash = decoded.size();
    std::string segment = decoded.substr(start, slash - start);
    bool last = slash == decoded.size();
    if (segment == "." || segment == "..") return std::nullopt;
    if (segment.empty() && !last) return std::nullopt;  // "//" or a leading "/"
    start = slash + 1;
  }
  return raw_path;
}

std::string FrameSseEvent(const sse::Event& event, bool space_after_colon) {
  const char* data_field = space_after_colon ? "data: " : "data:";
  std::string out;
  if (event.type != "message") out += "event: " + event.type + "\n";
  std::size_t start = 0;
  while (true) {
    auto lf = event.data.find('\n', start);
    out += data_field + event.data.substr(start, lf - start) + "\n";
    if (lf == std::string::npos) break;
    start = lf + 1;
  }
  return out + "\n";
}

bool SafeFieldValue(std::string_view value) {
  return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

FramingVerdict CheckRequestFraming(const std::vector<std::string_view>& transfer_encodings,
                                   const std::vector<std::string_view>& content_lengths,
                                   bool http10) {
  if (!transfer_encodings.empty()) {
    // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (http10) return {400, "Transfer-Encoding in an HTTP/1.0 request"};
    // RFC 9112 §6.3 (3): both is a smuggling attempt; Beast refuses it too.
    if (!content_lengths.empty()) return {400, "both Content-Length and Transfer-Encoding"};
    std::vector<std::string> codings;
    for (auto v : transfer_encodings) {
      for (auto& c : ListElements(v)) codings.push_back(std::move(c));
    }
    // RFC 9112 §6.3 (4): chunked not last means the length cannot be known:
    // 400 and close.
    if (codings.empty() || codings.back() != "chunked") {
      return {400, "Transfer-Encoding does not end in chunked"};
    }
    // RFC 9112 §7: chunked is applied at most once.
    if (std::count(codings.begin(), codings.end(), "chunked") > 1) {
      return {400, "chunked applied more than once"};
    }
    // RFC 9112 §6.1: a transfer coding the server does not understand: 501.
    if (codings.size() > 1) return {501, "transfer coding \"" + codings.front() + "\""};
  }
  // RFC 9110 §8.6: duplicate or listed equal values MAY be merged or the
  // message rejected as invalid; Beast merges, this server rejects. RFC 9112
  // §6.3 (5): an invalid Content-Length in a request is a 400, then close.
  if (content_lengths.size() > 1) return {400, "more than one Content-Length"};
  if (content_lengths.size() == 1) {
    auto v = content_lengths.front();
    if (v.empty() || v.size() > 19 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return {400, "Content-Length is not a decimal number"};
    }
  }
  return {};
}

}  // namespace streamcheck::server
