// Internal to the report writers: text sanitising and escaping, number
// formatting, and the cases x targets layout every matrix format shares.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reports/results.h"

namespace streamcheck::reports::internal {

// `text` as valid UTF-8: each byte that is not part of a valid sequence
// becomes U+FFFD.
std::string SanitizeUtf8(std::string_view text);

// Escaped for XML 1.0 character data (attribute = false) or a double-quoted
// attribute value (attribute = true; tab, LF and CR become references so they
// survive attribute normalisation). Characters XML 1.0 does not allow are dropped.
std::string XmlEscape(std::string_view text, bool attribute);

// Escaped for HTML text and double- or single-quoted attributes. Control
// characters other than tab, LF and CR are shown as their Unicode control
// pictures (U+2400 block), so stream bytes stay visible.
std::string HtmlEscape(std::string_view text);

// `text` on one line for Markdown: whitespace runs collapsed to one space,
// control characters shown as control pictures, cut after about `max_bytes`
// (at a character boundary, marked with "..."), Markdown and HTML
// punctuation backslash-escaped so it renders literally, also inside tables.
std::string MarkdownInline(std::string_view text, std::size_t max_bytes = 500);

// A number for people: integers without decimals, others with up to
// `max_decimals` (trailing zeros dropped); non-finite values as "n/a".
std::string FormatNumber(double value, int max_decimals = 3);

// A metric value: numbers through FormatNumber, strings as they are,
// anything else as compact JSON.
std::string FormatMetric(const nlohmann::json& value);

// Bytes as "1.5 MiB", "12.0 KiB", "512 B".
std::string FormatBytes(double bytes);

// The figures worth showing in a matrix cell: "1480 MiB/s", "+2.1 MiB RSS"
// from the metrics mib_per_s and rss_growth_mib, joined by ", "; "" if none.
std::string KeyFigures(const nlohmann::json& metrics);

// "7/10 runs" (runs passed of runs asked for) for a case run with --repeat,
// "" for a case run once.
std::string RunsCell(const CaseResult& r);

// metrics[key] as a number, if it is one.
bool NumberMetric(const nlohmann::json& metrics, const char* key, double* out);

// Seconds with three decimals, for JUnit ("0.212"); negative or non-finite
// milliseconds count as 0.
std::string Seconds(double ms);

// "PASS", "FAIL" or "ERROR", from ExitCodeFor.
std::string_view Verdict(const RunReport& report);

// `text` on one line: whitespace runs collapsed to one space, control
// characters dropped, cut after about `max_bytes` with "...". For JUnit
// failure messages and summaries.
std::string OneLine(std::string_view text, std::size_t max_bytes = 300);

// `text` as one shell word: as it is when it holds only safe characters,
// else in single quotes.
std::string ShellQuote(std::string_view text);

// The target of a result, if the report has it.
const TargetSummary* FindTarget(const RunReport& report, const std::string& name);

// Shell commands that reproduce one result by hand: the cell itself
// (`streamcheck run --target T --cases ID -v`), and, when the case made a
// request, that request as `streamcheck probe` against the target's address
// during the run (the exchange the first failure names, else the last one).
std::vector<std::string> ReproduceLines(const RunReport& report, const CaseResult& r);

// One exchange as plain text, one fact per line, each line starting with
// `indent`: request, status, body, timings, transfer error, headers, events.
std::string ExchangeText(const Exchange& x, std::string_view indent);

struct OutcomeCounts {
  int pass = 0, fail = 0, warn = 0, skip = 0, error = 0, not_run = 0;
  int total() const { return pass + fail + warn + skip + error + not_run; }
};
OutcomeCounts CountOutcomes(const RunReport& report);

// One matrix row.
struct CaseRow {
  std::string id;
  std::string area;
  Level level = Level::kMust;
  std::string title;  // from the catalog; "" when the case is not in it
};

// The cases x targets layout (see writers.h for the ordering rules).
struct Matrix {
  std::vector<std::string> targets;
  std::vector<CaseRow> cases;  // grouped by area
  // (case index, target index) -> the first result for that pair.
  std::map<std::pair<std::size_t, std::size_t>, const CaseResult*> cells;

  const CaseResult* Find(std::size_t case_index, std::size_t target_index) const;
};
Matrix BuildMatrix(const RunReport& report);

// The area of a case ID: the text before its first '.'.
std::string AreaOf(std::string_view case_id);

// --- chart axes -----------------------------------------------------------------

// A value axis from 0 to `end` that ends on a round number: ticks every step
// of 1, 2, 2.5 or 5 times a power of ten (in the axis unit), the smallest step
// that needs at most 6 intervals, each labelled with as many decimals as the
// step needs, so no two labels are the same however small the range.
struct Axis {
  double end = 1;  // in the caller's unit (ms, bytes, events); >= the max given
  std::vector<std::pair<double, std::string>> ticks;  // (value, label), from 0 to end
};

// Milliseconds: "0 ms", "0.05 ms", .. below 1 s; "0 s", "0.5 s", .. from there.
Axis TimeAxis(double max_ms);

// Bytes in the unit of the maximum: "0 B", "5 B", ..; "0 KiB", "1 KiB", ..;
// "0 MiB", "25 MiB", ... Whole bytes below 1 KiB.
Axis BytesAxis(double max_bytes);

// Whole counts: "0 ev", "5 ev", ... (`unit` after each number).
Axis CountAxis(double max, std::string_view unit);

// --- which stream timelines the HTML report draws --------------------------------

// Groups, in the order the charts are drawn: the streaming proofs first.
enum class ChartGroup {
  kGated,           // case IDs ending in ".incremental": the backend holds until the client
                    // has seen content
  kSsePassthrough,  // case IDs ending in ".sse-passthrough" (gated as well)
  kByteStream,      // the largest body among targets >= kChartMinBytes
  kEventStream,     // the most events among targets >= kChartMinEvents, spread over at least
                    // kChartMinSpanMs on some target
  kFolded,          // small replies, or ones that came in one or two reads on every target
};

constexpr std::uint64_t kChartMinBytes = 64 * 1024;
constexpr std::uint64_t kChartMinEvents = 5;
// A line with fewer points is one jump: the reply came in one or two reads.
constexpr std::size_t kChartMinPoints = 3;
// An event stream whose events all came within this long on every target
// shows nothing on a chart (a line straight up): folded away.
constexpr double kChartMinSpanMs = 100;

struct PlannedChart {
  std::size_t case_index = 0;  // into Matrix::cases
  ChartGroup group = ChartGroup::kFolded;
  std::uint64_t max_bytes = 0;   // the largest body among targets
  std::uint64_t max_events = 0;  // the most events among targets
};

// Every case with a timeline on some target, ordered by group, then in matrix
// (catalog) order. Gated cases always get a chart; a byte or event stream
// needs, on some target, kChartMinPoints points; everything else is kFolded.
std::vector<PlannedChart> PlanTimelineCharts(const Matrix& m);

}  // namespace streamcheck::reports::internal
