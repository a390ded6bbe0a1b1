//! The CAS server's decisions (CAS Protocol 3.0): service tickets issued
//! at `/cas/login`, validated once at `/cas/serviceValidate` and
//! `/cas/p3/serviceValidate` (with attributes), bound to the service
//! address they were issued for, short lived. Proxying is refused: no
//! proxy-granting ticket is ever issued and `/cas/proxy` answers
//! `UNAUTHORIZED_SERVICE`.

use super::claims::{Identity, cas_attributes, identity};
use super::settings::SsoSettings;
use super::{random_token, sha256_hex};
use quick_xml::escape::escape;
use rusqlite::{Connection, OptionalExtension, params};

/// Longest service address accepted.
pub const MAX_SERVICE_LEN: usize = 2048;

/// Why a ticket could not be issued for a `/cas/login` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginRefusal {
    /// No declared service matches the address.
    UnknownService,
    /// The person's role may not use this service.
    RoleNotAllowed { service: String },
}

/// Checks that `service` may receive tickets at all, before sign-in.
pub fn check_service<'a>(
    settings: &'a SsoSettings,
    service: &str,
) -> Result<&'a super::settings::CasService, LoginRefusal> {
    // A URL is visible ASCII (anything else percent-encoded): a service
    // with a control character, a space or a raw non-ASCII byte is no
    // declared one, and could not be a redirection's `Location`.
    if service.len() > MAX_SERVICE_LEN || !service.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(LoginRefusal::UnknownService);
    }
    settings.cas_service(service).ok_or(LoginRefusal::UnknownService)
}

/// Issues a service ticket for `who` to `service`; returns the address to
/// send the browser to (`service` with `ticket=ST-…`).
pub fn issue_ticket(
    conn: &Connection,
    settings: &SsoSettings,
    service: &str,
    who: &Identity,
    sid: &str,
    renewed: bool,
    now: i64,
) -> Result<String, LoginRefusalOrSql> {
    let declared = check_service(settings, service).map_err(LoginRefusalOrSql::Refused)?;
    if !super::may_use(settings, super::Service::Cas(&declared.name), who).allowed() {
        return Err(LoginRefusalOrSql::Refused(LoginRefusal::RoleNotAllowed {
            service: declared.name.clone(),
        }));
    }
    let ticket = format!("ST-{}", random_token());
    conn.execute(
        "INSERT INTO cas_tickets (ticket_hash, service, login, sid, renewed, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            sha256_hex(&ticket),
            service,
            who.login,
            sid,
            renewed,
            now + i64::from(settings.ticket_seconds)
        ],
    )?;
    super::oidc::record_session(conn, sid, "cas", &declared.name, &who.login, now)?;
    Ok(super::oidc::with_query(service, &[("ticket", &ticket)]))
}

#[derive(Debug)]
pub enum LoginRefusalOrSql {
    Refused(LoginRefusal),
    Sql(rusqlite::Error),
}

impl From<rusqlite::Error> for LoginRefusalOrSql {
    fn from(e: rusqlite::Error) -> Self {
        LoginRefusalOrSql::Sql(e)
    }
}

/// A failed validation: the CAS error code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub message: String,
}

