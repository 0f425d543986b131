#include "reports/merge.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "common/sha256.h"
#include "reports/render_common.h"

namespace streamcheck::reports {
namespace {

using core::CaseResult;
using core::Outcome;
using Pair = std::pair<std::string, std::string>;  // (target, case)

std::string ShardName(int index, int count) {
  return std::to_string(index) + "/" + std::to_string(count);
}

std::string ShardList(const std::vector<int>& indexes, int count) {
  std::string out;
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    out += (i == 0 ? "" : i + 1 == indexes.size() ? " and " : ", ") + ShardName(indexes[i], count);
  }
  return out;
}

// How an input is named beside a result it gave: "shard 1/3", or its label.
std::string From(const MergeInput& input) {
  const auto& s = input.report.shard;
  if (!s || s->indexes.empty()) return input.label;
  return (s->indexes.size() == 1 ? "shard " : "shards ") + ShardList(s->indexes, s->count);
}

// For the liveness rule: the outcome that says least about the target's health wins.
int Rank(Outcome o) {
  switch (o) {
    case Outcome::kFail:
    case Outcome::kWarn:
      return 5;
    case Outcome::kError:
      return 4;
    case Outcome::kNotRun:
      return 3;
    case Outcome::kSkip:
      return 2;
    case Outcome::kPass:
      return 1;
  }
  return 0;
}

bool SameCatalog(const std::vector<core::CaseInfo>& a, const std::vector<core::CaseInfo>& b) {
  return CatalogVersion(a) == CatalogVersion(b);
}

// What tells two catalogs apart, for the error: a case only one has, or one
// whose facts differ.
std::string CatalogDifference(const MergeInput& a, const MergeInput& b) {
  std::map<std::string, const core::CaseInfo*> in_a;
  for (const auto& c : a.report.catalog) in_a[c.id] = &c;
  std::set<std::string> in_b;
  for (const auto& c : b.report.catalog) {
    in_b.insert(c.id);
    auto it = in_a.find(c.id);
    if (it == in_a.end()) return c.id + " only in " + b.label;
    if (CatalogVersion({*it->second}) != CatalogVersion({c})) return c.id + " differs";
  }
  for (const auto& c : a.report.catalog) {
    if (!in_b.count(c.id)) return c.id + " only in " + a.label;
  }
  return "the cases are in another order";
}

bool SameGate(const core::GateSettings& a, const core::GateSettings& b) {
  if (a.strict != b.strict || a.baseline != b.baseline || a.expected.size() != b.expected.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.expected.size(); ++i) {
    const auto &x = a.expected[i], &y = b.expected[i];
    if (x.target != y.target || x.case_id != y.case_id || x.outcome != y.outcome ||
        x.reason != y.reason) {
      return false;
    }
  }
  return true;
}

std::string GateText(const core::GateSettings& g) {
  if (g.empty()) return "no --strict or --expect";
  std::string out = g.strict ? "--strict" : "";
  if (!g.baseline.empty() || !g.expected.empty()) {
    out += (out.empty() ? "" : ", ") + std::string("--expect ") +
           (g.baseline.empty() ? "(a baseline)" : g.baseline) + " (" +
           std::to_string(g.expected.size()) + " entries)";
  }
  return out;
}

bool SameSelection(const core::ShardInfo& a, const core::ShardInfo& b) {
  if (a.selected.size() != b.selected.size() || a.liveness != b.liveness) return false;
  for (std::size_t i = 0; i < a.selected.size(); ++i) {
    if (a.selected[i].target != b.selected[i].target || a.selected[i].cases != b.selected[i].cases)
      return false;
  }
  return true;
}

Status CheckShards(const std::vector<MergeInput>& inputs) {
  const MergeInput* sharded = nullptr;
  const MergeInput* whole = nullptr;
  for (const auto& in : inputs) (in.report.shard ? sharded : whole) = &in;
  if (sharded && whole) {
    return Status::Failure(sharded->label + " is " + From(*sharded) + " of a sharded run, " +
                           whole->label +
                           " is a whole run: merge the shards of one run, or whole runs");
  }
  if (!sharded) return Status::Ok();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto &a = *inputs[j].report.shard, &b = *inputs[i].report.shard;
      const std::string both = inputs[j].label + " and " + inputs[i].label;
      if (a.count != b.count) {
        return Status::Failure(both + " are shards of different splits: " + From(inputs[j]) +
                               " and " + From(inputs[i]));
      }
      if (!SameSelection(a, b)) {
        return Status::Failure(both +
                               " are shards of different runs: they selected other targets or "
                               "cases (--target, --cases)");
      }
      for (int x : a.indexes) {
        if (std::find(b.indexes.begin(), b.indexes.end(), x) != b.indexes.end()) {
          return Status::Failure(both + " both hold shard " + ShardName(x, a.count) +
                                 ": a shard given twice (each shard once)");
        }
      }
    }
  }
  return Status::Ok();
}

