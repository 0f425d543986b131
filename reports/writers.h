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
//  "targets": [{"name", "url", "features": [..], "managed", "log", "problem"?,
//               "stop"?: {"exit", "needed_kill"?, "leftovers_killed"?, "left_behind"?}}],
//  "results": [{"target", "case", "area", "level", "outcome", "message",
//               "failures"?: [{"message", "exchange"}], "duration_ms",
//               "metrics": {..}, "evidence": {..}}],
//  "catalog": [{"id", "area", "level", "title", "measured", "source", "feature", "defect"}]}
//
// "outcome" is pass, fail, warn, skip, error or not-run. "problem" appears
// only for a target that could not start or died; "stop" only when its stop
// is worth knowing. "evidence" holds only the fields that are set ({} when
// none is):
//   "exchanges": [{"label"?, "request", "request_headers"?, "request_body"?,
//                  "status", "http_version"?, "response_headers"?,
//                  "first_events"?, "last_events"?, "body_bytes", "events"?,
//                  "headers_ms"?, "first_byte_ms"?, "total_ms", "error"?}, ...],
//   "exchanges_dropped": int, "timeline": [[t_ms, bytes, events], ...],
//   "memory": [[t_ms, rss_bytes, pss_bytes], ...] (the server's, memory cases),
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
// <testsuites name="streamcheck"> with one <testsuite> per target and one
// <testcase classname="<area>" name="<case id>"> per result, times in seconds.
// Each testcase carries <properties> "level" and "outcome". Per outcome:
// - fail of a MUST case: <failure type="MUST" message=..>message</failure>;
// - fail of a SHOULD/INFO case and warn: no failure (they do not fail the run,
//   see ExitCodeFor); <system-out> "WARN (SHOULD): message" (or "FAIL (..)");
// - skip: <skipped message=../>; error: <error type="error" message=..>;
// - metrics, when present, as one "metrics: {json}" line in <system-out>.
// A target with a `problem` gets it in its suite's <system-err>; when it also
// has no results, a testcase "target.start" with an <error> makes it visible.
// Characters not allowed in XML 1.0 (control bytes other than tab, LF, CR) are
// dropped. Validates against tests/reports/junit.xsd.
std::string ToJunitXml(const RunReport& report);

// --- Markdown (GitHub step summary) ------------------------------------------
//
// A title line with the verdict (PASS, FAIL, ERROR as ExitCodeFor decides),
// one line of totals, a matrix (rows: cases grouped by area, with level;
// columns: targets; cells: pass, FAIL, warn, skip, error or "-" for no result,
// plus the key figures mib_per_s and rss_growth_mib when present), then
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
