#include "store/slot_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <array>
#include <set>

#include "core/log.h"

namespace vaxbot::store {
namespace {

using core::ErrorCode;
using core::make_error;

enum class Q {
  kCountVenues,
  kVenue,
  kInsertVenue,
  kUpdateVenue,
  kSlotByKey,
  kInsertSlot,
  kInsertSlotIfMissing,
  kUpdateSlot,
  kSlot,
  kVenuesWithFree,
  kFreeSlots,
  kTakeSeat,
  kReleaseSeat,
  kInsertBooking,
  kBookingByReference,
  kActiveByHash,
  kActiveByResident,
  kCancel,
  kCounts,
  kSavepoint,
  kRelease,
  kRollbackTo,
  kCount,  // number of statements
};

constexpr const char* kSlotColumns =
    R"(id, venue_id, date, start, "end", vaccine, capacity, booked)";
constexpr const char* kBookingColumns =
    "reference, resident, id_type, id_hash, id_last4, vaccine, first_dose_date, slot_id, status, "
    "created_at, updated_at";

std::string sql_for(Q q) {
  switch (q) {
    case Q::kCountVenues:
      return "SELECT count(*) FROM venues";
    case Q::kVenue:
      return "SELECT id, name, name_bn, name_hi, address, ward FROM venues WHERE id = ?1";
    case Q::kInsertVenue:
      return "INSERT INTO venues (id, name, name_bn, name_hi, address, ward) VALUES (?1, ?2, ?3, "
             "?4, ?5, ?6)";
    case Q::kUpdateVenue:
      return "UPDATE venues SET name = ?2, name_bn = ?3, name_hi = ?4, address = ?5, ward = ?6 "
             "WHERE id = ?1";
    case Q::kSlotByKey:
      return std::string("SELECT ") + kSlotColumns +
             " FROM slots WHERE venue_id = ?1 AND date = ?2 AND start = ?3 AND vaccine = ?4";
    case Q::kInsertSlot:
      return R"(INSERT INTO slots (venue_id, date, start, "end", vaccine, capacity) VALUES (?1, ?2, ?3, ?4, ?5, ?6))";
    case Q::kInsertSlotIfMissing:
      return R"(INSERT INTO slots (venue_id, date, start, "end", vaccine, capacity) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                ON CONFLICT (venue_id, date, start, vaccine) DO NOTHING)";
    case Q::kUpdateSlot:
      return R"(UPDATE slots SET "end" = ?2, capacity = ?3 WHERE id = ?1)";
    case Q::kSlot:
      return std::string("SELECT ") + kSlotColumns + " FROM slots WHERE id = ?1";
    case Q::kVenuesWithFree:
      // One probe of slots_by_venue_vaccine per venue, stopping at the first
      // free slot: the cost does not grow with the number of slots.
      return R"sql(
        SELECT v.id, v.name, v.name_bn, v.name_hi, v.address, v.ward
        FROM venues v
        WHERE EXISTS (SELECT 1 FROM slots s WHERE s.venue_id = v.id AND s.vaccine = ?1
                      AND s.date >= ?2 AND s.booked < s.capacity)
        ORDER BY v.ward, v.name, v.id)sql";
    case Q::kFreeSlots:
      return std::string("SELECT ") + kSlotColumns + R"sql(
        FROM slots
        WHERE venue_id = ?1 AND vaccine = ?2 AND date >= ?3 AND booked < capacity
        ORDER BY date, start
        LIMIT ?4 OFFSET ?5)sql";
    case Q::kTakeSeat:
      return "UPDATE slots SET booked = booked + 1 WHERE id = ?1 AND booked < capacity";
    case Q::kReleaseSeat:
      return "UPDATE slots SET booked = booked - 1 WHERE id = ?1 AND booked > 0";
    case Q::kInsertBooking:
      return std::string("INSERT INTO bookings (") + kBookingColumns +
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'booked', ?9, ?9)";
    case Q::kBookingByReference:
      return std::string("SELECT ") + kBookingColumns + " FROM bookings WHERE reference = ?1";
    case Q::kActiveByHash:
      return std::string("SELECT ") + kBookingColumns +
             " FROM bookings WHERE id_hash = ?1 AND status = 'booked'";
    case Q::kActiveByResident:
      return std::string("SELECT ") + kBookingColumns +
             " FROM bookings WHERE resident = ?1 AND status = 'booked' ORDER BY created_at DESC "
             "LIMIT 1";
    case Q::kCancel:
      return "UPDATE bookings SET status = 'cancelled', updated_at = ?2 WHERE reference = ?1 AND "
             "status = 'booked'";
    case Q::kCounts:
      return R"sql(
        SELECT (SELECT count(*) FROM slots),
               (SELECT coalesce(sum(capacity), 0) FROM slots),
               (SELECT coalesce(sum(booked), 0) FROM slots),
               (SELECT count(*) FROM bookings WHERE status = 'booked'),
               (SELECT count(*) FROM bookings WHERE status IN ('booked', 'attended')),
               (SELECT count(*) FROM slots s
                 WHERE s.booked != (SELECT count(*) FROM bookings b
                                     WHERE b.slot_id = s.id AND b.status IN ('booked', 'attended'))))sql";
    case Q::kSavepoint:
      return "SAVEPOINT slot_store";
    case Q::kRelease:
      return "RELEASE slot_store";
    case Q::kRollbackTo:
      return "ROLLBACK TO slot_store";
    case Q::kCount:
      break;
  }
  return "";
}

