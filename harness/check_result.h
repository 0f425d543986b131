// What a check returns: ok, or one sentence that says what was expected and
// what was seen. Every check is a pure function of what the client runner
// recorded, unit-tested against a deliberately broken input.
#pragma once

#include <string>
#include <utility>

namespace streamcheck::harness {

struct CheckResult {
  bool ok = true;
  std::string message;  // empty when ok
  static CheckResult Pass() { return {}; }
  static CheckResult Fail(std::string message) { return {false, std::move(message)}; }
};

}  // namespace streamcheck::harness
