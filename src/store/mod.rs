//! The state store: one SQLite database (`<state_dir>/preau.db`).
//!
//! Settings: WAL (readers never wait for the writer), `synchronous=NORMAL`
//! (durable at checkpoints, safe with WAL), foreign keys on, a busy timeout
//! so that a CLI command and the daemon queue instead of failing. Writes go
//! through [`Store::write`], an `IMMEDIATE` transaction: the write lock is
//! taken at the start, so two writers never deadlock upgrading a read lock.
//! The schema evolves by numbered migrations ([`migrations`]), recorded in
//! `PRAGMA user_version`.

pub mod migrations;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use std::path::Path;
use std::time::Duration;

pub use rusqlite;

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the database {path}: {cause}\n    help: run `preau init` first, or check --root and [paths] state_dir"
    )]
    Open { path: String, cause: rusqlite::Error },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] rusqlite_migration::Error),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}

fn restrict_to_owner(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

/// The schema version (`PRAGMA user_version`) this binary's migrations
/// bring a database to.
pub fn latest_schema() -> u32 {
    migrations::COUNT as u32
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 256;

/// The database file name inside the state directory.
pub const DB_FILE: &str = "preau.db";

/// A connection to the store.
pub struct Store {
    conn: Connection,
}

/// One recorded apply.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApplyRecord {
    pub id: i64,
    pub started_at: String,
    pub duration_ms: i64,
    pub modules: String,
    pub changes: i64,
    pub ok: bool,
    pub error: Option<String>,
}

/// `(count, total milliseconds)` of applies, by outcome.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ApplyTotals {
    pub ok: (i64, i64),
    pub failed: (i64, i64),
}

/// Writers of this process, one at a time (see [`Store::write`]).
static WRITERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

