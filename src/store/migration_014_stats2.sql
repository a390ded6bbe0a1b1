-- stats2: a resource's private iCalendar feed token (only its SHA-256),
-- for calendar apps that subscribe without a session.
CREATE TABLE booking_calendar_tokens (
    resource_id INTEGER PRIMARY KEY REFERENCES booking_resources (id) ON DELETE CASCADE,
    token_sha256 TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
) STRICT;
