//! Who the users are: login verification and group membership, behind the
//! [`Directory`] trait so that the proxy does not depend on how accounts
//! are stored.
//!
//! [`MemoryDirectory`] serves tests; [`StoreDirectory`] reads the accounts
//! tables of the state database (`people`, `structures`, `memberships`,
//! written by the accounts module), checks passwords with the directory's
//! own verification (`directory::password::authenticate`: argon2id hash,
//! or the initial password hashed at its first use), names the role
//! groups as `[accounts]` does, and knows nobody when the tables are
//! missing; a database it cannot read is an error ([`DirectoryError`]),
//! never an unknown user. [`CachedDirectory`] keeps a verified login and password for a
//! short time (a hash of them, never the password) so that a browser
//! sending credentials with every request costs one argon2 check a
//! minute, not one a request.

use sha2::Digest;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub login: String,
    /// Group names: "eleves", "profs", "personnels", "parents", and the
    /// class and group names the person belongs to.
    pub groups: Vec<String>,
}

/// The directory could not be read: not the same as an unknown user.
#[derive(Debug, thiserror::Error)]
#[error("the accounts database cannot be read: {0}")]
pub struct DirectoryError(pub String);

impl From<rusqlite::Error> for DirectoryError {
    fn from(e: rusqlite::Error) -> Self {
        DirectoryError(e.to_string())
    }
}

/// Logins and groups.
pub trait Directory: Send + Sync {
    /// The user if `password` is theirs (and the account active), `None`
    /// when it is not; an error when the directory cannot be read (the
    /// proxy answers 503 then, never 407).
    fn authenticate(&self, login: &str, password: &str) -> Result<Option<User>, DirectoryError>;

    /// The groups of `login` (empty when unknown).
    fn groups_of(&self, login: &str) -> Vec<String>;

    /// [`Directory::authenticate`] where a refusal is the right answer to
    /// an error too (tools, tests); the error is logged.
    fn verify(&self, login: &str, password: &str) -> Option<User> {
        self.authenticate(login, password).unwrap_or_else(|e| {
            log::error!(error = e.to_string().as_str(); "login refused: the directory cannot be read");
            None
        })
    }
}

/// An in-memory directory: (login, password, groups).
#[derive(Debug, Default)]
pub struct MemoryDirectory {
    users: HashMap<String, (String, Vec<String>)>,
}

impl MemoryDirectory {
    pub fn new(users: &[(&str, &str, &[&str])]) -> MemoryDirectory {
        MemoryDirectory {
            users: users
                .iter()
                .map(|(l, p, g)| {
                    (
                        l.to_string(),
                        (p.to_string(), g.iter().map(|s| s.to_string()).collect()),
                    )
                })
                .collect(),
        }
    }
}

impl Directory for MemoryDirectory {
    fn authenticate(&self, login: &str, password: &str) -> Result<Option<User>, DirectoryError> {
        let Some((p, groups)) = self.users.get(login) else {
            return Ok(None);
        };
        Ok((p == password).then(|| User {
            login: login.into(),
            groups: groups.clone(),
        }))
    }

    fn groups_of(&self, login: &str) -> Vec<String> {
        self.users.get(login).map(|u| u.1.clone()).unwrap_or_default()
    }
}

/// The names of the role groups, from `[accounts]` (a person's kind is
/// their first group).
#[derive(Debug, Clone)]
pub struct RoleGroups {
    pub student: String,
    pub teacher: String,
    pub staff: String,
    pub parent: String,
}

impl RoleGroups {
    pub fn of(s: &crate::modules::accounts::settings::AccountsSettings) -> RoleGroups {
        RoleGroups {
            student: s.students_group.clone(),
            teacher: s.teachers_group.clone(),
            staff: s.staff_group.clone(),
            // Parents have no Unix group: this name exists for policies.
            parent: "parents".into(),
        }
    }

    fn of_kind(&self, kind: crate::directory::Kind) -> &str {
        use crate::directory::Kind;
        match kind {
            Kind::Student => &self.student,
            Kind::Teacher => &self.teacher,
            Kind::Staff => &self.staff,
            Kind::Parent => &self.parent,
        }
    }
}

impl Default for RoleGroups {
    fn default() -> Self {
        RoleGroups::of(&Default::default())
    }
}

/// The accounts tables of the state database, checked with the
/// directory's own password verification (`directory::password`).
pub struct StoreDirectory {
    db: PathBuf,
    roles: RoleGroups,
}

