#include "suites/catalog_doc.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace streamcheck::suites {
namespace {

std::string Pad(std::string s, std::size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s;
}

// Table cells: a '|' would end the cell, a line break the row.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') {
      out += "\\|";
    } else if (c == '\n') {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

constexpr char kIntro[] =
    "# The conformance catalog\n"
    "\n"
    "This page is generated: `streamcheck list --markdown` prints it from the case table in "
    "`suites/*_cases.cc`, and a test fails when the two differ. `streamcheck list` prints the "
    "same table as text, `list --json` as JSON.\n"
    "\n"
    "Every case has a stable ID, a level and a check that can fail. **MUST**: a failure fails "
    "the run (exit 1). **SHOULD**: reported as `warn`. **INFO**: recorded for comparison, never "
    "fails. Each case runs once per target whose `features` include its area's feature "
    "(`chat`, `direct_access`; `server` cases always run); otherwise it is `skip`. A case that "
    "could not measure what it needs is `skip` or `error` with the reason, never `pass`: "
    "*judged only after* says what each case must first have seen, and "
    "`tests/vacuous_pass_test.cc` points every case at servers that close, answer 404, answer "
    "garbage or an empty 200, where none may pass.\n"
    "\n"
    "The mock backend's content is deterministic (a seed), so expected texts and bytes are "
    "exact. Streaming is proven with the mock's gate, never with a timing threshold. Every case "
    "starts with the mock at its defaults and fresh counters, and every request it sends "
    "carries `X-Streamcheck-Case: <case id>`.\n"
    "\n"
    "The *defect* column names the fault switch of the test-only defective server that the "
    "project's tests turn on to show the case failing (`tests/conformance_failure_test.cc`).\n";

// The cases grouped by area, areas in order of first appearance, cases in
// catalog order within each.
std::vector<std::vector<const core::CaseInfo*>> ByArea(const std::vector<core::CaseInfo>& cases) {
  std::vector<std::vector<const core::CaseInfo*>> groups;
  std::vector<std::string> areas;
  for (const auto& c : cases) {
    auto it = std::find(areas.begin(), areas.end(), c.area);
    if (it == areas.end()) {
      areas.push_back(c.area);
      groups.emplace_back();
      it = areas.end() - 1;
    }
    groups[std::size_t(it - areas.begin())].push_back(&c);
  }
  return groups;
}

}  // namespace

std::string CatalogText(const std::vector<core::CaseInfo>& cases) {
  std::string out;
  for (const auto& group : ByArea(cases)) {
    out += (out.empty() ? "" : "\n") + group.front()->area + "\n";
    for (const auto* c : group) {
      out +=
          "  " + Pad(c->id, 32) + Pad(std::string(core::ToString(c->level)), 8) + c->title + "\n";
      if (!c->precondition.empty()) {
        out += std::string(42, ' ') + "judged only after: " + c->precondition + "\n";
      }
    }
  }
  return out;
}

std::string CatalogJson(const std::vector<core::CaseInfo>& cases) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& c : cases) {
    list.push_back({{"id", c.id},
                    {"area", c.area},
                    {"level", core::ToString(c.level)},
                    {"title", c.title},
                    {"measured", c.measured},
                    {"source", c.source},
                    {"feature", c.feature},
                    {"defect", c.defect},
                    {"precondition", c.precondition}});
  }
  return nlohmann::ordered_json{{"cases", list}}.dump(2) + "\n";
}

std::string CatalogMarkdown(const std::vector<core::CaseInfo>& cases) {
  std::string out = kIntro;
  for (const auto& group : ByArea(cases)) {
    out += "\n## " + group.front()->area +
           "\n\n| ID | level | passes when | how it is measured | judged only after | rule | "
           "defect |\n"
           "|---|---|---|---|---|---|---|\n";
    for (const auto* c : group) {
      out += "| `" + c->id + "` | " + std::string(core::ToString(c->level)) + " | " +
             Cell(c->title) + " | " + Cell(c->measured) + " | " + Cell(c->precondition) + " | " +
             Cell(c->source) + " | " + (c->defect.empty() ? "—" : "`" + c->defect + "`") + " |\n";
    }
  }
  return out;
}

}  // namespace streamcheck::suites
