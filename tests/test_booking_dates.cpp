// Tests for booking/civil_date.h and booking/date_input.h.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "booking/civil_date.h"
#include "booking/date_input.h"

using vaxbot::booking::add_days;
using vaxbot::booking::civil_from_days;
using vaxbot::booking::CivilDate;
using vaxbot::booking::DateReason;
using vaxbot::booking::days_between;
using vaxbot::booking::days_from_civil;
using vaxbot::booking::days_in_month;
using vaxbot::booking::is_leap_year;
using vaxbot::booking::is_valid;
using vaxbot::booking::parse_first_dose_date;
using vaxbot::booking::parse_iso;
using vaxbot::booking::to_iso;
using vaxbot::booking::Weekday;
using vaxbot::booking::weekday;

namespace {

constexpr CivilDate kToday{2025, 6, 15};

// Renders a parse result as "YYYY-MM-DD" or the reason key, for readable failures.
std::string describe(std::string_view input, CivilDate today = kToday) {
  const auto r = parse_first_dose_date(input, today);
  return r.ok() ? to_iso(r.date()) : std::string(to_string(r.reason()));
}

struct DateCase {
  const char* input;
  const char* expected;  // ISO date or reason key
};

void check_cases(const std::vector<DateCase>& cases, CivilDate today = kToday) {
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(describe(c.input, today) == c.expected);
  }
}

}  // namespace

