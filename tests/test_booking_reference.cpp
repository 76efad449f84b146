// Tests for booking/booking_reference.h and the OpenSSL random source.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "booking/booking_reference.h"
#include "booking/openssl_random_source.h"

using vaxbot::booking::generate_reference;
using vaxbot::booking::kReferenceAlphabet;
using vaxbot::booking::kRefErrAmbiguous;
using vaxbot::booking::kRefErrBadCharacter;
using vaxbot::booking::kRefErrBadLength;
using vaxbot::booking::kRefErrCheckFailed;
using vaxbot::booking::kRefErrEmpty;
using vaxbot::booking::OpenSslRandomSource;
using vaxbot::booking::parse_reference;
using vaxbot::booking::RandomSource;
using vaxbot::booking::reference_check_char;

namespace {

// Deterministic source (splitmix64) so tests are reproducible.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : state_(seed) {}
  bool fill(std::span<std::byte> out) override {
    for (auto& b : out) b = static_cast<std::byte>(next() & 0xFF);
    return true;
  }

 private:
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

class FailingRandom final : public RandomSource {
 public:
  bool fill(std::span<std::byte>) override { return false; }
};

// Always 0xFF: every byte is rejected by the sampler.
class UselessRandom final : public RandomSource {
 public:
  bool fill(std::span<std::byte> out) override {
    for (auto& b : out) b = std::byte{0xFF};
    return true;
  }
};

// Replays fixed bytes, then zeros.
class ScriptedRandom final : public RandomSource {
 public:
  explicit ScriptedRandom(std::vector<unsigned> bytes) : bytes_(std::move(bytes)) {}
  bool fill(std::span<std::byte> out) override {
    for (auto& b : out) b = static_cast<std::byte>(pos_ < bytes_.size() ? bytes_[pos_++] : 0U);
    return true;
  }

 private:
  std::vector<unsigned> bytes_;
  std::size_t pos_ = 0;
};

std::string code_of(const std::string& canonical) {
  return canonical.substr(3, 5) + canonical.substr(9, 5);
}

std::string canonical_of(const std::string& code) {
  return "VX-" + code.substr(0, 5) + "-" + code.substr(5);
}

std::string parse_or_key(std::string_view typed) {
  auto r = parse_reference(typed);
  return r.ok() ? *r : "error:" + r.error().message;
}

std::vector<std::string> sample_references(std::uint64_t seed, int n) {
  SeededRandom rng(seed);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    auto r = generate_reference(rng);
    REQUIRE(r.ok());
    out.push_back(*r);
  }
  return out;
}

bool in_alphabet(char c) {
  return kReferenceAlphabet.find(c) != std::string_view::npos;
}

}  // namespace

