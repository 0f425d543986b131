// One request to the backend, driven by the caller: Open() runs it until the
// response headers are in, then Pump() hands body bytes to a sink as they
// arrive. The sink writes straight to the client socket and may block; while
// it does, curl reads nothing more from the backend, so a slow client slows the
// backend through TCP flow control and the server holds no body in memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace streamcheck::server {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct BackendRequest {
  std::string method = "GET";
  std::string url;
  HeaderList headers;
  std::string body;
  // Stream the request body through Send()/FinishUpload() instead of `body`;
  // `upload_size` when the client gave a Content-Length (else chunked upload).
  bool streamed_upload = false;
  std::optional<std::uint64_t> upload_size;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds headers_timeout{30'000};  // until the response headers are complete
  std::chrono::milliseconds idle_timeout{30'000};     // longest silence mid-body
};

class BackendStream {
 public:
  enum class OpenError { kNone, kConnect, kTimeout, kOther };
  enum class PumpResult { kData, kDone, kFailed, kClientGone };
  // Receives body bytes; returns false when the client has gone away.
  using Sink = std::function<bool(const char* data, std::size_t n)>;

  explicit BackendStream(BackendRequest request);
  ~BackendStream();
  BackendStream(const BackendStream&) = delete;
  BackendStream& operator=(const BackendStream&) = delete;

  // With streamed_upload: hands `n` bytes of the request body to the backend,
  // returning once curl has taken them all (false when the backend ended the
  // exchange first or stalled). Then FinishUpload() before Open().
  bool Send(const char* data, std::size_t n);
  void FinishUpload();

  // Runs the request until the response headers are complete.
  OpenError Open();
  long status() const { return status_; }
  const HeaderList& headers() const { return headers_; }
  std::string Header(std::string_view name) const;  // case-insensitive, "" when absent

  // Delivers body bytes to `sink` until at least one write happened or the
  // transfer ended. kFailed: the backend broke off, timed out or went silent
  // (see error()); kDone: the body ended cleanly.
  PumpResult Pump(const Sink& sink);

  // Reads the rest of the body into a string (for small bodies: errors, JSON).
  // Bounded by `limit` bytes; false when the transfer failed.
  bool ReadAll(std::string& out, std::size_t limit = 16 * 1024 * 1024);

  const std::string& error() const { return error_; }

 private:
  struct Curl;
  static std::size_t OnHeader(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t OnBody(char* data, std::size_t size, std::size_t n, void* self);
  static std::size_t OnUploadRead(char* out, std::size_t size, std::size_t n, void* self);
  // Lets curl do what it can without waiting; false once the transfer has ended.
  bool Perform();
  // curl's words for `code`, with the detail of its error buffer.
  std::string CurlError(int code) const;
  void ResumeUpload();
  // Waits up to `wait` for the backend socket (or curl's own timers).
  void Poll(std::chrono::milliseconds wait);

  BackendRequest request_;
  std::unique_ptr<Curl> curl_;
  long status_ = 0;
  HeaderList headers_;
  bool headers_done_ = false;
  bool paused_ = false;
  bool finished_ = false;
  int result_ = 0;  // CURLcode once finished_
  const Sink* sink_ = nullptr;
  std::size_t delivered_ = 0;
  bool client_gone_ = false;
  std::string error_;
  // Streamed upload: the bytes curl has not taken yet, and whether more come.
  const char* upload_data_ = nullptr;
  std::size_t upload_left_ = 0;
  bool upload_done_ = false;
  bool upload_paused_ = false;
};

}  // namespace streamcheck::server
