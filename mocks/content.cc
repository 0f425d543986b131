#include "mocks/content.h"

#include <time.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "common/json_bounded.h"
#include "common/sha256.h"

namespace streamcheck::mocks {
namespace {

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::uint64_t Word(std::uint64_t seed, std::uint64_t index) {
  return SplitMix64(seed * 0x2545f4914f6cdd1dULL + index);
}

std::uint64_t Fnv1a(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

constexpr std::array<std::string_view, 32> kVocabulary = {
    "stream", "token",  "event",  "proxy",   "byte",   "chunk", "server", "client",
    "model",  "gate",   "flush",  "buffer",  "header", "frame", "data",   "done",
    "fast",   "steady", "exact",  "bounded", "clean",  "every", "arrive", "order",
    "large",  "small",  "parity", "check",   "proof",  "relay", "line",   "close"};

}  // namespace

void FillBytes(std::uint64_t seed, std::uint64_t offset, char* out, std::size_t n) {
  std::uint64_t index = offset / 8;
  std::size_t skip = offset % 8;
  while (n > 0) {
    std::uint64_t word = Word(seed, index++);
    char bytes[8];
    std::memcpy(bytes, &word, 8);
    std::size_t take = std::min<std::size_t>(8 - skip, n);
    std::memcpy(out, bytes + skip, take);
    out += take;
    n -= take;
    skip = 0;
  }
}

std::string BodySha256Hex(std::uint64_t seed, std::uint64_t size) {
  Sha256 sha;
  std::string block(kMiB, '\0');
  for (std::uint64_t offset = 0; offset < size; offset += block.size()) {
    std::size_t n = std::min<std::uint64_t>(block.size(), size - offset);
    FillBytes(seed, offset, block.data(), n);
    sha.Update(block.data(), n);
  }
  return sha.HexDigest();
}

TokenGenerator::TokenGenerator(std::uint64_t seed, std::string_view prompt, int choice)
    : state_(seed ^ Fnv1a(prompt)) {
  // Choice 0 keeps the n = 1 text, so adding choices changes nothing before them.
  if (choice > 0) state_ ^= SplitMix64(0x63686f6963650000ULL + std::uint64_t(choice));
}

std::string TokenGenerator::Next() {
  state_ = SplitMix64(state_);
  std::string word(kVocabulary[state_ % kVocabulary.size()]);
  if (first_) {
    first_ = false;
    return word;
  }
  return " " + word;
}

std::vector<std::string> CompletionTokens(std::uint64_t seed, std::string_view prompt, int count,
                                          int choice) {
  std::vector<std::string> tokens;
  TokenGenerator generator(seed, prompt, choice);
  for (int i = 0; i < count; ++i) tokens.push_back(generator.Next());
  return tokens;
}

std::string CompletionText(std::uint64_t seed, std::string_view prompt, int count, int choice) {
  std::string text;
  TokenGenerator generator(seed, prompt, choice);
  for (int i = 0; i < count; ++i) text += generator.Next();
  return text;
}

std::string PromptOfRequest(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array() ||
      body["messages"].empty()) {
    return "";
  }
  const auto& last = body["messages"].back();
  if (!last.is_object() || !last.contains("content") || !last["content"].is_string()) return "";
  return last["content"].get<std::string>();
}

std::string PromptOf(std::string_view request_body) {
  auto body = ParseJsonBounded(request_body);
  return body ? PromptOfRequest(*body) : "";
}

std::string ToolArgumentsPiece(const std::string& token, int i, int count, bool complete) {
  std::string piece = i == 0 ? R"({"query":")" : "";
  // Vocabulary words need no JSON escaping; the arguments are JSON text.
  piece += token;
  if (complete && i >= count - 1) piece += R"("})";
  return piece;
}

ToolCall ExpectedToolCall(std::uint64_t seed, std::string_view prompt,
                          const std::vector<std::string>& names, int count, int choice,
                          bool complete) {
  ToolCall call;
  std::uint64_t base = seed ^ Fnv1a(prompt) ^ SplitMix64(0x746f6f6c00000000ULL + choice);
  char id[32];
  std::snprintf(id, sizeof id, "call_%016llx%08llx",
                static_cast<unsigned long long>(SplitMix64(base)),
                static_cast<unsigned long long>(SplitMix64(base + 1) & 0xffffffffULL));
  call.id = id;
  if (!names.empty()) call.name = names[SplitMix64(base + 2) % names.size()];
  TokenGenerator generator(seed, prompt, choice);
  int pieces = std::max(count, 1);
  for (int i = 0; i < pieces; ++i) {
    call.arguments += ToolArgumentsPiece(count == 0 ? "" : generator.Next(), i, count, complete);
  }
  return call;
}

std::string StampToken(const std::string& token, std::uint64_t monotonic_ns) {
  bool spaced = !token.empty() && token.front() == ' ';
  return (spaced ? " @" : "@") + std::to_string(monotonic_ns) + " " + token.substr(spaced ? 1 : 0);
}

namespace {

// The length of a stamp "@<digits> " at `at`, or 0 when there is none.
std::size_t StampAt(std::string_view text, std::size_t at) {
  if (text[at] != '@') return 0;
  std::size_t end = at + 1;
  while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
  if (end == at + 1 || end >= text.size() || text[end] != ' ') return 0;
  return end + 1 - at;
}

}  // namespace

std::string StripStamps(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = StampAt(text, i);
    if (n == 0) out += text[i++];
    i += n;
  }
  return out;
}

std::vector<std::uint64_t> TokenStamps(std::string_view text) {
  std::vector<std::uint64_t> stamps;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (std::size_t n = StampAt(text, i)) {
      std::uint64_t value = 0;
      bool fits = n - 2 <= 19;  // 19 digits always fit in 64 bits
      for (std::size_t k = i + 1; fits && k < i + n - 1; ++k) value = value * 10 + (text[k] - '0');
      if (fits) stamps.push_back(value);
      i += n - 1;
    }
  }
  return stamps;
}

std::uint64_t MonotonicNowNs() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return std::uint64_t(now.tv_sec) * 1'000'000'000ULL + std::uint64_t(now.tv_nsec);
}

}  // namespace streamcheck::mocks
