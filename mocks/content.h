// Deterministic content of the mock backend. The harness calls the same
// functions to know, without a network, the exact bytes and tokens every
// request must produce.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
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

// The tokens of the completion for `prompt` under `seed`, produced one at a
// time (constant memory for any count): words from a fixed vocabulary, each but
// the first with a leading space. Different prompts give different texts, so
// concurrent streams can each be checked. Choice 0 is the text of a request
// with n = 1; choices 1, 2, ... of an n > 1 request each have their own text.
class TokenGenerator {
 public:
  TokenGenerator(std::uint64_t seed, std::string_view prompt, int choice = 0);
  std::string Next();

 private:
  std::uint64_t state_;
  bool first_ = true;
};

// The first `count` tokens of TokenGenerator(seed, prompt, choice).
std::vector<std::string> CompletionTokens(std::uint64_t seed, std::string_view prompt, int count,
                                          int choice = 0);

// The tokens joined: the exact text a chat request must stream for that choice.
std::string CompletionText(std::uint64_t seed, std::string_view prompt, int count, int choice = 0);

// The text of the last message of an OpenAI-style `messages` array (a JSON
// string, given as its serialisation), or "" when there is none. Used as the
// prompt that seeds the completion.
std::string PromptOf(std::string_view request_body);
std::string PromptOfRequest(const nlohmann::json& request);  // the same, parsed

// The tool call the mock makes when a chat request carries `tools`: the
// function it calls, its call id, and its arguments, a JSON object text
// {"query":"<the completion text>"} streamed in `count` pieces (one per token;
// one piece when count is 0). When max_tokens cut the completion short
// (`complete` false), the arguments stop after the last token, unclosed.
struct ToolCall {
  std::string id;    // "call_" + 24 hex digits
  std::string name;  // one of the request's function names
  std::string arguments;
};
// `names`: the request's tool function names in order (not empty). The choice
// among them is fixed by seed, prompt and choice index.
ToolCall ExpectedToolCall(std::uint64_t seed, std::string_view prompt,
                          const std::vector<std::string>& names, int count, int choice = 0,
                          bool complete = true);
// Piece `i` of `count` of that call's arguments.
std::string ToolArgumentsPiece(const std::string& token, int i, int count, bool complete);

// stamp_tokens: a content token "<space?><word>" is sent as
// "<space?>@<CLOCK_MONOTONIC nanoseconds> <word>". StampToken makes one;
// StripStamps gives back the unstamped text; TokenStamps lists the stamps in
// order, so a client on the same machine subtracts them from its read times.
std::string StampToken(const std::string& token, std::uint64_t monotonic_ns);
std::string StripStamps(std::string_view text);
std::vector<std::uint64_t> TokenStamps(std::string_view text);
std::uint64_t MonotonicNowNs();

constexpr std::uint64_t kMiB = 1024 * 1024;

}  // namespace streamcheck::mocks
