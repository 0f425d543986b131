#include "reports/bench_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "reports/render_common.h"

namespace streamcheck::reports {
namespace {

using internal::HtmlEscape;
using nlohmann::json;

constexpr const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                    "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

constexpr std::string_view kStyle = R"CSS(
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1200px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f5f5f5; }
td.na { color: #999; } .note { color: #555; } .missed { color: #b00; font-weight: 600; }
figure { display: inline-block; margin: 8px 16px 8px 0; vertical-align: top; }
figcaption { font-weight: 600; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
code { background: #f5f5f5; padding: 1px 4px; }
)CSS";

std::string Fmt(const char* format, double v) {
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::optional<double> Num(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}
std::optional<double> Num2(const json& j, const char* outer, const char* key) {
  if (!j.is_object() || !j.contains(outer)) return std::nullopt;
  return Num(j[outer], key);
}

std::string Str(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
}

std::string Cell(std::optional<double> v, const char* format = "%.1f") {
  return v ? "<td>" + Fmt(format, *v) + "</td>" : "<td class=\"na\">&ndash;</td>";
}

const json& Targets(const json& bench) {
  static const json kEmpty = json::array();
  return bench.contains("targets") && bench["targets"].is_array() ? bench["targets"] : kEmpty;
}

std::vector<int> ConcurrencyLevels(const json& bench) {
  std::set<int> levels;
  for (const auto& t : Targets(bench)) {
    if (!t.contains("levels") || !t["levels"].is_array()) continue;
    for (const auto& l : t["levels"]) {
      if (Str(l, "mode") == "concurrency" && l.contains("concurrency") &&
          l["concurrency"].is_number_integer()) {
        levels.insert(l["concurrency"].get<int>());
      }
    }
  }
  return {levels.begin(), levels.end()};
}

// One series per target: `outer.key` (or `key` alone) at each concurrency level.
std::vector<ChartSeries> SeriesOf(const json& bench, const std::vector<int>& levels,
                                  const char* outer, const char* key) {
  std::vector<ChartSeries> series;
  for (const auto& t : Targets(bench)) {
    ChartSeries s;
    s.name = Str(t, "name");
    bool any = false;
    for (int c : levels) {
      std::optional<double> v;
      if (t.contains("levels") && t["levels"].is_array()) {
        for (const auto& l : t["levels"]) {
          if (Str(l, "mode") == "concurrency" && l.value("concurrency", 0) == c) {
            v = outer ? Num2(l, outer, key) : Num(l, key);
          }
        }
      }
      any = any || v.has_value();
      s.values.push_back(v);
    }
    if (any) series.push_back(std::move(s));
  }
  return series;
}

std::string Legend(const std::vector<std::string>& names, double x, double y) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    double yy = y + double(i) * 16;
    out += "<rect x=\"" + Fmt("%.0f", x) + "\" y=\"" + Fmt("%.0f", yy - 9) +
           "\" width=\"12\" height=\"10\" fill=\"" + kPalette[i % 10] + "\"/>";
    out += "<text x=\"" + Fmt("%.0f", x + 16) + "\" y=\"" + Fmt("%.0f", yy) + "\">" +
           HtmlEscape(names[i]) + "</text>";
  }
  return out;
}

std::string ThroughputBars(const json& bench) {
  struct Row {
    std::string name;
    std::optional<double> direct, proxied, ratio;
  };
  std::vector<Row> rows;
  double top = 0;
  for (const auto& t : Targets(bench)) {
    if (!t.contains("throughput") || !t["throughput"].is_object()) continue;
    const json& tp = t["throughput"];
    Row r{Str(t, "name"), Num(tp, "direct_mib_s"), Num(tp, "proxied_mib_s"), Num(tp, "ratio")};
    top = std::max({top, r.direct.value_or(0), r.proxied.value_or(0)});
    rows.push_back(r);
  }
  if (rows.empty() || top <= 0) return "<p class=\"note\">No throughput was measured.</p>";
  const double label_w = 130, bar_w = 520, row_h = 40;
  double height = double(rows.size()) * row_h + 30;
  std::string svg = "<svg class=\"bars\" role=\"img\" width=\"" +
                    Fmt("%.0f", label_w + bar_w + 190) + "\" height=\"" + Fmt("%.0f", height) +
                    "\">";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    double y = 10 + double(i) * row_h;
    svg +=
        "<text x=\"0\" y=\"" + Fmt("%.0f", y + 16) + "\">" + HtmlEscape(rows[i].name) + "</text>";
    auto bar = [&](std::optional<double> v, double yy, const char* colour, const char* what) {
      double w = v ? *v / top * bar_w : 0;
      svg += "<rect x=\"" + Fmt("%.0f", label_w) + "\" y=\"" + Fmt("%.1f", yy) + "\" width=\"" +
             Fmt("%.1f", w) + "\" height=\"14\" fill=\"" + colour + "\"><title>" + what + " " +
             (v ? Fmt("%.1f MiB/s", *v) : "not measured") + "</title></rect>";
      svg += "<text x=\"" + Fmt("%.1f", label_w + w + 4) + "\" y=\"" + Fmt("%.1f", yy + 11) +
             "\">" + what + " " + (v ? Fmt("%.0f MiB/s", *v) : "not measured") + "</text>";
    };
    bar(rows[i].direct, y, "#9ecae1", "direct");
    bar(rows[i].proxied, y + 16, "#3182bd", "proxied");
    if (rows[i].ratio) {
      svg += "<text x=\"" + Fmt("%.0f", label_w + bar_w + 120) + "\" y=\"" + Fmt("%.0f", y + 20) +
             "\">ratio " + Fmt("%.2f", *rows[i].ratio) + "</text>";
    }
  }
  svg += "</svg>";
  return svg;
}

std::string LevelTable(const json& bench) {
  std::string out =
      "<table><thead><tr><th>target</th><th>streams</th><th>done</th><th>errors</th>"
      "<th>timeouts</th><th>TTFT p50</th><th>TTFT p90</th><th>TTFT p99</th><th>added p50</th>"
      "<th>added p99</th><th>added max</th><th>e2e p50</th><th>e2e p99</th><th>tokens/s</th>"
      "<th>RSS KiB/stream</th><th>PSS KiB/stream</th><th>CPU s</th></tr></thead><tbody>";
  for (const auto& t : Targets(bench)) {
    if (!t.contains("levels") || !t["levels"].is_array()) continue;
    for (const auto& l : t["levels"]) {
      std::string what = Str(l, "mode") == "rate" ? Fmt("%g/s", l.value("rate_per_s", 0.0))
                                                  : std::to_string(l.value("concurrency", 0));
      out += "<tr><td>" + HtmlEscape(Str(t, "name")) + "</td><td>" + what + "</td>";
      if (!Str(l, "skipped").empty()) {
        out += "<td colspan=\"15\" class=\"na\" style=\"text-align:left\">skipped: " +
               HtmlEscape(Str(l, "skipped")) + "</td></tr>";
        continue;
      }
      out += Cell(Num(l, "completed"), "%.0f") + Cell(Num(l, "errors"), "%.0f") +
             Cell(Num(l, "timeouts"), "%.0f") + Cell(Num2(l, "ttft_ms", "p50")) +
             Cell(Num2(l, "ttft_ms", "p90")) + Cell(Num2(l, "ttft_ms", "p99")) +
             Cell(Num2(l, "added_ms", "p50"), "%.2f") + Cell(Num2(l, "added_ms", "p99"), "%.2f") +
             Cell(Num2(l, "added_ms", "max"), "%.1f") + Cell(Num2(l, "e2e_ms", "p50"), "%.0f") +
             Cell(Num2(l, "e2e_ms", "p99"), "%.0f") + Cell(Num(l, "tokens_per_s"), "%.0f") +
             Cell(Num(l, "rss_kib_per_stream")) + Cell(Num(l, "pss_kib_per_stream")) +
             Cell(Num(l, "cpu_s"), "%.2f") + "</tr>";
      if (l.contains("error_kinds") && l["error_kinds"].is_object() && !l["error_kinds"].empty()) {
        std::string kinds;
        for (const auto& [why, n] : l["error_kinds"].items()) {
          kinds += (kinds.empty() ? "" : "; ") + n.dump() + " &times; " + HtmlEscape(why);
        }
        out += "<tr><td></td><td colspan=\"16\" class=\"note\" style=\"text-align:left\">" + kinds +
               "</td></tr>";
      }
    }
  }
  return out + "</tbody></table>";
}

}  // namespace