core::Error sqlite_error(const std::exception& e, const std::string& what) {
  if (const auto* se = dynamic_cast<const SQLite::Exception*>(&e)) {
    if (se->getErrorCode() == SQLITE_CONSTRAINT) {
      return make_error(ErrorCode::kConflict, what + ": " + e.what());
    }
  }
  return make_error(ErrorCode::kUnavailable, what + ": " + e.what());
}

// Resets a statement when leaving scope, so no SELECT keeps a read snapshot open.
class Using {
 public:
  explicit Using(SQLite::Statement& s) : s_(s) {
    s_.reset();
    s_.clearBindings();
  }
  ~Using() { s_.tryReset(); }
  Using(const Using&) = delete;
  Using& operator=(const Using&) = delete;
  SQLite::Statement& operator*() { return s_; }
  SQLite::Statement* operator->() { return &s_; }

 private:
  SQLite::Statement& s_;
};

std::string text(SQLite::Statement& s, int column) {
  return s.getColumn(column).getString();
}
int integer(SQLite::Statement& s, int column) {
  return s.getColumn(column).getInt();
}

booking::CivilDate date_of(const std::string& iso) {
  auto d = booking::parse_iso(iso);
  return d.ok() ? *d : booking::CivilDate{};
}

Venue read_venue(SQLite::Statement& s) {
  return Venue{text(s, 0), text(s, 1), text(s, 2), text(s, 3), text(s, 4), integer(s, 5)};
}

Slot read_slot(SQLite::Statement& s) {
  Slot slot;
  slot.id = s.getColumn(0).getInt64();
  slot.venue_id = text(s, 1);
  slot.date = date_of(text(s, 2));
  slot.start = text(s, 3);
  slot.end = text(s, 4);
  slot.vaccine = text(s, 5);
  slot.capacity = integer(s, 6);
  slot.booked = integer(s, 7);
  return slot;
}

BookingStatus status_of(const std::string& s) {
  if (s == "cancelled") return BookingStatus::kCancelled;
  if (s == "attended") return BookingStatus::kAttended;
  return BookingStatus::kBooked;
}

Booking read_booking(SQLite::Statement& s) {
  Booking b;
  b.reference = text(s, 0);
  b.resident = text(s, 1);
  b.id_type = text(s, 2);
  b.id_hash = text(s, 3);
  b.id_last4 = text(s, 4);
  b.vaccine = text(s, 5);
  b.first_dose_date = date_of(text(s, 6));
  b.slot_id = s.getColumn(7).getInt64();
  b.status = status_of(text(s, 8));
  b.created_at_ms = s.getColumn(9).getInt64();
  b.updated_at_ms = s.getColumn(10).getInt64();
  return b;
}

// What the schema would refuse, said in words before SQLite says it in codes.
core::Status check_slot(const booking::SlotSpec& slot) {
  const auto from = booking::parse_hhmm(slot.start);
  const auto to = booking::parse_hhmm(slot.end);
  std::string problem;
  if (slot.venue_id.empty())
    problem = "venue id is empty";
  else if (!booking::is_valid(slot.date))
    problem = "date is not a real date";
  else if (!from)
    problem = "start '" + slot.start + "' is not HH:MM";
  else if (!to)
    problem = "end '" + slot.end + "' is not HH:MM";
  else if (*to <= *from)
    problem = "end " + slot.end + " is not after start " + slot.start;
  else if (slot.vaccine.empty())
    problem = "vaccine is empty";
  else if (slot.capacity < 0)
    problem = "capacity is negative";
  if (problem.empty()) return core::ok_status();
  return make_error(ErrorCode::kInvalidInput, problem);
}

