#include "cli/run_command.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <ostream>
#include <thread>

#include "cli/console.h"
#include "core/verdict.h"
#include "engine/engine.h"
#include "engine/shard.h"
#include "harness/target_process.h"
#include "reports/baseline.h"
#include "reports/compare.h"
#include "reports/merge.h"
#include "reports/writers.h"
#include "suites/catalog.h"

namespace streamcheck::cli {
namespace {

namespace fs = std::filesystem;
using core::kExitHarness;
using core::kExitUsage;

// Turns SIGINT, SIGTERM and SIGHUP into a stop of the run. The signals are
// blocked before any thread starts, so every thread inherits the mask and
// only this watcher's sigtimedwait takes them. A second signal ends the
// process at once (targets killed; reports are then lost, as asked).
class SignalWatcher {
 public:
  explicit SignalWatcher(engine::StopSource& stop) : stop_(stop) {
    sigemptyset(&set_);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set_, sig);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this] { Watch(); });
  }
  ~SignalWatcher() {
    done_ = true;
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  void Watch() {
    timespec tick{0, 100'000'000};
    int seen = 0;
    while (!done_) {
      int sig = sigtimedwait(&set_, nullptr, &tick);
      if (sig <= 0) continue;
      int code = sig == SIGINT ? core::kExitSigint : sig == SIGTERM ? core::kExitSigterm : 129;
      if (++seen > 1) {
        harness::KillAllStartedGroups();
        _exit(code);
      }
      stop_.RequestStop(std::string("interrupted by SIG") + sigabbrev_np(sig), code);
    }
  }

  engine::StopSource& stop_;
  sigset_t set_;
  sigset_t old_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

struct ReportFile {
  std::string path;
  std::string (*render)(const core::RunReport&);
};

std::string RenderJson(const core::RunReport& r) { return reports::ToJsonString(r); }

std::vector<ReportFile> ReportFiles(const std::string& json, const std::string& junit,
                                    const std::string& md, const std::string& html,
                                    const std::string& dir) {
  std::vector<ReportFile> files;
  auto add = [&](const std::string& path, std::string (*render)(const core::RunReport&)) {
    if (!path.empty()) files.push_back({path, render});
  };
  add(json, RenderJson);
  add(junit, reports::ToJunitXml);
  add(md, reports::ToMarkdown);
  add(html, reports::ToHtml);
  if (!dir.empty()) {
    fs::path d = dir;
    add((d / "results.json").string(), RenderJson);
    add((d / "junit.xml").string(), reports::ToJunitXml);
    add((d / "summary.md").string(), reports::ToMarkdown);
    add((d / "report.html").string(), reports::ToHtml);
  }
  return files;
}

// Before anything runs: every report can be written where it was asked for.
// A --report-dir is created; a single file's folder must exist.
Status CheckWritable(const std::vector<ReportFile>& files, const std::string& dir) {
  std::error_code ec;
  if (!dir.empty()) {
    fs::create_directories(dir, ec);
    if (ec) return Status::Failure("cannot create --report-dir " + dir + ": " + ec.message());
  }
  for (const auto& f : files) {
    fs::path path = f.path;
    fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
    if (!fs::is_directory(folder, ec)) {
      return Status::Failure("cannot write " + f.path + ": the folder " + folder.string() +
                             " does not exist (create it, or use --report-dir, which is created)");
    }
    if (fs::is_directory(path, ec)) {
      return Status::Failure("cannot write " + f.path + ": it is a folder");
    }
    if (access(folder.c_str(), W_OK) != 0 ||
        (fs::exists(path, ec) && access(path.c_str(), W_OK) != 0)) {
      return Status::Failure("cannot write " + f.path + ": permission denied");
    }
  }
  return Status::Ok();
}

// The report as written into `file`: each target's log path relative to the
// file's folder when the log is inside it (an artifact folder keeps its links).
core::RunReport WithLogsRelativeTo(const core::RunReport& report, const std::string& file) {
  core::RunReport copy = report;
  std::error_code ec;
  const fs::path folder = fs::weakly_canonical(fs::absolute(file, ec).parent_path(), ec);
  for (auto& t : copy.targets) {
    // A relative path is already relative to a report (a re-rendered run).
    if (t.log_path.empty() || fs::path(t.log_path).is_relative()) continue;
    const fs::path log = fs::weakly_canonical(fs::absolute(t.log_path, ec), ec);
    const fs::path relative = log.lexically_relative(folder);
    if (!relative.empty() && *relative.begin() != "..") t.log_path = relative.string();
  }
  return copy;
}

bool WriteReports(const std::vector<ReportFile>& files, const std::string& command,
                  const core::RunReport& report, std::ostream& out, std::ostream& err) {
  bool ok = true;
  for (const auto& f : files) {
    if (auto s = reports::WriteFile(f.path, f.render(WithLogsRelativeTo(report, f.path))); !s) {
      err << "streamcheck " << command << ": " << s.message() << "\n";
      ok = false;
    } else {
      out << "wrote " << f.path << "\n";
    }
  }
  return ok;
}

}  // namespace