std::string LineChartSvg(const std::string& title, const std::string& y_unit,
                         const std::vector<std::string>& x_labels,
                         const std::vector<ChartSeries>& series, bool log_y) {
  const double w = 560, h = 300, left = 60, right = 130, top = 14, bottom = 40;
  const double pw = w - left - right, ph = h - top - bottom;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series) {
    for (const auto& v : s.values) {
      if (!v || (log_y && *v <= 0)) continue;
      lo = std::min(lo, *v);
      hi = std::max(hi, *v);
    }
  }
  std::string svg = "<svg class=\"chart\" role=\"img\" aria-label=\"" + HtmlEscape(title) +
                    "\" width=\"" + Fmt("%.0f", w) + "\" height=\"" + Fmt("%.0f", h) + "\">";
  if (!(lo <= hi) || x_labels.empty()) {
    return svg + "<text x=\"20\" y=\"40\">not measured</text></svg>";
  }
  double y0, y1;
  if (log_y) {
    y0 = std::floor(std::log10(lo));
    y1 = std::ceil(std::log10(hi));
    if (y1 <= y0) y1 = y0 + 1;
  } else {
    y0 = 0;
    y1 = hi > 0 ? hi * 1.1 : 1;
  }
  auto Y = [&](double v) {
    double t = log_y ? (std::log10(v) - y0) / (y1 - y0) : (v - y0) / (y1 - y0);
    return top + ph * (1 - t);
  };
  auto X = [&](std::size_t i) {
    return x_labels.size() == 1 ? left + pw / 2
                                : left + pw * double(i) / double(x_labels.size() - 1);
  };
  // Axes, grid and ticks.
  svg += "<line x1=\"" + Fmt("%.0f", left) + "\" y1=\"" + Fmt("%.0f", top + ph) + "\" x2=\"" +
         Fmt("%.0f", left + pw) + "\" y2=\"" + Fmt("%.0f", top + ph) + "\" stroke=\"#999\"/>";
  svg += "<line x1=\"" + Fmt("%.0f", left) + "\" y1=\"" + Fmt("%.0f", top) + "\" x2=\"" +
         Fmt("%.0f", left) + "\" y2=\"" + Fmt("%.0f", top + ph) + "\" stroke=\"#999\"/>";
  std::vector<double> ticks;
  if (log_y) {
    for (double e = y0; e <= y1; ++e) ticks.push_back(std::pow(10.0, e));
  } else {
    for (int k = 0; k <= 4; ++k) ticks.push_back(y0 + (y1 - y0) * k / 4);
  }
  for (double t : ticks) {
    double y = Y(log_y ? t : t);
    svg += "<line x1=\"" + Fmt("%.0f", left) + "\" y1=\"" + Fmt("%.1f", y) + "\" x2=\"" +
           Fmt("%.0f", left + pw) + "\" y2=\"" + Fmt("%.1f", y) + "\" stroke=\"#eee\"/>";
    svg += "<text x=\"" + Fmt("%.0f", left - 4) + "\" y=\"" + Fmt("%.1f", y + 4) +
           "\" text-anchor=\"end\">" + Fmt("%g", t) + "</text>";
  }
  for (std::size_t i = 0; i < x_labels.size(); ++i) {
    svg += "<text x=\"" + Fmt("%.1f", X(i)) + "\" y=\"" + Fmt("%.0f", top + ph + 16) +
           "\" text-anchor=\"middle\">" + HtmlEscape(x_labels[i]) + "</text>";
  }
  svg += "<text x=\"" + Fmt("%.0f", left + pw / 2) + "\" y=\"" + Fmt("%.0f", h - 4) +
         "\" text-anchor=\"middle\">concurrent streams</text>";
  svg += "<text x=\"12\" y=\"" + Fmt("%.0f", top + ph / 2) + "\" transform=\"rotate(-90 12 " +
         Fmt("%.0f", top + ph / 2) + ")\" text-anchor=\"middle\">" + HtmlEscape(y_unit) +
         (log_y ? " (log)" : "") + "</text>";
  std::vector<std::string> names;
  for (std::size_t k = 0; k < series.size(); ++k) {
    const char* colour = kPalette[k % 10];
    names.push_back(series[k].name);
    std::string points;
    auto flush = [&] {
      if (!points.empty()) {
        svg += "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"" + std::string(colour) +
               "\" points=\"" + points + "\"/>";
      }
      points.clear();
    };
    for (std::size_t i = 0; i < series[k].values.size() && i < x_labels.size(); ++i) {
      const auto& v = series[k].values[i];
      if (!v || (log_y && *v <= 0)) {
        flush();
        continue;
      }
      points += Fmt("%.1f", X(i)) + "," + Fmt("%.1f", Y(*v)) + " ";
      svg += "<circle cx=\"" + Fmt("%.1f", X(i)) + "\" cy=\"" + Fmt("%.1f", Y(*v)) +
             "\" r=\"3\" fill=\"" + colour + "\"><title>" + HtmlEscape(series[k].name) + " at " +
             HtmlEscape(x_labels[i]) + ": " + Fmt("%g", *v) + " " + HtmlEscape(y_unit) +
             "</title></circle>";
    }
    flush();
  }
  svg += Legend(names, left + pw + 14, top + 10);
  return svg + "</svg>";
}

