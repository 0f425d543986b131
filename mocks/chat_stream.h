// The mock's chat completions: what a request asks for (ChatPlan: choices,
// max_tokens, tools, usage) and the SSE frames that answer it, made one at a
// time as they are sent, so a stream of ten million tokens costs what a stream
// of ten does. The texts and tool calls come from mocks/content.h, where the
// harness finds the same ones to compare with.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "mocks/content.h"
#include "mocks/mock_config.h"

namespace streamcheck::mocks {

inline constexpr int kMaxChoices = 16;  // n in a chat request: 1..16

struct ChatPlan {
  std::string id;  // "chatcmpl-mock-<n>"
  std::string model;
  long long created = 0;
  bool stream = false;
  int n = 1;
  int tokens = 0;        // per choice, max_tokens applied
  bool limited = false;  // max_tokens cut it short: finish_reason "length"
  bool include_usage = false;
  std::vector<std::string> tool_names;  // not empty: the answer is a tool call
  std::string prompt;
  std::uint64_t seed = 0;
  SseVariant variant = SseVariant::kStandard;
  bool stamp = false;
};

// The plan for a parsed request body, or the message of its 400.
Result<ChatPlan> PlanChat(const nlohmann::json& body, const MockConfig& config);

// The tool call of choice `choice` under `plan` (plan.tool_names not empty).
ToolCall PlannedToolCall(const ChatPlan& plan, int choice);

// The whole non-stream answer (object "chat.completion").
std::string CompletionBody(const ChatPlan& plan);

// The frames of a stream: per choice a role frame; then, token by token, one
// frame per choice (a content token, or a piece of the tool call's arguments);
// per choice a finish frame; the usage frame when asked for; [DONE].
class ChatStream {
 public:
  explicit ChatStream(ChatPlan plan);

  bool done() const { return stage_ == Stage::kEnd; }
  bool next_is_token() const { return stage_ == Stage::kTokens; }
  // Token frames sent so far, over all choices: what gates and faults count.
  long long tokens_sent() const { return tokens_sent_; }
  std::size_t frames_sent() const { return frames_sent_; }
  // The next frame, framed per the SSE variant (a BOM before the first).
  std::string Next();
  // The in-band error event of error_event_after_tokens.
  std::string ErrorEvent() const;

 private:
  enum class Stage { kRole, kTokens, kFinish, kUsage, kDone, kEnd };
  std::string Frame(const std::string& data) const;
  std::string Chunk(int choice, nlohmann::json delta, nlohmann::json finish) const;
  void Advance();

  ChatPlan plan_;
  std::vector<TokenGenerator> generators_;
  // A token frame is prefix + the token as a JSON string + suffix, per choice.
  std::vector<std::pair<std::string, std::string>> token_templates_;
  Stage stage_ = Stage::kRole;
  int choice_ = 0;
  int step_ = 0;
  int pieces_ = 0;  // token steps per choice
  long long tokens_sent_ = 0;
  std::size_t frames_sent_ = 0;
};

}  // namespace streamcheck::mocks
