// booking/catalog: the shipped data loads clean; each mistake staff could make
// in data/ is named with file:line:col; slots and eligibility follow from it.
//
// Broken variants live in tests/fixtures/catalog/broken/<file>.<case>.json: a
// copy of the matching file in good/ with one mistake. Each test copies good/
// to a temporary directory, puts the broken file in place of <file>.json and
// expects exactly the diagnostics in the table below.
#include <doctest/doctest.h>

#include <algorithm>

#include "booking/catalog.h"
#include "support.h"

using namespace vaxbot;
namespace fs = std::filesystem;

namespace {

// Diagnostics as strings, with the temporary directory taken out of the paths.
std::vector<std::string> diagnostics_of(const booking::CatalogLoad& load, const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& d : load.diagnostics) {
    std::string s = core::to_string(d);
    const std::string prefix = (dir / "").string();
    if (s.starts_with(prefix)) s = s.substr(prefix.size());
    out.push_back(s);
  }
  return out;
}

booking::CatalogLoad load_with(const test::TempDir& dir, const std::string& broken) {
  for (const auto& e : fs::directory_iterator(test::fixture_dir("catalog/good"))) {
    fs::copy_file(e.path(), dir.path() / e.path().filename(), fs::copy_options::overwrite_existing);
  }
  const std::string target = broken.substr(0, broken.find('.')) + ".json";
  fs::copy_file(test::fixture_dir("catalog/broken/" + broken), dir.path() / target,
                fs::copy_options::overwrite_existing);
  return booking::load_catalog(dir.path());
}

struct BrokenCase {
  const char* fixture;
  std::vector<std::string> expected;
};

const std::vector<BrokenCase> kBroken = {
    {"vaccines.syntax.json",
     {"vaccines.json:4:61: JSON syntax error: syntax error while parsing object - unexpected "
      "string "
      "literal; expected '}'"}},
    {"vaccines.empty.json", {"vaccines.json:1:1: the file is empty"}},
    {"vaccines.duplicate_key.json",
     {"vaccines.json:5:7: duplicate vaccine key 'covaxin' (first on line 4)"}},
    {"vaccines.bad_interval.json",
     {"vaccines.json:4:44: 'min_interval_days' must be a whole number from 1 to 365, not \"28\""}},
    {"vaccines.name_too_long.json",
     {"vaccines.json:5:27: 'name' \"Sputnik V (Gamaleya Institute)\" has 30 characters; at most 20 "
      "fit a "
      "WhatsApp button"}},
    {"id_types.unknown_key.json",
     {"id_types.json:4:7: unknown ID type 'ration_card' (vaxbot recognises aadhaar, pan, voter_id, "
      "passport, "
      "driving_licence)"}},
    {"id_types.name_too_long.json",
     {"id_types.json:4:49: 'bn' \"পার্মানেন্ট অ্যাকাউন্ট নম্বর কার্ড\" has 34 characters; at most 24 fit "
      "a "
      "WhatsApp list row title"}},
    {"id_types.missing_hi.json", {"id_types.json:4:21: missing 'hi'"}},
    {"centres.unknown_vaccine.json",
     {"centres.json:15:20: unknown vaccine 'covidshield' (not a key in vaccines.json)"}},
    {"centres.duplicate_id.json",
     {"centres.json:11:7: duplicate centre id 'kmc-w012-beleghata' (first on line 4)"}},
    {"centres.name_too_long.json",
     {"centres.json:13:17: 'en' \"UPHC Ward 63 Park Circus Kolkata\" has 32 characters; at most 24 "
      "fit a "
      "WhatsApp list row title"}},
    {"centres.address_too_long.json",
     {"centres.json:14:7: 'address' \"63 Demo Avenue, opposite the sample market (sample address), "
      "Park "
      "Circus, Kolkata 700017\" has 88 characters; at most 72 fit a WhatsApp list row "
      "description"}},
    {"centres.bad_id.json", {"centres.json:4:7: id 'KMC W12' may hold only a-z, 0-9, - and _"}},
    {"centres.unknown_key.json",
     {"centres.json:7:7: unknown key 'adress' (expected id, ward, name, address, vaccines)",
      "centres.json:3:5: missing 'address'"}},
    {"centres.duplicate_json_key.json",
     {"centres.json:13:7: key 'ward' appears twice in this object"}},
    {"centres.bad_ward.json",
     {"centres.json:5:7: 'ward' must be a whole number from 1 to 999, not 0"}},
    {"schedule.bad_time.json",
     {"schedule.json:5:27: 'end' \"25:00\" is not a time of day (HH:MM, 00:00 to 23:59)"}},
    {"schedule.end_before_start.json",
     {"schedule.json:6:27: 'end' 13:30 is not after 'start' 14:00"}},
    {"schedule.zero_capacity.json",
     {"schedule.json:13:45: 'capacity' must be a whole number from 1 to 10000, not 0"}},
    {"schedule.unknown_vaccine.json",
     {"schedule.json:6:72: unknown vaccine 'covaxine' (not a key in vaccines.json)"}},
    {"schedule.unknown_centre.json",
     {"schedule.json:10:5: unknown centre 'kmc-w064-park-circus' (not an id in centres.json)"}},
    {"schedule.unknown_weekday.json",
     {"schedule.json:11:30: unknown weekday \"funday\" (monday, tuesday, ..., sunday)"}},
    {"schedule.overlap.json",
     {"schedule.json:6:7: window 10:30-12:00 overlaps the window 09:00-11:00 on line 5 for "
      "'covaxin'"}},
    {"schedule.centre_not_giving.json",
     {"schedule.json:14:87: centre 'kmc-w063-park-circus' does not give 'covaxin' (see its "
      "'vaccines' in "
      "centres.json)"}},
    {"schedule.no_coverage.json",
     {"centres.json:15:34: centre 'kmc-w063-park-circus' gives 'sputnik_v' but no window of its "
      "schedule in "
      "schedule.json does"}},
    {"schedule.empty_windows.json", {"schedule.json:4:5: 'windows' is empty"}},
};

}  // namespace

