#include "mocks/mock_stats.h"

#include <type_traits>

namespace streamcheck::mocks {
namespace {

using nlohmann::json;

// The Result of reading `key` of object `j` into `out` when present.
template <typename T>
Status Read(const json& j, const char* key, T& out) {
  if (!j.contains(key)) return Status::Ok();
  const json& v = j.at(key);
  bool ok = false;
  if constexpr (std::is_same_v<T, bool>) {
    ok = v.is_boolean();
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() >= 0);
  } else if constexpr (std::is_same_v<T, double>) {
    ok = v.is_number();
  } else if constexpr (std::is_same_v<T, std::string>) {
    ok = v.is_string();
  }
  if (!ok) return Status::Failure(std::string("mock stats: \"") + key + "\" has the wrong type");
  out = v.get<T>();
  return Status::Ok();
}

// Decodes one UTF-8 sequence at `i` and moves past it; -1 (and `i` unmoved)
// when it is not well-formed: truncated, overlong, a surrogate, past U+10FFFF.
long DecodeUtf8(const std::string& s, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return ++i, c;
  int extra = (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 0;
  if (extra == 0 || i + extra >= s.size()) return -1;
  long cp = c & (0x3F >> extra);
  for (int k = 1; k <= extra; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  static constexpr long kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  i += extra + 1;
  return cp;
}

void AppendUtf8(std::string& out, long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string BytesToLatin1Utf8(const std::string& bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (char c : bytes) AppendUtf8(out, static_cast<unsigned char>(c));
  return out;
}

Result<std::string> Latin1Utf8ToBytes(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    long cp = DecodeUtf8(text, i);
    if (cp < 0 || cp > 0xFF) return Error{"mock stats: a request head holds a non-byte character"};
    out += static_cast<char>(cp);
  }
  return out;
}

std::string ValidUtf8(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t at = i;
    long cp = DecodeUtf8(text, i);
    if (cp < 0) {
      out += "\xEF\xBF\xBD";
      i = at + 1;
    } else {
      out.append(text, at, i - at);
    }
  }
  return out;
}

json ToJson(const MockStats& s) {
  json heads = json::array();
  for (const auto& head : s.request_heads) heads.push_back(BytesToLatin1Utf8(head));
  json timeline = json::array();
  for (const auto& p : s.last_byte_stream_timeline) timeline.push_back({p.t_ms, p.bytes});
  json by_case = json::object();
  for (const auto& [id, n] : s.requests_by_case) by_case[id] = n;
  json j = {{"requests", s.requests},
            {"chat_requests", s.chat_requests},
            {"requests_by_case", by_case},
            {"request_heads", heads},
            {"body_bytes_sent", s.body_bytes_sent},
            {"request_body_bytes", s.request_body_bytes},
            {"transfers_started", s.transfers_started},
            {"transfers_completed", s.transfers_completed},
            {"transfers_cancelled", s.transfers_cancelled},
            {"transfers_cut", s.transfers_cut},
            {"responses_gzipped", s.responses_gzipped},
            {"suspended_resets", s.suspended_resets},
            {"gate_reached", s.gate_reached},
            {"gate_opened_by", s.gate_opened_by},
            {"last_stream_sha256", s.last_stream_sha256},
            {"last_stream_bytes", s.last_stream_bytes},
            {"last_byte_stream_timeline", timeline},
            {"last_request", s.last_request}};
  if (s.last_cancellation) {
    j["last_cancellation"] = {{"path", s.last_cancellation->path},
                              {"after_ms", s.last_cancellation->after_ms},
                              {"bytes_sent", s.last_cancellation->bytes_sent}};
  }
  return j;
}

Result<MockStats> StatsFromJson(const json& j) {
  if (!j.is_object()) return Error{"mock stats must be a JSON object"};
  MockStats s;
  for (auto status :
       {Read(j, "requests", s.requests), Read(j, "chat_requests", s.chat_requests),
        Read(j, "body_bytes_sent", s.body_bytes_sent),
        Read(j, "request_body_bytes", s.request_body_bytes),
        Read(j, "transfers_started", s.transfers_started),
        Read(j, "transfers_completed", s.transfers_completed),
        Read(j, "transfers_cancelled", s.transfers_cancelled),
        Read(j, "transfers_cut", s.transfers_cut),
        Read(j, "responses_gzipped", s.responses_gzipped),
        Read(j, "suspended_resets", s.suspended_resets), Read(j, "gate_reached", s.gate_reached),
        Read(j, "gate_opened_by", s.gate_opened_by),
        Read(j, "last_stream_sha256", s.last_stream_sha256),
        Read(j, "last_stream_bytes", s.last_stream_bytes)}) {
    if (!status) return Error{status.message()};
  }
  if (j.contains("requests_by_case")) {
    const auto& by_case = j["requests_by_case"];
    if (!by_case.is_object()) return Error{"mock stats: requests_by_case must be an object"};
    for (const auto& [id, n] : by_case.items()) {
      if (!n.is_number_unsigned()) return Error{"mock stats: requests_by_case counts integers"};
      s.requests_by_case[id] = n.get<std::uint64_t>();
    }
  }
  if (j.contains("request_heads")) {
    if (!j["request_heads"].is_array()) return Error{"mock stats: request_heads must be an array"};
    for (const auto& head : j["request_heads"]) {
      if (!head.is_string()) return Error{"mock stats: request_heads holds strings"};
      auto bytes = Latin1Utf8ToBytes(head.get<std::string>());
      if (!bytes) return Error{bytes.error()};
      s.request_heads.push_back(*bytes);
    }
  }
  if (j.contains("last_byte_stream_timeline")) {
    const auto& timeline = j["last_byte_stream_timeline"];
    if (!timeline.is_array()) return Error{"mock stats: last_byte_stream_timeline is an array"};
    for (const auto& p : timeline) {
      if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number_unsigned()) {
        return Error{"mock stats: a timeline point is [t_ms, bytes]"};
      }
      s.last_byte_stream_timeline.push_back({p[0].get<double>(), p[1].get<std::uint64_t>()});
    }
  }
  if (j.contains("last_request")) s.last_request = j["last_request"];
  if (j.contains("last_cancellation")) {
    const auto& c = j["last_cancellation"];
    if (!c.is_object()) return Error{"mock stats: last_cancellation must be an object"};
    Cancellation cancellation;
    for (auto status :
         {Read(c, "path", cancellation.path), Read(c, "after_ms", cancellation.after_ms),
          Read(c, "bytes_sent", cancellation.bytes_sent)}) {
      if (!status) return Error{status.message()};
    }
    s.last_cancellation = cancellation;
  }
  return s;
}

}  // namespace streamcheck::mocks
