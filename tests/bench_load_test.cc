// The load client against an in-process mock with stamped tokens (counts,
// errors, timeouts; no timed assertion), the bench binary end to end against
// the reference server (the JSON contract, a gate's exit code), and the HTML
// section.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bench/load_client.h"
#include "bench/report.h"
#include "harness/ports.h"
#include "mocks/mock_backend.h"
#include "reports/bench_html.h"

namespace streamcheck::bench {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::unique_ptr<mocks::MockBackend> StampingMock(int tokens, int delay_ms) {
  mocks::MockConfig config;
  config.token_count = tokens;
  config.token_delay_ms = delay_ms;
  config.stamp_tokens = true;
  auto mock = mocks::MockBackend::Start(config);
  EXPECT_TRUE(mock) << mock.error();
  return mock ? std::move(*mock) : nullptr;
}

StreamLoad LoadOn(const std::string& url, std::uint64_t streams, int tokens) {
  StreamLoad load;
  load.url = url;
  load.body = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true})";
  load.streams = streams;
  load.expected_tokens = tokens;
  load.stream_timeout = std::chrono::seconds(60);
  return load;
}

TEST(LoadClientTest, EveryStreamCompletesWithEveryTokenMeasured) {
  auto mock = StampingMock(8, 1);
  ASSERT_TRUE(mock);
  StreamLoad load = LoadOn(mock->url() + "/v1/chat/completions", 50, 8);
  load.loops = 2;
  LoadProgress progress;
  LoadResult r = RunStreams(load, &progress);
  EXPECT_EQ(r.streams, 50u);
  EXPECT_EQ(r.completed, 50u) << ::testing::PrintToString(r.error_kinds);
  EXPECT_EQ(r.errors, 0u);
  EXPECT_EQ(r.timeouts, 0u);
  EXPECT_EQ(r.tokens, 400u);
  EXPECT_EQ(r.unstamped_tokens, 0u);
  EXPECT_EQ(r.added_us.count(), 400u);
  EXPECT_EQ(r.ttft_us.count(), 50u);
  EXPECT_EQ(r.e2e_us.count(), 50u);
  EXPECT_GE(r.peak_open, 1u);
  EXPECT_LE(r.peak_open, 50u);
  EXPECT_EQ(progress.started.load(), 50u);
  EXPECT_EQ(progress.ended.load(), 50u);
  EXPECT_EQ(progress.open.load(), 0u);
  EXPECT_GT(r.duration_s(), 0);
  EXPECT_LE(r.ttft_us.max(), r.e2e_us.max());
}

TEST(LoadClientTest, FixedRateStreamsAllRun) {
  auto mock = StampingMock(4, 0);
  ASSERT_TRUE(mock);
  StreamLoad load = LoadOn(mock->url() + "/v1/chat/completions", 20, 4);
  load.rate_per_s = 400;
  LoadResult r = RunStreams(load);
  EXPECT_EQ(r.completed, 20u) << ::testing::PrintToString(r.error_kinds);
  EXPECT_EQ(r.ttft_us.count(), 20u);
}

TEST(LoadClientTest, UnstampedTokensAreCountedNotMeasured) {
  mocks::MockConfig config;
  config.token_count = 5;
  auto mock = mocks::MockBackend::Start(config);
  ASSERT_TRUE(mock);
  LoadResult r = RunStreams(LoadOn((*mock)->url() + "/v1/chat/completions", 3, 5));
  EXPECT_EQ(r.completed, 3u);
  EXPECT_EQ(r.unstamped_tokens, 15u);
  EXPECT_TRUE(r.added_us.empty());  // nothing to subtract: not measured, not zero
}

TEST(LoadClientTest, HttpErrorsAndRefusedConnectionsAreErrors) {
  auto mock = StampingMock(4, 0);
  ASSERT_TRUE(mock);
  LoadResult r = RunStreams(LoadOn(mock->url() + "/status/503", 4, 4));
  EXPECT_EQ(r.errors, 4u);
  EXPECT_EQ(r.completed, 0u);
  ASSERT_EQ(r.error_kinds.size(), 1u);
  EXPECT_THAT(r.error_kinds.begin()->first, HasSubstr("HTTP 503"));

  auto port = harness::PickFreePort();
  ASSERT_TRUE(port);
  LoadResult refused = RunStreams(
      LoadOn("http://127.0.0.1:" + std::to_string(*port) + "/v1/chat/completions", 3, 4));
  EXPECT_EQ(refused.errors, 3u);
  EXPECT_TRUE(refused.ttft_us.empty());
}

