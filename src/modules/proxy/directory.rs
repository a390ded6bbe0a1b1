//! Who the users are: login verification and group membership, behind the
//! [`Directory`] trait so that the proxy does not depend on how accounts
//! are stored.
//!
//! [`MemoryDirectory`] serves tests; [`StoreDirectory`] reads the accounts
//! tables of the state database (`people`, `structures`, `memberships`,
//! written by the accounts module: argon2id hash, or the initial password
//! until the first change) and knows nobody when they are missing. [`CachedDirectory`] keeps a verified login and password for a
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

/// Logins and groups.
pub trait Directory: Send + Sync {
    /// The user if `password` is theirs (and the account active).
    fn verify(&self, login: &str, password: &str) -> Option<User>;
    /// The groups of `login` (empty when unknown).
    fn groups_of(&self, login: &str) -> Vec<String>;
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
    fn verify(&self, login: &str, password: &str) -> Option<User> {
        let (p, groups) = self.users.get(login)?;
        (p == password).then(|| User {
            login: login.into(),
            groups: groups.clone(),
        })
    }

    fn groups_of(&self, login: &str) -> Vec<String> {
        self.users.get(login).map(|u| u.1.clone()).unwrap_or_default()
    }
}

/// The accounts tables of the state database.
pub struct StoreDirectory {
    db: PathBuf,
}

impl StoreDirectory {
    pub fn new(db: PathBuf) -> StoreDirectory {
        StoreDirectory { db }
    }

    fn open(&self) -> Option<rusqlite::Connection> {
        let conn =
            rusqlite::Connection::open_with_flags(&self.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .ok()?;
        conn.busy_timeout(Duration::from_secs(5)).ok()?;
        let has: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('people', 'memberships', 'structures')", [], |r| r.get(0))
            .ok()?;
        (has == 3).then_some(conn)
    }

    fn groups(conn: &rusqlite::Connection, login: &str) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(kind) = conn.query_row("SELECT kind FROM people WHERE login = ?1", [login], |r| {
            r.get::<_, String>(0)
        }) {
            out.push(
                match kind.as_str() {
                    "student" => "eleves",
                    "teacher" => "profs",
                    "staff" => "personnels",
                    "parent" => "parents",
                    other => other,
                }
                .to_string(),
            );
        }
        if let Ok(mut stmt) = conn.prepare(
            "SELECT s.group_name FROM memberships m JOIN people p ON p.id = m.person_id
             JOIN structures s ON s.id = m.structure_id WHERE p.login = ?1 ORDER BY s.group_name",
        ) && let Ok(rows) = stmt.query_map([login], |r| r.get::<_, String>(0))
        {
            out.extend(rows.flatten());
        }
        out
    }
}

impl Directory for StoreDirectory {
    fn verify(&self, login: &str, password: &str) -> Option<User> {
        let conn = self.open()?;
        let (hash, initial): (Option<String>, Option<String>) = conn
            .query_row(
                "SELECT password_hash, initial_password FROM people WHERE login = ?1 AND status = 'active'",
                [login],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .ok()?;
        let ok = match (hash, initial) {
            (Some(h), _) => crate::auth::verify_password(password, &h),
            (None, Some(i)) => {
                i.len() == password.len()
                    && i.bytes().zip(password.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
            }
            _ => false,
        };
        ok.then(|| User {
            login: login.to_string(),
            groups: Self::groups(&conn, login),
        })
    }

    fn groups_of(&self, login: &str) -> Vec<String> {
        self.open().map(|c| Self::groups(&c, login)).unwrap_or_default()
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
    fn verify(&self, login: &str, password: &str) -> Option<User> {
        let key = Self::key(login, password);
        let now = Instant::now();
        if let Some((at, user)) = self.cache.lock().expect("auth cache").get(&key)
            && now.duration_since(*at) < self.ttl
        {
            return Some(user.clone());
        }
        let user = self.inner.verify(login, password)?;
        let mut cache = self.cache.lock().expect("auth cache");
        if cache.len() > 10_000 {
            cache.retain(|_, (at, _)| now.duration_since(*at) < self.ttl);
        }
        cache.insert(key, (now, user.clone()));
        Some(user)
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
        fn verify(&self, l: &str, p: &str) -> Option<User> {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.verify(l, p)
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
