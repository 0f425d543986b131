// Report writers: every format is rendered from the in-memory RunReport
// (reports/results.h) into a string; WriteFile puts a string on disk. None of
// them throws, and none of them needs the network to render or to be read.
//
// Ordering, shared by the matrix formats (Markdown, HTML) and JUnit:
// - targets: RunReport.targets in order, then any target named only by results;
// - cases: RunReport.catalog order, then cases missing from the catalog in the
//   order results first name them; grouped by area, areas in order of first
//   appearance. Only cases that have at least one result are shown.
//
// Text from servers (messages, headers, events) may hold anything: invalid
// UTF-8 is replaced by U+FFFD in every format, and each writer escapes for its
// own syntax.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "reports/results.h"

namespace streamcheck::reports {

// --- JSON ("results.json", read back by `streamcheck report`) ---------------
//
// {"tool": {"name", "version"}, "started_at", "duration_ms",
//  "interrupted"?: {"reason", "exit_code"},
//  "targets": [{"name", "url", "features": [..], "managed", "log", "spec"?, "problem"?,
//               "stop"?: {"exit", "needed_kill"?, "leftovers_killed"?, "left_behind"?}}],
//  "gate"?: {"strict", "baseline", "expected": [{"target", "case", "outcome", "reason"}]},
//  "results": [{"target", "case", "area", "level", "outcome", "message",
//               "failures"?: [{"message", "exchange"}], "duration_ms",
//               "repeat"?, "passed_runs"?, "runs"?: [{"outcome", "message"?, "duration_ms"}],
//               "metrics": {..}, "evidence": {..}}],
//  "catalog": [{"id", "area", "level", "title", "measured", "source", "feature", "defect",
//               "precondition"?}],
//  "shard"?: {"count", "indexes": [..], "selected": [{"target", "cases": [..]}],
//             "liveness": [..], "unreported"?: [{"target", "cases": [..]}]}}
//
// "shard" appears only for a sharded run (`run --shard I/N`) and a merge of
// its shards: which shards of `count` the file holds, what the whole run
// selected, the cases that run on every shard of their target, and the pairs
// whose results are a merge's stand-ins for shards it did not have
// (core::ShardInfo, reports/merge.h).
// "outcome" is pass, fail, warn, skip, error or not-run. "repeat", "passed_runs"
// and "runs" appear only for a case run several times (`run --repeat N`): N,
// how many runs passed, each run's outcome in order; "outcome" is then the
// repeated case's (core::JudgeRepeated), "duration_ms" the runs' total, and
// "failures", "metrics" and "evidence" those of the first of its worst runs.
// "problem" appears only for a target that could not start or died; "stop" only when its stop
// is worth knowing; "gate" only when the run had --strict or --expect (a
// re-rendered report is gated the same; core/verdict.h GateOf). "log" is
// relative to the folder of the report that names it when the log is inside
// that folder (--report-dir copies the logs into logs/ there). "evidence" holds only the fields
// that are set ({} when none is):
//   "exchanges": [{"label"?, "request", "request_headers"?, "request_body"?,
//                  "status", "http_version"?, "response_headers"?,
//                  "first_events"?, "last_events"?, "body_bytes", "events"?,
//                  "headers_ms"?, "first_byte_ms"?, "total_ms", "error"?}, ...],
//   "exchanges_dropped": int, "timeline": [[t_ms, bytes, events], ...],
//   "memory": [[t_ms, rss_bytes, pss_bytes], ...] (pss 0: not measured),
//   "note": string. Headers are [[name, value], ...] (order and repeats kept).

// The run as JSON. Strings are copied as they are: dump the result with
// nlohmann::json::error_handler_t::replace (as ToJsonString does) if they may
// hold invalid UTF-8.
nlohmann::json ToJson(const RunReport& report);

// ToJson as text with the keys in the order above, indented by `indent`
// spaces (-1: one line), invalid UTF-8 replaced by U+FFFD. Ends with "\n".
std::string ToJsonString(const RunReport& report, int indent = 2);

// The inverse of ToJson. Accepts a minimal document: "results" is required
// and each result needs "target", "case", "level" and "outcome"; everything
// else defaults (a missing "area" is the case ID up to its first '.').
// Errors name the offending field, e.g. `results[3].outcome: unknown outcome "ok"`.
Result<RunReport> FromJson(const nlohmann::json& json);

// Parses `text` as JSON, then FromJson.
Result<RunReport> ParseJsonReport(std::string_view text);

// Reads a results file written by `run --json`; errors name the path.
Result<RunReport> LoadJsonReport(const std::string& path);

// --- JUnit XML -------------------------------------------------------------
//
// For CI test views (GitLab, Jenkins, GitHub actions such as
// action-junit-report): <testsuites name="streamcheck"> with one <testsuite>
// per target (name = the target) and one <testcase classname="<target>.<area>"
// name="<case id>"> per result, times in seconds. Outcomes, under the run's
// gate (core/verdict.h GateOf):
// - a MUST failure: <failure type="MUST" message="<one line: level, case,
//   target, message>">, the element text the evidence: each failure with the
//   exchange it was judged on, the other exchanges, note, metrics, the target's
//   log and the commands that reproduce it (internal::ReproduceLines);
// - a SHOULD miss (warn): no failure, "SHOULD MISS ..." and the evidence in
//   <system-out>; under --strict a <failure type="SHOULD (--strict)">;
// - an outcome the baseline accepts: a fail or error becomes <skipped> with
//   the baseline's reason (the evidence in <system-out>), an accepted warn
//   stays a SHOULD miss; a listed failure that passes says "NOW PASSES" in
//   <system-out>, a <failure type="baseline (--strict)"> under --strict;
// - skip and not-run: <skipped message=..>; error: <error type="error">.
// Each suite has <properties> (url, features, managed, spec, log, strict,
// baseline), a <system-out> with its summary line (pass, MUST failures,
// SHOULD misses, accepted, errors, skipped, each with their case IDs) and a
// <system-err> with the target's problem. A target with a problem and no
// results gets a testcase "target.start" with an <error>. Characters not
// allowed in XML 1.0 are dropped. Validates against the schema of Jenkins'
// xunit plugin (tests/reports/jenkins-junit.xsd) and the project's stricter
// tests/reports/junit.xsd.
std::string ToJunitXml(const RunReport& report);

// --- Markdown (GitHub step summary) ------------------------------------------
//
// A title line with the verdict (PASS, FAIL, ERROR as ExitCodeFor decides),
// one line of totals, a matrix (rows: cases grouped by area, with level;
// columns: targets; cells: pass, FAIL, warn, skip, error or "-" for no result,
// with "7/10 runs" for a repeated case, plus the key figures mib_per_s and
// rss_growth_mib when present), then
// "Failures": every fail, error and warn, and every target problem, with its
// message on one line, cut at about 500 bytes.
std::string ToMarkdown(const RunReport& report);

// --- HTML ------------------------------------------------------------------
//
// One self-contained page (inline CSS, SVG and JS; no external resource):
// targets, the cases x targets matrix coloured by outcome, a bytes (or events)
// over time chart per streaming case with one line per target, a throughput
// and memory table, and each cell's evidence. The page is complete without
// JavaScript (cells link to the evidence below the matrix); with it, clicking
// a cell opens the evidence in a side panel. The full results are also
// embedded as JSON in <script type="application/json" id="streamcheck-data">.
std::string ToHtml(const RunReport& report);

// --- Files -------------------------------------------------------------------

// Writes `content` to `path`, replacing the file, creating missing parent
// folders. The error names the path and the reason.
Status WriteFile(const std::string& path, std::string_view content);

}  // namespace streamcheck::reports
