// Internal text helpers shared by the booking input parsers.
//
// Contract:
//  - decode_utf8 never fails: every byte of the input belongs to exactly one
//    CodePoint; a malformed sequence (bad lead byte, missing continuation,
//    overlong form, surrogate, value above U+10FFFF) yields U+FFFD covering a
//    single byte, so callers can copy untouched byte ranges verbatim.
//  - digit_value maps ASCII, Bengali (U+09E6..U+09EF) and Devanagari
//    (U+0966..U+096F) digits to 0..9 and everything else to -1.
//  - The classifiers are pure predicates over a single code point.
// No allocation beyond the returned containers, no global state, no throwing
// (other than std::bad_alloc from the standard containers).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vaxbot::booking::text {

inline constexpr char32_t kReplacementChar = 0xFFFD;

struct CodePoint {
  char32_t value = 0;
  std::size_t begin = 0;  // byte offset of the first byte
  std::size_t end = 0;    // byte offset one past the last byte
};

std::vector<CodePoint> decode_utf8(std::string_view bytes);

// Decodes the code point at `pos` (malformed -> U+FFFD, one byte) and advances
// `pos`. Precondition: pos < bytes.size().
char32_t next_code_point(std::string_view bytes, std::size_t& pos);

// True when every byte sequence of `bytes` is well-formed UTF-8.
bool is_valid_utf8(std::string_view bytes);

void append_utf8(std::string& out, char32_t cp);

int digit_value(char32_t cp);

// Unicode white space (ASCII blanks, NBSP, the U+2000 spaces, ideographic space...).
bool is_space(char32_t cp);

// Hyphen-minus and the Unicode hyphens/dashes a phone keyboard may produce.
bool is_dash(char32_t cp);

// Invisible format characters that carry no meaning for our parsers
// (ZWSP, ZWNJ, ZWJ, word joiner, BOM, soft hyphen, LRM/RLM).
bool is_ignorable(char32_t cp);

// Danda (U+0964) and double danda (U+0965): sentence ends in Bengali and Hindi.
bool is_danda(char32_t cp);

constexpr bool is_ascii_letter(char32_t cp) {
  return (cp >= U'a' && cp <= U'z') || (cp >= U'A' && cp <= U'Z');
}

constexpr char to_upper_ascii(char c) {
  return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
}

constexpr char to_lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace vaxbot::booking::text
