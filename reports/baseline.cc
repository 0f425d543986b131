#include "reports/baseline.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/json_bounded.h"

namespace streamcheck::reports {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxYamlDepth = 16;

// A YAML document as JSON: mappings as objects, sequences as arrays, every
// scalar as a string (the baseline holds only strings).
Result<json> YamlToJson(const YAML::Node& node, std::size_t depth = 0) {
  if (depth > kMaxYamlDepth) return Error{"nested too deeply"};
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return json(nullptr);
    case YAML::NodeType::Scalar:
      return json(node.Scalar());
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) {
        auto value = YamlToJson(item, depth + 1);
        if (!value) return value;
        out.push_back(*value);
      }
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& item : node) {
        auto value = YamlToJson(item.second, depth + 1);
        if (!value) return value;
        out[item.first.as<std::string>()] = *value;
      }
      return out;
    }
  }
  return json(nullptr);
}

Result<json> ParseDocument(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') return ParseJsonBounded(text);
  try {
    return YamlToJson(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return Error{"not valid YAML: " + std::string(e.what())};
  }
}

const core::CaseInfo* FindCase(const std::vector<core::CaseInfo>& catalog, const std::string& id) {
  for (const auto& c : catalog) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace

Result<core::GateSettings> ParseBaseline(std::string_view text, const std::string& origin,
                                         const std::vector<core::CaseInfo>& catalog) {
  auto doc = ParseDocument(text);
  if (!doc) return Error{origin + ": " + doc.error()};
  if (doc->is_null()) return Error{origin + ": empty; expected target: {case: outcome}"};
  if (!doc->is_object()) return Error{origin + ": expected a mapping of target: {case: outcome}"};
  core::GateSettings gate;
  gate.baseline = origin;
  for (const auto& [target, cases] : doc->items()) {
    if (!cases.is_object()) {
      return Error{origin + ": " + target + ": expected a mapping of case: outcome"};
    }
    for (const auto& [case_id, entry] : cases.items()) {
      const std::string where = origin + ": " + target + "." + case_id;
      const core::CaseInfo* info = FindCase(catalog, case_id);
      if (info == nullptr) {
        return Error{where + ": no such case (`streamcheck list` shows the IDs)"};
      }
      core::Expectation e;
      e.target = target;
      e.case_id = case_id;
      std::string outcome;
      if (entry.is_string()) {
        outcome = entry.get<std::string>();
      } else if (entry.is_object()) {
        for (const auto& [key, value] : entry.items()) {
          if (key != "outcome" && key != "reason") {
            return Error{where + ": unknown key \"" + key + "\" (outcome, reason)"};
          }
          if (!value.is_string()) return Error{where + "." + key + ": expected a string"};
        }
        outcome = entry.value("outcome", "");
        e.reason = entry.value("reason", "");
      } else {
        return Error{where + ": expected an outcome or {outcome, reason}"};
      }
      const auto parsed = core::ParseOutcome(outcome);
      if (!parsed || (*parsed != core::Outcome::kFail && *parsed != core::Outcome::kWarn &&
                      *parsed != core::Outcome::kError)) {
        return Error{where + ": outcome \"" + outcome + "\": expected fail, warn or error"};
      }
      if (*parsed == core::Outcome::kFail && info->level != core::Level::kMust) {
        return Error{where + ": a " + std::string(core::ToString(info->level)) +
                     " case never fails (a SHOULD case warns); list it as warn"};
      }
      if (*parsed == core::Outcome::kWarn && info->level != core::Level::kShould) {
        return Error{where + ": a " + std::string(core::ToString(info->level)) +
                     " case never warns (a MUST case fails); list it as fail"};
      }
      e.outcome = *parsed;
      gate.expected.push_back(std::move(e));
    }
  }
  return gate;
}

Result<core::GateSettings> LoadBaseline(const std::string& path,
                                        const std::vector<core::CaseInfo>& catalog) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the baseline '" + path + "': " + std::strerror(errno)};
  std::ostringstream text;
  text << in.rdbuf();
  return ParseBaseline(text.str(), path, catalog);
}

}  // namespace streamcheck::reports
