// server: the server as a whole.
#include "harness/checks.h"
#include "harness/raw_exchange.h"
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

// host and port of the target's base URL ("http://HOST:PORT").
std::pair<std::string, int> HostPort(const CaseContext& ctx) {
  std::string url = ctx.Url("");
  std::string authority = url.substr(url.find("//") + 2);
  authority = authority.substr(0, authority.find('/'));
  auto colon = authority.rfind(':');
  if (colon == std::string::npos) return {authority, 80};
  return {authority.substr(0, colon), std::atoi(authority.c_str() + colon + 1)};
}

void BadRequests(CaseContext& ctx) {
  auto [host, port] = HostPort(ctx);
  const std::string big(64 * 1024, 'a');
  const std::vector<std::pair<std::string, std::string>> probes = {
      {"a malformed request line", "GARBAGE / NOT-HTTP\r\n\r\n"},
      {"a 64 KiB header", "GET /ping HTTP/1.1\r\nHost: x\r\nX-Big: " + big + "\r\n\r\n"},
      {"both Content-Length and Transfer-Encoding",
       "POST /directAccess/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
  };
  for (const auto& [what, bytes] : probes) {
    auto reply = harness::RawExchange(host, port, bytes, std::chrono::seconds(10));
    if (!reply) return ctx.Error(reply.error());
    core::Exchange x;
    x.label = what + " (raw socket)";
    x.request = bytes.substr(0, bytes.find("\r\n"));
    x.status = reply->status;
    x.error = reply->status ? "" : reply->closed ? "closed without a response" : "no answer";
    ctx.RecordExchange(std::move(x));
    bool refused =
        (reply->status >= 400 && reply->status < 500) || (reply->status == 0 && reply->closed);
    if (!refused) {
      ctx.Fail("expected a 4xx or a closed connection for " + what + ", got " +
               (reply->status ? "\"" + reply->status_line + "\""
                              : "no answer within 10 s with the connection left open"));
    }
  }
  auto ready = GetReady(ctx);
  auto check = harness::CheckStatus(ready, 200);
  if (!check.ok) {
    check.message = "after the bad requests the server stopped serving: " + check.message;
  }
  ctx.Expect(check);
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
      Case({"server.bad-requests", Level::kMust,
            "a malformed request line, a 64 KiB header, and Content-Length with "
            "Transfer-Encoding get 4xx (or a closed connection), and the server keeps serving",
            "raw socket: `GARBAGE / NOT-HTTP`, a 64 KiB header, Content-Length with "
            "Transfer-Encoding; each must get 4xx or a closed connection within 10 s; then the "
            "ready path must answer 200.",
            "RFC 9112 §2.2, §3, §6.1", "server-bad-requests", BackendUse::kNone,
            "a connection for each probe (none: error), then an answer on the ready path"},
           BadRequests),
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
