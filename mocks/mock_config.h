// The mock backend's configuration: every knob a conformance case can turn,
// one table (kConfigKeys) that gives each key its type, range, default and
// meaning, and the parsing that refuses anything outside it. `PUT /_mock/config`,
// `streamcheck mock --config` and MockControl::SetConfig all go through
// ConfigFromJson, so a bad value gets the same message everywhere, naming the
// key and its range; `streamcheck mock --help` prints the table (ConfigHelp).
#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace streamcheck::mocks {

// SSE framings the mock can produce, to exercise parsers and checks.
enum class SseVariant {
  kStandard,          // "data: {...}\n\n"
  kCrlf,              // CRLF line ends
  kCr,                // lone CR line ends
  kBom,               // a UTF-8 BOM first
  kComments,          // ": keep-alive" comment lines between events
  kMultiTokenChunks,  // several events per write
  kBytePerWrite,      // every byte its own write
  kNoDone,            // no "data: [DONE]"
};

// Content-Encoding of response bodies. A NIM compresses nothing; api.openai.com
// gzips whenever the client allows it.
enum class Compression { kNone, kGzip };

// How GET /large-file frames its body. kAuto is how a NIM (uvicorn) sends a
// body whose length it knows: Content-Length, and chunked only when the body
// is gzipped (its length is not known before it is sent). Chunked is never
// the default: DataRobot DRUM's Flask /directAccess/ copies an upstream's
// `Transfer-Encoding: chunked` onto a body it read whole, and with a chunked
// default every direct.* case on such a server would fail on that framing
// defect rather than on what it checks. direct.response-framing asks for a
// chunked upstream itself and catches the defect there.
enum class BodyFraming {
  kAuto,     // Content-Length, unless the body is gzipped: then chunked
  kLength,   // Content-Length always (excludes compress gzip)
  kChunked,  // Transfer-Encoding: chunked always
};

// Defaults here are the "default" column of kConfigKeys (a test holds them equal).
struct MockConfig {
  std::uint64_t seed = 42;

  // Byte streams (/large-file).
  double size_mb = 1;
  std::size_t chunk_size = 64 * 1024;
  double rate_mib_s = 0;
  BodyFraming framing = BodyFraming::kAuto;

  // Chat completions.
  int token_count = 16;
  int token_delay_ms = 0;
  SseVariant sse_variant = SseVariant::kStandard;
  bool stamp_tokens = false;

  Compression compress = Compression::kNone;

  // The gate. -1: no gate.
  long long gate_after_tokens = -1;
  long long gate_after_bytes = -1;
  int gate_timeout_ms = 10'000;

  // Faults. -1: off.
  long long fail_after_tokens = -1;
  long long error_event_after_tokens = -1;
  long long truncate_after_bytes = -1;
  long long reset_after_bytes = -1;
  long long stall_after_bytes = -1;
  int stall_ms = 0;
  int headers_delay_ms = 0;

  bool operator==(const MockConfig&) const = default;
};

enum class KeyType { kUnsigned64, kInteger, kNumber, kBoolean, kChoice };

// One configuration key. Integers must be JSON integers (3.0 is refused) within
// [min, max]; numbers any finite JSON number within [min_number, max_number];
// a choice one of the '|'-separated `choices`.
struct ConfigKey {
  std::string_view name;
  KeyType type;
  long long min = 0;
  long long max = 0;
  double min_number = 0;
  double max_number = 0;
  std::string_view choices;
  std::string_view default_value;  // as JSON
  std::string_view meaning;
};

// Offsets and counts of faults and gates: up to 2^50 (1 PiB), -1 for off.
inline constexpr long long kMaxOffset = 1LL << 50;
inline constexpr long long kMaxWaitMs = 3'600'000;  // one hour