TEST_SUITE("catalog load") {
  TEST_CASE("the shipped data loads with no diagnostics") {
    const auto load = booking::load_catalog(fs::path(VAXBOT_SOURCE_DIR) / "data");
    for (const auto& d : load.diagnostics) MESSAGE(core::to_string(d));
    REQUIRE(load.ok());
    const auto& c = load.catalog;
    CHECK(c.vaccines.size() == 3);
    CHECK(c.vaccine("covishield")->min_interval_days == 84);
    CHECK(c.vaccine("covaxin")->min_interval_days == 28);
    CHECK(c.vaccine("sputnik_v")->min_interval_days == 21);
    CHECK(c.id_types.size() == 5);
    CHECK(c.id_type("aadhaar")->name.bn == "আধার কার্ড");
    CHECK(c.id_type("driving_licence")->type == booking::IdType::kDrivingLicence);
    CHECK(c.centres.size() >= 12);
    for (const auto& centre : c.centres) {
      CHECK(booking::code_points(centre.name.bn) <= booking::kMaxRowTitle);
      CHECK(centre.address.find("sample") != std::string::npos);  // clearly fictional
    }
    CHECK(c.default_schedule.has_value());
  }

  TEST_CASE("every broken variant gives its file:line:col diagnostic, and only that") {
    // Every fixture in broken/ has an expectation here, and the other way round.
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(test::fixture_dir("catalog/broken"))) {
      files.push_back(e.path().filename().string());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::string> expected_files;
    for (const auto& c : kBroken) expected_files.emplace_back(c.fixture);
    std::sort(expected_files.begin(), expected_files.end());
    CHECK(files == expected_files);

    for (const auto& c : kBroken) {
      CAPTURE(c.fixture);
      test::TempDir dir;
      const auto load = load_with(dir, c.fixture);
      CHECK_FALSE(load.ok());
      CHECK(diagnostics_of(load, dir.path()) == c.expected);
    }
  }

  TEST_CASE("a missing file and a missing directory are diagnostics, not exceptions") {
    test::TempDir dir;
    const auto load = booking::load_catalog(dir.path() / "nope");
    REQUIRE(load.diagnostics.size() == 4);
    CHECK(load.diagnostics[0].message == "cannot read the file");
    CHECK(load.diagnostics[0].line == 1);
    CHECK(load.diagnostics[0].col == 1);
  }

  TEST_CASE("load_vaccines reads the vaccine list alone") {
    const auto v = booking::load_vaccines(test::fixture_dir("catalog/good/vaccines.json"));
    REQUIRE(v.ok());
    CHECK(v.vaccines.size() == 3);
    const auto bad =
        booking::load_vaccines(test::fixture_dir("catalog/broken/vaccines.duplicate_key.json"));
    CHECK(bad.diagnostics.size() == 1);
  }
}

