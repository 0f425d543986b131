// What `run` prints: one line per case as it finishes, a matrix when several
// targets ran, and a summary.
#pragma once

#include <iosfwd>

#include "reports/results.h"

namespace streamcheck::cli {

void PrintCaseLine(std::ostream& out, const reports::CaseResult& result, bool show_target);
void PrintMatrix(std::ostream& out, const reports::RunReport& report);
void PrintSummary(std::ostream& out, const reports::RunReport& report);

}  // namespace streamcheck::cli
