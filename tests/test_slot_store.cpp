// store/slot_store: seeding, seats that are never given twice, one active
// booking per ID, cancellation, capacity updates, queries, import. Real SQLite
// files in a temporary directory.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "booking/catalog.h"
#include "store/slot_store.h"
#include "support.h"

using namespace vaxbot;

namespace {

const booking::CivilDate kMonday{2026, 11, 23};

std::unique_ptr<store::Database> open_db(const std::string& path) {
  store::DatabaseOptions o;
  o.path = path;
  auto db = store::Database::open(o);
  REQUIRE_MESSAGE(db.ok(), (db.ok() ? "" : db.error().message));
  return std::move(*db);
}

booking::Catalog fixture_catalog() {
  auto load = booking::load_catalog(test::fixture_dir("catalog/good"));
  REQUIRE(load.ok());
  return load.catalog;
}

store::Venue venue(const std::string& id, int ward, const std::string& name) {
  return store::Venue{id, name, "", "", id + " Demo Lane (sample address), Kolkata", ward};
}

// One venue and one slot of `capacity` seats; returns the slot id.
std::int64_t make_slot(store::SlotStore& s, int capacity, const std::string& vaccine = "covishield",
                       const std::string& start = "09:00", const std::string& venue_id = "v1") {
  REQUIRE(s.upsert_venue(venue(venue_id, 1, "Venue " + venue_id)).ok());
  const std::string end = std::to_string(std::stoi(start) + 1) + start.substr(2);  // an hour later
  auto slot = s.upsert_slot(
      {venue_id, kMonday, start, end.size() == 4 ? "0" + end : end, vaccine, capacity});
  REQUIRE_MESSAGE(slot.ok(), (slot.ok() ? "" : slot.error().message));
  return slot->id;
}

store::Booking booking_for(const std::string& reference, const std::string& id_hash,
                           std::int64_t slot_id, const std::string& vaccine = "covishield") {
  store::Booking b;
  b.reference = reference;
  b.resident = "9198000" + id_hash.substr(0, 5);
  b.id_type = "aadhaar";
  b.id_hash = id_hash;
  b.id_last4 = "1234";
  b.vaccine = vaccine;
  b.first_dose_date = {2026, 8, 1};
  b.slot_id = slot_id;
  b.created_at_ms = 1'767'852'000'000;
  return b;
}

std::int64_t booked(const std::string& path, std::int64_t slot_id) {
  return test::count(path, "SELECT booked FROM slots WHERE id = " + std::to_string(slot_id));
}

void check_consistent(store::SlotStore& s) {
  auto c = s.counts();
  REQUIRE(c.ok());
  CHECK(c->consistent());
}

}  // namespace

