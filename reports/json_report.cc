#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/json_bounded.h"
#include "reports/render_common.h"
#include "reports/writers.h"

namespace streamcheck::reports {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

ojson HeadersJson(const core::HeaderList& headers) {
  ojson out = ojson::array();
  for (const auto& [name, value] : headers) out.push_back(ojson::array({name, value}));
  return out;
}

ojson ExchangeJson(const Exchange& x) {
  ojson j = ojson::object();
  if (!x.label.empty()) j["label"] = x.label;
  j["request"] = x.request;
  if (!x.request_headers.empty()) j["request_headers"] = HeadersJson(x.request_headers);
  if (!x.request_body.empty()) j["request_body"] = x.request_body;
  j["status"] = x.status;
  if (!x.http_version.empty()) j["http_version"] = x.http_version;
  if (!x.response_headers.empty()) j["response_headers"] = HeadersJson(x.response_headers);
  if (!x.first_events.empty()) j["first_events"] = x.first_events;
  if (!x.last_events.empty()) j["last_events"] = x.last_events;
  j["body_bytes"] = x.body_bytes;
  if (x.wire_bytes != x.body_bytes) j["wire_bytes"] = x.wire_bytes;
  if (x.events > 0) j["events"] = x.events;
  if (x.headers_ms >= 0) j["headers_ms"] = x.headers_ms;
  if (x.first_byte_ms >= 0) j["first_byte_ms"] = x.first_byte_ms;
  j["total_ms"] = x.total_ms;
  if (!x.error.empty()) j["error"] = x.error;
  return j;
}

ojson EvidenceJson(const Evidence& e) {
  ojson j = ojson::object();
  if (!e.exchanges.empty()) {
    ojson exchanges = ojson::array();
    for (const auto& x : e.exchanges) exchanges.push_back(ExchangeJson(x));
    j["exchanges"] = std::move(exchanges);
  }
  if (e.exchanges_dropped > 0) j["exchanges_dropped"] = e.exchanges_dropped;
  if (!e.timeline.empty()) {
    ojson points = ojson::array();
    for (const auto& p : e.timeline) points.push_back(ojson::array({p.t_ms, p.bytes, p.events}));
    j["timeline"] = std::move(points);
  }
  if (!e.memory.empty()) {
    ojson points = ojson::array();
    for (const auto& p : e.memory) {
      points.push_back(ojson::array({p.t_ms, p.rss_bytes, p.pss_bytes}));
    }
    j["memory"] = std::move(points);
  }
  if (!e.note.empty()) j["note"] = e.note;
  return j;
}

ojson StopJson(const core::StopSummary& s) {
  ojson j = ojson::object();
  j["exit"] = s.exit;
  if (s.needed_kill) j["needed_kill"] = true;
  if (!s.leftovers_killed.empty()) j["leftovers_killed"] = s.leftovers_killed;
  if (s.left_behind) j["left_behind"] = true;
  return j;
}

// The run with its keys in the documented order.
ojson OrderedJson(const RunReport& report) {
  ojson root = ojson::object();
  root["tool"] = {{"name", report.tool_name}, {"version", report.tool_version}};
  root["started_at"] = report.started_at;
  root["duration_ms"] = report.duration_ms;
  if (report.interrupted) {
    root["interrupted"] = {{"reason", report.interrupted->reason},
                           {"exit_code", report.interrupted->exit_code}};
  }

  ojson targets = ojson::array();
  for (const auto& t : report.targets) {
    ojson target = {{"name", t.name},
                    {"url", t.url},
                    {"features", t.features},
                    {"managed", t.managed},
                    {"log", t.log_path}};
    if (!t.spec.empty()) target["spec"] = t.spec;
    if (!t.problem.empty()) target["problem"] = t.problem;
    if (!t.stop.empty()) target["stop"] = StopJson(t.stop);
    targets.push_back(std::move(target));
  }
  root["targets"] = std::move(targets);
  if (!report.gate.empty()) {
    ojson expected = ojson::array();
    for (const auto& e : report.gate.expected) {
      expected.push_back({{"target", e.target},
                          {"case", e.case_id},
                          {"outcome", ToString(e.outcome)},
                          {"reason", e.reason}});
    }
    root["gate"] = {{"strict", report.gate.strict},
                    {"baseline", report.gate.baseline},
                    {"expected", std::move(expected)}};
  }

  ojson results = ojson::array();
  for (const auto& r : report.results) {
    ojson result = ojson::object();
    result["target"] = r.target;
    result["case"] = r.case_id;
    result["area"] = r.area.empty() ? internal::AreaOf(r.case_id) : r.area;
    result["level"] = ToString(r.level);
    result["outcome"] = ToString(r.outcome);
    result["message"] = r.message;
    if (!r.failures.empty()) {
      ojson failures = ojson::array();
      for (const auto& f : r.failures) {
        failures.push_back({{"message", f.message}, {"exchange", f.exchange}});
      }
      result["failures"] = std::move(failures);
    }
    result["duration_ms"] = r.duration_ms;
    if (r.repeated()) {
      result["repeat"] = r.repeat;
      result["passed_runs"] = r.PassedRuns();
      ojson runs = ojson::array();
      for (const auto& run : r.runs) {
        ojson one = {{"outcome", ToString(run.outcome)}, {"duration_ms", run.duration_ms}};
        if (!run.message.empty()) one["message"] = run.message;
        runs.push_back(std::move(one));
      }
      result["runs"] = std::move(runs);
    }
    result["metrics"] = r.metrics.is_object() ? ojson(r.metrics) : ojson::object();
    result["evidence"] = EvidenceJson(r.evidence);
    results.push_back(std::move(result));
  }
  root["results"] = std::move(results);

  ojson catalog = ojson::array();
  for (const auto& c : report.catalog) {
    catalog.push_back({{"id", c.id},
                       {"area", c.area},
                       {"level", ToString(c.level)},
                       {"title", c.title},
                       {"measured", c.measured},
                       {"source", c.source},
                       {"feature", c.feature},
                       {"defect", c.defect}});
    if (!c.precondition.empty()) catalog.back()["precondition"] = c.precondition;
  }
  root["catalog"] = std::move(catalog);

  if (report.shard) {
    const auto& s = *report.shard;
    auto pairs = [](const std::vector<core::ShardTarget>& list) {
      ojson out = ojson::array();
      for (const auto& t : list) out.push_back({{"target", t.target}, {"cases", t.cases}});
      return out;
    };
    root["shard"] = {{"count", s.count},
                     {"indexes", s.indexes},
                     {"selected", pairs(s.selected)},
                     {"liveness", s.liveness}};
    if (!s.unreported.empty()) root["shard"]["unreported"] = pairs(s.unreported);
  }
  return root;
}

// Reads the fields of one JSON object, remembering the first problem as
// "<where>.<key>: <what>"; once a problem is found, further reads do nothing.
class Fields {
 public:
  Fields(const json& object, std::string where, std::string* error)
      : object_(object), where_(std::move(where)), error_(error) {
    if (!object_.is_object()) Fail("", "expected an object");
  }

