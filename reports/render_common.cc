#include "reports/render_common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <unordered_map>

namespace streamcheck::reports::internal {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Calls f(code_point, bytes) for each character of `text`; a byte that does
// not start a valid UTF-8 sequence (overlong, surrogate, out of range,
// truncated) is passed alone as U+FFFD.
template <typename F>
void ForEachCodePoint(std::string_view text, F&& f) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if (b0 < 0x80) {
      len = 1, cp = b0;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4, cp = b0 & 0x07, min = 0x10000;
    }
    bool valid = len > 0 && i + len <= text.size();
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      if ((b & 0xC0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (b & 0x3F);
      }
    }
    if (valid && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) valid = false;
    if (valid) {
      f(cp, text.substr(i, len));
      i += len;
    } else {
      f(kReplacement, std::string_view("\xEF\xBF\xBD"));
      i += 1;
    }
  }
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool IsControl(char32_t cp) { return cp < 0x20 || cp == 0x7F; }

// U+2400..U+241F for C0 controls, U+2421 for DEL.
char32_t ControlPicture(char32_t cp) { return cp == 0x7F ? 0x2421 : 0x2400 + cp; }

bool IsXmlChar(char32_t cp) {
  return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
         (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

}  // namespace

std::string SanitizeUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachCodePoint(text, [&](char32_t, std::string_view bytes) { out += bytes; });
  return out;
}

std::string XmlEscape(std::string_view text, bool attribute) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  ForEachCodePoint(text, [&](char32_t cp, std::string_view bytes) {
    if (!IsXmlChar(cp)) return;
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      // Always escaped, so "]]>" can never appear in character data.
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      // A literal CR would be normalised to LF by every XML parser.
      case '\r':
        out += "&#13;";
        break;
      default:
        out += bytes;
    }
  });
  return out;
}

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  ForEachCodePoint(text, [&](char32_t cp, std::string_view bytes) {
    switch (cp) {
      case '&':
        out += "&amp;";
        return;
      case '<':
        out += "&lt;";
        return;
      case '>':
        out += "&gt;";
        return;
      case '"':
        out += "&quot;";
        return;
      case '\'':
        out += "&#39;";
        return;
      case '\t':
      case '\n':
      case '\r':
        out += bytes;
        return;
      default:
        break;
    }
    if (IsControl(cp)) {
      AppendUtf8(out, ControlPicture(cp));
    } else {
      out += bytes;
    }
  });
  return out;
}

std::string MarkdownInline(std::string_view text, std::size_t max_bytes) {
  // What can start inline markup on GitHub (including $ for math) or break a table.
  constexpr std::string_view kPunctuation = "\\`*_[]<>|~&$";
  std::string out;
  std::size_t shown = 0;  // source bytes taken so far
  bool cut = false;
  bool pending_space = false;
  ForEachCodePoint(text, [&](char32_t cp, std::string_view bytes) {
    if (cut) return;
    if (shown >= max_bytes) {
      cut = true;
      return;
    }
    shown += bytes.size();
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') {
      pending_space = !out.empty();
      return;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    if (cp < 0x80 && kPunctuation.find(static_cast<char>(cp)) != std::string_view::npos) {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (IsControl(cp)) {
      AppendUtf8(out, ControlPicture(cp));
    } else {
      out += bytes;
    }
  });
  if (cut) out += "...";
  return out;
}

std::string FormatNumber(double value, int max_decimals) {
  if (!std::isfinite(value)) return "n/a";
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  if (std::fabs(value) >= 1e15) {
    std::snprintf(buf, sizeof buf, "%.6g", value);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.*f", max_decimals, value);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  return s == "-0" ? "0" : s;
}

std::string FormatMetric(const nlohmann::json& value) {
  if (value.is_number()) return FormatNumber(value.get<double>());
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string FormatBytes(double bytes) {
  if (!std::isfinite(bytes)) return "n/a";
  char buf[64];
  if (std::fabs(bytes) >= 1024.0 * 1024.0) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  } else if (std::fabs(bytes) >= 1024.0) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  }
  return buf;
}

std::string RunsCell(const CaseResult& r) {
  if (!r.repeated()) return "";
  return std::to_string(r.PassedRuns()) + "/" + std::to_string(r.repeat) + " runs";
}

bool NumberMetric(const nlohmann::json& metrics, const char* key, double* out) {
  if (!metrics.is_object()) return false;
  const auto it = metrics.find(key);
  if (it == metrics.end() || !it->is_number()) return false;
  *out = it->get<double>();
  return std::isfinite(*out);
}

std::string KeyFigures(const nlohmann::json& metrics) {
  std::string out;
  double v = 0;
  if (NumberMetric(metrics, "mib_per_s", &v)) {
    out += FormatNumber(v, std::fabs(v) >= 100 ? 0 : 1) + " MiB/s";
  }
  if (NumberMetric(metrics, "rss_growth_mib", &v)) {
    if (!out.empty()) out += ", ";
    out += (v >= 0 ? "+" : "") + FormatNumber(v, 1) + " MiB RSS";
  }
  return out;
}

std::string Seconds(double ms) {
  if (!std::isfinite(ms) || ms < 0) ms = 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", ms / 1000.0);
  return buf;
}

std::string_view Verdict(const RunReport& report) {
  if (report.interrupted) return "INTERRUPTED";
  switch (ExitCodeFor(report)) {
    case core::kExitPass:
      return "PASS";
    case core::kExitMustFailed:
      return "FAIL";
    case core::kExitNothingRan:
      return "NOTHING-RAN";
    default:
      return "ERROR";
  }
}

std::string OneLine(std::string_view text, std::size_t max_bytes) {
  std::string out;
  bool space = false, cut = false;
  ForEachCodePoint(text, [&](char32_t cp, std::string_view bytes) {
    if (cut) return;
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') {
      space = !out.empty();
      return;
    }
    if (IsControl(cp)) return;
    if (out.size() >= max_bytes) {
      cut = true;
      return;
    }
    if (space) out += ' ';
    space = false;
    out += bytes;
  });
  if (cut) out += "...";
  return out;
}

