#include "server/proxy_rules.h"

#include "common/text.h"

namespace streamcheck::server {

std::set<std::string> HopByHopHeaders(const std::string& connection_value) {
  std::set<std::string> names = {"connection",          "keep-alive", "proxy-authenticate",
                                 "proxy-authorization", "te",         "trailer",
                                 "transfer-encoding",   "upgrade",    "proxy-connection"};
  std::size_t start = 0;
  while (start <= connection_value.size()) {
    auto comma = connection_value.find(',', start);
    if (comma == std::string::npos) comma = connection_value.size();
    std::string token = TrimHeaderValue(connection_value.substr(start, comma - start));
    if (!token.empty()) names.insert(ToLower(token));
    start = comma + 1;
  }
  return names;
}

std::optional<std::string> ConfinedPath(const std::string& raw_path) {
  std::string decoded = httplib::detail::decode_url(raw_path, false);
  if (decoded.find('\\') != std::string::npos) return std::nullopt;
  std::size_t start = 0;
  while (start <= decoded.size()) {
    auto slash = decoded.find('/', start);
    if (slash == std::string::npos) slash = decoded.size();
    std::string segment = decoded.substr(start, slash - start);
    bool last = slash == decoded.size();
    if (segment == "." || segment == "..") return std::nullopt;
    if (segment.empty() && !last) return std::nullopt;  // "//" or a leading "/"
    start = slash + 1;
  }
  return raw_path;
}

std::string FrameSseEvent(const sse::Event& event, bool space_after_colon) {
  const char* data_field = space_after_colon ? "data: " : "data:";
  std::string out;
  if (event.type != "message") out += "event: " + event.type + "\n";
  std::size_t start = 0;
  while (true) {
    auto lf = event.data.find('\n', start);
    out += data_field + event.data.substr(start, lf - start) + "\n";
    if (lf == std::string::npos) break;
    start = lf + 1;
  }
  return out + "\n";
}

bool StreamUpload(const httplib::ContentReader& reader, BackendStream& backend) {
  constexpr std::size_t kUploadPiece = 256 * 1024;
  std::string piece;
  bool ok = true;
  reader([&](const char* data, std::size_t n) {
    piece.append(data, n);
    if (piece.size() >= kUploadPiece) {
      ok = backend.Send(piece.data(), piece.size());
      piece.clear();
    }
    return ok;
  });
  if (ok && !piece.empty()) ok = backend.Send(piece.data(), piece.size());
  backend.FinishUpload();
  return ok;
}

}  // namespace streamcheck::server
