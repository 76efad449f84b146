// vaxbot import-slots, through the real binary: a good file, every kind of
// bad row (exit 1, FILE:LINE naming the column, nothing imported), a
// re-import that updates, and an import that waits for a writer's lock.
// CSV fixtures live in tests/fixtures/import/.
#include <doctest/doctest.h>

#include <fstream>
#include <thread>

#include "store/slot_store.h"
#include "support.h"

using namespace vaxbot;
using namespace std::chrono_literals;

namespace {

const std::string kData = std::string(VAXBOT_SOURCE_DIR) + "/data";

struct Run {
  int code;
  std::string out;
  std::string err;
};

Run import(const std::vector<std::string>& args) {
  std::vector<std::string> all = {"import-slots"};
  all.insert(all.end(), args.begin(), args.end());
  test::ChildProcess child(all, {}, /*expect_listen=*/false);
  const int code = child.wait();
  return {code, child.stdout_text(), child.stderr_text()};
}

Run import_file(const std::string& db, const std::string& csv) {
  return import({"--db", db, "--data", kData, csv});
}

std::string csv(const std::string& name) {
  return test::fixture_dir("import/" + name).string();
}

std::int64_t slots(const std::string& db) {
  return test::count(db, "SELECT count(*) FROM slots");
}
std::int64_t venues(const std::string& db) {
  return test::count(db, "SELECT count(*) FROM venues");
}

}  // namespace

