-- School life, daily part (branch schoollog): private iCalendar feed
-- tokens (only their SHA-256), and whom a thread of messages was
-- addressed to ("parents of 6A"), as its writer chose.
CREATE TABLE vs_calendar_tokens (
    person_id INTEGER PRIMARY KEY REFERENCES people (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;
ALTER TABLE vs_threads ADD COLUMN audience TEXT NOT NULL DEFAULT '';
