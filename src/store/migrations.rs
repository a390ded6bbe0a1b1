//! The database schema, as numbered migrations. Append only: a migration
//! that has shipped is never edited, a new one is added after it.

use rusqlite_migration::{M, Migrations};

/// How many migrations there are: the latest schema version.
pub const COUNT: usize = STEPS.len();

pub fn migrations() -> Migrations<'static> {
    of(STEPS)
}

/// Migrations made of `steps` (step N brings `user_version` to N).
pub fn of(steps: &[&'static str]) -> Migrations<'static> {
    Migrations::new(steps.iter().map(|sql| M::up(sql)).collect())
}

/// The migrations' SQL, in order; step N brings `user_version` to N.
/// Their text is what shipped: never edit one, append.
pub const STEPS: &[&str] = &[
    // 1: foundation: key/value meta, apply history, console admins.
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
             CREATE TABLE applies (
                 id INTEGER PRIMARY KEY,
                 started_at TEXT NOT NULL,
                 duration_ms INTEGER NOT NULL,
                 modules TEXT NOT NULL,
                 changes INTEGER NOT NULL,
                 ok INTEGER NOT NULL,
                 error TEXT,
                 report TEXT NOT NULL
             ) STRICT;
             CREATE TABLE admins (
                 login TEXT PRIMARY KEY,
                 password_hash TEXT NOT NULL,
                 created_at TEXT NOT NULL
             ) STRICT;",
    // 2: the school directory (accounts): people, classes and groups,
    // memberships, parent links, teaching services, retired logins,
    // import history.
    include_str!("migration_002_directory.sql"),
    // 3: shares: one row per homework handed out (teacher, name, class or group).
    "CREATE TABLE share_homework (
                 teacher TEXT NOT NULL,
                 name TEXT NOT NULL,
                 target TEXT NOT NULL,
                 students INTEGER NOT NULL,
                 files INTEGER NOT NULL,
                 bytes INTEGER NOT NULL,
                 distributed_at TEXT,
                 collected_at TEXT,
                 returned_at TEXT,
                 PRIMARY KEY (teacher, name, target)
             ) STRICT;",
    // 4: proxy: exams switched on for a room (whitelist only) until a time.
    "CREATE TABLE proxy_exams (
                 room TEXT PRIMARY KEY,
                 until INTEGER NOT NULL,
                 allow TEXT NOT NULL,
                 by TEXT NOT NULL
             ) STRICT;",
    // 5: parents' postal addresses (ResponsablesAvecAdresses.xml), for
    // letters to families; they go with the person at purge.
    "ALTER TABLE people ADD COLUMN postal_address TEXT;",
    // 6: web: sessions (SHA-256 of the token only) and the audit log.
    include_str!("migration_006_web.sql"),
    // 7: school life (viescolaire): year, periods, holidays, weeks A/B,
    // timetable slots and exceptions, lessons, rolls with history,
    // absences and justifications, homework log, messages, grades with
    // history, coefficients, competences, report cards (frozen copies).
    include_str!("migration_007_viescolaire.sql"),
    // 8: sso: OpenID Connect signing keys, codes, tokens, consents, the
    // services each sign-in session reached, CAS tickets.
    include_str!("migration_008_sso.sql"),
    // 9: booking: rooms and equipment, bookings.
    include_str!("migration_009_booking.sql"),
    // 10: schoollog: iCalendar feed tokens, threads' audience.
    include_str!("migration_010_schoollog.sql"),
    // 11: console: the people search's full-text index (FTS5) and the
    // triggers that keep it.
    include_str!("migration_011_console.sql"),
    // 12: door: a booking's lesson (subject, class or group).
    include_str!("migration_012_door.sql"),
    // 13: classroom: room overrides of the proxy get a mode (exam or
    // internet off); administrators' TOTP second factor.
    include_str!("migration_013_classroom.sql"),
    // 14: stats2: a resource's private iCalendar feed token.
    include_str!("migration_014_stats2.sql"),
    // 15: stats: the web filtering's daily counts (summaries of the
    // proxy's logs); the services a CAS single logout goes to.
    include_str!("migration_015_stats.sql"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_valid() {
        super::migrations().validate().unwrap();
    }
}
