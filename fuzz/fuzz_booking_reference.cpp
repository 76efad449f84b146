// libFuzzer target for booking/booking_reference.h.
// Invariants: an accepted reference is canonical (VX-XXXXX-XXXXX over the
// alphabet with a valid check character) and parses to itself; a reference
// generated from fuzz-chosen random bytes parses back to itself.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

#include "booking/booking_reference.h"
#include "fuzz_check.h"

namespace {

using namespace vaxbot::booking;

class BytesRandom final : public RandomSource {
 public:
  explicit BytesRandom(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}
  bool fill(std::span<std::byte> out) override {
    if (bytes_.empty()) return false;
    for (auto& b : out) {
      b = static_cast<std::byte>(bytes_[pos_ % bytes_.size()]);
      ++pos_;
    }
    return true;
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

void check_canonical(const std::string& ref) {
  FUZZ_CHECK(ref.size() == kReferenceCanonicalLength);
  FUZZ_CHECK(ref.rfind("VX-", 0) == 0 && ref[8] == '-');
  const std::string code = ref.substr(3, 5) + ref.substr(9, 5);
  for (const char c : code) FUZZ_CHECK(kReferenceAlphabet.find(c) != std::string_view::npos);
  FUZZ_CHECK(reference_check_char(code.substr(0, 9)) == code[9]);
  auto again = parse_reference(ref);
  FUZZ_CHECK(again.ok() && *again == ref);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view typed(reinterpret_cast<const char*>(data), size);
  auto parsed = parse_reference(typed);
  if (parsed.ok()) {
    check_canonical(*parsed);
  } else {
    FUZZ_CHECK(parsed.error().message.rfind("reference.", 0) == 0);
  }
  BytesRandom random({data, size});
  auto generated = generate_reference(random);
  if (generated.ok()) check_canonical(*generated);
  (void)reference_check_char(typed);
  return 0;
}
