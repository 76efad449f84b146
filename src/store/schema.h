// The schema, as an ordered list of migrations. Migration i (1-based) brings a
// database from user_version i-1 to i. Never edit a migration that has shipped;
// append a new one.
#pragma once

#include <array>
#include <string_view>

// Migration 6 calls vaxbot_key(text): the 47-bit key store/keys.h computes,
// registered on the connection by Database::open.

namespace vaxbot::store {

inline constexpr std::array<std::string_view, 7> kMigrations = {
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
    // 6: one row per message. The transcript, the inbox and the outbox each
    // kept a row (and an index) for the same message; per booked resident the
    // database held 7.6 KB, most of it copies of the same ids and of the same
    // rendered replies. Now:
    //   messages  every message in and out, for good: the resident's words
    //             (ID numbers masked), or for a reply its text as a `texts`
    //             format and the values that fill it; the step; a reply's
    //             status; Meta's id (wamid) and its 47-bit key, indexed, which
    //             serves both de-duplication of webhooks (ids now kept for
    //             good, not 8 days) and status webhooks. Residents' numbers
    //             are digits: INTEGER affinity stores them in 6 bytes and
    //             keeps anything else as text.
    //   texts     each distinct reply text once, as a printf format ('%s'
    //             where a value goes, '%' written '%%') with its template key;
    //             id = a hash of both, probing upward on a collision.
    //   outbox    only the replies still to send (queued or being sent), with
    //             their Cloud API JSON; deleted once sent or failed.
    //   transcript  a view with the table's old columns, in the old order,
    //             rendering every line, for support staff's queries.
    // The inbox's other columns went: profile name, business number, Meta's
    // timestamp and reply ids repeat what the session and the text say; what
    // only media, locations and unusable kinds carry is kept as JSON in
    // `details`. Replies queued before this migration keep their rendered text.
    // CHECKs on columns that UPDATEs change are written with OR, not IN (...):
    // SQLite 3.40 builds a temporary table for the IN list on every UPDATE that
    // changes the column (measured with migration 3's six statuses: about
    // 35,000 instructions more per UPDATE; a reply's status changes 2-4 times).
    R"sql(
CREATE TABLE texts (
  id     INTEGER PRIMARY KEY,
  key    TEXT NOT NULL,
  format TEXT NOT NULL
);
CREATE TABLE messages (
  seq       INTEGER PRIMARY KEY,
  resident  INTEGER NOT NULL,
  outbound  INTEGER NOT NULL CHECK (outbound = 0 OR outbound = 1),
  kind      TEXT,     -- in: the message type; out: NULL (texts.key), or an older reply's key
  text      TEXT,     -- in: the words; out: NULL, or the whole text of an older reply
  text_id   INTEGER,  -- out: texts.id
  args      TEXT,     -- out: JSON array of the values for the format's %s; NULL when none
  step      TEXT NOT NULL DEFAULT '',
  status    TEXT CHECK (status = 'queued' OR status = 'sent' OR status = 'delivered' OR
                      status = 'read' OR status = 'failed'),
  error     TEXT,     -- out, failed: why
  at        INTEGER NOT NULL,
  details   TEXT,     -- in, media/location/unsupported...: JSON of what only they carry
  wamid     TEXT,     -- Meta's id: in, always; out, once Meta accepted it
  wamid_key INTEGER   -- vaxbot_key(wamid)
);
-- Indexes for the copy only (dropped with their tables below): without them
-- the joins below are quadratic; 500,000 messages had not moved after 10 min.
CREATE INDEX outbox_by_transcript_seq ON outbox (transcript_seq);
CREATE INDEX transcript_in_by_message_id ON transcript (message_id) WHERE direction = 'in';
INSERT INTO messages (seq, resident, outbound, kind, text, step, status, error, at, wamid, wamid_key)
SELECT t.seq, t.resident, t.direction = 'out',
       t.kind, t.text, t.step,
       CASE WHEN t.direction = 'in' THEN NULL
            WHEN o.status IN ('queued', 'sending') THEN 'queued'
            WHEN o.status IS NOT NULL THEN o.status
            WHEN t.status LIKE 'failed%' THEN 'failed'
            WHEN t.status IN ('queued', 'sent', 'delivered', 'read') THEN t.status
            ELSE 'queued' END,
       CASE WHEN o.status = 'failed' THEN o.last_error
            WHEN o.status IS NULL AND t.status LIKE 'failed: %' THEN substr(t.status, 9) END,
       t.at, nullif(coalesce(o.wa_message_id, t.message_id), ''),
       vaxbot_key(nullif(coalesce(o.wa_message_id, t.message_id), ''))
FROM transcript t LEFT JOIN outbox o ON o.transcript_seq = t.seq;
-- Replies without a transcript line, and messages that only reached the inbox.
CREATE TEMP TABLE moved (outbox_id INTEGER PRIMARY KEY, seq INTEGER NOT NULL);
INSERT INTO temp.moved (outbox_id, seq)
SELECT id, (SELECT coalesce(max(seq), 0) FROM messages) + row_number() OVER (ORDER BY id)
FROM outbox WHERE transcript_seq IS NULL;
INSERT INTO messages (seq, resident, outbound, text, status, error, at, wamid, wamid_key)
SELECT mv.seq, o.recipient, 1, '',
       CASE WHEN o.status = 'sending' THEN 'queued' ELSE o.status END,
       CASE WHEN o.status = 'failed' THEN o.last_error END, o.created_at,
       nullif(o.wa_message_id, ''), vaxbot_key(nullif(o.wa_message_id, ''))
FROM moved mv JOIN outbox o ON o.id = mv.outbox_id;
INSERT INTO messages (resident, outbound, kind, text, at, wamid, wamid_key)
SELECT i.resident, 0, i.kind,
       CASE WHEN i.kind IN ('text', 'button_reply', 'list_reply', 'button') THEN i.text
            ELSE '[' || i.kind || ']' || CASE WHEN i.text = '' THEN '' ELSE ' ' || i.text END END,
       i.received_at, i.message_id, vaxbot_key(i.message_id)
FROM inbox i WHERE NOT EXISTS (SELECT 1 FROM transcript t WHERE t.direction = 'in' AND t.message_id = i.message_id)
ORDER BY i.seq;
UPDATE messages SET details = (
  SELECT nullif((SELECT json_group_object(key, value) FROM json_each(json_object(
           'description', nullif(i.description, ''), 'media_id', nullif(i.media_id, ''),
           'mime_type', nullif(i.mime_type, ''), 'filename', nullif(i.filename, ''),
           'detail', nullif(i.detail, ''), 'latitude', i.latitude, 'longitude', i.longitude,
           'error_code', nullif(i.error_code, 0), 'error_title', nullif(i.error_title, '')))
         WHERE value IS NOT NULL), '{}')
  FROM inbox i WHERE i.message_id = messages.wamid)
WHERE outbound = 0 AND kind NOT IN ('text', 'button_reply', 'list_reply', 'button');
CREATE INDEX messages_by_resident ON messages (resident);
CREATE INDEX messages_by_wamid ON messages (wamid_key) WHERE wamid_key IS NOT NULL;
CREATE TABLE queue (
  id              INTEGER PRIMARY KEY,  -- messages.seq of the reply
  recipient       TEXT NOT NULL,
  status          TEXT NOT NULL DEFAULT 'queued' CHECK (status = 'queued' OR status = 'sending'),
  priority        INTEGER NOT NULL DEFAULT 0,
  template        INTEGER NOT NULL DEFAULT 0,
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at      INTEGER NOT NULL,
  body            TEXT NOT NULL
);
INSERT INTO queue (id, recipient, status, priority, template, attempts, next_attempt_at, created_at, body)
SELECT coalesce(o.transcript_seq, (SELECT seq FROM moved WHERE outbox_id = o.id)), o.recipient,
       o.status, o.priority, o.template, o.attempts, o.next_attempt_at, o.created_at, b.body
FROM outbox o JOIN outbox_body b ON b.id = o.id WHERE o.status IN ('queued', 'sending');
DROP TABLE moved;
DROP TABLE outbox_body;
DROP TABLE outbox;
DROP TABLE transcript;
DROP TABLE inbox;
ALTER TABLE queue RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, priority, next_attempt_at);
-- A resident's replies leave in the order they were queued. A newcomer's
-- welcome (priority 1) can wait in a backlog while the answer to their next
-- message (priority 0) is queued; that answer then takes the welcome's
-- priority (ConversationStore::queue_reply), so it cannot go first. This
-- index finds such a welcome; it holds only the welcomes still queued.
CREATE INDEX outbox_queued_greetings ON outbox (recipient) WHERE status = 'queued' AND priority = 1;
CREATE VIEW transcript (seq, resident, direction, message_id, kind, text, step, status, at) AS
SELECT m.seq, m.resident, CASE m.outbound WHEN 1 THEN 'out' ELSE 'in' END, coalesce(m.wamid, ''),
       coalesce(t.key, m.kind, ''),
       CASE WHEN t.id IS NULL THEN coalesce(m.text, '')
            ELSE printf(t.format, json_extract(m.args, '$[0]'), json_extract(m.args, '$[1]'),
                        json_extract(m.args, '$[2]'), json_extract(m.args, '$[3]'),
                        json_extract(m.args, '$[4]'), json_extract(m.args, '$[5]'),
                        json_extract(m.args, '$[6]'), json_extract(m.args, '$[7]'),
                        json_extract(m.args, '$[8]'), json_extract(m.args, '$[9]'),
                        json_extract(m.args, '$[10]'), json_extract(m.args, '$[11]')) END,
       m.step,
       CASE WHEN m.outbound = 0 THEN '' WHEN m.status = 'failed' THEN 'failed: ' || coalesce(m.error, '')
            ELSE coalesce(m.status, '') END,
       m.at
FROM messages m LEFT JOIN texts t ON t.id = m.text_id;
)sql",
    // 7: a centre's free slots of one vaccine, in date order, read straight
    // from an index. The unique index (venue, date, start, vaccine) made the
    // slot list and the centre list step over every other vaccine's slots.
    R"sql(
CREATE INDEX slots_by_venue_vaccine ON slots (venue_id, vaccine, date, start);
)sql",
};

}  // namespace vaxbot::store
