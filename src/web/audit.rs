//! The audit log (`audit_log` in the store): every sign-in (successful or
//! not), every administrative action and every refusal — who, when, from
//! where, what, on whom, and the outcome. Never a password or a token.

use crate::store::{Store, StoreError};
use rusqlite::params;
use serde::Serialize;

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub address: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
}

/// Appends an entry.
pub fn record(
    store: &mut Store,
    actor: &str,
    address: &str,
    action: &str,
    target: &str,
    outcome: &str,
) -> Result<(), StoreError> {
    store.write(|tx| {
        tx.execute(
            "INSERT INTO audit_log (at, actor, address, action, target, outcome)
             VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?1, ?2, ?3, ?4, ?5)",
            params![actor, address, action, target, outcome],
        )
    })?;
    Ok(())
}

/// Appends an entry inside the caller's transaction (a change and its
/// entry are kept together, or neither).
pub fn record_in(
    tx: &rusqlite::Transaction<'_>,
    actor: &str,
    address: &str,
    action: &str,
    target: &str,
    outcome: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit_log (at, actor, address, action, target, outcome)
         VALUES (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), ?1, ?2, ?3, ?4, ?5)",
        params![actor, address, action, target, outcome],
    )?;
    Ok(())
}

/// Entries matching `query` (in actor, address, action, target or
/// outcome; all when empty), newest first, `limit` from `offset`.
pub fn search(store: &Store, query: &str, limit: usize, offset: usize) -> Result<Vec<Entry>, StoreError> {
    let like = format!(
        "%{}%",
        query
            .trim()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut stmt = store.conn().prepare(
        "SELECT id, at, actor, address, action, target, outcome FROM audit_log
         WHERE ?1 = '%%' OR actor LIKE ?1 ESCAPE '\\' OR address LIKE ?1 ESCAPE '\\'
            OR action LIKE ?1 ESCAPE '\\' OR target LIKE ?1 ESCAPE '\\' OR outcome LIKE ?1 ESCAPE '\\'
         ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt.query_map(params![like, limit as i64, offset as i64], |r| {
        Ok(Entry {
            id: r.get(0)?,
            at: r.get(1)?,
            actor: r.get(2)?,
            address: r.get(3)?,
            action: r.get(4)?,
            target: r.get(5)?,
            outcome: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When `login` last signed in successfully.
pub fn last_sign_in(store: &Store, login: &str) -> Result<Option<String>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(store
        .conn()
        .query_row(
            "SELECT at FROM audit_log WHERE actor = ?1 AND action = 'connexion' AND outcome = 'réussie'
             ORDER BY id DESC LIMIT 1",
            [login],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_searches() {
        let (_d, mut store) = crate::directory::tests::store();
        record(&mut store, "admin", "127.0.0.1", "connexion", "", "réussie").unwrap();
        record(
            &mut store,
            "admin",
            "127.0.0.1",
            "nouveau mot de passe",
            "lea_x",
            "fait",
        )
        .unwrap();
        record(
            &mut store,
            "tom",
            "10.0.0.9",
            "connexion",
            "",
            "mot de passe faux",
        )
        .unwrap();
        assert_eq!(search(&store, "", 10, 0).unwrap().len(), 3);
        assert_eq!(search(&store, "lea_x", 10, 0).unwrap().len(), 1);
        assert_eq!(
            search(&store, "_", 10, 0).unwrap().len(),
            1,
            "LIKE wildcards are literal"
        );
        assert_eq!(search(&store, "10.0.0", 10, 0).unwrap()[0].actor, "tom");
        assert_eq!(search(&store, "", 1, 1).unwrap()[0].target, "lea_x");
        assert!(last_sign_in(&store, "admin").unwrap().is_some());
        assert!(last_sign_in(&store, "tom").unwrap().is_none());
    }
}