thread_local! {
    /// Whether this thread holds [`WRITERS`] (a write inside a write
    /// does not wait for itself).
    static HOLDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// This thread's turn to write, until dropped.
struct WriterTurn(Option<std::sync::MutexGuard<'static, ()>>);

impl WriterTurn {
    fn take() -> WriterTurn {
        if HOLDING.with(|h| h.get()) {
            return WriterTurn(None);
        }
        let guard = WRITERS.lock().unwrap_or_else(|e| e.into_inner());
        HOLDING.with(|h| h.set(true));
        WriterTurn(Some(guard))
    }
}

impl Drop for WriterTurn {
    fn drop(&mut self) {
        if self.0.take().is_some() {
            HOLDING.with(|h| h.set(false));
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        Self::open_migrating(path, migrations::STEPS)
    }

    /// [`Store::open`] with the migration steps given (the shipped ones are
    /// [`migrations::STEPS`]; tests of migrations pass others). Pending
    /// steps run in one transaction: if one fails, none is kept and the
    /// database stays as it was. A database from a newer Préau (schema
    /// beyond `steps`) is refused, never touched.
    pub fn open_migrating(path: &Path, steps: &[&'static str]) -> Result<Store, StoreError> {
        let open_err = |cause| StoreError::Open {
            path: path.display().to_string(),
            cause,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        // The database holds password material (NT hashes, initial
        // passwords until first use): owner only. SQLite gives its -wal and
        // -shm files the database file's mode.
        restrict_to_owner(path);
        conn.busy_timeout(Duration::from_secs(10)).map_err(open_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(open_err)?;
        // The web server keeps its connections (a pool) and its hot
        // statements prepared (`prepare_cached`): room for every one of
        // them, not rusqlite's default 16.
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrations::of(steps).to_latest(&mut conn)?;
        Ok(Store { conn })
    }

    /// Opens an existing database without creating it.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Open {
                path: path.display().to_string(),
                cause: rusqlite::Error::InvalidPath(path.to_path_buf()),
            });
        }
        Self::open(path)
    }

    /// Read access.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one `IMMEDIATE` transaction: all of it or nothing.
    ///
    /// Writers of this process queue on one lock before `BEGIN
    /// IMMEDIATE`: SQLite takes one writer at a time anyway, and its busy
    /// handler makes the others sleep and poll (up to 100 ms a try), which
    /// under a rush of writers (every teacher saving the roll at 8:05)
    /// costs far more than the writes. Other processes (the CLI) still
    /// wait through `busy_timeout`.
    pub fn write<T, E>(&mut self, f: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T, E>) -> Result<T, E>
    where
        E: From<rusqlite::Error>,
    {
        let _queued = WriterTurn::take();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Records an apply.
    pub fn record_apply(
        &mut self,
        modules: &str,
        changes: usize,
        duration_ms: u64,
        ok: bool,
        error: Option<&str>,
        report_json: &str,
    ) -> Result<i64, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO applies (started_at, duration_ms, modules, changes, ok, error, report)
                 VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?1), ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    format!("-{} seconds", duration_ms as f64 / 1000.0),
                    duration_ms as i64,
                    modules,
                    changes as i64,
                    ok,
                    error,
                    report_json
                ],
            )?;
            Ok::<_, StoreError>(tx.last_insert_rowid())
        })
    }

    /// The most recent applies, newest first.
    pub fn recent_applies(&self, limit: usize) -> Result<Vec<ApplyRecord>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, started_at, duration_ms, modules, changes, ok, error
             FROM applies ORDER BY id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok(ApplyRecord {
                id: r.get(0)?,
                started_at: r.get(1)?,
                duration_ms: r.get(2)?,
                modules: r.get(3)?,
                changes: r.get(4)?,
                ok: r.get(5)?,
                error: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Applies newest first, `limit` from `offset`, each with its report
    /// (JSON).
    pub fn applies_with_reports(
        &self,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<(ApplyRecord, String)>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, started_at, duration_ms, modules, changes, ok, error, report
             FROM applies ORDER BY id DESC LIMIT ?1 OFFSET ?2",
        )?;
        let rows = stmt.query_map(params![limit as i64, offset as i64], |r| {
            Ok((
                ApplyRecord {
                    id: r.get(0)?,
                    started_at: r.get(1)?,
                    duration_ms: r.get(2)?,
                    modules: r.get(3)?,
                    changes: r.get(4)?,
                    ok: r.get(5)?,
                    error: r.get(6)?,
                },
                r.get(7)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Count and total duration of applies by outcome.
    pub fn apply_totals(&self) -> Result<ApplyTotals, StoreError> {
        let mut totals = ApplyTotals::default();
        let mut stmt = self
            .conn
            .prepare("SELECT ok, count(*), coalesce(sum(duration_ms), 0) FROM applies GROUP BY ok")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let entry = (r.get::<_, i64>(1)?, r.get::<_, i64>(2)?);
            if r.get::<_, bool>(0)? {
                totals.ok = entry;
            } else {
                totals.failed = entry;
            }
        }
        Ok(totals)
    }

    /// A value from the key/value `meta` table.
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )?;
            Ok::<_, StoreError>(())
        })
    }

    /// Creates an administrator of the web console; `hash` is an argon2id
    /// PHC string. Returns false if the login exists already.
    pub fn add_admin(&mut self, login: &str, hash: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "INSERT OR IGNORE INTO admins (login, password_hash, created_at)
                 VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                params![login, hash],
            )?;
            Ok::<_, StoreError>(n == 1)
        })
    }

    /// Replaces an administrator's password hash. Returns false if the
    /// login is unknown.
    pub fn set_admin_hash(&mut self, login: &str, hash: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE admins SET password_hash = ?2 WHERE login = ?1",
                params![login, hash],
            )?;
            Ok::<_, StoreError>(n == 1)
        })
    }

    /// The most recent imports of the directory: (date, files), newest first.
    pub fn recent_imports(&self, limit: usize) -> Result<Vec<(String, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT at, files FROM imports ORDER BY id DESC LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn admin_hash(&self, login: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT password_hash FROM admins WHERE login = ?1",
                [login],
                |r| r.get(0),
            )
            .optional()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_migrates_and_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE);
        let mut store = Store::open(&path).unwrap();
        let perms = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(std::os::unix::fs::PermissionsExt::mode(&perms) & 0o777, 0o600);
        let mode: String = store
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn()
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        store.record_apply("system", 3, 12, true, None, "{}").unwrap();
        store
            .record_apply("system", 1, 5, false, Some("boom"), "{}")
            .unwrap();
        let recent = store.recent_applies(10).unwrap();
        assert_eq!(recent.len(), 2);
        assert_eq!(recent[0].error.as_deref(), Some("boom"));
        assert_eq!(
            store.apply_totals().unwrap(),
            ApplyTotals {
                ok: (1, 12),
                failed: (1, 5)
            }
        );
        drop(store);
        // Reopening runs no migration twice.
        let store = Store::open(&path).unwrap();
        assert_eq!(store.recent_applies(10).unwrap().len(), 2);
    }

    #[test]
    fn failed_write_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join(DB_FILE)).unwrap();
        let r: Result<(), StoreError> = store.write(|tx| {
            tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')", [])?;
            tx.execute("INSERT INTO nonexistent VALUES (1)", [])?;
            Ok(())
        });
        assert!(r.is_err());
        assert_eq!(store.meta("a").unwrap(), None);
    }

    #[test]
    fn admins() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join(DB_FILE)).unwrap();
        assert!(store.add_admin("admin", "$argon2id$x").unwrap());
        assert!(!store.add_admin("admin", "$argon2id$y").unwrap());
        assert_eq!(store.admin_hash("admin").unwrap().as_deref(), Some("$argon2id$x"));
    }
}
