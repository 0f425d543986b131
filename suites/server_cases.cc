// server: the server as a whole.
#include <optional>
#include <thread>

#include "harness/checks.h"
#include "mocks/content.h"
#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using core::Level;

CaseDef Case(const Row& row, std::function<void(CaseContext&)> body, bool judges_liveness = false) {
  return MakeCase("server", "", row, std::move(body), judges_liveness);
}

CaseDef StopsTarget(CaseDef def) {
  def.stops_target = true;
  return def;
}

harness::HttpResponse GetReady(CaseContext& ctx) {
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.spec().ready_path);
  request.total_timeout = std::chrono::seconds(ctx.spec().ready_timeout_s);
  return ctx.Perform(request, "the readiness path");
}

void Survives(CaseContext& ctx) {
  auto* process = ctx.process();
  auto died = [&] {
    ctx.Fail("expected the server process to be alive after the other cases; it " +
             process->DescribeExit() + "; last log lines:\n" + process->LogTail(15));
  };
  if (process && !process->IsAlive()) return died();
  auto check = harness::CheckStatus(GetReady(ctx), 200);
  // A refused or reset connection may be a process on its way out: give it a
  // moment (bounded) to say how it ended.
  if (!check.ok && process) {
    if (process->IsRunning()) process->WaitForExit(std::chrono::seconds(2));
    if (!process->IsAlive()) return died();
  }
  ctx.Expect(check);
}

// ---- DRUM's cases: health while streaming, graceful shutdown ----

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

constexpr int kHeldStreams = 8;
constexpr auto kHealthBound = std::chrono::seconds(1);

void HealthDuringStream(CaseContext& ctx) {
  auto config = ctx.backend().config();
  config.gate_after_tokens = 1;
  config.gate_timeout_ms = 15'000;
  ctx.backend().SetConfig(config);
  std::vector<harness::HttpRequest> streams;
  for (int i = 0; i < kHeldStreams; ++i) {
    streams.push_back(ChatRequest(ctx, "prompt " + std::to_string(i)));
    streams.back().total_timeout = std::chrono::seconds(60);
  }
  bool reached = false;
  std::uint64_t held = 0;
  harness::HttpResponse ready;
  auto responses = ctx.PerformAllWhile(streams, "8 streams held at the backend's gate", [&] {
    reached = ctx.backend().WaitGateReached(std::chrono::seconds(5));
    if (reached) {
      // The rest of the streams get a bounded moment to reach the backend;
      // a server that serves one request at a time never lets them.
      const auto until = Clock::now() + std::chrono::seconds(2);
      while ((held = ctx.backend().stats().chat_requests) < kHeldStreams && Clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      harness::HttpRequest request;
      request.url = ctx.Url(ctx.spec().ready_path);
      request.total_timeout = kHealthBound;
      ready = ctx.Perform(request, "the ready path while the streams are held");
    }
    ctx.backend().OpenGate();
  });
  int completed = 0;
  for (const auto& r : responses) completed += r.complete && r.stream.chat.done_count > 0;
  ctx.Metric("streams_at_backend", double(held));
  ctx.Metric("streams_completed", completed);
  if (!reached) {
    return ctx.Fail("expected " + std::to_string(kHeldStreams) +
                    " streams to reach the backend and be held at its gate; none did within 5 s "
                    "(first stream: " +
                    (responses[0].status ? "status " + std::to_string(responses[0].status)
                                         : "no response: " + responses[0].error) +
                    ")");
  }
  ctx.Metric("ready_ms", ready.t_total_ms);
  const bool answered = ready.status == 200 && ready.complete;
  if (answered && ready.t_total_ms <= 1000.0 * kHealthBound.count()) return;
  std::string seen = ready.status == 0 ? "no answer within 1 s"
                                       : "status " + std::to_string(ready.status) + " after " +
                                             std::to_string(int(ready.t_total_ms)) + " ms";
  std::string why =
      held < kHeldStreams
          ? ": the backend got only " + std::to_string(held) + " of the " +
                std::to_string(kHeldStreams) +
                " streams, so the server serves a few requests at a time and the rest (the "
                "ready path too) wait; a health check that stalls gets the server restarted"
          : "";
  ctx.Fail("expected the ready path to answer 200 within 1 s while " +
           std::to_string(kHeldStreams) + " streams were open; " + seen + why);
}

// How long a server may take to exit after SIGTERM when its spec does not
// say: Kubernetes' default terminationGracePeriodSeconds.
constexpr double kDefaultStopTimeoutS = 30;

void GracefulShutdown(CaseContext& ctx) {
  auto* process = ctx.process();
  if (!process) {
    return ctx.Skip("not started by the harness (a url target): it cannot be sent SIGTERM");
  }
  if (!process->IsRunning())
    return ctx.Error("the target is not running: " + process->DescribeExit());
  // A 3 s stream, SIGTERM after its first token.
  auto config = ctx.backend().config();
  config.token_count = 30;
  config.token_delay_ms = 100;
  ctx.backend().SetConfig(config);
  const double stop_timeout_s =
      ctx.spec().stop_timeout_s > 0 ? ctx.spec().stop_timeout_s : kDefaultStopTimeoutS;
  auto request = ChatRequest(ctx);
  request.total_timeout =
      std::chrono::milliseconds(int(stop_timeout_s * 1000)) + std::chrono::seconds(30);
  std::optional<Clock::time_point> termed;
  harness::Observers observers;
  observers.on_event = [&](const harness::ReceivedEvent& e) {
    if (!termed && !harness::DeltaContent(e.event.data).empty()) {
      termed = Clock::now();
      process->Terminate();
    }
    return true;
  };
  auto r = ctx.Perform(request, "SIGTERM after the first token", observers);
  if (!termed) {
    return ctx.Fail("expected a first token before sending SIGTERM, got none (" +
                    (r.status ? "status " + std::to_string(r.status) : "no response") +
                    (r.error.empty() ? "" : ", " + r.error) + ")");
  }
  const auto deadline = *termed + std::chrono::milliseconds(int(stop_timeout_s * 1000));
  const bool exited = process->WaitForExit(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(Clock::duration::zero(), deadline - Clock::now())));
  if (exited) ctx.Metric("exit_after_sigterm_ms", MsSince(*termed));

  // The stream open at SIGTERM: whole, or cut where a client sees the cut
  // (a broken transfer, an in-band error); a clean end that is short reads
  // as a whole answer.
  const auto& chat = r.stream.chat;
  const std::string expected = mocks::CompletionText(config.seed, "Hello", config.token_count);
  const bool whole = r.complete && chat.done_count > 0 && chat.text == expected;
  const bool hung = r.curl_code == 28;  // CURLE_OPERATION_TIMEDOUT
  const bool cut = (!r.complete && !hung) || chat.error_events > 0;
  if (hung) {
    ctx.Fail(
        "expected the stream open at SIGTERM to complete or end; it hung until the client "
        "gave up after " +
        std::to_string(int(r.t_total_ms)) + " ms");
  } else if (!whole && !cut) {
    ctx.Fail(
        "expected the stream open at SIGTERM to complete, or to end visibly cut (a broken "
        "transfer or an in-band error); it ended cleanly after " +
        std::to_string(chat.text_bytes) + " of " + std::to_string(expected.size()) + " characters" +
        (chat.done_count ? " with [DONE]" : " without [DONE]") +
        ": a client takes the short answer for a whole one");
  } else {
    ctx.Note(whole ? "the open stream completed after SIGTERM; "
                   : "the open stream was cut visibly (" +
                         (r.complete ? std::string("an in-band error") : r.error) + "); ");
  }
  if (!exited) {
    ctx.Fail("expected the process to exit within " + std::to_string(int(stop_timeout_s)) +
             " s of SIGTERM (stop_timeout_s" +
             (ctx.spec().stop_timeout_s > 0 ? "" : ", by default Kubernetes' 30 s") +
             "); it was still running");
  } else {
    ctx.Note("the process " + process->DescribeExit() + " " +
             std::to_string(int(MsSince(*termed))) + " ms after SIGTERM; ");
  }
}

}  // namespace

