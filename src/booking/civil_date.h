// CivilDate: a calendar date in the proleptic Gregorian calendar, with no time
// and no time zone ("the date the resident means").
//
// Contract:
//  - CivilDate is a plain value; comparisons order by (year, month, day).
//  - is_valid(d) is true iff 1 <= year <= 9999, 1 <= month <= 12 and the day
//    exists in that month (29 February only in leap years).
//  - days_from_civil / civil_from_days convert to and from a day count with
//    1970-01-01 as day 0; they are exact inverses for every valid date.
//    civil_from_days clamps its argument to +/- kMaxAbsDays (about a billion
//    years) so that it never overflows; add_days saturates the same way.
//    For an invalid date the arithmetic functions return an unspecified but
//    well-defined value (no undefined behaviour).
//  - to_iso formats as YYYY-MM-DD (zero padded; a year outside 0..9999 is
//    written with as many digits as needed and a leading '-' if negative).
//  - parse_iso accepts exactly "YYYY-MM-DD" in ASCII digits naming a valid
//    date and fails with ErrorCode::kInvalidInput, message "civil_date.format"
//    (wrong shape) or "civil_date.impossible" (e.g. 2023-02-29).
// No clock: nothing here knows what day it is today.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace vaxbot::booking {

struct CivilDate {
  int year = 1970;
  int month = 1;
  int day = 1;

  friend constexpr bool operator==(const CivilDate&, const CivilDate&) = default;
  friend constexpr auto operator<=>(const CivilDate&, const CivilDate&) = default;
};

// ISO 8601 numbering: Monday is 1, Sunday is 7.
enum class Weekday { kMonday = 1, kTuesday, kWednesday, kThursday, kFriday, kSaturday, kSunday };

inline constexpr int kMinYear = 1;
inline constexpr int kMaxYear = 9999;
inline constexpr std::int64_t kMaxAbsDays = 365'000'000'000;

const char* to_string(Weekday day);  // "monday" .. "sunday"

bool is_leap_year(int year);
int days_in_month(int year, int month);  // 0 when month is not 1..12
bool is_valid(CivilDate date);

std::int64_t days_from_civil(CivilDate date);
CivilDate civil_from_days(std::int64_t days);
CivilDate add_days(CivilDate date, std::int64_t days);
std::int64_t days_between(CivilDate from, CivilDate to);  // to - from, in days
Weekday weekday(CivilDate date);

std::string to_iso(CivilDate date);
// "14/11/2025": how dates are shown to residents in India.
std::string to_ddmmyyyy(CivilDate date);
// The local calendar date at now_ms (Unix ms) for a UTC offset in minutes.
CivilDate local_date(std::int64_t now_ms, int utc_offset_minutes);
core::Result<CivilDate> parse_iso(std::string_view text);

}  // namespace vaxbot::booking
