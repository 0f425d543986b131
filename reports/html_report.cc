// The HTML page is rendered statically here; its small script only moves a
// cell's evidence into a side panel. The CSS and JS live in raw strings below.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "reports/render_common.h"
#include "reports/writers.h"

namespace streamcheck::reports {
namespace {

using internal::FormatNumber;
using internal::HtmlEscape;

constexpr std::string_view kStyle = R"CSS(
:root { --pass:#1a7f37; --fail:#cf222e; --warn:#9a6700; --skip:#6e7781; --error:#8250df;
  --line:#d0d7de; --muted:#57606a; --bg:#ffffff; --panel:#f6f8fa;
  --panel-w: clamp(360px, 36vw, 640px); }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328;
  background: var(--bg); }
header, main { padding: 0 24px; max-width: 1400px; }
h1 { font-size: 22px; margin: 20px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 0 0 4px; }
h4 { font-size: 13px; margin: 14px 0 4px; color: var(--muted); text-transform: uppercase;
  letter-spacing: .04em; }
h5 { font-size: 12px; margin: 8px 0 2px; color: var(--muted); }
section.exchange { border-left: 3px solid var(--line); padding-left: 8px; margin: 8px 0; }
section.exchange h4 code { text-transform: none; letter-spacing: 0; color: #1f2328; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 4px; padding: 6px 8px;
  margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 320px; overflow: auto; }
table { border-collapse: collapse; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: var(--panel); position: sticky; top: 0; }
.meta, .hint, .title, .muted { color: var(--muted); }
.verdict { padding: 1px 10px; border-radius: 12px; color: #fff; font-size: 16px; }
.v-PASS { background: var(--pass); } .v-FAIL { background: var(--fail); }
.v-ERROR { background: var(--error); } .v-NOTHING-RAN, .v-INTERRUPTED { background: var(--skip); }
.legend span { margin-right: 12px; }
.matrix td.cell { padding: 0; min-width: 92px; }
.matrix td.cell a, .matrix td.cell span.none { display: block; padding: 4px 8px; color: inherit;
  text-decoration: none; }
.matrix td.cell small { display: block; color: var(--muted); }
.matrix td.cell .runs { font-weight: normal; white-space: nowrap; }
.matrix tr.area th { background: #eaeef2; font-size: 13px; text-transform: uppercase;
  letter-spacing: .05em; }
.matrix th.case { font-weight: normal; }
.matrix th.case .title { display: block; font-size: 12px; max-width: 40em; }
.o-pass { background: #dafbe1; } .o-fail { background: #ffebe9; color: var(--fail); font-weight: 600; }
.o-warn { background: #fff8c5; } .o-skip { background: #f6f8fa; color: var(--skip); }
.o-error { background: #fbefff; color: var(--error); font-weight: 600; }
.o-none, .o-not-run { color: var(--skip); }
td.cell.selected { outline: 3px solid #0969da; outline-offset: -3px; }
.lvl { font-size: 12px; font-weight: 600; }
.l-MUST { color: var(--fail); } .l-SHOULD { color: var(--warn); } .l-INFO { color: var(--muted); }
.badge { padding: 0 6px; border-radius: 3px; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.problem { color: var(--fail); }
figure.chart { margin: 12px 0 20px; min-width: 0; }
/* Side by side where there is room, so the first charts compare at a glance. */
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 540px), 1fr));
  gap: 0 24px; }
figure.chart figcaption { margin-bottom: 4px; max-width: 720px; }
figure.chart figcaption .look { display: block; font-size: 13px; color: var(--muted); }
#timelines-more > summary { cursor: pointer; margin: 8px 0; }
svg.timeline { width: 100%; max-width: 720px; height: auto; background: #fff;
  border: 1px solid var(--line); }
svg.timeline text { font: 11px system-ui, sans-serif; fill: var(--muted); }
svg.timeline text.legend { fill: #1f2328; }
#panel svg.timeline text { font-size: 16px; }
svg.timeline .grid { stroke: #eaeef2; }
svg.timeline .axis { stroke: #8c959f; }
article.ev { border: 1px solid var(--line); border-radius: 6px; padding: 12px; margin: 12px 0; }
article.ev:target { outline: 3px solid #0969da; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; }
ol.events { margin: 0; padding-left: 24px; } ol.events li { margin-bottom: 4px; }
table.kv td:first-child { white-space: nowrap; }
#panel { position: fixed; top: 0; right: 0; bottom: 0; width: min(640px, 100%); background: var(--bg);
  border-left: 1px solid var(--line); box-shadow: -4px 0 16px rgba(0,0,0,.12); overflow: auto;
  padding: 12px 16px 24px; z-index: 10; }
#panel[hidden] { display: none; }
/* Wide enough for both: the open panel takes its width from the page, so the
   matrix (scrolling sideways if it must) and the selected cell stay in view. */
@media (min-width: 960px) {
  #panel { width: var(--panel-w); }
  body.panel-open > header, body.panel-open > main { margin-right: var(--panel-w); }
  body.panel-open .matrix-wrap.scroll-x { overflow-x: auto; }
}
#panel-close { float: right; font: inherit; padding: 2px 10px; cursor: pointer; }
#panel article.ev { border: 0; padding: 0; margin: 0; }
#filters label { margin-right: 16px; cursor: pointer; }
tr[hidden], figure[hidden] { display: none; }
.gate-note { color: #0969da; font-weight: 600; }
pre.repro { white-space: pre-wrap; }
)CSS";

// Moves a cell's evidence (and its case's chart) into the side panel.
constexpr std::string_view kScript = R"JS(
(function () {
  'use strict';
  var panel = document.getElementById('panel');
  var body = document.getElementById('panel-body');
  var selected = null;
  var wrap = document.querySelector('.matrix-wrap');
  var all = document.getElementById('evidence-all');
  if (all) all.open = false;  // the panel shows evidence now; keep the list folded

  function show(link) {
    var source = document.getElementById(link.getAttribute('data-ev'));
    if (!source) return false;
    var copy = source.cloneNode(true);
    copy.removeAttribute('id');
    copy.querySelectorAll('.chart-ref').forEach(function (ref) {
      var chart = document.getElementById(ref.getAttribute('data-chart'));
      if (!chart) return;
      var chartCopy = chart.cloneNode(true);
      chartCopy.removeAttribute('id');
      ref.replaceWith(chartCopy);
    });
    body.replaceChildren(copy);
    panel.hidden = false;
    makeRoom(true, link.closest('td'));
    if (selected) selected.classList.remove('selected');
    selected = link.closest('td');
    if (selected) {
      selected.classList.add('selected');
      selected.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    }
    panel.focus({ preventScroll: true });
    return true;
  }

  // Opens or closes the room for the panel. The matrix reflows; the selected
  // cell keeps its place on screen. Only a matrix too wide for what is left
  // scrolls sideways (a scrolling box would unstick its header row).
  function makeRoom(open, cell) {
    var top = cell ? cell.getBoundingClientRect().top : 0;
    document.body.classList.toggle('panel-open', open);
    if (wrap) {
      wrap.classList.remove('scroll-x');
      if (open && wrap.scrollWidth > wrap.clientWidth + 1) wrap.classList.add('scroll-x');
    }
    if (cell) window.scrollBy(0, cell.getBoundingClientRect().top - top);
  }

  function hide() {
    panel.hidden = true;
    makeRoom(false, selected);
    if (selected) {
      selected.classList.remove('selected');
      var link = selected.querySelector('a');
      if (link) link.focus({ preventScroll: true });
    }
    selected = null;
  }

  document.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a[data-ev]') : null;
    if (link && show(link)) event.preventDefault();
  });
  // Filters: rows (and their charts and evidence) of the matrix that are
  // worth a look. Without JavaScript the page shows everything.
  var filters = document.getElementById('filters');
  var onlyFailures = document.getElementById('only-failures');
  var onlyDifferences = document.getElementById('only-differences');
  function applyFilters() {
    var shown = {}, rows = document.querySelectorAll('tr.case-row'), count = 0;
    rows.forEach(function (tr) {
      var keep = (!onlyFailures.checked || tr.getAttribute('data-failing') === '1') &&
                 (!onlyDifferences.checked || tr.getAttribute('data-differs') === '1');
      tr.hidden = !keep;
      if (keep) { shown[tr.getAttribute('data-case')] = true; ++count; }
    });
    // An area heading stays when a row below it does.
    document.querySelectorAll('tr.area').forEach(function (area) {
      var next = area.nextElementSibling, any = false;
      while (next && !next.classList.contains('area')) { any = any || !next.hidden; next = next.nextElementSibling; }
      area.hidden = !any;
    });
    document.querySelectorAll('figure.chart[data-case]').forEach(function (f) {
      f.hidden = !shown[f.getAttribute('data-case')];
    });
    var filtered = onlyFailures.checked || onlyDifferences.checked;
    document.getElementById('filter-count').textContent =
        filtered ? count + ' of ' + rows.length + ' cases shown' : '';
  }
  if (filters && onlyFailures && onlyDifferences) {
    filters.hidden = false;
    onlyFailures.addEventListener('change', applyFilters);
    onlyDifferences.addEventListener('change', applyFilters);
  }

  document.getElementById('panel-close').addEventListener('click', hide);
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape') hide();
  });
})();
)JS";

// Colours and dash patterns per target, so lines differ without colour too.
constexpr const char* kLineColors[] = {"#0969da", "#cf222e", "#1a7f37", "#8250df",
                                       "#bc4c00", "#1b7c83", "#bf3989", "#57606a"};
constexpr const char* kLineDashes[] = {"", "6 3", "2 3", "8 3 2 3"};

std::string Esc(std::string_view text) { return HtmlEscape(text); }

std::string CellWord(const CaseResult& r) {
  if (r.outcome == Outcome::kFail && r.level == Level::kMust) return "FAIL";
  return std::string(ToString(r.outcome));
}

std::string Ms(double ms) {
  if (!std::isfinite(ms)) return "n/a";
  if (std::fabs(ms) >= 10000) return FormatNumber(ms / 1000.0, 1) + " s";
  return FormatNumber(ms, ms >= 100 ? 0 : 1) + " ms";
}

// The JSON of the run, safe inside a <script> element: "</" cannot end it and
// "<!--" cannot start the script-data escape states.
std::string ScriptJson(const RunReport& report) {
  const std::string json = ToJsonString(report, -1);
  std::string out;
  out.reserve(json.size() + 64);
  for (std::size_t i = 0; i < json.size(); ++i) {
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') {
      out += "<\\/";
      ++i;
    } else if (json.compare(i, 4, "<!--") == 0) {
      out += "\\u003c";  // '<' only occurs inside JSON strings, where this escape is valid
    } else {
      out += json[i];
    }
  }
  return out;
}