impl StoreDirectory {
    /// With the default role group names.
    pub fn new(db: PathBuf) -> StoreDirectory {
        StoreDirectory::with_roles(db, RoleGroups::default())
    }

    pub fn with_roles(db: PathBuf, roles: RoleGroups) -> StoreDirectory {
        StoreDirectory { db, roles }
    }

    /// The database, `None` when it (or its accounts tables) does not
    /// exist yet: nobody is known then. Opened read-write for the lazy
    /// password hashing, read-only when that is all it allows.
    fn open(&self) -> Result<Option<rusqlite::Connection>, DirectoryError> {
        use rusqlite::OpenFlags;
        if !self.db.exists() {
            return Ok(None);
        }
        let conn = rusqlite::Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .or_else(|_| rusqlite::Connection::open_with_flags(&self.db, OpenFlags::SQLITE_OPEN_READ_ONLY))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        let has: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('people', 'memberships', 'structures')",
            [],
            |r| r.get(0),
        )?;
        Ok((has == 3).then_some(conn))
    }

    fn groups(&self, conn: &rusqlite::Connection, login: &str) -> rusqlite::Result<Vec<String>> {
        use rusqlite::OptionalExtension;
        let mut out = Vec::new();
        let kind: Option<String> = conn
            .query_row("SELECT kind FROM people WHERE login = ?1", [login], |r| r.get(0))
            .optional()?;
        if let Some(kind) = kind {
            out.push(match crate::directory::Kind::parse(&kind) {
                Some(k) => self.roles.of_kind(k).to_string(),
                None => kind,
            });
        }
        let mut stmt = conn.prepare(
            "SELECT s.group_name FROM memberships m JOIN people p ON p.id = m.person_id
             JOIN structures s ON s.id = m.structure_id WHERE p.login = ?1 ORDER BY s.group_name",
        )?;
        let rows = stmt.query_map([login], |r| r.get::<_, String>(0))?;
        for r in rows {
            out.push(r?);
        }
        Ok(out)
    }
}

impl Directory for StoreDirectory {
    fn authenticate(&self, login: &str, password: &str) -> Result<Option<User>, DirectoryError> {
        let Some(conn) = self.open()? else {
            return Ok(None);
        };
        if crate::directory::password::authenticate(&conn, login, password)?.is_none() {
            return Ok(None);
        }
        Ok(Some(User {
            login: login.to_string(),
            groups: self.groups(&conn, login)?,
        }))
    }

    fn groups_of(&self, login: &str) -> Vec<String> {
        let found = self.open().and_then(|c| {
            c.map(|c| self.groups(&c, login).map_err(DirectoryError::from))
                .transpose()
        });
        match found {
            Ok(g) => g.unwrap_or_default(),
            Err(e) => {
                log::error!(error = e.to_string().as_str(); "groups unknown: the directory cannot be read");
                Vec::new()
            }
        }
    }
}

/// Caches successful verifications for `ttl`.
pub struct CachedDirectory<D> {
    inner: D,
    ttl: Duration,
    cache: Mutex<HashMap<[u8; 32], (Instant, User)>>,
}