  bool ok() const { return error_->empty(); }

  void Fail(std::string_view key, std::string_view what) {
    if (!error_->empty()) return;
    std::string field = where_;
    if (!key.empty()) field += (where_.empty() ? "" : ".") + std::string(key);
    *error_ = field.empty() ? std::string(what) : field + ": " + std::string(what);
  }

  // The value at `key`, or nullptr when it is absent (an error if required)
  // or null.
  const json* Get(const char* key, bool required = false) {
    if (!ok()) return nullptr;
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) {
      if (required) Fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }

  void String(const char* key, std::string* out, bool required = false) {
    const json* v = Get(key, required);
    if (v == nullptr) return;
    if (!v->is_string()) return Fail(key, "expected a string");
    *out = v->get<std::string>();
  }

  void Number(const char* key, double* out) {
    const json* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_number()) return Fail(key, "expected a number");
    *out = v->get<double>();
  }

  void Int(const char* key, int* out) {
    const json* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_number_integer() || v->get<long long>() < INT_MIN || v->get<long long>() > INT_MAX) {
      return Fail(key, "expected an integer");
    }
    *out = v->get<int>();
  }

  void Count(const char* key, std::uint64_t* out) {
    const json* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_number_unsigned() && !(v->is_number_integer() && v->get<long long>() >= 0)) {
      return Fail(key, "expected a count");
    }
    *out = v->get<std::uint64_t>();
  }

  void Bool(const char* key, bool* out) {
    const json* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_boolean()) return Fail(key, "expected true or false");
    *out = v->get<bool>();
  }

  void Strings(const char* key, std::vector<std::string>* out) {
    const json* v = Get(key);
    if (v == nullptr) return;
    if (!v->is_array()) return Fail(key, "expected an array of strings");
    for (const auto& item : *v) {
      if (!item.is_string()) return Fail(key, "expected an array of strings");
      out->push_back(item.get<std::string>());
    }
  }

  void LevelField(const char* key, Level* out, bool required) {
    std::string text;
    String(key, &text, required);
    if (!ok() || text.empty()) return;
    if (const auto level = ParseLevel(text)) {
      *out = *level;
    } else {
      Fail(key, "unknown level \"" + text + "\" (MUST, SHOULD or INFO)");
    }
  }

  void OutcomeField(const char* key, Outcome* out) {
    std::string text;
    String(key, &text, true);
    if (!ok()) return;
    if (const auto outcome = ParseOutcome(text)) {
      *out = *outcome;
    } else {
      Fail(key, "unknown outcome \"" + text + "\" (pass, fail, warn, skip, error or not-run)");
    }
  }

  std::string Where(const char* key) const { return where_ + "." + key; }

 private:
  const json& object_;
  std::string where_;
  std::string* error_;
};

