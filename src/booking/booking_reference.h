// Booking references: short codes a resident can read out, copy by hand and
// type back, e.g. "VX-7KQ4M-9TRCH".
//
// Format: "VX-" + 5 characters + "-" + 5 characters. The first 9 characters
// after the prefix are random (from a RandomSource; 23^9 ~ 2^40.7, so at least
// 40 random bits), the 10th is a check character.
//
// Alphabet (23 characters, a prime number): 3 4 6 7 9 A C D E F H J K M N P Q
// R T U W X Y. Left out because they look like another character: 0 O (round),
// 1 I L (stroke), 2 Z, 5 S, 8 B, and G (looks like 6) and V (looks like U).
//
// Check character: with v_i the alphabet index of payload character i
// (i = 0..8) and c that of the check character,
//   (10*v_0 + 9*v_1 + ... + 2*v_8 + 1*c) mod 23 == 0.
// The weights 10..1 are distinct and non-zero modulo the prime 23, so every
// single-character substitution and every transposition of two different
// characters (adjacent or not, check character included) changes the sum and
// is rejected.
//
// parse_reference accepts what a resident types: any case, with or without the
// "VX" prefix, with spaces and hyphens anywhere (or none), Bengali/Devanagari
// digits, a trailing '.' or '।'. Characters outside the alphabet that look like
// alphabet characters are read as them: G -> 6, g -> 6 or 9, V -> U, and
// O/o/0 -> D or Q. When a look-alike has two readings, the check character
// decides; the input is accepted only if exactly one reading is valid (at most
// 4 such positions are tried). It returns the canonical form or fails with
// ErrorCode::kInvalidInput and one of the message keys below.
//
// generate_reference fails with kUnavailable ("reference.random_unavailable")
// when the RandomSource reports failure, and with kInternal
// ("reference.random_exhausted") if it keeps producing unusable bytes.
// No global state; nothing throws (except std::bad_alloc).
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace vaxbot::booking {

inline constexpr std::string_view kReferenceAlphabet = "34679ACDEFHJKMNPQRTUWXY";
inline constexpr std::string_view kReferencePrefix = "VX";
inline constexpr std::size_t kReferenceRandomChars = 9;
inline constexpr std::size_t kReferenceCodeChars = kReferenceRandomChars + 1;  // with check
inline constexpr std::size_t kReferenceCanonicalLength = 14;                   // "VX-XXXXX-XXXXX"

inline constexpr std::string_view kRefErrEmpty = "reference.empty";
inline constexpr std::string_view kRefErrBadCharacter = "reference.bad_character";
inline constexpr std::string_view kRefErrBadLength = "reference.bad_length";
inline constexpr std::string_view kRefErrCheckFailed = "reference.check_failed";
inline constexpr std::string_view kRefErrAmbiguous = "reference.ambiguous";

// A source of cryptographically secure random bytes. fill() writes every byte
// of `out` and returns true, or returns false on failure.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual bool fill(std::span<std::byte> out) = 0;
};

core::Result<std::string> generate_reference(RandomSource& random);
core::Result<std::string> parse_reference(std::string_view typed);

// The check character for 9 alphabet characters, or '\0' if `payload` is not that.
char reference_check_char(std::string_view payload);

}  // namespace vaxbot::booking
