// gzip for the mock's `compress: "gzip"` (zlib). A stream is flushed on every
// write (Z_SYNC_FLUSH): each piece the mock sends decodes on arrival, so a
// gzipped token stream still streams and the gate still proves it.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct z_stream_s;

namespace streamcheck::mocks {

class GzipStream {
 public:
  GzipStream();
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // The compressed bytes for `data`, flushed so the receiver can decode all of it now.
  std::string Flush(std::string_view data);
  // The last bytes of the stream (the gzip trailer); nothing may follow.
  std::string Finish();

  // One whole body at once.
  static std::string Compress(std::string_view data);

 private:
  std::string Deflate(std::string_view data, int flush);
  std::unique_ptr<z_stream_s> z_;
};

// The inverse, for tests: what decodes of `data` (a flushed prefix of a stream
// decodes up to its last flush); `finished` says whether the stream's end was seen.
std::string Gunzip(std::string_view data, bool* finished = nullptr);

}  // namespace streamcheck::mocks
