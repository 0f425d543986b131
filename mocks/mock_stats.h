// What the mock backend saw and did, as counters a conformance case reads
// after (or while) the server under test talks to it. MockStats crosses the
// HTTP control API as JSON (GET /_mock/stats) and must come back identical:
// StatsFromJson(ToJson(s)) == s for every s the mock produces.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace streamcheck::mocks {

// A transfer the client abandoned.
struct Cancellation {
  std::string path;
  double after_ms = 0;           // since the transfer started
  std::uint64_t bytes_sent = 0;  // before it noticed
  bool operator==(const Cancellation&) const = default;
};

// One point of a byte stream's send timeline: by `t_ms` after the transfer
// began, the kernel had accepted `bytes` of its body from the mock.
struct SendPoint {
  double t_ms = 0;
  std::uint64_t bytes = 0;
  bool operator==(const SendPoint&) const = default;
};

inline constexpr std::size_t kMaxTimelinePoints = 200;
inline constexpr std::size_t kMaxRecordedHeads = 16;
inline constexpr std::size_t kMaxHeadBytes = 64 * 1024;  // a longer head is refused (431)
inline constexpr std::size_t kMaxCaseIds = 4096;         // then further ids count as kOtherCases
inline constexpr const char* kOtherCases = "(other)";

struct MockStats {
  // Every request but the control API's (/_mock/...), whatever its answer,
  // 400 and 404 included; not those reset while suspended over HTTP.
  std::uint64_t requests = 0;
  std::uint64_t chat_requests = 0;
  // Per value of the X-Streamcheck-Case request header ("" without it).
  std::map<std::string, std::uint64_t> requests_by_case;
  // The last kMaxRecordedHeads request heads (request line and header lines,
  // through the blank line) byte for byte as received, oldest first.
  std::vector<std::string> request_heads;

  // Content bytes handed to the socket: before gzip and chunk framing.
  std::uint64_t body_bytes_sent = 0;
  // Request body bytes of /echo requests, counted as they arrive (before the
  // request is whole): what shows an upload streamed through a proxy.
  std::uint64_t request_body_bytes = 0;
  std::uint64_t transfers_started = 0;    // streamed responses begun
  std::uint64_t transfers_completed = 0;  // ended cleanly, the client holding every byte
  std::uint64_t transfers_cancelled = 0;  // the client went away (write failed, or EOF/RST read)
  std::uint64_t transfers_cut = 0;        // ended by a configured fault (fail, truncate, reset)
  std::optional<Cancellation> last_cancellation;
  std::uint64_t responses_gzipped = 0;  // responses sent with Content-Encoding: gzip
  std::uint64_t suspended_resets = 0;   // requests reset while suspended over HTTP

  bool gate_reached = false;
  std::string gate_opened_by;      // "", "harness" or "timeout"
  std::string last_stream_sha256;  // of the last chat stream sent whole (content bytes)
  std::uint64_t last_stream_bytes = 0;
  // The last /large-file transfer to end: its send timeline, at most
  // kMaxTimelinePoints points (evenly thinned as it grows), last point exact.
  std::vector<SendPoint> last_byte_stream_timeline;
  // method, path, target, query, headers, body_length, body_sha256
  nlohmann::json last_request = nlohmann::json::object();

  bool operator==(const MockStats&) const = default;
};

nlohmann::json ToJson(const MockStats& stats);
// Unknown keys are ignored (a newer mock may say more); missing ones default.
Result<MockStats> StatsFromJson(const nlohmann::json& json);

// Request heads are bytes; JSON strings are Unicode. Each byte maps to the code
// point of the same value (Latin-1), so any bytes survive the round trip.
std::string BytesToLatin1Utf8(const std::string& bytes);
Result<std::string> Latin1Utf8ToBytes(const std::string& text);

// `text` if it is valid UTF-8, else with each bad sequence replaced by U+FFFD:
// what may go into MockStats::last_request and JSON keys.
std::string ValidUtf8(const std::string& text);

}  // namespace streamcheck::mocks
