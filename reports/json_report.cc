#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "reports/render_common.h"
#include "reports/writers.h"

namespace streamcheck::reports {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

ojson EvidenceJson(const Evidence& e) {
  ojson j = ojson::object();
  if (!e.request.empty()) j["request"] = e.request;
  if (e.status != 0) j["status"] = e.status;
  if (!e.response_headers.empty()) {
    ojson headers = ojson::array();
    for (const auto& [name, value] : e.response_headers) {
      headers.push_back(ojson::array({name, value}));
    }
    j["response_headers"] = std::move(headers);
  }
  if (!e.first_events.empty()) j["first_events"] = e.first_events;
  if (!e.last_events.empty()) j["last_events"] = e.last_events;
  if (!e.timeline.empty()) {
    ojson points = ojson::array();
    for (const auto& p : e.timeline) points.push_back(ojson::array({p.t_ms, p.bytes, p.events}));
    j["timeline"] = std::move(points);
  }
  if (!e.note.empty()) j["note"] = e.note;
  return j;
}

// The run with its keys in the documented order.
ojson OrderedJson(const RunReport& report) {
  ojson root = ojson::object();
  root["tool"] = {{"name", report.tool_name}, {"version", report.tool_version}};
  root["started_at"] = report.started_at;
  root["duration_ms"] = report.duration_ms;

  ojson targets = ojson::array();
  for (const auto& t : report.targets) {
    ojson target = {{"name", t.name},
                    {"url", t.url},
                    {"features", t.features},
                    {"managed", t.managed},
                    {"log", t.log_path}};
    if (!t.problem.empty()) target["problem"] = t.problem;
    targets.push_back(std::move(target));
  }
  root["targets"] = std::move(targets);

  ojson results = ojson::array();
  for (const auto& r : report.results) {
    ojson result = ojson::object();
    result["target"] = r.target;
    result["case"] = r.case_id;
    result["area"] = r.area.empty() ? internal::AreaOf(r.case_id) : r.area;
    result["level"] = ToString(r.level);
    result["outcome"] = ToString(r.outcome);
    result["message"] = r.message;
    result["duration_ms"] = r.duration_ms;
    result["metrics"] = r.metrics.is_object() ? ojson(r.metrics) : ojson::object();
    result["evidence"] = EvidenceJson(r.evidence);
    results.push_back(std::move(result));
  }
  root["results"] = std::move(results);

  ojson catalog = ojson::array();
  for (const auto& c : report.catalog) {
    catalog.push_back(
        {{"id", c.id}, {"area", c.area}, {"level", ToString(c.level)}, {"title", c.title}});
  }
  root["catalog"] = std::move(catalog);
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
    if (!v->is_number_integer()) return Fail(key, "expected an integer");
    *out = v->get<int>();
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
      Fail(key, "unknown outcome \"" + text + "\" (pass, fail, warn, skip or error)");
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

void ReadEvidence(const json& j, const std::string& where, Evidence* e, std::string* error) {
  Fields f(j, where, error);
  f.String("request", &e->request);
  f.Int("status", &e->status);
  if (const json* headers = f.Get("response_headers")) {
    if (!headers->is_array()) return f.Fail("response_headers", "expected [[name, value], ...]");
    for (const auto& h : *headers) {
      if (!h.is_array() || h.size() != 2 || !h[0].is_string() || !h[1].is_string()) {
        return f.Fail("response_headers", "expected [[name, value], ...]");
      }
      e->response_headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
  }
  f.Strings("first_events", &e->first_events);
  f.Strings("last_events", &e->last_events);
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
  f.String("note", &e->note);
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
      f.String("problem", &t.problem);
      report.targets.push_back(std::move(t));
    }
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
    f.Number("duration_ms", &r.duration_ms);
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
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    return Error{std::string("not valid JSON: ") + e.what()};
  }
  return FromJson(root);
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
