// Tests for booking/id_proof.h.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "booking/id_proof.h"

using vaxbot::booking::IdCandidate;
using vaxbot::booking::IdReason;
using vaxbot::booking::IdType;
using vaxbot::booking::last4;
using vaxbot::booking::mask_id;
using vaxbot::booking::mask_id_numbers_in_text;
using vaxbot::booking::recognise_id;
using vaxbot::booking::validate_id;
using vaxbot::booking::verhoeff_check;
using vaxbot::booking::verhoeff_digit;

namespace {

// Appends the Verhoeff check digit: makes valid Aadhaar-shaped numbers from 11 digits.
// (Used in static initialisers too, so no doctest assertions here.)
std::string with_check(std::string eleven) {
  eleven.push_back(verhoeff_digit(eleven));
  return eleven;
}

// ASCII digits -> Bengali or Devanagari digits (UTF-8).
std::string to_script(std::string_view ascii, char32_t zero) {
  std::string out;
  for (const char ch : ascii) {
    if (ch < '0' || ch > '9') {
      out.push_back(ch);
      continue;
    }
    const char32_t cp = zero + static_cast<char32_t>(ch - '0');
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return out;
}
constexpr char32_t kBengaliZero = 0x09E6;
constexpr char32_t kDevanagariZero = 0x0966;

std::string grouped(std::string_view twelve, char sep) {
  return std::string(twelve.substr(0, 4)) + sep + std::string(twelve.substr(4, 4)) + sep +
         std::string(twelve.substr(8));
}

// "type:normalised[*]" per candidate, or the reason key.
std::string describe(std::string_view input) {
  const auto r = recognise_id(input);
  if (!r.ok()) return to_string(r.reason());
  std::string out;
  for (const auto& c : r.candidates()) {
    if (!out.empty()) out += " | ";
    out += std::string(to_string(c.type)) + ":" + c.normalised + (c.corrected ? "*" : "");
  }
  return out;
}

// Deterministic generator for property tests.
struct Lcg {
  std::uint64_t state;
  std::uint64_t next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  }
  std::string digits(std::size_t n, char first_min = '0') {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
      const auto lo = static_cast<std::uint64_t>(i == 0 ? first_min - '0' : 0);
      s.push_back(static_cast<char>('0' + lo + next() % (10 - lo)));
    }
    return s;
  }
  char letter() { return static_cast<char>('A' + next() % 26); }
};

const std::string kAadhaarA = with_check("23456789012");  // 234567890124
const std::string kAadhaarB = with_check("98765432101");
const std::string kAadhaarC = with_check("50000000000");

}  // namespace

TEST_SUITE("booking id_proof verhoeff") {
  TEST_CASE("published test vectors") {
    CHECK(verhoeff_digit("236") == '3');
    CHECK(verhoeff_check("2363"));
    CHECK_FALSE(verhoeff_check("2364"));
    CHECK_FALSE(verhoeff_check("2336"));
    CHECK(verhoeff_digit("12345") == '1');
    CHECK(verhoeff_check("123451"));
    CHECK_FALSE(verhoeff_check("123452"));
    CHECK(verhoeff_digit("142857") == '0');
    CHECK(verhoeff_check("1428570"));
    CHECK(verhoeff_digit("123456789012") == '0');
    CHECK(verhoeff_check("1234567890120"));
    CHECK_FALSE(verhoeff_check("1234567890121"));
    // UIDAI's sandbox test residents.
    CHECK(verhoeff_check("999941057058"));
    CHECK(verhoeff_check("499118665246"));
  }

  TEST_CASE("bad input") {
    CHECK_FALSE(verhoeff_check(""));
    CHECK_FALSE(verhoeff_check("23a3"));
    CHECK_FALSE(verhoeff_check("2363 "));
    CHECK(verhoeff_digit("12a") == '\0');
    CHECK(verhoeff_digit("") == '0');
    CHECK(verhoeff_check("0"));
  }

  TEST_CASE("every single-digit error and adjacent transposition is caught") {
    Lcg rng{42};
    int numbers = 0;
    for (int n = 0; n < 300; ++n) {
      const std::string valid = with_check(rng.digits(11, '2'));
      REQUIRE(verhoeff_check(valid));
      ++numbers;
      for (std::size_t i = 0; i < valid.size(); ++i) {
        for (char d = '0'; d <= '9'; ++d) {
          if (d == valid[i]) continue;
          std::string wrong = valid;
          wrong[i] = d;
          CAPTURE(wrong);
          CHECK_FALSE(verhoeff_check(wrong));
        }
        if (i + 1 < valid.size() && valid[i] != valid[i + 1]) {
          std::string swapped = valid;
          std::swap(swapped[i], swapped[i + 1]);
          CAPTURE(swapped);
          CHECK_FALSE(verhoeff_check(swapped));
        }
      }
    }
    CHECK(numbers == 300);
  }
}