std::string Indexed(const std::string& where, std::size_t i) {
  return where + "[" + std::to_string(i) + "]";
}

bool IsCount(const json& v) { return v.is_number_unsigned() || v.is_number_integer(); }

void ReadHeaders(Fields& f, const char* key, core::HeaderList* out) {
  const json* headers = f.Get(key);
  if (!headers) return;
  if (!headers->is_array()) return f.Fail(key, "expected [[name, value], ...]");
  for (const auto& h : *headers) {
    if (!h.is_array() || h.size() != 2 || !h[0].is_string() || !h[1].is_string()) {
      return f.Fail(key, "expected [[name, value], ...]");
    }
    out->emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
  }
}

void ReadExchange(const json& j, const std::string& where, Exchange* x, std::string* error) {
  Fields f(j, where, error);
  f.String("label", &x->label);
  f.String("request", &x->request);
  ReadHeaders(f, "request_headers", &x->request_headers);
  f.String("request_body", &x->request_body);
  f.Int("status", &x->status);
  f.String("http_version", &x->http_version);
  ReadHeaders(f, "response_headers", &x->response_headers);
  f.Strings("first_events", &x->first_events);
  f.Strings("last_events", &x->last_events);
  f.Count("body_bytes", &x->body_bytes);
  x->wire_bytes = x->body_bytes;
  f.Count("wire_bytes", &x->wire_bytes);
  f.Count("events", &x->events);
  f.Number("headers_ms", &x->headers_ms);
  f.Number("first_byte_ms", &x->first_byte_ms);
  f.Number("total_ms", &x->total_ms);
  f.String("error", &x->error);
}

void ReadEvidence(const json& j, const std::string& where, Evidence* e, std::string* error) {
  Fields f(j, where, error);
  if (const json* exchanges = f.Get("exchanges")) {
    if (!exchanges->is_array()) return f.Fail("exchanges", "expected an array");
    for (std::size_t i = 0; i < exchanges->size() && f.ok(); ++i) {
      Exchange x;
      ReadExchange((*exchanges)[i], Indexed(f.Where("exchanges"), i), &x, error);
      e->exchanges.push_back(std::move(x));
    }
  }
  std::uint64_t dropped = 0;
  f.Count("exchanges_dropped", &dropped);
  e->exchanges_dropped = dropped;
  if (const json* timeline = f.Get("timeline")) {
    constexpr const char* kShape = "expected [[t_ms, bytes, events], ...]";
    if (!timeline->is_array()) return f.Fail("timeline", kShape);
    for (const auto& p : *timeline) {
      if (!p.is_array() || p.size() != 3 || !p[0].is_number() || !IsCount(p[1]) || !IsCount(p[2]) ||
          p[1].get<double>() < 0 || p[2].get<double>() < 0) {
        return f.Fail("timeline", kShape);
      }
      e->timeline.push_back(
          {p[0].get<double>(), p[1].get<std::uint64_t>(), p[2].get<std::uint64_t>()});
    }
  }
  if (const json* memory = f.Get("memory")) {
    constexpr const char* kShape = "expected [[t_ms, rss_bytes, pss_bytes], ...]";
    if (!memory->is_array()) return f.Fail("memory", kShape);
    for (const auto& p : *memory) {
      if (!p.is_array() || p.size() != 3 || !p[0].is_number() || !IsCount(p[1]) || !IsCount(p[2]) ||
          p[1].get<double>() < 0 || p[2].get<double>() < 0) {
        return f.Fail("memory", kShape);
      }
      e->memory.push_back(
          {p[0].get<double>(), p[1].get<std::uint64_t>(), p[2].get<std::uint64_t>()});
    }
  }
  f.String("note", &e->note);
}

