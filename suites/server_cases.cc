// server: the server as a whole.
#include "harness/checks.h"
#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using core::Level;

CaseDef Case(const Row& row, std::function<void(CaseContext&)> body, bool judges_liveness = false) {
  return MakeCase("server", "", row, std::move(body), judges_liveness);
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
  };
}

}  // namespace streamcheck::suites
