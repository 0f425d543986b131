#include "cli/console.h"

#include <cstdio>
#include <map>
#include <ostream>
#include <sstream>
#include <string>

#include "core/verdict.h"

namespace streamcheck::cli {
namespace {

using core::Outcome;
using Clock = std::chrono::steady_clock;

constexpr const char* kReset = "\x1b[0m";
constexpr std::string_view kLogTail = "last log lines";

std::string Label(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "PASS";
    case Outcome::kFail:
      return "FAIL";
    case Outcome::kWarn:
      return "WARN";
    case Outcome::kSkip:
      return "SKIP";
    case Outcome::kError:
      return "ERROR";
    case Outcome::kNotRun:
      return "NOTRUN";
  }
  return "?";
}

const char* Color(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPass:
      return "\x1b[32m";
    case Outcome::kFail:
      return "\x1b[1;31m";
    case Outcome::kWarn:
      return "\x1b[33m";
    case Outcome::kError:
      return "\x1b[1;35m";
    case Outcome::kSkip:
    case Outcome::kNotRun:
      return "\x1b[2m";
  }
  return "";
}

std::string Paint(const std::string& text, const char* color, bool on) {
  return on ? color + text + kReset : text;
}

std::string Pad(std::string s, std::size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string Figure(const nlohmann::json& metrics, const char* key, const char* format) {
  if (!metrics.contains(key) || !metrics[key].is_number()) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, metrics[key].get<double>());
  return buf;
}

// The figures worth a glance: bytes, throughput, memory, time to first event.
std::string KeyFigures(const core::CaseResult& r) {
  std::string out;
  auto add = [&](const std::string& s) {
    if (!s.empty()) out += (out.empty() ? "" : "  ") + s;
  };
  if (r.area == "direct") add(Figure(r.metrics, "bytes", "%.0f bytes"));
  add(Figure(r.metrics, "mib_per_s", "%.1f MiB/s"));
  add(Figure(r.metrics, "pss_growth_mib", "PSS +%.1f MiB"));
  add(Figure(r.metrics, "rss_growth_mib", "RSS +%.1f MiB"));
  if (r.area == "chat") add(Figure(r.metrics, "first_event_ms", "first event %.1f ms"));
  add(Figure(r.metrics, "backend_cancelled_after_ms", "backend cancelled after %.0f ms"));
  return out;
}

std::string Amount(std::uint64_t bytes) {
  char buf[32];
  if (bytes >= (1u << 20)) {
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1 << 20));
  } else if (bytes >= 1024) {
    std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024);
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(bytes));
  }
  return buf;
}

std::string Ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f ms", ms);
  return buf;
}

// One line per exchange, for -v.
std::string ExchangeLines(const core::CaseResult& r) {
  std::string out;
  for (const auto& x : r.evidence.exchanges) {
    std::string line = "       > " + x.request;
    if (!x.label.empty()) line += " (" + x.label + ")";
    line += " -> " + (x.status ? std::to_string(x.status) : std::string("no response"));
    if (!x.http_version.empty()) line += " HTTP/" + x.http_version;
    line += ", " + core::BodySizeText(x);
    if (x.events) line += ", " + std::to_string(x.events) + " events";
    if (x.first_byte_ms >= 0) line += ", first byte " + Ms(x.first_byte_ms);
    line += ", total " + Ms(x.total_ms);
    if (!x.error.empty()) line += "; transfer: " + x.error;
    out += ConsoleText(line) + "\n";
  }
  if (r.evidence.exchanges_dropped > 0) {
    out += "       > (" + std::to_string(r.evidence.exchanges_dropped) + " more not recorded)\n";
  }
  return out;
}

// The message lines under a case line, indented.
std::string Indented(const std::string& message) {
  std::string text = ConsoleText(message);
  std::string out = "       ";
  for (const char c : text) {
    out += c;
    if (c == '\n') out += "       ";
  }
  return out + "\n";
}

}  // namespace

std::string ConsoleText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto escape = [&](unsigned char b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", b);
    out += buf;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b == '\n') {
      out += '\n';
      ++i;
      continue;
    }
    if (b == '\t') {
      out += ' ';
      ++i;
      continue;
    }
    if (b < 0x20 || b == 0x7F) {
      escape(b);
      ++i;
      continue;
    }
    if (b < 0x80) {
      out += static_cast<char>(b);
      ++i;
      continue;
    }
    // A valid UTF-8 sequence stays as it is, unless it is a C1 control.
    std::size_t len = b >= 0xC2 && b <= 0xDF   ? 2
                      : b >= 0xE0 && b <= 0xEF ? 3
                      : b >= 0xF0 && b <= 0xF4 ? 4
                                               : 0;
    bool valid = len > 0 && i + len <= text.size();
    char32_t cp = b & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
    for (std::size_t k = 1; valid && k < len; ++k) {
      const auto c = static_cast<unsigned char>(text[i + k]);
      valid = (c & 0xC0) == 0x80;
      cp = (cp << 6) | (c & 0x3F);
    }
    const char32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    valid = valid && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF) &&
            !(cp >= 0x80 && cp <= 0x9F);
    if (valid) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      escape(b);
      ++i;
    }
  }
  return out;
}

