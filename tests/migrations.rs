//! Upgrades of the database: a database of every schema version Préau has
//! shipped is kept in `tests/fixtures/db/schema-N.db`, made once from the
//! migrations as they were at that version with a little data in every
//! table of that time, then never regenerated. Each one must migrate to
//! the current schema with its data intact and work with today's binary;
//! a failing migration must leave the old database as it was; a database
//! from a newer Préau must be refused.
//!
//! A new migration needs its fixture: `PREAU_WRITE_DB_FIXTURES=1 cargo test
//! --test migrations` writes the missing ones (existing ones are kept), to
//! be committed with the migration.

mod support;

use preau::store::migrations::{self, STEPS};
use preau::store::rusqlite::Connection;
use preau::store::{Store, latest_schema};
use std::path::{Path, PathBuf};
use support::{TempRoot, show};

/// Data added at each version, in the tables that version created.
const DATA: &[&str] = &[
    // 1
    "INSERT INTO meta VALUES ('created_by', 'fixture');
     INSERT INTO applies (started_at, duration_ms, modules, changes, ok, error, report)
         VALUES ('2026-09-01T08:00:00Z', 120, 'system', 3, 1, NULL, '{}');
     INSERT INTO admins VALUES ('admin', '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA', '2026-09-01T08:00:00Z');",
    // 2
    "INSERT INTO people (id, kind, source, national_key, ine, last_name, first_name, birth_date, login, uid, created_at, updated_at)
         VALUES (1, 'student', 'siecle', '4001', '123456789AB', 'MARTIN', 'Léa', '2014-03-02', 'lea.martin', 20001, '2026-09-01', '2026-09-01'),
                (2, 'teacher', 'sts', '9001', NULL, 'DUPONT', 'Marc', NULL, 'marc.dupont', 20002, '2026-09-01', '2026-09-01'),
                (3, 'parent', 'siecle', '5001', NULL, 'MARTIN', 'Anne', NULL, 'anne.martin', NULL, '2026-09-01', '2026-09-01');
     INSERT INTO logins_used VALUES ('lea.martin', 1, '2026-09-01'), ('marc.dupont', 2, '2026-09-01'), ('anne.martin', 3, '2026-09-01');
     INSERT INTO structures (id, kind, code, label, group_name, gid) VALUES (10, 'class', '6A', '6e A', 'c-6a', 30010), (11, 'group', 'LATIN', 'Latin', 'g-latin', 30011);
     INSERT INTO group_classes VALUES (11, 10);
     INSERT INTO memberships VALUES (1, 10), (1, 11);
     INSERT INTO parent_links VALUES (3, 1, 1, 'MERE');
     INSERT INTO subjects VALUES ('MATHS', 'MATHS', 'Mathématiques');
     INSERT INTO services VALUES (2, 'MATHS', 10);
     INSERT INTO head_teachers VALUES (2, 10);
     INSERT INTO imports (at, files, summary) VALUES ('2026-09-01', 'ElevesSansAdresses.xml', '{}');",
    // 3
    "INSERT INTO share_homework VALUES ('marc.dupont', 'dm1', '6A', 1, 2, 1024, '2026-10-01', NULL, NULL);",
    // 4
    "INSERT INTO proxy_exams (room, until, allow, by) VALUES ('B12', 1790000000, 'liste_blanche', 'marc.dupont');",
    // 5
    "UPDATE people SET postal_address = '12 RUE DES ÉCOLES\n99000 VILLE-TEST' WHERE id = 3;",
    // 6
    "INSERT INTO web_sessions VALUES ('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'admin', 1, 'csrf-token', 1790000000, 1790000000, '127.0.0.1', 0);
     INSERT INTO audit_log (at, actor, address, action, target, outcome) VALUES ('2026-10-01T08:00:00Z', 'admin', '127.0.0.1', 'connexion', '', 'réussie');",
    // 7
    "INSERT INTO vs_years VALUES (1, '2026-2027', '2026-09-01', '2027-07-04');
     INSERT INTO vs_periods VALUES (1, 1, 1, 'Trimestre 1', '2026-09-01', '2026-11-30');
     INSERT INTO vs_holidays VALUES (1, 1, 'Toussaint', '2026-10-17', '2026-11-01');
     INSERT INTO vs_weeks VALUES ('2026-08-31', 'A');
     INSERT INTO vs_slots (id, year_id, teacher_id, subject_code, structure_id, weekday, starts, ends, room, weeks, source)
         VALUES (1, 1, 2, 'MATHS', 10, 1, '08:00', '08:55', 'B12', 'all', 'csv');
     INSERT INTO vs_lessons (id, slot_id, slot_date, date, starts, ends, teacher_id, subject_code, structure_id, room)
         VALUES (1, 1, '2026-09-07', '2026-09-07', '08:00', '08:55', 2, 'MATHS', 10, 'B12');
     INSERT INTO vs_attendance VALUES (1, 1, 'absent', 0, '', 'marc.dupont', '2026-09-07T08:05');
     INSERT INTO vs_evaluations (id, period_id, teacher_id, subject_code, structure_id, title, date, coefficient, out_of, kind,
         publish_students_at, publish_parents_at, created_at)
         VALUES (1, 1, 2, 'MATHS', 10, 'Fractions', '2026-10-01', 200, 2000, 'counts', '2026-10-02T17:00', '2026-10-02T17:00', '2026-10-01T10:00');
     INSERT INTO vs_marks VALUES (1, 1, 1450, NULL, 'marc.dupont', '2026-10-01T10:00');",
    // 8 (sso)
    "INSERT INTO sso_consents VALUES ('marc.dupont', 'nextcloud', 'openid profile', 1790000000);
     INSERT INTO sso_sessions VALUES ('sid-1', 'oidc', 'nextcloud', 'marc.dupont', 1790000000);",
    // 9 (booking)
    "INSERT INTO booking_resources (id, name, kind, quantity, manager) VALUES (1, 'Chariot 1', 'equipment', 16, 'marc.dupont');
     INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, created_at)
         VALUES (1, 'marc.dupont', 1790000000, 1790003600, 16, 'confirmed', 1789990000);",
    // 10 (schoollog)
    "INSERT INTO vs_calendar_tokens VALUES (1, '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08', '2026-10-01T08:00');
     INSERT INTO vs_threads (id, subject, created_by, created_at, audience) VALUES (1, 'Sortie', 2, '2026-10-01T08:00', 'parents de 6A');",
    // 11 (console): the search index is filled from the people by the
    // migration; a person added after it is indexed by its trigger.
    "INSERT INTO people (id, kind, source, last_name, first_name, login, created_at, updated_at)
         VALUES (4, 'staff', 'manual', 'BÉRANGER', 'Élise', 'elise.beranger', '2026-09-01', '2026-09-01');",
    // 12 (door)
    "INSERT INTO bookings (resource_id, login, starts, ends, quantity, status, created_at, subject, structure)
         VALUES (1, 'marc.dupont', 1790100000, 1790103600, 2, 'confirmed', 1789990000, 'MATHS', '6A');
     INSERT INTO signin_weeks VALUES ('2026-W40', 'administrateur', 'admin', 1);
     INSERT INTO share_usage_samples VALUES ('2026-10-01', 'commun', 1048576, 3);",
    // 13 (classroom)
    "INSERT INTO proxy_exams VALUES ('C01', 1790000000, '', 'marc.dupont', 'off');
     INSERT INTO admin_totp VALUES ('admin', X'3132333435363738393031323334353637383930', 1790000000, 1790000000, 59666666);
     INSERT INTO admin_recovery_codes VALUES ('admin', '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', NULL);",
    // 14 (stats2)
    "INSERT INTO booking_calendar_tokens VALUES (1, '60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752', '2026-10-01T08:00');",
    // 15 (stats)
    "INSERT INTO proxy_day_counts VALUES ('2026-11-27', 3, 2, 1, 700, 1795000000, 1795100000);
     INSERT INTO proxy_day_categories VALUES ('2026-11-27', 'adult', 2);
     INSERT INTO cas_logout_targets VALUES ('sid-1', 'https://gepi.tilleuls.lan/', 'ST-abc', 1790000000);",
];