std::string EvidenceId(std::size_t result_index) { return "ev-" + std::to_string(result_index); }
std::string ChartId(std::size_t case_index) { return "chart-" + std::to_string(case_index); }

// --- timeline chart ---------------------------------------------------------

struct Series {
  std::string target;
  const std::vector<TimelinePoint>* points;
  // The backend's side of an abort case, from the metrics (< 0: not known).
  double backend_cancelled_ms = -1;
  double backend_bytes = -1;
};

// A series of the target's memory over a case.
struct MemorySeries {
  std::string target;
  const std::vector<core::MemoryPoint>* points;
};

// The first point where anything had arrived, if any.
const TimelinePoint* FirstContent(const std::vector<TimelinePoint>& points) {
  for (const auto& p : points) {
    if (p.bytes > 0 || p.events > 0) return &p;
  }
  return nullptr;
}

std::string Chart(const std::string& case_id, const std::vector<Series>& series) {
  // The legend goes below the axes, where no line can cross it.
  constexpr double kW = 720, kLeft = 70, kRight = 24, kTop = 14, kPlotH = 200, kAxisText = 40;
  constexpr double kPlotW = kW - kLeft - kRight, kLegendRow = 18;
  const double height = kTop + kPlotH + kAxisText + kLegendRow * static_cast<double>(series.size());

  bool use_bytes = false;
  double max_t = 0, max_y = 0;
  for (const auto& s : series) {
    for (const auto& p : *s.points) use_bytes = use_bytes || p.bytes > 0;
  }
  auto value = [&](const TimelinePoint& p) {
    return static_cast<double>(use_bytes ? p.bytes : p.events);
  };
  for (const auto& s : series) {
    for (const auto& p : *s.points) {
      if (std::isfinite(p.t_ms)) max_t = std::max(max_t, p.t_ms);
      max_y = std::max(max_y, value(p));
    }
    if (std::isfinite(s.backend_cancelled_ms)) max_t = std::max(max_t, s.backend_cancelled_ms);
  }
  // Round ends and ticks whose labels follow the range (no "0 ms, 0 ms, 0.1 ms").
  const internal::Axis x_axis = internal::TimeAxis(max_t);
  const internal::Axis y_axis =
      use_bytes ? internal::BytesAxis(max_y) : internal::CountAxis(max_y, "ev");
  auto x = [&](double t) { return kLeft + std::clamp(t / x_axis.end, 0.0, 1.0) * kPlotW; };
  auto y = [&](double v) { return kTop + kPlotH - std::clamp(v / y_axis.end, 0.0, 1.0) * kPlotH; };
  auto fmt = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return std::string(buf);
  };
  auto amount = [&](double v) {
    return use_bytes ? internal::FormatBytes(v) : FormatNumber(v, 0) + " events";
  };

  std::string svg =
      "<svg class=\"timeline\" viewBox=\"0 0 " + fmt(kW) + " " + fmt(height) +
      "\" role=\"img\" aria-label=\"" +
      Esc(std::string(use_bytes ? "bytes" : "events") + " received over time for " + case_id) +
      "\">\n";
  for (const auto& [v, label] : y_axis.ticks) {
    const double gy = y(v);
    svg += "<line class=\"grid\" x1=\"" + fmt(kLeft) + "\" y1=\"" + fmt(gy) + "\" x2=\"" +
           fmt(kLeft + kPlotW) + "\" y2=\"" + fmt(gy) + "\"/><text class=\"tick y\" x=\"" +
           fmt(kLeft - 6) + "\" y=\"" + fmt(gy + 4) + "\" text-anchor=\"end\">" + Esc(label) +
           "</text>\n";
  }
  for (std::size_t i = 0; i < x_axis.ticks.size(); ++i) {
    const auto& [t, label] = x_axis.ticks[i];
    const double gx = x(t);
    const char* anchor = i == 0 ? "start" : i + 1 == x_axis.ticks.size() ? "end" : "middle";
    svg += "<line class=\"grid\" x1=\"" + fmt(gx) + "\" y1=\"" + fmt(kTop) + "\" x2=\"" + fmt(gx) +
           "\" y2=\"" + fmt(kTop + kPlotH) + "\"/><text class=\"tick x\" x=\"" + fmt(gx) +
           "\" y=\"" + fmt(kTop + kPlotH + 16) + "\" text-anchor=\"" + anchor + "\">" + Esc(label) +
           "</text>\n";
  }
  svg += "<line class=\"axis\" x1=\"" + fmt(kLeft) + "\" y1=\"" + fmt(kTop + kPlotH) + "\" x2=\"" +
         fmt(kLeft + kPlotW) + "\" y2=\"" + fmt(kTop + kPlotH) + "\"/>";
  svg += "<line class=\"axis\" x1=\"" + fmt(kLeft) + "\" y1=\"" + fmt(kTop) + "\" x2=\"" +
         fmt(kLeft) + "\" y2=\"" + fmt(kTop + kPlotH) + "\"/>";
  svg += "<text x=\"" + fmt(kLeft + kPlotW / 2) + "\" y=\"" + fmt(kTop + kPlotH + 32) +
         "\" text-anchor=\"middle\">time since request</text>\n";

  for (std::size_t i = 0; i < series.size(); ++i) {
    const std::string color = kLineColors[i % std::size(kLineColors)];
    const std::string dash = kLineDashes[i % std::size(kLineDashes)];
    const auto& points = *series[i].points;
    // From the origin, flat until the first point: nothing arrives before the
    // first read, which is always a point, so a reply that comes in one piece
    // is a flat line and a jump, never a slope. Later points are samples, at
    // least a couple of milliseconds apart, that do not say when in between
    // the bytes came: straight lines join them.
    std::string coords = fmt(x(0)) + "," + fmt(y(0));
    std::string last_xy = coords;
    auto add = [&](double t, double v) {
      const std::string xy = fmt(x(t)) + "," + fmt(y(v));
      if (xy != last_xy) coords += " " + xy;
      last_xy = xy;
    };
    bool started = false;
    for (const auto& p : points) {
      if (!std::isfinite(p.t_ms)) continue;
      if (!started) add(p.t_ms, 0);
      started = true;
      add(p.t_ms, value(p));
    }
    const TimelinePoint& last = points.back();
    svg += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"" +
           (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") + " points=\"" + coords +
           "\"><title>" + Esc(series[i].target) + "</title></polyline>";
    if (std::isfinite(last.t_ms)) {
      svg += "<circle cx=\"" + fmt(x(last.t_ms)) + "\" cy=\"" + fmt(y(value(last))) +
             "\" r=\"3\" fill=\"" + color + "\"/>";
    }
    const double ly = kTop + kPlotH + kAxisText + 14 + kLegendRow * static_cast<double>(i);
    std::string legend = series[i].target + ": " + amount(value(last));
    if (use_bytes && last.events > 0) legend += ", " + std::to_string(last.events) + " events";
    legend += " by " + Ms(last.t_ms);
    if (const TimelinePoint* first = FirstContent(points); first != nullptr) {
      legend += ", first at " + Ms(first->t_ms);
    }
    if (series[i].backend_bytes >= 0) {
      legend += "; backend sent " + internal::FormatBytes(series[i].backend_bytes);
    }
    if (series[i].backend_cancelled_ms >= 0) {
      // The backend noticed the client had gone: a dashed vertical line.
      const double cx = x(series[i].backend_cancelled_ms);
      svg += "<line class=\"cancel\" x1=\"" + fmt(cx) + "\" y1=\"" + fmt(kTop) + "\" x2=\"" +
             fmt(cx) + "\" y2=\"" + fmt(kTop + kPlotH) + "\" stroke=\"" + color +
             "\" stroke-width=\"1.5\" stroke-dasharray=\"3 3\"><title>" +
             Esc(series[i].target + ": backend cancelled after " +
                 Ms(series[i].backend_cancelled_ms)) +
             "</title></line>";
      legend += ", backend cancelled after " + Ms(series[i].backend_cancelled_ms) + " (dashed)";
    } else if (series[i].backend_bytes >= 0) {
      legend += ", backend never cancelled";
    }
    svg += "<line x1=\"" + fmt(kLeft + 10) + "\" y1=\"" + fmt(ly - 4) + "\" x2=\"" +
           fmt(kLeft + 34) + "\" y2=\"" + fmt(ly - 4) + "\" stroke=\"" + color +
           "\" stroke-width=\"2\"" + (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") +
           "/><text class=\"legend\" x=\"" + fmt(kLeft + 40) + "\" y=\"" + fmt(ly) + "\">" +
           Esc(legend) + "</text>\n";
  }
  svg += "</svg>";
  return svg;
}

// The target's resident memory (and its proportional share, when measured)
// over a memory case, one line per target.
std::string MemoryChart(const std::string& case_id, const std::vector<MemorySeries>& series) {
  constexpr double kW = 720, kLeft = 70, kRight = 24, kTop = 14, kPlotH = 200, kAxisText = 40;
  constexpr double kPlotW = kW - kLeft - kRight, kLegendRow = 18;
  const double height = kTop + kPlotH + kAxisText + kLegendRow * static_cast<double>(series.size());
  double max_t = 0, max_y = 0;
  for (const auto& s : series) {
    for (const auto& p : *s.points) {
      if (std::isfinite(p.t_ms)) max_t = std::max(max_t, p.t_ms);
      max_y = std::max(max_y, static_cast<double>(std::max(p.rss_bytes, p.pss_bytes)));
    }
  }
  const internal::Axis x_axis = internal::TimeAxis(max_t);
  const internal::Axis y_axis = internal::BytesAxis(max_y);
  auto x = [&](double t) { return kLeft + std::clamp(t / x_axis.end, 0.0, 1.0) * kPlotW; };
  auto y = [&](double v) { return kTop + kPlotH - std::clamp(v / y_axis.end, 0.0, 1.0) * kPlotH; };
  auto fmt = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return std::string(buf);
  };
  std::string svg = "<svg class=\"timeline memory\" viewBox=\"0 0 " + fmt(kW) + " " + fmt(height) +
                    "\" role=\"img\" aria-label=\"" +
                    Esc("resident memory over time for " + case_id) + "\">\n";
  for (const auto& [v, label] : y_axis.ticks) {
    svg += "<line class=\"grid\" x1=\"" + fmt(kLeft) + "\" y1=\"" + fmt(y(v)) + "\" x2=\"" +
           fmt(kLeft + kPlotW) + "\" y2=\"" + fmt(y(v)) + "\"/><text class=\"tick y\" x=\"" +
           fmt(kLeft - 6) + "\" y=\"" + fmt(y(v) + 4) + "\" text-anchor=\"end\">" + Esc(label) +
           "</text>\n";
  }
  for (std::size_t i = 0; i < x_axis.ticks.size(); ++i) {
    const auto& [t, label] = x_axis.ticks[i];
    const char* anchor = i == 0 ? "start" : i + 1 == x_axis.ticks.size() ? "end" : "middle";
    svg += "<line class=\"grid\" x1=\"" + fmt(x(t)) + "\" y1=\"" + fmt(kTop) + "\" x2=\"" +
           fmt(x(t)) + "\" y2=\"" + fmt(kTop + kPlotH) + "\"/><text class=\"tick x\" x=\"" +
           fmt(x(t)) + "\" y=\"" + fmt(kTop + kPlotH + 16) + "\" text-anchor=\"" + anchor + "\">" +
           Esc(label) + "</text>\n";
  }
  svg += "<line class=\"axis\" x1=\"" + fmt(kLeft) + "\" y1=\"" + fmt(kTop + kPlotH) + "\" x2=\"" +
         fmt(kLeft + kPlotW) + "\" y2=\"" + fmt(kTop + kPlotH) + "\"/>";
  svg += "<line class=\"axis\" x1=\"" + fmt(kLeft) + "\" y1=\"" + fmt(kTop) + "\" x2=\"" +
         fmt(kLeft) + "\" y2=\"" + fmt(kTop + kPlotH) + "\"/>";
  svg += "<text x=\"" + fmt(kLeft + kPlotW / 2) + "\" y=\"" + fmt(kTop + kPlotH + 32) +
         "\" text-anchor=\"middle\">time since the case's first sample</text>\n";
  for (std::size_t i = 0; i < series.size(); ++i) {
    const std::string color = kLineColors[i % std::size(kLineColors)];
    const auto& points = *series[i].points;
    std::string rss, pss;
    std::uint64_t first = points.front().rss_bytes, peak = 0;
    bool has_pss = false;
    for (const auto& p : points) {
      rss += (rss.empty() ? "" : " ") + fmt(x(p.t_ms)) + "," + fmt(y(double(p.rss_bytes)));
      if (p.pss_bytes > 0) {
        has_pss = true;
        pss += (pss.empty() ? "" : " ") + fmt(x(p.t_ms)) + "," + fmt(y(double(p.pss_bytes)));
      }
      peak = std::max(peak, p.rss_bytes);
    }
    svg += "<polyline class=\"rss\" fill=\"none\" stroke=\"" + color +
           "\" stroke-width=\"2\" points=\"" + rss + "\"><title>" + Esc(series[i].target) +
           " RSS</title></polyline>";
    if (has_pss) {
      svg += "<polyline class=\"pss\" fill=\"none\" stroke=\"" + color +
             "\" stroke-width=\"1.5\" stroke-dasharray=\"6 3\" points=\"" + pss + "\"><title>" +
             Esc(series[i].target) + " PSS</title></polyline>";
    }
    const double ly = kTop + kPlotH + kAxisText + 14 + kLegendRow * static_cast<double>(i);
    const std::string legend = series[i].target + ": RSS " + internal::FormatBytes(double(first)) +
                               " at the start, peak " + internal::FormatBytes(double(peak)) +
                               " (+" +
                               internal::FormatBytes(double(peak > first ? peak - first : 0)) +
                               ")" + (has_pss ? "; PSS dashed" : "");
    svg += "<line x1=\"" + fmt(kLeft + 10) + "\" y1=\"" + fmt(ly - 4) + "\" x2=\"" +
           fmt(kLeft + 34) + "\" y2=\"" + fmt(ly - 4) + "\" stroke=\"" + color +
           "\" stroke-width=\"2\"/><text class=\"legend\" x=\"" + fmt(kLeft + 40) + "\" y=\"" +
           fmt(ly) + "\">" + Esc(legend) + "</text>\n";
  }
  svg += "</svg>";
  return svg;
}

