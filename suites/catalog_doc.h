// The catalog table rendered three ways: `streamcheck list` (text),
// `list --json` and `list --markdown` (which is docs/catalog.md; a test keeps
// the two equal).
#pragma once

#include <string>
#include <vector>

#include "core/model.h"

namespace streamcheck::suites {

std::string CatalogText(const std::vector<core::CaseInfo>& cases);
// {"cases": [{"id", "area", "level", "title", "measured", "source", "feature", "defect"}]}
std::string CatalogJson(const std::vector<core::CaseInfo>& cases);
std::string CatalogMarkdown(const std::vector<core::CaseInfo>& cases);

}  // namespace streamcheck::suites
