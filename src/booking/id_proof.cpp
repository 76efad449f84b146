#include "booking/id_proof.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>

#include "booking/text_utils.h"

namespace vaxbot::booking {

namespace {

// ---------------------------------------------------------------------------
// Verhoeff: multiplication table of the dihedral group D5, the position
// permutation and the inverse table.

constexpr std::array<std::array<int, 10>, 10> kVerhoeffD = {{
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
    {1, 2, 3, 4, 0, 6, 7, 8, 9, 5},
    {2, 3, 4, 0, 1, 7, 8, 9, 5, 6},
    {3, 4, 0, 1, 2, 8, 9, 5, 6, 7},
    {4, 0, 1, 2, 3, 9, 5, 6, 7, 8},
    {5, 9, 8, 7, 6, 0, 4, 3, 2, 1},
    {6, 5, 9, 8, 7, 1, 0, 4, 3, 2},
    {7, 6, 5, 9, 8, 2, 1, 0, 4, 3},
    {8, 7, 6, 5, 9, 3, 2, 1, 0, 4},
    {9, 8, 7, 6, 5, 4, 3, 2, 1, 0},
}};
constexpr std::array<int, 10> kVerhoeffSigma = {1, 5, 7, 6, 2, 8, 3, 0, 9, 4};
constexpr std::array<int, 10> kVerhoeffInv = {0, 4, 3, 2, 1, 5, 6, 7, 8, 9};

// The permutation for position `pos` (counted from the right) is sigma^(pos mod 8).
int verhoeff_permute(std::size_t pos, int digit) {
  for (std::size_t k = 0; k < pos % 8; ++k) digit = kVerhoeffSigma[static_cast<std::size_t>(digit)];
  return digit;
}

bool all_ascii_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Runs the Verhoeff accumulator over `digits` with positions offset by `shift`.
int verhoeff_accumulate(std::string_view digits, std::size_t shift) {
  int c = 0;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const int digit = digits[digits.size() - 1 - i] - '0';
    c = kVerhoeffD[static_cast<std::size_t>(c)]
                  [static_cast<std::size_t>(verhoeff_permute(i + shift, digit))];
  }
  return c;
}

// ---------------------------------------------------------------------------
// Shapes.

constexpr std::string_view kPanHolderTypes = "CPHFATBLJG";

// Registration (RTO) codes of the states and union territories, including the
// older OR (Odisha), UA (Uttarakhand) and DN (Dadra & Nagar Haveli) still found
// on licences issued before the renaming.
constexpr std::array<std::string_view, 40> kStateCodes = {
    "AN", "AP", "AR", "AS", "BR", "CG", "CH", "DD", "DL", "DN", "GA", "GJ", "HP", "HR",
    "JH", "JK", "KA", "KL", "LA", "LD", "MH", "ML", "MN", "MP", "MZ", "NL", "OD", "OR",
    "PB", "PY", "RJ", "SK", "TG", "TN", "TR", "TS", "UA", "UK", "UP", "WB",
};

struct Spec {
  IdType type;
  std::string_view shape;  // 'L' letter, 'D' digit
  unsigned
      separator_positions;  // bit k set: a separator may follow the k-th character (text masking)
};

constexpr unsigned bit(unsigned k) {
  return 1U << k;
}

// Longest first: text masking tries them in this order.
constexpr std::array<Spec, 5> kSpecs = {{
    {IdType::kDrivingLicence, "LLDDDDDDDDDDDDD", bit(2) | bit(4) | bit(8)},
    {IdType::kAadhaar, "DDDDDDDDDDDD", bit(4) | bit(8)},
    {IdType::kPan, "LLLLLDDDDL", bit(5) | bit(9)},
    {IdType::kVoterId, "LLLDDDDDDD", bit(3)},
    {IdType::kPassport, "LDDDDDDD", 0},
}};

const Spec& spec_of(IdType type) {
  for (const auto& s : kSpecs) {
    if (s.type == type) return s;
  }
  return kSpecs[0];
}

enum class Verdict { kOk, kShape, kLeadingDigit, kChecksum };

struct Reading {
  std::string normalised;
  bool corrected = false;
};

// Reads `chars` (ASCII letters and digits) against a shape. Letters are upper-
// cased; in digit positions O/o -> 0 and I/i/l -> 1.
std::optional<Reading> read_shape(std::string_view chars, std::string_view shape) {
  if (chars.size() != shape.size()) return std::nullopt;
  Reading r;
  r.normalised.reserve(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const char c = chars[i];
    const bool is_digit = c >= '0' && c <= '9';
    if (shape[i] == 'L') {
      if (is_digit) return std::nullopt;
      r.normalised.push_back(text::to_upper_ascii(c));
    } else if (is_digit) {
      r.normalised.push_back(c);
    } else if (c == 'O' || c == 'o') {
      r.normalised.push_back('0');
      r.corrected = true;
    } else if (c == 'I' || c == 'i' || c == 'l') {
      r.normalised.push_back('1');
      r.corrected = true;
    } else {
      return std::nullopt;
    }
  }
  return r;
}

Verdict check_rules(IdType type, std::string_view n) {
  switch (type) {
    case IdType::kAadhaar:
      if (n[0] == '0' || n[0] == '1') return Verdict::kLeadingDigit;
      return verhoeff_check(n) ? Verdict::kOk : Verdict::kChecksum;
    case IdType::kPan:
      return kPanHolderTypes.find(n[3]) != std::string_view::npos ? Verdict::kOk : Verdict::kShape;
    case IdType::kVoterId:
      return Verdict::kOk;
    case IdType::kPassport:
      return (n[0] == 'Q' || n[0] == 'X' || n[0] == 'Z') ? Verdict::kShape : Verdict::kOk;
    case IdType::kDrivingLicence: {
      const auto code = n.substr(0, 2);
      if (std::find(kStateCodes.begin(), kStateCodes.end(), code) == kStateCodes.end()) {
        return Verdict::kShape;
      }
      const int year = (n[4] - '0') * 1000 + (n[5] - '0') * 100 + (n[6] - '0') * 10 + (n[7] - '0');
      return (year >= 1900 && year <= 2099) ? Verdict::kOk : Verdict::kShape;
    }
  }
  return Verdict::kShape;
}

struct TypeMatch {
  Verdict verdict = Verdict::kShape;
  Reading reading;
};

TypeMatch match_type(IdType type, std::string_view chars) {
  auto reading = read_shape(chars, spec_of(type).shape);
  if (!reading) return TypeMatch{};
  const Verdict v = check_rules(type, reading->normalised);
  return TypeMatch{v, std::move(*reading)};
}

// Strips whitespace, a trailing '.'/danda and inner spaces/hyphens; maps
// digits to ASCII. nullopt when another character is present.
std::optional<std::string> compact(std::string_view input) {
  auto cps = text::decode_utf8(input);
  std::erase_if(cps, [](const text::CodePoint& cp) { return text::is_ignorable(cp.value); });
  std::size_t end = cps.size();
  while (end > 0 && text::is_space(cps[end - 1].value)) --end;
  if (end > 0 && (cps[end - 1].value == U'.' || text::is_danda(cps[end - 1].value))) --end;
  std::string out;
  for (std::size_t i = 0; i < end; ++i) {
    const char32_t cp = cps[i].value;
    const int d = text::digit_value(cp);
    if (d >= 0) {
      out.push_back(static_cast<char>('0' + d));
    } else if (text::is_ascii_letter(cp)) {
      out.push_back(static_cast<char>(cp));
    } else if (!text::is_space(cp) && !text::is_dash(cp)) {
      return std::nullopt;
    }
  }
  return out;
}

core::Error id_error(IdReason reason) {
  return core::make_error(core::ErrorCode::kInvalidInput, to_string(reason));
}

// ---------------------------------------------------------------------------
// Text masking: pieces are maximal runs of digits (any script) or of ASCII
// letters; `join` says what separates a piece from the previous one.

enum class Join { kNone, kAdjacent, kSeparator };

struct Piece {
  bool digits = false;
  std::string chars;  // ASCII
  std::size_t byte_begin = 0;
  std::size_t byte_end = 0;
  Join join = Join::kNone;
};

constexpr int kMaxSeparatorRun = 3;

std::vector<Piece> split_pieces(const std::vector<text::CodePoint>& cps) {
  std::vector<Piece> pieces;
  int gap_separators = 0;
  bool gap_other = false;
  for (const auto& cp : cps) {
    if (text::is_ignorable(cp.value)) continue;
    const int d = text::digit_value(cp.value);
    const bool letter = text::is_ascii_letter(cp.value);
    if (d < 0 && !letter) {
      if (text::is_space(cp.value) || text::is_dash(cp.value)) {
        ++gap_separators;
      } else {
        gap_other = true;
      }
      continue;
    }
    const bool digits = d >= 0;
    const char ascii = digits ? static_cast<char>('0' + d) : static_cast<char>(cp.value);
    const bool no_gap = gap_separators == 0 && !gap_other;
    if (!pieces.empty() && no_gap && pieces.back().digits == digits) {
      pieces.back().chars.push_back(ascii);
      pieces.back().byte_end = cp.end;
      continue;
    }
    Piece p;
    p.digits = digits;
    p.chars.push_back(ascii);
    p.byte_begin = cp.begin;
    p.byte_end = cp.end;
    if (pieces.empty() || gap_other || gap_separators > kMaxSeparatorRun) {
      p.join = Join::kNone;
    } else {
      p.join = no_gap ? Join::kAdjacent : Join::kSeparator;
    }
    pieces.push_back(std::move(p));
    gap_separators = 0;
    gap_other = false;
  }
  return pieces;
}

struct TextMatch {
  std::size_t last_piece = 0;
  std::string normalised;
};

std::optional<TextMatch> match_in_pieces(const std::vector<Piece>& pieces, std::size_t s,
                                         const Spec& spec) {
  const std::size_t length = spec.shape.size();
  std::string chars;
  unsigned separators = 0;
  std::size_t t = s;
  for (; t < pieces.size(); ++t) {
    if (t > s) {
      if (pieces[t].join == Join::kNone) return std::nullopt;
      if (pieces[t].join == Join::kSeparator)
        separators |= bit(static_cast<unsigned>(chars.size()));
    }
    chars += pieces[t].chars;
    if (chars.size() >= length) break;
  }
  if (chars.size() != length) return std::nullopt;
  if ((separators & ~spec.separator_positions) != 0) return std::nullopt;

  const bool aadhaar = spec.type == IdType::kAadhaar;
  if (aadhaar) {
    // Contiguous or 4+4+4 only, digits only, any leading/check digit.
    if (separators != 0 && separators != spec.separator_positions) return std::nullopt;
    if (!all_ascii_digits(chars)) return std::nullopt;
    for (std::size_t k = s; k <= t; ++k) {
      if (!pieces[k].digits) return std::nullopt;
    }
    return TextMatch{t, chars};
  }
  // Other types must be whole words.
  if (pieces[s].join == Join::kAdjacent) return std::nullopt;
  if (t + 1 < pieces.size() && pieces[t + 1].join == Join::kAdjacent) return std::nullopt;
  TypeMatch m = match_type(spec.type, chars);
  if (m.verdict != Verdict::kOk) return std::nullopt;
  return TextMatch{t, std::move(m.reading.normalised)};
}

}  // namespace