Status CheckAlike(const std::vector<MergeInput>& inputs) {
  const MergeInput& first = inputs.front();
  for (std::size_t i = 1; i < inputs.size(); ++i) {
    const MergeInput& in = inputs[i];
    if (!SameCatalog(first.report.catalog, in.report.catalog)) {
      return Status::Failure(
          first.label + " and " + in.label + " come from different catalogs: version " +
          CatalogVersion(first.report.catalog) + " (" +
          std::to_string(first.report.catalog.size()) + " cases, streamcheck " +
          first.report.tool_version + ") and version " + CatalogVersion(in.report.catalog) + " (" +
          std::to_string(in.report.catalog.size()) + " cases, streamcheck " +
          in.report.tool_version + "); " + CatalogDifference(first, in) +
          ". Run every shard with the same build");
    }
    if (!SameGate(first.report.gate, in.report.gate)) {
      return Status::Failure(first.label + " and " + in.label + " were gated differently (" +
                             GateText(first.report.gate) + "; " + GateText(in.report.gate) +
                             "): run them alike, or pass --strict / --expect to the merge");
    }
  }
  return CheckShards(inputs);
}

// One summary per target name: the first input's, with every input's problem and stop.
core::TargetSummary MergeTarget(
    const std::vector<std::pair<const MergeInput*, const core::TargetSummary*>>& seen) {
  core::TargetSummary t = *seen.front().second;
  if (seen.size() == 1) return t;
  std::vector<std::string> problems, exits;
  core::StopSummary stop;
  for (const auto& [in, s] : seen) {
    if (!s->problem.empty()) problems.push_back(From(*in) + ": " + s->problem);
    if (!s->stop.exit.empty()) exits.push_back(From(*in) + ": " + s->stop.exit);
    stop.was_running = stop.was_running || s->stop.was_running;
    stop.needed_kill = stop.needed_kill || s->stop.needed_kill;
    stop.left_behind = stop.left_behind || s->stop.left_behind;
    for (const auto& l : s->stop.leftovers_killed) {
      stop.leftovers_killed.push_back(From(*in) + ": " + l);
    }
  }
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
    return out;
  };
  t.problem = join(problems);
  // Worth a line only when some stop is news (as for a single run).
  if (stop.needed_kill || stop.left_behind || !stop.leftovers_killed.empty()) {
    stop.exit = join(exits);
    t.stop = stop;
  } else {
    t.stop = {};
  }
  return t;
}

// The liveness rule: the worst of the shards' results, naming its shard.
CaseResult MergeLiveness(const std::vector<std::pair<const MergeInput*, const CaseResult*>>& got,
                         std::vector<std::string>& notes) {
  std::size_t worst = 0;
  for (std::size_t i = 1; i < got.size(); ++i) {
    if (Rank(got[i].second->outcome) > Rank(got[worst].second->outcome)) worst = i;
  }
  CaseResult r = *got[worst].second;
  std::string each;
  bool alike = true;
  for (const auto& [in, result] : got) {
    each += (each.empty() ? "" : ", ") + From(*in) + " " + std::string(ToString(result->outcome));
    alike = alike && result->outcome == r.outcome;
  }
  const std::string from = From(*got[worst].first);
  if (!r.message.empty()) r.message = from + ": " + r.message;
  const char* what = got.front().first->report.shard ? " shards (" : " runs (";
  const std::string note = "judged on " + std::to_string(got.size()) + what + each +
                           "); the merged result is the worst, " + from + "'s";
  r.evidence.note += (r.evidence.note.empty() ? "" : "\n") + note;
  if (!alike) notes.push_back(r.target + " " + r.case_id + ": " + note);
  return r;
}