TEST_SUITE("slot store seeding") {
  TEST_CASE("seeds venues and 14 days of slots once, into an empty database only") {
    test::TempDir dir;
    const std::string path = dir.file("seed.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    const auto catalog = fixture_catalog();
    auto first = s.seed_if_empty(catalog, kMonday);
    REQUIRE(first.ok());
    CHECK(*first);
    const auto expected =
        static_cast<std::int64_t>(booking::generate_slots(catalog, kMonday).size());
    CHECK(test::count(path, "SELECT count(*) FROM venues") == 2);
    CHECK(test::count(path, "SELECT count(*) FROM slots") == expected);
    CHECK(test::count(
              path,
              "SELECT count(*) FROM venues WHERE name_bn = 'ওয়ার্ড ১২ বেলেঘাটা' AND ward = 12") ==
          1);

    auto again = s.seed_if_empty(catalog, booking::add_days(kMonday, 7));
    REQUIRE(again.ok());
    CHECK_FALSE(*again);
    CHECK(test::count(path, "SELECT count(*) FROM slots") == expected);

    // A week later the generated window moves on: only the new week's slots are added.
    auto added = s.add_missing_slots(catalog, booking::add_days(kMonday, 7));
    REQUIRE(added.ok());
    CHECK(*added == static_cast<int>(expected / 2));
    CHECK(*s.add_missing_slots(catalog, booking::add_days(kMonday, 7)) == 0);
  }

  TEST_CASE("seeding inside the caller's transaction is rolled back with it") {
    test::TempDir dir;
    const std::string path = dir.file("seedtx.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    REQUIRE(db->begin().ok());
    CHECK(*s.seed_if_empty(fixture_catalog(), kMonday));
    db->rollback();
    CHECK(test::count(path, "SELECT count(*) FROM venues") == 0);
    CHECK(*s.seed_if_empty(fixture_catalog(), kMonday));
  }
}

TEST_SUITE("slot store seats") {
  TEST_CASE("take_seat never exceeds capacity; release gives the seat back") {
    test::TempDir dir;
    const std::string path = dir.file("seats.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    const auto id = make_slot(s, 3);
    int taken = 0;
    for (int i = 0; i < 6; ++i) {  // 2 x capacity
      auto r = s.take_seat(id);
      if (r.ok()) {
        ++taken;
      } else {
        CHECK(r.error().code == core::ErrorCode::kConflict);
        CHECK(r.error().message == "slot full");
      }
    }
    CHECK(taken == 3);
    CHECK(booked(path, id) == 3);
    CHECK(s.release_seat(id).ok());
    CHECK(booked(path, id) == 2);
    CHECK(s.take_seat(id).ok());
    CHECK(s.take_seat(999).error().code == core::ErrorCode::kNotFound);
    // The schema refuses an overbooking even from code that skips take_seat.
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    CHECK_THROWS(raw.exec("UPDATE slots SET booked = capacity + 1"));
  }

  TEST_CASE("2 x capacity bookings from two connections at once: exactly capacity succeed") {
    test::TempDir dir;
    const std::string path = dir.file("race.db");
    constexpr int kCapacity = 25;
    std::int64_t slot_id = 0;
    {
      auto db = open_db(path);
      store::SlotStore s(*db);
      slot_id = make_slot(s, kCapacity);
    }
    std::atomic<int> booked_ok{0}, full{0}, other{0};
    // Each connection runs its own transactions, as a second writer would. A
    // transaction that loses the race for the write lock (SQLITE_BUSY, which a
    // deferred BEGIN cannot wait out) is kUnavailable and retried, as the
    // writer would retry it.
    auto worker = [&](int who) {
      auto db = open_db(path);
      store::SlotStore s(*db);
      for (int i = 0; i < kCapacity; ++i) {
        const std::string hash = "h" + std::to_string(who) + "-" + std::to_string(i);
        bool settled = false;
        for (int attempt = 0; attempt < 10000 && !settled; ++attempt) {
          core::Status outcome = db->begin();
          if (outcome.ok()) {
            auto r = s.create_booking(booking_for("R" + hash, hash, slot_id));
            outcome = r.ok() ? db->commit() : core::Status(r.error());
          }
          settled = true;
          if (outcome.ok()) {
            ++booked_ok;
          } else if (db->rollback(); outcome.error().code == core::ErrorCode::kConflict) {
            ++full;
          } else if (outcome.error().code == core::ErrorCode::kUnavailable) {
            settled = false;
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          } else {
            ++other;
          }
        }
        if (!settled) ++other;
      }
    };
    std::thread a(worker, 1), b(worker, 2);
    a.join();
    b.join();
    CHECK(booked_ok.load() == kCapacity);
    CHECK(full.load() == kCapacity);
    CHECK(other.load() == 0);
    CHECK(booked(path, slot_id) == kCapacity);
    CHECK(test::count(path, "SELECT count(*) FROM bookings WHERE status = 'booked'") == kCapacity);
    auto db = open_db(path);
    store::SlotStore s(*db);
    check_consistent(s);
  }

  TEST_CASE("capacity cannot be updated below the seats already booked") {
    test::TempDir dir;
    const std::string path = dir.file("cap.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    const auto id = make_slot(s, 3);
    REQUIRE(s.create_booking(booking_for("R1", "hash1", id)).ok());
    REQUIRE(s.create_booking(booking_for("R2", "hash2", id)).ok());
    auto lower = s.upsert_slot({"v1", kMonday, "09:00", "10:00", "covishield", 1});
    REQUIRE_FALSE(lower.ok());
    CHECK(lower.error().code == core::ErrorCode::kConflict);
    CHECK(lower.error().message == "capacity 1 is below the 2 seats already booked");
    CHECK(test::count(path, "SELECT capacity FROM slots") == 3);
    auto to_booked = s.upsert_slot({"v1", kMonday, "09:00", "10:00", "covishield", 2});
    REQUIRE(to_booked.ok());
    CHECK(to_booked->outcome == store::Upserted::kUpdated);
    CHECK(to_booked->id == id);
    CHECK(s.upsert_slot({"v1", kMonday, "09:00", "10:00", "covishield", 2})->outcome ==
          store::Upserted::kUnchanged);
    CHECK(s.take_seat(id).error().code == core::ErrorCode::kConflict);
    auto bad = s.upsert_slot({"v1", kMonday, "11:00", "10:00", "covishield", 2});
    CHECK(bad.error().code == core::ErrorCode::kInvalidInput);
    auto no_venue = s.upsert_slot({"nowhere", kMonday, "09:00", "10:00", "covishield", 2});
    CHECK(no_venue.error().code == core::ErrorCode::kNotFound);
  }
}

TEST_SUITE("slot store bookings") {
  TEST_CASE("one active booking per ID hash; a refused booking takes no seat") {
    test::TempDir dir;
    const std::string path = dir.file("one.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    const auto first = make_slot(s, 5, "covishield", "09:00");
    const auto second = make_slot(s, 5, "covishield", "11:00");
    auto a = s.create_booking(booking_for("VX-A", "samehash", first));
    REQUIRE(a.ok());
    CHECK(a->status == store::BookingStatus::kBooked);
    auto b = s.create_booking(booking_for("VX-B", "samehash", second));
    REQUIRE_FALSE(b.ok());
    CHECK(b.error().code == core::ErrorCode::kConflict);
    CHECK(b.error().message == "this ID already has an active booking");
    CHECK(booked(path, second) == 0);
    // The index holds even against code that does not ask first.
    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    CHECK_THROWS(
        raw.exec("INSERT INTO bookings (reference, resident, id_type, id_hash, vaccine, "
                 "first_dose_date, slot_id, created_at, updated_at) VALUES "
                 "('VX-C', 'r', 'aadhaar', 'samehash', 'covishield', '2026-08-01', 2, 0, 0)"));
    auto found = s.active_booking_for("samehash");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->reference == "VX-A");
    CHECK((*found)->first_dose_date == booking::CivilDate{2026, 8, 1});
    CHECK_FALSE(s.active_booking_for("otherhash")->has_value());
    // A reused reference is a conflict too, and also takes no seat.
    auto dup_ref = s.create_booking(booking_for("VX-A", "otherhash", second));
    CHECK(dup_ref.error().code == core::ErrorCode::kConflict);
    CHECK(booked(path, second) == 0);
    check_consistent(s);
  }

  TEST_CASE("a booking for another vaccine than the slot's is refused") {
    test::TempDir dir;
    auto db = open_db(dir.file("vac.db"));
    store::SlotStore s(*db);
    const auto id = make_slot(s, 5, "covaxin");
    auto r = s.create_booking(booking_for("VX-A", "h", id, "covishield"));
    CHECK(r.error().code == core::ErrorCode::kInvalidInput);
    CHECK(s.create_booking(booking_for("VX-A", "h", 4242)).error().code ==
          core::ErrorCode::kNotFound);
  }

  TEST_CASE("cancel frees the seat and allows a new booking") {
    test::TempDir dir;
    const std::string path = dir.file("cancel.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    const auto id = make_slot(s, 1);
    REQUIRE(s.create_booking(booking_for("VX-1", "hash1", id)).ok());
    auto full = s.create_booking(booking_for("VX-2", "hash2", id));
    CHECK(full.error().code == core::ErrorCode::kConflict);
    CHECK(full.error().message == "slot full");

    auto cancelled = s.cancel_booking("VX-1", 1'767'852'100'000);
    REQUIRE(cancelled.ok());
    CHECK(cancelled->status == store::BookingStatus::kCancelled);
    CHECK(cancelled->updated_at_ms == 1'767'852'100'000);
    CHECK(booked(path, id) == 0);
    CHECK(s.cancel_booking("VX-1", 0).error().code == core::ErrorCode::kConflict);
    CHECK(s.cancel_booking("VX-404", 0).error().code == core::ErrorCode::kNotFound);
    CHECK_FALSE(s.active_booking_for("hash1")->has_value());
    CHECK((*s.booking_by_reference("VX-1"))->status == store::BookingStatus::kCancelled);

    REQUIRE(s.create_booking(booking_for("VX-2", "hash2", id)).ok());
    CHECK(booked(path, id) == 1);
    // The same ID may book again once its booking is cancelled (when a seat is free).
    const auto other = make_slot(s, 1, "covishield", "11:00");
    REQUIRE(s.create_booking(booking_for("VX-3", "hash1", other)).ok());
    auto by_resident = s.active_booking_for_resident(booking_for("", "hash2", 0).resident);
    REQUIRE(by_resident.ok());
    REQUIRE(by_resident->has_value());
    CHECK((*by_resident)->reference == "VX-2");
    auto c = s.counts();
    REQUIRE(c.ok());
    CHECK(c->seats_booked == 2);
    CHECK(c->bookings_active == 2);
    CHECK(c->consistent());
  }

  TEST_CASE("a refused booking leaves the caller's transaction usable") {
    test::TempDir dir;
    const std::string path = dir.file("tx.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    const auto id = make_slot(s, 1);
    REQUIRE(db->begin().ok());
    REQUIRE(s.create_booking(booking_for("VX-1", "hash1", id)).ok());
    CHECK_FALSE(s.create_booking(booking_for("VX-2", "hash2", id)).ok());
    REQUIRE(db->commit().ok());
    CHECK(test::count(path, "SELECT count(*) FROM bookings") == 1);
    REQUIRE(db->begin().ok());
    REQUIRE(s.cancel_booking("VX-1", 5).ok());
    db->rollback();  // the caller's rollback undoes the cancellation and the released seat
    CHECK(booked(path, id) == 1);
    CHECK(test::count(path, "SELECT count(*) FROM bookings WHERE status = 'booked'") == 1);
  }
}

TEST_SUITE("slot store queries") {
  TEST_CASE("venues with free slots by ward and name; free slots by date and time, paged") {
    test::TempDir dir;
    auto db = open_db(dir.file("q.db"));
    store::SlotStore s(*db);
    REQUIRE(s.upsert_venue(venue("b-ward9", 9, "Bravo")).ok());
    REQUIRE(s.upsert_venue(venue("a-ward9", 9, "Alpha")).ok());
    REQUIRE(s.upsert_venue(venue("c-ward2", 2, "Charlie")).ok());
    REQUIRE(s.upsert_venue(venue("d-full", 1, "Delta")).ok());
    const auto tue = booking::add_days(kMonday, 1);
    for (const auto& [v, date, start, vaccine, cap] :
         std::vector<std::tuple<std::string, booking::CivilDate, std::string, std::string, int>>{
             {"b-ward9", tue, "11:00", "covishield", 5},
             {"b-ward9", kMonday, "09:00", "covishield", 5},
             {"b-ward9", kMonday, "11:00", "covishield", 5},
             {"b-ward9", booking::add_days(kMonday, -1), "09:00", "covishield",
              5},  // before `from`
             {"a-ward9", kMonday, "09:00", "covishield", 2},
             {"a-ward9", kMonday, "09:00", "covaxin", 9},  // other vaccine
             {"c-ward2", tue, "14:00", "covishield", 1},
             {"d-full", kMonday, "09:00", "covishield", 1}}) {
      REQUIRE(
          s.upsert_slot({v, date, start, start == "14:00" ? "16:00" : "12:00", vaccine, cap}).ok());
    }
    auto full_slot = s.free_slots("d-full", kMonday, "covishield", 10);
    REQUIRE(full_slot.ok());
    REQUIRE(s.take_seat(full_slot->front().id).ok());

    auto venues = s.venues_with_free_slots(kMonday, "covishield");
    REQUIRE(venues.ok());
    REQUIRE(venues->size() == 3);
    CHECK((*venues)[0].id == "c-ward2");  // ward 2 first, then by name
    CHECK((*venues)[1].id == "a-ward9");
    CHECK((*venues)[2].id == "b-ward9");  // d-full has no free seat; a-ward9's covaxin not asked

    auto page1 = s.free_slots("b-ward9", kMonday, "covishield", 2, 0);
    REQUIRE(page1.ok());
    REQUIRE(page1->size() == 2);
    CHECK((*page1)[0].date == kMonday);
    CHECK((*page1)[0].start == "09:00");
    CHECK((*page1)[1].start == "11:00");
    CHECK((*page1)[1].free_seats() == 5);
    auto page2 = s.free_slots("b-ward9", kMonday, "covishield", 2, 2);
    REQUIRE(page2->size() == 1);
    CHECK((*page2)[0].date == tue);
    auto one = s.slot((*page2)[0].id);
    REQUIRE(one.ok());
    CHECK(one->venue_id == "b-ward9");
    CHECK(one->end == "12:00");
    CHECK(s.slot(12345).error().code == core::ErrorCode::kNotFound);
    auto v = s.venue("a-ward9");
    REQUIRE(v.ok());
    CHECK((*v)->name == "Alpha");
    CHECK_FALSE(s.venue("zzz")->has_value());
  }

  TEST_CASE("upsert_venue reports added, updated and unchanged") {
    test::TempDir dir;
    auto db = open_db(dir.file("v.db"));
    store::SlotStore s(*db);
    auto v = venue("v1", 4, "One");
    CHECK(*s.upsert_venue(v) == store::Upserted::kAdded);
    CHECK(*s.upsert_venue(v) == store::Upserted::kUnchanged);
    v.name_bn = "এক";
    CHECK(*s.upsert_venue(v) == store::Upserted::kUpdated);
    CHECK((*s.venue("v1"))->name_bn == "এক");
  }
}

TEST_SUITE("slot store import") {
  TEST_CASE("all rows or none; a re-import updates and keeps the Bengali and Hindi names") {
    test::TempDir dir;
    const std::string path = dir.file("imp.db");
    auto db = open_db(path);
    store::SlotStore s(*db);
    REQUIRE(*s.seed_if_empty(fixture_catalog(), kMonday));
    const auto before = test::count(path, "SELECT count(*) FROM slots");
    store::Venue beleghata{"kmc-w012-beleghata",
                           "UPHC Ward 12 Beleghata",
                           "",
                           "",
                           "12 Demo Lane (sample address), Beleghata, Kolkata 700010",
                           0};
    std::vector<store::ImportRow> rows = {
        {"f.csv:2", beleghata, {"kmc-w012-beleghata", kMonday, "17:00", "18:00", "covishield", 10}},
        {"f.csv:3",
         venue("new-camp", 0, "New Camp"),
         {"new-camp", kMonday, "10:00", "12:00", "covaxin", 4}},
        {"f.csv:4", beleghata, {"kmc-w012-beleghata", kMonday, "09:00", "11:00", "covishield", 25}},
    };
    auto sum = s.import(rows);
    REQUIRE_MESSAGE(sum.ok(), (sum.ok() ? "" : sum.error().message));
    CHECK(sum->venues_added == 1);
    CHECK(sum->venues_unchanged == 1);
    CHECK(sum->slots_added == 2);
    CHECK(sum->slots_updated == 1);
    CHECK(test::count(path, "SELECT count(*) FROM slots") == before + 2);
    CHECK(test::count(path,
                      "SELECT count(*) FROM venues WHERE id = 'kmc-w012-beleghata' AND ward = 12 "
                      "AND name_bn = 'ওয়ার্ড ১২ বেলেঘাটা'") == 1);

    // A row that cannot go in (capacity below booked) sinks the whole file.
    auto slot_id = s.free_slots("new-camp", kMonday, "covaxin", 1)->front().id;
    REQUIRE(s.take_seat(slot_id).ok());
    REQUIRE(s.take_seat(slot_id).ok());
    rows = {
        {"f.csv:2",
         venue("another", 3, "Another"),
         {"another", kMonday, "10:00", "12:00", "covaxin", 4}},
        {"f.csv:3",
         venue("new-camp", 0, "New Camp"),
         {"new-camp", kMonday, "10:00", "12:00", "covaxin", 1}},
    };
    auto failed = s.import(rows);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().code == core::ErrorCode::kConflict);
    CHECK(failed.error().message == "f.csv:3: capacity 1 is below the 2 seats already booked");
    CHECK(test::count(path, "SELECT count(*) FROM venues WHERE id = 'another'") == 0);
  }
}
