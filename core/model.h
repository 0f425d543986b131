// The result model of a run, shared by the engine, the case bodies and every
// report: levels, outcomes, the catalog's case facts, what a case saw (its
// exchanges), and the results of a run. Plain data; the one rule that turns
// what a case recorded into an outcome lives in core/verdict.h.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamcheck::core {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// MUST fails the run, SHOULD is reported as a warning, INFO is recorded only.
enum class Level { kMust, kShould, kInfo };

// kNotRun: the case was selected but never ran (interrupted, run deadline,
// target gone); it is never a pass.
enum class Outcome { kPass, kFail, kWarn, kSkip, kError, kNotRun };

std::string_view ToString(Level level);      // "MUST", "SHOULD", "INFO"
std::string_view ToString(Outcome outcome);  // "pass", "fail", "warn", "skip", "error", "not-run"
std::optional<Level> ParseLevel(std::string_view text);
std::optional<Outcome> ParseOutcome(std::string_view text);

// One catalog case's facts: one row of the table in suites/, printed by
// `streamcheck list` and rendered as docs/catalog.md.
struct CaseInfo {
  std::string id;    // "direct.large-get": area, a dot, a name
  std::string area;  // "chat", "direct", "server"
  Level level = Level::kMust;
  std::string title;     // one line: what passing means
  std::string measured;  // how the case measures it
  std::string source;    // the rule it checks: an RFC section, a spec, a client's behaviour
  std::string feature;   // the target feature it needs ("" for every target)
  // The fault switch of the test-only defective server that makes this case
  // fail ("" only for INFO cases, which never fail).
  std::string defect;
  // What the case must have seen before it judges (a complete exchange, the
  // fault it set up fired); without it the case fails or errors, never passes.
  std::string precondition;
};

// One point of a stream's arrival curve, for timelines.
struct TimelinePoint {
  double t_ms = 0;           // since the request was sent
  std::uint64_t bytes = 0;   // body bytes received so far
  std::uint64_t events = 0;  // SSE events received so far (0 for byte streams)
};

// One request a case made and what came back.
struct Exchange {
  std::string label;           // what the case did, e.g. "backend gated after 1 token"
  std::string request;         // "POST /v1/chat/completions"
  HeaderList request_headers;  // secrets redacted
  std::string request_body;    // the first bytes of the body sent
  int status = 0;              // 0: no response
  std::string http_version;
  HeaderList response_headers;
  std::vector<std::string> first_events;  // data of the first few events
  std::vector<std::string> last_events;   // data of the last few events
  std::uint64_t body_bytes = 0;           // after content decoding
  std::uint64_t wire_bytes = 0;           // as received (differs when the body was compressed)
  std::uint64_t events = 0;
  double headers_ms = -1;  // -1: never
  double first_byte_ms = -1;
  double total_ms = 0;
  std::string error;  // why the transfer did not complete, "" when it did
};

// "1048576 bytes", or "1048576 bytes (1049173 on the wire)" for a body that
// came content-coded.
std::string BodySizeText(const Exchange& exchange);

// The server's memory at one moment of a case.
struct MemoryPoint {
  double t_ms = 0;  // since sampling began
  std::uint64_t rss_bytes = 0;
  std::uint64_t pss_bytes = 0;
};

// What a case saw, shown behind a report cell.
struct Evidence {
  std::vector<Exchange> exchanges;  // in the order they were made, at most kMaxExchanges
  std::size_t exchanges_dropped = 0;
  std::vector<TimelinePoint> timeline;  // the case's chart, at most ~200 points
  std::vector<MemoryPoint> memory;      // the server's memory over the case, at most ~200 points
  std::string note;                     // anything else worth showing
  static constexpr std::size_t kMaxExchanges = 24;
  bool empty() const {
    return exchanges.empty() && timeline.empty() && memory.empty() && note.empty();
  }
};

// One failed expectation: the sentence says what was expected and what was
// seen; `exchange` points at the exchange it was judged on (-1: none).
struct Failure {
  std::string message;
  int exchange = -1;
};

// One run of a case that `run --repeat N` ran several times.
struct RunOutcome {
  Outcome outcome = Outcome::kNotRun;
  std::string message;  // "" for a pass
  double duration_ms = 0;
};

