// Waiting for a server to become ready: GET a URL until it answers 200, with
// every wait bounded. Used for spawned targets (which may also exit while we
// wait) and for servers that are already running.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/result.h"
#include "harness/http_client.h"

namespace streamcheck::harness {

struct ReadinessProbe {
  std::string url;
  std::chrono::milliseconds timeout{30'000};
  // Every attempt starts from this request (headers, TLS, HTTP version); its
  // URL, method and timeouts are the probe's.
  HttpRequest request;
  std::function<bool()> should_stop;  // an interrupt: give up at once
  // "" while the server's process lives, else why it is gone (spawned targets).
  std::function<std::string()> exited;
  // Waits up to the given time between attempts; returns early when the
  // process exits (spawned targets). Default: a plain bounded wait.
  std::function<void(std::chrono::milliseconds)> wait_a_little;
};

// Polls until 200. The first attempts are short (a server that accepts
// connections before it serves must not hold the poll); an attempt that times
// out doubles the next one's bound, up to what is left, so a server slow to
// answer its first request (a sanitizer build, a cold interpreter) still gets
// the whole timeout. Fails with what the last attempt saw.
Status WaitReady(const ReadinessProbe& probe);

}  // namespace streamcheck::harness