TEST_SUITE("booking civil_date") {
  TEST_CASE("leap years and month lengths") {
    CHECK(is_leap_year(2024));
    CHECK(is_leap_year(2000));
    CHECK(is_leap_year(1600));
    CHECK_FALSE(is_leap_year(2023));
    CHECK_FALSE(is_leap_year(1900));
    CHECK_FALSE(is_leap_year(2100));
    CHECK(days_in_month(2024, 2) == 29);
    CHECK(days_in_month(2023, 2) == 28);
    CHECK(days_in_month(2021, 4) == 30);
    CHECK(days_in_month(2021, 12) == 31);
    CHECK(days_in_month(2021, 0) == 0);
    CHECK(days_in_month(2021, 13) == 0);
  }

  TEST_CASE("validity") {
    CHECK(is_valid({2024, 2, 29}));
    CHECK(is_valid({1, 1, 1}));
    CHECK(is_valid({9999, 12, 31}));
    CHECK_FALSE(is_valid({2023, 2, 29}));
    CHECK_FALSE(is_valid({2021, 4, 31}));
    CHECK_FALSE(is_valid({2021, 0, 10}));
    CHECK_FALSE(is_valid({2021, 13, 10}));
    CHECK_FALSE(is_valid({2021, 1, 0}));
    CHECK_FALSE(is_valid({0, 1, 1}));
    CHECK_FALSE(is_valid({10000, 1, 1}));
  }

  TEST_CASE("ordering") {
    CHECK(CivilDate{2021, 5, 12} < CivilDate{2021, 5, 13});
    CHECK(CivilDate{2021, 5, 31} < CivilDate{2021, 6, 1});
    CHECK(CivilDate{2021, 12, 31} < CivilDate{2022, 1, 1});
    CHECK(CivilDate{2021, 5, 12} == CivilDate{2021, 5, 12});
    CHECK(CivilDate{2021, 5, 12} != CivilDate{2021, 12, 5});
    CHECK(CivilDate{2022, 1, 1} > CivilDate{2021, 12, 31});
  }

  TEST_CASE("day numbers match known values") {
    // Reference values computed independently (Python's datetime).
    CHECK(days_from_civil({1970, 1, 1}) == 0);
    CHECK(days_from_civil({1969, 12, 31}) == -1);
    CHECK(days_from_civil({2021, 1, 16}) == 18643);
    CHECK(days_from_civil({2000, 3, 1}) == 11017);
    CHECK(days_from_civil({2024, 2, 29}) == 19782);
    CHECK(days_from_civil({1600, 2, 29}) == -135081);
    CHECK(days_from_civil({1, 1, 1}) == -719162);
    CHECK(days_from_civil({9999, 12, 31}) == 2932896);
    CHECK(civil_from_days(19782) == CivilDate{2024, 2, 29});
    CHECK(civil_from_days(-719162) == CivilDate{1, 1, 1});
  }

  TEST_CASE("every day from year 1 to 9999 round-trips and follows the previous one") {
    const auto first = days_from_civil({1, 1, 1});
    const auto last = days_from_civil({9999, 12, 31});
    CivilDate prev = civil_from_days(first - 1);
    CHECK(prev == CivilDate{0, 12, 31});
    long failures = 0;
    for (auto d = first; d <= last; ++d) {
      const CivilDate cur = civil_from_days(d);
      bool good = is_valid(cur) && days_from_civil(cur) == d;
      if (cur.day == 1) {
        good = good && (cur.month == 1 ? (prev.month == 12 && prev.year + 1 == cur.year)
                                       : (prev.month + 1 == cur.month && prev.year == cur.year &&
                                          prev.day == days_in_month(prev.year, prev.month)));
      } else {
        good = good && prev.year == cur.year && prev.month == cur.month && prev.day + 1 == cur.day;
      }
      if (!good) ++failures;
      prev = cur;
    }
    CHECK(failures == 0);
  }

  TEST_CASE("add_days and days_between") {
    CHECK(add_days({2021, 1, 16}, 84) == CivilDate{2021, 4, 10});
    CHECK(add_days({2024, 2, 28}, 1) == CivilDate{2024, 2, 29});
    CHECK(add_days({2023, 2, 28}, 1) == CivilDate{2023, 3, 1});
    CHECK(add_days({2021, 12, 31}, 1) == CivilDate{2022, 1, 1});
    CHECK(add_days({2022, 1, 1}, -1) == CivilDate{2021, 12, 31});
    CHECK(add_days({2021, 5, 12}, 0) == CivilDate{2021, 5, 12});
    CHECK(days_between({2021, 1, 16}, {2021, 4, 10}) == 84);
    CHECK(days_between({2021, 4, 10}, {2021, 1, 16}) == -84);
    CHECK(days_between({2020, 1, 1}, {2021, 1, 1}) == 366);
    CHECK(days_between({2021, 1, 1}, {2022, 1, 1}) == 365);
    // Saturates instead of overflowing.
    const CivilDate far = add_days({2021, 1, 1}, INT64_MAX);
    CHECK(far.year > 900'000'000);
    const CivilDate past = add_days({2021, 1, 1}, INT64_MIN);
    CHECK(past.year < -900'000'000);
  }

  TEST_CASE("weekday") {
    CHECK(weekday({1970, 1, 1}) == Weekday::kThursday);
    CHECK(weekday({1969, 12, 31}) == Weekday::kWednesday);
    CHECK(weekday({2021, 1, 16}) == Weekday::kSaturday);
    CHECK(weekday({2000, 3, 1}) == Weekday::kWednesday);
    CHECK(weekday({2024, 2, 29}) == Weekday::kThursday);
    CHECK(weekday({1, 1, 1}) == Weekday::kMonday);
    CHECK(weekday({9999, 12, 31}) == Weekday::kFriday);
    CHECK(std::string(to_string(Weekday::kSunday)) == "sunday");
  }

  TEST_CASE("ISO formatting and parsing") {
    CHECK(to_iso({2021, 5, 12}) == "2021-05-12");
    CHECK(to_iso({1, 1, 1}) == "0001-01-01");
    CHECK(to_iso({9999, 12, 31}) == "9999-12-31");
    CHECK(to_iso({-5, 1, 1}) == "-0005-01-01");
    CHECK(to_iso({12345, 1, 1}) == "12345-01-01");

    auto ok = parse_iso("2024-02-29");
    REQUIRE(ok.ok());
    CHECK(*ok == CivilDate{2024, 2, 29});
    CHECK(parse_iso("0001-01-01").ok());

    const std::vector<std::pair<const char*, const char*>> bad = {
        {"2023-02-29", "civil_date.impossible"},
        {"2021-13-01", "civil_date.impossible"},
        {"2021-04-31", "civil_date.impossible"},
        {"0000-01-01", "civil_date.impossible"},
        {"2021-5-12", "civil_date.format"},
        {"2021/05/12", "civil_date.format"},
        {"21-05-12", "civil_date.format"},
        {"2021-05-12 ", "civil_date.format"},
        {"", "civil_date.format"},
        {"२०२१-०५-१२", "civil_date.format"},
        {"2021-0a-12", "civil_date.format"},
        {"+021-05-12", "civil_date.format"},
    };
    for (const auto& [in, key] : bad) {
      CAPTURE(in);
      auto r = parse_iso(in);
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().message == key);
    }
  }
}