void tally(Upserted outcome, int& added, int& updated, int& unchanged) {
  switch (outcome) {
    case Upserted::kAdded:
      ++added;
      break;
    case Upserted::kUpdated:
      ++updated;
      break;
    case Upserted::kUnchanged:
      ++unchanged;
      break;
  }
}

}  // namespace

const char* to_string(BookingStatus status) {
  switch (status) {
    case BookingStatus::kBooked:
      return "booked";
    case BookingStatus::kCancelled:
      return "cancelled";
    case BookingStatus::kAttended:
      return "attended";
  }
  return "booked";
}

struct SlotStore::Impl {
  Database& database;
  SQLite::Database& db;
  std::array<std::unique_ptr<SQLite::Statement>, static_cast<std::size_t>(Q::kCount)> statements;

  explicit Impl(Database& d) : database(d), db(d.handle()) {}

  // Prepared on first use, then reused. Throws (SQLite::Exception) like any statement.
  SQLite::Statement& get(Q q) {
    auto& slot = statements[static_cast<std::size_t>(q)];
    if (!slot) slot = std::make_unique<SQLite::Statement>(db, sql_for(q));
    return *slot;
  }

  void exec(Q q) {
    Using s(get(q));
    s->exec();
  }

  // A SAVEPOINT: nested inside the caller's transaction, or a transaction of
  // its own when there is none. Rolled back unless released.
  class Savepoint {
   public:
    explicit Savepoint(Impl& impl) : impl_(impl) { impl_.exec(Q::kSavepoint); }
    ~Savepoint() {
      if (released_) return;
      try {
        impl_.exec(Q::kRollbackTo);
        impl_.exec(Q::kRelease);
      } catch (const std::exception& e) {
        // SQLite may already have rolled the whole transaction back (e.g. on SQLITE_FULL).
        core::logger("store")->debug("savepoint rollback: {}", e.what());
      }
    }
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;
    void release() {
      impl_.exec(Q::kRelease);
      released_ = true;
    }

   private:
    Impl& impl_;
    bool released_ = false;
  };

  std::optional<Venue> venue(const std::string& id) {
    Using s(get(Q::kVenue));
    s->bind(1, id);
    if (!s->executeStep()) return std::nullopt;
    return read_venue(*s);
  }

  std::optional<Slot> slot(std::int64_t id) {
    Using s(get(Q::kSlot));
    s->bind(1, id);
    if (!s->executeStep()) return std::nullopt;
    return read_slot(*s);
  }

  std::optional<Slot> slot_by_key(const booking::SlotSpec& spec) {
    Using s(get(Q::kSlotByKey));
    s->bind(1, spec.venue_id);
    s->bind(2, booking::to_iso(spec.date));
    s->bind(3, spec.start);
    s->bind(4, spec.vaccine);
    if (!s->executeStep()) return std::nullopt;
    return read_slot(*s);
  }

  std::optional<Booking> one_booking(Q q, const std::string& key) {
    Using s(get(q));
    s->bind(1, key);
    if (!s->executeStep()) return std::nullopt;
    return read_booking(*s);
  }

  void write_venue(Q q, const Venue& v) {
    Using s(get(q));
    s->bind(1, v.id);
    s->bind(2, v.name);
    s->bind(3, v.name_bn);
    s->bind(4, v.name_hi);
    s->bind(5, v.address);
    s->bind(6, v.ward);
    s->exec();
  }

  // Returns the number of rows inserted (0 when kInsertSlotIfMissing finds one).
  int insert_slot(Q q, const booking::SlotSpec& spec) {
    Using s(get(q));
    s->bind(1, spec.venue_id);
    s->bind(2, booking::to_iso(spec.date));
    s->bind(3, spec.start);
    s->bind(4, spec.end);
    s->bind(5, spec.vaccine);
    s->bind(6, spec.capacity);
    return s->exec();
  }