void PrintCaseLine(std::ostream& out, const core::CaseResult& r, const ConsoleOptions& options) {
  char duration[32];
  std::snprintf(duration, sizeof duration, "%8.0f ms", r.duration_ms);
  out << Paint(Pad(Label(r.outcome), 7), Color(r.outcome), options.color)
      << (options.show_target ? Pad(ConsoleText(r.target), 15) : "")
      << Pad(ConsoleText(r.case_id), 32) << Pad(std::string(core::ToString(r.level)), 7)
      << duration;
  if (r.repeated()) out << "  " << core::RunsLine(r);
  std::string figures = KeyFigures(r);
  if (!figures.empty()) out << "  " << figures;
  out << "\n";
  if (r.outcome != Outcome::kPass && !r.message.empty()) out << Indented(r.message);
  if (options.gate != nullptr) {
    if (std::string note = core::GateNote(r, *options.gate); !note.empty()) {
      out << Paint("       note: " + ConsoleText(note), "\x1b[36m", options.color) << "\n";
    }
  }
  if (options.verbose) out << ExchangeLines(r);
}

void PrintMatrix(std::ostream& out, const core::RunReport& report, bool color) {
  std::map<std::pair<std::string, std::string>, const core::CaseResult*> cells;
  for (const auto& r : report.results) cells[{r.case_id, r.target}] = &r;
  out << "\n" << Pad("case", 32) << Pad("level", 8);
  for (const auto& t : report.targets) out << Pad(ConsoleText(t.name), 16);
  out << "\n";
  for (const auto& c : report.catalog) {
    bool any = false;
    for (const auto& t : report.targets) any = any || cells.count({c.id, t.name});
    if (!any) continue;
    out << Pad(c.id, 32) << Pad(std::string(core::ToString(c.level)), 8);
    for (const auto& t : report.targets) {
      auto it = cells.find({c.id, t.name});
      if (it == cells.end()) {
        out << Pad("-", 16);
      } else {
        const auto& r = *it->second;
        std::string cell = Label(r.outcome);
        if (r.repeated())
          cell += " " + std::to_string(r.PassedRuns()) + "/" + std::to_string(r.repeat);
        out << Paint(Pad(cell, 16), Color(r.outcome), color);
      }
    }
    out << "\n";
  }
}

void PrintSummary(std::ostream& out, const core::RunReport& report, bool color) {
  std::map<Outcome, int> counts;
  for (const auto& r : report.results) counts[r.outcome]++;
  out << "\n";
  for (const auto& t : report.targets) {
    if (!t.problem.empty()) {
      out << "target " << ConsoleText(t.name) << ": " << ConsoleText(t.problem) << "\n";
    }
  }
  if (report.interrupted) out << "interrupted: " << report.interrupted->reason << "\n";
  char line[240];
  std::snprintf(line, sizeof line,
                "%zu results on %zu target(s): %d pass, %d fail, %d warn (SHOULD misses), "
                "%d skip, %d error, %d not run in %.1f s",
                report.results.size(), report.targets.size(), counts[Outcome::kPass],
                counts[Outcome::kFail], counts[Outcome::kWarn], counts[Outcome::kSkip],
                counts[Outcome::kError], counts[Outcome::kNotRun], report.duration_ms / 1000);
  out << line << "\n";
  const int code = core::ExitCodeFor(report);
  out << Paint(core::VerdictLine(report), code == 0 ? "\x1b[1;32m" : "\x1b[1;31m", color) << "\n";
}

ConsoleObserver::ConsoleObserver(std::ostream& out, ConsoleOptions options)
    : out_(out), options_(options) {
  ticker_ = std::thread([this] { Tick(); });
}

ConsoleObserver::~ConsoleObserver() { Finish(); }

