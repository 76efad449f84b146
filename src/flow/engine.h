// The flow engine: one resident's turn, as a pure function.
//
//   Turn run(flow, templates, world, session, message, now_ms)
//
// takes the resident's session and the message they sent and returns the new
// session, the replies to send and the effects to apply (book a seat, cancel a
// booking). It does no I/O, keeps no state and reads no clock: the caller
// passes the time, and reads the world (vaccines, centres, free seats,
// existing bookings) through the World interface, which the conversation
// implements on the store inside the writer's transaction. Because that
// transaction is the only writer, what the engine sees is exactly what the
// effects will meet: a Book effect is only emitted for a seat that is free.
//
// Besides the flow's steps, every turn understands the global commands
// (greetings and "restart" start over; "help"; "status"; "cancel" with a
// confirmation; "language"), re-prompts wrong input with what is expected
// (and adds the help text after three misses in a row), answers a message
// type it cannot use with what to send instead, and starts over with a note
// when the session has been idle for 24 hours.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/event.h"
#include "core/language.h"
#include "core/message.h"
#include "flow/flow.h"
#include "templates/templates.h"

namespace vaxbot::flow {

inline constexpr std::int64_t kSessionIdleMs = 24LL * 3600 * 1000;
inline constexpr int kMissesBeforeHelp = 3;
inline constexpr std::size_t kMaxListRows = 10;
inline constexpr std::size_t kMaxButtons = 3;
// WhatsApp's limits on a message's body, in characters.
inline constexpr std::size_t kMaxInteractiveBody = 1024;
inline constexpr std::size_t kMaxTextBody = 4096;
// A notice folded into the message after it: "notice" + kFoldSeparator + "message",
// key "notice_key+message_key".
inline constexpr std::string_view kFoldSeparator = "\n\n";

struct Session {
  std::string step;  // the step waiting for an answer; empty: no conversation under way
  core::Language language = core::Language::kEn;
  std::map<std::string, std::string> vars;
  int misses = 0;
  int page = 0;         // page of the current list
  std::string pending;  // a global command waiting for an answer: "cancel" or "language"
  std::int64_t updated_ms = 0;

  bool operator==(const Session&) const = default;
};

using Option = core::Option;
using Reply = core::OutboundMessage;

// What a booking looks like to the engine.
struct BookingView {
  std::string reference;
  std::string centre, address, date, time, vaccine;
  std::string id_type, id_masked;
};

struct Book {
  std::int64_t slot_id = 0;
  std::string reference;
  std::string resident;
  std::string id_type;
  std::string id_hash;
  std::string id_last4;
  std::string vaccine;
  std::string first_dose_date;  // YYYY-MM-DD
};

struct Cancel {
  std::string reference;
};

using Effect = std::variant<Book, Cancel>;

struct Turn {
  Session session;
  std::vector<Reply> replies;
  std::vector<Effect> effects;
};

// What the engine may read of the world. Options carry display text in the
// resident's language; ids are stable keys.
class World {
 public:
  virtual ~World() = default;
  virtual std::vector<Option> vaccines(core::Language) = 0;
  virtual std::optional<int> vaccine_interval_days(const std::string& vaccine) = 0;
  virtual std::string vaccine_name(const std::string& vaccine) = 0;
  virtual std::string id_type_name(core::Language, const std::string& id_type) = 0;
  // Centres with free seats for the vaccine on or after `from` (YYYY-MM-DD).
  virtual std::vector<Option> centres(core::Language, const std::string& vaccine,
                                      const std::string& from) = 0;
  // The first `limit` slots with a free seat at the centre, by date and time.
  virtual std::vector<Option> slots(core::Language, const std::string& centre,
                                    const std::string& vaccine, const std::string& from,
                                    std::size_t limit) = 0;
  virtual int free_seats(std::int64_t slot_id) = 0;
  virtual std::optional<BookingView> describe_slot(core::Language, std::int64_t slot_id) = 0;
  virtual std::optional<BookingView> active_booking_for_id(core::Language,
                                                           const std::string& id_hash) = 0;
  virtual std::optional<BookingView> active_booking_for_resident(core::Language,
                                                                 const std::string& resident) = 0;
  // HMAC of a normalised ID number under the server key (hex).
  virtual std::string id_hash(const std::string& normalised_id) = 0;
  virtual std::string new_reference() = 0;
};

// The placeholders templates may use.
const std::set<std::string, std::less<>>& known_placeholders();
// The template keys the engine itself uses besides the flow's own.
const std::vector<std::string>& engine_template_keys();

Turn run(const Flow& flow, const templates::Templates& texts, World& world, Session session,
         const core::InboundMessage& message, std::int64_t now_ms);

}  // namespace vaxbot::flow
