#include "mocks/gzip_stream.h"

#include <zlib.h>

namespace streamcheck::mocks {
namespace {

constexpr int kGzipWindow = 15 + 16;  // 15-bit window, gzip header and trailer

}  // namespace

GzipStream::GzipStream() : z_(std::make_unique<z_stream_s>()) {
  // Fastest level: the bodies are random bytes or short JSON, and CPU is shared
  // with the server under test.
  deflateInit2(z_.get(), Z_BEST_SPEED, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY);
}

GzipStream::~GzipStream() { deflateEnd(z_.get()); }

std::string GzipStream::Deflate(std::string_view data, int flush) {
  std::string out;
  z_->next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z_->avail_in = static_cast<uInt>(data.size());
  char buffer[16 * 1024];
  do {
    z_->next_out = reinterpret_cast<Bytef*>(buffer);
    z_->avail_out = sizeof buffer;
    deflate(z_.get(), flush);
    out.append(buffer, sizeof buffer - z_->avail_out);
  } while (z_->avail_out == 0);
  return out;
}

std::string GzipStream::Flush(std::string_view data) { return Deflate(data, Z_SYNC_FLUSH); }
std::string GzipStream::Finish() { return Deflate({}, Z_FINISH); }

std::string GzipStream::Compress(std::string_view data) {
  GzipStream gzip;
  std::string out = gzip.Deflate(data, Z_NO_FLUSH);
  return out + gzip.Finish();
}

std::string Gunzip(std::string_view data, bool* finished) {
  z_stream z{};
  inflateInit2(&z, kGzipWindow);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buffer[16 * 1024];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof buffer;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;  // a flushed but unfinished stream
  }
  inflateEnd(&z);
  if (finished) *finished = rc == Z_STREAM_END;
  return out;
}

}  // namespace streamcheck::mocks
