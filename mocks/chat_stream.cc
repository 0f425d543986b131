#include "mocks/chat_stream.h"

#include <algorithm>

namespace streamcheck::mocks {
namespace {

using nlohmann::json;

// Stands in for the token while a frame's template is made (dumped as \u0001...).
const std::string kPlaceholder = "\x01token\x01";

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json Usage(const ChatPlan& plan) {
  long long completion = static_cast<long long>(plan.tokens) * plan.n;
  return {
      {"prompt_tokens", 8}, {"completion_tokens", completion}, {"total_tokens", 8 + completion}};
}

std::string FinishReason(const ChatPlan& plan) {
  if (plan.limited) return "length";
  return plan.tool_names.empty() ? "stop" : "tool_calls";
}

// The tool names of `tools`, or the message of a 400.
Result<std::vector<std::string>> ToolNames(const json& tools) {
  if (!tools.is_array()) return Error{"'tools' must be an array"};
  std::vector<std::string> names;
  for (std::size_t i = 0; i < tools.size(); ++i) {
    const json& tool = tools[i];
    const char* where =
        "'tools' entries must be {\"type\": \"function\", \"function\": {\"name\": ...}}";
    if (!tool.is_object() || tool.value("type", "") != "function" || !tool.contains("function") ||
        !tool["function"].is_object() || !tool["function"].contains("name") ||
        !tool["function"]["name"].is_string()) {
      return Error{std::string(where) + " (entry " + std::to_string(i) + " is not)"};
    }
    names.push_back(tool["function"]["name"].get<std::string>());
  }
  return names;
}

}  // namespace

Result<ChatPlan> PlanChat(const json& body, const MockConfig& config) {
  if (!body.is_object()) return Error{"request body is not a JSON object"};
  if (!body.contains("messages") || !body["messages"].is_array()) {
    return Error{"'messages' is required and must be an array"};
  }
  ChatPlan plan;
  plan.seed = config.seed;
  plan.variant = config.sse_variant;
  plan.stamp = config.stamp_tokens;
  plan.prompt = PromptOfRequest(body);
  plan.model = body.contains("model") && body["model"].is_string()
                   ? body["model"].get<std::string>()
                   : "mock-model";
  plan.stream =
      body.contains("stream") && body["stream"].is_boolean() && body["stream"].get<bool>();
  plan.tokens = config.token_count;
  if (body.contains("max_tokens") && body["max_tokens"].is_number_integer()) {
    long long max_tokens = body["max_tokens"].get<long long>();
    if (max_tokens < 0) return Error{"'max_tokens' must not be negative"};
    if (max_tokens < plan.tokens) plan.tokens = static_cast<int>(max_tokens), plan.limited = true;
  }
  if (body.contains("n") && !body["n"].is_null()) {
    if (!body["n"].is_number_integer() || body["n"].get<long long>() < 1 ||
        body["n"].get<long long>() > kMaxChoices) {
      return Error{"'n' must be an integer in 1.." + std::to_string(kMaxChoices)};
    }
    plan.n = body["n"].get<int>();
  }
  plan.include_usage = body.contains("stream_options") && body["stream_options"].is_object() &&
                       body["stream_options"].value("include_usage", false);
  if (body.contains("tools") && !body["tools"].is_null()) {
    auto names = ToolNames(body["tools"]);
    if (!names) return Error{names.error()};
    const json choice = body.value("tool_choice", json("auto"));
    if (choice.is_object()) {
      std::string forced = choice.contains("function") && choice["function"].is_object()
                               ? choice["function"].value("name", "")
                               : "";
      if (std::find(names->begin(), names->end(), forced) == names->end()) {
        return Error{"'tool_choice' names a function \"" + forced + "\" that is not in 'tools'"};
      }
      plan.tool_names = {forced};
    } else if (choice != "none" && !names->empty()) {
      plan.tool_names = *names;
    }
  }
  return plan;
}

ToolCall PlannedToolCall(const ChatPlan& plan, int choice) {
  return ExpectedToolCall(plan.seed, plan.prompt, plan.tool_names, plan.tokens, choice,
                          !plan.limited);
}

std::string CompletionBody(const ChatPlan& plan) {
  json choices = json::array();
  for (int c = 0; c < plan.n; ++c) {
    json message = {{"role", "assistant"}};
    if (plan.tool_names.empty()) {
      message["content"] = CompletionText(plan.seed, plan.prompt, plan.tokens, c);
    } else {
      ToolCall call = PlannedToolCall(plan, c);
      message["content"] = nullptr;
      message["tool_calls"] = {
          {{"id", call.id},
           {"type", "function"},
           {"function", {{"name", call.name}, {"arguments", call.arguments}}}}};
    }
    choices.push_back({{"index", c}, {"message", message}, {"finish_reason", FinishReason(plan)}});
  }
  return Dump({{"id", plan.id},
               {"object", "chat.completion"},
               {"created", plan.created},
               {"model", plan.model},
               {"choices", choices},
               {"usage", Usage(plan)}});
}

ChatStream::ChatStream(ChatPlan plan) : plan_(std::move(plan)) {
  bool tools = !plan_.tool_names.empty();
  pieces_ = tools ? std::max(plan_.tokens, 1) : plan_.tokens;
  for (int c = 0; c < plan_.n; ++c) {
    generators_.emplace_back(plan_.seed, plan_.prompt, c);
    json delta =
        tools ? json{{"tool_calls", {{{"index", 0}, {"function", {{"arguments", kPlaceholder}}}}}}}
              : json{{"content", kPlaceholder}};
    std::string whole = Chunk(c, delta, nullptr);
    const std::string marker = Dump(json(kPlaceholder));
    auto at = whole.find(marker);
    token_templates_.emplace_back(whole.substr(0, at), whole.substr(at + marker.size()));
  }
}

std::string ChatStream::Chunk(int choice, json delta, json finish) const {
  return Dump(
      {{"id", plan_.id},
       {"object", "chat.completion.chunk"},
       {"created", plan_.created},
       {"model", plan_.model},
       {"choices", {{{"index", choice}, {"delta", std::move(delta)}, {"finish_reason", finish}}}}});
}

std::string ChatStream::Frame(const std::string& data) const {
  switch (plan_.variant) {
    case SseVariant::kCrlf:
      return "data: " + data + "\r\n\r\n";
    case SseVariant::kCr:
      return "data: " + data + "\r\r";
    case SseVariant::kComments:
      return ": keep-alive\ndata: " + data + "\n\n";
    default:
      return "data: " + data + "\n\n";
  }
}

std::string ChatStream::ErrorEvent() const {
  return Frame(Dump({{"error", {{"message", "mock backend failure"}, {"type", "server_error"}}}}));
}

// Moves to the next frame: choices within a step, then steps, then stages.
void ChatStream::Advance() {
  bool per_choice = stage_ == Stage::kRole || stage_ == Stage::kTokens || stage_ == Stage::kFinish;
  if (per_choice && ++choice_ < plan_.n) return;
  choice_ = 0;
  if (stage_ == Stage::kTokens && ++step_ < pieces_) return;
  switch (stage_) {
    case Stage::kRole:
      stage_ = pieces_ > 0 ? Stage::kTokens : Stage::kFinish;
      break;
    case Stage::kTokens:
      stage_ = Stage::kFinish;
      break;
    case Stage::kFinish:
      stage_ = plan_.include_usage ? Stage::kUsage : Stage::kDone;
      if (stage_ == Stage::kDone && plan_.variant == SseVariant::kNoDone) stage_ = Stage::kEnd;
      break;
    case Stage::kUsage:
      stage_ = plan_.variant == SseVariant::kNoDone ? Stage::kEnd : Stage::kDone;
      break;
    default:
      stage_ = Stage::kEnd;
      break;
  }
}

std::string ChatStream::Next() {
  bool tools = !plan_.tool_names.empty();
  std::string frame;
  switch (stage_) {
    case Stage::kRole: {
      json delta = {{"role", "assistant"}, {"content", ""}};
      if (tools) {
        ToolCall call = PlannedToolCall(plan_, choice_);
        delta["content"] = nullptr;
        delta["tool_calls"] = {{{"index", 0},
                                {"id", call.id},
                                {"type", "function"},
                                {"function", {{"name", call.name}, {"arguments", ""}}}}};
      }
      frame = Frame(Chunk(choice_, delta, nullptr));
      break;
    }
    case Stage::kTokens: {
      std::string token = plan_.tokens == 0 ? "" : generators_[choice_].Next();
      if (tools) {
        token = ToolArgumentsPiece(token, step_, plan_.tokens, !plan_.limited);
      } else if (plan_.stamp) {
        token = StampToken(token, MonotonicNowNs());
      }
      const auto& [prefix, suffix] = token_templates_[choice_];
      frame = Frame(prefix + Dump(json(token)) + suffix);
      ++tokens_sent_;
      break;
    }
    case Stage::kFinish:
      frame = Frame(Chunk(choice_, json::object(), FinishReason(plan_)));
      break;
    case Stage::kUsage:
      frame = Frame(Dump({{"id", plan_.id},
                          {"object", "chat.completion.chunk"},
                          {"created", plan_.created},
                          {"model", plan_.model},
                          {"choices", json::array()},
                          {"usage", Usage(plan_)}}));
      break;
    case Stage::kDone:
      frame = Frame("[DONE]");
      break;
    case Stage::kEnd:
      return "";
  }
  if (frames_sent_++ == 0 && plan_.variant == SseVariant::kBom) frame.insert(0, "\xEF\xBB\xBF");
  Advance();
  return frame;
}

}  // namespace streamcheck::mocks
