-- A room's override of the proxy (proxy_exams) gains its mode: 'whitelist'
-- (exam: only the exam's sites) or 'off' (no web access at all).
ALTER TABLE proxy_exams ADD COLUMN mode TEXT NOT NULL DEFAULT 'whitelist'
    CHECK (mode IN ('whitelist', 'off'));

-- The TOTP second factor (RFC 6238) of console administrators. The row
-- exists from enrolment; confirmed_at is set once a first code matched.
CREATE TABLE admin_totp (
    login TEXT PRIMARY KEY REFERENCES admins (login) ON DELETE CASCADE,
    -- The shared secret (20 random bytes).
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    -- The last time step a code was accepted for: a code is never
    -- accepted twice (replay), nor an older one.
    last_step INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One-time recovery codes, only their SHA-256 (hex) stored.
CREATE TABLE admin_recovery_codes (
    login TEXT NOT NULL REFERENCES admins (login) ON DELETE CASCADE,
    code_sha256 TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (login, code_sha256)
) STRICT;

-- A sign-in whose password was right and whose second factor is awaited:
-- the browser holds a random token, only its SHA-256 is stored.
CREATE TABLE admin_totp_pending (
    token_sha256 TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES admins (login) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    address TEXT NOT NULL,
    -- Wrong codes given so far (the sign-in is dropped after a few).
    failures INTEGER NOT NULL DEFAULT 0
) STRICT;