// The run's (target, case) pairs in run order: a sharded run's selection, or
// what whole runs reported, each target's cases in catalog order, liveness last.
std::vector<Pair> Selection(const std::vector<MergeInput>& inputs,
                            const std::vector<core::CaseInfo>& catalog,
                            const std::set<std::string>& liveness) {
  std::vector<Pair> pairs;
  if (inputs.front().report.shard) {
    for (const auto& t : inputs.front().report.shard->selected) {
      for (const auto& c : t.cases) pairs.emplace_back(t.target, c);
    }
    return pairs;
  }
  std::map<std::string, std::size_t> order;
  for (std::size_t i = 0; i < catalog.size(); ++i) order.emplace(catalog[i].id, i);
  std::vector<std::string> targets;
  std::map<std::string, std::vector<std::string>> cases;
  for (const auto& in : inputs) {
    for (const auto& r : in.report.results) {
      if (!cases.count(r.target)) targets.push_back(r.target);
      auto& list = cases[r.target];
      if (std::find(list.begin(), list.end(), r.case_id) == list.end()) list.push_back(r.case_id);
    }
  }
  for (const auto& t : targets) {
    auto list = cases[t];
    auto key = [&](const std::string& id) {
      auto it = order.find(id);
      return std::make_pair(liveness.count(id) > 0,
                            it == order.end() ? catalog.size() : it->second);
    };
    std::stable_sort(list.begin(), list.end(),
                     [&](const std::string& a, const std::string& b) { return key(a) < key(b); });
    for (const auto& c : list) pairs.emplace_back(t, c);
  }
  return pairs;
}

CaseResult MissingResult(const Pair& pair, const std::vector<core::CaseInfo>& catalog,
                         const core::ShardInfo& shard, const std::vector<int>& missing_shards) {
  CaseResult r;
  r.target = pair.first;
  r.case_id = pair.second;
  r.area = internal::AreaOf(pair.second);
  for (const auto& c : catalog) {
    if (c.id == pair.second) {
      r.area = c.area.empty() ? r.area : c.area;
      r.level = c.level;
    }
  }
  r.outcome = Outcome::kError;
  const int n = int(missing_shards.size());
  r.message = "no shard reported this case: " +
              (n == 0 ? "every shard of " + std::to_string(shard.count) +
                            " was merged, but none has it (an incomplete results file?)"
                      : std::string(n == 1 ? "shard " : "shards ") +
                            ShardList(missing_shards, shard.count) + (n == 1 ? " was" : " were") +
                            " not merged");
  return r;
}

}  // namespace

std::string CatalogVersion(const std::vector<core::CaseInfo>& catalog) {
  Sha256 hash;
  for (const auto& c : catalog) {
    for (const std::string* field :
         {&c.id, &c.area, &c.title, &c.measured, &c.source, &c.feature, &c.defect}) {
      hash.Update(*field);
      hash.Update("\x1f", 1);
    }
    hash.Update(ToString(c.level));
    hash.Update("\x1e", 1);
  }
  return hash.HexDigest().substr(0, 12);
}

