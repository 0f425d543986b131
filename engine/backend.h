// A case's view of its mock backend: the calls case bodies make, over any
// mocks::MockControl (in-process, or a `streamcheck mock` driven over HTTP).
// A call that fails (the remote mock is gone) records an error in the case
// once and answers a neutral value, so a body reads straight through and the
// case ends as `error`, never as a pass built on a mock that did not answer.
#pragma once

#include <chrono>
#include <string>

#include "core/verdict.h"
#include "mocks/mock_control.h"

namespace streamcheck::engine {

class CaseBackend {
 public:
  CaseBackend(mocks::MockControl& control, core::CaseRecord& record)
      : control_(control), record_(record) {}

  std::string url() const { return control_.url(); }
  mocks::MockConfig config() const { return control_.config(); }
  void SetConfig(const mocks::MockConfig& config);
  // The seed plan's `set_stream_response(size_mb=100)`.
  void SetStreamResponse(double size_mb);
  void OpenGate();
  bool WaitGateReached(std::chrono::milliseconds timeout);
  bool WaitCancelled(std::chrono::milliseconds timeout);
  mocks::MockStats stats();
  void ResetStats();
  // The backend unreachable, and back; Resume's failure is the case's error.
  void Suspend();
  Status Resume();

 private:
  void Failed(const std::string& what, const std::string& error);

  mocks::MockControl& control_;
  core::CaseRecord& record_;
};

}  // namespace streamcheck::engine
