// libFuzzer target for booking/date_input.h and booking/civil_date.h.
// Invariants checked on every input:
//  - an accepted date is valid, within [kVaccinationStart, today], survives an
//    ISO round trip, is re-accepted from its ISO form, and becomes kInFuture
//    when "today" is the day before it;
//  - reasons other than kInFuture do not depend on "today"; kInFuture turns
//    into an accepted date when today is 9999-12-31;
//  - parse_iso accepts only text that to_iso reproduces exactly;
//  - day-number arithmetic round-trips and agrees with add_days/days_between.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "booking/civil_date.h"
#include "booking/date_input.h"
#include "fuzz_check.h"

namespace {

using vaxbot::booking::CivilDate;
using vaxbot::booking::DateReason;

constexpr CivilDate kToday{2025, 6, 15};
constexpr CivilDate kLastDay{9999, 12, 31};

void check_date_input(std::string_view text) {
  using namespace vaxbot::booking;
  const DateParse r = parse_first_dose_date(text, kToday);
  const DateParse late = parse_first_dose_date(text, kLastDay);
  if (r.ok()) {
    const CivilDate d = r.date();
    FUZZ_CHECK(is_valid(d));
    FUZZ_CHECK(d >= kVaccinationStart);
    FUZZ_CHECK(d <= kToday);
    const std::string iso = to_iso(d);
    auto back = parse_iso(iso);
    FUZZ_CHECK(back.ok() && *back == d);
    const DateParse again = parse_first_dose_date(iso, kToday);
    FUZZ_CHECK(again.ok() && again.date() == d);
    const DateParse before = parse_first_dose_date(text, add_days(d, -1));
    FUZZ_CHECK(!before.ok() && before.reason() == DateReason::kInFuture);
    FUZZ_CHECK(late.ok() && late.date() == d);
  } else if (r.reason() == DateReason::kInFuture) {
    FUZZ_CHECK(late.ok() && late.date() > kToday);
  } else {
    FUZZ_CHECK(!late.ok() && late.reason() == r.reason());
  }
  FUZZ_CHECK(std::strncmp(to_string(r.ok() ? DateReason::kUnrecognised : r.reason()), "date.", 5) ==
             0);
}

void check_civil(std::string_view text, const std::uint8_t* data, std::size_t size) {
  using namespace vaxbot::booking;
  auto iso = parse_iso(text);
  if (iso.ok()) {
    FUZZ_CHECK(is_valid(*iso));
    FUZZ_CHECK(to_iso(*iso) == text);
  }
  if (size < 16) return;
  std::int64_t a = 0;
  std::int64_t b = 0;
  std::memcpy(&a, data, sizeof a);
  std::memcpy(&b, data + 8, sizeof b);
  // Stay within the supported range: years 1..9999 for the date, any delta.
  const std::int64_t first = days_from_civil({1, 1, 1});
  const std::int64_t last = days_from_civil({9999, 12, 31});
  const std::int64_t span = last - first + 1;
  const std::int64_t day = first + ((a % span) + span) % span;
  const CivilDate d = civil_from_days(day);
  FUZZ_CHECK(is_valid(d));
  FUZZ_CHECK(days_from_civil(d) == day);
  const int wd = static_cast<int>(weekday(d));
  FUZZ_CHECK(wd >= 1 && wd <= 7);
  FUZZ_CHECK(static_cast<int>(weekday(add_days(d, 7))) == wd);
  const std::int64_t delta = b % 1'000'000;
  const CivilDate e = add_days(d, delta);
  FUZZ_CHECK(days_between(d, e) == delta);
  FUZZ_CHECK(add_days(e, -delta) == d);
  FUZZ_CHECK((delta > 0) == (e > d));
  // Saturating arithmetic never crashes.
  (void)add_days(d, b);
  (void)civil_from_days(b);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_date_input(text);
  check_civil(text, data, size);
  return 0;
}
