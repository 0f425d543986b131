#include "common/text.h"

#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <cstring>  // sigabbrev_np

namespace streamcheck {

std::string Excerpt(std::string_view text, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max; ++i) {
    unsigned char c = text[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > max) out += "…";
  return out;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    std::string text = "killed by signal " + std::to_string(sig);
    const char* abbrev = sigabbrev_np(sig);
    text += std::string(" (") + (abbrev ? std::string("SIG") + abbrev : "unknown");
    if (WCOREDUMP(status)) text += ", core dumped";
    return text + ")";
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace streamcheck
