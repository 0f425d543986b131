// server: the server as a whole.
#include <gtest/gtest.h>

#include "suites/catalog.h"

namespace streamcheck::suites {
namespace {

using reports::Level;

CaseDef Case(std::string id, Level level, std::string title,
             std::function<void(CaseContext&)> body) {
  return {{std::move(id), "server", level, std::move(title)}, "", std::move(body)};
}

harness::HttpResponse GetReady(CaseContext& ctx) {
  harness::HttpRequest request;
  request.url = ctx.Url(ctx.spec().ready_path);
  request.total_timeout = std::chrono::seconds(ctx.spec().ready_timeout_s);
  auto response = harness::Perform(request);
  ctx.Evidence("GET " + ctx.spec().ready_path, response);
  return response;
}

}  // namespace

std::vector<CaseDef> ServerCases() {
  return {
      Case("server.ready", Level::kMust,
           "the readiness path answers 200 within the spec's timeout",
           [](CaseContext& ctx) { ctx.Expect(harness::CheckStatus(GetReady(ctx), 200)); }),
      // Runs last: the runner keeps this one at the end of every target's list.
      Case("server.survives", Level::kMust,
           "after every other case the readiness path still answers 200 and the process lives",
           [](CaseContext& ctx) {
             if (ctx.process() && !ctx.process()->IsRunning()) {
               ctx.Expect(harness::CheckResult::Fail("expected the server process to be alive; it " +
                                                     ctx.process()->DescribeExit()));
               return;
             }
             ctx.Expect(harness::CheckStatus(GetReady(ctx), 200));
           }),
  };
}

}  // namespace streamcheck::suites
