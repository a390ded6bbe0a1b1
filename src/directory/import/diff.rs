//! The import as a plan: what the files would change in the directory
//! ([`plan`], read-only), then [`apply`] in one transaction.

use super::{Incoming, Snapshot};
use crate::directory::{self, Kind, NOW, NewPerson, StructureKind, login, password};
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// One person in the import's diff.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Entry {
    pub kind: Kind,
    pub key: String,
    /// The existing login; None for a new person (chosen at apply).
    pub login: Option<String>,
    pub name: String,
    /// What changes, e.g. "class 6A -> 5B".
    pub detail: String,
}

/// Options of [`plan`].
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Refuse when more than this percentage of the active accounts of a
    /// kind would be disabled.
    pub max_disable_percent: u32,
    pub allow_mass_disable: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Create,
    Update(i64),
    Reactivate(i64),
    /// Present and departed, or absent: disable.
    Leave(i64),
    Keep(i64),
}

/// What an import would do.
#[derive(Debug, Serialize)]
pub struct ImportPlan {
    pub files: Vec<String>,
    pub new: Vec<Entry>,
    pub changed: Vec<Entry>,
    pub returning: Vec<Entry>,
    pub leaving: Vec<Entry>,
    pub unchanged: usize,
    pub new_structures: Vec<String>,
    pub warnings: Vec<String>,
    /// Why the plan may not be applied (mass disable), if so.
    pub refusal: Option<String>,
    #[serde(skip)]
    snapshot: Snapshot,
    #[serde(skip)]
    actions: Vec<((Kind, String), Action)>,
    #[serde(skip)]
    absent: Vec<i64>,
    #[serde(skip)]
    structures_changed: bool,
}

impl ImportPlan {
    /// Whether applying would change anything.
    pub fn is_empty(&self) -> bool {
        self.new.is_empty()
            && self.changed.is_empty()
            && self.returning.is_empty()
            && self.leaving.is_empty()
            && !self.structures_changed
    }

    /// The plan as the administrator reads it (at most `limit` lines per
    /// category).
    pub fn render(&self, limit: usize) -> String {
        let mut out = String::new();
        out.push_str(&format!("Files: {}\n", self.files.join(", ")));
        let section = |out: &mut String, title: &str, sign: &str, list: &[Entry]| {
            if list.is_empty() {
                return;
            }
            out.push_str(&format!("{title}: {}\n", list.len()));
            for e in list.iter().take(limit) {
                let login = e.login.as_deref().unwrap_or("(new login)");
                out.push_str(&format!(
                    "  {sign} {:<8} {:<22} {}",
                    e.kind.as_str(),
                    login,
                    e.name
                ));
                if !e.detail.is_empty() {
                    out.push_str(&format!("  [{}]", e.detail));
                }
                out.push('\n');
            }
            if list.len() > limit {
                out.push_str(&format!(
                    "  … and {} more (--json lists them all)\n",
                    list.len() - limit
                ));
            }
        };
        section(&mut out, "New", "+", &self.new);
        section(&mut out, "Changed", "~", &self.changed);
        section(&mut out, "Returning", "↺", &self.returning);
        section(
            &mut out,
            "Leaving (account disabled, deleted after the retention period)",
            "-",
            &self.leaving,
        );
        if !self.new_structures.is_empty() {
            out.push_str(&format!(
                "New classes and groups: {}\n",
                self.new_structures.join(" ")
            ));
        }
        out.push_str(&format!("Unchanged: {}\n", self.unchanged));
        for w in &self.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        if let Some(r) = &self.refusal {
            out.push_str(&format!("REFUSED: {r}\n"));
        }
        out
    }
}

struct Existing {
    person: directory::Person,
    structures: BTreeSet<(StructureKind, String)>,
}

