#include "server/faults.h"

#include <atomic>

namespace streamcheck::server {
namespace {

constexpr FaultInfo kFaults[] = {
    {Fault::kNone, "none", "no defect: behaves like the reference server"},
    {Fault::kChatStatus, "chat-status", "answers a valid streaming request with 201"},
    {Fault::kChatContentType, "chat-content-type", "streams as text/plain"},
    {Fault::kChatFirstLineData, "chat-first-line-data", "starts the body with an `id: 1` line"},
    {Fault::kChatSseGrammar, "chat-sse-grammar",
     "the last event (data: [DONE]) lacks its blank line"},
    {Fault::kChatChunkSchema, "chat-chunk-schema",
     "sends \"object\": \"chat.completion\" in every chunk"},
    {Fault::kChatRoleFirst, "chat-role-first", "drops \"role\" from the first chunk's delta"},
    {Fault::kChatFinishReason, "chat-finish-reason", "sends every finish_reason as null"},
    {Fault::kChatDoneTerminator, "chat-done-terminator", "drops data: [DONE]"},
    {Fault::kChatContentParity, "chat-content-parity", "drops the third content token"},
    {Fault::kChatNonstreamParity, "chat-nonstream-parity",
     "stream: false requests get a default max_tokens of 8 that streams do not"},
    {Fault::kChatUsage, "chat-usage", "drops the usage chunk"},
    {Fault::kChatIncremental, "chat-incremental",
     "reads the backend's whole stream before sending any of it"},
    {Fault::kChatBothPaths, "chat-both-paths", "/chat/completions drops the role chunk"},
    {Fault::kChatNoCache, "chat-no-cache", "no Cache-Control nor X-Accel-Buffering"},
    {Fault::kChatBadJson, "chat-bad-json", "answers a malformed body with an HTML 400"},
    {Fault::kChatMissingMessages, "chat-missing-messages",
     "sends a body without messages on to the backend with \"messages\": []"},
    {Fault::kChatBackendErrorMidstream, "chat-backend-error-midstream",
     "after a backend failure sends the error event, then data: [DONE]"},
    {Fault::kChatErrorEvent, "chat-error-event",
     "after a backend failure cuts the connection with no in-band error"},
    {Fault::kChatClientAbort, "chat-client-abort",
     "reads the backend's stream to its end after the client left"},
    {Fault::kChatConcurrent, "chat-concurrent",
     "a stream cache keyed by model alone: concurrent streams all get the first one's text"},
    {Fault::kChatFinishReasonValue, "chat-finish-reason-value",
     "sends finish_reason \"eos_token\" (as TGI once did) instead of \"stop\""},
    {Fault::kChatUtf8, "chat-utf8",
     "ends the second content token with a lone byte 0xC3 (a character cut in two)"},
    {Fault::kChatSdkSafe, "chat-sdk-safe",
     "sends a data-less `event: ping` block after the first chunk"},
    {Fault::kChatVendorExtensions, "chat-vendor-extensions",
     "sends Azure OpenAI's prompt-filter chunk first (id \"\", choices [], "
     "prompt_filter_results)"},
    {Fault::kChatToolCallParity, "chat-tool-call-parity",
     "drops the second piece of a streamed tool call's arguments"},
    {Fault::kChatMultiChoice, "chat-multi-choice",
     "relays choices[0] only: the chunks of the other choices are dropped"},
    {Fault::kChatLongStream, "chat-long-stream",
     "cuts a chat stream 2 s after its request arrived (a whole-request timeout)"},
    {Fault::kDirectLargeGet, "direct-large-get",
     "drops the backend's last piece and ends the chunked body cleanly"},
    {Fault::kDirectIntegrity, "direct-integrity", "flips one bit of body byte 1000"},
    {Fault::kDirectIncremental, "direct-incremental",
     "reads the backend's whole body into memory before sending it"},
    {Fault::kDirectMemoryBounded, "direct-memory-bounded",
     "reads the backend's whole body into memory before sending it"},
    {Fault::kDirectBackpressure, "direct-backpressure",
     "buffers like the Flask target: the body read whole, then copied into the response"},
    {Fault::kDirectBackpressureReadAhead, "direct-backpressure-read-ahead",
     "reads the backend ahead of the client into an unbounded queue (one copy of the body)"},
    {Fault::kDirectBackpressureSpool, "direct-backpressure-spool",
     "reads the backend ahead of the client into a temporary file, memory flat (as nginx's "
     "proxy_buffering with its proxy_temp_path)"},
    {Fault::kDirectStallSurvives, "direct-stall-survives", "a 1 s backend idle timeout"},
    {Fault::kDirectSsePassthrough, "direct-sse-passthrough",
     "re-frames event streams as `data:VALUE` (no space)"},
    {Fault::kDirectStatusPassthrough, "direct-status-passthrough",
     "answers every backend 4xx/5xx with its own 502"},
    {Fault::kDirectMethods, "direct-methods", "sends PUT on as POST"},
    {Fault::kDirectMethodsExtended, "direct-methods-extended",
     "sends DELETE and PATCH on without their body"},
    {Fault::kDirectQueryString, "direct-query-string", "drops the query string"},
    {Fault::kDirectQueryRepeated, "direct-query-repeated", "keeps only the first value of a key"},
    {Fault::kDirectRequestHeaders, "direct-request-headers",
     "forwards every request header, hop-by-hop ones included"},
    {Fault::kDirectResponseHeaders, "direct-response-headers",
     "passes every backend response header back, hop-by-hop ones included"},
    {Fault::kDirectResponseFraming, "direct-response-framing",
     "a backend Content-Length is kept while the body goes out chunked"},
    {Fault::kDirectTruncationVisible, "direct-truncation-visible",
     "always chunked, and ends the body cleanly when the backend breaks off"},
    {Fault::kDirectBackendDown, "direct-backend-down",
     "answers 200 {} when the backend is unreachable"},
    {Fault::kDirectBackendTimeout, "direct-backend-timeout",
     "waits for backend headers without a timeout"},
    {Fault::kDirectClientAbort, "direct-client-abort",
     "parks the backend connection, unread and open, when the client leaves"},
    {Fault::kDirectPathConfined, "direct-path-confined",
     "joins the path like urljoin: //host/ and http://host/ name another host"},
    {Fault::kDirectContentCoding, "direct-content-coding",
     "drops the backend's Content-Encoding but relays its compressed bytes"},
    {Fault::kDirectLargeUpload, "direct-large-upload",
     "reads the whole request body into memory before sending it on"},
    {Fault::kDirectLargeUploadSpool, "direct-large-upload-spool",
     "reads the whole request body into a temporary file before sending it on, memory flat (as "
     "nginx's proxy_request_buffering)"},
    {Fault::kDirectHeaderInjection, "direct-header-injection",
     "percent-decodes request header values and forwards them raw (CR/LF included)"},
    {Fault::kDirectTruncatedUpload, "direct-truncated-upload",
     "uploads chunked, and ends the backend's body cleanly when the client's upload breaks"},
    {Fault::kDirectRange, "direct-range",
     "adds a second, conflicting Content-Range to a backend's partial response"},
    {Fault::kDirectUploadLimit, "direct-upload-limit",
     "enforces --max-body-bytes by Content-Length only: a chunked upload of any size goes to "
     "the backend whole"},
    {Fault::kServerReady, "server-ready",
     "the readiness path answers 200 once (to the lifecycle), then 503"},
    {Fault::kServerReadyNever, "server-ready-never", "the readiness path always answers 503"},
    {Fault::kServerRequestLine, "server-request-line",
     "reads a request line it cannot parse as GET /ping HTTP/1.1"},
    {Fault::kServerClTe, "server-cl-te",
     "reads a request with both Content-Length and Transfer-Encoding by Content-Length and "
     "keeps the connection"},
    {Fault::kServerContentLength, "server-content-length",
     "takes the first of two different Content-Length values"},
    {Fault::kServerTransferEncoding, "server-transfer-encoding",
     "reads any Transfer-Encoding that mentions chunked as chunked"},
    {Fault::kServerLargeHeader, "server-large-header", "a 1 MiB request head limit"},
    {Fault::kServerSurvives, "server-survives",
     "stops listening (the process lives on) after its first readiness answer"},
    {Fault::kServerSurvivesExit, "server-survives-exit", "exits after its first readiness answer"},
    {Fault::kServerDesync, "server-desync",
     "keeps the connection open after a framing 400 and serves the bytes that follow"},
    {Fault::kServerPipelining, "server-pipelining",
     "drops pipelined requests: bytes read past the first request are discarded"},
    {Fault::kServerSlowClients, "server-slow-clients",
     "no header timeout, and a pool of 16 connections; more wait to be accepted"},
    {Fault::kServerBodyLimits, "server-body-limits",
     "no request body limit, and gzip chat bodies are inflated without a bound"},
    {Fault::kServerHeaderCount, "server-header-count",
     "no header count limit and a 1 MiB header limit: 10,000 headers accepted and forwarded"},
    {Fault::kServerHttp10, "server-http10", "answers HTTP/1.0 clients with a chunked body"},
    {Fault::kServerNoLengthBody, "server-no-length-body",
     "waits up to 30 s for the body of a POST that has neither Content-Length nor "
     "Transfer-Encoding"},
    {Fault::kServerHealthDuringStream, "server-health-during-stream",
     "serves 8 connections at a time; more wait in the backlog (a small worker pool)"},
    {Fault::kServerGracefulShutdown, "server-graceful-shutdown",
     "on SIGTERM ends open chat streams cleanly without [DONE] (a clean short body), then "
     "exits"},
};

#ifdef STREAMCHECK_SERVER_FAULTS
std::atomic<Fault> active_fault{Fault::kNone};
std::atomic<bool> shutting_down{false};
#endif

}  // namespace

std::span<const FaultInfo> AllFaults() { return kFaults; }

std::optional<Fault> FaultNamed(std::string_view name) {
  for (const auto& f : kFaults) {
    if (f.name == name) return f.fault;
  }
  return std::nullopt;
}

#ifdef STREAMCHECK_SERVER_FAULTS
void SetActiveFault(Fault fault) { active_fault = fault; }
Fault ActiveFault() { return active_fault.load(std::memory_order_relaxed); }
void SetShuttingDown() { shutting_down = true; }
bool ShuttingDown() { return shutting_down.load(); }
#endif

}  // namespace streamcheck::server