TEST_SUITE("booking id_proof recognise") {
  TEST_CASE("Aadhaar in every accepted spelling") {
    REQUIRE(kAadhaarA == "234567890124");
    const std::string expected = "aadhaar:" + kAadhaarA;
    const std::vector<std::string> inputs = {
        kAadhaarA,
        grouped(kAadhaarA, ' '),
        grouped(kAadhaarA, '-'),
        "  " + grouped(kAadhaarA, ' ') + "  ",
        grouped(kAadhaarA, ' ') + ".",
        kAadhaarA + "।",
        "2 3 4 5 6 7 8 9 0 1 2 4",
        "2345  6789  0124",
        to_script(kAadhaarA, kBengaliZero),
        to_script(grouped(kAadhaarA, ' '), kBengaliZero),
        to_script(kAadhaarA, kDevanagariZero),
        to_script(grouped(kAadhaarA, '-'), kDevanagariZero),
        to_script("2345", kBengaliZero) + " 6789 " + to_script("0124", kDevanagariZero),
        "2345\u00A06789\u00A00124",
        "2345\u20136789\u20130124",  // en dashes
    };
    for (const auto& in : inputs) {
      CAPTURE(in);
      CHECK(describe(in) == expected);
    }
    CHECK(describe(kAadhaarB) == "aadhaar:" + kAadhaarB);
    CHECK(describe(kAadhaarC) == "aadhaar:" + kAadhaarC);
    CHECK(describe("9999 4105 7058") == "aadhaar:999941057058");
  }

  TEST_CASE("Aadhaar failures") {
    // A valid check digit but a forbidden first digit: the leading digit is reported.
    const std::string zero = with_check("03456789012");
    const std::string one = with_check("13456789012");
    CHECK(describe(zero) == "id.aadhaar_leading_digit");
    CHECK(describe(one) == "id.aadhaar_leading_digit");
    CHECK(describe(grouped(one, ' ')) == "id.aadhaar_leading_digit");
    // Every wrong check digit.
    for (char d = '0'; d <= '9'; ++d) {
      std::string wrong = kAadhaarA;
      wrong.back() = d;
      CAPTURE(wrong);
      CHECK(describe(wrong) ==
            (d == kAadhaarA.back() ? "aadhaar:" + kAadhaarA : std::string("id.aadhaar_checksum")));
    }
    CHECK(describe("2345 6789 0123") == "id.aadhaar_checksum");
    CHECK(describe(to_script("234567890123", kBengaliZero)) == "id.aadhaar_checksum");
    CHECK(describe("23456789012") == "id.unrecognised");    // 11 digits
    CHECK(describe("2345678901245") == "id.unrecognised");  // 13 digits
  }

  TEST_CASE("PAN") {
    CHECK(describe("ABCPE1234F") == "pan:ABCPE1234F");
    CHECK(describe("abcpe1234f") == "pan:ABCPE1234F");
    CHECK(describe("ABCPE 1234 F") == "pan:ABCPE1234F");
    CHECK(describe("abcpe-1234-f.") == "pan:ABCPE1234F");
    CHECK(describe("ABCPE১২৩৪F") == "pan:ABCPE1234F");
    for (const char holder : std::string_view("CPHFATBLJG")) {
      std::string pan = "ABCXE1234F";
      pan[3] = holder;
      CAPTURE(pan);
      CHECK(describe(pan) == "pan:" + pan);
    }
    for (const char holder : std::string_view("DEIKMNOQRSUVWXYZ")) {
      std::string pan = "ABCXE1234F";
      pan[3] = holder;
      CAPTURE(pan);
      CHECK(describe(pan) == "id.unrecognised");
    }
    CHECK(describe("ABCPE12345") == "id.unrecognised");
    CHECK(describe("ABCP11234F") == "id.unrecognised");
    CHECK(describe("ABCPE123F") == "id.unrecognised");
  }

  TEST_CASE("voter ID (EPIC)") {
    CHECK(describe("ABC1234567") == "voter_id:ABC1234567");
    CHECK(describe("abc 1234567") == "voter_id:ABC1234567");
    CHECK(describe("WBX-০১২৩৪৫৬") == "voter_id:WBX0123456");
    CHECK(describe("ABC123456") == "id.unrecognised");
    CHECK(describe("AB1234567") == "id.unrecognised");
    CHECK(describe("ABC12345678") == "id.unrecognised");
  }

  TEST_CASE("passport") {
    CHECK(describe("J1234567") == "passport:J1234567");
    CHECK(describe("j 123 4567") == "passport:J1234567");
    CHECK(describe("A०१२३४५६") == "passport:A0123456");
    CHECK(describe("Q1234567") == "id.unrecognised");
    CHECK(describe("X1234567") == "id.unrecognised");
    CHECK(describe("z1234567") == "id.unrecognised");
    CHECK(describe("J123456") == "id.unrecognised");
    CHECK(describe("JK1234567") == "id.unrecognised");
  }

  TEST_CASE("driving licence") {
    CHECK(describe("WB-06 2011 0012345") == "driving_licence:WB0620110012345");
    CHECK(describe("WB0620110012345") == "driving_licence:WB0620110012345");
    CHECK(describe("wb 06 2011 0012345") == "driving_licence:WB0620110012345");
    CHECK(describe("DL-14 1999 ১২৩৪৫৬৭") == "driving_licence:DL1419991234567");
    for (const char* code : {"AN", "AP", "KA", "MH", "OD", "OR", "TG", "TS", "UK", "UP", "JK"}) {
      const std::string dl = std::string(code) + "0120150000001";
      CAPTURE(dl);
      CHECK(describe(dl) == "driving_licence:" + dl);
    }
    CHECK(describe("XX-06 2011 0012345") == "id.unrecognised");  // no such state
    CHECK(describe("WX-06 2011 0012345") == "id.unrecognised");
    CHECK(describe("WB-06 1800 0012345") == "id.unrecognised");  // year
    CHECK(describe("WB-06 2111 0012345") == "id.unrecognised");
    CHECK(describe("WB-06 2011 001234") == "id.unrecognised");    // too short
    CHECK(describe("WB-06 2011 00123456") == "id.unrecognised");  // too long
  }

  TEST_CASE("look-alike letters in digit positions") {
    CHECK(describe("ABC123456O") == "voter_id:ABC1234560*");
    CHECK(describe("ABCI234567") == "voter_id:ABC1234567*");
    CHECK(describe("abcl234567") == "voter_id:ABC1234567*");
    CHECK(describe("JI234567") == "passport:J1234567*");
    CHECK(describe("ABCPE12O4F") == "pan:ABCPE1204F*");
    CHECK(describe("WB-O6 2O11 OO12345") == "driving_licence:WB0620110012345*");
    // An Aadhaar with 0 typed as O is still checked.
    CHECK(describe("5OOO OOOO OOO" + std::string(1, kAadhaarC.back())) ==
          "aadhaar:" + kAadhaarC + "*");
    CHECK(describe("5OOO OOOO OOOO") ==
          (kAadhaarC.back() == '0' ? "aadhaar:500000000000*" : "id.aadhaar_checksum"));
    // Upper-case L is a letter, not a look-alike of 1.
    CHECK(describe("ABCL234567") == "id.unrecognised");
  }

  TEST_CASE("ambiguous shapes give several candidates, exact readings first") {
    CHECK(describe("abclo1234i") == "pan:ABCLO1234I | voter_id:ABC1012341*");
    CHECK(describe("abclOO234I") == "pan:ABCLO0234I* | voter_id:ABC1002341*");
    const auto r = recognise_id("abclo1234i");
    REQUIRE(r.ok());
    REQUIRE(r.candidates().size() == 2);
    CHECK(r.candidates()[0] == IdCandidate{IdType::kPan, "ABCLO1234I", false});
    CHECK(r.candidates()[1] == IdCandidate{IdType::kVoterId, "ABC1012341", true});
  }

  TEST_CASE("empty and unrecognised") {
    CHECK(describe("") == "id.empty");
    CHECK(describe("   ") == "id.empty");
    CHECK(describe(" - ") == "id.empty");
    CHECK(describe(".") == "id.empty");
    CHECK(describe("hello") == "id.unrecognised");
    CHECK(describe("PAN: ABCPE1234F") == "id.unrecognised");
    CHECK(describe("my aadhaar is " + kAadhaarA) == "id.unrecognised");
    CHECK(describe("3") == "id.unrecognised");
    CHECK(describe("12/05/2021") == "id.unrecognised");
    CHECK(describe("ABCPE1234F!") == "id.unrecognised");
    CHECK(describe("ABCPE1234F\xff") == "id.unrecognised");
    CHECK(describe("আধার") == "id.unrecognised");
    CHECK(describe("ABCDEFGHIJ") == "id.unrecognised");
  }
}

