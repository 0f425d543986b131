#include "bench/report.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "bench/stats.h"

namespace streamcheck::bench {
namespace {

using nlohmann::json;

std::string Format(const char* format, auto... args) {
  char line[512];
  std::snprintf(line, sizeof line, format, args...);
  return line;
}

// Figures rounded to what they mean (microsecond latencies, 0.1 MiB/s).
json Num(std::optional<double> v, int decimals = 3) {
  if (!v || !std::isfinite(*v)) return nullptr;
  double scale = std::pow(10.0, decimals);
  return std::round(*v * scale) / scale;
}

std::optional<double> Pct(const Histogram& h, double p) {
  if (h.empty()) return std::nullopt;
  return h.PercentileMs(p);
}

std::optional<double> MaxMs(const Histogram& h) {
  if (h.empty()) return std::nullopt;
  return double(h.max()) / 1000.0;
}

json HistogramJson(const Histogram& h) {
  json buckets = json::array();
  for (const auto& [low, n] : h.Buckets()) buckets.push_back({low, n});
  return {{"min", h.min()}, {"max", h.max()}, {"buckets", buckets}};
}

Result<Histogram> HistogramFrom(const json& j, const std::string& where) {
  if (!j.is_object() || !j.contains("buckets") || !j["buckets"].is_array()) {
    return Error{where + ": a histogram needs \"buckets\": [[low, count], ...]"};
  }
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets;
  for (const auto& b : j["buckets"]) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_unsigned() ||
        !b[1].is_number_unsigned()) {
      return Error{where + ": each bucket is [low, count], two non-negative integers"};
    }
    buckets.emplace_back(b[0].get<std::uint64_t>(), b[1].get<std::uint64_t>());
  }
  auto h = Histogram::FromBuckets(buckets, j.value("min", std::uint64_t{0}),
                                  j.value("max", std::uint64_t{0}));
  if (!h) return Error{where + ": " + h.error()};
  return *h;
}

std::optional<double> OptNum(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return std::nullopt;
  return j[key].get<double>();
}

std::vector<double> Numbers(const json& j) {
  std::vector<double> out;
  if (j.is_array()) {
    for (const auto& v : j) {
      if (v.is_number()) out.push_back(v.get<double>());
    }
  }
  return out;
}

json LevelJson(const Level& l) {
  const LoadResult& r = l.load;
  json j = {{"target", l.target}, {"mode", l.mode}, {"concurrency", l.concurrency}};
  if (l.mode == "rate") {
    j["rate_per_s"] = l.rate_per_s;
    j["rate_duration_s"] = l.rate_duration_s;
  }
  if (!l.skipped.empty()) {
    j["skipped"] = l.skipped;
    return j;
  }
  j["streams"] = r.streams;
  j["ttft_ms"] = {{"p50", Num(Pct(r.ttft_us, 50))},
                  {"p90", Num(Pct(r.ttft_us, 90))},
                  {"p99", Num(Pct(r.ttft_us, 99))},
                  {"censored", r.ttft_censored}};
  j["added_ms"] = {{"p50", Num(Pct(r.added_us, 50))},
                   {"p99", Num(Pct(r.added_us, 99))},
                   {"max", Num(MaxMs(r.added_us))},
                   {"samples", r.added_us.count()}};
  j["e2e_ms"] = {{"p50", Num(Pct(r.e2e_us, 50))}, {"p99", Num(Pct(r.e2e_us, 99))}};
  j["completed"] = r.completed;
  j["errors"] = r.errors;
  j["timeouts"] = r.timeouts;
  j["error_kinds"] = r.error_kinds;
  j["tokens"] = r.tokens;
  j["unstamped_tokens"] = r.unstamped_tokens;
  j["tokens_per_s"] = Num(l.tokens_per_s, 1);
  j["duration_s"] = Num(l.duration_s);
  j["peak_open"] = r.peak_open;
  j["rss_kib_per_stream"] = Num(l.rss_kib_per_stream, 2);
  j["pss_kib_per_stream"] = Num(l.pss_kib_per_stream, 2);
  j["memory_open_streams"] = l.memory_open_streams;
  if (!l.memory_problem.empty()) j["memory_problem"] = l.memory_problem;
  j["cpu_s"] = Num(l.cpu_s, 2);
  if (!l.cpu_problem.empty()) j["cpu_problem"] = l.cpu_problem;
  j["shard"] = {{"index", l.shard_index}, {"count", l.shard_count}};
  j["histograms"] = {{"unit", "us"},
                     {"relative_precision", Histogram::kRelativePrecision},
                     {"ttft", HistogramJson(r.ttft_us)},
                     {"added", HistogramJson(r.added_us)},
                     {"e2e", HistogramJson(r.e2e_us)}};
  return j;
}

