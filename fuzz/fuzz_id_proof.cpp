// libFuzzer target for booking/id_proof.h.
// Invariants checked on every input:
//  - a recognised candidate re-validates (from the input and from its
//    normalised form) to the same normalised value, is recognised again from
//    its normalised form, and is hidden by mask_id / mask_id_numbers_in_text;
//  - validate_id succeeds for a type iff recognise_id lists that type;
//  - masked free text never contains a run of exactly 12 digits and stays
//    valid UTF-8 when the input was;
//  - verhoeff_check agrees with verhoeff_digit.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "booking/id_proof.h"
#include "booking/text_utils.h"
#include "fuzz_check.h"

namespace {

using namespace vaxbot::booking;

constexpr IdType kTypes[] = {IdType::kAadhaar, IdType::kPan, IdType::kVoterId, IdType::kPassport,
                             IdType::kDrivingLicence};

// Longest run of digits (any script; invisible joiners are transparent) that
// is exactly 12 long, as a boolean.
bool has_12_digit_run(std::string_view s) {
  std::size_t run = 0;
  for (const auto& cp : text::decode_utf8(s)) {
    if (text::is_ignorable(cp.value)) continue;
    if (text::digit_value(cp.value) >= 0) {
      ++run;
    } else {
      if (run == 12) return true;
      run = 0;
    }
  }
  return run == 12;
}

void check_candidate(std::string_view input, const IdCandidate& c) {
  const std::string& n = c.normalised;
  FUZZ_CHECK(!n.empty());
  auto from_input = validate_id(c.type, input);
  FUZZ_CHECK(from_input.ok() && *from_input == n);
  auto from_norm = validate_id(c.type, n);
  FUZZ_CHECK(from_norm.ok() && *from_norm == n);
  const IdRecognition again = recognise_id(n);
  FUZZ_CHECK(again.ok());
  bool listed = false;
  for (const auto& a : again.candidates()) {
    if (a.type == c.type && a.normalised == n && !a.corrected) listed = true;
  }
  FUZZ_CHECK(listed);
  if (c.type == IdType::kAadhaar) {
    FUZZ_CHECK(n.size() == 12 && verhoeff_check(n) && n[0] != '0' && n[0] != '1');
  }
  const std::string masked = mask_id(n);
  FUZZ_CHECK(masked.find(n) == std::string::npos);
  FUZZ_CHECK(masked.size() >= 4 && masked.substr(masked.size() - 4) == last4(n));
  FUZZ_CHECK(mask_id_numbers_in_text(n) == masked);
  const std::string sentence = "my id is " + n + ", thanks";
  FUZZ_CHECK(mask_id_numbers_in_text(sentence).find(n) == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  const IdRecognition r = recognise_id(input);
  if (r.ok()) {
    FUZZ_CHECK(!r.candidates().empty());
    for (const auto& c : r.candidates()) check_candidate(input, c);
  }
  for (const IdType type : kTypes) {
    auto v = validate_id(type, input);
    bool listed = false;
    if (r.ok()) {
      for (const auto& c : r.candidates()) listed = listed || c.type == type;
    }
    FUZZ_CHECK(v.ok() == listed);
    if (!v.ok()) FUZZ_CHECK(v.error().message.rfind("id.", 0) == 0);
  }

  const std::string masked = mask_id_numbers_in_text(input);
  FUZZ_CHECK(!has_12_digit_run(masked));
  if (text::is_valid_utf8(input)) FUZZ_CHECK(text::is_valid_utf8(masked));
  if (!has_12_digit_run(input)) {
    // Nothing Aadhaar-shaped and contiguous: only letter-bearing IDs can change.
    FUZZ_CHECK(masked.size() <= input.size() + 16 * (input.size() / 8 + 1));
  }

  const bool digits_only =
      !input.empty() && input.find_first_not_of("0123456789") == std::string_view::npos;
  if (digits_only) {
    const char expected = verhoeff_digit(input.substr(0, input.size() - 1));
    FUZZ_CHECK(verhoeff_check(input) == (expected == input.back()));
  } else {
    FUZZ_CHECK(!verhoeff_check(input));
  }
  (void)last4(input);
  (void)mask_id(input);
  return 0;
}