fs::path BinDir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

fs::path Root() {
  if (const char* env = std::getenv("STREAMCHECK_ROOT"); env && *env) return env;
  // Installed (cmake --install): the specs and servers are in share/streamcheck.
  std::error_code ec;
  const fs::path installed = BinDir().parent_path() / "share" / "streamcheck";
  if (fs::is_directory(installed / "targets", ec)) return installed;
  return STREAMCHECK_SOURCE_ROOT;
}

std::string ReportExitCodesHelp() {
  std::string text =
      "Exit codes when rendering: those of the saved run under its gate (as `run` would exit; "
      "--strict and --expect re-gate it); 2 for an unreadable file or a bad flag.\n"
      "Exit codes with --merge: those of the merged run, by the same rules (a selected case no "
      "shard reported is an error: 3); 2 when the merge is refused (a (target, case) or a shard "
      "twice, other catalogs, other splits or gates) and nothing is written.\n"
      "Exit codes with --compare or --compare-targets:\n"
      "    0  no regression (outcome or metric)\n"
      "    1  a regression: a case's outcome or a metric got worse\n"
      "    2  usage error: unreadable file, unknown target, bad threshold\n";
  return text;
}

std::string ExitCodesHelp() {
  std::string text = "Exit codes:\n";
  for (const auto& c : core::ExitCodes()) {
    char code[16];
    std::snprintf(code, sizeof code, "  %3d  ", c.code);
    text += code + std::string(c.meaning) + "\n";
  }
  return text;
}

namespace {

// Colour and the live status line: on a terminal, unless NO_COLOR is set.
ConsoleOptions ConsoleFor(const RunArgs& args, std::ostream& out, bool several,
                          const core::GateSettings* gate) {
  ConsoleOptions c;
  c.show_target = several;
  c.quiet = args.quiet;
  c.verbose = args.verbose;
  c.gate = gate;
  const bool terminal = &out == &std::cout && isatty(STDOUT_FILENO) == 1;
  const char* no_color = std::getenv("NO_COLOR");
  const bool color_ok = no_color == nullptr || *no_color == '\0';
  c.color = args.color == "always" || (args.color == "auto" && terminal && color_ok);
  c.live = args.color == "always" || (args.color == "auto" && terminal);
  winsize size{};
  if (terminal && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 20) {
    c.width = size.ws_col;
  }
  return c;
}

// Copies each target's log into `dir`/logs (when it was written elsewhere)
// and points the report at the copy.
void CopyLogsInto(core::RunReport& report, const fs::path& dir, std::ostream& err) {
  std::error_code ec;
  const fs::path logs = dir / "logs";
  for (auto& t : report.targets) {
    if (t.log_path.empty() || !fs::exists(t.log_path, ec)) continue;
    const fs::path to = logs / fs::path(t.log_path).filename();
    if (fs::weakly_canonical(t.log_path, ec) == fs::weakly_canonical(to, ec)) continue;
    fs::create_directories(logs, ec);
    fs::copy_file(t.log_path, to, fs::copy_options::overwrite_existing, ec);
    if (ec) {
      err << "streamcheck run: cannot copy " << t.log_path << " into " << logs.string() << ": "
          << ec.message() << "\n";
      continue;
    }
    t.log_path = to.string();
  }
}

Result<core::GateSettings> GateFrom(bool strict, const std::string& expect,
                                    const core::GateSettings& saved) {
  core::GateSettings gate = saved;
  if (!expect.empty()) {
    auto loaded = reports::LoadBaseline(expect, suites::CatalogInfo());
    if (!loaded) return Error{loaded.error()};
    gate.baseline = loaded->baseline;
    gate.expected = loaded->expected;
  }
  gate.strict = gate.strict || strict;
  return gate;
}

// What a shard runs, said before it starts (also under -q: an empty shard
// must say so).
std::string ShardLine(const engine::Shard& shard, const engine::ShardPlan& plan,
                      std::size_t total) {
  const std::string name =
      "shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count);
  if (plan.empty()) {
    return name + ": none of the run's " + std::to_string(total) +
           " (target, case) pairs falls to this shard (" + std::to_string(shard.count) +
           " shards); nothing will run, which is not a pass (exit 4)";
  }
  std::string cases;
  for (const auto& t : plan.targets) cases += std::to_string(t.cases.size()) + " ";
  char line[200];
  std::snprintf(line, sizeof line,
                ": %zu of the run's %zu (target, case) pairs, on %zu target(s), about %.0f s "
                "by typical durations",
                plan.pairs, total, plan.targets.size(), double(plan.estimated_ms) / 1000);
  return name + line;
}

}  // namespace