Result<Level> LevelFrom(const json& j, const std::string& where) {
  if (!j.is_object()) return Error{where + " is not an object"};
  Level l;
  l.target = j.value("target", "");
  l.mode = j.value("mode", "concurrency");
  l.concurrency = j.value("concurrency", 0);
  l.rate_per_s = j.value("rate_per_s", 0.0);
  l.rate_duration_s = j.value("rate_duration_s", 0.0);
  l.skipped = j.value("skipped", "");
  if (!l.skipped.empty()) return l;
  LoadResult& r = l.load;
  r.streams = j.value("streams", std::uint64_t{0});
  r.completed = j.value("completed", std::uint64_t{0});
  r.errors = j.value("errors", std::uint64_t{0});
  r.timeouts = j.value("timeouts", std::uint64_t{0});
  r.tokens = j.value("tokens", std::uint64_t{0});
  r.unstamped_tokens = j.value("unstamped_tokens", std::uint64_t{0});
  r.peak_open = j.value("peak_open", std::uint64_t{0});
  if (j.contains("ttft_ms") && j["ttft_ms"].is_object()) {
    r.ttft_censored = j["ttft_ms"].value("censored", std::uint64_t{0});
  }
  if (j.contains("error_kinds") && j["error_kinds"].is_object()) {
    for (const auto& [why, n] : j["error_kinds"].items()) {
      if (n.is_number_unsigned()) r.error_kinds[why] = n.get<std::uint64_t>();
    }
  }
  l.duration_s = j.value("duration_s", 0.0);
  r.first_start_ns = 0;
  r.last_end_ns = std::llround(l.duration_s * 1e9);
  l.tokens_per_s = OptNum(j, "tokens_per_s");
  l.rss_kib_per_stream = OptNum(j, "rss_kib_per_stream");
  l.pss_kib_per_stream = OptNum(j, "pss_kib_per_stream");
  l.memory_open_streams = j.value("memory_open_streams", std::uint64_t{0});
  l.memory_problem = j.value("memory_problem", "");
  l.cpu_s = OptNum(j, "cpu_s");
  l.cpu_problem = j.value("cpu_problem", "");
  if (j.contains("shard") && j["shard"].is_object()) {
    l.shard_index = j["shard"].value("index", 0);
    l.shard_count = j["shard"].value("count", 1);
  }
  if (!j.contains("histograms") || !j["histograms"].is_object()) {
    return Error{where + ": no \"histograms\" (needed to merge)"};
  }
  const json& h = j["histograms"];
  for (auto [name, into] : {std::pair{"ttft", &r.ttft_us}, std::pair{"added", &r.added_us},
                            std::pair{"e2e", &r.e2e_us}}) {
    if (!h.contains(name)) return Error{where + ".histograms: no \"" + name + "\""};
    auto parsed = HistogramFrom(h[name], where + ".histograms." + name);
    if (!parsed) return Error{parsed.error()};
    *into = *parsed;
  }
  return l;
}

json ThroughputJson(const TargetBench& t) {
  if (!t.throughput_measured && t.throughput.problem.empty()) return nullptr;
  const Throughput& tp = t.throughput;
  json j = {{"direct_mib_s", Num(tp.direct_median, 1)},
            {"proxied_mib_s", Num(tp.proxied_median, 1)},
            {"ratio", Num(tp.ratio, 3)},
            {"cpu_s_per_gib", Num(tp.cpu_s_per_gib, 3)},
            {"rounds", {{"direct", tp.direct_mib_s}, {"proxied", tp.proxied_mib_s}}}};
  if (!tp.problem.empty()) j["problem"] = tp.problem;
  return j;
}

std::string Cell(std::optional<double> v, const char* format = "%.1f") {
  return v ? Format(format, *v) : "-";
}

}  // namespace

