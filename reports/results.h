// The in-memory results of a run: what every report writer reads. Produced by
// the suites, one CaseResult per (target, case).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace streamcheck::reports {

enum class Level { kMust, kShould, kInfo };
enum class Outcome { kPass, kFail, kWarn, kSkip, kError };

std::string_view ToString(Level level);      // "MUST", "SHOULD", "INFO"
std::string_view ToString(Outcome outcome);  // "pass", "fail", "warn", "skip", "error"
std::optional<Level> ParseLevel(std::string_view text);
std::optional<Outcome> ParseOutcome(std::string_view text);

// One point of a stream's arrival curve, for timelines.
struct TimelinePoint {
  double t_ms = 0;          // since the request was sent
  std::uint64_t bytes = 0;  // body bytes received so far
  std::uint64_t events = 0; // SSE events received so far (0 for byte streams)
};

// What a case saw, shown behind a report cell. Every field is optional.
struct Evidence {
  std::string request;  // e.g. "POST /v1/chat/completions {\"stream\":true,...}"
  int status = 0;
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::vector<std::string> first_events;  // data of the first few events
  std::vector<std::string> last_events;   // data of the last few events
  std::vector<TimelinePoint> timeline;    // downsampled to at most ~200 points
  std::string note;                       // anything else worth showing
  bool empty() const {
    return request.empty() && status == 0 && response_headers.empty() && first_events.empty() &&
           last_events.empty() && timeline.empty() && note.empty();
  }
};

struct CaseResult {
  std::string target;   // target name
  std::string case_id;  // e.g. "direct.large-get"
  std::string area;     // "chat", "direct", "server"
  Level level = Level::kMust;
  Outcome outcome = Outcome::kPass;
  std::string message;  // for fail/warn/error/skip: what was expected, what was seen
  double duration_ms = 0;
  nlohmann::json metrics = nlohmann::json::object();  // e.g. bytes, mib_per_s, rss_growth_mib
  Evidence evidence;
};

struct TargetSummary {
  std::string name;
  std::string url;
  std::vector<std::string> features;
  bool managed = false;  // started by the harness (memory checks possible)
  std::string log_path;  // where its stdout/stderr went, when managed
  std::string problem;   // why it could not be started or died, if it did
};

// A catalog entry, so reports can show titles and levels for every case.
struct CaseInfo {
  std::string id;
  std::string area;
  Level level = Level::kMust;
  std::string title;  // one line: what passing means
};

struct RunReport {
  std::string tool_name = "streamcheck";
  std::string tool_version;
  std::string started_at;  // ISO 8601, UTC
  double duration_ms = 0;
  std::vector<CaseInfo> catalog;
  std::vector<TargetSummary> targets;
  std::vector<CaseResult> results;
};

// Exit code of `run` for these results (DESIGN.md): 0 when every MUST case
// passed, 1 when a MUST case failed, 3 when a case could not run (error) or a
// target could not be started and nothing failed.
int ExitCodeFor(const RunReport& report);

}  // namespace streamcheck::reports