// --- evidence -----------------------------------------------------------------

void KeyValueTable(std::string& out, const std::vector<std::pair<std::string, std::string>>& rows,
                   const char* css_class = "kv") {
  out += std::string("<table class=\"") + css_class + "\">";
  for (const auto& [k, v] : rows) out += "<tr><td>" + Esc(k) + "</td><td>" + Esc(v) + "</td></tr>";
  out += "</table>\n";
}

void Events(std::string& out, const char* heading, const std::vector<std::string>& events) {
  if (events.empty()) return;
  out += std::string("<h5>") + heading + "</h5><ol class=\"events\">";
  for (const auto& e : events) out += "<li><pre>" + Esc(e) + "</pre></li>";
  out += "</ol>\n";
}

void ExchangeSection(std::string& out, const Exchange& x, std::size_t index) {
  out += "<section class=\"exchange\"><h4>Exchange " + std::to_string(index + 1) +
         ": <code class=\"request\">" + Esc(x.request) + "</code>" +
         (x.label.empty() ? "" : " <span class=\"muted\">(" + Esc(x.label) + ")</span>") +
         "</h4>\n";
  std::vector<std::pair<std::string, std::string>> facts;
  facts.emplace_back("status", x.status ? std::to_string(x.status) : "no response");
  if (!x.http_version.empty()) facts.emplace_back("HTTP version", x.http_version);
  facts.emplace_back("body", core::BodySizeText(x) +
                                 (x.events ? ", " + std::to_string(x.events) + " events" : ""));
  if (x.headers_ms >= 0) facts.emplace_back("headers after", Ms(x.headers_ms));
  if (x.first_byte_ms >= 0) facts.emplace_back("first byte after", Ms(x.first_byte_ms));
  facts.emplace_back("total", Ms(x.total_ms));
  if (!x.error.empty()) facts.emplace_back("transfer", x.error);
  KeyValueTable(out, facts, "kv facts");
  if (!x.request_headers.empty()) {
    out += "<h5>Request headers</h5>";
    KeyValueTable(out, x.request_headers);
  }
  if (!x.request_body.empty())
    out += "<h5>Request body</h5><pre>" + Esc(x.request_body) + "</pre>\n";
  if (!x.response_headers.empty()) {
    out += "<h5>Response headers</h5>";
    KeyValueTable(out, x.response_headers);
  }
  Events(out, "First events", x.first_events);
  Events(out, "Last events", x.last_events);
  out += "</section>\n";
}