TEST_SUITE("booking id_proof validate") {
  TEST_CASE("the named type is checked") {
    auto ok = validate_id(IdType::kAadhaar, grouped(kAadhaarA, ' '));
    REQUIRE(ok.ok());
    CHECK(*ok == kAadhaarA);
    CHECK(*validate_id(IdType::kPan, "abcpe 1234 f") == "ABCPE1234F");
    CHECK(*validate_id(IdType::kVoterId, "abc1234567") == "ABC1234567");
    CHECK(*validate_id(IdType::kPassport, "j1234567") == "J1234567");
    CHECK(*validate_id(IdType::kDrivingLicence, "WB-06 2011 0012345") == "WB0620110012345");
    CHECK(*validate_id(IdType::kVoterId, "ABC123456O") == "ABC1234560");
  }

  TEST_CASE("failures carry the reason key") {
    const std::vector<std::tuple<IdType, std::string, const char*>> cases = {
        {IdType::kAadhaar, "", "id.empty"},
        {IdType::kAadhaar, "2345 6789 0123", "id.aadhaar_checksum"},
        {IdType::kAadhaar, with_check("13456789012"), "id.aadhaar_leading_digit"},
        {IdType::kAadhaar, "ABCPE1234F", "id.unrecognised"},
        {IdType::kPan, kAadhaarA, "id.unrecognised"},
        {IdType::kPan, "ABCDE1234F", "id.unrecognised"},
        {IdType::kVoterId, "ABCPE1234F", "id.unrecognised"},
        {IdType::kPassport, "Q1234567", "id.unrecognised"},
        {IdType::kDrivingLicence, "ZZ0620110012345", "id.unrecognised"},
        {IdType::kPassport, "  ", "id.empty"},
    };
    for (const auto& [type, input, key] : cases) {
      CAPTURE(input);
      auto r = validate_id(type, input);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == vaxbot::core::ErrorCode::kInvalidInput);
      CHECK(r.error().message == key);
    }
  }
}

