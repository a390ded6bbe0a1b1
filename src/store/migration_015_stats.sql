-- stats: the web filtering's counts per UTC day, summarised from the
-- proxy's daily connection log once the day is over (counts of requests
-- only: no login, no address, no host). `file_bytes` and `file_mtime`
-- are those of the log file summarised: a file that changed since is
-- read again. Kept longer than the raw logs (see proxy::summary).
CREATE TABLE proxy_day_counts (
    day TEXT PRIMARY KEY,
    allowed INTEGER NOT NULL,
    denied INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    file_bytes INTEGER NOT NULL,
    file_mtime INTEGER NOT NULL,
    summarised_at INTEGER NOT NULL
) STRICT;
CREATE TABLE proxy_day_categories (
    day TEXT NOT NULL REFERENCES proxy_day_counts (day) ON DELETE CASCADE,
    category TEXT NOT NULL,
    denied INTEGER NOT NULL,
    PRIMARY KEY (day, category)
) STRICT, WITHOUT ROWID;

-- stats: CAS single logout. The services that validated a ticket of a
-- sign-in session (`sid`), with that ticket (already spent: it is the
-- SessionIndex of the logoutRequest sent to the service when the person
-- signs out). Deleted when the session's single sign-on ends.
CREATE TABLE cas_logout_targets (
    sid TEXT NOT NULL,
    service TEXT NOT NULL,
    ticket TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (sid, ticket)
) STRICT;