int CommandRun(const RunArgs& args, std::ostream& out, std::ostream& err) {
  fs::path root = Root();
  std::vector<harness::TargetSpec> targets;
  if (args.targets.empty()) {
    targets.push_back(harness::BuiltinCppSpec());
  } else {
    auto resolved = harness::ResolveTargets(args.targets, root);
    if (!resolved) {
      err << "streamcheck run: " << resolved.error() << "\n";
      return kExitUsage;
    }
    targets = *resolved;
  }
  for (const auto& target : targets) {
    if (auto env = harness::CheckEnvironment(target); !env) {
      err << "streamcheck run: " << env.message() << "; nothing was run\n";
      return kExitUsage;
    }
  }
  auto selected = engine::SelectCases(suites::Catalog(), args.cases);
  if (!selected) {
    err << "streamcheck run: " << selected.error() << "\n";
    return kExitUsage;
  }
  std::optional<engine::Shard> shard;
  std::optional<engine::ShardPlan> plan;
  if (!args.shard.empty()) {
    auto parsed = engine::ParseShard(args.shard);
    if (!parsed) {
      err << "streamcheck run: " << parsed.error() << "; nothing was run\n";
      return kExitUsage;
    }
    shard = *parsed;
    plan = engine::PlanShards(targets, *selected, shard->count).at(shard->index);
  }
  auto gate = GateFrom(args.strict, args.expect, {});
  if (!gate) {
    err << "streamcheck run: --expect: " << gate.error() << "; nothing was run\n";
    return kExitUsage;
  }
  auto files = ReportFiles(args.json_path, args.junit_path, args.markdown_path, args.html_path,
                           args.report_dir);
  if (auto writable = CheckWritable(files, args.report_dir); !writable) {
    err << "streamcheck run: " << writable.message() << "; nothing was run\n";
    return kExitUsage;
  }
  engine::RunOptions options;
  options.targets = targets;
  options.case_options.size_mb = args.size_mb;
  options.session.root = root;
  options.session.bin = BinDir();
  options.version = Version();
  options.jobs = args.jobs;
  options.repeat = args.repeat;
  std::error_code ec;
  if (args.log_dir.empty() && args.report_dir.empty()) {
    char tmpl[] = "/tmp/streamcheck-logs-XXXXXX";
    if (!mkdtemp(tmpl)) {
      err << "streamcheck run: cannot create a log folder in /tmp\n";
      return kExitHarness;
    }
    options.session.log_dir = tmpl;
  } else {
    // In the report folder by default, so a CI artifact of it carries the logs.
    options.session.log_dir = fs::absolute(
        args.log_dir.empty() ? fs::path(args.report_dir) / "logs" : fs::path(args.log_dir), ec);
    fs::create_directories(options.session.log_dir, ec);
    if (ec) {
      err << "streamcheck run: cannot create the log folder " << options.session.log_dir.string()
          << ": " << ec.message() << "\n";
      return kExitUsage;
    }
  }
  engine::StopSource stop;
  if (args.timeout_s > 0) {
    char reason[96];
    std::snprintf(reason, sizeof reason, "the run's --timeout of %g s was reached", args.timeout_s);
    stop.SetDeadline(engine::StopSource::Clock::now() +
                         std::chrono::milliseconds(static_cast<long long>(args.timeout_s * 1000)),
                     reason, core::kExitTimeout);
  }
  SignalWatcher signals(stop);
  bool several = (plan ? plan->targets.size() : targets.size()) > 1;
  const ConsoleOptions console_options = ConsoleFor(args, out, several, &*gate);
  ConsoleObserver console(out, console_options);
  options.stop = &stop;
  options.observer = &console;

  if (shard) out << ShardLine(*shard, *plan, targets.size() * selected->size()) << "\n";
  if (!args.quiet) {
    out << "streamcheck " << Version() << ": " << selected->size() << " cases on " << targets.size()
        << " target(s), body size " << args.size_mb << " MiB, logs in "
        << options.session.log_dir.string();
    if (args.repeat > 1) out << ", each case " << args.repeat << " times";
    if (gate->strict) out << ", --strict";
    if (!gate->baseline.empty()) {
      out << ", baseline " << gate->baseline << " (" << gate->expected.size() << " entries)";
    }
    out << "\n" << std::flush;
  }
  auto report = plan ? engine::RunPlan(suites::Catalog(), *plan, options)
                     : engine::Run(suites::Catalog(), *selected, options);
  if (shard) report.shard = engine::ShardInfoFor(*shard, targets, *selected);
  console.Finish();
  report.gate = *gate;
  if (!args.report_dir.empty()) CopyLogsInto(report, args.report_dir, err);
  if (several && !args.quiet) PrintMatrix(out, report, console_options.color);
  PrintSummary(out, report, console_options.color);
  if (!WriteReports(files, "run", report, out, err)) return kExitHarness;
  return core::ExitCodeFor(report);
}

