// The catalog table is the one source of truth: docs/catalog.md is its
// rendering, `list --json` its data, and every judged case names the defect
// that shows it failing (tests/conformance_failure_test.cc runs each).
#include "suites/catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "engine/shard.h"
#include "suites/catalog_doc.h"
#include "tests/test_support.h"

namespace streamcheck::suites {
namespace {

TEST(CatalogTest, DocsCatalogIsTheTableRendered) {
  std::string doc =
      testing_support::ReadFile(std::string(STREAMCHECK_SOURCE_ROOT) + "/docs/catalog.md");
  EXPECT_EQ(doc, CatalogMarkdown(CatalogInfo()))
      << "docs/catalog.md is out of date: run `streamcheck list --markdown > docs/catalog.md`";
}

TEST(CatalogTest, EveryCaseHasItsFacts) {
  std::set<std::string> ids;
  for (const auto& c : CatalogInfo()) {
    EXPECT_TRUE(ids.insert(c.id).second) << "two cases are " << c.id;
    EXPECT_EQ(c.id.rfind(c.area + ".", 0), 0u) << c.id << " is not in area " << c.area;
    EXPECT_FALSE(c.title.empty()) << c.id;
    EXPECT_FALSE(c.measured.empty()) << c.id;
    EXPECT_FALSE(c.source.empty()) << c.id << " cites no rule";
    EXPECT_FALSE(c.precondition.empty())
        << c.id << " states no precondition (what it must see before it judges)";
  }
}

// The shard planner's durations (engine/shard.cc) cover the catalog, so no
// case is balanced by the default, and name no case that is gone.
TEST(CatalogTest, EveryCaseHasATypicalDuration) {
  std::set<std::string> ids;
  for (const auto& c : CatalogInfo()) {
    ids.insert(c.id);
    EXPECT_TRUE(engine::TypicalCaseTable().count(c.id))
        << c.id << " has no typical duration in engine/shard.cc's table";
  }
  for (const auto& [id, ms] : engine::TypicalCaseTable()) {
    EXPECT_TRUE(ids.count(id)) << "engine/shard.cc's table names " << id
                               << ", which the catalog does not have";
    EXPECT_GT(ms, 0) << id;
  }
}

// Run as a process: the defective server's own list of switches.
std::set<std::string> DefectiveServerSwitches() {
  std::set<std::string> names;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(DEFECTIVE_SERVER_BIN " --list", "r"), pclose);
  if (!pipe) return names;
  char line[512];
  while (fgets(line, sizeof line, pipe.get())) {
    std::string s(line);
    auto end = s.find_first_of(" \t\n");
    if (end > 0) names.insert(s.substr(0, end));
  }
  return names;
}

TEST(CatalogTest, EveryJudgedCaseHasAFailingDemonstration) {
  auto switches = DefectiveServerSwitches();
  ASSERT_FALSE(switches.empty()) << "could not run " DEFECTIVE_SERVER_BIN " --list";
  for (const auto& c : CatalogInfo()) {
    if (c.level == core::Level::kInfo) {
      EXPECT_TRUE(c.defect.empty()) << c.id << ": an INFO case never fails";
      continue;
    }
    EXPECT_FALSE(c.defect.empty()) << c.id << " has no defect that shows it failing";
    EXPECT_TRUE(switches.count(c.defect))
        << c.id << ": the defective server has no switch " << c.defect;
  }
}

TEST(CatalogTest, ListJsonCarriesEveryCase) {
  auto j = nlohmann::json::parse(CatalogJson(CatalogInfo()));
  ASSERT_TRUE(j.contains("cases"));
  ASSERT_EQ(j["cases"].size(), CatalogInfo().size());
  for (const auto& c : j["cases"]) {
    for (const char* key :
         {"id", "area", "level", "title", "measured", "source", "defect", "precondition"}) {
      EXPECT_TRUE(c.contains(key)) << key;
    }
  }
}

}  // namespace
}  // namespace streamcheck::suites