fn load_existing(conn: &Connection) -> rusqlite::Result<Vec<Existing>> {
    let people = directory::people(conn, &directory::Filter::default())?;
    let mut by_id: HashMap<i64, BTreeSet<(StructureKind, String)>> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT m.person_id, s.kind, s.code FROM memberships m JOIN structures s ON s.id = m.structure_id",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let kind: String = r.get(1)?;
        by_id.entry(r.get(0)?).or_default().insert((
            StructureKind::parse(&kind).unwrap_or(StructureKind::Group),
            r.get(2)?,
        ));
    }
    Ok(people
        .into_iter()
        .map(|p| Existing {
            structures: by_id.remove(&p.id).unwrap_or_default(),
            person: p,
        })
        .collect())
}

fn describe_structures(
    old: &BTreeSet<(StructureKind, String)>,
    new: &BTreeSet<(StructureKind, String)>,
) -> Vec<String> {
    let class = |s: &BTreeSet<(StructureKind, String)>| {
        s.iter()
            .filter(|(k, _)| *k == StructureKind::Class)
            .map(|(_, c)| c.as_str())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = Vec::new();
    let (a, b) = (class(old), class(new));
    if a != b {
        out.push(format!(
            "class {} -> {}",
            if a.is_empty() { "none" } else { &a },
            if b.is_empty() { "none" } else { &b }
        ));
    }
    let groups = |s: &BTreeSet<(StructureKind, String)>| -> BTreeSet<String> {
        s.iter()
            .filter(|(k, _)| *k == StructureKind::Group)
            .map(|(_, c)| c.clone())
            .collect()
    };
    let (ga, gb) = (groups(old), groups(new));
    for g in gb.difference(&ga) {
        out.push(format!("+group {g}"));
    }
    for g in ga.difference(&gb) {
        out.push(format!("-group {g}"));
    }
    out
}

fn differences(e: &Existing, i: &Incoming) -> Vec<String> {
    let p = &e.person;
    let mut d = Vec::new();
    if p.last_name != i.last_name || p.first_name != i.first_name {
        d.push(format!(
            "name {} -> {} {}",
            p.full_name(),
            i.first_name,
            i.last_name
        ));
    }
    if p.birth_date != i.birth_date && i.birth_date.is_some() {
        d.push("birth date".into());
    }
    if p.function != i.function && i.kind() != Kind::Student && i.kind() != Kind::Parent {
        d.push(format!(
            "function {} -> {}",
            p.function.as_deref().unwrap_or("none"),
            i.function.as_deref().unwrap_or("none")
        ));
    }
    if i.email.is_some() && p.email != i.email {
        d.push("e-mail".into());
    }
    if i.postal_address.is_some() && p.postal_address != i.postal_address {
        d.push("postal address".into());
    }
    if i.ine.is_some() && p.ine != i.ine {
        d.push("INE".into());
    }
    if p.national_key.as_deref() != Some(i.key.as_str()) {
        d.push("national key".into());
    }
    if p.kind != i.kind() {
        d.push(format!("kind {} -> {}", p.kind, i.kind()));
    }
    if i.kind() == Kind::Student && !i.unplaced {
        d.extend(describe_structures(&e.structures, &i.structures));
    }
    d
}

/// Compares the files with the directory. Changes nothing.
pub fn plan(conn: &Connection, snapshot: Snapshot, opts: &PlanOptions) -> rusqlite::Result<ImportPlan> {
    let existing = load_existing(conn)?;
    let mut by_key: HashMap<(Kind, &str), usize> = HashMap::new();
    let mut by_ine: HashMap<&str, usize> = HashMap::new();
    for (n, e) in existing.iter().enumerate() {
        if let Some(k) = &e.person.national_key {
            // Teachers may become staff and back between two STS exports:
            // STS people are matched on the key whatever their kind.
            let kind = match e.person.kind {
                Kind::Staff if e.person.source == "sts" => Kind::Teacher,
                k => k,
            };
            by_key.insert((kind, k.as_str()), n);
        }
        if let Some(ine) = &e.person.ine {
            by_ine.insert(ine.as_str(), n);
        }
    }
    let mut plan = ImportPlan {
        files: snapshot.files.clone(),
        new: Vec::new(),
        changed: Vec::new(),
        returning: Vec::new(),
        leaving: Vec::new(),
        unchanged: 0,
        new_structures: Vec::new(),
        warnings: snapshot.warnings.clone(),
        refusal: None,
        snapshot: Snapshot::default(),
        actions: Vec::new(),
        absent: Vec::new(),
        structures_changed: false,
    };
    let mut matched: HashSet<usize> = HashSet::new();
    for (k, i) in &snapshot.people {
        let lookup_kind = match i.kind() {
            Kind::Staff if i.source == "sts" => Kind::Teacher,
            k => k,
        };
        let found = by_key
            .get(&(lookup_kind, i.key.as_str()))
            .or_else(|| i.ine.as_deref().and_then(|ine| by_ine.get(ine)))
            .copied()
            .filter(|n| !matched.contains(n));
        let name = format!("{} {}", i.first_name, i.last_name);
        let entry = |login: Option<String>, detail: String| Entry {
            kind: i.kind(),
            key: i.key.clone(),
            login,
            name: name.clone(),
            detail,
        };
        let action = match found {
            None => {
                if i.departed || i.unplaced {
                    continue;
                }
                let detail = i
                    .structures
                    .iter()
                    .map(|(_, c)| c.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                plan.new.push(entry(None, detail));
                Action::Create
            }
            Some(n) => {
                matched.insert(n);
                let e = &existing[n];
                let login = Some(e.person.login.clone());
                let diffs = differences(e, i);
                let active = e.person.is_active();
                if i.departed {
                    if active {
                        plan.leaving.push(entry(login, "left (DATE_SORTIE)".into()));
                        Action::Leave(e.person.id)
                    } else {
                        plan.unchanged += 1;
                        Action::Keep(e.person.id)
                    }
                } else if !active && e.person.status == directory::Status::Deleting {
                    plan.returning.push(entry(login, diffs.join(", ")));
                    Action::Reactivate(e.person.id)
                } else if !diffs.is_empty() {
                    plan.changed.push(entry(login, diffs.join(", ")));
                    Action::Update(e.person.id)
                } else {
                    plan.unchanged += 1;
                    Action::Keep(e.person.id)
                }
            }
        };
        plan.actions.push((k.clone(), action));
    }
    // People of a covered kind and source missing from the files leave.
    for (n, e) in existing.iter().enumerate() {
        let p = &e.person;
        if matched.contains(&n) || !p.is_active() {
            continue;
        }
        let covered = snapshot.covers.contains(&(p.kind, p.source.as_str()))
            || (p.source == "sts" && snapshot.covers.contains(&(Kind::Teacher, "sts")));
        if covered {
            plan.leaving.push(Entry {
                kind: p.kind,
                key: p.national_key.clone().unwrap_or_default(),
                login: Some(p.login.clone()),
                name: p.full_name(),
                detail: "not in the files any more".into(),
            });
            plan.absent.push(p.id);
        }
    }
    // Structures new to the directory.
    let known: HashSet<(String, String)> = directory::structures(conn, None, true)?
        .into_iter()
        .map(|s| (s.kind.as_str().to_string(), s.code))
        .collect();
    for (k, code) in snapshot.structures.keys() {
        if !known.contains(&(k.as_str().to_string(), code.clone())) {
            let what = match k {
                StructureKind::Class => "classe",
                StructureKind::Group => "groupe",
            };
            plan.new_structures.push(format!("{code} ({what})"));
        }
    }
    plan.structures_changed = !plan.new_structures.is_empty() || structures_differ(conn, &snapshot)?;
    // Refuse a mass disable (a partial export).
    let mut active_by_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    for e in &existing {
        if e.person.is_active() {
            *active_by_kind.entry(e.person.kind).or_default() += 1;
        }
    }
    let mut leaving_by_kind: BTreeMap<Kind, usize> = BTreeMap::new();
    for e in &plan.leaving {
        *leaving_by_kind.entry(e.kind).or_default() += 1;
    }
    let mut refusals = Vec::new();
    for (kind, leaving) in leaving_by_kind {
        let active = active_by_kind.get(&kind).copied().unwrap_or(0);
        if active > 0 && leaving * 100 > active * opts.max_disable_percent as usize {
            refusals.push(format!(
                "{leaving} of {active} active {kind} accounts ({}%) would be disabled, more than the {}% allowed",
                leaving * 100 / active,
                opts.max_disable_percent
            ));
        }
    }
    if !refusals.is_empty() && !opts.allow_mass_disable {
        plan.refusal = Some(format!(
            "{}\n    help: is the export partial (one level, one class)? Export the whole establishment. \
             If this is really the new school year, run again with --allow-mass-disable.",
            refusals.join("; ")
        ));
    }
    plan.snapshot = snapshot;
    Ok(plan)
}

/// Whether services, head teachers, group compositions, subjects, links or
/// labels in the files differ from the directory.
fn structures_differ(conn: &Connection, snap: &Snapshot) -> rusqlite::Result<bool> {
    let labels: HashMap<(String, String), String> = {
        let mut stmt = conn.prepare("SELECT kind, code, label FROM structures")?;
        let rows = stmt.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    for ((k, code), label) in &snap.structures {
        if labels.get(&(k.as_str().to_string(), code.clone())) != Some(label) {
            return Ok(true);
        }
    }
    for (code, (short, label)) in &snap.subjects {
        let cur: Option<(String, String)> = conn
            .query_row("SELECT short, label FROM subjects WHERE code = ?1", [code], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .ok();
        if cur.as_ref() != Some(&(short.clone(), label.clone())) {
            return Ok(true);
        }
    }
    if let Some(services) = &snap.services {
        let mut stmt = conn.prepare(
            "SELECT p.national_key, v.subject_code, s.kind, s.code FROM services v
             JOIN people p ON p.id = v.teacher_id JOIN structures s ON s.id = v.structure_id",
        )?;
        let current: BTreeSet<(String, String, String, String)> = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        let wanted: BTreeSet<(String, String, String, String)> = services
            .iter()
            .map(|s| {
                (
                    s.teacher_key.clone(),
                    s.subject.clone(),
                    s.structure.0.as_str().to_string(),
                    s.structure.1.clone(),
                )
            })
            .collect();
        if current != wanted {
            return Ok(true);
        }
        let mut stmt = conn.prepare(
            "SELECT p.national_key, s.code FROM head_teachers h
             JOIN people p ON p.id = h.teacher_id JOIN structures s ON s.id = h.class_id",
        )?;
        let current: BTreeSet<(String, String)> = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Option<String>>(0)?.unwrap_or_default(), r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        if current != snap.head_teachers {
            return Ok(true);
        }
        let mut stmt = conn.prepare(
            "SELECT g.code, c.code FROM group_classes x
             JOIN structures g ON g.id = x.group_id JOIN structures c ON c.id = x.class_id",
        )?;
        let current: BTreeSet<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if current != snap.group_classes {
            return Ok(true);
        }
    }
    if let Some(links) = &snap.links {
        let mut stmt = conn.prepare(
            "SELECT p.national_key, c.national_key, l.legal, l.relation FROM parent_links l
             JOIN people p ON p.id = l.parent_id JOIN people c ON c.id = l.child_id",
        )?;
        let current: BTreeSet<(String, String, i64, Option<String>)> = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    r.get(2)?,
                    r.get(3)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?;
        // Links to people not in the directory yet come with new people,
        // which the plan shows anyway.
        let known = |kind: &str| -> rusqlite::Result<HashSet<String>> {
            let mut stmt =
                conn.prepare("SELECT national_key FROM people WHERE kind = ?1 AND national_key IS NOT NULL")?;
            stmt.query_map([kind], |r| r.get(0))?.collect()
        };
        let (children, parents) = (known("student")?, known("parent")?);
        let wanted: BTreeSet<(String, String, i64, Option<String>)> = links
            .iter()
            .filter(|l| children.contains(&l.child_key) && parents.contains(&l.parent_key))
            .map(|l| {
                (
                    l.parent_key.clone(),
                    l.child_key.clone(),
                    l.legal,
                    l.relation.clone(),
                )
            })
            .collect();
        if current != wanted {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Options of [`apply`].
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    pub login_scheme: String,
    /// Names that can never be logins (the system's users and groups).
    pub reserved: HashSet<String>,
    /// First and last uid/gid for people, classes and groups.
    pub first_id: u32,
    pub last_id: u32,
    pub password_syllables: u32,
    pub password_digits: u32,
    pub must_change: bool,
    /// Days between leaving and deletion (`accounts purge`).
    pub retention_days: u32,
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ApplySummary {
    pub import_id: i64,
    pub created: usize,
    pub updated: usize,
    pub reactivated: usize,
    pub disabled: usize,
    pub unchanged: usize,
}

/// The Unix group name of a class or group code: `c-6a`, `g-6latin`.
pub fn group_name_for(kind: StructureKind, code: &str) -> String {
    let prefix = match kind {
        StructureKind::Class => "c-",
        StructureKind::Group => "g-",
    };
    let mut base = login::ascii_name(code);
    if base.is_empty() {
        base = "x".into();
    }
    base.truncate(30);
    format!("{prefix}{base}")
}

/// Performs an import plan in the caller's transaction. Refuses a plan
/// with a refusal.
pub fn apply(tx: &Connection, plan: &ImportPlan, opts: &ApplyOptions) -> Result<ApplySummary, ApplyError> {
    if let Some(r) = &plan.refusal {
        return Err(ApplyError::Refused(r.clone()));
    }
    let snap = &plan.snapshot;
    let mut used_ids = directory::used_ids(tx)?;
    let next_id = |used: &mut BTreeSet<u32>| -> Result<u32, ApplyError> {
        let id = directory::next_free_id(used, opts.first_id, opts.last_id, opts.first_id)
            .ok_or(ApplyError::NoFreeId(opts.first_id, opts.last_id))?;
        used.insert(id);
        Ok(id)
    };
    // Structures.
    let mut structure_ids: HashMap<(StructureKind, String), i64> = HashMap::new();
    {
        let mut stmt = tx.prepare("SELECT id, kind, code, label FROM structures")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut names: HashSet<String> = HashSet::new();
        for row in rows {
            let (id, kind, code, _) = row?;
            structure_ids.insert(
                (StructureKind::parse(&kind).unwrap_or(StructureKind::Group), code),
                id,
            );
        }
        let mut stmt = tx.prepare("SELECT group_name FROM structures")?;
        for n in stmt.query_map([], |r| r.get::<_, String>(0))? {
            names.insert(n?);
        }
        for ((kind, code), label) in &snap.structures {
            if let Some(id) = structure_ids.get(&(*kind, code.clone())) {
                tx.execute(
                    "UPDATE structures SET label = ?2 WHERE id = ?1 AND label != ?2",
                    params![id, label],
                )?;
                continue;
            }
            let base = group_name_for(*kind, code);
            let mut name = base.clone();
            let mut n = 2;
            while names.contains(&name) || opts.reserved.contains(&name) {
                name = format!("{base}{n}");
                n += 1;
            }
            names.insert(name.clone());
            let gid = next_id(&mut used_ids)?;
            tx.execute(
                "INSERT INTO structures (kind, code, label, group_name, gid) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![kind.as_str(), code, label, name, gid],
            )?;
            structure_ids.insert((*kind, code.clone()), tx.last_insert_rowid());
        }
    }
    for (code, (short, label)) in &snap.subjects {
        tx.execute(
            "INSERT INTO subjects (code, short, label) VALUES (?1, ?2, ?3)
             ON CONFLICT (code) DO UPDATE SET short = excluded.short, label = excluded.label",
            params![code, short, label],
        )?;
    }
    // People.
    let mut used_logins = directory::all_used_logins(tx)?;
    used_logins.extend(opts.reserved.iter().cloned());
    let mut generator = login::Generator::new(&opts.login_scheme, used_logins);
    let delete_after = super::days_from_today(opts.retention_days as i64);
    let mut summary = ApplySummary {
        unchanged: plan.unchanged,
        ..Default::default()
    };
    let mut person_ids: HashMap<(Kind, String), i64> = HashMap::new();
    {
        let mut update = tx.prepare(&format!(
            "UPDATE people SET kind = ?2, national_key = ?3, ine = coalesce(?4, ine), last_name = ?5, first_name = ?6,
                 birth_date = coalesce(?7, birth_date), function = ?8, email = coalesce(?9, email),
                 postal_address = coalesce(?10, postal_address), updated_at = {NOW}
             WHERE id = ?1"
        ))?;
        let mut reactivate = tx.prepare(&format!(
            "UPDATE people SET status = 'active', disabled_at = NULL, delete_after = NULL, updated_at = {NOW} WHERE id = ?1"
        ))?;
        let mut leave = tx.prepare(&format!(
            "UPDATE people SET status = 'deleting', disabled_at = {NOW}, delete_after = ?2, updated_at = {NOW}
             WHERE id = ?1 AND status = 'active'"
        ))?;
        let mut set_pw = tx.prepare(
            "UPDATE people SET initial_password = ?2, nt_hash = ?3, must_change = ?4 WHERE id = ?1",
        )?;
        for (key, action) in &plan.actions {
            let i = &snap.people[key];
            let id = match *action {
                Action::Create => {
                    let login = generator.next(&i.first_name, &i.last_name);
                    let uid = if i.kind().has_system_account() {
                        Some(next_id(&mut used_ids)?)
                    } else {
                        None
                    };
                    let np = NewPerson {
                        kind: Some(i.kind()),
                        source: i.source.into(),
                        national_key: Some(i.key.clone()),
                        ine: i.ine.clone(),
                        last_name: i.last_name.clone(),
                        first_name: i.first_name.clone(),
                        birth_date: i.birth_date.clone(),
                        function: i.function.clone(),
                        email: i.email.clone(),
                        postal_address: i.postal_address.clone(),
                    };
                    let id = directory::insert_person(tx, &np, &login, uid)?;
                    let pw = password::initial_password(opts.password_syllables, opts.password_digits);
                    set_pw.execute(params![id, pw, password::nt_hash(&pw), opts.must_change])?;
                    summary.created += 1;
                    id
                }
                Action::Update(id) | Action::Reactivate(id) => {
                    update.execute(params![
                        id,
                        i.kind().as_str(),
                        i.key,
                        i.ine,
                        i.last_name,
                        i.first_name,
                        i.birth_date,
                        i.function,
                        i.email,
                        i.postal_address
                    ])?;
                    if matches!(action, Action::Reactivate(_)) {
                        reactivate.execute([id])?;
                        summary.reactivated += 1;
                    } else {
                        summary.updated += 1;
                    }
                    id
                }
                Action::Leave(id) => {
                    leave.execute(params![id, delete_after])?;
                    summary.disabled += 1;
                    id
                }
                Action::Keep(id) => id,
            };
            person_ids.insert(key.clone(), id);
            // Memberships of placed students follow the files.
            if i.kind() == Kind::Student && !i.unplaced && !i.departed {
                let wanted: BTreeSet<i64> = i
                    .structures
                    .iter()
                    .filter_map(|s| structure_ids.get(s).copied())
                    .collect();
                let mut stmt =
                    tx.prepare_cached("SELECT structure_id FROM memberships WHERE person_id = ?1")?;
                let current: BTreeSet<i64> = stmt
                    .query_map([id], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                if current != wanted {
                    tx.execute("DELETE FROM memberships WHERE person_id = ?1", [id])?;
                    let mut ins = tx.prepare_cached(
                        "INSERT INTO memberships (person_id, structure_id) VALUES (?1, ?2)",
                    )?;
                    for s in &wanted {
                        ins.execute([id, *s])?;
                    }
                }
            }
        }
        for id in &plan.absent {
            leave.execute(params![id, delete_after])?;
            summary.disabled += 1;
        }
    }
    // Resolve keys of people not in this import (services, links).
    let resolve = |kinds: &[Kind], key: &str| -> rusqlite::Result<Option<i64>> {
        for k in kinds {
            if let Some(id) = person_ids.get(&(*k, key.to_string())) {
                return Ok(Some(*id));
            }
        }
        let mut stmt = tx.prepare_cached(
            "SELECT id FROM people WHERE national_key = ?1 AND kind IN (?2, ?3) ORDER BY status = 'active' DESC LIMIT 1",
        )?;
        let mut rows = stmt.query(params![key, kinds[0].as_str(), kinds[kinds.len() - 1].as_str()])?;
        Ok(match rows.next()? {
            Some(r) => Some(r.get(0)?),
            None => None,
        })
    };
    if let Some(services) = &snap.services {
        tx.execute("DELETE FROM services", [])?;
        tx.execute("DELETE FROM head_teachers", [])?;
        tx.execute(
            "DELETE FROM group_classes WHERE group_id IN (SELECT id FROM structures WHERE kind = 'group')",
            [],
        )?;
        let mut ins = tx.prepare(
            "INSERT OR IGNORE INTO services (teacher_id, subject_code, structure_id) VALUES (?1, ?2, ?3)",
        )?;
        for s in services {
            if let (Some(t), Some(sid)) = (
                resolve(&[Kind::Teacher, Kind::Staff], &s.teacher_key)?,
                structure_ids.get(&s.structure),
            ) {
                ins.execute(params![t, s.subject, sid])?;
            }
        }
        for (t, class) in &snap.head_teachers {
            if let (Some(t), Some(c)) = (
                resolve(&[Kind::Teacher, Kind::Staff], t)?,
                structure_ids.get(&(StructureKind::Class, class.clone())),
            ) {
                tx.execute(
                    "INSERT OR IGNORE INTO head_teachers (teacher_id, class_id) VALUES (?1, ?2)",
                    [t, *c],
                )?;
            }
        }
        for (g, c) in &snap.group_classes {
            if let (Some(g), Some(c)) = (
                structure_ids.get(&(StructureKind::Group, g.clone())),
                structure_ids.get(&(StructureKind::Class, c.clone())),
            ) {
                tx.execute(
                    "INSERT OR IGNORE INTO group_classes (group_id, class_id) VALUES (?1, ?2)",
                    [*g, *c],
                )?;
            }
        }
    }
    if let Some(links) = &snap.links {
        let parents: Vec<i64> = person_ids
            .iter()
            .filter(|((k, _), _)| *k == Kind::Parent)
            .map(|(_, id)| *id)
            .collect();
        let mut del = tx.prepare("DELETE FROM parent_links WHERE parent_id = ?1")?;
        for p in &parents {
            del.execute([p])?;
        }
        let mut ins = tx.prepare(
            "INSERT OR REPLACE INTO parent_links (parent_id, child_id, legal, relation) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for l in links {
            if let (Some(p), Some(c)) = (
                resolve(&[Kind::Parent], &l.parent_key)?,
                resolve(&[Kind::Student], &l.child_key)?,
            ) {
                ins.execute(params![p, c, l.legal, l.relation])?;
            }
        }
    }
    // A class or group is active while it has active members or services.
    tx.execute(
        "UPDATE structures SET active = (
             EXISTS (SELECT 1 FROM memberships m JOIN people p ON p.id = m.person_id
                     WHERE m.structure_id = structures.id AND p.status = 'active')
             OR EXISTS (SELECT 1 FROM services v WHERE v.structure_id = structures.id))",
        [],
    )?;
    tx.execute(
        &format!("INSERT INTO imports (at, files, summary) VALUES ({NOW}, ?1, ?2)"),
        params![
            serde_json::to_string(&plan.files).unwrap_or_default(),
            serde_json::to_string(&summary).unwrap_or_default()
        ],
    )?;
    summary.import_id = tx.last_insert_rowid();
    Ok(summary)
}

/// Why an import could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("import refused: {0}")]
    Refused(String),
    #[error(
        "no free uid/gid left between {0} and {1}\n    help: widen [accounts] first_id / last_id, or purge departed accounts"
    )]
    NoFreeId(u32, u32),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}