TEST_SUITE("import slots") {
  TEST_CASE("a good file adds venues and slots; quoted commas and doubled quotes survive") {
    test::TempDir dir;
    const std::string db = dir.file("good.db");
    const auto run = import_file(db, csv("good.csv"));
    INFO(run.err);
    REQUIRE(run.code == 0);
    CHECK(run.out ==
          "imported 3 rows from " + csv("good.csv") +
              ": venues 2 added, 0 updated, 0 unchanged; slots 3 added, 0 updated, 0 unchanged\n");
    CHECK(venues(db) == 2);
    CHECK(slots(db) == 3);
    CHECK(test::count(db,
                      "SELECT count(*) FROM venues WHERE name = 'Camp \"W140\", G. Reach' AND "
                      "address = '140 Demo Road (sample address), Kolkata 700024'") == 1);
    CHECK(test::count(
              db,
              "SELECT capacity FROM slots WHERE venue_id = 'kmc-w140-camp' AND date = '2030-01-09' "
              "AND start = '10:00' AND \"end\" = '14:00' AND vaccine = 'sputnik_v'") == 25);
  }

  TEST_CASE("a re-import updates capacities, ends and names, and adds what is new") {
    test::TempDir dir;
    const std::string db = dir.file("again.db");
    REQUIRE(import_file(db, csv("good.csv")).code == 0);
    // update.csv is CRLF with a UTF-8 byte order mark, as spreadsheets save it.
    const auto run = import_file(db, csv("update.csv"));
    INFO(run.err);
    REQUIRE(run.code == 0);
    CHECK(run.out.find(
              "venues 0 added, 1 updated, 1 unchanged; slots 1 added, 1 updated, 1 unchanged") !=
          std::string::npos);
    CHECK(slots(db) == 4);
    CHECK(
        test::count(
            db,
            "SELECT capacity FROM slots WHERE venue_id = 'kmc-w012-beleghata' AND start = '09:00' "
            "AND \"end\" = '11:30'") == 30);
    CHECK(test::count(db, "SELECT count(*) FROM venues WHERE name = 'Sample Camp W140'") == 1);
    const auto same = import_file(db, csv("update.csv"));
    CHECK(same.out.find("slots 0 added, 0 updated, 3 unchanged") != std::string::npos);
  }

  TEST_CASE("each kind of bad row: exit 1, FILE:LINE naming the column, nothing imported") {
    struct Case {
      const char* file;
      const char* expected;  // after "FILE:"
    };
    const std::vector<Case> cases = {
        {"bad_date.csv",
         "3: column 'date': '2030-02-30' is not a real date in the form YYYY-MM-DD"},
        {"bad_date_format.csv",
         "3: column 'date': '07/01/2030' is not a real date in the form YYYY-MM-DD"},
        {"bad_start.csv", "3: column 'start': '25:00' is not a time HH:MM (00:00 to 23:59)"},
        {"bad_end.csv", "3: column 'end': 10:30 is not after start 11:00"},
        {"bad_vaccine.csv",
         "3: column 'vaccine': 'covidshield' is not one of covishield, covaxin, sputnik_v"},
        {"bad_capacity.csv", "3: column 'capacity': '0' is not a whole number from 1 to 10000"},
        {"bad_capacity_text.csv",
         "3: column 'capacity': 'twenty' is not a whole number from 1 to 10000"},
        {"bad_venue_id.csv",
         "3: column 'venue_id': 'KMC W12' must be 1 to 64 characters of a-z, 0-9, - and _"},
        {"bad_venue_name.csv",
         "3: column 'venue_name': 'Urban Primary Health Centre Ward 12 Beleghata' has 45 "
         "characters; at most 24 "
         "fit a WhatsApp list row"},
        {"bad_columns.csv",
         "3: expected 8 columns (venue_id,venue_name,address,date,start,end,vaccine,capacity), "
         "found 9"},
        {"bad_duplicate.csv", "3: the same venue_id, date, start and vaccine as line 2"},
        {"bad_venue_mismatch.csv",
         "3: column 'address': differs from line 2 for venue kmc-w012-beleghata"},
        {"bad_quote.csv", "3: a quoted field is never closed"},
        {"bad_header.csv",
         "1: the header must be exactly "
         "venue_id,venue_name,address,date,start,end,vaccine,capacity, not "
         "venue,name,address,date,start,end,vaccine,capacity"},
        {"empty.csv",
         "1: the file is empty; the first line must be "
         "venue_id,venue_name,address,date,start,end,vaccine,capacity"},
    };
    test::TempDir dir;
    const std::string db = dir.file("bad.db");
    REQUIRE(import_file(db, csv("good.csv")).code == 0);
    const auto before_slots = slots(db);
    const auto before_capacity = test::count(db, "SELECT sum(capacity) FROM slots");
    for (const auto& c : cases) {
      CAPTURE(c.file);
      const auto run = import_file(db, csv(c.file));
      CHECK(run.code == 1);
      CHECK(run.err.find(csv(c.file) + ":" + c.expected + "\n") != std::string::npos);
      CHECK(run.err.find("nothing imported") != std::string::npos);
      CHECK(run.out.empty());
      CHECK(venues(db) == 2);
      CHECK(slots(db) == before_slots);
      CHECK(test::count(db, "SELECT sum(capacity) FROM slots") == before_capacity);
    }
    // Nothing of a bad file reaches a database that did not exist either.
    const auto fresh = import_file(dir.file("fresh.db"), csv("bad_date.csv"));
    CHECK(fresh.code == 1);
    CHECK_FALSE(std::filesystem::exists(dir.file("fresh.db")));
  }

  TEST_CASE("a capacity below the seats already booked refuses the whole file") {
    test::TempDir dir;
    const std::string db = dir.file("booked.db");
    REQUIRE(import_file(db, csv("good.csv")).code == 0);
    {
      store::DatabaseOptions o;
      o.path = db;
      auto opened = store::Database::open(o);
      REQUIRE(opened.ok());
      store::SlotStore s(**opened);
      const auto id = test::count(db, "SELECT id FROM slots WHERE venue_id = 'kmc-w012-beleghata'");
      for (int i = 0; i < 12; ++i) REQUIRE(s.take_seat(id).ok());
    }
    const std::string lower = dir.file("lower.csv");
    {
      std::ofstream f(lower);
      f << "venue_id,venue_name,address,date,start,end,vaccine,capacity\n"
           "kmc-w999-new,New Camp,\"999 Demo Road (sample address), Kolkata "
           "700001\",2030-01-07,09:00,11:00,"
           "covishield,5\n"
           "kmc-w012-beleghata,UPHC Ward 12 Beleghata,\"12 Demo Lane (sample address), Beleghata, "
           "Kolkata "
           "700010\",2030-01-07,09:00,11:00,covishield,10\n";
    }
    const auto run = import_file(db, lower);
    CHECK(run.code == 1);
    CHECK(run.err.find(lower + ":3: capacity 10 is below the 12 seats already booked") !=
          std::string::npos);
    CHECK(venues(db) == 2);  // the new camp on line 2 did not go in either
    CHECK(test::count(db, "SELECT capacity FROM slots WHERE venue_id = 'kmc-w012-beleghata'") ==
          20);
  }

  TEST_CASE("waits for another writer's transaction (a running server), then imports") {
    test::TempDir dir;
    const std::string db = dir.file("busy.db");
    REQUIRE(import_file(db, csv("good.csv")).code == 0);
    SQLite::Database other(db, SQLite::OPEN_READWRITE);
    other.exec("BEGIN IMMEDIATE");
    test::ChildProcess child(
        {"import-slots", "--db", db, "--data", kData, "--busy-timeout", "20000", csv("update.csv")},
        {}, false);
    std::this_thread::sleep_for(300ms);
    other.exec("COMMIT");
    CHECK(child.wait() == 0);
    CHECK(slots(db) == 4);

    other.exec("BEGIN IMMEDIATE");
    const auto locked =
        import({"--db", db, "--data", kData, "--busy-timeout", "100", csv("good.csv")});
    other.exec("COMMIT");
    CHECK(locked.code == 1);
    CHECK(locked.err.find("locked") != std::string::npos);
    CHECK(test::count(db,
                      "SELECT capacity FROM slots WHERE start = '09:00' AND venue_id = "
                      "'kmc-w012-beleghata'") ==
          30);  // still update.csv's value: nothing of good.csv went in
  }

  TEST_CASE("usage: exit 2 without exactly one file or with an unknown option; --help exits 0") {
    test::TempDir dir;
    CHECK(import({"--db", dir.file("u.db")}).code == 2);
    CHECK(import({"--db", dir.file("u.db"), csv("good.csv"), csv("update.csv")}).code == 2);
    const auto unknown = import({"--frobnicate", csv("good.csv")});
    CHECK(unknown.code == 2);
    CHECK(unknown.err.find("unknown option --frobnicate") != std::string::npos);
    const auto help = import({"--help"});
    CHECK(help.code == 0);
    CHECK(help.out.find("venue_id,venue_name,address,date,start,end,vaccine,capacity") !=
          std::string::npos);
    const auto missing = import_file(dir.file("u.db"), dir.file("nope.csv"));
    CHECK(missing.code == 1);
    CHECK(missing.err.find("cannot read") != std::string::npos);
    const auto no_data =
        import({"--db", dir.file("u.db"), "--data", dir.file("nodata"), csv("good.csv")});
    CHECK(no_data.code == 1);
    CHECK(no_data.err.find("vaccines.json:1:1: cannot read the file") != std::string::npos);
  }

  TEST_CASE("the shipped sample file imports") {
    test::TempDir dir;
    const auto run = import_file(dir.file("sample.db"),
                                 std::string(VAXBOT_SOURCE_DIR) + "/data/sample_slots.csv");
    INFO(run.err);
    CHECK(run.code == 0);
    CHECK(slots(dir.file("sample.db")) == 4);
  }
}