json ToJson(const BenchResult& result) {
  json j;
  j["tool"] = {{"name", "streamcheck"}, {"version", result.version}};
  j["started_at"] = result.started_at;
  j["command"] = result.command;
  j["machine"] = {
      {"cores", result.cores},
      {"load_average_start",
       Num(result.load_average_start >= 0 ? std::optional(result.load_average_start) : std::nullopt,
           2)},
      {"load_average_end",
       Num(result.load_average_end >= 0 ? std::optional(result.load_average_end) : std::nullopt,
           2)},
      {"open_file_limit", result.open_file_limit}};
  const BenchSettings& s = result.settings;
  j["settings"] = {{"concurrency", s.concurrency},
                   {"rates", s.rates},
                   {"rate_duration_s", s.rate_duration_s},
                   {"tokens", s.tokens},
                   {"token_delay_ms", s.token_delay_ms},
                   {"size_mb", s.size_mb},
                   {"chunked", s.chunked},
                   {"rounds", s.rounds},
                   {"timeout_s", s.timeout_s},
                   {"shard", {{"index", s.shard_index}, {"count", s.shard_count}}},
                   {"loops", s.loops}};
  j["notes"] = result.notes;
  json targets = json::array();
  for (const auto& t : result.targets) {
    json tj = {{"name", t.name}, {"kind", t.kind}};
    if (!t.problem.empty()) tj["problem"] = t.problem;
    tj["throughput"] = ThroughputJson(t);
    if (!t.throughput_skipped.empty()) tj["throughput_skipped"] = t.throughput_skipped;
    json levels = json::array();
    for (const auto& l : t.levels) levels.push_back(LevelJson(l));
    tj["levels"] = levels;
    tj["knee"] = t.knee ? json(*t.knee) : json(nullptr);
    targets.push_back(tj);
  }
  j["targets"] = targets;
  if (result.client) {
    const ClientRow& c = *result.client;
    j["client"] = {{"size_mb", c.size_mb},
                   {"harness_mib_s", Num(c.harness_median, 1)},
                   {"curl_mib_s", Num(c.curl_median, 1)},
                   {"ratio", Num(c.ratio, 3)},
                   {"rounds", {{"harness", c.harness_mib_s}, {"curl", c.curl_mib_s}}}};
    if (!c.problem.empty()) j["client"]["problem"] = c.problem;
  } else {
    j["client"] = nullptr;
  }
  json gates = json::array();
  for (const auto& g : result.gates) {
    gates.push_back({{"target", g.target},
                     {"figure", g.figure},
                     {"value", Num(g.value)},
                     {"limit", g.limit},
                     {"passed", g.passed}});
  }
  j["gates"] = gates;
  if (!result.merged_from.empty()) j["merged_from"] = result.merged_from;
  return j;
}

