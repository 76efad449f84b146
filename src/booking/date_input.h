// parse_first_dose_date: understands the date of a resident's first dose as
// typed in a WhatsApp message, in English, Bengali or Hindi.
//
// Accepts (day first, as written in India; D and M are 1-2 digits, Y is 2 or
// 4 digits, a 2-digit year YY meaning 20YY):
//   numeric   D/M/Y, D-M-Y, D.M.Y (the two separators must be the same,
//             spaces around them are fine); D M Y separated by spaces only
//             when those three numbers are the whole message;
//             year first Y-M-D, Y/M/D, Y.M.D with a 4-digit year (ISO).
//   month     D Month Y, D-Month-Y, D/Month/Y, "12th May 2021", "12th of May,
//   names     2021", Month D Y, "May 12, 2021", "May 12th 2021". Separators
//             between the parts may be spaces, '-', '/', '.', ',' (or none,
//             e.g. "12May2021"). Day suffixes st/nd/rd/th and the Bengali
//             ই/লা/রা/ঠা/শে/এ (as in ১২ই মে) are allowed right after the day.
//             Month names: English full names and 3-letter abbreviations plus
//             "sept" (any case); Bengali and Hindi month names with common
//             spelling variants. Matching folds nukta (composed or not), long/
//             short i and u vowel signs, chandrabindu/anusvara and invisible
//             joiners, so জানুয়ারি/জানুয়ারী and फ़रवरी/फरवरी all match.
//   digits    ASCII, Bengali (০-৯) and Devanagari (०-९), mixed freely.
//   around    Surrounding whitespace and punctuation (a trailing '.' or '।').
//
// Free text: the message may contain other words ("my first dose was
// 12/05/2021", "প্রথম ডোজ ১২ মে ২০২১ তারিখে"). Every date-shaped span is found;
// the message is accepted when all of them name the same date. Two different
// dates, or a valid and an impossible one, are ambiguous -> kUnrecognised. A
// date-shaped span must stand apart from neighbouring letters and digits
// (so "v1.2.21" and "10.12.05.21" are not dates). A date without a year
// ("12 May") is not accepted.
//
// Result: a valid date with kVaccinationStart <= date <= today, or a reason:
//   kImpossible   the shape is a date but the values are not (31/02/2021,
//                 29/02/2023, month 13, day 0);
//   kInFuture     after `today` (the caller's local date; this module has no clock);
//   kTooEarly     before 2021-01-16, when vaccination started in India;
//   kUnrecognised anything else (no date, ambiguous, invalid UTF-8 sequences
//                 inside the date).
// Never throws (except std::bad_alloc), no I/O, no global state.
#pragma once

#include <string_view>
#include <variant>

#include "booking/civil_date.h"

namespace vaxbot::booking {

inline constexpr CivilDate kVaccinationStart{2021, 1, 16};

enum class DateReason { kUnrecognised, kImpossible, kInFuture, kTooEarly };

// Machine keys: "date.unrecognised", "date.impossible", "date.in_future", "date.too_early".
const char* to_string(DateReason reason);

class DateParse {
 public:
  DateParse(CivilDate date) : v_(date) {}       // NOLINT(google-explicit-constructor)
  DateParse(DateReason reason) : v_(reason) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Preconditions: date() only when ok(), reason() only when !ok().
  const CivilDate& date() const { return std::get<0>(v_); }
  DateReason reason() const { return std::get<1>(v_); }

 private:
  std::variant<CivilDate, DateReason> v_;
};

DateParse parse_first_dose_date(std::string_view text, CivilDate today);

}  // namespace vaxbot::booking
