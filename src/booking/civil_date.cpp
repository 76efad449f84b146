#include "booking/civil_date.h"

#include <algorithm>
#include <limits>

namespace vaxbot::booking {

namespace {

// Floor division for a positive divisor.
constexpr std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return (a >= 0) ? a / b : -((-a + b - 1) / b);
}

void append_padded(std::string& out, std::int64_t value, int width) {
  if (value < 0) {
    out.push_back('-');
    value = -value;
  }
  std::string digits = std::to_string(value);
  for (auto n = static_cast<int>(digits.size()); n < width; ++n) out.push_back('0');
  out += digits;
}

// Three fields, each zero-padded to its width, with `sep` between them.
struct Field {
  std::int64_t value;
  int width;
};
std::string joined(Field a, Field b, Field c, char sep) {
  std::string out;
  out.reserve(10);
  append_padded(out, a.value, a.width);
  out.push_back(sep);
  append_padded(out, b.value, b.width);
  out.push_back(sep);
  append_padded(out, c.value, c.width);
  return out;
}

}  // namespace

const char* to_string(Weekday day) {
  switch (day) {
    case Weekday::kMonday:
      return "monday";
    case Weekday::kTuesday:
      return "tuesday";
    case Weekday::kWednesday:
      return "wednesday";
    case Weekday::kThursday:
      return "thursday";
    case Weekday::kFriday:
      return "friday";
    case Weekday::kSaturday:
      return "saturday";
    case Weekday::kSunday:
      return "sunday";
  }
  return "unknown";
}

bool is_leap_year(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int month) {
  switch (month) {
    case 1:
    case 3:
    case 5:
    case 7:
    case 8:
    case 10:
    case 12:
      return 31;
    case 4:
    case 6:
    case 9:
    case 11:
      return 30;
    case 2:
      return is_leap_year(year) ? 29 : 28;
    default:
      return 0;
  }
}

bool is_valid(CivilDate date) {
  return date.year >= kMinYear && date.year <= kMaxYear && date.month >= 1 && date.month <= 12 &&
         date.day >= 1 && date.day <= days_in_month(date.year, date.month);
}

// Days since 1970-01-01, counting in 400-year eras of 146097 days with the
// year starting on 1 March so that the leap day is the last day of the year.
std::int64_t days_from_civil(CivilDate date) {
  const std::int64_t m = date.month;
  const std::int64_t y = static_cast<std::int64_t>(date.year) - (m <= 2 ? 1 : 0);
  const std::int64_t era = floor_div(y, 400);
  const std::int64_t yoe = y - era * 400;                          // [0, 399]
  const std::int64_t mp = (m > 2) ? m - 3 : m + 9;                 // March = 0
  const std::int64_t doy = (153 * mp + 2) / 5 + date.day - 1;      // [0, 365]
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + doe - 719468;
}

CivilDate civil_from_days(std::int64_t days) {
  const std::int64_t z = std::clamp(days, -kMaxAbsDays, kMaxAbsDays) + 719468;
  const std::int64_t era = floor_div(z, 146097);
  const std::int64_t doe = z - era * 146097;                                       // [0, 146096]
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
  const std::int64_t mp = (5 * doy + 2) / 153;                                     // [0, 11]
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;                             // [1, 31]
  const std::int64_t m = (mp < 10) ? mp + 3 : mp - 9;                              // [1, 12]
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return CivilDate{static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

CivilDate add_days(CivilDate date, std::int64_t days) {
  const std::int64_t base = days_from_civil(date);
  // Both operands are far from the int64 limits once clamped, so the sum cannot overflow.
  const std::int64_t delta = std::clamp(days, -4 * kMaxAbsDays, 4 * kMaxAbsDays);
  return civil_from_days(base + delta);
}

std::int64_t days_between(CivilDate from, CivilDate to) {
  return days_from_civil(to) - days_from_civil(from);
}

Weekday weekday(CivilDate date) {
  // 1970-01-01 was a Thursday (ISO 4).
  const std::int64_t days = days_from_civil(date);
  const std::int64_t idx = days - floor_div(days + 3, 7) * 7 + 3;  // (days + 3) mod 7, in [0, 6]
  return static_cast<Weekday>(idx + 1);
}

std::string to_iso(CivilDate date) {
  return joined({date.year, 4}, {date.month, 2}, {date.day, 2}, '-');
}

core::Result<CivilDate> parse_iso(std::string_view text) {
  auto bad_format = [] {
    return core::make_error(core::ErrorCode::kInvalidInput, "civil_date.format");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad_format();
  int fields[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8};
  const std::size_t lengths[3] = {4, 2, 2};
  for (int f = 0; f < 3; ++f) {
    for (std::size_t i = 0; i < lengths[f]; ++i) {
      const char c = text[starts[f] + i];
      if (c < '0' || c > '9') return bad_format();
      fields[f] = fields[f] * 10 + (c - '0');
    }
  }
  const CivilDate date{fields[0], fields[1], fields[2]};
  if (!is_valid(date)) {
    return core::make_error(core::ErrorCode::kInvalidInput, "civil_date.impossible");
  }
  return date;
}

std::string to_ddmmyyyy(CivilDate d) {
  return joined({d.day, 2}, {d.month, 2}, {d.year, 4}, '/');
}

CivilDate local_date(std::int64_t now_ms, int utc_offset_minutes) {
  const std::int64_t local_s = now_ms / 1000 + std::int64_t{utc_offset_minutes} * 60;
  return civil_from_days(local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400);
}

}  // namespace vaxbot::booking
