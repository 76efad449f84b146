// ID-proof recognition, validation and masking.
//
// Types and their normalised form (ASCII, upper case, no separators):
//   kAadhaar         12 digits, first digit 2-9, last digit a valid Verhoeff check digit.
//   kPan             5 letters, 4 digits, 1 letter; the 4th letter is the holder
//                    type, one of C P H F A T B L J G.
//   kVoterId (EPIC)  3 letters + 7 digits.
//   kPassport        1 letter (not Q, X or Z) + 7 digits.
//   kDrivingLicence  state/UT code (2 letters, from the list of Indian codes,
//                    old ones like OR and UA included) + 2-digit RTO code +
//                    4-digit year of issue (1900-2099) + 7-digit number,
//                    e.g. "WB-06 2011 0012345" -> "WB0620110012345".
//
// Input handling (recognise_id / validate_id): surrounding whitespace and a
// trailing '.' or '।' are ignored; spaces and hyphens anywhere between the
// characters are dropped; letters may be lower case; digits may be ASCII,
// Bengali or Devanagari. Where a digit is expected, the look-alikes O/o -> 0
// and I/i/l -> 1 are read as digits (a "corrected" candidate). Any other
// character (a label such as "PAN:", punctuation) makes the input unrecognised:
// the conversation asks for the number alone.
//
// recognise_id returns every type the input fits, exact readings before
// corrected ones. The exact shapes never overlap (their lengths or letter/
// digit positions differ), so more than one candidate needs a look-alike
// correction: a 10-character input with a lower-case l as 4th character, O/I/l
// as 5th and 10th and digits as 6th-9th is a PAN as typed and an EPIC once the
// look-alikes are read as digits (e.g. "abclo1234i"), and inputs with
// look-alikes in PAN digit positions can be both a corrected PAN and a
// corrected EPIC. The caller should confirm any corrected or multiple result
// with the resident. Failure reasons: kEmpty (nothing but separators),
// kAadhaarLeadingDigit / kAadhaarChecksum (12 digits that are not a valid
// Aadhaar; the leading digit is checked first), kUnrecognised (anything else).
//
// validate_id applies the same rules for one type the resident named and
// fails with ErrorCode::kInvalidInput whose message is the reason key
// ("id.empty", "id.unrecognised", "id.aadhaar_checksum", "id.aadhaar_leading_digit").
//
// Masking scheme (mask_id): an Aadhaar becomes "XXXX XXXX 1234"; every other
// value becomes '*' for each character but the last 4 ("******234F"); a value
// of 4 characters or fewer is masked entirely. last4 returns the last 4
// characters (the whole value when shorter).
//
// mask_id_numbers_in_text replaces, in free text, every span that has the
// shape of one of these IDs with mask_id(normalised) and copies everything
// else byte for byte (invalid UTF-8 included). It errs on the side of masking:
//   - Aadhaar: any run of exactly 12 digits (any script, not part of a longer
//     digit run; letters may touch it, as in "Aadhaar123456789012"), written
//     contiguously or as 4+4+4 separated by spaces/hyphens (at most 3 each),
//     whatever its leading digit or check digit (a mistyped Aadhaar is still
//     personal data). This also masks 12-digit phone numbers such as
//     919800000001.
//   - PAN / EPIC / passport / driving licence: a whole word (not touching other
//     letters or digits) of a valid shape as above, look-alikes included, with
//     spaces/hyphens allowed only at the natural breaks (PAN 5|4|1, EPIC 3|7,
//     licence 2|2|4|7; passports contiguous).
// Dates (12/05/2021, 12-05-2021), times, short numbers and 10-digit phone
// numbers are left alone.
//
// verhoeff_check(digits) is true iff `digits` is non-empty, all ASCII digits,
// and its last digit is the Verhoeff check digit of the rest.
// verhoeff_digit(digits) is the check digit ('0'..'9') to append to `digits`,
// or '\0' when `digits` contains a non-digit.
//
// Nothing here throws (except std::bad_alloc), does I/O or keeps state.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"

namespace vaxbot::booking {

enum class IdType { kAadhaar, kPan, kVoterId, kPassport, kDrivingLicence };

// Machine keys: "aadhaar", "pan", "voter_id", "passport", "driving_licence".
const char* to_string(IdType type);

enum class IdReason { kEmpty, kUnrecognised, kAadhaarChecksum, kAadhaarLeadingDigit };

// Machine keys: "id.empty", "id.unrecognised", "id.aadhaar_checksum", "id.aadhaar_leading_digit".
const char* to_string(IdReason reason);

struct IdCandidate {
  IdType type = IdType::kAadhaar;
  std::string normalised;
  bool corrected = false;  // a look-alike letter was read as a digit

  friend bool operator==(const IdCandidate&, const IdCandidate&) = default;
};

class IdRecognition {
 public:
  IdRecognition(std::vector<IdCandidate> candidates)  // NOLINT(google-explicit-constructor)
      : v_(std::move(candidates)) {}
  IdRecognition(IdReason reason) : v_(reason) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Preconditions: candidates() only when ok() (never empty then), reason() only when !ok().
  const std::vector<IdCandidate>& candidates() const { return std::get<0>(v_); }
  IdReason reason() const { return std::get<1>(v_); }

 private:
  std::variant<std::vector<IdCandidate>, IdReason> v_;
};

IdRecognition recognise_id(std::string_view text);
core::Result<std::string> validate_id(IdType type, std::string_view text);

std::string mask_id(std::string_view normalised);
std::string last4(std::string_view normalised);
std::string mask_id_numbers_in_text(std::string_view text);

bool verhoeff_check(std::string_view digits);
char verhoeff_digit(std::string_view digits);

}  // namespace vaxbot::booking
