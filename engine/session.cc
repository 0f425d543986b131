#include "engine/session.h"

#include <algorithm>
#include <set>

#include "harness/ports.h"
#include "harness/readiness.h"

namespace streamcheck::engine {

TargetSession::TargetSession(harness::TargetSpec spec, SessionOptions options, StopSource& stop)
    : spec_(std::move(spec)), options_(std::move(options)), stop_(stop), expanded_(spec_) {}

TargetSession::~TargetSession() { Stop(); }

bool TargetSession::EnsureStarted() {
  if (!attempted_) {
    attempted_ = true;
    if (auto status = Start(); !status) problem_ = status.message();
  }
  return problem_.empty();
}

std::string TargetSession::Died() {
  if (process_ && !process_->IsAlive()) {
    return "the target " + process_->DescribeExit() + ", and no process it started is left" +
           "; last log lines:\n" + process_->LogTail(15);
  }
  return "";
}

void TargetSession::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (process_) {
    auto report = process_->Stop();
    stop_summary_.was_running = report.was_running;
    stop_summary_.needed_kill = report.needed_kill;
    stop_summary_.exit = report.exit;
    stop_summary_.leftovers_killed = report.leftovers_killed;
    stop_summary_.left_behind = report.left_behind;
  }
  if (backend_) backend_->Stop();
  mock_ = nullptr;
}

Result<harness::MemoryScope> TargetSession::Memory() {
  // Port forwarders own the socket but not the server's memory: measuring
  // them would pass any server.
  static const std::set<std::string> kForwarders = {"docker-proxy", "rootlessport", "slirp4netns",
                                                    "pasta",        "socat",        "kubectl"};
  harness::MemoryScope scope;
  if (!spec_.memory_cgroup.empty()) {
    scope.cgroup = spec_.memory_cgroup;
    scope.description = "the cgroup " + spec_.memory_cgroup;
    if (auto members = harness::CgroupProcesses(scope.cgroup); !members) {
      return Error{"the spec's memory cgroup cannot be read: " + members.error()};
    }
    return scope;
  }
  std::string what;
  if (process_) {
    scope.roots.push_back(process_->pid());
    what = "the process tree of pid " + std::to_string(process_->pid());
  }
  if (port_ > 0) {
    auto tree = process_ ? harness::ProcessTree(process_->pid()) : std::vector<pid_t>{};
    for (pid_t owner : harness::ListeningSocketOwners(port_)) {
      if (std::find(tree.begin(), tree.end(), owner) != tree.end()) continue;
      std::string name = harness::ProcessName(owner);
      if (kForwarders.count(name)) {
        return Error{"port " + std::to_string(port_) + " belongs to " + name + " (pid " +
                     std::to_string(owner) +
                     "), a forwarder, not the server: name the server's cgroup in the spec "
                     "(\"memory\": {\"cgroup\": PATH}) to measure it"};
      }
      scope.roots.push_back(owner);
      what += std::string(what.empty() ? "" : " and ") + "the owner of port " +
              std::to_string(port_) + " (pid " + std::to_string(owner) + ", " + name + ")";
    }
  }
  if (scope.roots.empty()) {
    return Error{
        "memory is measured only for a server whose processes the harness can see: "
        "this one was not started by the harness and no process of this user listens "
        "on port " +
        std::to_string(port_)};
  }
  scope.description = what;
  return scope;
}

core::TargetSummary TargetSession::Summary() const {
  core::TargetSummary s;
  s.name = spec_.name;
  s.url = base_url_;
  s.features = spec_.features;
  s.managed = spec_.managed();
  s.log_path = log_path_.string();
  s.spec = spec_.origin;
  s.problem = problem_;
  s.stop = stop_summary_;
  return s;
}

