-- A signed-in browser. The cookie holds a random token; only its SHA-256
-- (hex) is stored.
CREATE TABLE web_sessions (
    token_sha256 TEXT PRIMARY KEY,
    login TEXT NOT NULL,
    -- 1: a console administrator (admins), 0: a directory person.
    admin INTEGER NOT NULL,
    -- The token every form of this session carries.
    csrf TEXT NOT NULL,
    -- Seconds since the epoch.
    created_at INTEGER NOT NULL,
    seen_at INTEGER NOT NULL,
    address TEXT NOT NULL,
    must_change INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX web_sessions_login ON web_sessions (login);

-- Who did what, when, from where: sign-ins, administrative actions,
-- refusals. Never a password or a token.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    address TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_actor ON audit_log (actor);
