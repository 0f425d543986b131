// `streamcheck bench`: targets started with their mocks, the throughput
// rounds and stream levels run (bench/rounds.h), the console tables, the JSON
// and HTML reports, the gates; or the merge of shards' results.
#pragma once

#include <iosfwd>
#include <string>

#include "cli/cli.h"

namespace streamcheck::cli {

int CommandBench(const BenchArgs& args, std::ostream& out, std::ostream& err);

// "Exit codes:" of bench, for `bench --help`.
std::string BenchExitCodesHelp();

// Ten thousand streams need ten thousand descriptors: the soft open-file
// limit raised to the hard one (children inherit it).
void RaiseOpenFileLimit();

}  // namespace streamcheck::cli