impl<D: Directory> CachedDirectory<D> {
    pub fn new(inner: D, ttl: Duration) -> Self {
        CachedDirectory {
            inner,
            ttl,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn key(login: &str, password: &str) -> [u8; 32] {
        let mut h = sha2::Sha256::new();
        h.update(login.as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        h.finalize().into()
    }
}

impl<D: Directory> Directory for CachedDirectory<D> {
    fn authenticate(&self, login: &str, password: &str) -> Result<Option<User>, DirectoryError> {
        let key = Self::key(login, password);
        let now = Instant::now();
        if let Some((at, user)) = self.cache.lock().expect("auth cache").get(&key)
            && now.duration_since(*at) < self.ttl
        {
            return Ok(Some(user.clone()));
        }
        let Some(user) = self.inner.authenticate(login, password)? else {
            return Ok(None);
        };
        let mut cache = self.cache.lock().expect("auth cache");
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
        }
        cache.insert(key, (now, user.clone()));
        Ok(Some(user))
    }

    fn groups_of(&self, login: &str) -> Vec<String> {
        self.inner.groups_of(login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(MemoryDirectory, AtomicUsize);
    impl Directory for Counting {
        fn authenticate(&self, l: &str, p: &str) -> Result<Option<User>, DirectoryError> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.authenticate(l, p)
        }
        fn groups_of(&self, l: &str) -> Vec<String> {
            self.0.groups_of(l)
        }
    }

    #[test]
    fn verified_once_then_cached() {
        let d = CachedDirectory::new(
            Counting(
                MemoryDirectory::new(&[("lea", "secret", &["eleves"])]),
                AtomicUsize::new(0),
            ),
            Duration::from_secs(60),
        );
        assert!(d.verify("lea", "secret").is_some());
        assert!(d.verify("lea", "secret").is_some());
        assert_eq!(d.inner.1.load(Ordering::SeqCst), 1);
        assert!(d.verify("lea", "wrong").is_none());
        assert!(
            d.verify("lea", "wrong").is_none(),
            "failures are not cached as successes"
        );
        assert_eq!(d.groups_of("lea"), ["eleves"]);
    }

    #[test]
    fn store_directory_on_the_real_schema() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(crate::store::DB_FILE);
        let store = crate::store::Store::open(&db).unwrap();
        let hash = crate::auth::hash_password("pass-word").unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO people (id, kind, source, last_name, first_name, login, status, password_hash, created_at, updated_at)
                 VALUES (1, 'teacher', 'manual', 'Durand', 'Marie', 'marie.durand', 'active', ?1, 'now', 'now')",
                [hash],
            )
            .unwrap();
        store
            .conn()
            .execute_batch(
                "INSERT INTO structures (id, kind, code, label, group_name, gid) VALUES (1, 'group', 'LATIN', 'Latin', 'g-latin', 20001);
                 INSERT INTO memberships (person_id, structure_id) VALUES (1, 1);",
            )
            .unwrap();
        drop(store);
        let d = StoreDirectory::new(db);
        let u = d.verify("marie.durand", "pass-word").unwrap();
        assert_eq!(u.groups, ["profs", "g-latin"]);
        assert!(d.verify("marie.durand", "wrong").is_none());
        assert_eq!(d.groups_of("marie.durand"), ["profs", "g-latin"]);
    }

    /// Issue 9: one password verification (the directory's, with its lazy
    /// hashing) and the role group names of `[accounts]`, not hard-coded.
    #[test]
    fn store_directory_hashes_initial_passwords_and_names_roles_from_the_settings() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join(crate::store::DB_FILE);
        let store = crate::store::Store::open(&db).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO people (id, kind, source, last_name, first_name, login, status, initial_password, created_at, updated_at)
                 VALUES (1, 'student', 'manual', 'Roux', 'Léa', 'lea.roux', 'active', 'babi12', 'now', 'now')",
                [],
            )
            .unwrap();
        drop(store);
        let roles = RoleGroups::of(&crate::modules::accounts::settings::AccountsSettings {
            students_group: "students".into(),
            ..Default::default()
        });
        let d = StoreDirectory::with_roles(db.clone(), roles);
        let u = d.authenticate("lea.roux", "babi12").unwrap().unwrap();
        assert_eq!(u.groups, ["students"]);
        let conn = rusqlite::Connection::open(&db).unwrap();
        let hash: Option<String> = conn
            .query_row("SELECT password_hash FROM people WHERE id = 1", [], |r| r.get(0))
            .unwrap();
        let hash = hash.expect("the first login stored the argon2id hash");
        assert!(crate::auth::verify_password("babi12", &hash));
        assert!(d.authenticate("lea.roux", "nope").unwrap().is_none());
        // A file that is not a database: an error, not "unknown user".
        std::fs::write(&db, vec![b'x'; 4096]).unwrap();
        assert!(d.authenticate("lea.roux", "babi12").is_err());
    }

    #[test]
    fn store_directory_reads_the_accounts_tables() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("preau.db");
        let d = StoreDirectory::new(db.clone());
        assert!(d.verify("lea", "x").is_none(), "no database: nobody");
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE people (id INTEGER PRIMARY KEY, kind TEXT, login TEXT, status TEXT, password_hash TEXT, initial_password TEXT);
             CREATE TABLE structures (id INTEGER PRIMARY KEY, group_name TEXT);
             CREATE TABLE memberships (person_id INTEGER, structure_id INTEGER);
             INSERT INTO people VALUES (1, 'student', 'lea', 'active', NULL, 'init-pass');
             INSERT INTO people VALUES (2, 'student', 'max', 'disabled', NULL, 'pw');
             INSERT INTO structures VALUES (1, '3a');
             INSERT INTO memberships VALUES (1, 1);",
        )
        .unwrap();
        let u = d.verify("lea", "init-pass").unwrap();
        assert_eq!(u.groups, ["eleves", "3a"]);
        assert!(d.verify("lea", "nope").is_none());
        assert!(d.verify("max", "pw").is_none(), "disabled accounts are refused");
    }
}