  core::Result<Upserted> upsert_venue(const Venue& v) {
    if (v.id.empty() || v.name.empty()) {
      return make_error(ErrorCode::kInvalidInput, "a venue needs an id and a name");
    }
    auto existing = venue(v.id);
    if (!existing) {
      write_venue(Q::kInsertVenue, v);
      return Upserted::kAdded;
    }
    if (*existing == v) return Upserted::kUnchanged;
    write_venue(Q::kUpdateVenue, v);
    return Upserted::kUpdated;
  }

  core::Result<SlotUpsert> upsert_slot(const booking::SlotSpec& spec) {
    if (auto ok = check_slot(spec); !ok.ok()) return ok.error();
    auto existing = slot_by_key(spec);
    if (!existing) {
      if (!venue(spec.venue_id)) {
        return make_error(ErrorCode::kNotFound, "no venue '" + spec.venue_id + "'");
      }
      insert_slot(Q::kInsertSlot, spec);
      return SlotUpsert{db.getLastInsertRowid(), Upserted::kAdded};
    }
    if (spec.capacity < existing->booked) {
      return make_error(ErrorCode::kConflict,
                        "capacity " + std::to_string(spec.capacity) + " is below the " +
                            std::to_string(existing->booked) + " seats already booked");
    }
    if (existing->end == spec.end && existing->capacity == spec.capacity) {
      return SlotUpsert{existing->id, Upserted::kUnchanged};
    }
    Using s(get(Q::kUpdateSlot));
    s->bind(1, existing->id);
    s->bind(2, spec.end);
    s->bind(3, spec.capacity);
    s->exec();
    return SlotUpsert{existing->id, Upserted::kUpdated};
  }

  core::Status take_seat(std::int64_t slot_id) {
    Using s(get(Q::kTakeSeat));
    s->bind(1, slot_id);
    if (s->exec() == 1) return core::ok_status();
    if (!slot(slot_id))
      return make_error(ErrorCode::kNotFound, "no slot " + std::to_string(slot_id));
    return make_error(ErrorCode::kConflict, "slot full");
  }

  core::Status release_seat(std::int64_t slot_id) {
    Using s(get(Q::kReleaseSeat));
    s->bind(1, slot_id);
    if (s->exec() == 1) return core::ok_status();
    if (!slot(slot_id))
      return make_error(ErrorCode::kNotFound, "no slot " + std::to_string(slot_id));
    return make_error(ErrorCode::kConflict,
                      "slot " + std::to_string(slot_id) + " has no seat booked");
  }
};

SlotStore::SlotStore(Database& db) : impl_(std::make_unique<Impl>(db)) {}
SlotStore::~SlotStore() = default;

core::Result<bool> SlotStore::seed_if_empty(const booking::Catalog& catalog,
                                            booking::CivilDate today) {
  try {
    Impl::Savepoint sp(*impl_);
    {
      Using count(impl_->get(Q::kCountVenues));
      if (count->executeStep() && count->getColumn(0).getInt64() > 0) return false;
    }
    for (const auto& c : catalog.centres) {
      impl_->write_venue(Q::kInsertVenue,
                         Venue{c.id, c.name.en, c.name.bn, c.name.hi, c.address, c.ward});
    }
    const auto slots = booking::generate_slots(catalog, today);
    for (const auto& s : slots) impl_->insert_slot(Q::kInsertSlot, s);
    sp.release();
    core::logger("store")->info("seeded {} venues and {} slots from {}", catalog.centres.size(),
                                slots.size(), booking::to_iso(today));
    return true;
  } catch (const std::exception& e) {
    return sqlite_error(e, "seed venues and slots");
  }
}

core::Result<int> SlotStore::add_missing_slots(const booking::Catalog& catalog,
                                               booking::CivilDate today, int days) {
  try {
    Impl::Savepoint sp(*impl_);
    int added = 0;
    std::set<std::string, std::less<>> present;
    for (const auto& c : catalog.centres) {
      if (impl_->venue(c.id)) present.insert(c.id);
    }
    for (const auto& s : booking::generate_slots(catalog, today, days)) {
      if (present.count(s.venue_id) > 0) added += impl_->insert_slot(Q::kInsertSlotIfMissing, s);
    }
    sp.release();
    return added;
  } catch (const std::exception& e) {
    return sqlite_error(e, "add missing slots");
  }
}

