// chat: POST /v1/chat/completions and /chat/completions with "stream": true.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "mocks/content.h"
#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using harness::CheckResult;
using harness::HttpResponse;
using reports::Level;

constexpr char kPrompt[] = "Hello";

// The streamed request of the seed plan, with its evidence recorded.
HttpResponse StreamHello(CaseContext& ctx, const std::string& path = "/v1/chat/completions") {
  auto request = ChatRequest(ctx, kPrompt, true, path);
  auto response = harness::Perform(request);
  ctx.Evidence("POST " + path + " " + request.body, response);
  return response;
}

std::string ExpectedText(CaseContext& ctx, const std::string& prompt) {
  auto config = ctx.backend().config();
  return mocks::CompletionText(config.seed, prompt, config.token_count);
}

CaseDef Case(std::string id, Level level, std::string title,
             std::function<void(CaseContext&)> body) {
  return {{std::move(id), "chat", level, std::move(title)}, "chat", std::move(body)};
}

void Incremental(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 5'000;
  ctx.backend().SetConfig(config);
  auto request = ChatRequest(ctx, kPrompt);
  auto gated = PerformGated(ctx, request, /*by_bytes=*/false);
  ctx.Evidence("POST /v1/chat/completions (backend gated after 1 token) " + request.body,
               gated.response);
  ctx.Expect(harness::CheckStatus(gated.response, 200));
  ctx.Expect(CheckBeforeGate(gated, "the stream after its first token"));
}

// The backend cuts the connection after 3 tokens.
HttpResponse StreamWithBackendCut(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.fail_after_tokens = 3;
  ctx.backend().SetConfig(config);
  auto request = ChatRequest(ctx, kPrompt);
  request.total_timeout = std::chrono::seconds(15);
  auto response = harness::Perform(request);
  ctx.Evidence("POST /v1/chat/completions (backend cuts after 3 tokens)", response);
  return response;
}

void Concurrent(CaseContext& ctx) {
  constexpr int kStreams = 64;
  std::vector<harness::HttpRequest> requests;
  for (int i = 0; i < kStreams; ++i) {
    requests.push_back(ChatRequest(ctx, "prompt " + std::to_string(i)));
    requests.back().total_timeout = std::chrono::seconds(60);
  }
  auto responses = harness::PerformAll(requests);
  int failed = 0;
  std::string first_failure;
  for (int i = 0; i < kStreams; ++i) {
    auto check = harness::CheckStatus(responses[i], 200);
    if (check.ok) check = harness::CheckDoneTerminator(responses[i]);
    if (check.ok) {
      check = harness::CheckContentParity(responses[i],
                                          ExpectedText(ctx, "prompt " + std::to_string(i)));
    }
    if (!check.ok && failed++ == 0)
      first_failure = "stream " + std::to_string(i) + ": " + check.message;
  }
  ctx.Metric("streams", kStreams);
  ctx.Metric("failed_streams", failed);
  if (failed > 0) {
    ctx.Expect(CheckResult::Fail("expected all " + std::to_string(kStreams) +
                                 " concurrent streams to complete with their own text; " +
                                 std::to_string(failed) + " did not. First: " + first_failure));
  }
}

void ClientAbort(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.token_count = 200;
  config.token_delay_ms = 50;
  ctx.backend().SetConfig(config);
  auto request = ChatRequest(ctx, kPrompt);
  request.abort_after_first_event = true;
  auto response = harness::Perform(request);
  ctx.Evidence("POST /v1/chat/completions, client leaves after the first event", response);
  if (response.events.empty()) {
    return ctx.Expect(
        CheckResult::Fail("expected a first event before leaving, got none: " + response.error));
  }
  bool cancelled = ctx.backend().WaitCancelled(std::chrono::seconds(2));
  auto stats = ctx.backend().stats();
  if (stats.last_cancellation)
    ctx.Metric("backend_cancelled_after_ms", stats.last_cancellation->after_ms);
  if (!cancelled) {
    ctx.Expect(CheckResult::Fail(
        "expected the backend request to be cancelled within 2 s of the client leaving; the "
        "backend was still streaming (" +
        std::to_string(stats.body_bytes_sent) + " bytes sent)"));
  }
}

}  // namespace