Result<Merged> Merge(const std::vector<MergeInput>& inputs, const MergeOptions& options) {
  if (inputs.empty()) return Error{"nothing to merge: name the results files"};
  if (auto alike = CheckAlike(inputs); !alike) return Error{alike.message()};

  Merged merged;
  core::RunReport& out = merged.report;
  const core::RunReport& first = inputs.front().report;
  out.tool_name = first.tool_name;
  out.catalog = first.catalog;
  out.gate = first.gate;
  std::set<std::string> liveness(options.liveness.begin(), options.liveness.end());
  std::vector<std::string> versions;
  for (const auto& in : inputs) {
    const auto& r = in.report;
    if (r.shard) liveness.insert(r.shard->liveness.begin(), r.shard->liveness.end());
    if (std::find(versions.begin(), versions.end(), r.tool_version) == versions.end()) {
      versions.push_back(r.tool_version);
    }
    if (!r.started_at.empty() && (out.started_at.empty() || r.started_at < out.started_at)) {
      out.started_at = r.started_at;
    }
    out.duration_ms = std::max(out.duration_ms, r.duration_ms);
    if (r.interrupted && !out.interrupted) out.interrupted = r.interrupted;
  }
  for (const auto& v : versions) out.tool_version += (out.tool_version.empty() ? "" : ", ") + v;
  if (versions.size() > 1) {
    merged.notes.push_back("the inputs come from different builds of one catalog: " +
                           out.tool_version);
  }

  // Targets, by name, in the order the inputs first name them.
  std::vector<std::string> names;
  std::map<std::string, std::vector<std::pair<const MergeInput*, const core::TargetSummary*>>>
      targets;
  for (const auto& in : inputs) {
    for (const auto& t : in.report.targets) {
      if (!targets.count(t.name)) names.push_back(t.name);
      targets[t.name].emplace_back(&in, &t);
      if (!t.log_path.empty()) merged.logs.push_back({t.name, From(in), t.log_path});
    }
  }
  if (first.shard) {
    // A sharded run's targets in the run's order, as unsharded.
    std::vector<std::string> ordered;
    for (const auto& t : first.shard->selected) {
      if (targets.count(t.target)) ordered.push_back(t.target);
    }
    for (const auto& n : names) {
      if (std::find(ordered.begin(), ordered.end(), n) == ordered.end()) ordered.push_back(n);
    }
    names = std::move(ordered);
  }
  for (const auto& name : names) out.targets.push_back(MergeTarget(targets[name]));

  // Who reported what; a pair twice is refused unless it judges liveness.
  std::map<Pair, std::vector<std::pair<const MergeInput*, const CaseResult*>>> reported;
  std::vector<Pair> order;  // first report of each pair
  for (const auto& in : inputs) {
    std::set<Pair> stand_ins;  // an earlier merge's errors for shards it did not have
    if (in.report.shard) {
      for (const auto& t : in.report.shard->unreported) {
        for (const auto& c : t.cases) stand_ins.emplace(t.target, c);
      }
    }
    for (const auto& r : in.report.results) {
      if (stand_ins.count({r.target, r.case_id})) continue;
      auto& got = reported[{r.target, r.case_id}];
      if (!got.empty() && !liveness.count(r.case_id)) {
        const MergeInput& other = *got.front().first;
        const std::string who = &other == &in
                                    ? in.label + " reports it twice"
                                    : other.label + " and " + in.label + " both report it";
        return Error{who + ": " + r.target + " " + r.case_id +
                     " (a shard given twice, or runs that overlap: merge each shard once)"};
      }
      if (got.empty()) order.emplace_back(r.target, r.case_id);
      got.emplace_back(&in, &r);
    }
  }

  if (first.shard) {
    core::ShardInfo shard = *first.shard;
    shard.indexes.clear();
    shard.unreported.clear();
    for (const auto& in : inputs) {
      for (int i : in.report.shard->indexes) shard.indexes.push_back(i);
    }
    std::sort(shard.indexes.begin(), shard.indexes.end());
    for (int i = 0; i < shard.count; ++i) {
      if (!std::binary_search(shard.indexes.begin(), shard.indexes.end(), i)) {
        merged.missing_shards.push_back(i);
      }
    }
    out.shard = std::move(shard);
  }

  std::set<Pair> placed;
  auto place = [&](const Pair& pair) {
    if (!placed.insert(pair).second) return;
    auto it = reported.find(pair);
    if (it == reported.end()) {
      if (!out.shard) return;  // whole runs select what they report
      out.results.push_back(MissingResult(pair, out.catalog, *out.shard, merged.missing_shards));
      merged.missing.push_back(pair.first + " " + pair.second);
      auto& unreported = out.shard->unreported;
      if (unreported.empty() || unreported.back().target != pair.first) {
        unreported.push_back({pair.first, {}});
      }
      unreported.back().cases.push_back(pair.second);
    } else if (it->second.size() == 1) {
      out.results.push_back(*it->second.front().second);
    } else {
      out.results.push_back(MergeLiveness(it->second, merged.notes));
    }
  };
  for (const auto& pair : Selection(inputs, out.catalog, liveness)) place(pair);
  // Anything reported outside the selection still ran: it stays, after the rest.
  for (const auto& pair : order) place(pair);
  return merged;
}

}  // namespace streamcheck::reports
