// What a conformance case needs of a mock backend, whether it runs in this
// process (MockBackend::control()) or is a `streamcheck mock` started
// elsewhere and driven over its HTTP control API (MockClient). A case gets a
// MockControl&, points the server under test at url(), and never needs to know
// which kind it has.
//
// Every call is bounded: waits by their timeout, calls over HTTP by a
// connection and transfer timeout. Over HTTP any call can fail (the mock is
// gone); in-process only SetConfig (a config out of range) and Resume (the
// port was taken meanwhile) can.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"
#include "mocks/mock_config.h"
#include "mocks/mock_stats.h"

namespace streamcheck::mocks {

class MockControl {
 public:
  virtual ~MockControl() = default;

  // "http://HOST:PORT", the base URL the server under test calls.
  virtual std::string url() const = 0;

  // Replaces the whole configuration (ValidateConfig's rules) and re-arms the
  // gate: gate_reached and gate_opened_by start again, and streams held at the
  // old gate are let go.
  virtual Status SetConfig(const MockConfig& config) = 0;
  // The configuration as last set through this object (or found at connect).
  virtual MockConfig config() const = 0;

  // The default configuration, fresh statistics, the gate re-armed, and the
  // backend reachable again: every case starts here. Transfers still running
  // from before no longer count in the statistics.
  virtual Status Reset() = 0;

  // Opens the gate for every stream held at it, and those to come.
  virtual Status OpenGate() = 0;
  // True once a stream reached the gate; false when `timeout` passed first.
  virtual Result<bool> WaitGateReached(std::chrono::milliseconds timeout) = 0;
  // True once a transfer was counted cancelled; false when `timeout` passed first.
  virtual Result<bool> WaitCancelled(std::chrono::milliseconds timeout) = 0;
  // True once request body bytes arrived (MockStats::request_body_bytes > 0),
  // while the request may still be under way; false when `timeout` passed first.
  virtual Result<bool> WaitUploadStarted(std::chrono::milliseconds timeout) = 0;

  virtual Result<MockStats> Stats() = 0;
  // Fresh counters; the gate's state (reached, opened by) stays.
  virtual Status ResetStats() = 0;

  // The backend unreachable until Resume(): in-process the listener closes
  // (connections are refused); over HTTP the control API stays up and every
  // other request is answered with a TCP reset (RST) as soon as its head is
  // read. Either way open transfers are cut.
  virtual Status Suspend() = 0;
  virtual Status Resume() = 0;
};

}  // namespace streamcheck::mocks