fn failure(code: &'static str, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

/// Validates `ticket` for `service` (inside the caller's IMMEDIATE
/// transaction). A ticket is spent by the first attempt, whether it
/// succeeds or not (CAS 3.0 §3.1.1 and §5.4).
pub fn validate(
    conn: &Connection,
    service: Option<&str>,
    ticket: Option<&str>,
    renew: bool,
    now: i64,
) -> Result<Result<Identity, Failure>, rusqlite::Error> {
    let (Some(service), Some(ticket)) = (
        service.filter(|s| !s.is_empty()),
        ticket.filter(|t| !t.is_empty()),
    ) else {
        return Ok(Err(failure("INVALID_REQUEST", "service and ticket are required")));
    };
    if !ticket.starts_with("ST-") {
        return Ok(Err(failure(
            "INVALID_TICKET_SPEC",
            format!("ticket {} is not a service ticket", truncate(ticket)),
        )));
    }
    let hash = sha256_hex(ticket);
    let row: Option<(String, String, bool, i64, bool, String)> = conn
        .query_row(
            "SELECT service, login, renewed, expires_at, used, sid FROM cas_tickets WHERE ticket_hash = ?1",
            [&hash],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let unknown = || {
        failure(
            "INVALID_TICKET",
            format!("ticket {} not recognized", truncate(ticket)),
        )
    };
    let Some((issued_for, login, renewed, expires_at, used, sid)) = row else {
        return Ok(Err(unknown()));
    };
    if used {
        return Ok(Err(unknown()));
    }
    conn.execute("UPDATE cas_tickets SET used = 1 WHERE ticket_hash = ?1", [&hash])?;
    if expires_at <= now {
        return Ok(Err(unknown()));
    }
    if issued_for != service {
        return Ok(Err(failure(
            "INVALID_SERVICE",
            format!("ticket {} does not match the supplied service", truncate(ticket)),
        )));
    }
    if renew && !renewed {
        return Ok(Err(failure(
            "INVALID_TICKET",
            "the ticket was not issued from a fresh sign-in (renew)",
        )));
    }
    let Some(who) = identity(conn, &login)? else {
        return Ok(Err(failure("INVALID_TICKET", "the account is closed")));
    };
    // The service now has a session opened by this (spent) ticket: it is
    // told when the person signs out (single logout).
    conn.execute(
        "INSERT OR IGNORE INTO cas_logout_targets (sid, service, ticket, at) VALUES (?1, ?2, ?3, ?4)",
        params![sid, service, ticket, now],
    )?;
    Ok(Ok(who))
}

/// A service to send a single logout request to: the address its ticket
/// was issued for, and that ticket (the request's session index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutTarget {
    pub service: String,
    pub ticket: String,
}

/// The services that validated a ticket of the sign-in session `sid`,
/// forgotten as they are returned (inside the caller's transaction, when
/// the session's single sign-on ends).
pub fn take_logout_targets(conn: &Connection, sid: &str) -> rusqlite::Result<Vec<LogoutTarget>> {
    let mut st =
        conn.prepare("SELECT service, ticket FROM cas_logout_targets WHERE sid = ?1 ORDER BY at, ticket")?;
    let out = st
        .query_map([sid], |r| {
            Ok(LogoutTarget {
                service: r.get(0)?,
                ticket: r.get(1)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    conn.execute("DELETE FROM cas_logout_targets WHERE sid = ?1", [sid])?;
    Ok(out)
}

/// The CAS single logout request for the session opened by `ticket`
/// (CAS Protocol 3.0, Appendix C: a SAML 2.0 `samlp:LogoutRequest` whose
/// `samlp:SessionIndex` is the service ticket), with the request `id`,
/// issued at `now` (seconds since the epoch). It is POSTed to the service
/// as the form field `logoutRequest`.
pub fn logout_request(ticket: &str, id: &str, now: i64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64);
    let instant = crate::modules::proxy::log::timestamp(t);
    // Seconds are enough (xsd:dateTime without fractions).
    let instant = format!("{}Z", &instant[..19]);
    format!(
        "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{instant}\"><saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>{}</samlp:SessionIndex></samlp:LogoutRequest>",
        escape(id),
        escape(ticket)
    )
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

const NS: &str = "http://www.yale.edu/tp/cas";

/// The XML of a successful validation, with the attributes (CAS 3.0
/// Appendix A).
pub fn success_xml(who: &Identity, uai: &str, auth_time: Option<&str>) -> String {
    let mut x = format!(
        "<cas:serviceResponse xmlns:cas=\"{NS}\">\n  <cas:authenticationSuccess>\n    <cas:user>{}</cas:user>\n    <cas:attributes>\n",
        escape(&who.login)
    );
    if let Some(t) = auth_time {
        x.push_str(&format!(
            "      <cas:authenticationDate>{}</cas:authenticationDate>\n",
            escape(t)
        ));
    }
    for (name, values) in cas_attributes(who, uai) {
        for v in values {
            x.push_str(&format!("      <cas:{name}>{}</cas:{name}>\n", escape(&v)));
        }
    }
    x.push_str("    </cas:attributes>\n  </cas:authenticationSuccess>\n</cas:serviceResponse>\n");
    x
}

/// The XML of a failed validation.
pub fn failure_xml(f: &Failure) -> String {
    format!(
        "<cas:serviceResponse xmlns:cas=\"{NS}\">\n  <cas:authenticationFailure code=\"{}\">{}</cas:authenticationFailure>\n</cas:serviceResponse>\n",
        f.code,
        escape(&f.message)
    )
}

/// The answer to `/cas/proxy`: this server grants no proxy tickets.
pub fn proxy_refusal_xml() -> String {
    format!(
        "<cas:serviceResponse xmlns:cas=\"{NS}\">\n  <cas:proxyFailure code=\"UNAUTHORIZED_SERVICE\">this server does not grant proxy tickets</cas:proxyFailure>\n</cas:serviceResponse>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sso::settings::CasService;

    fn settings() -> SsoSettings {
        SsoSettings {
            cas_services: vec![
                CasService {
                    name: "GEPI".into(),
                    services: vec!["https://gepi.tilleuls.lan/*".into()],
                    roles: vec![],
                },
                CasService {
                    name: "Profs".into(),
                    services: vec!["https://profs.tilleuls.lan/".into()],
                    roles: vec!["teacher".into()],
                },
            ],
            ..SsoSettings::default()
        }
    }

    fn with_admin() -> (tempfile::TempDir, crate::store::Store, Identity) {
        let (d, mut store) = crate::directory::tests::store();
        store.add_admin("admin", "$argon2id$x").unwrap();
        let who = identity(store.conn(), "admin").unwrap().unwrap();
        (d, store, who)
    }

    #[test]
    fn a_service_with_a_control_space_or_raw_non_ascii_byte_is_unknown() {
        let s = settings();
        assert!(check_service(&s, "https://gepi.tilleuls.lan/login").is_ok());
        assert!(check_service(&s, "https://gepi.tilleuls.lan/%C3%A9l%C3%A8ve?a=%00").is_ok());
        for bad in [
            "https://gepi.tilleuls.lan/a\0b",
            "https://gepi.tilleuls.lan/a\r\nSet-Cookie: x=1",
            "https://gepi.tilleuls.lan/a b",
            "https://gepi.tilleuls.lan/élève",
            "https://gepi.tilleuls.lan/\u{202e}",
            "https://gepi.tilleuls.lan/\x7f",
        ] {
            assert!(check_service(&s, bad).is_err(), "{bad:?}");
        }
    }

    fn ticket_of(url: &str) -> String {
        url.split("ticket=").nth(1).unwrap().to_string()
    }

    #[test]
    fn a_ticket_is_valid_once_for_its_service() {
        let (_d, store, who) = with_admin();
        let c = store.conn();
        let service = "https://gepi.tilleuls.lan/login.php?x=1";
        let url = issue_ticket(c, &settings(), service, &who, "sid1", false, 100).unwrap();
        assert!(
            url.starts_with("https://gepi.tilleuls.lan/login.php?x=1&ticket=ST-"),
            "{url}"
        );
        let t = ticket_of(&url);
        let ok = validate(c, Some(service), Some(&t), false, 105).unwrap().unwrap();
        assert_eq!(ok.login, "admin");
        let again = validate(c, Some(service), Some(&t), false, 105)
            .unwrap()
            .unwrap_err();
        assert_eq!(again.code, "INVALID_TICKET");
    }

    #[test]
    fn refusals() {
        let (_d, store, who) = with_admin();
        let c = store.conn();
        let s = settings();
        let service = "https://gepi.tilleuls.lan/";
        // Another service: refused, and the ticket is spent.
        let t = ticket_of(&issue_ticket(c, &s, service, &who, "sid", false, 100).unwrap());
        let other = validate(c, Some("https://gepi.tilleuls.lan/other"), Some(&t), false, 101)
            .unwrap()
            .unwrap_err();
        assert_eq!(other.code, "INVALID_SERVICE");
        assert_eq!(
            validate(c, Some(service), Some(&t), false, 101)
                .unwrap()
                .unwrap_err()
                .code,
            "INVALID_TICKET"
        );
        // Expired.
        let t = ticket_of(&issue_ticket(c, &s, service, &who, "sid", false, 100).unwrap());
        assert_eq!(
            validate(c, Some(service), Some(&t), false, 110)
                .unwrap()
                .unwrap_err()
                .code,
            "INVALID_TICKET"
        );
        // renew=true needs a ticket from a fresh sign-in.
        let t = ticket_of(&issue_ticket(c, &s, service, &who, "sid", false, 100).unwrap());
        assert_eq!(
            validate(c, Some(service), Some(&t), true, 101)
                .unwrap()
                .unwrap_err()
                .code,
            "INVALID_TICKET"
        );
        let t = ticket_of(&issue_ticket(c, &s, service, &who, "sid", true, 100).unwrap());
        assert!(validate(c, Some(service), Some(&t), true, 101).unwrap().is_ok());
        // Missing parameters, not a service ticket, unknown ticket.
        assert_eq!(
            validate(c, None, Some(&t), false, 101).unwrap().unwrap_err().code,
            "INVALID_REQUEST"
        );
        assert_eq!(
            validate(c, Some(service), Some("PT-1"), false, 101)
                .unwrap()
                .unwrap_err()
                .code,
            "INVALID_TICKET_SPEC"
        );
        assert_eq!(
            validate(c, Some(service), Some("ST-nope"), false, 101)
                .unwrap()
                .unwrap_err()
                .code,
            "INVALID_TICKET"
        );
        // Undeclared service, role not allowed.
        assert!(matches!(
            issue_ticket(c, &s, "https://evil.example/", &who, "sid", false, 100),
            Err(LoginRefusalOrSql::Refused(LoginRefusal::UnknownService))
        ));
        assert!(matches!(
            issue_ticket(c, &s, "https://profs.tilleuls.lan/", &who, "sid", false, 100),
            Err(LoginRefusalOrSql::Refused(LoginRefusal::RoleNotAllowed { .. }))
        ));
    }

    /// Single logout: only the services that validated a ticket of the
    /// session are told, once, with that ticket as the session index.
    #[test]
    fn logout_targets_are_the_validated_tickets_of_the_session() {
        let (_d, store, who) = with_admin();
        let c = store.conn();
        let s = settings();
        let gepi = "https://gepi.tilleuls.lan/login.php";
        let t1 = ticket_of(&issue_ticket(c, &s, gepi, &who, "sid1", false, 100).unwrap());
        let _never_validated =
            issue_ticket(c, &s, "https://gepi.tilleuls.lan/b", &who, "sid1", false, 100).unwrap();
        let other_session = ticket_of(&issue_ticket(c, &s, gepi, &who, "sid2", false, 100).unwrap());
        let refused = ticket_of(&issue_ticket(c, &s, gepi, &who, "sid1", false, 100).unwrap());
        assert!(validate(c, Some(gepi), Some(&t1), false, 101).unwrap().is_ok());
        assert!(
            validate(c, Some(gepi), Some(&other_session), false, 101)
                .unwrap()
                .is_ok()
        );
        assert!(
            validate(c, Some("https://gepi.tilleuls.lan/x"), Some(&refused), false, 101)
                .unwrap()
                .is_err()
        );
        assert_eq!(
            take_logout_targets(c, "sid1").unwrap(),
            vec![LogoutTarget {
                service: gepi.into(),
                ticket: t1.clone()
            }]
        );
        assert!(take_logout_targets(c, "sid1").unwrap().is_empty(), "told once");
        assert_eq!(take_logout_targets(c, "sid2").unwrap().len(), 1);

        let x = logout_request(&t1, "LR-1", 1_795_996_800);
        assert_eq!(
            x,
            format!(
                "<samlp:LogoutRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"LR-1\" Version=\"2.0\" IssueInstant=\"2026-11-30T00:00:00Z\"><saml:NameID>@NOT_USED@</saml:NameID><samlp:SessionIndex>{t1}</samlp:SessionIndex></samlp:LogoutRequest>"
            )
        );
        assert!(
            logout_request("ST-<&>", "LR-2", 0)
                .contains("<samlp:SessionIndex>ST-&lt;&amp;&gt;</samlp:SessionIndex>")
        );
    }

    #[test]
    fn xml_is_escaped_and_carries_attributes() {
        let who = Identity {
            login: "a<b".into(),
            role: "teacher".into(),
            given_name: "Zoé".into(),
            family_name: "O'Neil & fils".into(),
            email: None,
            classes: vec!["6A".into(), "5B".into()],
            groups: vec![],
        };
        let x = success_xml(&who, "0999999X", None);
        assert!(x.contains("<cas:user>a&lt;b</cas:user>"));
        assert!(x.contains("<cas:sn>O&apos;Neil &amp; fils</cas:sn>"), "{x}");
        assert!(x.contains("<cas:classes>6A</cas:classes>\n      <cas:classes>5B</cas:classes>"));
        assert!(x.contains("<cas:uai>0999999X</cas:uai>"));
        let f = failure_xml(&failure("INVALID_TICKET", "ticket <x> not recognized"));
        assert!(f.contains("code=\"INVALID_TICKET\">ticket &lt;x&gt; not recognized<"));
        assert!(proxy_refusal_xml().contains("UNAUTHORIZED_SERVICE"));
    }
}
