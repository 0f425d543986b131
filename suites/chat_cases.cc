// chat: POST /v1/chat/completions and /chat/completions with "stream": true.
#include <nlohmann/json.hpp>

#include "harness/checks.h"
#include "mocks/content.h"
#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using core::Level;
using harness::CheckResult;
using harness::HttpResponse;

constexpr char kPrompt[] = "Hello";
constexpr char kSse[] = "WHATWG HTML, Server-sent events, \"Interpreting an event stream\"";
constexpr char kOpenAi[] =
    "OpenAI API reference, chat completion chunk object; the OpenAI Python SDK's stream decoder";

CaseDef Case(const Row& row, std::function<void(CaseContext&)> body) {
  return MakeCase("chat", "chat", row, std::move(body));
}

// The streamed request of the seed plan.
HttpResponse StreamHello(CaseContext& ctx, const std::string& path = "") {
  return ctx.Perform(ChatRequest(ctx, kPrompt, true, path), "streaming chat request");
}

std::string ExpectedText(CaseContext& ctx, const std::string& prompt) {
  auto config = ctx.backend().config();
  return mocks::CompletionText(config.seed, prompt, config.token_count);
}

void Incremental(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = kGateTimeoutMs;
  ctx.backend().SetConfig(config);
  auto gated = PerformGated(ctx, ChatRequest(ctx, kPrompt), /*by_bytes=*/false,
                            "backend gated after 1 token");
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
  auto r = ctx.Perform(request, "backend cuts the connection after 3 tokens");
  ctx.Expect(CheckFaultFired(ctx, "a cut after 3 tokens"));
  return r;
}

// Precondition of the refusal cases: the chat path serves a valid request.
// Else its 4xx (a 404 for a missing route, a 401) says nothing about the body.
bool ServesAValidRequest(CaseContext& ctx) {
  auto control = StreamHello(ctx);
  if (control.status == 200) return true;
  ctx.Fail("expected " + ctx.spec().chat_path +
           " to answer a valid request with 200 before judging how it refuses a bad one; it "
           "answered " +
           (control.status ? std::to_string(control.status) : "nothing: " + control.error));
  return false;
}

void Concurrent(CaseContext& ctx) {
  constexpr int kStreams = 64;
  std::vector<harness::HttpRequest> requests;
  for (int i = 0; i < kStreams; ++i) {
    requests.push_back(ChatRequest(ctx, "prompt " + std::to_string(i)));
    requests.back().total_timeout = std::chrono::seconds(60);
  }
  auto responses = ctx.PerformAll(requests, "64 streams at once");
  int failed = 0;
  std::string first_failure;
  for (int i = 0; i < kStreams; ++i) {
    auto check = harness::CheckStatus(responses[i], 200);
    if (check.ok) check = harness::CheckDoneTerminator(responses[i]);
    if (check.ok) {
      check = harness::CheckContentParity(responses[i],
                                          ExpectedText(ctx, "prompt " + std::to_string(i)));
    }
    if (!check.ok && failed++ == 0) {
      first_failure = "stream " + std::to_string(i) + ": " + check.message;
    }
  }
  ctx.Metric("streams", kStreams);
  ctx.Metric("failed_streams", failed);
  if (failed > 0) {
    ctx.Fail("expected all " + std::to_string(kStreams) +
             " concurrent streams to complete with their own text; " + std::to_string(failed) +
             " did not. First: " + first_failure);
  }
}

void ClientAbort(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.token_count = 200;
  config.token_delay_ms = 50;
  ctx.backend().SetConfig(config);
  auto request = ChatRequest(ctx, kPrompt);
  request.abort_after_first_event = true;
  auto response = ctx.Perform(request, "the client leaves after the first event");
  if (response.stream.empty()) {
    return ctx.Fail("expected a first event before leaving, got none: " + response.error);
  }
  bool cancelled = ctx.backend().WaitCancelled(std::chrono::seconds(2));
  auto stats = ctx.backend().stats();
  ctx.Metric("backend_bytes_sent", double(stats.body_bytes_sent));
  if (stats.last_cancellation) {
    ctx.Metric("backend_cancelled_after_ms", stats.last_cancellation->after_ms);
  }
  if (!cancelled) {
    ctx.Fail(
        "expected the backend request to be cancelled within 2 s of the client leaving; the "
        "backend was still streaming (" +
        std::to_string(stats.body_bytes_sent) + " bytes sent)");
  }
}

