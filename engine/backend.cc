#include "engine/backend.h"

namespace streamcheck::engine {

void CaseBackend::Failed(const std::string& what, const std::string& error) {
  if (!record_.error) {
    record_.error = "the mock backend at " + control_.url() + " failed to " + what + ": " + error;
  }
}

void CaseBackend::SetConfig(const mocks::MockConfig& config) {
  if (auto s = control_.SetConfig(config); !s) Failed("take the case's configuration", s.message());
}

void CaseBackend::SetStreamResponse(double size_mb) {
  auto config = control_.config();
  config.size_mb = size_mb;
  SetConfig(config);
}

void CaseBackend::OpenGate() {
  if (auto s = control_.OpenGate(); !s) Failed("open its gate", s.message());
}

bool CaseBackend::WaitGateReached(std::chrono::milliseconds timeout) {
  auto r = control_.WaitGateReached(timeout);
  if (!r) Failed("say whether its gate was reached", r.error());
  return r && *r;
}

bool CaseBackend::WaitCancelled(std::chrono::milliseconds timeout) {
  auto r = control_.WaitCancelled(timeout);
  if (!r) Failed("say whether a transfer was cancelled", r.error());
  return r && *r;
}

mocks::MockStats CaseBackend::stats() {
  auto r = control_.Stats();
  if (!r) {
    Failed("report its counters", r.error());
    return {};
  }
  return *r;
}

void CaseBackend::ResetStats() {
  if (auto s = control_.ResetStats(); !s) Failed("reset its counters", s.message());
}

void CaseBackend::Suspend() {
  if (auto s = control_.Suspend(); !s) Failed("stop answering", s.message());
}

Status CaseBackend::Resume() {
  auto s = control_.Resume();
  if (!s) Failed("come back", s.message());
  return s;
}

}  // namespace streamcheck::engine