core::Result<Upserted> SlotStore::upsert_venue(const Venue& venue) {
  try {
    return impl_->upsert_venue(venue);
  } catch (const std::exception& e) {
    return sqlite_error(e, "upsert venue " + venue.id);
  }
}

core::Result<SlotUpsert> SlotStore::upsert_slot(const booking::SlotSpec& slot) {
  try {
    return impl_->upsert_slot(slot);
  } catch (const std::exception& e) {
    return sqlite_error(e, "upsert slot");
  }
}

core::Result<std::optional<Venue>> SlotStore::venue(const std::string& id) {
  try {
    return impl_->venue(id);
  } catch (const std::exception& e) {
    return sqlite_error(e, "read venue");
  }
}

core::Result<std::vector<Venue>> SlotStore::venues_with_free_slots(booking::CivilDate from,
                                                                   const std::string& vaccine) {
  try {
    std::vector<Venue> out;
    Using s(impl_->get(Q::kVenuesWithFree));
    s->bind(1, vaccine);
    s->bind(2, booking::to_iso(from));
    while (s->executeStep()) out.push_back(read_venue(*s));
    return out;
  } catch (const std::exception& e) {
    return sqlite_error(e, "list venues with free slots");
  }
}

core::Result<std::vector<Slot>> SlotStore::free_slots(const std::string& venue_id,
                                                      booking::CivilDate from,
                                                      const std::string& vaccine, int limit,
                                                      int offset) {
  try {
    std::vector<Slot> out;
    Using s(impl_->get(Q::kFreeSlots));
    s->bind(1, venue_id);
    s->bind(2, vaccine);
    s->bind(3, booking::to_iso(from));
    s->bind(4, limit);
    s->bind(5, offset);
    while (s->executeStep()) out.push_back(read_slot(*s));
    return out;
  } catch (const std::exception& e) {
    return sqlite_error(e, "list free slots");
  }
}

core::Result<Slot> SlotStore::slot(std::int64_t id) {
  try {
    if (auto s = impl_->slot(id)) return *s;
    return make_error(ErrorCode::kNotFound, "no slot " + std::to_string(id));
  } catch (const std::exception& e) {
    return sqlite_error(e, "read slot");
  }
}

core::Status SlotStore::take_seat(std::int64_t slot_id) {
  try {
    return impl_->take_seat(slot_id);
  } catch (const std::exception& e) {
    return sqlite_error(e, "take seat");
  }
}

core::Status SlotStore::release_seat(std::int64_t slot_id) {
  try {
    return impl_->release_seat(slot_id);
  } catch (const std::exception& e) {
    return sqlite_error(e, "release seat");
  }
}

core::Result<Booking> SlotStore::create_booking(const Booking& booking) {
  try {
    Impl::Savepoint sp(*impl_);
    auto slot = impl_->slot(booking.slot_id);
    if (!slot)
      return make_error(ErrorCode::kNotFound, "no slot " + std::to_string(booking.slot_id));
    if (slot->vaccine != booking.vaccine) {
      return make_error(ErrorCode::kInvalidInput, "slot " + std::to_string(slot->id) + " is for " +
                                                      slot->vaccine + ", not " + booking.vaccine);
    }
    if (booking.id_hash.empty())
      return make_error(ErrorCode::kInvalidInput, "a booking needs an ID hash");
    if (impl_->one_booking(Q::kActiveByHash, booking.id_hash)) {
      return make_error(ErrorCode::kConflict, "this ID already has an active booking");
    }
    if (auto taken = impl_->take_seat(booking.slot_id); !taken.ok()) return taken.error();
    {
      Using s(impl_->get(Q::kInsertBooking));
      s->bind(1, booking.reference);
      s->bind(2, booking.resident);
      s->bind(3, booking.id_type);
      s->bind(4, booking.id_hash);
      s->bind(5, booking.id_last4);
      s->bind(6, booking.vaccine);
      s->bind(7, booking::to_iso(booking.first_dose_date));
      s->bind(8, booking.slot_id);
      s->bind(9, booking.created_at_ms);
      s->exec();
    }
    sp.release();
    Booking out = booking;
    out.status = BookingStatus::kBooked;
    out.updated_at_ms = booking.created_at_ms;
    return out;
  } catch (const SQLite::Exception& e) {
    if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE ||
        e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY) {
      const bool reference = std::string(e.what()).find("bookings.reference") != std::string::npos;
      return make_error(ErrorCode::kConflict, reference ? "booking reference already used"
                                                        : "this ID already has an active booking");
    }
    return sqlite_error(e, "create booking");
  } catch (const std::exception& e) {
    return sqlite_error(e, "create booking");
  }
}

