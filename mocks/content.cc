#include "mocks/content.h"

#include <array>
#include <cstring>
#include <nlohmann/json.hpp>

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

std::vector<std::string> CompletionTokens(std::uint64_t seed, std::string_view prompt, int count) {
  std::vector<std::string> tokens;
  std::uint64_t state = seed ^ Fnv1a(prompt);
  for (int i = 0; i < count; ++i) {
    state = SplitMix64(state);
    std::string word(kVocabulary[state % kVocabulary.size()]);
    tokens.push_back(i == 0 ? word : " " + word);
  }
  return tokens;
}

std::string CompletionText(std::uint64_t seed, std::string_view prompt, int count) {
  std::string text;
  for (const auto& token : CompletionTokens(seed, prompt, count)) text += token;
  return text;
}

std::string PromptOf(std::string_view request_body) {
  auto body = nlohmann::json::parse(request_body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("messages") || !body["messages"].is_array() ||
      body["messages"].empty()) {
    return "";
  }
  const auto& last = body["messages"].back();
  if (!last.is_object() || !last.contains("content") || !last["content"].is_string()) return "";
  return last["content"].get<std::string>();
}

}  // namespace streamcheck::mocks
