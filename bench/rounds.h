// Targets and rounds: starts every target with its own mock (each mock a
// `streamcheck mock` process of its own, so the bench process holds only the
// client's descriptors), then measures in an order that gives every target
// the same machine conditions: throughput round by round, each round every
// target in turn (direct read, then proxied); then each stream level for
// every target in turn, a `mock-direct` row first (the same load straight at
// a mock: the harness's own overhead); then the client row (the harness's
// reading speed against curl's, alternated). Everything it started is
// stopped before it returns.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bench/model.h"
#include "engine/session.h"
#include "engine/stop.h"
#include "harness/target_spec.h"

namespace streamcheck::bench {

struct BenchOptions {
  std::vector<harness::TargetSpec> targets;
  engine::SessionOptions session;  // root, bin (the streamcheck binary's folder), log_dir
  BenchSettings settings;
  bool throughput = true;  // off for shards: only the stream levels are split
  bool mock_direct = true;
  bool client_row = true;
  double client_size_mb = 1024;
  // Shards begin together: with a start time, the k-th load (of every target
  // and level, in order) starts at start_at + k * slot on every shard.
  std::optional<std::chrono::system_clock::time_point> start_at;
  engine::StopSource* stop = nullptr;
  std::function<void(const std::string&)> on_line;  // progress, one line each
};

// Runs the bench. Targets that cannot start carry a problem; the result holds
// what was measured, and says why for what was not.
BenchResult RunBench(const BenchOptions& options);

// The seconds between two loads of a sharded run started with --start-at: the
// longest a load can take (its timeout, a rate level's schedule) plus a margin.
double SlotSeconds(const BenchSettings& settings);

// The chat request every stream sends.
std::string StreamBody(const std::string& model);

}  // namespace streamcheck::bench
