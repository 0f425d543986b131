#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "reports/writers.h"

namespace streamcheck::reports {

Status WriteFile(const std::string& path, std::string_view content) {
  const auto fail = [&](const std::string& why) {
    return Status::Failure("cannot write '" + path + "': " + why);
  };
  if (path.empty()) return Status::Failure("cannot write a report: empty file name");
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) return fail("cannot create folder '" + parent.string() + "': " + ec.message());
  }
  // stdio rather than iostreams: it reports why (errno) when it fails.
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return fail(std::strerror(errno));
  const std::size_t written = std::fwrite(content.data(), 1, content.size(), file);
  const int write_errno = errno;
  if (written != content.size()) {
    std::fclose(file);
    return fail(std::strerror(write_errno));
  }
  if (std::fclose(file) != 0) return fail(std::strerror(errno));
  return Status::Ok();
}

}  // namespace streamcheck::reports