TEST_SUITE("booking date_input") {
  TEST_CASE("accepted shapes of 12 May 2021") {
    check_cases({
        {"12/05/2021", "2021-05-12"},        {"12-5-21", "2021-05-12"},
        {"12.05.2021", "2021-05-12"},        {"12 5 2021", "2021-05-12"},
        {"12 05 21", "2021-05-12"},          {"2021-05-12", "2021-05-12"},
        {"2021/5/12", "2021-05-12"},         {"2021.05.12", "2021-05-12"},
        {"12 / 05 / 2021", "2021-05-12"},    {"12 May 2021", "2021-05-12"},
        {"12 may 21", "2021-05-12"},         {"12 MAY 2021", "2021-05-12"},
        {"May 12 2021", "2021-05-12"},       {"May 12, 2021", "2021-05-12"},
        {"may 12th, 2021", "2021-05-12"},    {"12th May 2021", "2021-05-12"},
        {"12th of May, 2021", "2021-05-12"}, {"12-May-2021", "2021-05-12"},
        {"12/May/21", "2021-05-12"},         {"12May2021", "2021-05-12"},
        {"12 May, 2021", "2021-05-12"},      {"Wed, 12 May 2021", "2021-05-12"},
        {"  12/05/2021  ", "2021-05-12"},    {"\t12/05/2021\n", "2021-05-12"},
        {"12/05/2021.", "2021-05-12"},       {"12/05/2021।", "2021-05-12"},
        {"12 May 2021.", "2021-05-12"},      {"12\u00A0May\u00A02021", "2021-05-12"},
    });
  }

  TEST_CASE("day suffixes") {
    check_cases({
        {"1st May 2021", "2021-05-01"},
        {"2nd May 2021", "2021-05-02"},
        {"3rd May 2021", "2021-05-03"},
        {"21st May 2021", "2021-05-21"},
        {"May 22nd 2021", "2021-05-22"},
        {"১লা মে ২০২১", "2021-05-01"},
        {"২রা মে ২০২১", "2021-05-02"},
        {"৪ঠা মে ২০২১", "2021-05-04"},
        {"১২ই মে, ২০২১", "2021-05-12"},
        {"২২শে মে ২০২১", "2021-05-22"},
        {"12 th May 2021", "date.unrecognised"},  // a suffix must touch the day
    });
  }

  TEST_CASE("Bengali and Devanagari digits") {
    check_cases({
        {"১২/০৫/২০২১", "2021-05-12"},
        {"१२/०५/२०२१", "2021-05-12"},
        {"১২-৫-২১", "2021-05-12"},
        {"१२.०५.२०२१", "2021-05-12"},
        {"১২ ০৫ ২০২১", "2021-05-12"},
        {"1২/0৫/২0২1", "2021-05-12"},
        {"२०२१-०५-१२", "2021-05-12"},
        {"১২ মে ২০২১", "2021-05-12"},
        {"12 মে 2021", "2021-05-12"},
        {"१२ मई २०२१", "2021-05-12"},
        {"मई १२, २०२१", "2021-05-12"},
        {"১২/০৫/২০২১।", "2021-05-12"},
        {"१२/०५/२०२१।", "2021-05-12"},
    });
  }

  TEST_CASE("English month names and abbreviations") {
    const char* names[12][2] = {
        {"January", "Jan"},   {"February", "Feb"}, {"March", "Mar"},    {"April", "Apr"},
        {"May", "may"},       {"June", "Jun"},     {"July", "Jul"},     {"August", "Aug"},
        {"September", "Sep"}, {"October", "Oct"},  {"November", "Nov"}, {"December", "Dec"},
    };
    for (int m = 0; m < 12; ++m) {
      for (const char* name : names[m]) {
        const std::string expected = to_iso({2022, m + 1, 5});
        CAPTURE(name);
        CHECK(describe(std::string("5 ") + name + " 2022") == expected);
        CHECK(describe(std::string(name) + " 5, 2022") == expected);
        std::string upper(name);
        for (char& c : upper) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
        CHECK(describe("05-" + upper + "-22") == expected);
      }
    }
    check_cases({
        {"5 Sept 2021", "2021-09-05"},
        {"Sept. 5, 2021", "2021-09-05"},
        {"5 SEPT 2021", "2021-09-05"},
        {"5 Mayo 2021", "date.unrecognised"},
        {"5 Octember 2021", "date.unrecognised"},
        {"5 Ju 2021", "date.unrecognised"},
    });
  }

  TEST_CASE("Bengali month names and spelling variants") {
    const std::vector<std::pair<const char*, int>> names = {
        {"জানু\u09DFারি", 1},        // composed য় (U+09DF)
        {"জানু\u09AF\u09BCারি", 1},  // decomposed য় (U+09AF U+09BC)
        {"জানু\u09DFারী", 1},
        {"জানুয়ারী", 1},
        {"ফেব্রু\u09DFারি", 2},
        {"ফেব্রু\u09AF\u09BCারি", 2},
        {"ফেব্রু\u09DFারী", 2},
        {"ফেব্রু\u09AF\u09BCারী", 2},
        {"মার্চ", 3},
        {"এপ্রিল", 4},
        {"মে", 5},
        {"জুন", 6},
        {"জুলাই", 7},
        {"আগস্ট", 8},
        {"আগষ্ট", 8},
        {"সেপ্টেম্বর", 9},
        {"অক্টোবর", 10},
        {"নভেম্বর", 11},
        {"ডিসেম্বর", 12},
    };
    for (const auto& [name, month] : names) {
      CAPTURE(name);
      CHECK(describe(std::string("৫ ") + name + " ২০২২") == to_iso({2022, month, 5}));
      CHECK(describe(std::string("5 ") + name + ", 2022") == to_iso({2022, month, 5}));
    }
  }

  TEST_CASE("Hindi month names and spelling variants") {
    const std::vector<std::pair<const char*, int>> names = {
        {"जनवरी", 1},
        {"\u095Eरवरी", 2},        // composed nukta letter U+095E
        {"\u092B\u093Cरवरी", 2},  // decomposed U+092B U+093C
        {"फरवरी", 2},             // without nukta
        {"मार्च", 3},
        {"अप्रैल", 4},
        {"मई", 5},
        {"जून", 6},
        {"जुलाई", 7},
        {"अगस्त", 8},
        {"सितंबर", 9},
        {"सितम्बर", 9},
        {"अक्टूबर", 10},
        {"नवंबर", 11},
        {"नवम्बर", 11},
        {"दिसंबर", 12},
        {"दिसम्बर", 12},
    };
    for (const auto& [name, month] : names) {
      CAPTURE(name);
      CHECK(describe(std::string("५ ") + name + " २०२२") == to_iso({2022, month, 5}));
      CHECK(describe(std::string(name) + " 5, 2022") == to_iso({2022, month, 5}));
    }
  }

  TEST_CASE("impossible dates") {
    check_cases({
        {"31/02/2021", "date.impossible"},
        {"29/02/2023", "date.impossible"},
        {"29 Feb 2023", "date.impossible"},
        {"30/02/2024", "date.impossible"},
        {"31/04/2021", "date.impossible"},
        {"31 April 2021", "date.impossible"},
        {"12/13/2021", "date.impossible"},
        {"05/31/2021", "date.impossible"},  // month-first is not accepted
        {"00/05/2021", "date.impossible"},
        {"12/00/2021", "date.impossible"},
        {"32/01/2022", "date.impossible"},
        {"০০/০৫/২০২১", "date.impossible"},
        {"2021-02-30", "date.impossible"},
        {"my dose was 31/02/2021", "date.impossible"},
    });
  }

  TEST_CASE("leap day") {
    check_cases({
        {"29/02/2024", "2024-02-29"},
        {"29 February 2024", "2024-02-29"},
        {"29-02-24", "2024-02-29"},
        {"29/02/2023", "date.impossible"},
        {"29/02/2100", "date.impossible"},
    });
  }

  TEST_CASE("range: vaccination start, today and the future") {
    check_cases({
        {"16/01/2021", "2021-01-16"},
        {"16 January 2021", "2021-01-16"},
        {"15/01/2021", "date.too_early"},
        {"01/01/2021", "date.too_early"},
        {"31/12/2020", "date.too_early"},
        {"12/05/1921", "date.too_early"},
        {"12/05/0021", "date.too_early"},
        {"12/05/2030", "date.in_future"},
        {"12/05/99", "date.in_future"},
    });
    const CivilDate today{2021, 6, 1};
    check_cases(
        {
            {"01/06/2021", "2021-06-01"},
            {"02/06/2021", "date.in_future"},
            {"31/05/2021", "2021-05-31"},
            {"1 June 2021", "2021-06-01"},
            {"2 June 2021", "date.in_future"},
        },
        today);
    // Tomorrow, computed rather than written out.
    const CivilDate tomorrow = add_days(kToday, 1);
    const std::string typed = std::to_string(tomorrow.day) + "/" + std::to_string(tomorrow.month) +
                              "/" + std::to_string(tomorrow.year);
    CHECK(describe(typed) == "date.in_future");
    const std::string today_typed = std::to_string(kToday.day) + "/" +
                                    std::to_string(kToday.month) + "/" +
                                    std::to_string(kToday.year);
    CHECK(describe(today_typed) == to_iso(kToday));
  }

  TEST_CASE("a date inside a sentence") {
    check_cases({
        {"my first dose was 12/05/2021", "2021-05-12"},
        {"First dose on 12 May 2021, Covishield", "2021-05-12"},
        {"I got it (12-05-2021) at SSKM", "2021-05-12"},
        {"প্রথম ডোজ ১২ মে ২০২১ তারিখে", "2021-05-12"},
        {"প্রথম ডোজ নিয়েছি ১২/০৫/২০২১।", "2021-05-12"},
        {"पहली खुराक 12 मई 2021 को ली", "2021-05-12"},
        {"12/05/2021 at 10:30", "2021-05-12"},
        {"12/05/2021 (12 May 2021)", "2021-05-12"},
        {"age 45, dose 12.05.2021", "2021-05-12"},
        {"12/05/2021 or 13/05/2021", "date.unrecognised"},
        {"12 May 2021 and 31/02/2021", "date.unrecognised"},
        {"I had 2 doses 12 5 2021", "date.unrecognised"},  // spaced numbers only alone
        {"first dose 15/01/2021 ok", "date.too_early"},
    });
  }

  TEST_CASE("unrecognised input") {
    check_cases({
        {"", "date.unrecognised"},
        {"   ", "date.unrecognised"},
        {"hello", "date.unrecognised"},
        {"yesterday", "date.unrecognised"},
        {"12", "date.unrecognised"},
        {"12/05", "date.unrecognised"},
        {"12 May", "date.unrecognised"},
        {"May 2021", "date.unrecognised"},
        {"12/05/202", "date.unrecognised"},
        {"12/05/20211", "date.unrecognised"},
        {"123/05/2021", "date.unrecognised"},
        {"12/5/1", "date.unrecognised"},
        {"12/05-2021", "date.unrecognised"},
        {"12-05/2021", "date.unrecognised"},
        {"12//05//2021", "date.unrecognised"},
        {"12:05:2021", "date.unrecognised"},
        {"v1.2.21", "date.unrecognised"},
        {"10.12.05.21", "date.unrecognised"},
        {"12/05/21/22", "date.unrecognised"},
        {"12/05/2021abc", "date.unrecognised"},
        {"ABC12/05/2021", "date.unrecognised"},
        {"2021-05", "date.unrecognised"},
        {"12 de May 2021", "date.unrecognised"},
        {"12 5 2021 5", "date.unrecognised"},
        {"\xff\xfe", "date.unrecognised"},
        {"12/0\xff"
         "5/2021",
         "date.unrecognised"},
        {"12 Mai 2021", "date.unrecognised"},
        {"১২ মেঘ ২০২১", "date.unrecognised"},
    });
  }

  TEST_CASE("reason keys") {
    CHECK(std::string(to_string(DateReason::kUnrecognised)) == "date.unrecognised");
    CHECK(std::string(to_string(DateReason::kImpossible)) == "date.impossible");
    CHECK(std::string(to_string(DateReason::kInFuture)) == "date.in_future");
    CHECK(std::string(to_string(DateReason::kTooEarly)) == "date.too_early");
  }
}
