// The schema, as an ordered list of migrations. Migration i (1-based) brings a
// database from user_version i-1 to i. Never edit a migration that has shipped;
// append a new one.
#pragma once

#include <array>
#include <string_view>

namespace vaxbot::store {

inline constexpr std::array<std::string_view, 6> kMigrations = {
    // 1: intake. inbox = every message received, de-duplicated by Meta's id
    // (kept at least 8 days, as Meta re-delivers for 7); statuses = delivery
    // reports of our replies, once per (message, state); unusable = parts of
    // payloads we could not read, so nothing is dropped silently.
    R"sql(
CREATE TABLE inbox (
  seq             INTEGER PRIMARY KEY,
  message_id      TEXT NOT NULL UNIQUE,
  resident        TEXT NOT NULL,
  profile_name    TEXT NOT NULL DEFAULT '',
  phone_number_id TEXT NOT NULL DEFAULT '',
  kind            TEXT NOT NULL,
  sent_at         INTEGER NOT NULL DEFAULT 0,
  received_at     INTEGER NOT NULL,
  text            TEXT NOT NULL DEFAULT '',
  reply_id        TEXT NOT NULL DEFAULT '',
  description     TEXT NOT NULL DEFAULT '',
  media_id        TEXT NOT NULL DEFAULT '',
  mime_type       TEXT NOT NULL DEFAULT '',
  filename        TEXT NOT NULL DEFAULT '',
  detail          TEXT NOT NULL DEFAULT '',
  latitude        REAL,
  longitude       REAL,
  error_code      INTEGER NOT NULL DEFAULT 0,
  error_title     TEXT NOT NULL DEFAULT '',
  context_id      TEXT NOT NULL DEFAULT ''
);
CREATE TABLE statuses (
  message_id   TEXT NOT NULL,
  state        TEXT NOT NULL,
  recipient    TEXT NOT NULL DEFAULT '',
  sent_at      INTEGER NOT NULL DEFAULT 0,
  received_at  INTEGER NOT NULL,
  error_code   INTEGER NOT NULL DEFAULT 0,
  error_title  TEXT NOT NULL DEFAULT '',
  error_detail TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (message_id, state)
) WITHOUT ROWID;
CREATE TABLE unusable (
  seq         INTEGER PRIMARY KEY,
  location    TEXT NOT NULL,
  reason      TEXT NOT NULL,
  message_id  TEXT NOT NULL DEFAULT '',
  received_at INTEGER NOT NULL
);
)sql",
    // 2: centres, slots, bookings. slots.booked counts the seats held by
    // bookings that are not cancelled; the CHECK makes overbooking impossible
    // whatever the code does. At most one active ('booked') booking per ID
    // hash. Dates are 'YYYY-MM-DD' and times 'HH:MM', so text order is time order.
    R"sql(
CREATE TABLE venues (
  id      TEXT PRIMARY KEY,
  name    TEXT NOT NULL,
  name_bn TEXT NOT NULL DEFAULT '',
  name_hi TEXT NOT NULL DEFAULT '',
  address TEXT NOT NULL DEFAULT '',
  ward    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX venues_by_ward ON venues (ward, name);
CREATE TABLE slots (
  id       INTEGER PRIMARY KEY,
  venue_id TEXT NOT NULL REFERENCES venues (id),
  date     TEXT NOT NULL,
  start    TEXT NOT NULL,
  "end"    TEXT NOT NULL,
  vaccine  TEXT NOT NULL,
  capacity INTEGER NOT NULL CHECK (capacity >= 0),
  booked   INTEGER NOT NULL DEFAULT 0,
  CHECK (booked >= 0 AND booked <= capacity),
  UNIQUE (venue_id, date, start, vaccine)
);
CREATE INDEX slots_by_vaccine_date ON slots (vaccine, date);
CREATE TABLE bookings (
  reference       TEXT PRIMARY KEY,
  resident        TEXT NOT NULL,
  id_type         TEXT NOT NULL,
  id_hash         TEXT NOT NULL,
  id_last4        TEXT NOT NULL DEFAULT '',
  vaccine         TEXT NOT NULL,
  first_dose_date TEXT NOT NULL,
  slot_id         INTEGER NOT NULL REFERENCES slots (id),
  status          TEXT NOT NULL DEFAULT 'booked'
                  CHECK (status IN ('booked', 'cancelled', 'attended')),
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE UNIQUE INDEX bookings_one_active_per_id ON bookings (id_hash) WHERE status = 'booked';
CREATE INDEX bookings_by_resident ON bookings (resident, status);
CREATE INDEX bookings_by_slot ON bookings (slot_id, status);
)sql",
    // 3: the conversation. sessions = where each resident is in the flow;
    // transcript = every message in and out (ID numbers masked) for support
    // staff; outbox = replies waiting for the sender, committed with the turn.
    R"sql(
CREATE TABLE sessions (
  resident   TEXT PRIMARY KEY,
  flow       TEXT NOT NULL,
  step       TEXT NOT NULL DEFAULT '',
  language   TEXT NOT NULL DEFAULT 'en',
  vars       TEXT NOT NULL DEFAULT '{}',
  misses     INTEGER NOT NULL DEFAULT 0,
  page       INTEGER NOT NULL DEFAULT 0,
  pending    TEXT NOT NULL DEFAULT '',
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE transcript (
  seq        INTEGER PRIMARY KEY,
  resident   TEXT NOT NULL,
  direction  TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  message_id TEXT NOT NULL DEFAULT '',
  kind       TEXT NOT NULL,
  text       TEXT NOT NULL,
  step       TEXT NOT NULL DEFAULT '',
  status     TEXT NOT NULL DEFAULT '',
  at         INTEGER NOT NULL
);
CREATE INDEX transcript_by_resident ON transcript (resident, seq);
CREATE TABLE outbox (
  id              INTEGER PRIMARY KEY,
  recipient       TEXT NOT NULL,
  body            TEXT NOT NULL,
  priority        INTEGER NOT NULL DEFAULT 0,
  status          TEXT NOT NULL DEFAULT 'queued'
                  CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  wa_message_id   TEXT NOT NULL DEFAULT '',
  last_error      TEXT NOT NULL DEFAULT '',
  transcript_seq  INTEGER,
  created_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (status, priority, next_attempt_at);
)sql",
    // 4: the sender. template = 1 for an approved template message, the only
    // kind WhatsApp delivers outside the 24-hour window; sent_at = when Meta
    // accepted the message; status webhooks find their row by Meta's id.
    R"sql(
ALTER TABLE outbox ADD COLUMN template INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN sent_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_by_wa_message_id ON outbox (wa_message_id) WHERE wa_message_id != '';
)sql",
    // 5: a reply's JSON lives in a table of its own and is deleted once Meta
    // has accepted the reply (the transcript keeps the text). Bodies were half
    // of the database in the surge bench; deleted in the order they were
    // written, they free whole pages that new bodies reuse, where emptying a
    // column in place frees nothing.
    R"sql(
CREATE TABLE outbox_body (
  id   INTEGER PRIMARY KEY,  -- outbox.id
  body TEXT NOT NULL
);
INSERT INTO outbox_body (id, body) SELECT id, body FROM outbox WHERE status NOT IN ('sent', 'delivered', 'read');
ALTER TABLE outbox DROP COLUMN body;
)sql",
    // 6: a resident's replies leave in the order they were queued. A newcomer's
    // welcome (priority 1) can wait in a backlog while the answer to their next
    // message (priority 0) is queued; that answer then takes the welcome's
    // priority (ConversationStore::enqueue), so it cannot go first. This index
    // finds such a welcome; it holds only the welcomes still queued.
    R"sql(
CREATE INDEX outbox_queued_greetings ON outbox (recipient) WHERE status = 'queued' AND priority = 1;
)sql",
};

}  // namespace vaxbot::store