const char* MessageHeading(Outcome outcome) {
  switch (outcome) {
    case Outcome::kFail:
      return "Failure message";
    case Outcome::kWarn:
      return "Warning";
    case Outcome::kSkip:
      return "Skipped because";
    case Outcome::kError:
      return "Error";
    case Outcome::kNotRun:
      return "Not run because";
    case Outcome::kPass:
      break;
  }
  return "Message";
}

// Each run of a repeated case, its outcome and what it said.
void RunsTable(std::string& out, const CaseResult& r) {
  out +=
      "<h4>Runs</h4><table class=\"runs\"><tr><th>run</th><th>outcome</th><th>duration</th>"
      "<th>message</th></tr>";
  for (std::size_t i = 0; i < r.runs.size(); ++i) {
    const auto& run = r.runs[i];
    out += "<tr><td>" + std::to_string(i + 1) + "</td><td class=\"o-" +
           std::string(ToString(run.outcome)) + "\">" + std::string(ToString(run.outcome)) +
           "</td><td>" + Esc(Ms(run.duration_ms)) + "</td><td>" + Esc(run.message) + "</td></tr>";
  }
  out += "</table>\n";
}

std::string MemoryId(std::size_t case_index) { return "mem-" + std::to_string(case_index); }

void EvidenceArticle(std::string& out, const CaseResult& r, std::size_t index,
                     const internal::CaseRow& row, bool has_chart, std::size_t case_index,
                     bool has_memory, const std::vector<std::string>& reproduce,
                     const std::string& gate_note) {
  const Evidence& e = r.evidence;
  out += "<article class=\"ev\" id=\"" + EvidenceId(index) + "\">\n";
  out += "<h3><span class=\"badge o-" + std::string(ToString(r.outcome)) + "\">" + CellWord(r) +
         "</span> <code>" + Esc(r.case_id) + "</code> on " + Esc(r.target) + "</h3>\n";
  if (!row.title.empty()) out += "<p class=\"title\">" + Esc(row.title) + "</p>\n";
  out += "<dl class=\"facts\"><dt>level</dt><dd class=\"lvl l-" + std::string(ToString(r.level)) +
         "\">" + std::string(ToString(r.level)) + "</dd><dt>outcome</dt><dd>" +
         std::string(ToString(r.outcome)) + "</dd><dt>duration</dt><dd>" + Esc(Ms(r.duration_ms)) +
         "</dd>";
  if (r.repeated()) out += "<dt>runs</dt><dd>" + Esc(core::RunsLine(r)) + "</dd>";
  if (!e.timeline.empty()) {
    const TimelinePoint& last = e.timeline.back();
    std::string received = std::to_string(last.bytes) + " bytes";
    if (last.bytes >= 1024) {
      received += " (" + internal::FormatBytes(static_cast<double>(last.bytes)) + ")";
    }
    if (last.events > 0) received += ", " + std::to_string(last.events) + " events";
    received += ", last at " + Ms(last.t_ms);
    for (const auto& p : e.timeline) {
      if (p.bytes > 0 || p.events > 0) {
        received += ", first at " + Ms(p.t_ms);
        break;
      }
    }
    out += "<dt>received</dt><dd>" + Esc(received) + "</dd>";
  }
  out += "</dl>\n";
  if (!r.message.empty()) {
    out += std::string("<h4>") + MessageHeading(r.outcome) + "</h4><pre class=\"msg\">" +
           Esc(r.message) + "</pre>\n";
  }
  if (!gate_note.empty()) out += "<p class=\"gate-note\">" + Esc(gate_note) + "</p>\n";
  if (r.repeated()) RunsTable(out, r);
  if (!reproduce.empty()) {
    std::string lines;
    for (const auto& line : reproduce) lines += line + "\n";
    out += "<h4>Reproduce</h4><pre class=\"repro\">" + Esc(lines) + "</pre>\n";
  }
  for (std::size_t i = 0; i < e.exchanges.size(); ++i) ExchangeSection(out, e.exchanges[i], i);
  if (e.exchanges_dropped > 0) {
    out += "<p class=\"muted\">" + std::to_string(e.exchanges_dropped) +
           " more exchange(s) not recorded.</p>\n";
  }
  if (r.metrics.is_object() && !r.metrics.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& [k, v] : r.metrics.items()) rows.emplace_back(k, internal::FormatMetric(v));
    out += "<h4>Metrics</h4>";
    KeyValueTable(out, rows);
  }
  if (!e.note.empty()) out += "<h4>Note</h4><pre>" + Esc(e.note) + "</pre>\n";
  if (has_chart) {
    out += "<h4>Timeline</h4><p class=\"chart-ref\" data-chart=\"" + ChartId(case_index) +
           "\"><a href=\"#" + ChartId(case_index) + "\">Bytes over time, every target</a></p>\n";
  }
  if (has_memory) {
    out += "<h4>Memory</h4><p class=\"chart-ref\" data-chart=\"" + MemoryId(case_index) +
           "\"><a href=\"#" + MemoryId(case_index) + "\">Memory over time, every target</a></p>\n";
  }
  if (e.empty() && r.metrics.empty() && r.message.empty()) {
    out += "<p class=\"muted\">No evidence recorded.</p>\n";
  }
  out += "</article>\n";
}