namespace {

Result<double> ParseThreshold(const std::string& text) {
  if (text == "off" || text == "none") return -1.0;
  std::string number = text;
  const bool percent = !number.empty() && number.back() == '%';
  if (percent) number.pop_back();
  char* end = nullptr;
  const double value = std::strtod(number.c_str(), &end);
  if (number.empty() || end == nullptr || *end != '\0' || !(value >= 0) || value > 1e6) {
    return Error{"--metric-threshold " + text +
                 ": expected a percentage (20%), a fraction (0.2) "
                 "or off"};
  }
  return percent ? value / 100 : value;
}

int CommandCompare(const ReportArgs& args, std::ostream& out, std::ostream& err) {
  std::string before_file = args.results, after_file = args.results;
  if (!args.compare.empty()) {
    before_file = args.compare[0];
    after_file = args.compare[1];
  }
  if (before_file.empty()) {
    err << "streamcheck report: --compare-targets needs a results file (or --compare OLD NEW)\n";
    return kExitUsage;
  }
  if (args.compare.empty() && args.compare_targets.empty()) return kExitUsage;
  auto threshold = ParseThreshold(args.metric_threshold);
  if (!threshold) {
    err << "streamcheck report: " << threshold.error() << "\n";
    return kExitUsage;
  }
  auto before = reports::LoadJsonReport(before_file);
  if (!before) {
    err << "streamcheck report: " << before.error() << "\n";
    return kExitUsage;
  }
  auto after = reports::LoadJsonReport(after_file);
  if (!after) {
    err << "streamcheck report: " << after.error() << "\n";
    return kExitUsage;
  }
  reports::CompareOptions options;
  options.metric_threshold = *threshold;
  if (!args.compare_targets.empty()) {
    options.before_target = args.compare_targets[0];
    options.after_target = args.compare_targets[1];
  }
  auto comparison = reports::Compare(*before, *after, options);
  if (!comparison) {
    err << "streamcheck report: " << comparison.error() << "\n";
    return kExitUsage;
  }
  out << ConsoleText(reports::ComparisonText(*comparison, before_file, after_file));
  return comparison->regressions() > 0 ? 1 : 0;
}

// Gathers every input's log of each target into `dir`/logs/<target>.log (one
// log copied, several joined under a line naming their shard) and points the
// merged report at it.
void GatherLogs(reports::Merged& merged, const fs::path& dir, std::ostream& err) {
  std::error_code ec;
  const fs::path logs = dir / "logs";
  for (auto& t : merged.report.targets) {
    std::vector<const reports::MergedLog*> mine;
    for (const auto& l : merged.logs) {
      if (l.target == t.name && fs::exists(l.path, ec)) mine.push_back(&l);
    }
    if (mine.empty()) continue;
    fs::create_directories(logs, ec);
    const fs::path to = logs / (t.name + ".log");
    const fs::path tmp = logs / (t.name + ".log.merging");
    {
      std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
      for (const auto* l : mine) {
        if (mine.size() > 1)
          file << "==== " << t.name << " on " << l->from << " (" << l->path << ")\n";
        std::ifstream in(l->path, std::ios::binary);
        char buffer[64 * 1024];
        while (in.read(buffer, sizeof buffer) || in.gcount() > 0) file.write(buffer, in.gcount());
      }
      if (!file) {
        err << "streamcheck report: cannot write " << tmp.string() << "\n";
        continue;
      }
    }
    fs::rename(tmp, to, ec);
    if (ec) {
      err << "streamcheck report: cannot write " << to.string() << ": " << ec.message() << "\n";
      continue;
    }
    t.log_path = fs::absolute(to, ec).string();
  }
}

int CommandMerge(const ReportArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.results.empty()) {
    err << "streamcheck report: with --merge, name every file after it (got " << args.results
        << " before it)\n";
    return kExitUsage;
  }
  std::vector<reports::MergeInput> inputs;
  std::error_code ec;
  for (const auto& file : args.merge) {
    auto report = reports::LoadJsonReport(file);
    if (!report) {
      err << "streamcheck report: " << report.error() << "\n";
      return kExitUsage;
    }
    // A log named relative to its report is relative to that report's folder.
    const fs::path folder = fs::absolute(file, ec).parent_path();
    for (auto& t : report->targets) {
      if (!t.log_path.empty() && fs::path(t.log_path).is_relative()) {
        t.log_path = (folder / t.log_path).lexically_normal().string();
      }
    }
    inputs.push_back({file, std::move(*report)});
  }
  reports::MergeOptions options;
  for (const auto& c : suites::Catalog()) {
    if (c.judges_liveness) options.liveness.push_back(c.info.id);
  }
  auto merged = reports::Merge(inputs, options);
  if (!merged) {
    err << "streamcheck report --merge: " << merged.error() << "; nothing was written\n";
    return kExitUsage;
  }
  auto gate = GateFrom(args.strict, args.expect, merged->report.gate);
  if (!gate) {
    err << "streamcheck report: --expect: " << gate.error() << "\n";
    return kExitUsage;
  }
  merged->report.gate = *gate;
  auto files = ReportFiles(args.json_path, args.junit_path, args.markdown_path, args.html_path,
                           args.report_dir);
  if (files.empty()) {
    err << "streamcheck report: name an output: --json, --junit, --md, --html or --report-dir\n";
    return kExitUsage;
  }
  if (auto writable = CheckWritable(files, args.report_dir); !writable) {
    err << "streamcheck report: " << writable.message() << "; nothing was written\n";
    return kExitUsage;
  }
  if (!args.report_dir.empty()) GatherLogs(*merged, args.report_dir, err);

