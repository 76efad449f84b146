#include "core/diagnostic.h"

namespace vaxbot::core {

std::string to_string(const Diagnostic& d) {
  return d.file + ":" + std::to_string(d.line) + ":" + std::to_string(d.col) + ": " + d.message;
}

void locate(std::string_view text, std::size_t offset, int& line, int& col) {
  line = 1;
  col = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
}

Diagnostic at_key(const std::string& file, std::string_view text, std::string_view key,
                  std::string message) {
  Diagnostic d{file, 1, 1, std::move(message)};
  const std::string quoted = "\"" + std::string(key) + "\"";
  if (auto pos = text.find(quoted); pos != std::string_view::npos) locate(text, pos, d.line, d.col);
  return d;
}

Diagnostic at_definition(const std::string& file, std::string_view text, std::string_view key,
                         std::string message) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  for (auto pos = text.find(quoted); pos != std::string_view::npos;
       pos = text.find(quoted, pos + 1)) {
    std::size_t i = pos + quoted.size();
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
      ++i;
    if (i >= text.size() || text[i] != ':') continue;
    ++i;
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
      ++i;
    if (i < text.size() && text[i] == '{') {
      Diagnostic d{file, 1, 1, std::move(message)};
      locate(text, pos, d.line, d.col);
      return d;
    }
  }
  return at_key(file, text, key, std::move(message));
}

}  // namespace vaxbot::core