// The page, one section per method, in page order.
class Page {
 public:
  explicit Page(const RunReport& report)
      : report_(report),
        m_(internal::BuildMatrix(report)),
        charts_(m_.cases.size()),
        memory_(m_.cases.size()),
        plan_(internal::PlanTimelineCharts(m_)) {
    // A chart for each case with a timeline on any target: drawn in the
    // timelines section or folded there, and shown in every cell's evidence.
    for (std::size_t c = 0; c < m_.cases.size(); ++c) {
      for (std::size_t t = 0; t < m_.targets.size(); ++t) {
        const CaseResult* r = m_.Find(c, t);
        if (r != nullptr && !r->evidence.timeline.empty()) {
          Series series{r->target, &r->evidence.timeline};
          internal::NumberMetric(r->metrics, "backend_cancelled_after_ms",
                                 &series.backend_cancelled_ms);
          internal::NumberMetric(r->metrics, "backend_bytes_sent", &series.backend_bytes);
          charts_[c].push_back(series);
        }
        if (r != nullptr && !r->evidence.memory.empty()) {
          memory_[c].push_back({r->target, &r->evidence.memory});
        }
      }
    }
  }

  std::string Render() {
    const std::string tool = Tool();
    out_.reserve(64 * 1024);
    out_ += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
    out_ += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
    out_ += "<title>" + Esc(tool) + ": " + std::string(internal::Verdict(report_)) +
            "</title>\n<style>" + std::string(kStyle) + "</style>\n</head>\n<body>\n";
    Header();
    out_ += "<main>\n";
    Targets();
    MatrixTable();
    Timelines();
    MemoryCharts();
    Performance();
    EvidenceList();
    out_ += "</main>\n";
    out_ +=
        "<aside id=\"panel\" hidden tabindex=\"-1\" aria-label=\"Evidence\">"
        "<button id=\"panel-close\" type=\"button\">Close</button><div id=\"panel-body\"></div>"
        "</aside>\n";
    out_ += "<script type=\"application/json\" id=\"streamcheck-data\">" + ScriptJson(report_) +
            "</script>\n";
    out_ += "<script>" + std::string(kScript) + "</script>\n</body>\n</html>\n";
    return std::move(out_);
  }