std::vector<CaseDef> ServerCases() {
  return {
      Case(
          {"server.ready", Level::kMust, "the readiness path answers 200 within the spec's timeout",
           "GET the spec's ready_path; the harness already waited for it (bounded by "
           "ready_timeout_s) before the first case.",
           "DRUM's /ping; Kubernetes readiness probes", "server-ready", BackendUse::kNone,
           "an answer on the ready path (none fails)"},
          [](CaseContext& ctx) { ctx.Expect(harness::CheckStatus(GetReady(ctx), 200)); }),
      Case({"server.survives", Level::kMust,
            "after every other case the readiness path still answers 200 and the process lives",
            "after every other case: the process has not exited and the ready path answers 200.",
            "a server that dies under the catalog dies under its users", "server-survives",
            BackendUse::kNone,
            "the process (when spawned) and an answer on the ready path (none fails)"},
           Survives, /*judges_liveness=*/true),
      // DRUM's cases.
      MakeCase(
          "server", "chat",
          {"server.health-during-stream", Level::kMust,
           "with 8 streams open and held at the backend, the ready path answers 200 within 1 s",
           "8 chat streams at once, the mock holding each after its first token (gate "
           "timeout 15 s); once the gate is reached (and the others had up to 2 s to "
           "arrive), GET the spec's ready_path: 200 within 1 s; then the gate opens.",
           "DRUM's NIM watchdog (`prediction_server.py`) restarts a server whose health "
           "check stalls; Kubernetes liveness probes (timeoutSeconds 1 by default)",
           "server-health-during-stream", BackendUse::kCalls},
          HealthDuringStream),
      StopsTarget(MakeCase(
          "server", "chat",
          {"server.graceful-shutdown", Level::kShould,
           "on SIGTERM an open stream completes or ends visibly cut, and the process exits in time",
           "spawned targets only, after every other case: a 3 s chat stream; SIGTERM to the "
           "server's process (as docker stop and Kubernetes send it) after the first token. The "
           "stream must complete (`[DONE]`, the whole text) or end visibly cut (a broken "
           "transfer or an in-band error), never cleanly short; the process must exit within "
           "the spec's `stop_timeout_s` (default 30 s).",
           "Kubernetes pod termination (SIGTERM, then SIGKILL after the grace period); "
           "RFC 9112 §9.6 (closing a connection mid-message leaves it visibly incomplete); "
           "DRUM `main.py` (SIGTERM: `os._exit(130)`)",
           "server-graceful-shutdown", BackendUse::kCalls},
          GracefulShutdown)),
  };
}

}  // namespace streamcheck::suites
