// The conformance checks as pure functions of what the client runner saw.
// Each returns ok or a message that says what was expected and what was seen,
// and each is unit-tested against a deliberately broken input.
#pragma once

#include <cstdint>
#include <string>

#include "harness/http_client.h"
#include "harness/process_memory.h"

namespace streamcheck::harness {

struct CheckResult {
  bool ok = true;
  std::string message;  // empty when ok
  static CheckResult Pass() { return {}; }
  static CheckResult Fail(std::string message) { return {false, std::move(message)}; }
};

// The transfer itself completed (not refused, timed out or cut).
CheckResult CheckTransferComplete(const HttpResponse& response);
CheckResult CheckStatus(const HttpResponse& response, long expected);
// Media type (before any ';' parameters), case-insensitive.
CheckResult CheckMediaType(const HttpResponse& response, const std::string& expected);
// The first non-comment line of an event stream starts with "data:".
CheckResult CheckFirstLineIsData(const HttpResponse& response);
// The body parsed as an event stream and ended on an event boundary.
CheckResult CheckSseGrammar(const HttpResponse& response);
// Every data event before [DONE] is a chat.completion.chunk with one id.
CheckResult CheckChunkSchema(const HttpResponse& response);
// `data: [DONE]` exactly once, as the last event.
CheckResult CheckDoneTerminator(const HttpResponse& response);
// The concatenated delta.content of choice 0 equals `expected`.
CheckResult CheckContentParity(const HttpResponse& response, const std::string& expected);
// Exactly `expected` body bytes arrived.
CheckResult CheckByteCount(const HttpResponse& response, std::uint64_t expected);
CheckResult CheckSha256(const HttpResponse& response, const std::string& expected_hex);
// Peak RSS growth of the target's process tree stayed within `limit_mib`.
CheckResult CheckRssGrowth(const RssSummary& rss, double limit_mib);

// The concatenated delta.content of choice 0 of a chat stream.
std::string StreamedText(const HttpResponse& response);
// The delta.content of choice 0 in one event's data ("" when it has none).
std::string DeltaContent(const std::string& event_data);

// Up to `max` bytes of `text`, with control bytes shown as escapes, for messages.
std::string Excerpt(std::string_view text, std::size_t max = 120);

}  // namespace streamcheck::harness

namespace streamcheck::harness {

// The first chunk's delta carries "role": "assistant".
CheckResult CheckRoleFirst(const HttpResponse& response);
// Each choice gets exactly one non-null finish_reason, on its last chunk.
CheckResult CheckFinishReason(const HttpResponse& response);
// A last chunk before [DONE] with choices [] and usage.completion_tokens == tokens.
CheckResult CheckUsage(const HttpResponse& response, int tokens);
// A non-streamed chat.completion whose message content equals `expected`.
CheckResult CheckCompletionContent(const HttpResponse& response, const std::string& expected);
// Cache-Control no-cache/no-store and X-Accel-Buffering: no.
CheckResult CheckNoCacheHeaders(const HttpResponse& response);
// A 4xx with a JSON body, and no event stream.
CheckResult CheckClientErrorJson(const HttpResponse& response);
// The stream ended without [DONE] (and did not hang: the transfer ended by itself).
CheckResult CheckEndedWithoutDone(const HttpResponse& response);
// Some event's data is a JSON object with an "error" member.
CheckResult CheckErrorEvent(const HttpResponse& response);
// Two streams of the same request carry the same events and text.
CheckResult CheckSameStream(const HttpResponse& a, const HttpResponse& b);

}  // namespace streamcheck::harness

namespace streamcheck::harness {

// Never both Transfer-Encoding and Content-Length; a Content-Length matches the body.
CheckResult CheckResponseFraming(const HttpResponse& response);
// The backend broke off mid-body: the client must see an incomplete response
// (or a 5xx, when the server knew before its headers), never a clean end of a
// shorter body.
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
// A 5xx (status `preferred` SHOULD) with a body, within `bound_ms` of the request.
CheckResult CheckServerError(const HttpResponse& response, long preferred, double bound_ms);

}  // namespace streamcheck::harness
