// Incremental SHA-256 (OpenSSL EVP), so a 100 MiB body is hashed as it arrives.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace streamcheck {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::string_view data);
  void Update(const char* data, std::size_t n) { Update(std::string_view(data, n)); }
  // Lowercase hex digest; ends this hash (call Reset() to start another).
  std::string HexDigest();
  void Reset();

  static std::string Of(std::string_view data);

 private:
  std::unique_ptr<evp_md_ctx_st, void (*)(evp_md_ctx_st*)> ctx_;
};

}  // namespace streamcheck