  const auto& report = merged->report;
  out << "merged " << inputs.size() << " results file(s)";
  if (report.shard) {
    out << ": shards of " << report.shard->count << ", holding " << report.shard->indexes.size()
        << " of them";
  }
  out << "\n";
  for (const auto& note : merged->notes) out << "note: " << ConsoleText(note) << "\n";
  if (!merged->missing_shards.empty()) {
    out << "missing shards:";
    for (int i : merged->missing_shards) out << " " << i << "/" << report.shard->count;
    out << "\n";
  }
  if (!merged->missing.empty()) {
    out << merged->missing.size()
        << " selected (target, case) pairs no shard reported (errors in the report):\n";
    for (const auto& m : merged->missing) out << "  " << ConsoleText(m) << "\n";
  }
  PrintSummary(out, report);
  if (!WriteReports(files, "report", report, out, err)) return kExitHarness;
  return core::ExitCodeFor(report);
}

}  // namespace

int CommandReport(const ReportArgs& args, std::ostream& out, std::ostream& err) {
  if (!args.merge.empty()) return CommandMerge(args, out, err);
  if (!args.compare.empty() || !args.compare_targets.empty()) {
    return CommandCompare(args, out, err);
  }
  if (args.results.empty()) {
    err << "streamcheck report: name a results file (from run --json), or --compare OLD NEW\n";
    return kExitUsage;
  }
  auto report = reports::LoadJsonReport(args.results);
  if (!report) {
    err << "streamcheck report: " << report.error() << "\n";
    return kExitUsage;
  }
  auto gate = GateFrom(args.strict, args.expect, report->gate);
  if (!gate) {
    err << "streamcheck report: --expect: " << gate.error() << "\n";
    return kExitUsage;
  }
  report->gate = *gate;
  auto files = ReportFiles(args.json_path, args.junit_path, args.markdown_path, args.html_path,
                           args.report_dir);
  if (files.empty()) {
    err << "streamcheck report: name an output: --json, --junit, --md, --html or --report-dir\n";
    return kExitUsage;
  }
  if (!WriteReports(files, "report", *report, out, err)) return kExitHarness;
  out << core::VerdictLine(*report) << "\n";
  return core::ExitCodeFor(*report);
}

}  // namespace streamcheck::cli