// `repeat` and `runs` of a result run with --repeat (both absent otherwise).
void ReadRuns(Fields& f, CaseResult* r, std::string* error) {
  f.Int("repeat", &r->repeat);
  if (f.ok() && r->repeat < 1) return f.Fail("repeat", "expected a count of runs, 1 or more");
  const json* runs = f.Get("runs");
  if (runs == nullptr) return;
  if (!runs->is_array() || runs->size() > std::size_t(r->repeat)) {
    return f.Fail("runs", "expected an array of at most `repeat` runs");
  }
  for (std::size_t k = 0; f.ok() && k < runs->size(); ++k) {
    Fields rf((*runs)[k], Indexed(f.Where("runs"), k), error);
    core::RunOutcome run;
    rf.OutcomeField("outcome", &run.outcome);
    rf.String("message", &run.message);
    rf.Number("duration_ms", &run.duration_ms);
    r->runs.push_back(std::move(run));
  }
}

void ReadStop(const json& j, const std::string& where, core::StopSummary* s, std::string* error) {
  Fields f(j, where, error);
  f.String("exit", &s->exit);
  f.Bool("needed_kill", &s->needed_kill);
  f.Strings("leftovers_killed", &s->leftovers_killed);
  f.Bool("left_behind", &s->left_behind);
}

}  // namespace

json ToJson(const RunReport& report) { return json(OrderedJson(report)); }

std::string ToJsonString(const RunReport& report, int indent) {
  return OrderedJson(report).dump(indent, ' ', false, ojson::error_handler_t::replace) + "\n";
}