/// Rows each table must hold after migrating a fixture of `version`.
fn expected_rows(version: usize) -> Vec<(&'static str, i64)> {
    let mut rows = vec![("meta", 1), ("applies", 1), ("admins", 1)];
    if version >= 2 {
        rows.extend([
            ("people", if version >= 11 { 4 } else { 3 }),
            ("memberships", 2),
            ("parent_links", 1),
            ("services", 1),
            ("structures", 2),
        ]);
    }
    if version >= 3 {
        rows.push(("share_homework", 1));
    }
    if (4..13).contains(&version) {
        rows.push(("proxy_exams", 1));
    }
    if version >= 13 {
        rows.push(("proxy_exams", 2));
    }
    if version >= 6 {
        // From 10 on, the audit log's sign-in is also counted per week
        // (filled from the audit log when migrating an older database).
        rows.extend([("web_sessions", 1), ("audit_log", 1), ("signin_weeks", 1)]);
    }
    if version >= 7 {
        rows.extend([
            ("vs_years", 1),
            ("vs_slots", 1),
            ("vs_attendance", 1),
            ("vs_marks", 1),
            ("vs_competences", 8),
        ]);
    }
    if version >= 8 {
        rows.extend([("sso_consents", 1), ("sso_sessions", 1)]);
    }
    if version >= 9 {
        rows.extend([
            ("booking_resources", 1),
            ("bookings", if version >= 12 { 2 } else { 1 }),
        ]);
    }
    if version >= 10 {
        rows.extend([("vs_calendar_tokens", 1), ("vs_threads", 1)]);
    }
    rows.push((
        "people_search",
        if version >= 11 {
            4
        } else if version >= 2 {
            3
        } else {
            0
        },
    ));
    if version >= 12 {
        rows.push(("share_usage_samples", 1));
    }
    if version >= 13 {
        rows.extend([("admin_totp", 1), ("admin_recovery_codes", 1)]);
    }
    if version >= 14 {
        rows.push(("booking_calendar_tokens", 1));
    }
    if version >= 15 {
        rows.extend([
            ("proxy_day_counts", 1),
            ("proxy_day_categories", 1),
            ("cas_logout_targets", 1),
        ]);
    }
    rows
}