void ConsoleObserver::Finish() {
  {
    std::lock_guard lock(mutex_);
    if (done_) return;
    done_ = true;
    if (status_shown_) out_ << "\r\x1b[2K" << std::flush;
    status_shown_ = false;
  }
  wake_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void ConsoleObserver::Emit(const std::string& text) {
  if (status_shown_) out_ << "\r\x1b[2K";
  out_ << text;
  if (options_.live && !running_.empty()) {
    out_ << StatusLine(Clock::now());
    status_shown_ = true;
  } else {
    status_shown_ = false;
  }
  out_ << std::flush;
}

std::string ConsoleObserver::StatusLine(Clock::time_point now) const {
  std::string line;
  for (const auto& [key, run] : running_) {
    const double s = std::chrono::duration<double>(now - run.started).count();
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.0f s", s);
    std::string part =
        (options_.show_target ? ConsoleText(run.target) + " " : "") + run.case_id + " " + elapsed;
    if (run.progress != nullptr) {
      if (run.progress->runs > 1) {
        part += ", run " + std::to_string(run.progress->run.load()) + "/" +
                std::to_string(run.progress->runs);
      }
      const auto bytes = run.progress->bytes.load();
      const auto events = run.progress->events.load();
      if (bytes > 0) part += ", " + Amount(bytes);
      if (events > 0) part += ", " + std::to_string(events) + " events";
    }
    line += (line.empty() ? "running " : " | ") + part;
  }
  if (line.size() > std::size_t(std::max(20, options_.width - 1))) {
    line.resize(std::size_t(std::max(20, options_.width - 4)));
    line += "...";
  }
  return options_.color ? "\x1b[2m" + line + kReset : line;
}

void ConsoleObserver::Tick() {
  std::unique_lock lock(mutex_);
  const auto period = options_.live ? options_.redraw
                                    : std::min(options_.heartbeat, std::chrono::milliseconds(1000));
  while (!wake_.wait_for(lock, period, [this] { return done_; })) {
    lock.unlock();
    TickAt(Clock::now());
    lock.lock();
  }
}

void ConsoleObserver::TickAt(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (done_) return;
  if (options_.live) {
    if (running_.empty()) return;
    out_ << "\r\x1b[2K" << StatusLine(now) << std::flush;
    status_shown_ = true;
    return;
  }
  if (options_.quiet) return;
  for (auto& [key, run] : running_) {
    if (now - run.last_heartbeat < options_.heartbeat) continue;
    run.last_heartbeat = now;
    const double s = std::chrono::duration<double>(now - run.started).count();
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.0f s", s);
    std::string line = "  ... " + run.case_id + (options_.show_target ? " on " + run.target : "") +
                       " still running after " + elapsed;
    if (run.progress != nullptr) {
      line += ": " + Amount(run.progress->bytes.load());
      if (const auto events = run.progress->events.load(); events > 0) {
        line += ", " + std::to_string(events) + " events";
      }
      line += " so far (request " + std::to_string(run.progress->requests.load());
      if (run.progress->runs > 1) {
        line += ", run " + std::to_string(run.progress->run.load()) + " of " +
                std::to_string(run.progress->runs);
      }
      line += ")";
    }
    out_ << ConsoleText(line) << "\n" << std::flush;
  }
}

void ConsoleObserver::TargetStarting(const harness::TargetSpec& spec) {
  if (options_.quiet) return;
  std::lock_guard lock(mutex_);
  Emit("-- starting target " + ConsoleText(spec.name) + "\n");
}

void ConsoleObserver::TargetStopped(const core::TargetSummary& t) {
  std::ostringstream text;
  std::lock_guard lock(mutex_);
  auto it = not_reached_.find(t.name);
  if (it != not_reached_.end()) {
    text << "-- " << it->second.first << " more case(s) of " << ConsoleText(t.name)
         << " not run: " << it->second.second << "\n";
    not_reached_.erase(it);
  }
  const auto& s = t.stop;
  const std::string name = ConsoleText(t.name);
  if (s.needed_kill) text << "-- target " << name << " ignored SIGTERM and was killed\n";
  for (const auto& p : s.leftovers_killed) {
    text << "-- target " << name << " left " << ConsoleText(p)
         << " outside its process group (setsid or a double fork); killed it\n";
  }
  if (s.left_behind) {
    text << "-- target " << name << ": processes of it survived SIGKILL; check for them\n";
  }
  if (text.str().empty()) return;
  Emit(text.str());
}

void ConsoleObserver::CaseRunning(const std::string& target, const core::CaseInfo& info,
                                  const engine::CaseProgress& progress) {
  std::lock_guard lock(mutex_);
  const auto now = Clock::now();
  running_[{target, info.id}] = {target, info.id, now, now, &progress};
}

std::string ConsoleObserver::Dedup(const core::CaseResult& result) {
  const auto at = result.message.find(kLogTail);
  if (at == std::string::npos) return result.message;
  // The tail runs to the end, or to what Judge appended after an error.
  const auto end = result.message.find("; before that: ", at);
  const std::string tail = result.message.substr(at, end == std::string::npos ? end : end - at);
  if (tails_[result.target].insert(tail).second) return result.message;
  return result.message.substr(0, at) + "last log lines: as printed above for " + result.target +
         (end == std::string::npos ? "" : result.message.substr(end));
}

void ConsoleObserver::CaseFinished(const core::CaseResult& result) {
  std::lock_guard lock(mutex_);
  running_.erase({result.target, result.case_id});
  // Cases a stop kept from starting are counted, not listed one by one.
  constexpr std::string_view kNotReached = "not run: ";
  if (result.outcome == Outcome::kNotRun && result.message.rfind(kNotReached, 0) == 0) {
    auto& [count, reason] = not_reached_[result.target];
    ++count;
    reason = result.message.substr(kNotReached.size());
    return;
  }
  const bool noted = options_.gate != nullptr && !core::GateNote(result, *options_.gate).empty();
  if (options_.quiet && !noted &&
      (result.outcome == Outcome::kPass || result.outcome == Outcome::kSkip)) {
    return;
  }
  core::CaseResult shown = result;
  shown.message = Dedup(result);
  std::ostringstream line;
  PrintCaseLine(line, shown, options_);
  Emit(line.str());
}

}  // namespace streamcheck::cli
