#include "booking/text_utils.h"

namespace vaxbot::booking::text {

namespace {

constexpr bool is_continuation(unsigned char b) {
  return (b & 0xC0U) == 0x80U;
}

// Decodes one code point at `pos`; returns its length in bytes, or 0 when malformed.
std::size_t decode_one(std::string_view s, std::size_t pos, char32_t& out) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80U) {
    out = b0;
    return 1;
  }
  std::size_t len = 0;
  char32_t cp = 0;
  char32_t min = 0;
  if ((b0 & 0xE0U) == 0xC0U) {
    len = 2;
    cp = b0 & 0x1FU;
    min = 0x80;
  } else if ((b0 & 0xF0U) == 0xE0U) {
    len = 3;
    cp = b0 & 0x0FU;
    min = 0x800;
  } else if ((b0 & 0xF8U) == 0xF0U) {
    len = 4;
    cp = b0 & 0x07U;
    min = 0x10000;
  } else {
    return 0;
  }
  if (pos + len > s.size()) return 0;
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[pos + i]);
    if (!is_continuation(b)) return 0;
    cp = (cp << 6) | (b & 0x3FU);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  out = cp;
  return len;
}

}  // namespace

std::vector<CodePoint> decode_utf8(std::string_view bytes) {
  std::vector<CodePoint> out;
  out.reserve(bytes.size());
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    char32_t cp = 0;
    std::size_t len = decode_one(bytes, pos, cp);
    if (len == 0) {
      cp = kReplacementChar;
      len = 1;
    }
    out.push_back(CodePoint{cp, pos, pos + len});
    pos += len;
  }
  return out;
}

char32_t next_code_point(std::string_view bytes, std::size_t& pos) {
  char32_t cp = 0;
  const std::size_t len = decode_one(bytes, pos, cp);
  if (len == 0) {
    ++pos;
    return kReplacementChar;
  }
  pos += len;
  return cp;
}

bool is_valid_utf8(std::string_view bytes) {
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    char32_t cp = 0;
    const std::size_t len = decode_one(bytes, pos, cp);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

int digit_value(char32_t cp) {
  if (cp >= U'0' && cp <= U'9') return static_cast<int>(cp - U'0');
  if (cp >= 0x09E6 && cp <= 0x09EF) return static_cast<int>(cp - 0x09E6);  // Bengali
  if (cp >= 0x0966 && cp <= 0x096F) return static_cast<int>(cp - 0x0966);  // Devanagari
  return -1;
}

bool is_space(char32_t cp) {
  switch (cp) {
    case U' ':
    case U'\t':
    case U'\n':
    case U'\r':
    case U'\v':
    case U'\f':
    case 0x0085:
    case 0x00A0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_dash(char32_t cp) {
  return cp == U'-' || (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0xFE58 ||
         cp == 0xFE63 || cp == 0xFF0D;
}

bool is_ignorable(char32_t cp) {
  return cp == 0x00AD || cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0x200E ||
         cp == 0x200F || cp == 0x2060 || cp == 0xFEFF;
}

bool is_danda(char32_t cp) {
  return cp == 0x0964 || cp == 0x0965;
}

}  // namespace vaxbot::booking::text
