// `streamcheck bench` results out and back in: the JSON contract other tools
// read (documented in README.md, "Benchmark"), the console tables, the gates,
// and the merge of shards' results.
//
// JSON: {"tool": {"name", "version"}, "started_at", "command", "machine":
// {"cores", "load_average_start", "load_average_end", "open_file_limit"},
// "settings": {...}, "notes": [..],
//  "targets": [{"name", "kind", "problem"?,
//    "throughput": {"direct_mib_s", "proxied_mib_s", "ratio", "cpu_s_per_gib",
//                   "rounds": {"direct": [..], "proxied": [..]}, "problem"?} | null,
//    "throughput_skipped"?,
//    "levels": [{"target", "mode", "concurrency", "rate_per_s"?, "skipped"?,
//                "streams", "ttft_ms": {"p50", "p90", "p99", "censored"},
//                "added_ms": {"p50", "p99", "max", "samples"},
//                "e2e_ms": {"p50", "p99"}, "completed", "errors", "timeouts",
//                "error_kinds": {reason: count}, "tokens", "tokens_per_s",
//                "duration_s", "peak_open", "rss_kib_per_stream",
//                "pss_kib_per_stream", "memory_open_streams", "cpu_s",
//                "shard": {"index", "count"},
//                "histograms": {"unit": "us", "relative_precision",
//                               "ttft"|"added"|"e2e": {"min", "max", "buckets": [[low, n], ..]}}}],
//    "knee"}],
//  "client": {"size_mb", "harness_mib_s", "curl_mib_s", "ratio", "rounds", "problem"?} | null,
//  "gates": [{"target", "figure", "value", "limit", "passed"}],
//  "merged_from"?: [files]}
// A figure that was not measured is null (its reason beside it where known).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bench/model.h"
#include "common/result.h"

namespace streamcheck::bench {

nlohmann::json ToJson(const BenchResult& result);
Result<BenchResult> FromJson(const nlohmann::json& json);

// The shards' results as one: per target and level, histograms and counts
// added (so percentiles are those of every shard's samples, within the
// histogram's precision), tokens per second summed, durations the longest;
// memory and CPU are the server's, seen alike by every shard that could see
// it: the largest. Refuses two results of the same shard index, and results
// whose settings differ.
Result<BenchResult> Merge(const std::vector<BenchResult>& shards);

// Gates: --min-ratio against every target's throughput ratio, and
// --max-added-p99-ms against every concurrency level's added p99 (targets
// only; the mock-direct row is the harness). A figure that was not measured
// misses its gate. Appends to result.gates; true when every gate passed.
bool ApplyGates(BenchResult& result, std::optional<double> min_ratio,
                std::optional<double> max_added_p99_ms);

// The console tables: throughput, one row per target and level, the knees,
// the client row, the gates. Goals are printed beside the figures.
std::string ConsoleTables(const BenchResult& result);

}  // namespace streamcheck::bench