Result<BenchResult> FromJson(const json& j) {
  try {
    if (!j.is_object() || !j.contains("targets") || !j["targets"].is_array()) {
      return Error{"not a bench result: no \"targets\" array"};
    }
    BenchResult r;
    if (j.contains("tool") && j["tool"].is_object()) r.version = j["tool"].value("version", "");
    r.started_at = j.value("started_at", "");
    r.command = j.value("command", "");
    if (j.contains("machine") && j["machine"].is_object()) {
      r.cores = j["machine"].value("cores", 0);
      r.open_file_limit = j["machine"].value("open_file_limit", 0L);
    }
    if (j.contains("settings") && j["settings"].is_object()) {
      const json& s = j["settings"];
      for (double c : Numbers(s.value("concurrency", json::array()))) {
        r.settings.concurrency.push_back(int(c));
      }
      r.settings.rates = Numbers(s.value("rates", json::array()));
      r.settings.rate_duration_s = s.value("rate_duration_s", 0.0);
      r.settings.tokens = s.value("tokens", 0);
      r.settings.token_delay_ms = s.value("token_delay_ms", 0);
      r.settings.size_mb = s.value("size_mb", 0.0);
      r.settings.chunked = s.value("chunked", false);
      r.settings.rounds = s.value("rounds", 0);
      r.settings.timeout_s = s.value("timeout_s", 0.0);
      r.settings.loops = s.value("loops", 1);
      if (s.contains("shard") && s["shard"].is_object()) {
        r.settings.shard_index = s["shard"].value("index", 0);
        r.settings.shard_count = s["shard"].value("count", 1);
      }
    }
    if (j.contains("notes") && j["notes"].is_array()) {
      for (const auto& n : j["notes"]) {
        if (n.is_string()) r.notes.push_back(n);
      }
    }
    for (std::size_t i = 0; i < j["targets"].size(); ++i) {
      const json& tj = j["targets"][i];
      std::string where = "targets[" + std::to_string(i) + "]";
      if (!tj.is_object() || !tj.contains("name") || !tj["name"].is_string()) {
        return Error{where + ": needs a \"name\""};
      }
      TargetBench t;
      t.name = tj["name"];
      t.kind = tj.value("kind", "target");
      t.problem = tj.value("problem", "");
      t.throughput_skipped = tj.value("throughput_skipped", "");
      if (tj.contains("throughput") && tj["throughput"].is_object()) {
        const json& tp = tj["throughput"];
        t.throughput.direct_median = OptNum(tp, "direct_mib_s");
        t.throughput.proxied_median = OptNum(tp, "proxied_mib_s");
        t.throughput.ratio = OptNum(tp, "ratio");
        t.throughput.cpu_s_per_gib = OptNum(tp, "cpu_s_per_gib");
        t.throughput.problem = tp.value("problem", "");
        if (tp.contains("rounds") && tp["rounds"].is_object()) {
          t.throughput.direct_mib_s = Numbers(tp["rounds"].value("direct", json::array()));
          t.throughput.proxied_mib_s = Numbers(tp["rounds"].value("proxied", json::array()));
        }
        t.throughput_measured = t.throughput.proxied_median.has_value();
      }
      if (tj.contains("levels") && tj["levels"].is_array()) {
        for (std::size_t k = 0; k < tj["levels"].size(); ++k) {
          auto level = LevelFrom(tj["levels"][k], where + ".levels[" + std::to_string(k) + "]");
          if (!level) return Error{level.error()};
          t.levels.push_back(std::move(*level));
        }
      }
      if (tj.contains("knee") && tj["knee"].is_number_integer()) t.knee = tj["knee"].get<int>();
      r.targets.push_back(std::move(t));
    }
    if (j.contains("client") && j["client"].is_object()) {
      const json& c = j["client"];
      ClientRow row;
      row.size_mb = c.value("size_mb", 0.0);
      row.harness_median = OptNum(c, "harness_mib_s");
      row.curl_median = OptNum(c, "curl_mib_s");
      row.ratio = OptNum(c, "ratio");
      row.problem = c.value("problem", "");
      r.client = row;
    }
    return r;
  } catch (const json::exception& e) {
    return Error{std::string("a field has the wrong type: ") + e.what()};
  }
}

Result<BenchResult> Merge(const std::vector<BenchResult>& shards) {
  if (shards.empty()) return Error{"nothing to merge"};
  std::set<int> seen;
  const BenchSettings& first = shards.front().settings;
  for (const auto& s : shards) {
    if (!seen.insert(s.settings.shard_index).second) {
      return Error{"two results of shard " + std::to_string(s.settings.shard_index) + "/" +
                   std::to_string(s.settings.shard_count) + ": each shard once"};
    }
    if (s.settings.shard_count != first.shard_count || s.settings.tokens != first.tokens ||
        s.settings.token_delay_ms != first.token_delay_ms ||
        s.settings.concurrency != first.concurrency || s.settings.rates != first.rates) {
      return Error{
          "the shards were run with different settings (shard count, tokens, token "
          "delay, concurrency or rates): they measured different loads"};
    }
  }
  BenchResult merged = shards.front();
  merged.settings.shard_index = 0;
  merged.settings.shard_count = 1;
  merged.gates.clear();
  for (std::size_t k = 1; k < shards.size(); ++k) {
    for (const auto& t : shards[k].targets) {
      TargetBench* into = nullptr;
      for (auto& m : merged.targets) {
        if (m.name == t.name) into = &m;
      }
      if (!into) {
        merged.targets.push_back(t);
        continue;
      }
      if (!into->throughput_measured && t.throughput_measured) into->throughput = t.throughput;
      for (const auto& l : t.levels) {
        Level* same = nullptr;
        for (auto& m : into->levels) {
          if (m.mode == l.mode && m.concurrency == l.concurrency && m.rate_per_s == l.rate_per_s) {
            same = &m;
          }
        }
        if (!same) {
          into->levels.push_back(l);
          continue;
        }
        if (!l.skipped.empty()) continue;
        if (!same->skipped.empty()) {
          *same = l;
          continue;
        }
        double duration = std::max(same->duration_s, l.duration_s);
        std::uint64_t peak = same->load.peak_open + l.load.peak_open;  // shards hold theirs at once
        same->load.Merge(l.load);
        same->load.peak_open = peak;
        same->duration_s = duration;
        same->tokens_per_s = PerSecond(double(same->load.tokens), duration);
        auto larger = [](std::optional<double>& a, const std::optional<double>& b) {
          if (b && (!a || *b > *a)) a = b;
        };
        larger(same->rss_kib_per_stream, l.rss_kib_per_stream);
        larger(same->pss_kib_per_stream, l.pss_kib_per_stream);
        larger(same->cpu_s, l.cpu_s);
      }
    }
  }
  for (auto& t : merged.targets) {
    for (auto& l : t.levels) {
      l.shard_index = 0;
      l.shard_count = 1;
    }
    t.knee = KneeOf(t);
  }
  return merged;
}