TEST_SUITE("booking reference") {
  TEST_CASE("alphabet has no look-alikes and a prime size") {
    CHECK(kReferenceAlphabet.size() == 23);
    for (const char c : std::string_view("0O1IL2Z5S8BGV")) {
      CAPTURE(c);
      CHECK_FALSE(in_alphabet(c));
    }
    std::set<char> unique(kReferenceAlphabet.begin(), kReferenceAlphabet.end());
    CHECK(unique.size() == kReferenceAlphabet.size());
  }

  TEST_CASE("generated references have the documented shape and parse back") {
    const auto refs = sample_references(1, 2000);
    std::set<std::string> distinct;
    for (const auto& ref : refs) {
      CAPTURE(ref);
      REQUIRE(ref.size() == 14);
      CHECK(ref.substr(0, 3) == "VX-");
      CHECK(ref[8] == '-');
      for (const char c : code_of(ref)) CHECK(in_alphabet(c));
      CHECK(reference_check_char(code_of(ref).substr(0, 9)) == ref.back());
      CHECK(parse_or_key(ref) == ref);
      distinct.insert(ref);
    }
    CHECK(distinct.size() == refs.size());
  }

  TEST_CASE("generation is deterministic for a given source and uses rejection sampling") {
    CHECK(sample_references(99, 5) == sample_references(99, 5));
    CHECK(sample_references(99, 5) != sample_references(100, 5));
    // Bytes >= 230 are skipped; 0 -> 3, 22 -> Y, 23 -> 3, 229 % 23 = 22 -> Y, 1..4 -> 4 6 7 9.
    ScriptedRandom scripted({255, 0, 230, 22, 23, 229, 1, 2, 3, 4, 240});
    auto r = generate_reference(scripted);
    REQUIRE(r.ok());
    CHECK(r->substr(0, 13) == "VX-3Y3Y4-6793");  // 240 skipped, then zero -> 3
  }

  TEST_CASE("characters are roughly uniform") {
    SeededRandom rng(7);
    std::array<int, 23> counts{};
    const int refs = 23 * 400;
    for (int i = 0; i < refs; ++i) {
      auto r = generate_reference(rng);
      REQUIRE(r.ok());
      for (const char c : code_of(*r).substr(0, 9)) ++counts[kReferenceAlphabet.find(c)];
    }
    const int expected = refs * 9 / 23;  // 3600
    for (std::size_t i = 0; i < counts.size(); ++i) {
      CAPTURE(kReferenceAlphabet[i]);
      CHECK(counts[i] > expected * 85 / 100);
      CHECK(counts[i] < expected * 115 / 100);
    }
  }

  TEST_CASE("random source failures are errors, not hangs") {
    FailingRandom failing;
    auto a = generate_reference(failing);
    REQUIRE_FALSE(a.ok());
    CHECK(a.error().code == vaxbot::core::ErrorCode::kUnavailable);
    UselessRandom useless;
    auto b = generate_reference(useless);
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == vaxbot::core::ErrorCode::kInternal);
  }

  TEST_CASE("OpenSSL source") {
    OpenSslRandomSource rng;
    std::set<std::string> seen;
    for (int i = 0; i < 500; ++i) {
      auto r = generate_reference(rng);
      REQUIRE(r.ok());
      CHECK(parse_or_key(*r) == *r);
      seen.insert(*r);
    }
    CHECK(seen.size() == 500);
    std::array<std::byte, 0> empty{};
    CHECK(rng.fill(empty));
  }

  TEST_CASE("typing variations are tolerated") {
    const std::string ref =
        "VX-" + std::string("34679") + "-ACDE" + reference_check_char("34679ACDE");
    REQUIRE(parse_or_key(ref) == ref);
    const std::string code = code_of(ref);
    std::string lower = ref;
    for (char& c : lower) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    const std::vector<std::string> typed = {
        lower,
        code,
        "vx" + code,
        "VX " + code.substr(0, 5) + " " + code.substr(5),
        "VX--" + code.substr(0, 3) + "-" + code.substr(3),
        "  " + ref + "  ",
        ref + ".",
        ref + "।",
        "V X - 3 4 6 7 9 - A C D E " + code.substr(9),
        "VX\u2013" + code,                 // en dash
        "VX-৩৪৬৭৯-ACDE" + code.substr(9),  // Bengali digits
        "VX-३४६७९-ACDE" + code.substr(9),  // Devanagari digits
    };
    for (const auto& t : typed) {
      CAPTURE(t);
      CHECK(parse_or_key(t) == ref);
    }
  }

  TEST_CASE("look-alikes are mapped when exactly one reading is valid") {
    const auto refs = sample_references(5, 400);
    int with_dq = 0;
    for (const auto& ref : refs) {
      const std::string code = code_of(ref);
      for (std::size_t i = 0; i < code.size(); ++i) {
        std::vector<std::string> subs;
        if (code[i] == 'D' || code[i] == 'Q') subs = {"O", "o", "0", "০"};
        if (code[i] == '6') subs = {"G", "g"};
        if (code[i] == '9') subs = {"g"};
        if (code[i] == 'U') subs = {"V", "v"};
        for (const auto& s : subs) {
          std::string typed = code.substr(0, i) + s + code.substr(i + 1);
          CAPTURE(typed);
          CHECK(parse_or_key(typed) == ref);
          if (code[i] == 'D' || code[i] == 'Q') ++with_dq;
        }
      }
    }
    CHECK(with_dq > 100);
    CHECK(parse_or_key("OOOOOOOOOO") == "error:" + std::string(kRefErrAmbiguous));
  }

  TEST_CASE("rejections") {
    const std::string ref = sample_references(11, 1).front();
    const std::string code = code_of(ref);
    const std::vector<std::pair<std::string, std::string_view>> cases = {
        {"", kRefErrEmpty},
        {"  - ", kRefErrEmpty},
        {"VX", kRefErrBadLength},
        {code.substr(0, 9), kRefErrBadLength},
        {code + "3", kRefErrBadLength},
        {"VX-" + code + "-3", kRefErrBadLength},
        {"1" + code.substr(1), kRefErrBadCharacter},
        {"S" + code.substr(1), kRefErrBadCharacter},
        {"5" + code.substr(1), kRefErrBadCharacter},
        {"B" + code.substr(1), kRefErrBadCharacter},
        {"8" + code.substr(1), kRefErrBadCharacter},
        {"Z" + code.substr(1), kRefErrBadCharacter},
        {"I" + code.substr(1), kRefErrBadCharacter},
        {"L" + code.substr(1), kRefErrBadCharacter},
        {"#" + code.substr(1), kRefErrBadCharacter},
        {"VX_" + code, kRefErrBadCharacter},
        {"\xff" + code.substr(1), kRefErrBadCharacter},
    };
    for (const auto& [typed, key] : cases) {
      CAPTURE(typed);
      CHECK(parse_or_key(typed) == "error:" + std::string(key));
    }
    CHECK(reference_check_char("3467") == '\0');
    CHECK(reference_check_char("34679ACD0") == '\0');
  }

  TEST_CASE("every single substitution and every transposition is rejected (sample)") {
    const auto refs = sample_references(3, 300);
    long substitutions = 0;
    long transpositions = 0;
    for (const auto& ref : refs) {
      const std::string code = code_of(ref);
      for (std::size_t i = 0; i < code.size(); ++i) {
        for (const char c : kReferenceAlphabet) {
          if (c == code[i]) continue;
          std::string wrong = code;
          wrong[i] = c;
          CAPTURE(wrong);
          CHECK(parse_or_key(canonical_of(wrong)) == "error:" + std::string(kRefErrCheckFailed));
          ++substitutions;
        }
        for (std::size_t j = i + 1; j < code.size(); ++j) {
          if (code[i] == code[j]) continue;
          std::string swapped = code;
          std::swap(swapped[i], swapped[j]);
          CAPTURE(swapped);
          CHECK(parse_or_key(canonical_of(swapped)) == "error:" + std::string(kRefErrCheckFailed));
          ++transpositions;
        }
      }
    }
    CHECK(substitutions == 300L * 10 * 22);
    CHECK(transpositions > 300L * 40);
  }

  TEST_CASE("substitutions and adjacent transpositions are caught for every position and pair") {
    // The check is linear, so a change's effect does not depend on the other
    // characters: trying every position with every pair of values on a few
    // bases covers all references.
    for (const std::string base : {"333333333", "YYYYYYYYY", "4AXM9PRTW"}) {
      const char check = reference_check_char(base);
      REQUIRE(check != '\0');
      for (std::size_t i = 0; i < base.size(); ++i) {
        for (const char a : kReferenceAlphabet) {
          for (const char b : kReferenceAlphabet) {
            if (a == b) continue;
            std::string pa = base;
            std::string pb = base;
            pa[i] = a;
            pb[i] = b;
            // Substitution a -> b at position i changes the check character.
            CHECK(reference_check_char(pa) != reference_check_char(pb));
            if (i + 1 < base.size()) {
              // Adjacent transposition "ab" <-> "ba" changes the check character.
              std::string ab = base;
              std::string ba = base;
              ab[i] = a;
              ab[i + 1] = b;
              ba[i] = b;
              ba[i + 1] = a;
              CHECK(reference_check_char(ab) != reference_check_char(ba));
            }
          }
          // Transposing the last payload character with the check character.
          std::string p = base;
          p[8] = a;
          const char c = reference_check_char(p);
          if (c != a) {
            std::string swapped = p;
            swapped[8] = c;
            CHECK(parse_or_key(canonical_of(swapped + std::string(1, a))) ==
                  "error:" + std::string(kRefErrCheckFailed));
          }
        }
      }
    }
  }
}