std::vector<CaseDef> ChatCases() {
  using harness::Perform;
  return {
      Case("chat.status", Level::kMust, "a valid streaming request gets 200",
           [](CaseContext& ctx) { ctx.Expect(harness::CheckStatus(StreamHello(ctx), 200)); }),
      Case("chat.content-type", Level::kMust,
           "media type text/event-stream (parameters such as charset allowed)",
           [](CaseContext& ctx) {
             ctx.Expect(harness::CheckMediaType(StreamHello(ctx), "text/event-stream"));
           }),
      Case("chat.first-line-data", Level::kMust,
           "the first non-comment line of the body starts with data:",
           [](CaseContext& ctx) { ctx.Expect(harness::CheckFirstLineIsData(StreamHello(ctx))); }),
      Case("chat.sse-grammar", Level::kMust,
           "the body parses as an event stream and ends on an event boundary",
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             ctx.Expect(harness::CheckTransferComplete(r));
             ctx.Expect(harness::CheckSseGrammar(r));
           }),
      Case("chat.chunk-schema", Level::kMust,
           "every data event before [DONE] is a chat.completion.chunk with one id",
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             ctx.Expect(harness::CheckSseGrammar(r));
             ctx.Expect(harness::CheckChunkSchema(r));
           }),
      Case("chat.role-first", Level::kShould, "the first chunk's delta carries role assistant",
           [](CaseContext& ctx) { ctx.Expect(harness::CheckRoleFirst(StreamHello(ctx))); }),
      Case("chat.finish-reason", Level::kMust,
           "each choice gets exactly one non-null finish_reason, on its last chunk",
           [](CaseContext& ctx) { ctx.Expect(harness::CheckFinishReason(StreamHello(ctx))); }),
      Case("chat.done-terminator", Level::kMust,
           "data: [DONE] arrives exactly once, as the last event",
           [](CaseContext& ctx) { ctx.Expect(harness::CheckDoneTerminator(StreamHello(ctx))); }),
      Case("chat.content-parity", Level::kMust,
           "the concatenated delta.content equals the backend's text",
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             ctx.Expect(harness::CheckContentParity(r, ExpectedText(ctx, kPrompt)));
           }),
      Case("chat.nonstream-parity", Level::kMust,
           "stream: false returns a chat.completion whose content equals the streamed text",
           [](CaseContext& ctx) {
             auto streamed = StreamHello(ctx);
             auto request = ChatRequest(ctx, kPrompt, /*stream=*/false);
             auto whole = Perform(request);
             ctx.Note("non-stream status " + std::to_string(whole.status) + "; ");
             ctx.Expect(harness::CheckStatus(whole, 200));
             ctx.Expect(harness::CheckCompletionContent(whole, harness::StreamedText(streamed)));
           }),
      Case("chat.usage", Level::kShould,
           "with stream_options.include_usage, a last chunk carries usage.completion_tokens",
           [](CaseContext& ctx) {
             auto request = ChatRequest(ctx, kPrompt);
             auto body = nlohmann::json::parse(request.body);
             body["stream_options"] = {{"include_usage", true}};
             request.body = body.dump();
             auto r = Perform(request);
             ctx.Evidence("POST /v1/chat/completions " + request.body, r);
             ctx.Expect(harness::CheckUsage(r, ctx.backend().config().token_count));
           }),
      Case("chat.incremental", Level::kMust,
           "with the backend gated after its first token, that token reaches the client first",
           Incremental),
      Case("chat.both-paths", Level::kMust,
           "/chat/completions and /v1/chat/completions give the same stream",
           [](CaseContext& ctx) {
             auto v1 = StreamHello(ctx);
             auto plain = StreamHello(ctx, "/chat/completions");
             ctx.Expect(harness::CheckSameStream(v1, plain));
           }),
      Case("chat.no-cache", Level::kShould,
           "Cache-Control: no-cache and X-Accel-Buffering: no, so intermediaries do not buffer",
           [](CaseContext& ctx) { ctx.Expect(harness::CheckNoCacheHeaders(StreamHello(ctx))); }),
      Case("chat.framing", Level::kInfo,
           "HTTP version, chunked or close-delimited, Connection; time to headers and events",
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             std::string te = r.Header("Transfer-Encoding").value_or("");
             ctx.Note("HTTP/" + r.http_version + ", " +
                      (te.empty()
                           ? (r.Header("Content-Length") ? "Content-Length" : "close-delimited")
                           : "Transfer-Encoding: " + te) +
                      ", Connection: " + r.Header("Connection").value_or("(none)") + ", " +
                      std::to_string(r.sse_stats.lf_endings) + " LF / " +
                      std::to_string(r.sse_stats.crlf_endings) + " CRLF / " +
                      std::to_string(r.sse_stats.cr_endings) + " CR line ends");
             if (!r.events.empty()) ctx.Metric("last_event_ms", r.events.back().t_ms);
           }),
      Case("chat.bad-json", Level::kMust, "a malformed JSON body gets a 4xx with a JSON error body",
           [](CaseContext& ctx) {
             auto request = ChatRequest(ctx, kPrompt);
             request.body = R"({"model": "gpt-4", "messages": [)";
             auto r = Perform(request);
             ctx.Evidence("POST /v1/chat/completions " + request.body, r);
             ctx.Expect(harness::CheckClientErrorJson(r));
           }),
      Case("chat.missing-messages", Level::kMust, "a body without messages gets a 4xx",
           [](CaseContext& ctx) {
             auto request = ChatRequest(ctx, kPrompt);
             request.body = R"({"model": "gpt-4", "stream": true})";
             auto r = Perform(request);
             ctx.Evidence("POST /v1/chat/completions " + request.body, r);
             ctx.Expect(harness::CheckClientErrorJson(r));
           }),
      Case("chat.backend-error-midstream", Level::kMust,
           "when the backend fails after N tokens, the stream ends without [DONE], no hang",
           [](CaseContext& ctx) {
             ctx.Expect(harness::CheckEndedWithoutDone(StreamWithBackendCut(ctx)));
           }),
      Case("chat.error-event", Level::kShould,
           "when the backend fails mid-stream, an in-band data: {\"error\": ...} event first",
           [](CaseContext& ctx) {
             ctx.Expect(harness::CheckErrorEvent(StreamWithBackendCut(ctx)));
           }),
      Case("chat.client-abort", Level::kShould,
           "when the client leaves after the first event, the backend request is cancelled in 2 s",
           ClientAbort),
      Case("chat.concurrent", Level::kMust,
           "64 concurrent streams all complete, each with its own exact text", Concurrent),
  };
}

}  // namespace streamcheck::suites
