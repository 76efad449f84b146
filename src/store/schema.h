// The schema, as an ordered list of migrations. Migration i (1-based) brings a
// database from user_version i-1 to i. Never edit a migration that has shipped;
// append a new one.
#pragma once

#include <array>
#include <string_view>

namespace vaxbot::store {

inline constexpr std::array<std::string_view, 1> kMigrations = {
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
};

}  // namespace vaxbot::store
