// SlotStore: centres (venues), their slots and the bookings of seats in them.
//
// A repository over one store::Database connection, which must outlive it.
// Not thread-safe: it runs on the thread that owns the connection (the writer
// for writes; a reader may use the query methods on a read-only Database).
// Statements are prepared on first use and reused; keep one SlotStore per
// connection.
//
// Transactions: the writing methods run inside the caller's transaction (the
// writer's batch); they never BEGIN or COMMIT. Methods that change more than
// one row (create_booking, cancel_booking, seed_if_empty, add_missing_slots)
// wrap their work in a SAVEPOINT, so a failure leaves nothing half-done even
// when the caller goes on with its transaction. The one exception is import(),
// which is a unit of work of its own: BEGIN IMMEDIATE ... COMMIT, all or nothing.
//
// Seats: slots.booked counts the bookings of a slot that are not cancelled.
// take_seat is one conditional UPDATE (booked < capacity), so a seat is never
// given twice, and a CHECK in the schema backs it up.
//
// Errors (never exceptions): kConflict for a full slot, a second active
// booking for one ID, a capacity below the seats already booked, a booking
// that is no longer active; kNotFound for an unknown slot or reference;
// kInvalidInput for values the schema would refuse; kUnavailable for SQLite
// failures (busy, full, I/O), which the caller may retry.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "booking/catalog.h"
#include "booking/civil_date.h"
#include "core/result.h"
#include "store/database.h"

namespace vaxbot::store {

struct Venue {
  std::string id;
  std::string name;     // English
  std::string name_bn;  // '' when unknown (a venue added by import-slots)
  std::string name_hi;
  std::string address;
  int ward = 0;  // 0 when unknown

  friend bool operator==(const Venue&, const Venue&) = default;
};

struct Slot {
  std::int64_t id = 0;
  std::string venue_id;
  booking::CivilDate date;
  std::string start;  // "HH:MM"
  std::string end;
  std::string vaccine;
  int capacity = 0;
  int booked = 0;

  int free_seats() const { return capacity - booked; }
};

enum class BookingStatus { kBooked, kCancelled, kAttended };
const char* to_string(BookingStatus status);  // "booked", "cancelled", "attended"

struct Booking {
  std::string reference;
  std::string resident;  // WhatsApp id (phone number)
  std::string id_type;   // booking::to_string(IdType)
  std::string id_hash;   // hex HMAC of the normalised ID number, computed by the caller
  std::string id_last4;
  std::string vaccine;
  booking::CivilDate first_dose_date;
  std::int64_t slot_id = 0;
  BookingStatus status = BookingStatus::kBooked;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

enum class Upserted { kAdded, kUpdated, kUnchanged };

struct SlotUpsert {
  std::int64_t id = 0;
  Upserted outcome = Upserted::kAdded;
};

// One row of an import: the venue (its English name and address; Bengali and
// Hindi names and the ward of an existing venue are kept) and one slot.
// `origin` says where the row came from ("slots.csv:7") and prefixes any error.
struct ImportRow {
  std::string origin;
  Venue venue;
  booking::SlotSpec slot;
};

struct ImportSummary {
  int venues_added = 0, venues_updated = 0, venues_unchanged = 0;
  int slots_added = 0, slots_updated = 0, slots_unchanged = 0;
};

// For invariant checks: every seat counted in slots.booked belongs to exactly
// one booking that is not cancelled.
struct SeatCounts {
  std::int64_t slots = 0;
  std::int64_t capacity = 0;          // sum over slots
  std::int64_t seats_booked = 0;      // sum of slots.booked
  std::int64_t bookings_active = 0;   // status 'booked'
  std::int64_t bookings_holding = 0;  // status 'booked' or 'attended'
  std::int64_t slots_mismatched = 0;  // slots whose booked != their holding bookings

  bool consistent() const { return seats_booked == bookings_holding && slots_mismatched == 0; }
};

class SlotStore {
 public:
  explicit SlotStore(Database& db);
  ~SlotStore();
  SlotStore(const SlotStore&) = delete;
  SlotStore& operator=(const SlotStore&) = delete;

  // Inserts the catalog's centres and the slots generate_slots() gives from
  // today, only when there is no venue at all. Returns whether it seeded.
  core::Result<bool> seed_if_empty(const booking::Catalog& catalog, booking::CivilDate today);
  // Adds the generated slots from today that are missing, for the catalog's
  // centres that exist; changes no existing slot. Keeps the demo from going
  // stale. Returns how many slots were added.
  core::Result<int> add_missing_slots(const booking::Catalog& catalog, booking::CivilDate today,
                                      int days = 14);

  core::Result<Upserted> upsert_venue(const Venue& venue);
  // By (venue, date, start, vaccine); updates end and capacity. A capacity
  // below the seats already booked is kConflict and changes nothing.
  core::Result<SlotUpsert> upsert_slot(const booking::SlotSpec& slot);

  core::Result<std::optional<Venue>> venue(const std::string& id);
  // Venues with at least one free seat for the vaccine on or after `from`, by
  // ward and name. One index probe per venue: the cost does not grow with the
  // number of slots.
  core::Result<std::vector<Venue>> venues_with_free_slots(booking::CivilDate from,
                                                          const std::string& vaccine);
  // Slots with a free seat, by date and start.
  core::Result<std::vector<Slot>> free_slots(const std::string& venue_id, booking::CivilDate from,
                                             const std::string& vaccine, int limit, int offset = 0);
  core::Result<Slot> slot(std::int64_t id);

  core::Status take_seat(std::int64_t slot_id);     // kConflict when full, kNotFound when unknown
  core::Status release_seat(std::int64_t slot_id);  // kConflict when no seat is taken

  // Takes a seat in booking.slot_id and records the booking (status booked;
  // created/updated from booking.created_at_ms). kConflict when the slot is
  // full or the ID already has an active booking; kInvalidInput when the
  // slot is for another vaccine; kNotFound for an unknown slot.
  core::Result<Booking> create_booking(const Booking& booking);
  // nullopt when there is none; an error only when the database fails.
  core::Result<std::optional<Booking>> active_booking_for(const std::string& id_hash);
  core::Result<std::optional<Booking>> active_booking_for_resident(const std::string& resident);
  core::Result<std::optional<Booking>> booking_by_reference(const std::string& reference);
  // Status -> cancelled and the seat released. kNotFound for an unknown
  // reference, kConflict when the booking is not active.
  core::Result<Booking> cancel_booking(const std::string& reference, std::int64_t now_ms);

  core::Result<SeatCounts> counts();

  // All rows or none, in one BEGIN IMMEDIATE transaction of its own (waits up
  // to the connection's busy timeout for the writer of a running server).
  core::Result<ImportSummary> import(const std::vector<ImportRow>& rows);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vaxbot::store
