#include "server/reference_server.h"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "server/connection.h"
#include "server/faults.h"

namespace streamcheck::server {
namespace {

// One event loop on its own thread. Its connections never leave it, so their
// code needs no locks; the io_context is told so (concurrency hint 1).
struct Worker {
  asio::io_context io{1};
  asio::executor_work_guard<asio::io_context::executor_type> work = asio::make_work_guard(io);
  std::thread thread;
};

// Open streams cost file descriptors (client, backend, a splice pipe): take
// all the process may have.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// server-slow-clients, server-health-during-stream: a fixed pool of
// connections, the rest left in the backlog.
bool PoolFault() {
  return FaultOn(Fault::kServerSlowClients) || FaultOn(Fault::kServerHealthDuringStream);
}

}  // namespace

class ReferenceServer::Impl {
 public:
  explicit Impl(const ServerOptions& options) { core_.options = options; }

  ~Impl() { Stop(); }

  Status Start() {
    auto backend = ParseBackendUrl(core_.options.backend_url);
    if (!backend) return Status::Failure(backend.error());
    core_.backend = *backend;
    if (FaultOn(Fault::kServerSlowClients)) core_.options.max_connections = 16;
    // Accept pauses once this many are open, after serving the one it holds: 8 in all.
    if (FaultOn(Fault::kServerHealthDuringStream)) core_.options.max_connections = 7;
    int threads = std::max(1, core_.options.io_threads);
#ifdef STREAMCHECK_SERVER_FAULTS
    threads = 1;  // the faults keep shared state without locks
#endif
    for (int i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());

    error_code ec;
    auto address = asio::ip::make_address(core_.options.host, ec);
    if (ec)
      return Status::Failure("cannot listen on \"" + core_.options.host + "\": not an IP address");
    acceptor_.emplace(workers_[0]->io);
    tcp::endpoint endpoint(address, static_cast<unsigned short>(core_.options.port));
    acceptor_->open(endpoint.protocol(), ec);
    if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec && core_.options.reuse_port) {
      acceptor_->set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true),
                            ec);
    }
    if (!ec) acceptor_->bind(endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Failure("cannot listen on " + core_.options.host + ":" +
                             std::to_string(core_.options.port) +
                             " (port in use? pass --port 0 for any free port)");
    }
    port_ = acceptor_->local_endpoint().port();

    core_.stop_listening = [this] {
      asio::post(workers_[0]->io, [this] {
        error_code ignored;
        acceptor_->close(ignored);
      });
    };
    if (PoolFault()) {
      // The fault: a full pool makes new connections wait in the backlog.
      core_.connection_closed = [this] {
        asio::post(workers_[0]->io, [this] {
          if (accept_paused_) {
            accept_paused_ = false;
            Accept();
          }
        });
      };
    }
    Accept();
    for (auto& w : workers_) {
      w->thread = std::thread([io = &w->io] { Run(*io); });
    }
    return Status::Ok();
  }

  void Stop() {
    std::call_once(stop_once_, [this] {
      if (acceptor_) {
        asio::post(workers_[0]->io, [this] {
          error_code ignored;
          acceptor_->close(ignored);
        });
      }
      for (auto& w : workers_) {
        w->work.reset();
        w->io.stop();
      }
      for (auto& w : workers_) {
        if (w->thread.joinable()) w->thread.join();
      }
      acceptor_.reset();
      core_.connection_closed = nullptr;  // its loop is about to go
      // Connections still open are destroyed with their io_context.
      workers_.clear();
      std::lock_guard lock(mutex_);
      stopped_ = true;
      cv_.notify_all();
    });
  }

  void Wait() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return stopped_; });
  }

  int port() const { return port_; }
  const ServerOptions& options() const { return core_.options; }

 private:
  static void Run(asio::io_context& io) {
    for (;;) {
      try {
        io.run();
        return;
      } catch (const std::exception& e) {
        // A handler threw (Beast reports a few limits by exception, and an
        // allocation may fail): that connection is lost, the loop goes on.
        std::fprintf(stderr, "reference server: %s\n", e.what());
      }
    }
  }

  void Accept() {
    Worker& target = *workers_[next_worker_];
    next_worker_ = (next_worker_ + 1) % workers_.size();
    acceptor_->async_accept(target.io, [this](const error_code& ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
      if (ec) {
        // Out of descriptors, most likely: wait a little rather than spin.
        retry_.emplace(workers_[0]->io);
        retry_->expires_after(std::chrono::milliseconds(50));
        retry_->async_wait([this](const error_code& wec) {
          if (!wec) Accept();
        });
        return;
      }
      if (core_.open_connections.load() >= core_.options.max_connections) {
        if (PoolFault()) {
          accept_paused_ = true;
          Serve(std::move(socket));
          return;
        }
        asio::post(socket.get_executor(), [s = std::make_shared<tcp::socket>(std::move(socket))] {
          RejectConnection(std::move(*s));
        });
      } else {
        Serve(std::move(socket));
      }
      Accept();
    });
  }

  void Serve(tcp::socket socket) {
    core_.open_connections.fetch_add(1);
    auto connection = std::make_shared<Connection>(std::move(socket), core_);
    asio::post(connection->executor(), [connection] { connection->Start(); });
  }

  ServerCore core_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::optional<tcp::acceptor> acceptor_;
  std::optional<asio::steady_timer> retry_;
  std::size_t next_worker_ = 0;
  bool accept_paused_ = false;
  int port_ = -1;
  std::once_flag stop_once_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

ReferenceServer::ReferenceServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ReferenceServer::~ReferenceServer() { Stop(); }

Result<std::unique_ptr<ReferenceServer>> ReferenceServer::Start(const ServerOptions& options) {
  if (options.backend_url.rfind("http://", 0) != 0) {
    return Error{"backend URL must start with http:// (got \"" + options.backend_url + "\")"};
  }
  signal(SIGPIPE, SIG_IGN);  // a client that goes away makes writes fail, not kill us
  RaiseFileLimit();
  auto impl = std::make_unique<Impl>(options);
  if (auto status = impl->Start(); !status) return Error{status.message()};
  return std::unique_ptr<ReferenceServer>(new ReferenceServer(std::move(impl)));
}

int ReferenceServer::port() const { return impl_->port(); }
std::string ListenUrl(const std::string& host, int port) {
  const bool v6 = host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string ReferenceServer::url() const { return ListenUrl(impl_->options().host, impl_->port()); }
void ReferenceServer::Stop() { impl_->Stop(); }
void ReferenceServer::Wait() { impl_->Wait(); }

}  // namespace streamcheck::server
