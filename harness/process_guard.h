// Nothing a run starts may outlive it. Three mechanisms, each for a way out:
//
// - Every spawned target carries STREAMCHECK_TARGET_TAG=<run token>/<n> in its
//   environment, and its descendants inherit it: TargetProcess::Stop() finds
//   and kills tagged processes that left the target's process group (a server
//   that calls setsid(), a daemonising wrapper), and says so in its report.
// - This process is a child subreaper (PR_SET_CHILD_SUBREAPER), so such
//   orphans become its children instead of init's: they can be reaped.
// - A guardian, forked once per process (as a grandchild, so that it is no
//   descendant of it), waits on a socket whose other end only this process
//   holds. When this process dies, even by SIGKILL, the
//   guardian wakes, kills every registered process group and every tagged
//   process, and exits. (Each target leader also has PR_SET_PDEATHSIG.)
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace streamcheck::harness {

inline constexpr char kTargetTagVariable[] = "STREAMCHECK_TARGET_TAG";

// "<pid>-<random>": unique to this process (a fork gets its own); the prefix
// of every tag it gives.
std::string RunToken();
// A new tag for one target: "<run token>/<n>".
std::string NewTargetTag();

// Makes this process a child subreaper and starts the guardian; the first
// call in a process does it, later ones do nothing. Thread-safe.
void EnsureGuardian();
// Tells the guardian about a process group to kill if this process dies, and
// that it is gone again. Async-signal-safe; no-ops before EnsureGuardian().
void GuardGroup(pid_t pgid);
void UnguardGroup(pid_t pgid);

// Live processes (zombies excluded, this process excluded) whose environment
// holds `variable`=`value` exactly.
std::vector<pid_t> ProcessesTagged(const std::string& variable, const std::string& value);

// SIGKILLs every process tagged `tag`, reaps those that are this process's
// children, and describes each ("pid 1234 (python3)"). Bounded: gives up
// after two seconds on processes that do not die.
std::vector<std::string> KillTagged(const std::string& tag);

}  // namespace streamcheck::harness