bool ApplyGates(BenchResult& result, std::optional<double> min_ratio,
                std::optional<double> max_added_p99_ms) {
  bool all = true;
  for (const auto& t : result.targets) {
    if (t.kind != "target") continue;
    if (min_ratio && t.throughput_skipped.empty()) {
      GateResult g{t.name, "throughput ratio", t.throughput.ratio, *min_ratio, false, ""};
      g.passed = g.value && *g.value >= *min_ratio;
      g.text = g.value ? Format("%s: throughput ratio %.2f %s --min-ratio %g", t.name.c_str(),
                                *g.value, g.passed ? ">=" : "<", *min_ratio)
                       : t.name + ": throughput ratio not measured (" +
                             (t.problem.empty() ? t.throughput.problem : t.problem) +
                             "): misses --min-ratio";
      all = all && g.passed;
      result.gates.push_back(g);
    }
    if (max_added_p99_ms) {
      for (const auto& l : t.levels) {
        if (l.mode != "concurrency" || l.skipped == "the spec has no chat feature") continue;
        std::string figure = Format("added p99 at %d streams", l.concurrency);
        GateResult g{t.name, figure, std::nullopt, *max_added_p99_ms, false, ""};
        if (l.skipped.empty() && !l.load.added_us.empty())
          g.value = l.load.added_us.PercentileMs(99);
        // The latency of the streams that got through says nothing of those
        // that did not: a level with failed streams misses the gate.
        const LoadResult& x = l.load;
        bool complete = l.all_completed();
        g.passed = g.value && *g.value <= *max_added_p99_ms && complete;
        if (!g.value) {
          g.text = t.name + ": " + figure + " not measured" +
                   (l.skipped.empty() ? "" : " (" + l.skipped + ")") +
                   ": misses --max-added-p99-ms";
        } else if (!complete) {
          g.text = Format(
              "%s: %s %.2f ms, but %llu of %llu streams did not complete (%llu errors, %llu "
              "timeouts): misses --max-added-p99-ms %g",
              t.name.c_str(), figure.c_str(), *g.value,
              static_cast<unsigned long long>(x.streams - x.completed),
              static_cast<unsigned long long>(x.streams), static_cast<unsigned long long>(x.errors),
              static_cast<unsigned long long>(x.timeouts), *max_added_p99_ms);
        } else {
          g.text = Format("%s: %s %.2f ms %s --max-added-p99-ms %g", t.name.c_str(), figure.c_str(),
                          *g.value, g.passed ? "<=" : ">", *max_added_p99_ms);
        }
        all = all && g.passed;
        result.gates.push_back(g);
      }
    }
  }
  return all;
}

