// Catalog: the vaccines, ID proofs, centres and weekly schedule that municipal
// staff edit in data/, validated, and what follows from them (the slots of the
// next days, whether a resident may book their second dose yet).
//
// load_catalog(dir) reads dir/vaccines.json, dir/id_types.json,
// dir/centres.json and dir/schedule.json and checks everything staff could get
// wrong: JSON syntax, missing or unknown keys, wrong value types, duplicate
// ids, a vaccine key that does not exist, texts too long for a WhatsApp list
// row (24 code points for a title, 72 for a description, 20 for a button),
// impossible times, a window ending before it starts, overlapping windows,
// capacities <= 0, a centre that would get no slot for a vaccine it gives.
// Every problem becomes a core::Diagnostic "file:line:col: message" pointing
// at the offending key (or array element) in the file; the catalog is usable
// only when there are none. Loading never throws (std::bad_alloc aside).
//
// File shapes (see data/ for complete examples):
//   vaccines.json  {"vaccines": [{"key", "name", "min_interval_days"}]}
//   id_types.json  {"id_types": [{"key", "name": {"en", "bn", "hi"}}]}
//                  key one of aadhaar, pan, voter_id, passport, driving_licence
//   centres.json   {"centres": [{"id", "ward", "name": {"en", "bn", "hi"},
//                                "address", "vaccines": [key...]}]}
//   schedule.json  {"default": Schedule, "centres": {centre id: Schedule}}
//                  Schedule = {"weekdays": ["monday".."sunday"],
//                              "windows": [{"start": "HH:MM", "end": "HH:MM",
//                                           "capacity": n, "vaccines": [key...]}]}
//                  capacity counts seats per vaccine of the window. A centre
//                  without its own schedule follows "default", of which it gets
//                  the windows' vaccines it gives.
//
// Everything else here is pure: no clock (callers pass today), no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "booking/civil_date.h"
#include "booking/id_proof.h"
#include "core/diagnostic.h"

namespace vaxbot::booking {

// WhatsApp limits, in Unicode code points.
inline constexpr std::size_t kMaxRowTitle = 24;
inline constexpr std::size_t kMaxRowDescription = 72;
inline constexpr std::size_t kMaxButtonTitle = 20;
inline constexpr std::size_t kMaxIdLength = 64;  // centre ids end up in list-row ids

struct LocalizedName {
  std::string en;
  std::string bn;
  std::string hi;
};

struct Vaccine {
  std::string key;  // stable: stored in bookings and slots
  std::string name;
  int min_interval_days = 0;  // from the first dose to the earliest second dose
};

struct IdProofType {
  std::string key;
  IdType type = IdType::kAadhaar;
  LocalizedName name;
};

struct Centre {
  std::string id;  // stable: stored as venues.id
  LocalizedName name;
  int ward = 0;
  std::string address;
  std::vector<std::string> vaccines;  // keys
};

struct TimeWindow {
  std::string start;  // "HH:MM"
  std::string end;    // "HH:MM", after start
  int capacity = 0;   // seats per vaccine
  std::vector<std::string> vaccines;
};

struct WeeklySchedule {
  std::array<bool, 7> open{};  // index: ISO weekday - 1 (Monday first)
  std::vector<TimeWindow> windows;

  bool open_on(Weekday day) const { return open[static_cast<std::size_t>(day) - 1]; }
};

struct Catalog {
  std::vector<Vaccine> vaccines;
  std::vector<IdProofType> id_types;
  std::vector<Centre> centres;
  std::optional<WeeklySchedule> default_schedule;
  std::map<std::string, WeeklySchedule, std::less<>> centre_schedules;

  const Vaccine* vaccine(std::string_view key) const;  // nullptr when unknown
  const Centre* centre(std::string_view id) const;
  const IdProofType* id_type(std::string_view key) const;
  // The centre's own schedule, else the default, else nullptr.
  const WeeklySchedule* schedule_for(std::string_view centre_id) const;
};

// One bookable slot: `capacity` seats for one vaccine at one centre, date and time.
struct SlotSpec {
  std::string venue_id;
  CivilDate date;
  std::string start;  // "HH:MM"
  std::string end;
  std::string vaccine;
  int capacity = 0;

  friend bool operator==(const SlotSpec&, const SlotSpec&) = default;
};

struct CatalogLoad {
  Catalog catalog;
  std::vector<core::Diagnostic> diagnostics;  // empty = the catalog is valid

  bool ok() const { return diagnostics.empty(); }
};

CatalogLoad load_catalog(const std::filesystem::path& data_dir);

// Only the vaccine list (what `vaxbot import-slots` needs), same checks.
struct VaccinesLoad {
  std::vector<Vaccine> vaccines;
  std::vector<core::Diagnostic> diagnostics;

  bool ok() const { return diagnostics.empty(); }
};
VaccinesLoad load_vaccines(const std::filesystem::path& vaccines_json);

// The slots of `days` consecutive dates from today (today included), by
// centre (catalog order), date, window and vaccine.
std::vector<SlotSpec> generate_slots(const Catalog& catalog, CivilDate today, int days = 14);

enum class EligibilityState {
  kEligible,           // today is on or after eligible_from
  kTooEarly,           // wait days_to_wait days, until eligible_from
  kFirstDoseInFuture,  // the first-dose date is after today: a typing slip to query
};

struct Eligibility {
  EligibilityState state = EligibilityState::kEligible;
  CivilDate eligible_from;  // first dose + the vaccine's minimum interval
  int days_to_wait = 0;     // > 0 only when kTooEarly

  bool eligible() const { return state == EligibilityState::kEligible; }
};

Eligibility eligibility(const Vaccine& vaccine, CivilDate first_dose, CivilDate today);

// Shared checks (also used by `vaxbot import-slots`).
std::size_t code_points(std::string_view utf8);
// "HH:MM" with 00 <= HH <= 23 and 00 <= MM <= 59; returns minutes since midnight.
std::optional<int> parse_hhmm(std::string_view text);
// 1-64 characters of a-z, 0-9, '-', '_' (lower case: ids are compared as bytes).
bool is_valid_venue_id(std::string_view id);

}  // namespace vaxbot::booking