inline constexpr ConfigKey kConfigKeys[] = {
    {"seed", KeyType::kUnsigned64, 0, 0, 0, 0, "", "42", "seed of every byte and token; 0..2^64-1"},
    {"size_mb", KeyType::kNumber, 0, 0, 0, 1'048'576, "", "1",
     "GET /large-file body size in MiB, fractions allowed (?size_mb= overrides per request)"},
    {"chunk_size", KeyType::kInteger, 1, 16 << 20, 0, 0, "", "65536",
     "bytes per write of /large-file (and per chunk of its chunked framing)"},
    {"rate_mib_s", KeyType::kNumber, 0, 0, 0, 1'000'000, "", "0",
     "pace /large-file at this many MiB/s; 0: as fast as the client reads; else at least 0.001"},
    {"framing", KeyType::kChoice, 0, 0, 0, 0, "auto|length|chunked", "\"auto\"",
     "/large-file framing. auto: Content-Length, chunked only when the body is gzipped (as a NIM "
     "sends a body of known length); length: Content-Length (not with compress gzip); chunked: "
     "Transfer-Encoding: chunked"},
    {"token_count", KeyType::kInteger, 0, 10'000'000, 0, 0, "", "16",
     "completion tokens per choice (a request's max_tokens may lower it)"},
    {"token_delay_ms", KeyType::kInteger, 0, 600'000, 0, 0, "", "0",
     "pause before each streamed token"},
    {"sse_variant", KeyType::kChoice, 0, 0, 0, 0,
     "standard|crlf|cr|bom|comments|multi_token_chunks|byte_per_write|no_done", "\"standard\"",
     "SSE framing of chat streams"},
    {"stamp_tokens", KeyType::kBoolean, 0, 0, 0, 0, "", "false",
     "each content token carries its send time: \"@<CLOCK_MONOTONIC ns> \" before its word"},
    {"compress", KeyType::kChoice, 0, 0, 0, 0, "none|gzip", "\"none\"",
     "gzip: every response body gzipped (flushed per write) when Accept-Encoding allows it"},
    {"gate_after_tokens", KeyType::kInteger, -1, kMaxOffset, 0, 0, "", "-1",
     "chat streams hold after this many tokens until the gate opens; -1: no gate"},
    {"gate_after_bytes", KeyType::kInteger, -1, kMaxOffset, 0, 0, "", "-1",
     "/large-file holds after this many bytes until the gate opens; -1: no gate"},
    {"gate_timeout_ms", KeyType::kInteger, 1, kMaxWaitMs, 0, 0, "", "10000",
     "the gate opens by itself (opened_by \"timeout\") after this long"},
    {"fail_after_tokens", KeyType::kInteger, -1, kMaxOffset, 0, 0, "", "-1",
     "cut the chat stream after this many tokens: no [DONE], no end of the chunked body"},
    {"error_event_after_tokens", KeyType::kInteger, -1, kMaxOffset, 0, 0, "", "-1",
     "after this many tokens an in-band error event, then a clean end without [DONE]"},
    {"truncate_after_bytes", KeyType::kInteger, -1, kMaxOffset, 0, 0, "", "-1",
     "/large-file closes the connection after this many bytes (FIN)"},
    {"reset_after_bytes", KeyType::kInteger, -1, kMaxOffset, 0, 0, "", "-1",
     "/large-file resets the connection (RST) after this many bytes"},
    {"stall_after_bytes", KeyType::kInteger, -1, kMaxOffset, 0, 0, "", "-1",
     "/large-file pauses stall_ms once after this many bytes, then goes on"},
    {"stall_ms", KeyType::kInteger, 0, kMaxWaitMs, 0, 0, "", "0", "length of that pause"},
    {"headers_delay_ms", KeyType::kInteger, 0, kMaxWaitMs, 0, 0, "", "0",
     "chat, /large-file and /echo wait this long before sending headers"},
};

// The smallest rate_mib_s above 0: slower is a parked handler, not a test.
inline constexpr double kMinRateMibS = 0.001;

// The range of a key in words, e.g. "an integer in 1..16777216".
std::string RangeText(const ConfigKey& key);

// Keys absent from `json` keep their defaults; unknown keys, wrong types and
// values out of range are errors naming the key and what it accepts.
Result<MockConfig> ConfigFromJson(const nlohmann::json& json);
// ConfigFromJson of a body from a client: depth-bounded parse first.
Result<MockConfig> ConfigFromText(std::string_view text);
nlohmann::json ToJson(const MockConfig& config);
// The same rules for a config built in C++ (MockControl::SetConfig).
Status ValidateConfig(const MockConfig& config);

// A query parameter such as ?size_mb=: a finite decimal number within the
// key's range, or an error naming the parameter and the range.
Result<double> ParseNumberParameter(std::string_view name, std::string_view text);

// The table as text for `streamcheck mock --help`: key, type and range,
// default, meaning.
std::string ConfigHelp();

std::string_view ToString(SseVariant variant);
std::string_view ToString(Compression compression);
std::string_view ToString(BodyFraming framing);

}  // namespace streamcheck::mocks
