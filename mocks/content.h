// Deterministic content of the mock backend. The harness calls the same
// functions to know, without a network, the exact bytes and tokens every
// request must produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace streamcheck::mocks {

// Byte `offset` of the body stream for `seed`; FillBytes writes `n` of them.
// Position-addressable, so any range is produced without the rest, at several
// GiB/s (splitmix64 per 8-byte word).
void FillBytes(std::uint64_t seed, std::uint64_t offset, char* out, std::size_t n);

// SHA-256 (lowercase hex) of the first `size` bytes of the stream for `seed`.
std::string BodySha256Hex(std::uint64_t seed, std::uint64_t size);

// The `count` tokens of the completion for `prompt` under `seed`: words from a
// fixed vocabulary, each but the first with a leading space. Different prompts
// give different texts, so concurrent streams can each be checked.
std::vector<std::string> CompletionTokens(std::uint64_t seed, std::string_view prompt, int count);

// The tokens joined: the exact text a chat request must stream.
std::string CompletionText(std::uint64_t seed, std::string_view prompt, int count);

// The text of the last message of an OpenAI-style `messages` array (a JSON
// string, given as its serialisation), or "" when there is none. Used as the
// prompt that seeds the completion.
std::string PromptOf(std::string_view request_body);

constexpr std::uint64_t kMiB = 1024 * 1024;

}  // namespace streamcheck::mocks
