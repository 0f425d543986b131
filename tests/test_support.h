// Helpers shared by the project's tests: reading a file, bounded waits, and
// every event of a response the client kept whole.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness/http_client.h"

namespace streamcheck::testing_support {

// Bound for waiting on things that normally take milliseconds; generous for a
// loaded machine.
constexpr std::chrono::milliseconds kLongWait = std::chrono::seconds(60);

// A GoogleTest parameter name from any text: every character that is not a
// letter or digit becomes '_' ("chat.status" -> "chat_status").
inline std::string TestNameOf(std::string text) {
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return text;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// Polls `condition` every few milliseconds until it holds or `timeout` passes.
template <typename Condition>
bool PollUntil(Condition condition, std::chrono::milliseconds timeout = kLongWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Waits for child `pid` to exit: its wait status, or -1 when it did not
// within `bound` (it is then left running, for the caller to kill).
inline int WaitExit(pid_t pid, std::chrono::milliseconds bound) {
  int status = 0;
  bool exited = PollUntil([&] { return waitpid(pid, &status, WNOHANG) == pid; }, bound);
  return exited ? status : -1;
}

// Runs `work` on a thread of its own and waits for it, bounded: a hang is
// reported as false and leaves that thread blocked instead of the test binary.
inline bool FinishesWithin(std::function<void()> work, std::chrono::seconds bound) {
  auto done = std::make_shared<std::promise<void>>();
  auto finished = done->get_future();
  std::thread([work = std::move(work), done] {
    work();
    done->set_value();
  }).detach();
  return finished.wait_for(bound) == std::future_status::ready;
}

// Every event of `r`'s body, parsed again from the bytes the client kept (the
// client itself keeps only the first and last few): for tests of short
// streams, whose whole body fits in HttpRequest::keep_body_bytes.
inline std::vector<harness::ReceivedEvent> AllEvents(const harness::HttpResponse& r) {
  std::vector<harness::ReceivedEvent> events;
  if (r.body_truncated) return events;
  sse::Parser parser([&events](const sse::Event& e) { events.push_back({e, 0}); });
  parser.Feed(r.body);
  parser.Finish();
  return events;
}

}  // namespace streamcheck::testing_support
