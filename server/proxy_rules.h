// The rules of the reference server's relay and proxy as pure functions: which
// headers are hop-by-hop, which /directAccess/ paths stay inside the backend,
// how a relayed SSE event is framed, and which request heads have framing the
// server will not guess at. Kept apart from the I/O so tests can probe each
// rule directly.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sse/sse_parser.h"

namespace streamcheck::server {

// RFC 9110 §7.6.1: the hop-by-hop header names (lower case), plus those a
// Connection header value names.
std::set<std::string> HopByHopHeaders(std::string_view connection_value);

// RFC 3986 §2.1 percent-decoding; a '%' not followed by two hex digits stays.
std::string PercentDecode(std::string_view s);

// The path after "/directAccess/" as it came on the wire, if it stays inside
// the backend: no "." or ".." segment (also percent-encoded), no empty segment
// that could make "//host", no backslash, no encoded '/' or NUL. nullopt:
// refuse it.
std::optional<std::string> ConfinedPath(const std::string& raw_path);

// An SSE event as the reference server frames it: an `event:` line unless the
// type is "message", one `data:` line per data line, then a blank line. Both
// `data: x` and `data:x` carry the same data; the server writes the space.
std::string FrameSseEvent(const sse::Event& event, bool space_after_colon = true);

// A header value that can be written into a request head as it is: no CR, LF
// or NUL (RFC 9110 §5.5). Beast's parser never yields another kind; this
// guards what the server itself puts on the wire.
bool SafeFieldValue(std::string_view value);

// What a request head's message framing allows, beyond what Beast's parser
// already refused (RFC 9112 §6.1, §6.3).
struct FramingVerdict {
  int status = 0;  // 0: acceptable; else 400 or 501, and the connection closes
  std::string reason;
};
// `transfer_encodings` and `content_lengths` are the values of every such
// field line, in order; `http10` for an HTTP/1.0 request.
FramingVerdict CheckRequestFraming(const std::vector<std::string_view>& transfer_encodings,
                                   const std::vector<std::string_view>& content_lengths,
                                   bool http10);

}  // namespace streamcheck::server