TEST(LoadClientTest, StreamsOpenAtTheirTimeoutAreTimeouts) {
  auto mock = StampingMock(4, 60'000);  // the first token comes after a minute
  ASSERT_TRUE(mock);
  StreamLoad load = LoadOn(mock->url() + "/v1/chat/completions", 3, 4);
  load.stream_timeout = std::chrono::milliseconds(300);
  LoadResult r = RunStreams(load);
  EXPECT_EQ(r.timeouts, 3u);
  EXPECT_EQ(r.completed, 0u);
  EXPECT_EQ(r.ttft_censored, 3u);  // recorded as a lower bound, and said so
  EXPECT_EQ(r.ttft_us.count(), 3u);
  mock->Stop();
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The binary against the reference server, small: the contract and a gate.
TEST(BenchCommandTest, WritesTheContractAndAMissedGateExitsOne) {
  fs::path dir = fs::temp_directory_path() / ("bench-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::string command = std::string("timeout 300 ") + STREAMCHECK_BIN +
                        " bench --target cpp --concurrency 2,8 --tokens 6 --token-delay-ms 2 "
                        "--size-mb 8 --rounds 1 --client-size-mb 16 --min-ratio 1000 "
                        "--report-dir " +
                        (dir / "out").string() + " > " + (dir / "log.txt").string() + " 2>&1";
  int status = std::system(command.c_str());
  std::string log = Slurp(dir / "log.txt");
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 1) << log;
  EXPECT_THAT(log, HasSubstr("GATE MISSED: cpp: throughput ratio"));
  auto json = nlohmann::json::parse(Slurp(dir / "out" / "bench.json"), nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << log;
  const nlohmann::json* cpp = nullptr;
  for (const auto& t : json["targets"]) {
    if (t["name"] == "cpp") cpp = &t;
  }
  ASSERT_NE(cpp, nullptr) << json.dump(1);
  EXPECT_TRUE((*cpp)["throughput"]["ratio"].is_number()) << json.dump(1);
  ASSERT_EQ((*cpp)["levels"].size(), 2u);
  const auto& level = (*cpp)["levels"][1];
  EXPECT_EQ(level["concurrency"], 8);
  EXPECT_EQ(level["completed"], 8) << level.dump(1);
  EXPECT_EQ(level["errors"], 0);
  EXPECT_TRUE(level["ttft_ms"]["p99"].is_number());
  EXPECT_TRUE(level["added_ms"]["p99"].is_number());
  EXPECT_TRUE(level["pss_kib_per_stream"].is_number() || level.contains("memory_problem"));
  EXPECT_TRUE(json["client"]["ratio"].is_number()) << json["client"].dump();
  EXPECT_EQ(json["targets"][0]["name"], "mock-direct");
  std::string html = Slurp(dir / "out" / "bench.html");
  EXPECT_THAT(html, HasSubstr("<svg"));
  EXPECT_THAT(html, HasSubstr("cpp"));
  fs::remove_all(dir);
}

// A spec for the reference server with one fault switched on (server/faults.h).
fs::path DefectiveSpec(const fs::path& dir, const std::string& name, const std::string& defect) {
  nlohmann::json spec = {{"name", name},
                         {"command",
                          {"{bin}/defective_server", "--port", "{port}", "--backend",
                           "{backend_url}", "--defect", defect}},
                         {"ready_path", "/ping"},
                         {"features", {"chat", "direct_access"}}};
  fs::path path = dir / (name + ".json");
  std::ofstream(path) << spec.dump(2);
  return path;
}

const nlohmann::json* TargetIn(const nlohmann::json& bench, const std::string& name) {
  for (const auto& t : bench["targets"]) {
    if (t["name"] == name) return &t;
  }
  return nullptr;
}

// Servers with exactly the defects the bench must see: one drops a token of
// every stream (each stream an error, none completed, no knee), one holds the
// whole stream back until the backend ends it (every token at least 4 token
// delays late: added latency far above the gate). A gate asked for fails,
// naming the target; the healthy server in the same run completes every stream.
TEST(BenchCommandTest, DefectiveTargetsCountErrorsAndMissTheGate) {
  fs::path dir = fs::temp_directory_path() / ("bench-defects-" + std::to_string(getpid()));
  fs::create_directories(dir);
  fs::path parity = DefectiveSpec(dir, "drops-a-token", "chat-content-parity");
  fs::path held = DefectiveSpec(dir, "holds-the-stream", "chat-incremental");
  std::string command = std::string("timeout 300 ") + STREAMCHECK_BIN +
                        " bench --target cpp --target " + parity.string() + " --target " +
                        held.string() +
                        " --concurrency 4 --tokens 6 --token-delay-ms 25 --no-throughput "
                        "--no-client --no-mock-direct --max-added-p99-ms 50 --json " +
                        (dir / "b.json").string() + " > " + (dir / "log.txt").string() + " 2>&1";
  int status = std::system(command.c_str());
  std::string log = Slurp(dir / "log.txt");
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 1) << log;
  auto json = nlohmann::json::parse(Slurp(dir / "b.json"), nullptr, false);
  ASSERT_FALSE(json.is_discarded()) << log;

  const auto* cpp = TargetIn(json, "cpp");
  ASSERT_NE(cpp, nullptr) << json.dump(1);
  EXPECT_EQ((*cpp)["levels"][0]["completed"], 4) << (*cpp)["levels"][0].dump(1);

  const auto* drops = TargetIn(json, "drops-a-token");
  ASSERT_NE(drops, nullptr);
  const auto& dl = (*drops)["levels"][0];
  EXPECT_EQ(dl["completed"], 0) << dl.dump(1);
  EXPECT_EQ(dl["errors"], 4);
  EXPECT_EQ(dl["error_kinds"]["5 tokens instead of 6"], 4) << dl["error_kinds"].dump();
  EXPECT_TRUE((*drops)["knee"].is_null());
  EXPECT_THAT(log, HasSubstr("GATE MISSED: drops-a-token: added p99 at 4 streams"));
  EXPECT_THAT(log, HasSubstr("4 of 4 streams did not complete (4 errors, 0 timeouts)"));

  const auto* holds = TargetIn(json, "holds-the-stream");
  ASSERT_NE(holds, nullptr);
  const auto& hl = (*holds)["levels"][0];
  EXPECT_EQ(hl["completed"], 4) << hl.dump(1);
  // The first token waited for the other five: at least 4 delays of 25 ms.
  EXPECT_GE(hl["added_ms"]["max"].get<double>(), 100.0) << hl.dump(1);
  EXPECT_GT(hl["added_ms"]["p99"].get<double>(), 50.0);
  EXPECT_TRUE((*holds)["knee"].is_null());
  EXPECT_THAT(log, HasSubstr("GATE MISSED: holds-the-stream: added p99 at 4 streams"));
  bool any_for_holds = false;
  for (const auto& g : json["gates"]) {
    if (g["target"] != "holds-the-stream") continue;
    any_for_holds = true;
    EXPECT_FALSE(g["passed"].get<bool>()) << g.dump();
  }
  EXPECT_TRUE(any_for_holds) << json["gates"].dump();
  fs::remove_all(dir);
}

// Issue 15: two shard processes started together with one --start-at, each
// driving its share of the level, merged into the whole level.
TEST(BenchCommandTest, ShardsStartedTogetherMergeIntoTheWholeLoad) {
  fs::path dir = fs::temp_directory_path() / ("bench-shards-" + std::to_string(getpid()));
  fs::create_directories(dir);
  // A start time a little ahead, so both shards are up and waiting for it.
  long start = static_cast<long>(std::time(nullptr)) + 3;
  std::string shards;
  for (int i = 0; i < 2; ++i) {
    shards += std::string("timeout 300 ") + STREAMCHECK_BIN +
              " bench --target cpp --concurrency 5 --tokens 4 --token-delay-ms 5 --shard " +
              std::to_string(i) + "/2 --start-at " + std::to_string(start) + " --json " +
              (dir / ("s" + std::to_string(i) + ".json")).string() + " > " +
              (dir / ("s" + std::to_string(i) + ".txt")).string() + " 2>&1 & ";
  }
  std::string command = "sh -c '" + shards + "wait'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::string logs = Slurp(dir / "s0.txt") + Slurp(dir / "s1.txt");
  std::uint64_t streams = 0;
  for (int i = 0; i < 2; ++i) {
    auto shard =
        nlohmann::json::parse(Slurp(dir / ("s" + std::to_string(i) + ".json")), nullptr, false);
    ASSERT_FALSE(shard.is_discarded()) << logs;
    EXPECT_EQ(shard["settings"]["shard"]["index"], i);
    EXPECT_TRUE(shard["targets"][0]["throughput"].is_null());  // shards split the streams only
    const auto& level = shard["targets"][0]["levels"][0];
    EXPECT_EQ(level["streams"], i == 0 ? 3 : 2) << level.dump(1);
    streams += level["streams"].get<std::uint64_t>();
  }
  EXPECT_EQ(streams, 5u);
  std::string merge = std::string(STREAMCHECK_BIN) + " bench --merge " +
                      (dir / "s0.json").string() + " " + (dir / "s1.json").string() + " --json " +
                      (dir / "m.json").string() + " > " + (dir / "m.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(merge.c_str()), 0) << Slurp(dir / "m.txt");
  auto merged = nlohmann::json::parse(Slurp(dir / "m.json"), nullptr, false);
  ASSERT_FALSE(merged.is_discarded());
  const auto& level = merged["targets"][0]["levels"][0];
  EXPECT_EQ(level["completed"], 5) << level.dump(1) << logs;
  EXPECT_EQ(level["added_ms"]["samples"], 20);  // every token of every shard
  EXPECT_EQ(merged["merged_from"].size(), 2u);
  fs::remove_all(dir);
}

TEST(BenchHtmlTest, ChartsOneLinePerTargetSelfContained) {
  nlohmann::json bench = {
      {"command", "streamcheck bench --target cpp --target flask"},
      {"targets",
       {{{"name", "cpp"},
         {"throughput", {{"direct_mib_s", 1000}, {"proxied_mib_s", 800}, {"ratio", 0.8}}},
         {"levels",
          {{{"mode", "concurrency"},
            {"concurrency", 1},
            {"added_ms", {{"p99", 0.2}}},
            {"ttft_ms", {{"p99", 1.5}}},
            {"pss_kib_per_stream", 20}},
           {{"mode", "concurrency"},
            {"concurrency", 64},
            {"added_ms", {{"p99", 0.4}}},
            {"ttft_ms", {{"p99", 3}}},
            {"pss_kib_per_stream", 22}}}}},
        {{"name", "fl<ask"},
         {"throughput", nullptr},
         {"levels",
          {{{"mode", "concurrency"},
            {"concurrency", 1},
            {"added_ms", {{"p99", 0.5}}},
            {"ttft_ms", {{"p99", 2}}}},
           {{"mode", "concurrency"}, {"concurrency", 64}, {"skipped", "no"}}}}}}}};
  std::string html = reports::BenchHtml(bench);
  EXPECT_THAT(html, HasSubstr("fl&lt;ask"));
  EXPECT_THAT(html, Not(HasSubstr("fl<ask")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("http://")));  // nothing external (SVG needs no namespace inline)
  EXPECT_THAT(html, HasSubstr("ratio 0.80"));
  EXPECT_THAT(html, HasSubstr("skipped: no"));
  std::string chart = reports::LineChartSvg("t", "ms", {"1", "64"},
                                            {{"a", {1.0, 10.0}}, {"b", {2.0, std::nullopt}}}, true);
  // Series a is a line of two points; b has one point and no line.
  std::size_t lines = 0;
  for (std::size_t at = chart.find("<polyline"); at != std::string::npos;
       at = chart.find("<polyline", at + 1)) {
    ++lines;
  }
  EXPECT_EQ(lines, 2u);  // a single point is drawn as a one-point polyline too
  EXPECT_THAT(chart, HasSubstr("b at 1: 2 ms"));
  EXPECT_THAT(reports::LineChartSvg("t", "ms", {"1"}, {}, true), HasSubstr("not measured"));
}

}  // namespace
}  // namespace streamcheck::bench