TEST_SUITE("catalog slots") {
  TEST_CASE("slots for 14 days follow the weekdays, windows and each centre's vaccines") {
    const auto load = booking::load_catalog(test::fixture_dir("catalog/good"));
    REQUIRE(load.ok());
    const booking::CivilDate monday{2026, 11, 23};
    REQUIRE(booking::weekday(monday) == booking::Weekday::kMonday);
    const auto slots = booking::generate_slots(load.catalog, monday);
    // Beleghata (default schedule, Mon-Sat = 12 days in 14): covishield+covaxin at 09:00, covaxin
    // at 14:00. Park Circus (own schedule, Mon+Wed = 4 days): covishield at 10:00, sputnik_v at
    // 14:00.
    CHECK(slots.size() == 12 * 3 + 4 * 2);
    for (const auto& s : slots) {
      CHECK(s.date >= monday);
      CHECK(s.date < booking::add_days(monday, 14));
      CHECK(booking::weekday(s.date) != booking::Weekday::kSunday);
    }
    CHECK(slots.front() ==
          booking::SlotSpec{"kmc-w012-beleghata", monday, "09:00", "11:00", "covishield", 20});
    const auto park = std::count_if(slots.begin(), slots.end(), [](const auto& s) {
      return s.venue_id == "kmc-w063-park-circus" && s.vaccine == "sputnik_v";
    });
    CHECK(park == 4);
    // The default's covaxin windows are not offered at Park Circus, which does not give it.
    CHECK(std::none_of(slots.begin(), slots.end(), [](const auto& s) {
      return s.venue_id == "kmc-w063-park-circus" && s.vaccine == "covaxin";
    }));
    CHECK(booking::generate_slots(load.catalog, monday, 0).empty());
  }

  TEST_CASE("the shipped schedule gives slots every day but Sunday") {
    const auto load = booking::load_catalog(fs::path(VAXBOT_SOURCE_DIR) / "data");
    REQUIRE(load.ok());
    const auto slots = booking::generate_slots(load.catalog, {2026, 11, 22});  // a Sunday
    CHECK(slots.size() > 500);
    for (const auto& centre : load.catalog.centres) {
      for (const auto& v : centre.vaccines) {
        CAPTURE(centre.id);
        CAPTURE(v);
        CHECK(std::any_of(slots.begin(), slots.end(), [&](const auto& s) {
          return s.venue_id == centre.id && s.vaccine == v;
        }));
      }
    }
  }
}

TEST_SUITE("catalog eligibility") {
  const booking::Vaccine kCovishield{"covishield", "Covishield", 84};

  TEST_CASE("eligible from the day the minimum interval has passed") {
    const booking::CivilDate first{2026, 8, 1};
    const auto on_the_day = booking::eligibility(kCovishield, first, {2026, 10, 24});
    CHECK(on_the_day.eligible());
    CHECK(on_the_day.eligible_from == booking::CivilDate{2026, 10, 24});
    CHECK(on_the_day.days_to_wait == 0);
    CHECK(booking::eligibility(kCovishield, first, {2027, 1, 1}).eligible());
  }

  TEST_CASE("too early: the date from which to book and the days to wait") {
    const auto e = booking::eligibility(kCovishield, {2026, 8, 1}, {2026, 10, 14});
    CHECK(e.state == booking::EligibilityState::kTooEarly);
    CHECK(e.eligible_from == booking::CivilDate{2026, 10, 24});
    CHECK(e.days_to_wait == 10);
    const auto same_day = booking::eligibility(kCovishield, {2026, 8, 1}, {2026, 8, 1});
    CHECK(same_day.days_to_wait == 84);
  }

  TEST_CASE("a first dose after today is not a wait but a slip to query") {
    const auto e = booking::eligibility(kCovishield, {2026, 12, 1}, {2026, 11, 21});
    CHECK(e.state == booking::EligibilityState::kFirstDoseInFuture);
    CHECK_FALSE(e.eligible());
    CHECK(e.days_to_wait == 0);
  }
}

TEST_SUITE("catalog helpers") {
  TEST_CASE("times, ids and lengths") {
    CHECK(booking::parse_hhmm("00:00") == 0);
    CHECK(booking::parse_hhmm("23:59") == 23 * 60 + 59);
    CHECK_FALSE(booking::parse_hhmm("24:00"));
    CHECK_FALSE(booking::parse_hhmm("25:00"));
    CHECK_FALSE(booking::parse_hhmm("9:00"));
    CHECK_FALSE(booking::parse_hhmm("09:60"));
    CHECK(booking::is_valid_venue_id("kmc-w012-beleghata"));
    CHECK_FALSE(booking::is_valid_venue_id(""));
    CHECK_FALSE(booking::is_valid_venue_id("KMC W12"));
    CHECK_FALSE(booking::is_valid_venue_id(std::string(65, 'a')));
    CHECK(booking::code_points("ওয়ার্ড ১২ বেলেঘাটা") == 19);
  }
}