std::string BenchHtml(const json& bench) {
  std::string out =
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>streamcheck bench</title><style>";
  out += kStyle;
  out += "</style></head><body><h1>streamcheck bench</h1>";
  out += "<p class=\"note\"><code>" + HtmlEscape(Str(bench, "command")) + "</code><br>" +
         HtmlEscape(Str(bench, "started_at"));
  if (bench.contains("machine") && bench["machine"].is_object()) {
    const json& m = bench["machine"];
    out += " &middot; " + std::to_string(m.value("cores", 0)) + " cores";
    if (auto l = Num(m, "load_average_start")) out += " &middot; load average " + Fmt("%.2f", *l);
    if (auto l = Num(m, "load_average_end")) out += " to " + Fmt("%.2f", *l);
  }
  if (bench.contains("tool") && bench["tool"].is_object()) {
    out += " &middot; streamcheck " + HtmlEscape(Str(bench["tool"], "version"));
  }
  out +=
      "</p><p class=\"note\">Measured side by side in one run on one machine: the ratios "
      "between targets are the result; absolute figures move with the machine's load.</p>";
  if (bench.contains("notes") && bench["notes"].is_array()) {
    for (const auto& n : bench["notes"]) {
      if (n.is_string())
        out += "<p class=\"note\">note: " + HtmlEscape(n.get<std::string>()) + "</p>";
    }
  }

  std::vector<int> levels = ConcurrencyLevels(bench);
  std::vector<std::string> labels;
  for (int c : levels) labels.push_back(std::to_string(c));
  out += "<h2 id=\"latency\">Latency against concurrency</h2>";
  out +=
      "<figure><figcaption>Added latency p99 (per token: arrival minus the mock's send "
      "stamp)</figcaption>" +
      LineChartSvg("added latency p99", "ms", labels, SeriesOf(bench, levels, "added_ms", "p99"),
                   true) +
      "</figure>";
  out += "<figure><figcaption>Time to first token p99</figcaption>" +
         LineChartSvg("TTFT p99", "ms", labels, SeriesOf(bench, levels, "ttft_ms", "p99"), true) +
         "</figure>";
  out += "<h2 id=\"throughput\">/directAccess/ throughput</h2>" + ThroughputBars(bench);
  out +=
      "<table><thead><tr><th>target</th><th>direct MiB/s</th><th>proxied MiB/s</th>"
      "<th>ratio</th><th>CPU s/GiB</th></tr></thead><tbody>";
  for (const auto& t : Targets(bench)) {
    if (!t.contains("throughput") || !t["throughput"].is_object()) continue;
    const json& tp = t["throughput"];
    out += "<tr><td>" + HtmlEscape(Str(t, "name")) + "</td>" + Cell(Num(tp, "direct_mib_s")) +
           Cell(Num(tp, "proxied_mib_s")) + Cell(Num(tp, "ratio"), "%.2f") +
           Cell(Num(tp, "cpu_s_per_gib"), "%.2f") + "</tr>";
  }
  out += "</tbody></table>";
  out +=
      "<h2 id=\"memory\">Memory per open stream</h2><figure><figcaption>PSS per open stream "
      "(growth over the level's start, at the sample with the most streams open)</figcaption>" +
      LineChartSvg("PSS per stream", "KiB", labels,
                   SeriesOf(bench, levels, nullptr, "pss_kib_per_stream"), false) +
      "</figure>";
  out +=
      "<h2 id=\"levels\">Every level</h2><p class=\"note\">Milliseconds; memory in KiB per "
      "open stream.</p>" +
      LevelTable(bench);
  out +=
      "<h2 id=\"knee\">Knee</h2><p>Highest concurrency with added-latency p99 &le; 10 ms and "
      "every stream completed:</p><ul>";
  for (const auto& t : Targets(bench)) {
    out += "<li>" + HtmlEscape(Str(t, "name")) + ": " +
           (t.contains("knee") && t["knee"].is_number() ? t["knee"].dump() : "none") + "</li>";
  }
  out += "</ul>";
  if (bench.contains("client") && bench["client"].is_object()) {
    const json& c = bench["client"];
    out +=
        "<h2 id=\"client\">Client</h2><p>The harness's client (SHA-256 and arrival timeline "
        "on) against <code>curl -o /dev/null</code> on a " +
        Fmt("%g", c.value("size_mb", 0.0)) + " MiB body, alternated: harness " +
        (Num(c, "harness_mib_s") ? Fmt("%.0f", *Num(c, "harness_mib_s")) : "&ndash;") +
        " MiB/s, curl " + (Num(c, "curl_mib_s") ? Fmt("%.0f", *Num(c, "curl_mib_s")) : "&ndash;") +
        " MiB/s, ratio " + (Num(c, "ratio") ? Fmt("%.2f", *Num(c, "ratio")) : "&ndash;") +
        " (goal &ge; 0.90).</p>";
  }
  if (bench.contains("gates") && bench["gates"].is_array() && !bench["gates"].empty()) {
    out += "<h2 id=\"gates\">Gates</h2><ul>";
    for (const auto& g : bench["gates"]) {
      bool passed = g.value("passed", false);
      out += std::string("<li") + (passed ? ">" : " class=\"missed\">") +
             HtmlEscape(Str(g, "target")) + ": " + HtmlEscape(Str(g, "figure")) + " " +
             (Num(g, "value") ? Fmt("%g", *Num(g, "value")) : "not measured") + ", limit " +
             Fmt("%g", g.value("limit", 0.0)) + (passed ? " (passed)" : " (MISSED)") + "</li>";
    }
    out += "</ul>";
  }
  return out + "</body></html>\n";
}

}  // namespace streamcheck::reports