fn fixture(version: usize) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/db/schema-{version}.db"))
}

/// A database as Préau `version` left it: its migrations, then its data.
fn make_fixture(version: usize, path: &Path) {
    let mut conn = Connection::open(path).unwrap();
    // One self-contained file (no -wal beside it).
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    migrations::of(&STEPS[..version]).to_latest(&mut conn).unwrap();
    for data in &DATA[..version] {
        conn.execute_batch(data).unwrap();
    }
    conn.execute_batch("VACUUM").unwrap();
}

fn user_version(conn: &Connection) -> u32 {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[test]
fn there_is_a_fixture_for_every_shipped_schema() {
    assert_eq!(DATA.len(), STEPS.len(), "add the new tables' data to DATA");
    let write = std::env::var_os("PREAU_WRITE_DB_FIXTURES").is_some();
    for version in 1..=STEPS.len() {
        let path = fixture(version);
        if !path.exists() && write {
            make_fixture(version, &path);
        }
        assert!(
            path.exists(),
            "no fixture for schema {version}: run `PREAU_WRITE_DB_FIXTURES=1 cargo test --test migrations` and commit {}",
            path.display()
        );
        let conn = Connection::open(&path).unwrap();
        assert_eq!(user_version(&conn) as usize, version, "{}", path.display());
    }
}

/// A writable copy of a fixture.
fn copy(version: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("preau.db");
    std::fs::copy(fixture(version), &db).unwrap();
    (dir, db)
}

#[test]
fn every_shipped_schema_migrates_to_the_current_one_with_its_data() {
    for version in 1..=STEPS.len() {
        let (_dir, db) = copy(version);
        let store = Store::open(&db).unwrap_or_else(|e| panic!("schema {version}: {e}"));
        let conn = store.conn();
        assert_eq!(user_version(conn), latest_schema(), "from schema {version}");
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "from schema {version}");
        let broken: i64 = conn
            .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(broken, 0, "from schema {version}");
        for (table, rows) in expected_rows(version) {
            let n: i64 = conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap();
            assert_eq!(n, rows, "{table} after migrating schema {version}");
        }
        // The same schema as a database made new today.
        let fresh_dir = tempfile::tempdir().unwrap();
        let fresh = Store::open(&fresh_dir.path().join("new.db")).unwrap();
        let schema = |c: &Connection| -> Vec<(String, Option<String>)> {
            let mut st = c
                .prepare("SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
                .unwrap();
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert_eq!(
            schema(conn),
            schema(fresh.conn()),
            "schema after migrating {version}"
        );
    }
}

#[test]
fn an_old_database_works_with_todays_binary() {
    for version in 2..=STEPS.len() {
        let root = TempRoot::new();
        let out = root.run(&["init", "--modules", "accounts"]);
        assert!(out.status.success(), "{}", show(&out));
        let db = root.path().join("var/lib/preau/preau.db");
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
        std::fs::copy(fixture(version), &db).unwrap();
        let out = root.run(&["--json", "accounts", "list"]);
        assert!(out.status.success(), "schema {version}: {}", show(&out));
        let people: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let logins: Vec<&str> = people
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["login"].as_str().unwrap())
            .collect();
        assert!(
            logins.contains(&"lea.martin") && logins.contains(&"marc.dupont"),
            "{logins:?}"
        );
        let out = root.run(&["accounts", "show", "lea.martin"]);
        assert!(out.status.success(), "schema {version}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("6A"),
            "{}",
            show(&out)
        );
    }
}

fn contents(db: &Path) -> Vec<String> {
    let conn = Connection::open(db).unwrap();
    let mut out = vec![format!("user_version {}", user_version(&conn))];
    let tables: Vec<String> = {
        let mut st = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    for t in tables {
        let mut st = conn.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = st.column_count();
        let rows = st
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get_ref(i).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap();
        for row in rows {
            out.push(format!("{t}: {}", row.unwrap()));
        }
    }
    out
}

#[test]
fn a_failing_migration_leaves_the_old_database_as_it_was() {
    let (_dir, db) = copy(2);
    let before = contents(&db);
    // The shipped steps, then one that fails half-way: its first statement
    // works, its second does not.
    let mut steps: Vec<&'static str> = STEPS.to_vec();
    steps.push("CREATE TABLE half_done (x INTEGER); INSERT INTO people_that_do_not_exist VALUES (1);");
    let err = Store::open_migrating(&db, &steps)
        .err()
        .expect("the broken migration must fail");
    assert!(
        err.to_string()
            .contains("cannot bring the database schema up to date"),
        "{err}"
    );
    // Not even the shipped steps 3 and 4 were kept: one transaction.
    let after = contents(&db);
    assert_eq!(before, after);
    // And the database still opens with the real migrations.
    let store = Store::open(&db).unwrap();
    assert_eq!(user_version(store.conn()), latest_schema());
}

#[test]
fn a_database_from_a_newer_preau_is_refused_and_untouched() {
    let (_dir, db) = copy(STEPS.len());
    {
        let conn = Connection::open(&db).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let before = contents(&db);
    let err = Store::open(&db).err().expect("a newer schema must be refused");
    assert!(
        err.to_string()
            .contains("cannot bring the database schema up to date"),
        "{err}"
    );
    assert_eq!(contents(&db), before);
}
