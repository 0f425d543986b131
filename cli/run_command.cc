#include "cli/run_command.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <ostream>
#include <thread>

#include "cli/console.h"
#include "core/verdict.h"
#include "engine/engine.h"
#include "harness/target_process.h"
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

bool WriteReports(const std::vector<ReportFile>& files, const std::string& command,
                  const core::RunReport& report, std::ostream& out, std::ostream& err) {
  bool ok = true;
  for (const auto& f : files) {
    if (auto s = reports::WriteFile(f.path, f.render(report)); !s) {
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
  return STREAMCHECK_SOURCE_ROOT;
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
  auto selected = engine::SelectCases(suites::Catalog(), args.cases);
  if (!selected) {
    err << "streamcheck run: " << selected.error() << "\n";
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
  std::error_code ec;
  if (args.log_dir.empty()) {
    char tmpl[] = "/tmp/streamcheck-logs-XXXXXX";
    if (!mkdtemp(tmpl)) {
      err << "streamcheck run: cannot create a log folder in /tmp\n";
      return kExitHarness;
    }
    options.session.log_dir = tmpl;
  } else {
    options.session.log_dir = args.log_dir;
    fs::create_directories(options.session.log_dir, ec);
    if (ec) {
      err << "streamcheck run: cannot create --log-dir " << args.log_dir << ": " << ec.message()
          << "\n";
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
  bool several = targets.size() > 1;
  ConsoleObserver console(out, several);
  options.stop = &stop;
  options.observer = &console;

  out << "streamcheck " << Version() << ": " << selected->size() << " cases on " << targets.size()
      << " target(s), body size " << args.size_mb << " MiB, logs in "
      << options.session.log_dir.string() << "\n";
  auto report = engine::Run(suites::Catalog(), *selected, options);
  if (several) PrintMatrix(out, report);
  PrintSummary(out, report);
  if (!WriteReports(files, "run", report, out, err)) return kExitHarness;
  return core::ExitCodeFor(report);
}

int CommandReport(const ReportArgs& args, std::ostream& out, std::ostream& err) {
  auto report = reports::LoadJsonReport(args.results);
  if (!report) {
    err << "streamcheck report: " << report.error() << "\n";
    return kExitUsage;
  }
  auto files =
      ReportFiles("", args.junit_path, args.markdown_path, args.html_path, args.report_dir);
  if (files.empty()) {
    err << "streamcheck report: name an output: --junit, --md, --html or --report-dir\n";
    return kExitUsage;
  }
  if (!WriteReports(files, "report", *report, out, err)) return kExitHarness;
  return core::ExitCodeFor(*report);
}

}  // namespace streamcheck::cli