std::string ConsoleTables(const BenchResult& r) {
  std::string out;
  bool any_throughput = false;
  for (const auto& t : r.targets)
    any_throughput = any_throughput || t.throughput_measured || !t.throughput.problem.empty();
  if (any_throughput) {
    out += Format(
        "\nthroughput: /directAccess/ GET %g MiB (%s), median of %d rounds (goal: proxied "
        ">= 0.80 of direct)\n",
        r.settings.size_mb, r.settings.chunked ? "chunked" : "Content-Length", r.settings.rounds);
    out += Format("%-18s %13s %14s %7s %10s\n", "target", "direct MiB/s", "proxied MiB/s", "ratio",
                  "CPU s/GiB");
    for (const auto& t : r.targets) {
      if (!t.throughput_measured && t.throughput.problem.empty()) continue;
      const Throughput& tp = t.throughput;
      out += Format("%-18s %13s %14s %7s %10s", t.name.c_str(), Cell(tp.direct_median).c_str(),
                    Cell(tp.proxied_median).c_str(), Cell(tp.ratio, "%.2f").c_str(),
                    Cell(tp.cpu_s_per_gib, "%.2f").c_str());
      out += tp.problem.empty() ? "\n" : "  (" + tp.problem + ")\n";
    }
  }
  out += Format(
      "\nstreams: %d tokens, one every %d ms, per stream; milliseconds; memory per "
      "open stream in KiB (goal: added p99 <= 10 ms is the knee)\n",
      r.settings.tokens, r.settings.token_delay_ms);
  out += Format("%-18s %7s %6s %5s %5s %8s %8s %8s %7s %7s %7s %8s %8s %8s %7s %7s %6s\n", "target",
                "streams", "done", "err", "tmo", "TTFTp50", "TTFTp90", "TTFTp99", "add p50",
                "add p99", "add max", "e2e p50", "e2e p99", "tok/s", "RSS/st", "PSS/st", "CPU s");
  for (const auto& t : r.targets) {
    for (const auto& l : t.levels) {
      std::string what =
          l.mode == "rate" ? Format("%g/s", l.rate_per_s) : std::to_string(l.concurrency);
      if (!l.skipped.empty()) {
        out += Format("%-18s %7s  skipped: %s\n", t.name.c_str(), what.c_str(), l.skipped.c_str());
        continue;
      }
      const LoadResult& x = l.load;
      auto ttft = [&](double p) {
        auto v = Pct(x.ttft_us, p);
        bool censored = x.ttft_censored > 0 && p / 100.0 * double(x.ttft_us.count()) >
                                                   double(x.ttft_us.count() - x.ttft_censored);
        return v ? (censored ? ">" : "") + Format("%.1f", *v) : std::string("-");
      };
      out +=
          Format("%-18s %7s %6llu %5llu %5llu %8s %8s %8s %7s %7s %7s %8s %8s %8s %7s %7s %6s\n",
                 t.name.c_str(), what.c_str(), static_cast<unsigned long long>(x.completed),
                 static_cast<unsigned long long>(x.errors),
                 static_cast<unsigned long long>(x.timeouts), ttft(50).c_str(), ttft(90).c_str(),
                 ttft(99).c_str(), Cell(Pct(x.added_us, 50), "%.2f").c_str(),
                 Cell(Pct(x.added_us, 99), "%.2f").c_str(), Cell(MaxMs(x.added_us), "%.1f").c_str(),
                 Cell(Pct(x.e2e_us, 50), "%.0f").c_str(), Cell(Pct(x.e2e_us, 99), "%.0f").c_str(),
                 Cell(l.tokens_per_s, "%.0f").c_str(), Cell(l.rss_kib_per_stream, "%.1f").c_str(),
                 Cell(l.pss_kib_per_stream, "%.1f").c_str(), Cell(l.cpu_s, "%.2f").c_str());
    }
  }
  out += "\nknee (highest concurrency with added p99 <= 10 ms and every stream completed):";
  for (const auto& t : r.targets) {
    out += " " + t.name + " " + (t.knee ? std::to_string(*t.knee) : std::string("none"));
  }
  out += "\n";
  out +=
      "goals: mock-direct added p99 <= 2 ms at 1000 streams (the client); cpp added p99 <= 1 "
      "ms at 1000 streams, <= 64 KiB PSS per open stream\n";
  if (r.client) {
    const ClientRow& c = *r.client;
    out += Format(
        "client: GET %g MiB from a mock: harness %s MiB/s, curl %s MiB/s, ratio %s "
        "(goal >= 0.90)",
        c.size_mb, Cell(c.harness_median).c_str(), Cell(c.curl_median).c_str(),
        Cell(c.ratio, "%.2f").c_str());
    out += c.problem.empty() ? "\n" : " (" + c.problem + ")\n";
  }
  for (const auto& t : r.targets) {
    if (!t.problem.empty()) out += "problem: " + t.name + ": " + t.problem + "\n";
  }
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  for (const auto& g : r.gates)
    out += std::string(g.passed ? "gate ok: " : "GATE MISSED: ") + g.text + "\n";
  return out;
}

}  // namespace streamcheck::bench
