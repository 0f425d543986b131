// HTTP/1.1 pieces of the mock's own server (mocks/http_server.h), free of
// sockets so they are tested alone: decoding request targets and query strings
// the way cpp-httplib did (the echo route's JSON keeps its meaning), reading
// Accept-Encoding, and writing response heads and chunk framing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamcheck::mocks::wire {

using Headers = std::vector<std::pair<std::string, std::string>>;

// %XX decoded (an invalid escape stays as it is); '+' becomes a space only
// when `plus_is_space` (query strings, not paths).
std::string PercentDecode(std::string_view text, bool plus_is_space);

// "a=1&b=two&a=3&empty=" as decoded (key, value) pairs in order.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

// Whether a request with this Accept-Encoding value (absent: nullopt) takes a
// gzip body: "gzip" or "x-gzip" or "*" with a q-value above 0, unless gzip
// itself is given q=0.
bool AcceptsGzip(const std::optional<std::string>& accept_encoding);

std::string_view ReasonPhrase(int status);

// "HTTP/1.1 <status> <reason>\r\n" and the header lines and the blank line.
std::string ResponseHead(int status, const Headers& headers);

// The framing of one chunk of a chunked body: "<hex size>\r\n" before it and
// "\r\n" after. The last chunk is "0\r\n\r\n".
std::string ChunkHeader(std::size_t size);
inline constexpr std::string_view kChunkEnd = "\r\n";
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The first header named `name` (case-insensitive).
std::optional<std::string> FindHeader(const Headers& headers, std::string_view name);

}  // namespace streamcheck::mocks::wire