struct CaseResult {
  std::string target;   // target name
  std::string case_id;  // e.g. "direct.large-get"
  std::string area;     // "chat", "direct", "server"
  Level level = Level::kMust;
  // Set by core::Judge from what the case recorded; a result that was never
  // judged is not-run, never pass.
  Outcome outcome = Outcome::kNotRun;
  std::string message;  // for every outcome but pass: what was expected, what was seen
  std::vector<Failure> failures;
  double duration_ms = 0;                             // of every run, under --repeat
  nlohmann::json metrics = nlohmann::json::object();  // bytes, mib_per_s, rss_growth_mib, ...
  // Under --repeat: of the first of the worst runs (core::WorseRun).
  Evidence evidence;
  // `run --repeat N`, N > 1: the runs asked for and each run's outcome, in
  // order (a stop ends them early); `outcome` is core::JudgeRepeated's. Empty
  // `runs` and repeat 1 for a case run once.
  int repeat = 1;
  std::vector<RunOutcome> runs;
  int PassedRuns() const;
  bool repeated() const { return repeat > 1; }
};

// How a spawned target ended when the harness stopped it.
struct StopSummary {
  bool was_running = false;  // still running when stopped
  bool needed_kill = false;  // ignored SIGTERM for the whole grace period
  std::string exit;          // "exited with code 0", "killed by signal 9 (SIGKILL)"
  std::vector<std::string>
      leftovers_killed;      // processes outside its group, killed ("pid 12 (cmd)")
  bool left_behind = false;  // something of it outlived the stop
  bool empty() const { return exit.empty() && leftovers_killed.empty() && !left_behind; }
};

struct TargetSummary {
  std::string name;
  std::string url;
  std::vector<std::string> features;
  bool managed = false;  // started by the harness (memory checks possible)
  std::string log_path;  // where its stdout/stderr went, when managed
  std::string spec;      // the spec file it came from, or "built-in"
  std::string problem;   // why it could not be started or died, if it did
  StopSummary stop;
};

// Why a run ended before every selected case ran.
struct Interruption {
  std::string reason;  // "interrupted by SIGINT", "the run's --timeout of 60 s was reached"
  int exit_code = 0;   // 130, 143, 124
};

// One entry of a baseline (`run --expect FILE`): the outcome a case is known
// to have on a target while a migration is under way, and why.
struct Expectation {
  std::string target;
  std::string case_id;
  Outcome outcome = Outcome::kFail;  // fail, warn or error
  std::string reason;
};

// How a run is gated (core/verdict.h, GateOf): from `--strict` and
// `--expect`. Kept in the report, so a re-rendered report gates the same.
struct GateSettings {
  bool strict = false;   // SHOULD misses, and listed failures that now pass, fail the run
  std::string baseline;  // the file the expectations came from ("": none)
  std::vector<Expectation> expected;
  bool empty() const { return !strict && baseline.empty() && expected.empty(); }
};

// How a run was split over processes (`run --shard I/N`, engine/shard.h), so
// `report --merge` can put the shards together, refuse a shard given twice and
// say what no shard reported. Absent for a run that was not sharded.
struct ShardTarget {
  std::string target;
  std::vector<std::string> cases;  // in run order
};
struct ShardInfo {
  int count = 0;             // N of --shard I/N
  std::vector<int> indexes;  // the shards this report holds: one for a shard, several once merged
  // Every (target, case) the whole run selected, over all its shards.
  std::vector<ShardTarget> selected;
  // Cases that judge the target's liveness: they run on every shard that has
  // a case of their target, so several shards report them (merged, not refused).
  std::vector<std::string> liveness;
  // Pairs of `selected` no shard reported when this report was merged: its
  // `error` results for them stand in for the missing shards' (a later merge
  // with those shards replaces them).
  std::vector<ShardTarget> unreported;
};

struct RunReport {
  std::string tool_name = "streamcheck";
  std::string tool_version;
  std::string started_at;  // ISO 8601, UTC
  double duration_ms = 0;
  std::vector<CaseInfo> catalog;
  std::vector<TargetSummary> targets;
  std::vector<CaseResult> results;
  std::optional<Interruption> interrupted;
  GateSettings gate;
  std::optional<ShardInfo> shard;
};

}  // namespace streamcheck::core