 private:
  std::string Tool() const { return report_.tool_name.empty() ? "streamcheck" : report_.tool_name; }

  std::size_t IndexOf(const CaseResult* r) const {
    return static_cast<std::size_t>(r - report_.results.data());
  }

  void Header() {
    const std::string verdict(internal::Verdict(report_));
    const auto counts = internal::CountOutcomes(report_);
    out_ += "<header>\n<h1>" + Esc(Tool()) + " <span class=\"verdict v-" + verdict + "\">" +
            verdict + "</span></h1>\n<p class=\"meta\">";
    if (!report_.tool_version.empty()) {
      out_ += Esc(Tool() + " " + report_.tool_version) + " &middot; ";
    }
    if (!report_.started_at.empty()) out_ += "started " + Esc(report_.started_at) + " &middot; ";
    if (report_.duration_ms > 0) out_ += Esc(Ms(report_.duration_ms)) + " &middot; ";
    out_ += std::to_string(m_.targets.size()) + " targets, " + std::to_string(m_.cases.size()) +
            " cases: " + std::to_string(counts.pass) + " pass, " + std::to_string(counts.fail) +
            " fail, " + std::to_string(counts.error) + " error, " + std::to_string(counts.warn) +
            " warn, " + std::to_string(counts.skip) + " skip</p>\n</header>\n";
  }

  void Targets() {
    if (report_.targets.empty()) return;
    out_ +=
        "<section id=\"targets\"><h2>Targets</h2>\n<table><thead><tr><th>name</th><th>url</th>"
        "<th>features</th><th>started by streamcheck</th><th>log</th><th>problem</th></tr>"
        "</thead><tbody>\n";
    for (const auto& t : report_.targets) {
      std::string features;
      for (const auto& f : t.features) features += (features.empty() ? "" : ", ") + f;
      out_ += "<tr><td>" + Esc(t.name) + "</td><td><code>" + Esc(t.url) + "</code></td><td>" +
              Esc(features) + "</td><td>" + (t.managed ? "yes" : "no") + "</td><td>" +
              (t.log_path.empty() ? ""
                                  : "<a class=\"log\" href=\"" + Esc(t.log_path) + "\"><code>" +
                                        Esc(t.log_path) + "</code></a>") +
              "</td><td class=\"problem\">" + Esc(t.problem) + "</td></tr>\n";
    }
    out_ += "</tbody></table></section>\n";
  }

