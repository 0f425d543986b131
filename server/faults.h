// Fault switches: one deliberate defect per conformance case, built into the
// reference server's own code paths so that every check can be shown to fail
// against one server instead of a fork of it. They exist only in the test-only
// build (the server sources compiled a second time with
// -DSTREAMCHECK_SERVER_FAULTS into tests' `defective_server`); in the real
// server FaultOn() is constexpr false and the compiler drops every faulty
// branch. A fault is named after the catalog case it must make fail
// (chat-status for chat.status); kFaults says what each one does.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace streamcheck::server {

enum class Fault {
  kNone,
  // chat
  kChatStatus,
  kChatContentType,
  kChatFirstLineData,
  kChatSseGrammar,
  kChatChunkSchema,
  kChatRoleFirst,
  kChatFinishReason,
  kChatDoneTerminator,
  kChatContentParity,
  kChatNonstreamParity,
  kChatUsage,
  kChatIncremental,
  kChatBothPaths,
  kChatNoCache,
  kChatBadJson,
  kChatMissingMessages,
  kChatBackendErrorMidstream,
  kChatErrorEvent,
  kChatClientAbort,
  kChatConcurrent,
  kChatFinishReasonValue,
  kChatUtf8,
  kChatSdkSafe,
  kChatVendorExtensions,
  kChatToolCallParity,
  kChatMultiChoice,
  kChatLongStream,
  // direct
  kDirectLargeGet,
  kDirectIntegrity,
  kDirectIncremental,
  kDirectMemoryBounded,
  kDirectBackpressure,
  kDirectBackpressureReadAhead,
  kDirectBackpressureSpool,
  kDirectStallSurvives,
  kDirectSsePassthrough,
  kDirectStatusPassthrough,
  kDirectMethods,
  kDirectMethodsExtended,
  kDirectQueryString,
  kDirectQueryRepeated,
  kDirectRequestHeaders,
  kDirectResponseHeaders,
  kDirectResponseFraming,
  kDirectTruncationVisible,
  kDirectBackendDown,
  kDirectBackendTimeout,
  kDirectClientAbort,
  kDirectPathConfined,
  kDirectLargeUpload,
  kDirectLargeUploadSpool,
  kDirectHeaderInjection,
  kDirectTruncatedUpload,
  kDirectRange,
  kDirectUploadLimit,
  kDirectContentCoding,
  // server
  kServerReady,
  kServerReadyNever,
  kServerRequestLine,
  kServerClTe,
  kServerContentLength,
  kServerTransferEncoding,
  kServerLargeHeader,
  kServerSurvives,
  kServerSurvivesExit,
  kServerDesync,
  kServerPipelining,
  kServerSlowClients,
  kServerBodyLimits,
  kServerHeaderCount,
  kServerHttp10,
  kServerNoLengthBody,
  // server, DRUM's cases
  kServerHealthDuringStream,
  kServerGracefulShutdown,
};

struct FaultInfo {
  Fault fault;
  std::string_view name;
  std::string_view what;
};

// Every fault with its name (`--defect NAME`) and effect, kNone ("none") first.
std::span<const FaultInfo> AllFaults();
std::optional<Fault> FaultNamed(std::string_view name);

#ifdef STREAMCHECK_SERVER_FAULTS
// The one fault of this process, set once before the server starts.
void SetActiveFault(Fault fault);
Fault ActiveFault();
inline bool FaultOn(Fault fault) { return ActiveFault() == fault; }
// server-graceful-shutdown: the fixture got SIGTERM (set from its main).
void SetShuttingDown();
bool ShuttingDown();
#else
constexpr bool FaultOn(Fault) { return false; }
constexpr bool ShuttingDown() { return false; }
#endif

}  // namespace streamcheck::server