Status TargetSession::StartMock(harness::Placeholders& values) {
  if (spec_.external_backend) return Status::Ok();
  const std::string& running = spec_.mock_url.empty() ? options_.backend_url : spec_.mock_url;
  if (!running.empty()) {
    auto client = mocks::MockClient::Connect(running);
    if (!client) return Status::Failure(client.error());
    client_ = std::move(*client);
    mock_ = client_.get();
  } else {
    std::string host = "127.0.0.1";
    int port = 0;
    if (!spec_.mock_listen.empty()) {
      auto colon = spec_.mock_listen.rfind(':');
      host = spec_.mock_listen.substr(0, colon);
      if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
      port = std::stoi(spec_.mock_listen.substr(colon + 1));
    }
    auto backend = mocks::MockBackend::Start({}, host, port);
    if (!backend) {
      return Status::Failure("cannot start the mock backend" +
                             (spec_.mock_listen.empty() ? std::string()
                                                        : " on " + spec_.mock_listen +
                                                              " (the spec's mock.listen: is "
                                                              "another process using the port?)") +
                             ": " + backend.error());
    }
    backend_ = std::move(*backend);
    mock_ = &backend_->control();
  }
  with_defaults_ = std::make_unique<mocks::MockWithDefaults>(*mock_, spec_.mock_defaults);
  mock_ = with_defaults_.get();
  if (auto reset = mock_->Reset(); !reset) {
    return Status::Failure("the mock at " + mock_->url() + " did not take the spec's mock " +
                           "defaults: " + reset.message());
  }
  const std::string url = mock_->url();
  const std::string authority = url.substr(url.find("://") + 3);
  const auto colon = authority.rfind(':');
  values["backend_url"] = url;
  values["backend_host"] = authority.substr(0, colon);
  values["backend_port"] = authority.substr(colon + 1);
  return Status::Ok();
}

Status TargetSession::Start() {
  if (stop_.stop_requested()) return Status::Failure("the run stopped before the target started");
  harness::Placeholders values = {
      {"host", "127.0.0.1"}, {"root", options_.root.string()}, {"bin", options_.bin.string()}};
  if (auto mock = StartMock(values); !mock) return mock;
  if (spec_.managed()) {
    auto port = harness::PickFreePort();
    if (!port) return Status::Failure(port.error());
    values["port"] = std::to_string(*port);
  } else {
    values["port"] = "0";
  }
  auto expanded = harness::ExpandSpec(spec_, values, options_.root);
  if (!expanded) return Status::Failure(expanded.error());
  expanded_ = *expanded;
  auto ready_timeout = std::chrono::seconds(spec_.ready_timeout_s);
  if (!spec_.managed()) {
    base_url_ = expanded->url;
    port_ = harness::PortOf(base_url_);
    if (!options_.wait_ready) return Status::Ok();
    harness::ReadinessProbe probe;
    probe.url = harness::JoinUrl(base_url_, spec_.ready_path);
    probe.timeout = ready_timeout;
    probe.should_stop = stop_.Predicate();
    probe.request = RequestDefaults();
    auto ready = harness::WaitReady(probe);
    if (!ready) return Status::Failure(ready.message() + "; is it running?");
    return Status::Ok();
  }
  base_url_ = "http://127.0.0.1:" + values["port"];
  port_ = std::stoi(values["port"]);
  log_path_ = options_.log_dir / (spec_.name + ".log");
  harness::LaunchOptions launch;
  launch.argv = expanded->command;
  launch.env = expanded->env;
  launch.working_dir = options_.root;
  launch.log_path = log_path_;
  auto process = harness::TargetProcess::Start(launch);
  if (!process) return Status::Failure(process.error());
  process_ = std::move(*process);
  return process_->WaitReady(base_url_, spec_.ready_path, ready_timeout, stop_.Predicate(),
                             RequestDefaults());
}

harness::HttpRequest TargetSession::RequestDefaults() const {
  harness::HttpRequest r;
  r.headers = expanded_.headers;
  r.http_version = expanded_.http_version;
  r.accept_encoding = expanded_.accept_encoding;
  r.ca_file = expanded_.ca_file;
  r.insecure = expanded_.insecure;
  return r;
}

}  // namespace streamcheck::engine