  void MatrixTable() {
    out_ +=
        "<section id=\"matrix\"><h2>Results</h2>\n<p class=\"legend\">"
        "<span class=\"badge o-pass\">pass</span><span class=\"badge o-fail\">FAIL</span>"
        "<span class=\"badge o-warn\">warn</span><span class=\"badge o-skip\">skip</span>"
        "<span class=\"badge o-error\">error</span>"
        "<span class=\"hint\">MUST failures fail the run; SHOULD misses are warn. "
        "Select a cell for its evidence.</span></p>\n";
    out_ +=
        "<p id=\"filters\" hidden><label><input type=\"checkbox\" id=\"only-failures\"> failures "
        "only</label> <label><input type=\"checkbox\" id=\"only-differences\"> differences "
        "between targets only</label> <span id=\"filter-count\" class=\"muted\"></span></p>\n";
    out_ +=
        "<div class=\"matrix-wrap\"><table class=\"matrix\"><thead><tr><th>case</th><th>level</th>";
    for (const auto& t : m_.targets) out_ += "<th class=\"target\">" + Esc(t) + "</th>";
    out_ += "</tr></thead>\n<tbody>\n";
    for (std::size_t c = 0; c < m_.cases.size(); ++c) {
      const auto& row = m_.cases[c];
      if (c == 0 || row.area != m_.cases[c - 1].area) {
        out_ += "<tr class=\"area\"><th colspan=\"" + std::to_string(m_.targets.size() + 2) +
                "\">" + Esc(row.area) + "</th></tr>\n";
      }
      const std::string level(ToString(row.level));
      out_ += "<tr class=\"case-row\" data-case=\"" + std::to_string(c) + "\" data-failing=\"" +
              (Failing(c) ? "1" : "0") + "\" data-differs=\"" + (Differs(c) ? "1" : "0") +
              "\"><th class=\"case\"><code>" + Esc(row.id) + "</code>";
      if (!row.title.empty()) out_ += "<span class=\"title\">" + Esc(row.title) + "</span>";
      out_ += "</th><td class=\"lvl l-" + level + "\">" + level + "</td>";
      for (std::size_t t = 0; t < m_.targets.size(); ++t) Cell(m_.Find(c, t));
      out_ += "</tr>\n";
    }
    out_ += "</tbody></table></div></section>\n";
  }

  // Some target failed, missed or errored on case c, or it did not run.
  bool Failing(std::size_t c) const {
    for (std::size_t t = 0; t < m_.targets.size(); ++t) {
      const CaseResult* r = m_.Find(c, t);
      if (r != nullptr && r->outcome != Outcome::kPass && r->outcome != Outcome::kSkip) {
        return true;
      }
    }
    return false;
  }

  // The targets do not all have the same outcome for case c.
  bool Differs(std::size_t c) const {
    std::string first;
    for (std::size_t t = 0; t < m_.targets.size(); ++t) {
      const CaseResult* r = m_.Find(c, t);
      const std::string word = r == nullptr ? "-" : std::string(ToString(r->outcome));
      if (t == 0) first = word;
      if (word != first) return true;
    }
    return false;
  }

  void Cell(const CaseResult* r) {
    if (r == nullptr) {
      out_ += "<td class=\"cell o-none\"><span class=\"none\">-</span></td>";
      return;
    }
    const std::string id = EvidenceId(IndexOf(r));
    const std::string figures = internal::KeyFigures(r->metrics);
    const std::string runs = internal::RunsCell(*r);
    out_ += "<td class=\"cell o-" + std::string(ToString(r->outcome)) + "\"><a href=\"#" + id +
            "\" data-ev=\"" + id + "\"" +
            (r->message.empty() ? "" : " title=\"" + Esc(r->message) + "\"") + ">" + CellWord(*r) +
            (runs.empty() ? "" : " <span class=\"runs\">" + Esc(runs) + "</span>") +
            (figures.empty() ? "" : "<small>" + Esc(figures) + "</small>") + "</a></td>";
  }

  void Timelines() {
    if (plan_.empty()) return;
    out_ +=
        "<section id=\"timelines\"><h2>Stream timelines</h2>\n<p class=\"hint\">What each "
        "target received over time, one line per target. A streaming server climbs from the "
        "start; a buffering one stays flat, then jumps at the end. The streaming proofs come "
        "first (gated cases, then SSE passthrough), then the large byte streams, then the "
        "other event streams.</p>\n";
    auto drawn = [](const internal::PlannedChart& chart) {
      return chart.group != internal::ChartGroup::kFolded;
    };
    const auto folded = static_cast<std::size_t>(
        std::count_if(plan_.begin(), plan_.end(), [&](const auto& c) { return !drawn(c); }));
    if (folded < plan_.size()) {
      out_ += "<div class=\"charts\">\n";
      for (const auto& chart : plan_) {
        if (drawn(chart)) Figure(chart);
      }
      out_ += "</div>\n";
    }
    if (folded > 0) {
      // Not worth a look on the page, but each stays one click away in its
      // cells' evidence, which copies the chart from here.
      out_ += "<details id=\"timelines-more\"><summary>" + std::to_string(folded) +
              " more timeline" + (folded == 1 ? "" : "s") + ": replies under " +
              FormatNumber(static_cast<double>(internal::kChartMinBytes) / 1024) + " KiB" +
              " with fewer than " + std::to_string(internal::kChartMinEvents) +
              " events, event streams that arrived within " +
              FormatNumber(internal::kChartMinSpanMs) +
              " ms, or replies that came in one or two reads on every target</summary>\n"
              "<div class=\"charts\">\n";
      for (const auto& chart : plan_) {
        if (!drawn(chart)) Figure(chart);
      }
      out_ += "</div></details>\n";
    }
    out_ += "</section>\n";
  }