const char* to_string(IdType type) {
  switch (type) {
    case IdType::kAadhaar:
      return "aadhaar";
    case IdType::kPan:
      return "pan";
    case IdType::kVoterId:
      return "voter_id";
    case IdType::kPassport:
      return "passport";
    case IdType::kDrivingLicence:
      return "driving_licence";
  }
  return "unknown";
}

const char* to_string(IdReason reason) {
  switch (reason) {
    case IdReason::kEmpty:
      return "id.empty";
    case IdReason::kUnrecognised:
      return "id.unrecognised";
    case IdReason::kAadhaarChecksum:
      return "id.aadhaar_checksum";
    case IdReason::kAadhaarLeadingDigit:
      return "id.aadhaar_leading_digit";
  }
  return "id.unrecognised";
}

bool verhoeff_check(std::string_view digits) {
  if (digits.empty() || !all_ascii_digits(digits)) return false;
  return verhoeff_accumulate(digits, 0) == 0;
}

char verhoeff_digit(std::string_view digits) {
  if (!all_ascii_digits(digits)) return '\0';
  const int c = verhoeff_accumulate(digits, 1);
  return static_cast<char>('0' + kVerhoeffInv[static_cast<std::size_t>(c)]);
}

IdRecognition recognise_id(std::string_view text) {
  const auto chars = compact(text);
  if (!chars) return IdReason::kUnrecognised;
  if (chars->empty()) return IdReason::kEmpty;

  std::vector<IdCandidate> found;
  std::optional<IdReason> aadhaar_reason;
  for (const auto& spec : kSpecs) {
    TypeMatch m = match_type(spec.type, *chars);
    switch (m.verdict) {
      case Verdict::kOk:
        found.push_back(
            IdCandidate{spec.type, std::move(m.reading.normalised), m.reading.corrected});
        break;
      case Verdict::kLeadingDigit:
        aadhaar_reason = IdReason::kAadhaarLeadingDigit;
        break;
      case Verdict::kChecksum:
        aadhaar_reason = IdReason::kAadhaarChecksum;
        break;
      case Verdict::kShape:
        break;
    }
  }
  if (found.empty()) return aadhaar_reason.value_or(IdReason::kUnrecognised);
  std::stable_sort(found.begin(), found.end(), [](const IdCandidate& a, const IdCandidate& b) {
    return !a.corrected && b.corrected;
  });
  return found;
}

