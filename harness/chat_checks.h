// Checks of OpenAI-compatible chat completion streams, as pure functions of
// the stream's ChatSummary (harness/chat_stream.h) and the response around it.
#pragma once

#include <string>
#include <vector>

#include "harness/check_result.h"
#include "harness/http_client.h"

namespace streamcheck::harness {

// Every data event before [DONE] is a chat.completion.chunk with one id.
CheckResult CheckChunkSchema(const HttpResponse& response);
// `data: [DONE]` exactly once, as the last event.
CheckResult CheckDoneTerminator(const HttpResponse& response);
// The concatenated delta.content of choice 0 equals `expected`.
CheckResult CheckContentParity(const HttpResponse& response, const std::string& expected);
// The first chunk's delta carries "role": "assistant".
CheckResult CheckRoleFirst(const HttpResponse& response);
// Each choice gets exactly one non-null finish_reason, and no content after it.
CheckResult CheckFinishReason(const HttpResponse& response);
// Every finish_reason is one of OpenAI's: stop, length, tool_calls,
// content_filter, function_call.
CheckResult CheckFinishReasonValue(const HttpResponse& response);
// The body is valid UTF-8.
CheckResult CheckUtf8(const HttpResponse& response);
// No block the OpenAI SDKs misread: data-less blocks they dispatch, named events.
CheckResult CheckSdkSafe(const HttpResponse& response);
// OpenAI's chunk format only; fails naming each vendor extension seen.
CheckResult CheckVendorExtensions(const HttpResponse& response);
// Choice 0's first tool call has this name and these concatenated arguments,
// and the choice finished with "tool_calls".
CheckResult CheckToolCall(const HttpResponse& response, const std::string& name,
                          const std::string& arguments);
// Choices 0..n-1 (n = expected.size()) and no others, choice i streaming
// exactly expected[i].
CheckResult CheckChoiceTexts(const HttpResponse& response,
                             const std::vector<std::string>& expected);
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

// The concatenated delta.content of choice 0 of a chat stream (at most
// ChatSummary::kMaxText bytes of it).
const std::string& StreamedText(const HttpResponse& response);

}  // namespace streamcheck::harness
