//! Who a person is, as told to services: the OpenID Connect claims and
//! the CAS attributes, read from the directory.

use crate::directory::{self, Kind, StructureKind};
use rusqlite::Connection;
use serde_json::{Map, Value, json};

/// A person as the services see them.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub login: String,
    /// One of [`super::settings::ROLES`].
    pub role: String,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    /// Class codes: a student's class, the classes a teacher teaches.
    pub classes: Vec<String>,
    /// Group codes, the same way.
    pub groups: Vec<String>,
}

impl Identity {
    pub fn name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
            .trim()
            .to_string()
    }
}

/// The role of a person of the directory: the STS-web function decides
/// for staff (DIR: direction, EDU: CPE, ENS: teacher).
pub fn role_of(kind: Kind, function: Option<&str>) -> &'static str {
    match (kind, function.map(str::trim)) {
        (Kind::Student, _) => "student",
        (Kind::Parent, _) => "parent",
        (_, Some("DIR")) => "direction",
        (_, Some("EDU")) => "cpe",
        (Kind::Teacher, _) | (_, Some("ENS")) => "teacher",
        (Kind::Staff, _) => "staff",
    }
}

/// The identity of an active person by login, or of a console
/// administrator (role admin). None: nobody of that login can sign in.
pub fn identity(conn: &Connection, login: &str) -> rusqlite::Result<Option<Identity>> {
    if let Some(p) = directory::person_by_login(conn, login)? {
        if !p.is_active() {
            return Ok(None);
        }
        let mut classes = Vec::new();
        let mut groups = Vec::new();
        for s in directory::structures_of(conn, p.id)? {
            match s.kind {
                StructureKind::Class => classes.push(s.code),
                StructureKind::Group => groups.push(s.code),
            }
        }
        return Ok(Some(Identity {
            login: p.login,
            role: role_of(p.kind, p.function.as_deref()).to_string(),
            given_name: p.first_name,
            family_name: p.last_name,
            email: p.email.filter(|e| !e.is_empty()),
            classes,
            groups,
        }));
    }
    let admin: bool = conn.query_row("SELECT count(*) > 0 FROM admins WHERE login = ?1", [login], |r| {
        r.get(0)
    })?;
    Ok(admin.then(|| Identity {
        login: login.to_string(),
        role: "admin".into(),
        given_name: String::new(),
        family_name: login.to_string(),
        email: None,
        classes: vec![],
        groups: vec![],
    }))
}

/// The claims of `who` that `scope` (space-separated) opens, with the
/// establishment's `uai`: `profile` gives the names and the school's
/// claims (role, classes, groups, uai), `email` the address.
pub fn oidc_claims(who: &Identity, scope: &str, uai: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(who.login));
    let scopes: Vec<&str> = scope.split(' ').collect();
    if scopes.contains(&"profile") {
        m.insert("name".into(), json!(who.name()));
        m.insert("given_name".into(), json!(who.given_name));
        m.insert("family_name".into(), json!(who.family_name));
        m.insert("preferred_username".into(), json!(who.login));
        m.insert("role".into(), json!(who.role));
        m.insert("classes".into(), json!(who.classes));
        m.insert("groups".into(), json!(who.groups));
        m.insert("uai".into(), json!(uai));
    }
    if scopes.contains(&"email")
        && let Some(email) = &who.email
    {
        m.insert("email".into(), json!(email));
        // Addresses come from the national exports, never verified by a
        // message: a relying party must not trust them for account linking.
        m.insert("email_verified".into(), json!(false));
    }
    m
}

/// CAS attributes (name, values) of `who`.
pub fn cas_attributes(who: &Identity, uai: &str) -> Vec<(&'static str, Vec<String>)> {
    let mut a = vec![
        ("uid", vec![who.login.clone()]),
        ("displayName", vec![who.name()]),
        ("givenName", vec![who.given_name.clone()]),
        ("sn", vec![who.family_name.clone()]),
        ("role", vec![who.role.clone()]),
        ("uai", vec![uai.to_string()]),
        ("classes", who.classes.clone()),
        ("groups", who.groups.clone()),
    ];
    if let Some(email) = &who.email {
        a.push(("mail", vec![email.clone()]));
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_from_kind_and_function() {
        assert_eq!(role_of(Kind::Student, None), "student");
        assert_eq!(role_of(Kind::Parent, Some("DIR")), "parent");
        assert_eq!(role_of(Kind::Staff, Some("DIR")), "direction");
        assert_eq!(role_of(Kind::Teacher, Some("DIR")), "direction");
        assert_eq!(role_of(Kind::Staff, Some("EDU")), "cpe");
        assert_eq!(role_of(Kind::Staff, Some("ENS")), "teacher");
        assert_eq!(role_of(Kind::Teacher, None), "teacher");
        assert_eq!(role_of(Kind::Staff, Some("ADM")), "staff");
    }

    fn alice() -> Identity {
        Identity {
            login: "alice.martin".into(),
            role: "student".into(),
            given_name: "Alice".into(),
            family_name: "Martin".into(),
            email: Some("alice@example.org".into()),
            classes: vec!["6A".into()],
            groups: vec!["6LATIN".into()],
        }
    }

    #[test]
    fn claims_follow_the_scope() {
        let c = oidc_claims(&alice(), "openid", "0999999X");
        assert_eq!(Value::Object(c), json!({"sub": "alice.martin"}));
        let c = oidc_claims(&alice(), "openid profile email", "0999999X");
        assert_eq!(c["name"], "Alice Martin");
        assert_eq!(c["role"], "student");
        assert_eq!(c["classes"], json!(["6A"]));
        assert_eq!(c["groups"], json!(["6LATIN"]));
        assert_eq!(c["uai"], "0999999X");
        assert_eq!(c["email"], "alice@example.org");
        assert_eq!(c["email_verified"], false);
    }

    #[test]
    fn identities_from_the_directory() {
        let (_d, mut store) = crate::directory::tests::store();
        store.add_admin("admin", "$argon2id$x").unwrap();
        let admin = identity(store.conn(), "admin").unwrap().unwrap();
        assert_eq!(admin.role, "admin");
        assert_eq!(identity(store.conn(), "nobody").unwrap(), None);
    }
}