void BothPaths(CaseContext& ctx) {
  // The other spelling of the spec's chat path: .../v1/chat/completions and
  // .../chat/completions.
  const std::string v1_path = ctx.spec().chat_path;
  const std::string kV1 = "/v1/chat/completions";
  if (v1_path.size() < kV1.size() ||
      v1_path.compare(v1_path.size() - kV1.size(), kV1.size(), kV1)) {
    return ctx.Skip("the spec's chat_path " + v1_path +
                    " has no /v1/chat/completions form to "
                    "compare with");
  }
  const std::string plain_path =
      v1_path.substr(0, v1_path.size() - kV1.size()) + "/chat/completions";
  auto v1 = StreamHello(ctx, v1_path);
  auto plain = StreamHello(ctx, plain_path);
  // Two failures compare equal: each path must first give a whole stream.
  for (const auto* r : {&v1, &plain}) {
    const std::string& path = r == &v1 ? v1_path : plain_path;
    auto check = harness::CheckStatus(*r, 200);
    if (check.ok) check = harness::CheckTransferComplete(*r);
    if (check.ok) check = harness::CheckDoneTerminator(*r);
    if (!check.ok) return ctx.Fail(path + ": " + check.message);
  }
  ctx.Expect(harness::CheckSameStream(v1, plain));
}

void Framing(CaseContext& ctx) {
  auto r = StreamHello(ctx);
  const auto& stats = r.stream.stats;
  std::string te = r.Header("Transfer-Encoding").value_or("");
  ctx.Note("HTTP/" + r.http_version + ", " +
           (te.empty() ? (r.Header("Content-Length") ? "Content-Length" : "close-delimited")
                       : "Transfer-Encoding: " + te) +
           ", Connection: " + r.Header("Connection").value_or("(none)") + ", " +
           std::to_string(stats.lf_endings) + " LF / " + std::to_string(stats.crlf_endings) +
           " CRLF / " + std::to_string(stats.cr_endings) + " CR line ends");
  if (!r.stream.empty()) ctx.Metric("last_event_ms", r.stream.last_event_ms);
  if (r.status == 0) ctx.Error("no response to record: " + r.error);
}

}  // namespace