Result<RunReport> FromJson(const json& root) {
  RunReport report;
  std::string error;
  Fields top(root, "", &error);
  if (const json* tool = top.Get("tool")) {
    Fields f(*tool, "tool", &error);
    f.String("name", &report.tool_name);
    f.String("version", &report.tool_version);
  }
  top.String("started_at", &report.started_at);
  top.Number("duration_ms", &report.duration_ms);
  if (const json* interrupted = top.Get("interrupted")) {
    Fields f(*interrupted, "interrupted", &error);
    core::Interruption i;
    f.String("reason", &i.reason, true);
    f.Int("exit_code", &i.exit_code);
    report.interrupted = i;
  }

  if (const json* targets = top.Get("targets")) {
    if (!targets->is_array()) top.Fail("targets", "expected an array");
    for (std::size_t i = 0; top.ok() && i < targets->size(); ++i) {
      TargetSummary t;
      Fields f((*targets)[i], Indexed("targets", i), &error);
      f.String("name", &t.name, true);
      f.String("url", &t.url);
      f.Strings("features", &t.features);
      f.Bool("managed", &t.managed);
      f.String("log", &t.log_path);
      f.String("spec", &t.spec);
      f.String("problem", &t.problem);
      if (const json* stop = f.Get("stop")) ReadStop(*stop, f.Where("stop"), &t.stop, &error);
      report.targets.push_back(std::move(t));
    }
  }

  if (const json* gate = top.Get("gate")) {
    Fields f(*gate, "gate", &error);
    f.Bool("strict", &report.gate.strict);
    f.String("baseline", &report.gate.baseline);
    if (const json* expected = f.Get("expected")) {
      if (!expected->is_array()) f.Fail("expected", "expected an array");
      for (std::size_t i = 0; f.ok() && i < expected->size(); ++i) {
        Fields ef((*expected)[i], Indexed(f.Where("expected"), i), &error);
        core::Expectation e;
        ef.String("target", &e.target, true);
        ef.String("case", &e.case_id, true);
        ef.OutcomeField("outcome", &e.outcome);
        ef.String("reason", &e.reason);
        report.gate.expected.push_back(std::move(e));
      }
    }
  }

  if (const json* shard = top.Get("shard")) {
    Fields f(*shard, "shard", &error);
    core::ShardInfo s;
    f.Int("count", &s.count);
    if (f.ok() && s.count < 1) f.Fail("count", "expected a shard count of 1 or more");
    if (const json* indexes = f.Get("indexes", true)) {
      if (!indexes->is_array()) f.Fail("indexes", "expected an array of shard indexes");
      for (std::size_t i = 0; f.ok() && i < indexes->size(); ++i) {
        const json& v = (*indexes)[i];
        if (!v.is_number_integer() || v.get<long long>() < 0 || v.get<long long>() >= s.count) {
          f.Fail("indexes", "expected shard indexes from 0 to count - 1");
        } else {
          s.indexes.push_back(v.get<int>());
        }
      }
    }
    auto pairs = [&](const char* key, bool required, std::vector<core::ShardTarget>* out) {
      const json* list = f.Get(key, required);
      if (list == nullptr) return;
      if (!list->is_array()) return f.Fail(key, "expected [{\"target\", \"cases\"}, ...]");
      for (std::size_t i = 0; f.ok() && i < list->size(); ++i) {
        Fields sf((*list)[i], Indexed(f.Where(key), i), &error);
        core::ShardTarget t;
        sf.String("target", &t.target, true);
        sf.Strings("cases", &t.cases);
        out->push_back(std::move(t));
      }
    };
    pairs("selected", true, &s.selected);
    f.Strings("liveness", &s.liveness);
    pairs("unreported", false, &s.unreported);
    report.shard = std::move(s);
  }

  if (const json* catalog = top.Get("catalog")) {
    if (!catalog->is_array()) top.Fail("catalog", "expected an array");
    for (std::size_t i = 0; top.ok() && i < catalog->size(); ++i) {
      CaseInfo c;
      Fields f((*catalog)[i], Indexed("catalog", i), &error);
      f.String("id", &c.id, true);
      f.String("area", &c.area);
      f.LevelField("level", &c.level, false);
      f.String("title", &c.title);
      f.String("measured", &c.measured);
      f.String("source", &c.source);
      f.String("feature", &c.feature);
      f.String("defect", &c.defect);
      f.String("precondition", &c.precondition);
      if (c.area.empty()) c.area = internal::AreaOf(c.id);
      report.catalog.push_back(std::move(c));
    }
  }

  const json* results = top.Get("results", true);
  if (results != nullptr && !results->is_array()) top.Fail("results", "expected an array");
  for (std::size_t i = 0; top.ok() && i < results->size(); ++i) {
    CaseResult r;
    const std::string where = Indexed("results", i);
    Fields f((*results)[i], where, &error);
    f.String("target", &r.target, true);
    f.String("case", &r.case_id, true);
    f.String("area", &r.area);
    f.LevelField("level", &r.level, true);
    f.OutcomeField("outcome", &r.outcome);
    f.String("message", &r.message);
    if (const json* failures = f.Get("failures")) {
      if (!failures->is_array()) f.Fail("failures", "expected an array");
      for (std::size_t k = 0; f.ok() && k < failures->size(); ++k) {
        Fields ff((*failures)[k], Indexed(f.Where("failures"), k), &error);
        core::Failure failure;
        ff.String("message", &failure.message, true);
        ff.Int("exchange", &failure.exchange);
        r.failures.push_back(std::move(failure));
      }
    }
    f.Number("duration_ms", &r.duration_ms);
    ReadRuns(f, &r, &error);
    if (const json* metrics = f.Get("metrics")) {
      if (!metrics->is_object()) f.Fail("metrics", "expected an object");
      r.metrics = *metrics;
    }
    if (const json* evidence = f.Get("evidence")) {
      ReadEvidence(*evidence, f.Where("evidence"), &r.evidence, &error);
    }
    if (r.area.empty()) r.area = internal::AreaOf(r.case_id);
    report.results.push_back(std::move(r));
  }

  if (!error.empty()) return Error{"not a streamcheck results document: " + error};
  return report;
}

Result<RunReport> ParseJsonReport(std::string_view text) {
  // The parser's exception stays inside this function: its message carries
  // the position of the problem, which the non-throwing mode does not give.
  auto root = ParseJsonBounded(text);
  if (!root) return Error{root.error()};
  return FromJson(*root);
}

Result<RunReport> LoadJsonReport(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read '" + path + "': " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{"cannot read '" + path + "': " + std::strerror(errno)};
  auto report = ParseJsonReport(text.str());
  if (!report) return Error{"'" + path + "': " + report.error()};
  return report;
}

}  // namespace streamcheck::reports
