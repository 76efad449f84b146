#include "booking/booking_reference.h"

#include <array>
#include <optional>
#include <vector>

#include "booking/text_utils.h"

namespace vaxbot::booking {

namespace {

constexpr int kModulus = 23;
static_assert(kReferenceAlphabet.size() == kModulus, "one alphabet character per residue");
constexpr std::size_t kMaxAmbiguousPositions = 4;
constexpr int kRandomRounds = 16;

int alphabet_index(char c) {
  const auto pos = kReferenceAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

// Weighted sum of the 10 code characters (check included) modulo 23; 0 when valid.
int weighted_sum(std::string_view code) {
  int sum = 0;
  for (std::size_t i = 0; i < code.size(); ++i) {
    const int weight = static_cast<int>(kReferenceCodeChars - i);
    sum = (sum + weight * alphabet_index(code[i])) % kModulus;
  }
  return sum;
}

std::string canonical(std::string_view code) {
  std::string out(kReferencePrefix);
  out.push_back('-');
  out.append(code.substr(0, 5));
  out.push_back('-');
  out.append(code.substr(5));
  return out;
}

// The readings of one typed character: itself if in the alphabet (upper-cased),
// otherwise the alphabet characters it looks like. Empty when none.
std::string readings(char32_t cp) {
  const int d = text::digit_value(cp);
  if (d > 0) {
    const char c = static_cast<char>('0' + d);
    return alphabet_index(c) >= 0 ? std::string(1, c) : std::string();
  }
  if (d == 0 || cp == U'O' || cp == U'o') return "DQ";
  if (cp == U'G') return "6";
  if (cp == U'g') return "69";
  if (cp == U'V' || cp == U'v') return "U";
  if (text::is_ascii_letter(cp)) {
    const char c = text::to_upper_ascii(static_cast<char>(cp));
    return alphabet_index(c) >= 0 ? std::string(1, c) : std::string();
  }
  return {};
}

bool is_ascii_ci(char32_t cp, char upper) {
  return cp < 0x80 && text::to_upper_ascii(static_cast<char>(cp)) == upper;
}

core::Error ref_error(std::string_view key) {
  return core::make_error(core::ErrorCode::kInvalidInput, std::string(key));
}

}  // namespace

char reference_check_char(std::string_view payload) {
  if (payload.size() != kReferenceRandomChars) return '\0';
  for (const char c : payload) {
    if (alphabet_index(c) < 0) return '\0';
  }
  // sum + 1 * c == 0 (mod 23)  =>  c = -sum.
  const int sum = weighted_sum(payload);
  return kReferenceAlphabet[static_cast<std::size_t>((kModulus - sum) % kModulus)];
}

core::Result<std::string> generate_reference(RandomSource& random) {
  // Rejection sampling: bytes below 230 = 10 * 23 map uniformly onto the alphabet.
  constexpr unsigned kLimit = 10U * kModulus;
  std::string payload;
  std::array<std::byte, 16> buffer{};
  for (int round = 0; round < kRandomRounds && payload.size() < kReferenceRandomChars; ++round) {
    if (!random.fill(buffer)) {
      return core::make_error(core::ErrorCode::kUnavailable, "reference.random_unavailable");
    }
    for (const std::byte b : buffer) {
      const auto v = std::to_integer<unsigned>(b);
      if (v >= kLimit) continue;
      payload.push_back(kReferenceAlphabet[v % kModulus]);
      if (payload.size() == kReferenceRandomChars) break;
    }
  }
  if (payload.size() < kReferenceRandomChars) {
    return core::make_error(core::ErrorCode::kInternal, "reference.random_exhausted");
  }
  payload.push_back(reference_check_char(payload));
  return canonical(payload);
}

core::Result<std::string> parse_reference(std::string_view typed) {
  auto cps = text::decode_utf8(typed);
  std::erase_if(cps, [](const text::CodePoint& cp) {
    return text::is_ignorable(cp.value) || text::is_space(cp.value) || text::is_dash(cp.value);
  });
  if (!cps.empty() && (cps.back().value == U'.' || text::is_danda(cps.back().value))) {
    cps.pop_back();
  }
  if (cps.empty()) return ref_error(kRefErrEmpty);

  // Drop the prefix when the length says it is there.
  std::size_t start = 0;
  if (cps.size() == kReferenceCodeChars + kReferencePrefix.size() &&
      is_ascii_ci(cps[0].value, kReferencePrefix[0]) &&
      is_ascii_ci(cps[1].value, kReferencePrefix[1])) {
    start = kReferencePrefix.size();
  }

  std::vector<std::string> options;
  for (std::size_t i = start; i < cps.size(); ++i) {
    std::string r = readings(cps[i].value);
    if (r.empty()) return ref_error(kRefErrBadCharacter);
    options.push_back(std::move(r));
  }
  if (options.size() != kReferenceCodeChars) return ref_error(kRefErrBadLength);

  std::vector<std::size_t> ambiguous;
  for (std::size_t i = 0; i < options.size(); ++i) {
    if (options[i].size() > 1) ambiguous.push_back(i);
  }
  if (ambiguous.size() > kMaxAmbiguousPositions) return ref_error(kRefErrAmbiguous);

  std::string code;
  for (const auto& o : options) code.push_back(o[0]);
  std::optional<std::string> valid;
  int valid_count = 0;
  // Odometer over the readings of the ambiguous positions.
  std::vector<std::size_t> choice(ambiguous.size(), 0);
  while (true) {
    for (std::size_t k = 0; k < ambiguous.size(); ++k) {
      code[ambiguous[k]] = options[ambiguous[k]][choice[k]];
    }
    if (weighted_sum(code) == 0) {
      ++valid_count;
      valid = code;
    }
    std::size_t k = 0;
    while (k < choice.size() && ++choice[k] == options[ambiguous[k]].size()) {
      choice[k] = 0;
      ++k;
    }
    if (k == choice.size()) break;
  }
  if (valid_count == 0) return ref_error(kRefErrCheckFailed);
  if (valid_count > 1) return ref_error(kRefErrAmbiguous);
  return canonical(*valid);
}

}  // namespace vaxbot::booking
