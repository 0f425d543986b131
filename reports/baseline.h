// Baselines (`run --expect FILE`, `report --expect FILE`): the outcomes a
// team knows its targets have while a migration is under way, so a CI gate
// can accept them and still fail on anything new. The file is JSON or YAML
// (JSON when its first non-blank character is '{'), target -> case -> entry:
//
//   flask:
//     direct.incremental: {outcome: fail, reason: buffers the body by design}
//     chat.no-cache: warn            # the outcome alone, without a reason
//
// Outcomes are fail (a MUST case), warn (a SHOULD case) and error. What an
// entry does to a run is core::GateOf's; this file only reads and checks it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/model.h"

namespace streamcheck::reports {

// Parses a baseline. Every case ID must be in `catalog` and its outcome
// possible for its level (a MUST case fails, a SHOULD case warns), so a typo
// is an error rather than an entry that accepts nothing; errors name `origin`
// and the entry, e.g. `expect.yaml: flask.chat.nocache: no such case`.
// The settings' `baseline` is `origin`.
Result<core::GateSettings> ParseBaseline(std::string_view text, const std::string& origin,
                                         const std::vector<core::CaseInfo>& catalog);

// Reads and parses the file at `path`.
Result<core::GateSettings> LoadBaseline(const std::string& path,
                                        const std::vector<core::CaseInfo>& catalog);

}  // namespace streamcheck::reports