core::Result<std::string> validate_id(IdType type, std::string_view text) {
  const auto chars = compact(text);
  if (!chars) return id_error(IdReason::kUnrecognised);
  if (chars->empty()) return id_error(IdReason::kEmpty);
  TypeMatch m = match_type(type, *chars);
  switch (m.verdict) {
    case Verdict::kOk:
      return std::move(m.reading.normalised);
    case Verdict::kLeadingDigit:
      return id_error(IdReason::kAadhaarLeadingDigit);
    case Verdict::kChecksum:
      return id_error(IdReason::kAadhaarChecksum);
    case Verdict::kShape:
      break;
  }
  return id_error(IdReason::kUnrecognised);
}

std::string last4(std::string_view normalised) {
  const auto cps = text::decode_utf8(normalised);
  if (cps.size() <= 4) return std::string(normalised);
  return std::string(normalised.substr(cps[cps.size() - 4].begin));
}

std::string mask_id(std::string_view normalised) {
  if (normalised.size() == 12 && all_ascii_digits(normalised)) {
    return "XXXX XXXX " + std::string(normalised.substr(8));
  }
  const auto cps = text::decode_utf8(normalised);
  if (cps.size() <= 4) return std::string(cps.size(), '*');
  std::string out(cps.size() - 4, '*');
  out += normalised.substr(cps[cps.size() - 4].begin);
  return out;
}

std::string mask_id_numbers_in_text(std::string_view text) {
  const auto cps = text::decode_utf8(text);
  const std::vector<Piece> pieces = split_pieces(cps);
  std::string out;
  out.reserve(text.size());
  std::size_t copied = 0;
  std::size_t s = 0;
  while (s < pieces.size()) {
    std::optional<TextMatch> match;
    for (const auto& spec : kSpecs) {
      match = match_in_pieces(pieces, s, spec);
      if (match) break;
    }
    if (!match) {
      ++s;
      continue;
    }
    out.append(text.substr(copied, pieces[s].byte_begin - copied));
    out += mask_id(match->normalised);
    copied = pieces[match->last_piece].byte_end;
    s = match->last_piece + 1;
  }
  out.append(text.substr(copied));
  return out;
}

}  // namespace vaxbot::booking