core::Result<std::optional<Booking>> SlotStore::active_booking_for(const std::string& id_hash) {
  try {
    return impl_->one_booking(Q::kActiveByHash, id_hash);
  } catch (const std::exception& e) {
    return sqlite_error(e, "read booking");
  }
}

core::Result<std::optional<Booking>> SlotStore::active_booking_for_resident(
    const std::string& resident) {
  try {
    return impl_->one_booking(Q::kActiveByResident, resident);
  } catch (const std::exception& e) {
    return sqlite_error(e, "read booking");
  }
}

core::Result<std::optional<Booking>> SlotStore::booking_by_reference(const std::string& reference) {
  try {
    return impl_->one_booking(Q::kBookingByReference, reference);
  } catch (const std::exception& e) {
    return sqlite_error(e, "read booking");
  }
}

core::Result<Booking> SlotStore::cancel_booking(const std::string& reference, std::int64_t now_ms) {
  try {
    Impl::Savepoint sp(*impl_);
    auto booking = impl_->one_booking(Q::kBookingByReference, reference);
    if (!booking) return make_error(ErrorCode::kNotFound, "no booking " + reference);
    if (booking->status != BookingStatus::kBooked) {
      return make_error(ErrorCode::kConflict, "booking " + reference + " is " +
                                                  to_string(booking->status) + ", not active");
    }
    {
      Using s(impl_->get(Q::kCancel));
      s->bind(1, reference);
      s->bind(2, now_ms);
      s->exec();
    }
    if (auto released = impl_->release_seat(booking->slot_id); !released.ok()) {
      // booked < 1 with an active booking: the seat count was wrong before we came.
      return make_error(ErrorCode::kInternal,
                        "cancel " + reference + ": " + released.error().message);
    }
    sp.release();
    booking->status = BookingStatus::kCancelled;
    booking->updated_at_ms = now_ms;
    return *booking;
  } catch (const std::exception& e) {
    return sqlite_error(e, "cancel booking");
  }
}

core::Result<SeatCounts> SlotStore::counts() {
  try {
    Using s(impl_->get(Q::kCounts));
    SeatCounts c;
    if (s->executeStep()) {
      c.slots = s->getColumn(0).getInt64();
      c.capacity = s->getColumn(1).getInt64();
      c.seats_booked = s->getColumn(2).getInt64();
      c.bookings_active = s->getColumn(3).getInt64();
      c.bookings_holding = s->getColumn(4).getInt64();
      c.slots_mismatched = s->getColumn(5).getInt64();
    }
    return c;
  } catch (const std::exception& e) {
    return sqlite_error(e, "count seats");
  }
}

core::Result<ImportSummary> SlotStore::import(const std::vector<ImportRow>& rows) {
  try {
    // IMMEDIATE: take the write lock first (waiting up to the busy timeout for
    // a running server's writer), so no read-then-write upgrade can fail midway.
    SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
    ImportSummary sum;
    std::set<std::string, std::less<>> venues_done;
    for (const auto& row : rows) {
      auto fail = [&](const core::Error& e) {
        return make_error(e.code, row.origin + ": " + e.message);
      };
      if (venues_done.insert(row.venue.id).second) {
        Venue merged = row.venue;
        if (auto existing = impl_->venue(row.venue.id)) {
          // The CSV has no Bengali/Hindi names or ward: keep those already known.
          merged = *existing;
          merged.name = row.venue.name;
          merged.address = row.venue.address;
        }
        auto v = impl_->upsert_venue(merged);
        if (!v.ok()) return fail(v.error());
        tally(*v, sum.venues_added, sum.venues_updated, sum.venues_unchanged);
      }
      auto s = impl_->upsert_slot(row.slot);
      if (!s.ok()) return fail(s.error());
      tally(s->outcome, sum.slots_added, sum.slots_updated, sum.slots_unchanged);
    }
    tx.commit();
    return sum;
  } catch (const std::exception& e) {
    return sqlite_error(e, "import");
  }
}

}  // namespace vaxbot::store
