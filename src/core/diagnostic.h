// Diagnostic: one problem found in a content file staff edit (data/, flows/,
// templates/, an imported CSV), located so an editor can jump to it.
//
// to_string() gives the conventional "file:line:col: message" that `vaxbot
// check` prints. Lines and columns are 1-based; when no better place is known,
// a diagnostic points at 1:1.
//
// locate() turns a byte offset into a file's text (e.g. the one
// nlohmann::json::parse_error reports) into that line and column. at_key()
// points a diagnostic at the first occurrence of "key" (quoted) in a file's
// text, or at 1:1. Plain values; nothing here does I/O or throws.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vaxbot::core {

struct Diagnostic {
  std::string file;
  int line = 1;
  int col = 1;
  std::string message;

  friend bool operator==(const Diagnostic&, const Diagnostic&) = default;
};

std::string to_string(const Diagnostic& d);

void locate(std::string_view text, std::size_t offset, int& line, int& col);

Diagnostic at_key(const std::string& file, std::string_view text, std::string_view key,
                  std::string message);

// A diagnostic at the definition of the JSON key "key": the first
// occurrence followed by ':' and '{' (falls back to at_key).
Diagnostic at_definition(const std::string& file, std::string_view text, std::string_view key,
                         std::string message);

}  // namespace vaxbot::core