  void Figure(const internal::PlannedChart& chart) {
    const std::size_t c = chart.case_index;
    const auto& row = m_.cases[c];
    out_ += "<figure class=\"chart\" id=\"" + ChartId(c) + "\" data-case=\"" + std::to_string(c) +
            "\"><figcaption><code>" + Esc(row.id) + "</code>";
    if (!row.title.empty()) out_ += " <span class=\"muted\">" + Esc(row.title) + "</span>";
    if (const std::string look = LookFor(chart); !look.empty()) {
      out_ += "<span class=\"look\">" + Esc(look) + "</span>";
    }
    out_ += "</figcaption>\n" + Chart(row.id, charts_[c]) + "</figure>\n";
  }

  void MemoryCharts() {
    std::string figures;
    for (std::size_t c = 0; c < m_.cases.size(); ++c) {
      if (memory_[c].empty()) continue;
      const auto& row = m_.cases[c];
      figures += "<figure class=\"chart\" id=\"" + MemoryId(c) + "\" data-case=\"" +
                 std::to_string(c) + "\"><figcaption><code>" + Esc(row.id) + "</code>" +
                 (row.title.empty() ? "" : " <span class=\"muted\">" + Esc(row.title) + "</span>") +
                 "<span class=\"look\">The target's resident memory (its whole process tree) "
                 "while the case ran: a server that streams stays flat; one that holds the body "
                 "climbs by its size.</span></figcaption>\n" +
                 MemoryChart(row.id, memory_[c]) + "</figure>\n";
    }
    if (figures.empty()) return;
    out_ += "<section id=\"memory\"><h2>Memory over time</h2>\n<div class=\"charts\">\n" + figures +
            "</div></section>\n";
  }

  // What the chart of a group shows, in a sentence.
  static std::string LookFor(const internal::PlannedChart& chart) {
    switch (chart.group) {
      case internal::ChartGroup::kGated:
        return std::string("The backend holds after its first ") +
               (chart.max_events > 0 ? "token" : "MiB") +
               " until the client has seen it: a streaming server shows content at once; a "
               "buffering one stays flat until the hold times out (5 s), then jumps.";
      case internal::ChartGroup::kSsePassthrough:
        return "The backend holds after its first event until the client has seen it: a server "
               "that relays the bytes as they come shows them at once; a buffering one stays "
               "flat until the hold times out (5 s), then jumps.";
      case internal::ChartGroup::kByteStream:
        return "A steady climb means the body streams through (steeper is faster); flat, then a "
               "jump at the end, means the server held the body. A pause in every line comes "
               "from the backend.";
      case internal::ChartGroup::kEventStream:
        return "The event stream as it arrived: compare when each target's first and last "
               "events land.";
      case internal::ChartGroup::kFolded:
        break;
    }
    return "";
  }

  // Per target, mib_per_s and rss_growth_mib side by side, for the cases
  // that have either.
  void Performance() {
    constexpr const char* kKeys[] = {"mib_per_s", "rss_growth_mib"};
    auto has_any = [&](std::size_t c) {
      double v = 0;
      for (std::size_t t = 0; t < m_.targets.size(); ++t) {
        const CaseResult* r = m_.Find(c, t);
        for (const char* key : kKeys) {
          if (r != nullptr && internal::NumberMetric(r->metrics, key, &v)) return true;
        }
      }
      return false;
    };
    std::string rows;
    for (std::size_t c = 0; c < m_.cases.size(); ++c) {
      if (!has_any(c)) continue;
      rows += "<tr><td><code>" + Esc(m_.cases[c].id) + "</code></td>";
      for (std::size_t t = 0; t < m_.targets.size(); ++t) {
        const CaseResult* r = m_.Find(c, t);
        for (const char* key : kKeys) {
          double v = 0;
          const bool has = r != nullptr && internal::NumberMetric(r->metrics, key, &v);
          rows +=
              "<td class=\"num\">" + (has ? Esc(FormatNumber(v, 1)) : std::string("-")) + "</td>";
        }
      }
      rows += "</tr>\n";
    }
    if (rows.empty()) return;
    out_ +=
        "<section id=\"performance\"><h2>Throughput and memory</h2>\n<table><thead><tr>"
        "<th rowspan=\"2\">case</th>";
    for (const auto& t : m_.targets) out_ += "<th colspan=\"2\">" + Esc(t) + "</th>";
    out_ += "</tr><tr>";
    for (std::size_t t = 0; t < m_.targets.size(); ++t) {
      out_ += "<th>MiB/s</th><th>RSS growth (MiB)</th>";
    }
    out_ += "</tr></thead><tbody>\n" + rows + "</tbody></table></section>\n";
  }

  // Every cell's evidence in matrix order, open so that it reads without
  // JavaScript; the script folds it and shows one cell at a time instead.
  void EvidenceList() {
    out_ +=
        "<section id=\"evidence\"><h2>Evidence</h2>\n<details id=\"evidence-all\" open>"
        "<summary>Every cell's evidence (" +
        std::to_string(report_.results.size()) + ")</summary>\n";
    for (std::size_t c = 0; c < m_.cases.size(); ++c) {
      for (const auto& target : m_.targets) {
        for (const auto& r : report_.results) {
          if (r.case_id != m_.cases[c].id || r.target != target) continue;
          const bool failed = r.outcome == Outcome::kFail || r.outcome == Outcome::kWarn ||
                              r.outcome == Outcome::kError;
          EvidenceArticle(
              out_, r, IndexOf(&r), m_.cases[c], !charts_[c].empty(), c, !memory_[c].empty(),
              failed ? internal::ReproduceLines(report_, r) : std::vector<std::string>{},
              core::GateNote(r, report_.gate));
        }
      }
    }
    out_ += "</details></section>\n";
  }

  const RunReport& report_;
  const internal::Matrix m_;
  std::vector<std::vector<Series>> charts_;        // per case; empty: no timeline
  std::vector<std::vector<MemorySeries>> memory_;  // per case; empty: no memory curve
  const std::vector<internal::PlannedChart> plan_;
  std::string out_;
};

}  // namespace

std::string ToHtml(const RunReport& report) { return Page(report).Render(); }

}  // namespace streamcheck::reports
