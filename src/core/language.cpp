#include "core/language.h"

namespace vaxbot::core {

std::optional<Language> language_of_script(std::string_view s) {
  // Bengali U+0980..U+09FF and Devanagari U+0900..U+097F are 3-byte UTF-8
  // sequences E0 A6/A7 xx and E0 A4/A5 xx.
  for (std::size_t i = 0; i + 1 < s.size(); ++i) {
    if (static_cast<unsigned char>(s[i]) != 0xE0) continue;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second == 0xA6 || second == 0xA7) return Language::kBn;
    if (second == 0xA4 || second == 0xA5) return Language::kHi;
  }
  return std::nullopt;
}

}  // namespace vaxbot::core