TEST_SUITE("booking id_proof mask") {
  TEST_CASE("mask_id and last4") {
    CHECK(mask_id(kAadhaarA) == "XXXX XXXX 0124");
    CHECK(mask_id("ABCPE1234F") == "******234F");
    CHECK(mask_id("ABC1234567") == "******4567");
    CHECK(mask_id("J1234567") == "****4567");
    CHECK(mask_id("WB0620110012345") == "***********2345");
    CHECK(mask_id("ABCD") == "****");
    CHECK(mask_id("AB") == "**");
    CHECK(mask_id("") == "");
    CHECK(last4(kAadhaarA) == "0124");
    CHECK(last4("ABCPE1234F") == "234F");
    CHECK(last4("AB") == "AB");
  }

  TEST_CASE("IDs in free text are masked") {
    const std::string a = kAadhaarA;
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"my aadhaar is " + grouped(a, ' ') + " thanks", "my aadhaar is XXXX XXXX 0124 thanks"},
        {"aadhaar: " + a, "aadhaar: XXXX XXXX 0124"},
        {a, "XXXX XXXX 0124"},
        {grouped(a, '-') + ".", "XXXX XXXX 0124."},
        {"(" + grouped(a, ' ') + ")", "(XXXX XXXX 0124)"},
        {"Aadhaar" + a, "AadhaarXXXX XXXX 0124"},
        {"2345 - 6789 - 0124", "XXXX XXXX 0124"},
        {"আমার আধার " + to_script(grouped(a, ' '), kBengaliZero) + "।",
         "আমার আধার XXXX XXXX 0124।"},
        {"आधार " + to_script(a, kDevanagariZero) + " है", "आधार XXXX XXXX 0124 है"},
        {"আধার" + to_script(a, kBengaliZero), "আধারXXXX XXXX 0124"},
        // A wrong check digit or leading digit is masked too.
        {"2345 6789 0123", "XXXX XXXX 0123"},
        {"call 919800000001", "call XXXX XXXX 0001"},
        {"PAN ABCPE1234F ok", "PAN ******234F ok"},
        {"pan abcpe1234f", "pan ******234F"},
        {"PAN ABCPE 1234 F", "PAN ******234F"},
        {"EPIC: ABC1234567.", "EPIC: ******4567."},
        {"voter id abc 1234567", "voter id ******4567"},
        {"passport J1234567, expires 2030", "passport ****4567, expires 2030"},
        {"DL WB-06 2011 0012345 issued", "DL ***********2345 issued"},
        {"DL WB0620110012345", "DL ***********2345"},
        {"ids: " + a + ", ABCPE1234F, J1234567", "ids: XXXX XXXX 0124, ******234F, ****4567"},
        {"EPIC ABC123456O", "EPIC ******4560"},
        {"\xff " + a + " \xfe", "\xff XXXX XXXX 0124 \xfe"},
    };
    for (const auto& [in, expected] : cases) {
      CAPTURE(in);
      CHECK(mask_id_numbers_in_text(in) == expected);
    }
  }

  TEST_CASE("things that are not IDs are left alone") {
    const std::vector<std::string> untouched = {
        "",
        "3",
        "dose 2",
        "12/05/2021",
        "12-05-2021",
        "2021-05-12",
        "12.05.2021 10:30",
        "১২/০৫/২০২১",
        "12 May 2021",
        "call 9830012345",
        "+91 98300 12345",
        "1234567890123",  // 13 digits
        "12345678901",    // 11 digits
        "2345 6789 012",  // 11 digits grouped
        "1234 5678",
        "ABCPE1234FX",  // PAN inside a longer word
        "XABCPE1234F",
        "ABCDE1234F",  // D is not a PAN holder type
        "Q1234567",
        "XX0620110012345",
        "booking VX-7KQ4M-9TRCH",
        "wamid.HBgMOTE5ODAwMDAwMDAxFQIAEhgUNEYxNUJDNEU2M0U4NDE3RjcxMDAA",
        "slots 10:30, 11:00 and 11:30",
        "প্রথম ডোজ ১২ মে ২০২১",
    };
    for (const auto& in : untouched) {
      CAPTURE(in);
      CHECK(mask_id_numbers_in_text(in) == in);
    }
  }

  TEST_CASE("property: every generated ID embedded in a sentence is masked") {
    Lcg rng{2021};
    const char* seps[] = {" ", "-", ""};
    int checked = 0;
    for (int n = 0; n < 500; ++n) {
      const std::string aadhaar = with_check(rng.digits(11, '2'));
      std::string typed = aadhaar;
      const std::string sep = seps[rng.next() % 3];
      if (!sep.empty()) typed = grouped(aadhaar, sep[0]);
      switch (rng.next() % 3) {
        case 0:
          break;
        case 1:
          typed = to_script(typed, kBengaliZero);
          break;
        default:
          typed = to_script(typed, kDevanagariZero);
          break;
      }
      std::string pan;
      for (int k = 0; k < 3; ++k) pan.push_back(rng.letter());
      pan.push_back('P');
      pan.push_back(rng.letter());
      pan += rng.digits(4);
      pan.push_back(rng.letter());
      const std::string epic =
          std::string(1, rng.letter()) + rng.letter() + rng.letter() + rng.digits(7);

      const std::string text = "Hi, first dose 12/05/2021. Aadhaar " + typed + ", PAN " + pan +
                               " and EPIC " + epic + " — thanks!";
      const std::string masked = mask_id_numbers_in_text(text);
      CAPTURE(text);
      CHECK(masked.find(aadhaar) == std::string::npos);
      CHECK(masked.find(typed) == std::string::npos);
      CHECK(masked.find(pan) == std::string::npos);
      CHECK(masked.find(epic) == std::string::npos);
      CHECK(masked.find("XXXX XXXX " + aadhaar.substr(8)) != std::string::npos);
      CHECK(masked.find("******" + pan.substr(6)) != std::string::npos);
      CHECK(masked.find("12/05/2021") != std::string::npos);
      ++checked;
    }
    CHECK(checked == 500);
  }

  TEST_CASE("property: whatever recognise_id accepts, masking its normalised value hides it") {
    Lcg rng{7};
    for (int n = 0; n < 300; ++n) {
      const std::vector<std::string> inputs = {
          with_check(rng.digits(11, '2')),
          std::string(1, rng.letter()) + rng.letter() + rng.letter() + "C" + rng.letter() +
              rng.digits(4) + rng.letter(),
          std::string(1, rng.letter()) + rng.letter() + rng.letter() + rng.digits(7),
          "K" + rng.digits(7),
          "WB" + rng.digits(2) + "20" + rng.digits(2) + rng.digits(7),
      };
      for (const auto& in : inputs) {
        CAPTURE(in);
        const auto r = recognise_id(in);
        REQUIRE(r.ok());
        for (const auto& c : r.candidates()) {
          CHECK(mask_id_numbers_in_text(c.normalised) == mask_id(c.normalised));
          CHECK(mask_id_numbers_in_text("x " + c.normalised + " y").find(c.normalised) ==
                std::string::npos);
          auto again = validate_id(c.type, c.normalised);
          REQUIRE(again.ok());
          CHECK(*again == c.normalised);
        }
      }
    }
  }
}