std::vector<CaseDef> ChatCases() {
  return {
      Case({"chat.status", Level::kMust, "a valid streaming request gets 200 and a whole response",
            "the seed plan's request (`gpt-4`, one user message \"Hello\", `stream: true`): status "
            "200 and a transfer that completes.",
            "RFC 9110 §15.3.1 (200 OK); the OpenAI SDKs raise on any other status", "chat-status",
            BackendUse::kAnyCalls,
            "a response: a 200 whose transfer completes and carries at least one event (an empty "
            "200 fails)"},
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             ctx.Expect(harness::CheckStatus(r, 200));
             if (r.status != 200) return;
             ctx.Expect(harness::CheckTransferComplete(r));
             // A 200 with nothing streamed is no whole response.
             if (r.stream.empty()) {
               ctx.Fail("expected the 200 to carry a stream of events, got " +
                        std::to_string(r.body_bytes) + " body bytes and no event");
             }
           }),
      Case({"chat.content-type", Level::kMust,
            "media type text/event-stream (parameters such as charset allowed)",
            "media type before `;`, case-insensitive.",
            "WHATWG HTML, Server-sent events (the text/event-stream MIME type); RFC 9110 §8.3.1",
            "chat-content-type", BackendUse::kAnyCalls, "a response with headers (none fails)"},
           [](CaseContext& ctx) {
             ctx.Expect(harness::CheckMediaType(StreamHello(ctx), "text/event-stream"));
           }),
      Case({"chat.first-line-data", Level::kMust,
            "the first non-comment line of the body starts with data:",
            "first line that is neither a comment nor blank, from the WHATWG parser.", kSse,
            "chat-first-line-data", BackendUse::kAnyCalls,
            "a body with a line that is not a comment (none fails)"},
           [](CaseContext& ctx) { ctx.Expect(harness::CheckFirstLineIsData(StreamHello(ctx))); }),
      Case({"chat.sse-grammar", Level::kMust,
            "the body parses as an event stream and ends on an event boundary",
            "transfer complete, at least one event, no partial line or undispatched event at "
            "close (LF, CRLF, CR all accepted); a line over 1 MiB or an event over 8 MiB fails.",
            kSse, "chat-sse-grammar", BackendUse::kAnyCalls,
            "a complete transfer with at least one event (none fails)"},
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             ctx.Expect(harness::CheckTransferComplete(r));
             ctx.Expect(harness::CheckSseGrammar(r));
           }),
      Case({"chat.chunk-schema", Level::kMust,
            "every data event before [DONE] is a chat.completion.chunk with one id",
            "every event before `[DONE]` parsed as JSON; `object`, one `id`, integer `created`, "
            "`model`, `choices[]` with `index` and object `delta`.",
            kOpenAi, "chat-chunk-schema", BackendUse::kAnyCalls,
            "at least one chunk before [DONE] (none fails)"},
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             ctx.Expect(harness::CheckSseGrammar(r));
             ctx.Expect(harness::CheckChunkSchema(r));
           }),
      Case({"chat.role-first", Level::kShould, "the first chunk's delta carries role assistant",
            "first chunk's `choices[0].delta.role`.", kOpenAi, "chat-role-first",
            BackendUse::kAnyCalls, "a first chunk (none fails)"},
           [](CaseContext& ctx) { ctx.Expect(harness::CheckRoleFirst(StreamHello(ctx))); }),
      Case({"chat.finish-reason", Level::kMust,
            "each choice gets exactly one non-null finish_reason, on its last chunk",
            "per choice index: exactly one non-null `finish_reason`, on the last chunk carrying "
            "that choice.",
            kOpenAi, "chat-finish-reason", BackendUse::kAnyCalls,
            "chunks that carry choices (none fails)"},
           [](CaseContext& ctx) { ctx.Expect(harness::CheckFinishReason(StreamHello(ctx))); }),
      Case({"chat.done-terminator", Level::kMust,
            "data: [DONE] arrives exactly once, as the last event",
            "`data: [DONE]` exactly once and last.",
            "OpenAI API reference (streaming: the stream ends with data: [DONE]); the OpenAI SDKs "
            "stop reading there",
            "chat-done-terminator", BackendUse::kAnyCalls,
            "events (an empty or absent stream fails)"},
           [](CaseContext& ctx) { ctx.Expect(harness::CheckDoneTerminator(StreamHello(ctx))); }),
      Case({"chat.content-parity", Level::kMust,
            "the concatenated delta.content equals the backend's text",
            "concatenated `choices[0].delta.content` equals the mock's deterministic text for the "
            "prompt.",
            "the relay must not lose, add or reorder tokens (the migration's contract)",
            "chat-content-parity", BackendUse::kCalls, "streamed content to compare (none fails)"},
           [](CaseContext& ctx) {
             auto r = StreamHello(ctx);
             ctx.Expect(harness::CheckContentParity(r, ExpectedText(ctx, kPrompt)));
           }),
      Case({"chat.nonstream-parity", Level::kMust,
            "stream: false returns a chat.completion whose content equals the streamed text",
            "`stream: false` gives `chat.completion` whose `choices[0].message.content` equals "
            "the streamed text.",
            "OpenAI API reference, chat completion object", "chat-nonstream-parity",
            BackendUse::kCalls, "a 200 chat.completion and the streamed text (none fails)"},
           [](CaseContext& ctx) {
             auto streamed = StreamHello(ctx);
             auto whole = ctx.Perform(ChatRequest(ctx, kPrompt, /*stream=*/false),
                                      "the same request with stream: false");
             ctx.Expect(harness::CheckStatus(whole, 200));
             ctx.Expect(harness::CheckCompletionContent(whole, harness::StreamedText(streamed)));
           }),
      Case({"chat.usage", Level::kShould,
            "with stream_options.include_usage, a last chunk carries usage.completion_tokens",
            "`stream_options.include_usage`: last chunk before `[DONE]` has `choices: []` and "
            "`usage.completion_tokens` = tokens streamed.",
            "OpenAI API reference, stream_options.include_usage", "chat-usage", BackendUse::kCalls,
            "a last chunk with usage (none fails)"},
           [](CaseContext& ctx) {
             auto request = ChatRequest(ctx, kPrompt);
             auto body = nlohmann::json::parse(request.body);
             body["stream_options"] = {{"include_usage", true}};
             request.body = body.dump();
             auto r = ctx.Perform(request, "stream_options.include_usage");
             ctx.Expect(harness::CheckUsage(r, ctx.backend().config().token_count));
           }),
      Case({"chat.incremental", Level::kMust,
            "with the backend gated after its first token, that token reaches the client first",
            "mock gated after token 1 (gate timeout 5 s); the harness opens the gate when the "
            "first content event arrives. Pass when that event came while the gate was still "
            "closed; a buffering server only delivers after the gate timed out.",
            "streaming is the point of stream: true; the seed plan's incremental delivery test",
            "chat-incremental", BackendUse::kCalls,
            "content that arrived, before or after the gate (none fails)"},
           Incremental),
      Case({"chat.both-paths", Level::kMust,
            "/chat/completions and /v1/chat/completions give the same stream",
            "same request on both paths: each must give 200 and a whole stream ending in "
            "`[DONE]`; then same status, same events (text, [DONE], errors, finish reasons).",
            "DRUM serves both paths; OpenAI-compatible clients use either base URL",
            "chat-both-paths", BackendUse::kCalls,
            "each path answers 200 with a whole stream ending in [DONE], before the two are "
            "compared"},
           BothPaths),
      Case({"chat.no-cache", Level::kShould,
            "Cache-Control: no-cache and X-Accel-Buffering: no, so intermediaries do not buffer",
            "`Cache-Control` contains `no-cache` or `no-store`, and `X-Accel-Buffering: no`.",
            "WHATWG HTML, Server-sent events (authoring notes: no caching); nginx's "
            "X-Accel-Buffering",
            "chat-no-cache", BackendUse::kAnyCalls, "a response with headers (none fails)"},
           [](CaseContext& ctx) { ctx.Expect(harness::CheckNoCacheHeaders(StreamHello(ctx))); }),
      MakeCase("chat", "chat",
               {"chat.framing", Level::kInfo,
                "HTTP version, chunked or close-delimited, Connection; time to headers and events",
                "records HTTP version, Transfer-Encoding / Content-Length / close-delimited, "
                "Connection, line-ending counts, time to headers, first and last event.",
                "RFC 9112 §6 (message body length), for comparison only", "", BackendUse::kAnyCalls,
                "a response to record (none: error)"},
               Framing),
      Case(
          {"chat.bad-json", Level::kMust, "a malformed JSON body gets a 4xx with a JSON error body",
           "truncated JSON body: 4xx, body parses as a JSON object, not `text/event-stream`.",
           "RFC 9110 §15.5.1 (400 Bad Request); OpenAI's error object", "chat-bad-json",
           BackendUse::kNone,
           "the chat path answers a valid request with 200 first (else its 4xx says nothing about "
           "the body)"},
          [](CaseContext& ctx) {
            if (!ServesAValidRequest(ctx)) return;
            auto request = ChatRequest(ctx, kPrompt);
            request.body = R"({"model": "gpt-4", "messages": [)";
            ctx.Expect(harness::CheckClientErrorJson(ctx.Perform(request, "truncated JSON body")));
          }),
      Case({"chat.missing-messages", Level::kMust, "a body without messages gets a 4xx",
            "`{\"model\": \"gpt-4\", \"stream\": true}`: 4xx with a JSON body.",
            "RFC 9110 §15.5 (client errors are 4xx, not 5xx); OpenAI answers 400",
            "chat-missing-messages", BackendUse::kNone,
            "the chat path answers a valid request with 200 first (else its 4xx says nothing about "
            "the body)"},
           [](CaseContext& ctx) {
             if (!ServesAValidRequest(ctx)) return;
             auto request = ChatRequest(ctx, kPrompt);
             request.body = nlohmann::json{{"model", ctx.spec().model}, {"stream", true}}.dump();
             ctx.Expect(harness::CheckClientErrorJson(ctx.Perform(request, "no messages")));
           }),
      Case({"chat.backend-error-midstream", Level::kMust,
            "when the backend fails after N tokens, the stream ends without [DONE], no hang",
            "mock cuts the connection after 3 tokens; no `[DONE]`, and the transfer ended by "
            "itself (not the client's 15 s timeout).",
            "a [DONE] after a failure tells the OpenAI SDKs the text is whole",
            "chat-backend-error-midstream", BackendUse::kCalls,
            "the mock's cut after 3 tokens fired: the server relayed its stream that far"},
           [](CaseContext& ctx) {
             ctx.Expect(harness::CheckEndedWithoutDone(StreamWithBackendCut(ctx)));
           }),
      Case({"chat.error-event", Level::kShould,
            "when the backend fails mid-stream, an in-band data: {\"error\": ...} event first",
            "same fault; some event's data is a JSON object with `error`.",
            "the OpenAI Python SDK raises APIError on a data: {\"error\": ...} event",
            "chat-error-event", BackendUse::kCalls,
            "the mock's cut after 3 tokens fired: the server relayed its stream that far"},
           [](CaseContext& ctx) {
             ctx.Expect(harness::CheckErrorEvent(StreamWithBackendCut(ctx)));
           }),
      Case({"chat.client-abort", Level::kShould,
            "when the client leaves after the first event, the backend request is cancelled in 2 s",
            "200 tokens at 50 ms; the client leaves after the first event; the mock must count "
            "the stream cancelled within 2 s.",
            "a relay that keeps generating for a gone client wastes the backend (GPU time)",
            "chat-client-abort", BackendUse::kCalls,
            "a first event arrived before the client left (none fails)"},
           ClientAbort),
      Case({"chat.concurrent", Level::kMust,
            "64 concurrent streams all complete, each with its own exact text",
            "64 streams at once on one curl multi handle, prompts `prompt 0`…`prompt 63`; each "
            "must end with `[DONE]` and carry its own exact text.",
            "the seed plan's concurrency test", "chat-concurrent", BackendUse::kCalls,
            "every stream answers 200 and ends in [DONE] before its text is compared"},
           Concurrent),
  };
}

}  // namespace streamcheck::suites