std::string ShellQuote(std::string_view text) {
  constexpr std::string_view kSafe =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,+@%-";
  if (!text.empty() && text.find_first_not_of(kSafe) == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

const TargetSummary* FindTarget(const RunReport& report, const std::string& name) {
  for (const auto& t : report.targets) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

namespace {

// What `--target` takes for a target: its name when it is built in or one of
// the project's targets/ specs, else the spec file it came from.
std::string TargetArgument(const TargetSummary* t, const std::string& name) {
  if (t == nullptr || t->spec.empty() || t->spec == "built-in") return name;
  const std::string own = "/targets/" + name + ".json";
  if (t->spec.size() >= own.size() &&
      t->spec.compare(t->spec.size() - own.size(), own.size(), own) == 0) {
    return name;
  }
  return t->spec;
}

}  // namespace

std::vector<std::string> ReproduceLines(const RunReport& report, const CaseResult& r) {
  const TargetSummary* target = FindTarget(report, r.target);
  std::vector<std::string> lines;
  lines.push_back("streamcheck run --target " + ShellQuote(TargetArgument(target, r.target)) +
                  " --cases " + ShellQuote(r.case_id) + " -v");
  const auto& exchanges = r.evidence.exchanges;
  if (exchanges.empty() || target == nullptr || target->url.empty()) return lines;
  int index = static_cast<int>(exchanges.size()) - 1;
  if (!r.failures.empty() && r.failures.front().exchange >= 0 &&
      r.failures.front().exchange < static_cast<int>(exchanges.size())) {
    index = r.failures.front().exchange;
  }
  const Exchange& x = exchanges[static_cast<std::size_t>(index)];
  const auto space = x.request.find(' ');
  if (space == std::string::npos) return lines;
  const std::string method = x.request.substr(0, space);
  std::string path = x.request.substr(space + 1);
  if (path.empty() || path[0] != '/') return lines;  // an absolute-form or raw target
  std::string url = target->url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  std::string probe = "streamcheck probe " + ShellQuote(url + path);
  const bool generated = x.request_body.rfind("(", 0) == 0 &&
                         x.request_body.find("bytes generated)") != std::string::npos;
  const bool has_body = !x.request_body.empty() && !generated;
  if (method != (has_body ? "POST" : "GET")) probe += " -X " + ShellQuote(method);
  for (const auto& [name, value] : x.request_headers) {
    if (value.rfind("(redacted", 0) == 0) continue;
    probe += " -H " + ShellQuote(name + ": " + value);
  }
  if (has_body) probe += " -d " + ShellQuote(x.request_body);
  if (x.events > 0) probe += " --sse";
  lines.push_back(probe + "   # exchange " + std::to_string(index + 1) + ", against " + url +
                  (target->managed ? " while the target runs" : "") +
                  (generated ? "; its body was generated, not shown" : ""));
  return lines;
}

std::string ExchangeText(const Exchange& x, std::string_view indent) {
  const std::string in(indent);
  std::string out = in + x.request + (x.label.empty() ? "" : " (" + x.label + ")") + "\n";
  out += in + "status " + (x.status ? std::to_string(x.status) : std::string("none")) +
         (x.http_version.empty() ? "" : ", HTTP/" + x.http_version) + ", " + core::BodySizeText(x) +
         (x.events ? ", " + std::to_string(x.events) + " events" : "") + "\n";
  std::string times;
  if (x.headers_ms >= 0) times += "headers " + FormatNumber(x.headers_ms, 1) + " ms, ";
  if (x.first_byte_ms >= 0) times += "first byte " + FormatNumber(x.first_byte_ms, 1) + " ms, ";
  out += in + times + "total " + FormatNumber(x.total_ms, 1) + " ms\n";
  if (!x.error.empty()) out += in + "transfer: " + x.error + "\n";
  for (const auto& [name, value] : x.response_headers)
    out += in + "< " + name + ": " + value + "\n";
  for (const auto& e : x.first_events) out += in + "first event: " + OneLine(e, 300) + "\n";
  for (const auto& e : x.last_events) out += in + "last event: " + OneLine(e, 300) + "\n";
  return out;
}

OutcomeCounts CountOutcomes(const RunReport& report) {
  OutcomeCounts c;
  for (const auto& r : report.results) {
    switch (r.outcome) {
      case Outcome::kPass:
        ++c.pass;
        break;
      case Outcome::kFail:
        ++c.fail;
        break;
      case Outcome::kWarn:
        ++c.warn;
        break;
      case Outcome::kSkip:
        ++c.skip;
        break;
      case Outcome::kError:
        ++c.error;
        break;
      case Outcome::kNotRun:
        ++c.not_run;
        break;
    }
  }
  return c;
}

std::string AreaOf(std::string_view case_id) {
  return std::string(case_id.substr(0, case_id.find('.')));
}

const CaseResult* Matrix::Find(std::size_t case_index, std::size_t target_index) const {
  const auto it = cells.find({case_index, target_index});
  return it == cells.end() ? nullptr : it->second;
}

Matrix BuildMatrix(const RunReport& report) {
  Matrix m;
  std::unordered_map<std::string, std::size_t> target_index;
  auto add_target = [&](const std::string& name) {
    if (target_index.emplace(name, m.targets.size()).second) m.targets.push_back(name);
  };
  for (const auto& t : report.targets) add_target(t.name);
  for (const auto& r : report.results) add_target(r.target);

  // Cases: catalog order first, then the rest as results name them.
  std::unordered_map<std::string, const CaseInfo*> catalog;
  for (const auto& c : report.catalog) catalog.emplace(c.id, &c);
  std::unordered_map<std::string, const CaseResult*> first_result;
  for (const auto& r : report.results) first_result.emplace(r.case_id, &r);

  std::vector<CaseRow> rows;
  std::unordered_map<std::string, bool> placed;
  auto add_case = [&](const std::string& id) {
    const auto result = first_result.find(id);
    if (result == first_result.end() || placed[id]) return;
    placed[id] = true;
    const auto info = catalog.find(id);
    CaseRow row;
    row.id = id;
    row.level = result->second->level;
    if (info != catalog.end()) {
      row.area = info->second->area;
      row.title = info->second->title;
    }
    if (row.area.empty()) row.area = result->second->area;
    if (row.area.empty()) row.area = AreaOf(id);
    rows.push_back(std::move(row));
  };
  for (const auto& c : report.catalog) add_case(c.id);
  for (const auto& r : report.results) add_case(r.case_id);

  // Group by area, areas in order of first appearance, stable within an area.
  std::vector<std::string> areas;
  for (const auto& row : rows) {
    if (std::find(areas.begin(), areas.end(), row.area) == areas.end()) areas.push_back(row.area);
  }
  std::stable_sort(rows.begin(), rows.end(), [&](const CaseRow& a, const CaseRow& b) {
    return std::find(areas.begin(), areas.end(), a.area) <
           std::find(areas.begin(), areas.end(), b.area);
  });
  m.cases = std::move(rows);

  std::unordered_map<std::string, std::size_t> case_index;
  for (std::size_t i = 0; i < m.cases.size(); ++i) case_index.emplace(m.cases[i].id, i);
  for (const auto& r : report.results) {
    m.cells.emplace(std::make_pair(case_index.at(r.case_id), target_index.at(r.target)), &r);
  }
  return m;
}

namespace {

constexpr int kMaxIntervals = 6;

// An axis over [0, max * unit]: steps chosen on max in `unit`s, labels in
// that unit followed by `suffix`; `whole` keeps steps at whole units.
Axis NiceAxis(double max, double unit, std::string_view suffix, bool whole) {
  double scaled = max / unit;
  if (!std::isfinite(scaled) || scaled <= 0) scaled = 1;
  double step = 0;
  // From a step a little under max / kMaxIntervals upwards; the first that
  // fits is the smallest.
  for (int exponent = static_cast<int>(std::floor(std::log10(scaled / kMaxIntervals))) - 1;
       step == 0; ++exponent) {
    for (const double mantissa : {1.0, 2.0, 2.5, 5.0}) {
      const double candidate = mantissa * std::pow(10.0, exponent);
      if (whole && candidate != std::floor(candidate)) continue;
      if (std::ceil(scaled / candidate - 1e-9) <= kMaxIntervals) {
        step = candidate;
        break;
      }
    }
  }
  const int intervals = std::max(1, static_cast<int>(std::ceil(scaled / step - 1e-9)));
  int decimals = 0;
  while (decimals < 9) {
    const double shifted = step * std::pow(10.0, decimals);
    if (std::fabs(shifted - std::round(shifted)) < 1e-6 * std::max(1.0, shifted)) break;
    ++decimals;
  }
  Axis axis;
  axis.end = intervals * step * unit;
  for (int i = 0; i <= intervals; ++i) {
    const double value = i * step;
    axis.ticks.emplace_back(value * unit,
                            FormatNumber(value, decimals) + " " + std::string(suffix));
  }
  return axis;
}

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

Axis TimeAxis(double max_ms) {
  if (std::isfinite(max_ms) && max_ms >= 1000) return NiceAxis(max_ms, 1000, "s", false);
  return NiceAxis(max_ms, 1, "ms", false);
}

Axis BytesAxis(double max_bytes) {
  constexpr double kKiB = 1024, kMiB = 1024 * 1024;
  if (std::isfinite(max_bytes) && max_bytes >= kMiB) return NiceAxis(max_bytes, kMiB, "MiB", false);
  if (std::isfinite(max_bytes) && max_bytes >= kKiB) return NiceAxis(max_bytes, kKiB, "KiB", false);
  return NiceAxis(max_bytes, 1, "B", true);
}

Axis CountAxis(double max, std::string_view unit) { return NiceAxis(max, 1, unit, true); }

std::vector<PlannedChart> PlanTimelineCharts(const Matrix& m) {
  std::vector<PlannedChart> planned;
  for (std::size_t c = 0; c < m.cases.size(); ++c) {
    PlannedChart chart;
    chart.case_index = c;
    bool any = false;
    std::size_t max_points = 0;
    double max_span_ms = 0;  // first content to last point, the longest among targets
    for (std::size_t t = 0; t < m.targets.size(); ++t) {
      const CaseResult* r = m.Find(c, t);
      if (r == nullptr || r->evidence.timeline.empty()) continue;
      any = true;
      max_points = std::max(max_points, r->evidence.timeline.size());
      double first_ms = -1;
      for (const auto& p : r->evidence.timeline) {
        chart.max_bytes = std::max(chart.max_bytes, p.bytes);
        chart.max_events = std::max(chart.max_events, p.events);
        if (first_ms < 0 && (p.bytes > 0 || p.events > 0)) first_ms = p.t_ms;
      }
      if (first_ms >= 0) {
        max_span_ms = std::max(max_span_ms, r->evidence.timeline.back().t_ms - first_ms);
      }
    }
    if (!any) continue;
    const std::string& id = m.cases[c].id;
    const bool drawn = max_points >= kChartMinPoints;
    if (EndsWith(id, ".incremental")) {
      chart.group = ChartGroup::kGated;
    } else if (EndsWith(id, ".sse-passthrough")) {
      chart.group = ChartGroup::kSsePassthrough;
    } else if (drawn && chart.max_bytes >= kChartMinBytes) {
      chart.group = ChartGroup::kByteStream;
    } else if (drawn && chart.max_events >= kChartMinEvents && max_span_ms >= kChartMinSpanMs) {
      chart.group = ChartGroup::kEventStream;
    } else {
      chart.group = ChartGroup::kFolded;
    }
    planned.push_back(chart);
  }
  std::stable_sort(planned.begin(), planned.end(),
                   [](const PlannedChart& a, const PlannedChart& b) { return a.group < b.group; });
  return planned;
}

}  // namespace streamcheck::reports::internal
