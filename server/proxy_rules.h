// The rules of the reference server's relay and proxy, public so that test
// fixtures built to break one rule can follow all the others exactly.
#pragma once

#include <httplib.h>

#include <optional>
#include <set>
#include <string>

#include "server/backend_stream.h"
#include "sse/sse_parser.h"

namespace streamcheck::server {

// RFC 9110 §7.6.1: the hop-by-hop header names (lower case), plus those a
// Connection header value names.
std::set<std::string> HopByHopHeaders(const std::string& connection_value);

// The path after "/directAccess/" as it came on the wire, if it stays inside
// the backend: no "." or ".." segment (also percent-encoded), no empty segment
// that could make "//host", no backslash. nullopt: refuse it.
std::optional<std::string> ConfinedPath(const std::string& raw_path);

// An SSE event as the reference server frames it: an `event:` line unless the
// type is "message", one `data:` line per data line, then a blank line. Both
// `data: x` and `data:x` carry the same data; the server writes the space.
std::string FrameSseEvent(const sse::Event& event, bool space_after_colon = true);

// Feeds a client's request body to the backend in pieces of up to 256 KiB:
// bounded memory, and few enough rounds through curl. Ends the upload either
// way; false when the backend stopped taking it.
bool StreamUpload(const httplib::ContentReader& reader, BackendStream& backend);

}  // namespace streamcheck::server
