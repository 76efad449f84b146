// Language: the three languages residents write in. Codes are the ISO 639-1
// names used in file names (templates/en.json) and in the database.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace vaxbot::core {

enum class Language { kEn, kBn, kHi };

inline constexpr std::array<Language, 3> kLanguages = {Language::kEn, Language::kBn, Language::kHi};

constexpr std::string_view code(Language l) {
  switch (l) {
    case Language::kEn:
      return "en";
    case Language::kBn:
      return "bn";
    case Language::kHi:
      return "hi";
  }
  return "en";
}

constexpr std::optional<Language> language_from_code(std::string_view c) {
  for (Language l : kLanguages) {
    if (code(l) == c) return l;
  }
  return std::nullopt;
}

// The language of a text by its script: any Bengali letter -> bn, any
// Devanagari letter -> hi, otherwise nullopt (Latin and the rest say nothing).
std::optional<Language> language_of_script(std::string_view utf8);

}  // namespace vaxbot::core
