// `streamcheck run` and `streamcheck report`: the catalog run with its
// interrupts, deadline and reports, and the re-rendering of a saved run.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>

#include "cli/cli.h"

namespace streamcheck::cli {

int CommandRun(const RunArgs& args, std::ostream& out, std::ostream& err);
int CommandReport(const ReportArgs& args, std::ostream& out, std::ostream& err);

// The folder of this executable: `{bin}` in target specs.
std::filesystem::path BinDir();
// The project root (`{root}`, where targets/ lives): $STREAMCHECK_ROOT, else
// the source tree this binary was built from.
std::filesystem::path Root();
// "Exit codes:" and one line per code, for `run --help`.
std::string ExitCodesHelp();
// The exit codes of `report`, for `report --help`.
std::string ReportExitCodesHelp();

}  // namespace streamcheck::cli
