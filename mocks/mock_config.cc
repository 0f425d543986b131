#include "mocks/mock_config.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>
#include <type_traits>

#include "common/json_bounded.h"

namespace streamcheck::mocks {
namespace {

using nlohmann::json;

constexpr std::pair<SseVariant, std::string_view> kVariantNames[] = {
    {SseVariant::kStandard, "standard"},
    {SseVariant::kCrlf, "crlf"},
    {SseVariant::kCr, "cr"},
    {SseVariant::kBom, "bom"},
    {SseVariant::kComments, "comments"},
    {SseVariant::kMultiTokenChunks, "multi_token_chunks"},
    {SseVariant::kBytePerWrite, "byte_per_write"},
    {SseVariant::kNoDone, "no_done"},
};

constexpr std::pair<Compression, std::string_view> kCompressionNames[] = {
    {Compression::kNone, "none"},
    {Compression::kGzip, "gzip"},
};

constexpr std::pair<BodyFraming, std::string_view> kFramingNames[] = {
    {BodyFraming::kAuto, "auto"},
    {BodyFraming::kLength, "length"},
    {BodyFraming::kChunked, "chunked"},
};

// The name of `value` in `names`; the first name (the default) when absent.
template <typename Enum, std::size_t N>
std::string_view NameOf(const std::pair<Enum, std::string_view> (&names)[N], Enum value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return names[0].second;
}

template <typename Enum, std::size_t N>
bool EnumFromName(const std::pair<Enum, std::string_view> (&names)[N], std::string_view name,
                  Enum& out) {
  for (const auto& [value, value_name] : names) {
    if (value_name == name) return out = value, true;
  }
  return false;
}

// How one key reaches its MockConfig member, once its JSON value passed the
// table's type and range checks (so the conversion cannot overflow).
struct Field {
  std::function<void(MockConfig&, const json&)> set;
  std::function<json(const MockConfig&)> get;
};

template <auto Member>
Field MemberField() {
  return {[](MockConfig& c, const json& v) {
            using T = std::remove_reference_t<decltype(c.*Member)>;
            if constexpr (std::is_same_v<T, bool>) {
              c.*Member = v.get<bool>();
            } else if constexpr (std::is_floating_point_v<T>) {
              c.*Member = v.get<double>();
            } else if constexpr (std::is_same_v<T, std::uint64_t>) {
              c.*Member = v.get<std::uint64_t>();
            } else {
              c.*Member = static_cast<T>(v.get<long long>());
            }
          },
          [](const MockConfig& c) { return json(c.*Member); }};
}

const std::map<std::string_view, Field>& Fields() {
  static const std::map<std::string_view, Field> fields = {
      {"seed", MemberField<&MockConfig::seed>()},
      {"size_mb", MemberField<&MockConfig::size_mb>()},
      {"chunk_size", MemberField<&MockConfig::chunk_size>()},
      {"rate_mib_s", MemberField<&MockConfig::rate_mib_s>()},
      {"framing",
       {[](MockConfig& c, const json& v) {
          EnumFromName(kFramingNames, v.get<std::string>(), c.framing);
        },
        [](const MockConfig& c) { return json(ToString(c.framing)); }}},
      {"token_count", MemberField<&MockConfig::token_count>()},
      {"token_delay_ms", MemberField<&MockConfig::token_delay_ms>()},
      {"sse_variant",
       {[](MockConfig& c, const json& v) {
          EnumFromName(kVariantNames, v.get<std::string>(), c.sse_variant);
        },
        [](const MockConfig& c) { return json(ToString(c.sse_variant)); }}},
      {"stamp_tokens", MemberField<&MockConfig::stamp_tokens>()},
      {"compress",
       {[](MockConfig& c, const json& v) {
          EnumFromName(kCompressionNames, v.get<std::string>(), c.compress);
        },
        [](const MockConfig& c) { return json(ToString(c.compress)); }}},
      {"gate_after_tokens", MemberField<&MockConfig::gate_after_tokens>()},
      {"gate_after_bytes", MemberField<&MockConfig::gate_after_bytes>()},
      {"gate_timeout_ms", MemberField<&MockConfig::gate_timeout_ms>()},
      {"fail_after_tokens", MemberField<&MockConfig::fail_after_tokens>()},
      {"error_event_after_tokens", MemberField<&MockConfig::error_event_after_tokens>()},
      {"truncate_after_bytes", MemberField<&MockConfig::truncate_after_bytes>()},
      {"reset_after_bytes", MemberField<&MockConfig::reset_after_bytes>()},
      {"stall_after_bytes", MemberField<&MockConfig::stall_after_bytes>()},
      {"stall_ms", MemberField<&MockConfig::stall_ms>()},
      {"headers_delay_ms", MemberField<&MockConfig::headers_delay_ms>()},
  };
  return fields;
}

std::string FormatNumber(double x) {
  std::ostringstream out;
  out << x;
  return out.str();
}

bool IsChoice(std::string_view choices, std::string_view value) {
  std::size_t start = 0;
  while (start <= choices.size()) {
    auto bar = choices.find('|', start);
    if (bar == std::string_view::npos) bar = choices.size();
    if (choices.substr(start, bar - start) == value) return true;
    start = bar + 1;
  }
  return false;
}

std::string Refusal(const ConfigKey& key, const json& value) {
  std::string shown = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (shown.size() > 40) shown = shown.substr(0, 40) + "...";
  return "mock config key \"" + std::string(key.name) + "\" must be " + RangeText(key) + ", got " +
         shown;
}

// The table's type and range rules for one value.
Status CheckValue(const ConfigKey& key, const json& v) {
  bool ok = false;
  switch (key.type) {
    case KeyType::kUnsigned64:
      ok = v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() >= 0);
      break;
    case KeyType::kInteger:
      if (v.is_number_unsigned()) {  // min may be -1: an unsigned value is never below it
        std::uint64_t u = v.get<std::uint64_t>();
        ok = u <= static_cast<std::uint64_t>(key.max) &&
             (key.min < 0 || u >= static_cast<std::uint64_t>(key.min));
      } else if (v.is_number_integer()) {
        ok = v.get<long long>() >= key.min && v.get<long long>() <= key.max;
      }
      break;
    case KeyType::kNumber:
      ok = v.is_number() && std::isfinite(v.get<double>()) && v.get<double>() >= key.min_number &&
           v.get<double>() <= key.max_number;
      if (ok && key.name == "rate_mib_s") {
        ok = v.get<double>() == 0 || v.get<double>() >= kMinRateMibS;
      }
      break;
    case KeyType::kBoolean:
      ok = v.is_boolean();
      break;
    case KeyType::kChoice:
      ok = v.is_string() && IsChoice(key.choices, v.get<std::string>());
      break;
  }
  if (!ok) return Status::Failure(Refusal(key, v));
  return Status::Ok();
}

const ConfigKey* FindKey(std::string_view name) {
  for (const auto& key : kConfigKeys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::string KeyList() {
  std::string names;
  for (const auto& key : kConfigKeys) names += (names.empty() ? "" : ", ") + std::string(key.name);
  return names;
}

}  // namespace

std::string_view ToString(SseVariant variant) { return NameOf(kVariantNames, variant); }

std::string_view ToString(Compression compression) {
  return NameOf(kCompressionNames, compression);
}

std::string_view ToString(BodyFraming framing) { return NameOf(kFramingNames, framing); }

std::string RangeText(const ConfigKey& key) {
  switch (key.type) {
    case KeyType::kUnsigned64:
      return "an integer in 0..18446744073709551615";
    case KeyType::kInteger:
      return "an integer in " + std::to_string(key.min) + ".." + std::to_string(key.max);
    case KeyType::kNumber:
      if (key.name == "rate_mib_s") {
        return "0 or a number in " + FormatNumber(kMinRateMibS) + ".." +
               FormatNumber(key.max_number);
      }
      return "a number in " + FormatNumber(key.min_number) + ".." + FormatNumber(key.max_number);
    case KeyType::kBoolean:
      return "true or false";
    case KeyType::kChoice: {
      std::string text = "one of ";
      std::string_view choices = key.choices;
      std::size_t start = 0;
      while (start <= choices.size()) {
        auto bar = choices.find('|', start);
        if (bar == std::string_view::npos) bar = choices.size();
        text +=
            (start == 0 ? "\"" : ", \"") + std::string(choices.substr(start, bar - start)) + "\"";
        start = bar + 1;
      }
      return text;
    }
  }
  return "";
}

Result<MockConfig> ConfigFromJson(const json& j) {
  if (!j.is_object()) return Error{"mock config must be a JSON object of keys: " + KeyList()};
  MockConfig c;
  for (const auto& [name, value] : j.items()) {
    const ConfigKey* key = FindKey(name);
    if (!key) return Error{"unknown mock config key \"" + name + "\"; keys: " + KeyList()};
    if (auto ok = CheckValue(*key, value); !ok) return Error{ok.message()};
    Fields().at(key->name).set(c, value);
  }
  if (c.framing == BodyFraming::kLength && c.compress == Compression::kGzip) {
    return Error{
        "mock config keys \"framing\": \"length\" and \"compress\": \"gzip\" exclude each "
        "other: a gzip body's length is not known before it is sent (\"framing\": \"auto\" "
        "sends a gzip body chunked)"};
  }
  return c;
}

Result<MockConfig> ConfigFromText(std::string_view text) {
  auto json = ParseJsonBounded(text, 8);
  if (!json) return Error{"mock config: " + json.error()};
  return ConfigFromJson(*json);
}

json ToJson(const MockConfig& c) {
  json j = json::object();
  for (const auto& key : kConfigKeys) j[std::string(key.name)] = Fields().at(key.name).get(c);
  return j;
}

Status ValidateConfig(const MockConfig& config) {
  // A double that is NaN becomes null in JSON and is refused as "not a number".
  auto back = ConfigFromJson(ToJson(config));
  if (!back) return Status::Failure(back.error());
  return Status::Ok();
}

Result<double> ParseNumberParameter(std::string_view name, std::string_view text) {
  const ConfigKey* key = FindKey(name);
  std::string copy(text);
  char* end = nullptr;
  errno = 0;
  double value = copy.empty() ? 0 : std::strtod(copy.c_str(), &end);
  // Decimal digits, sign, point and exponent only: no "inf", "nan", hex or spaces.
  bool plain = copy.find_first_not_of("0123456789.eE+-") == std::string::npos;
  bool parsed = plain && !copy.empty() && end == copy.c_str() + copy.size() && errno == 0 &&
                std::isfinite(value);
  if (!key || !parsed || !CheckValue(*key, json(value)).ok()) {
    std::string range = key ? RangeText(*key) : "a number";
    return Error{"query parameter " + std::string(name) + " must be " + range + ", got \"" +
                 copy.substr(0, 40) + "\""};
  }
  return value;
}

std::string ConfigHelp() {
  std::string out =
      "Mock configuration keys (PUT /_mock/config or --config; absent keys take the default):\n";
  for (const auto& key : kConfigKeys) {
    std::string name(key.name);
    name.resize(std::max<std::size_t>(name.size(), 25), ' ');
    out += "  " + name + RangeText(key) + "; default " + std::string(key.default_value) + "\n" +
           std::string(27, ' ') + std::string(key.meaning) + "\n";
  }
  return out;
}

}  // namespace streamcheck::mocks
