// The bench section of the HTML report: a self-contained page (inline CSS and
// SVG, no script, no external resource) rendered from the bench JSON
// (bench/report.h): added-latency p99 and TTFT p99 against concurrency (one
// line per target), throughput bars (direct and proxied per target), memory
// per open stream, the table of every level, the client row and the gates.
// It reads only the JSON, so a saved bench file renders the same page.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace streamcheck::reports {

std::string BenchHtml(const nlohmann::json& bench);

// One line chart as an <svg>: x the levels in order (equally spaced), y the
// values (log10 when `log_y`), one polyline per series; null values break
// the line. Exposed for tests.
struct ChartSeries {
  std::string name;
  std::vector<std::optional<double>> values;  // one per x label
};
std::string LineChartSvg(const std::string& title, const std::string& y_unit,
                         const std::vector<std::string>& x_labels,
                         const std::vector<ChartSeries>& series, bool log_y);

}  // namespace streamcheck::reports
