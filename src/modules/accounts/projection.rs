//! The directory projected onto the system, in batch.
//!
//! - `/etc/passwd`, `/etc/shadow`, `/etc/group` and `/etc/gshadow` are
//!   rewritten whole, once, under the shadow-utils lock (`/etc/.pwd.lock`,
//!   the `lckpwdf` protocol): every entry that is not Préau's is kept as it
//!   is and where it is; Préau's entries (the role groups, one group per
//!   class and per group, one user per student, teacher and staff member,
//!   all in `[accounts] first_id..=last_id`) follow, sorted by id. Each
//!   file is replaced atomically (temporary file, fsync, rename).
//! - Home directories are created directly (mkdir + chown by id), not by
//!   one `useradd` per person.
//! - Samba: the passdb is read once (`pdbedit -L -w`), and the entries that
//!   differ are imported in one `pdbedit -i smbpasswd:FILE -e tdbsam:PASSDB`
//!   (pdbedit adds new accounts and updates existing ones).
//!
//! Disabled accounts keep their entries but cannot log in: shadow password
//! `!*` and an expiry date in 1970, Samba flag `D`. Parents have no system
//! account. Purged people's entries disappear.

use crate::directory::{self, Kind, Person, Status, Structure};
use crate::engine::{Change, CustomChange};
use crate::host::{Command, Host, HostError, Owner};
use crate::modules::accounts::settings::AccountsSettings;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

/// What the directory wants on the system.
pub struct Wanted {
    pub users: Vec<Person>,
    pub structures: Vec<Structure>,
    /// Structure id → member logins.
    pub members: BTreeMap<i64, Vec<String>>,
    /// NT hash by login.
    pub nt_hashes: BTreeMap<String, String>,
    /// Logins that must change their password (LCT 0 for Samba).
    pub must_change: HashSet<String>,
    /// Every name Préau ever used (logins, group names): entries of these
    /// names are Préau's.
    pub ours: HashSet<String>,
    /// People who left and whose retention ended (`delete_after` passed):
    /// still in the directory until `accounts purge`, but no longer on the
    /// system — no account, and their folders are removed by the plan.
    pub gone: Vec<Person>,
    /// Role group name → member logins (direction, admins: the other role
    /// groups are primary groups).
    pub role_members: BTreeMap<String, Vec<String>>,
}

/// Whether a person left and the directory's retention for them ended
/// by `today` (YYYY-MM-DD).
pub fn retention_ended(p: &Person, today: &str) -> bool {
    p.status == Status::Deleting && p.delete_after.as_deref().is_some_and(|d| d <= today)
}

impl Wanted {
    /// What an empty directory wants: the role groups alone.
    pub fn empty(s: &AccountsSettings) -> Wanted {
        Wanted {
            users: Vec::new(),
            structures: Vec::new(),
            members: Default::default(),
            nt_hashes: Default::default(),
            must_change: Default::default(),
            ours: role_groups(s).into_iter().map(|(name, _)| name).collect(),
            role_members: Default::default(),
            gone: Vec::new(),
        }
    }

    /// Reads the directory.
    pub fn load(conn: &rusqlite::Connection, s: &AccountsSettings) -> rusqlite::Result<Wanted> {
        let today = crate::directory::import::today();
        let (gone, users): (Vec<Person>, Vec<Person>) = directory::system_accounts(conn)?
            .into_iter()
            .partition(|p| retention_ended(p, &today));
        let structures = directory::structures(conn, None, true)?;
        let mut members: BTreeMap<i64, Vec<String>> = BTreeMap::new();
        let mut stmt = conn.prepare(
            "SELECT m.structure_id, p.login FROM memberships m JOIN people p ON p.id = m.person_id
             WHERE p.status = 'active' AND p.uid IS NOT NULL ORDER BY p.login",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            members.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
        let mut nt_hashes = BTreeMap::new();
        let mut must_change = HashSet::new();
        let mut stmt =
            conn.prepare("SELECT login, nt_hash, must_change FROM people WHERE uid IS NOT NULL")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let login: String = r.get(0)?;
            if let Some(h) = r.get::<_, Option<String>>(1)? {
                nt_hashes.insert(login.clone(), h);
            }
            if r.get::<_, bool>(2)? {
                must_change.insert(login);
            }
        }
        // Every login ever given except current parents' (who never have a
        // system account: a system user of that name is not Préau's).
        let mut ours: HashSet<String> = directory::all_used_logins(conn)?;
        for p in directory::people(
            conn,
            &directory::Filter {
                kind: Some(Kind::Parent),
                ..Default::default()
            },
        )? {
            ours.remove(&p.login);
        }
        ours.extend(structures.iter().map(|s| s.group_name.clone()));
        ours.extend(role_groups(s).into_iter().map(|(name, _)| name));
        let role_members = role_members(&users, s);
        Ok(Wanted {
            users,
            structures,
            members,
            nt_hashes,
            must_change,
            ours,
            gone,
            role_members,
        })
    }
}

/// Name-service caches that would keep serving the old users and groups
/// after the account files are rewritten: `nscd` (its socket is there when
/// it runs) and `sssd` (its NSS pipe). Only on the running system.
pub fn cache_invalidations(host: &dyn Host) -> Result<Vec<Change>, HostError> {
    let mut changes = Vec::new();
    if !host.is_live() {
        return Ok(changes);
    }
    let exists = |p: &str| -> Result<bool, HostError> { Ok(host.meta(Path::new(p))?.is_some()) };
    if exists("/run/nscd/socket")? || exists("/var/run/nscd/socket")? {
        for table in ["passwd", "group"] {
            changes.push(Change::Run {
                command: Command::new(["nscd", "--invalidate", table]),
                why: format!("nscd caches {table} entries"),
                live_only: true,
            });
        }
    }
    if exists("/var/lib/sss/pipes/nss")? {
        changes.push(Change::Run {
            command: Command::new(["sss_cache", "-E"]),
            why: "sssd caches users and groups".into(),
            live_only: true,
        });
    }
    Ok(changes)
}

/// The role groups and their gids.
pub fn role_groups(s: &AccountsSettings) -> [(String, u32); 5] {
    [
        (s.students_group.clone(), s.first_id),
        (s.teachers_group.clone(), s.first_id + 1),
        (s.staff_group.clone(), s.first_id + 2),
        (s.direction_group.clone(), s.first_id + 3),
        (s.admins_group.clone(), s.first_id + 4),
    ]
}

/// Members of the role groups that are not primary groups: the direction
/// (STS-web function `DIR`) and the administrators named in the settings;
/// active accounts only.
pub fn role_members(users: &[Person], s: &AccountsSettings) -> BTreeMap<String, Vec<String>> {
    let active = |p: &&Person| p.status == Status::Active && p.uid.is_some();
    let mut out = BTreeMap::new();
    let mut direction: Vec<String> = users
        .iter()
        .filter(active)
        .filter(|p| p.kind != Kind::Student && p.function.as_deref() == Some("DIR"))
        .map(|p| p.login.clone())
        .collect();
    direction.sort();
    let mut admins: Vec<String> = users
        .iter()
        .filter(active)
        .filter(|p| p.kind != Kind::Student && s.admins.iter().any(|a| a == &p.login))
        .map(|p| p.login.clone())
        .collect();
    admins.sort();
    out.insert(s.direction_group.clone(), direction);
    out.insert(s.admins_group.clone(), admins);
    out
}

/// Where people's, classes' and groups' ids start.
pub fn people_first_id(s: &AccountsSettings) -> u32 {
    s.first_id + 10
}

fn role_gid(s: &AccountsSettings, kind: Kind) -> u32 {
    match kind {
        Kind::Student => s.first_id,
        Kind::Teacher => s.first_id + 1,
        _ => s.first_id + 2,
    }
}

pub fn home_of(s: &AccountsSettings, login: &str) -> String {
    format!("{}/{login}", s.home_base.trim_end_matches('/'))
}

fn gecos(p: &Person) -> String {
    p.full_name().replace([':', ',', '\n', '\r'], " ")
}

/// The four account databases as they should be, and what changes.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Databases {
    pub passwd: String,
    pub shadow: String,
    pub group: String,
    pub gshadow: String,
}

/// Préau's lines of each database.
fn our_lines(w: &Wanted, s: &AccountsSettings) -> Databases {
    let mut d = Databases::default();
    for (name, gid) in role_groups(s) {
        let members = w.role_members.get(&name).map(|m| m.join(",")).unwrap_or_default();
        d.group.push_str(&format!("{name}:x:{gid}:{members}\n"));
        d.gshadow.push_str(&format!("{name}:!::{members}\n"));
    }
    let mut structures: Vec<&Structure> = w.structures.iter().collect();
    structures.sort_by_key(|x| x.gid);
    for st in structures {
        let members = w.members.get(&st.id).map(|m| m.join(",")).unwrap_or_default();
        d.group
            .push_str(&format!("{}:x:{}:{members}\n", st.group_name, st.gid));
        d.gshadow.push_str(&format!("{}:!::{members}\n", st.group_name));
    }
    for p in &w.users {
        let Some(uid) = p.uid else { continue };
        d.passwd.push_str(&format!(
            "{}:x:{uid}:{}:{}:{}:{}\n",
            p.login,
            role_gid(s, p.kind),
            gecos(p),
            home_of(s, &p.login),
            s.shell
        ));
        if p.status == Status::Active {
            d.shadow.push_str(&format!("{}:*:::::::\n", p.login));
        } else {
            // Locked and expired since 1970-01-02: no login anywhere.
            d.shadow.push_str(&format!("{}:!*::::::1:\n", p.login));
        }
    }
    d
}

/// Merges Préau's lines into an existing database: other entries stay as
/// they are, in place; Préau's (by name) are replaced by the new block.
fn merge(current: &str, ours: &HashSet<String>, block: &str) -> String {
    let mut out = String::with_capacity(current.len() + block.len());
    for line in current.lines() {
        let name = line.split(':').next().unwrap_or("");
        if !line.is_empty() && ours.contains(name) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(block);
    out
}

fn read_text(host: &dyn Host, path: &str) -> Result<String, HostError> {
    Ok(host
        .read(Path::new(path))?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default())
}

/// Ids of entries that are not Préau's, for conflict detection.
fn foreign_ids(text: &str, ours: &HashSet<String>) -> BTreeMap<u32, String> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3 && !ours.contains(f[0]))
                .then(|| f[2].parse().ok().map(|id| (id, f[0].to_string())))?
        })
        .collect()
}

/// Why the projection cannot be planned.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(
        "{what} `{name}` already uses id {id}, which Préau gives to `{ours}`\n    help: move it out of [accounts] first_id..last_id, or change that range"
    )]
    Conflict {
        what: &'static str,
        name: String,
        id: u32,
        ours: String,
    },
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(
        "cannot read the Samba passdb with pdbedit: {0}\n    help: install samba-common-bin, or set [accounts] samba = false"
    )]
    Samba(String),
}

/// The account databases as they are now and as the directory wants them.
pub fn databases(
    host: &dyn Host,
    w: &Wanted,
    s: &AccountsSettings,
) -> Result<(Databases, Databases), ProjectionError> {
    let current = Databases {
        passwd: read_text(host, "/etc/passwd")?,
        shadow: read_text(host, "/etc/shadow")?,
        group: read_text(host, "/etc/group")?,
        gshadow: read_text(host, "/etc/gshadow")?,
    };
    let block = our_lines(w, s);
    // Nobody else may hold an id Préau gives.
    let foreign_users = foreign_ids(&current.passwd, &w.ours);
    for p in &w.users {
        if let Some(name) = p.uid.and_then(|u| foreign_users.get(&u)) {
            return Err(ProjectionError::Conflict {
                what: "user",
                name: name.clone(),
                id: p.uid.unwrap_or(0),
                ours: p.login.clone(),
            });
        }
    }
    let foreign_groups = foreign_ids(&current.group, &w.ours);
    let mut gids: Vec<(u32, String)> = role_groups(s).iter().map(|(n, g)| (*g, n.clone())).collect();
    gids.extend(w.structures.iter().map(|x| (x.gid, x.group_name.clone())));
    for (gid, ours) in gids {
        if let Some(name) = foreign_groups.get(&gid) {
            return Err(ProjectionError::Conflict {
                what: "group",
                name: name.clone(),
                id: gid,
                ours,
            });
        }
    }
    let wanted = Databases {
        passwd: merge(&current.passwd, &w.ours, &block.passwd),
        shadow: merge(&current.shadow, &w.ours, &block.shadow),
        group: merge(&current.group, &w.ours, &block.group),
        gshadow: merge(&current.gshadow, &w.ours, &block.gshadow),
    };
    Ok((current, wanted))
}

/// The changes that bring the system to the directory.
pub fn plan(
    host: &dyn Host,
    w: &Wanted,
    s: &AccountsSettings,
    state_dir: &Path,
) -> Result<Vec<Change>, ProjectionError> {
    let mut changes = Vec::new();
    let (current, wanted) = databases(host, w, s)?;
    if wanted != current {
        let names = |text: &str| -> BTreeMap<String, String> {
            text.lines()
                .map(|l| (l.split(':').next().unwrap_or("").to_string(), l.to_string()))
                .collect()
        };
        let summarize = |old: &str, new: &str| -> (usize, usize, usize) {
            let (o, n) = (names(old), names(new));
            let added = n.keys().filter(|k| !o.contains_key(*k)).count();
            let removed = o.keys().filter(|k| !n.contains_key(*k)).count();
            let changed = n
                .iter()
                .filter(|(k, v)| o.get(*k).is_some_and(|ov| ov != *v))
                .count();
            (added, changed, removed)
        };
        let u = summarize(&current.passwd, &wanted.passwd);
        let sh = summarize(&current.shadow, &wanted.shadow);
        let g = summarize(&current.group, &wanted.group);
        // Which users and groups, for the plan (never the shadow fields).
        let mut detail = Vec::new();
        for (what, old, new) in [
            ("user", &current.passwd, &wanted.passwd),
            ("group", &current.group, &wanted.group),
        ] {
            let (o, n) = (names(old), names(new));
            let mut lines: Vec<String> = n
                .keys()
                .filter(|k| !o.contains_key(*k))
                .map(|k| format!("+ {what} {k}"))
                .collect();
            lines.extend(
                o.keys()
                    .filter(|k| !n.contains_key(*k))
                    .map(|k| format!("- {what} {k}")),
            );
            lines.extend(
                n.iter()
                    .filter(|(k, v)| o.get(*k).is_some_and(|ov| ov != *v))
                    .map(|(k, _)| format!("~ {what} {k}")),
            );
            let total = lines.len();
            lines.truncate(15);
            if total > 15 {
                lines.push(format!("… and {} more {what} line(s)", total - 15));
            }
            detail.extend(lines);
        }
        {
            let (o, n) = (names(&current.shadow), names(&wanted.shadow));
            for (k, v) in n
                .iter()
                .filter(|(k, v)| o.get(*k).is_some_and(|ov| ov != *v))
                .take(15)
            {
                let locked = v.split(':').nth(1).is_some_and(|pw| pw.starts_with('!'));
                detail.push(format!("~ {} {k}", if locked { "lock" } else { "unlock" }));
            }
        }
        changes.push(Change::Custom(Box::new(AccountFiles {
            summary: format!(
                "~ write /etc/passwd, shadow, group, gshadow in one batch: users +{} ~{} -{}, lock/unlock {}, groups +{} ~{} -{}",
                u.0, u.1, u.2, sh.1, g.0, g.1, g.2
            ),
            detail: detail.join("\n"),
            databases: wanted,
        })));
        changes.extend(cache_invalidations(host)?);
    }
    // Home directories of active accounts.
    let base = PathBuf::from(&s.home_base);
    let mut homes = Vec::new();
    if host.meta(&base)?.is_none() {
        changes.push(Change::Dir {
            path: base.clone(),
            mode: 0o755,
            owner: Owner::root(),
        });
    }
    for p in &w.users {
        let (Some(uid), true) = (p.uid, p.is_active()) else {
            continue;
        };
        let home = PathBuf::from(home_of(s, &p.login));
        if host.meta(&home)?.is_none() {
            homes.push((home, uid, role_gid(s, p.kind)));
        }
    }
    if !homes.is_empty() {
        changes.push(Change::Custom(Box::new(HomeDirs { dirs: homes })));
    }
    // Folders of people who left, once the retention ended: their home
    // (with the shares module, also their personal share).
    let mut leavers = Vec::new();
    for p in &w.gone {
        if p.login.is_empty() || p.login.contains('/') || p.login.starts_with('.') {
            continue; // never a path outside the homes
        }
        let home = PathBuf::from(home_of(s, &p.login));
        if host.meta(&home)?.is_some() {
            leavers.push(Leaver {
                login: p.login.clone(),
                due: p.delete_after.clone().unwrap_or_default(),
                home,
            });
        }
    }
    if !leavers.is_empty() {
        changes.push(Change::Custom(Box::new(RemoveHomes { leavers })));
    }
    // Samba, on the running system only.
    if s.samba
        && host.is_live()
        && let Some(c) = samba_change(host, w, s, state_dir)?
    {
        changes.push(Change::Custom(Box::new(c)));
    }
    Ok(changes)
}

/// One passdb entry as pdbedit lists it.
#[derive(Debug, PartialEq, Eq)]
struct PdbEntry {
    uid: u32,
    nt: String,
    disabled: bool,
}

fn parse_pdb(text: &str) -> BTreeMap<String, PdbEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 5).then(|| {
                (
                    f[0].to_string(),
                    PdbEntry {
                        uid: f[1].parse().unwrap_or(0),
                        nt: f[3].to_uppercase(),
                        disabled: f[4].contains('D'),
                    },
                )
            })
        })
        .collect()
}

fn samba_change(
    host: &dyn Host,
    w: &Wanted,
    s: &AccountsSettings,
    state_dir: &Path,
) -> Result<Option<SambaImport>, ProjectionError> {
    let backend = format!("tdbsam:{}", s.samba_passdb);
    // Listing the passdb costs a second for a school (pdbedit looks every
    // account up in /etc/passwd): skip it when the passdb is exactly as
    // Préau's last import left it and the wanted entries are the same.
    let fingerprint = samba_fingerprint(w);
    let state_file = state_dir.join(SAMBA_STATE);
    let stamp = passdb_stamp(host, &s.samba_passdb).map(|st| format!("{st} {fingerprint}\n"));
    if let (Some(recorded), Some(stamp)) = (host.read(&state_file)?, stamp)
        && recorded == stamp.as_bytes()
    {
        return Ok(None);
    }
    let current = if host.meta(Path::new(&s.samba_passdb))?.is_some() {
        let out = host
            .run(&Command::new(["pdbedit", "-L", "-w", "-b", &backend]))
            .map_err(|e| ProjectionError::Samba(e.to_string()))?;
        if !out.success() {
            return Err(ProjectionError::Samba(
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        parse_pdb(&String::from_utf8_lossy(&out.stdout))
    } else {
        BTreeMap::new()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut file = String::new();
    let (mut added, mut changed) = (0, 0);
    let mut wanted_names = HashSet::new();
    for p in &w.users {
        let (Some(uid), Some(nt)) = (p.uid, w.nt_hashes.get(&p.login)) else {
            continue;
        };
        wanted_names.insert(p.login.as_str());
        let disabled = !p.is_active();
        let want = PdbEntry {
            uid,
            nt: nt.clone(),
            disabled,
        };
        match current.get(&p.login) {
            Some(c) if *c == want => continue,
            Some(_) => changed += 1,
            None => added += 1,
        }
        let flags = if disabled {
            "[DUX        ]"
        } else {
            "[UX         ]"
        };
        // LCT 0 makes Samba ask for a new password at the next logon.
        let lct = if w.must_change.contains(&p.login) { 0 } else { now };
        file.push_str(&format!(
            "{}:{uid}:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:{nt}:{flags}:LCT-{lct:08X}:\n",
            p.login
        ));
    }
    let removed: Vec<String> = current
        .keys()
        .filter(|n| w.ours.contains(*n) && !wanted_names.contains(n.as_str()))
        .cloned()
        .collect();
    if file.is_empty() && removed.is_empty() {
        return Ok(None);
    }
    Ok(Some(SambaImport {
        passdb: s.samba_passdb.clone(),
        scratch: state_dir.join("samba-import.smbpasswd"),
        state_file,
        fingerprint,
        entries: file,
        added,
        changed,
        removed,
    }))
}

/// Where the state of the last Samba import is kept (state directory).
const SAMBA_STATE: &str = "samba-passdb.state";

/// What Préau wants in the passdb, as one digest.
fn samba_fingerprint(w: &Wanted) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in &w.users {
        if let (Some(uid), Some(nt)) = (p.uid, w.nt_hashes.get(&p.login)) {
            h.update(format!("{}:{uid}:{nt}:{}\n", p.login, p.is_active()));
        }
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Modification time and size of the passdb, or None if absent.
fn passdb_stamp(host: &dyn Host, passdb: &str) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(host.real_path(Path::new(passdb))).ok()?;
    Some(format!("{}.{} {}", m.mtime(), m.mtime_nsec(), m.size()))
}

/// Rewrites the four account databases under the shadow lock.
pub struct AccountFiles {
    pub summary: String,
    /// Users and groups added, removed, changed (a sample).
    pub detail: String,
    pub databases: Databases,
}

impl fmt::Debug for AccountFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountFiles({})", self.summary)
    }
}

/// Takes the shadow-utils lock (`lckpwdf`: a record lock on
/// `/etc/.pwd.lock`), held while the databases are replaced.
fn pwd_lock(host: &dyn Host) -> Result<crate::host::FileLock, HostError> {
    if host.meta(Path::new("/etc"))?.is_none() {
        host.create_dir(Path::new("/etc"), 0o755, &Owner::root())?;
    }
    host.lock(
        Path::new("/etc/.pwd.lock"),
        crate::host::LockKind::Record,
        crate::host::LockWait::Wait,
    )
}

impl CustomChange for AccountFiles {
    fn summary(&self) -> String {
        self.summary.clone()
    }

    fn detail(&self) -> Option<String> {
        (!self.detail.is_empty()).then(|| self.detail.clone())
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        let _lock = pwd_lock(host)?;
        let shadow_group = if host.group_id("shadow")?.is_some() {
            "shadow"
        } else {
            "root"
        };
        let d = &self.databases;
        // group before passwd (users' primary groups exist first), shadow
        // files last.
        for (path, text, mode, group) in [
            ("/etc/group", &d.group, 0o644, "root"),
            ("/etc/gshadow", &d.gshadow, 0o640, shadow_group),
            ("/etc/passwd", &d.passwd, 0o644, "root"),
            ("/etc/shadow", &d.shadow, 0o640, shadow_group),
        ] {
            let path = Path::new(path);
            let current = host.read(path)?;
            if current.as_deref() != Some(text.as_bytes()) {
                host.write_file(path, text.as_bytes(), mode, &Owner::new("root", group))?;
            }
        }
        Ok(())
    }
}

/// Creates home directories in one pass (mkdir and chown by id).
#[derive(Debug)]
pub struct HomeDirs {
    pub dirs: Vec<(PathBuf, u32, u32)>,
}

impl CustomChange for HomeDirs {
    fn summary(&self) -> String {
        format!(
            "+ create {} home directories (0700, owned by their user)",
            self.dirs.len()
        )
    }

    fn detail(&self) -> Option<String> {
        let shown: Vec<String> = self
            .dirs
            .iter()
            .take(10)
            .map(|(p, _, _)| p.display().to_string())
            .collect();
        let more = self.dirs.len().saturating_sub(10);
        Some(if more > 0 {
            format!("{} … and {more} more", shown.join(" "))
        } else {
            shown.join(" ")
        })
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        for (path, uid, gid) in &self.dirs {
            host.create_dir_owned(path, 0o700, *uid, *gid)?;
        }
        Ok(())
    }
}

/// One person who left, whose folders go.
#[derive(Debug)]
pub struct Leaver {
    pub login: String,
    /// When the retention ended (YYYY-MM-DD).
    pub due: String,
    pub home: PathBuf,
}

/// Removes the folders of people who left once the retention ended.
/// Cannot be undone (the plan shows each folder beforehand).
#[derive(Debug)]
pub struct RemoveHomes {
    pub leavers: Vec<Leaver>,
}

impl CustomChange for RemoveHomes {
    fn summary(&self) -> String {
        format!(
            "- remove {} home folder(s) of people who left (retention ended; cannot be undone)",
            self.leavers.len()
        )
    }

    fn detail(&self) -> Option<String> {
        let mut lines: Vec<String> = self
            .leavers
            .iter()
            .take(15)
            .map(|l| format!("- {} {} (deletion due {})", l.login, l.home.display(), l.due))
            .collect();
        if self.leavers.len() > 15 {
            lines.push(format!("… and {} more", self.leavers.len() - 15));
        }
        Some(lines.join("\n"))
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        for l in &self.leavers {
            host.remove_dir_all(&l.home)?;
        }
        Ok(())
    }
}

/// Imports the changed Samba entries in one pdbedit run.
pub struct SambaImport {
    pub passdb: String,
    pub scratch: PathBuf,
    /// Records the passdb's stamp and `fingerprint` after the import.
    pub state_file: PathBuf,
    pub fingerprint: String,
    /// smbpasswd-format lines (NT hashes: secret).
    pub entries: String,
    pub added: usize,
    pub changed: usize,
    pub removed: Vec<String>,
}

impl fmt::Debug for SambaImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SambaImport(+{} ~{} -{})",
            self.added,
            self.changed,
            self.removed.len()
        )
    }
}

impl CustomChange for SambaImport {
    fn summary(&self) -> String {
        format!(
            "~ Samba passdb {}: +{} ~{} -{} accounts (one pdbedit import)",
            self.passdb,
            self.added,
            self.changed,
            self.removed.len()
        )
    }

    fn apply(&self, host: &dyn Host) -> Result<(), HostError> {
        let backend = format!("tdbsam:{}", self.passdb);
        if !self.entries.is_empty() {
            // tdbsam commits (and fsyncs) one transaction per account: 2,600
            // accounts take 12 s on an ordinary disk, nearly all of it
            // waiting for fsync. The import runs with TDB_NO_FSYNC (honoured
            // by Samba's tdb) and the file is synced once at the end; a
            // copy of the passdb taken just before is kept as
            // passdb.tdb.preau-backup in case the machine loses power during
            // that second. A partial import is repaired by the next apply,
            // which compares with `pdbedit -L`.
            let passdb = Path::new(&self.passdb);
            if let Some(before) = host.read(passdb)? {
                let backup = PathBuf::from(format!("{}.preau-backup", self.passdb));
                host.write_file(&backup, &before, 0o600, &Owner::root())?;
            }
            // pdbedit looks each account up in /etc/passwd (a linear scan):
            // the entries are split between parallel imports, one per core.
            let lines: Vec<&str> = self.entries.lines().collect();
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4);
            let parts = if lines.len() >= 200 { cores } else { 1 };
            let chunk = lines.len().div_ceil(parts);
            let mut scratches = Vec::new();
            for (i, part) in lines.chunks(chunk.max(1)).enumerate() {
                let path = PathBuf::from(format!("{}.{i}", self.scratch.display()));
                host.write_file(
                    &path,
                    format!("{}\n", part.join("\n")).as_bytes(),
                    0o600,
                    &Owner::root(),
                )?;
                scratches.push(path);
            }
            let results: Vec<Result<crate::host::Output, HostError>> = std::thread::scope(|scope| {
                let handles: Vec<_> = scratches
                    .iter()
                    .map(|path| {
                        let real = host.real_path(path);
                        let backend = backend.clone();
                        scope.spawn(move || {
                            host.run_ok(&Command::new([
                                "env".to_string(),
                                "TDB_NO_FSYNC=1".into(),
                                "pdbedit".into(),
                                "-i".into(),
                                format!("smbpasswd:{}", real.display()),
                                "-e".into(),
                                backend,
                            ]))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(HostError::Spawn {
                                command: "pdbedit -i".into(),
                                cause: std::io::Error::other("import thread panicked"),
                            })
                        })
                    })
                    .collect()
            });
            for path in &scratches {
                host.remove_file(path)?;
            }
            for r in results {
                r?;
            }
            if host.meta(passdb)?.is_some() {
                host.sync(passdb)?;
            }
        }
        for name in &self.removed {
            host.run_ok(&Command::new(["pdbedit", "-x", "-u", name, "-b", &backend]))?;
        }
        if let Some(stamp) = passdb_stamp(host, &self.passdb) {
            host.write_file(
                &self.state_file,
                format!("{stamp} {}\n", self.fingerprint).as_bytes(),
                0o600,
                &Owner::root(),
            )?;
        }
        Ok(())
    }
}

/// Logins of the Unix users in `/etc/passwd` and group names in
/// `/etc/group` that are not Préau's: never given as logins.
pub fn system_names(host: &dyn Host, ours: &HashSet<String>) -> Result<HashSet<String>, HostError> {
    let mut names = HashSet::new();
    for db in ["/etc/passwd", "/etc/group"] {
        for line in read_text(host, db)?.lines() {
            let n = line.split(':').next().unwrap_or("");
            if !n.is_empty() && !ours.contains(n) {
                names.insert(n.to_string());
            }
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::import::{self, fixture_tests as fx};
    use crate::host::{Output, RecordingHost};

    fn school_store() -> (tempfile::TempDir, crate::store::Store) {
        let school = fx::gen_school(60, &[]);
        let (d, mut store) = crate::directory::tests::store();
        let paths = fx::files(school.path());
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        let snap = import::read_files(&refs, &fx::read_opts()).unwrap();
        let opts = import::PlanOptions {
            max_disable_percent: 10,
            allow_mass_disable: false,
        };
        let plan = import::plan(store.conn(), snap, &opts).unwrap();
        let mut aopts = fx::apply_opts();
        aopts.first_id = 10_010;
        store
            .write(|tx| {
                import::apply(tx, &plan, &aopts)
                    .map_err(|e| rusqlite::Error::InvalidParameterName(e.to_string()))
            })
            .unwrap();
        (d, store)
    }

    #[test]
    fn batch_projection_keeps_system_entries_and_is_idempotent() {
        let (_d, mut store) = school_store();
        let s = AccountsSettings::default();
        let host = RecordingHost::new();
        host.seed(
            "/etc/passwd",
            b"root:x:0:0:root:/root:/bin/bash\nbob:x:1000:1000:Bob:/home/bob:/bin/bash\n",
        );
        host.seed(
            "/etc/shadow",
            b"root:$y$j9T$abc:19000:0:99999:7:::\nbob:!:19000:0:99999:7:::\n",
        );
        host.seed("/etc/group", b"root:x:0:\nbob:x:1000:\n");
        host.seed("/etc/gshadow", b"root:*::\nbob:!::\n");
        host.respond("pdbedit", Output::default());
        let w = Wanted::load(store.conn(), &s).unwrap();
        let (_, wanted) = databases(&host, &w, &s).unwrap();
        assert!(
            wanted
                .passwd
                .starts_with("root:x:0:0:root:/root:/bin/bash\nbob:x:1000:"),
            "system entries first, untouched"
        );
        assert!(wanted.shadow.starts_with("root:$y$j9T$abc:19000"));
        assert!(
            wanted
                .group
                .contains("\neleves:x:10000:\nprofs:x:10001:\npersonnels:x:10002:\n")
        );
        let students = w.users.iter().filter(|p| p.kind == Kind::Student).count();
        assert_eq!(students, 58);
        assert_eq!(wanted.passwd.lines().count(), 2 + w.users.len(), "no parents");
        let c6a = wanted.group.lines().find(|l| l.starts_with("c-6a:")).unwrap();
        assert_eq!(
            c6a.split(':').nth(3).unwrap().split(',').count(),
            directory::students_of(store.conn(), "6A").unwrap().len()
        );
        let changes = plan(&host, &w, &s, Path::new("/var/lib/preau")).unwrap();
        let summaries: Vec<String> = changes.iter().map(|c| c.summary()).collect();
        assert!(
            summaries[0].contains(&format!("users +{}", w.users.len())),
            "{summaries:?}"
        );
        assert!(
            summaries.iter().any(|c| c.contains("home directories")),
            "{summaries:?}"
        );
        assert!(
            summaries.iter().any(|c| c.contains(&format!(
                "Samba passdb /var/lib/samba/private/passdb.tdb: +{}",
                w.users.len()
            ))),
            "{summaries:?}"
        );
        // Once written, nothing more for the databases.
        host.seed("/etc/passwd", wanted.passwd.as_bytes());
        host.seed("/etc/shadow", wanted.shadow.as_bytes());
        host.seed("/etc/group", wanted.group.as_bytes());
        host.seed("/etc/gshadow", wanted.gshadow.as_bytes());
        let (cur, again) = databases(&host, &w, &s).unwrap();
        assert_eq!(cur, again);
        // Disabling locks the shadow entry and flags Samba.
        let login = w.users[0].login.clone();
        store
            .write(|tx| directory::set_status(tx, &login, Status::Disabled, None))
            .unwrap();
        let w = Wanted::load(store.conn(), &s).unwrap();
        let (_, after) = databases(&host, &w, &s).unwrap();
        assert!(
            after.shadow.contains(&format!("{login}:!*::::::1:\n")),
            "{}",
            after.shadow
        );
        let pdb = format!(
            "{login}:{}:XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX:{}:[UX         ]:LCT-00000000:\n",
            w.users[0].uid.unwrap(),
            w.nt_hashes[&login]
        );
        host.seed(&s.samba_passdb, b"tdb");
        host.respond(
            "pdbedit",
            Output {
                status: 0,
                stdout: pdb.into_bytes(),
                stderr: Vec::new(),
            },
        );
        let c = samba_change(&host, &w, &s, Path::new("/var/lib/preau"))
            .unwrap()
            .unwrap();
        assert!(c.entries.contains("[DUX        ]"), "{}", c.entries);
        assert_eq!(c.changed, 1);
    }

    /// The whole projection applied on a recording host (no root): the
    /// shadow lock, the four files, the homes by numeric owner.
    #[test]
    fn projection_applies_through_the_host() {
        let (_d, store) = school_store();
        let s = AccountsSettings {
            samba: false,
            ..Default::default()
        };
        let host = RecordingHost::new();
        let w = Wanted::load(store.conn(), &s).unwrap();
        let first_plan = crate::engine::Plan::of(
            "accounts",
            plan(&host, &w, &s, Path::new("/var/lib/preau")).unwrap(),
        );
        let report = crate::engine::apply(&host, &first_plan);
        assert!(report.ok, "{}", report.render());
        let log = host.log();
        let at = |prefix: &str| log.iter().position(|l| l.starts_with(prefix));
        assert!(at("lock /etc/.pwd.lock") < at("write /etc/group"), "{log:?}");
        assert!(at("lock /etc/.pwd.lock").is_some(), "{log:?}");
        assert!(
            log.iter()
                .any(|l| l.starts_with("write /etc/passwd 644 root:root")),
            "{log:?}"
        );
        let first = &w.users[0];
        let home = format!(
            "mkdir {} 700 {}:{}",
            home_of(&s, &first.login),
            first.uid.unwrap(),
            role_gid(&s, first.kind)
        );
        assert!(log.contains(&home), "{home} not in {log:?}");
        assert!(!host.locked("/etc/.pwd.lock"), "released");
        let again = plan_again(&host, &w, &s);
        assert!(again.is_empty(), "{again:?}");
    }

    /// Regression (issue 15): the folders of people who left were never
    /// deleted. Once the directory's retention ended, the plan shows
    /// their removal (and their account's) beforehand and apply removes
    /// them through the host.
    #[test]
    fn folders_of_people_past_the_retention_are_removed_by_a_planned_change() {
        let (_d, mut store) = school_store();
        let s = AccountsSettings {
            samba: false,
            ..Default::default()
        };
        let host = RecordingHost::new();
        let w = Wanted::load(store.conn(), &s).unwrap();
        let report = crate::engine::apply(
            &host,
            &crate::engine::Plan::of(
                "accounts",
                plan(&host, &w, &s, Path::new("/var/lib/preau")).unwrap(),
            ),
        );
        assert!(report.ok, "{}", report.render());
        let (left, waiting) = (w.users[0].login.clone(), w.users[1].login.clone());
        let home = home_of(&s, &left);
        host.seed(&format!("{home}/devoir.odt"), b"work");
        store
            .write(|tx| {
                directory::set_status(tx, &left, Status::Deleting, Some("2000-01-01"))?;
                directory::set_status(tx, &waiting, Status::Deleting, Some("2999-01-01"))
            })
            .unwrap();
        host.clear_log();
        let w = Wanted::load(store.conn(), &s).unwrap();
        let second = crate::engine::Plan::of(
            "accounts",
            plan(&host, &w, &s, Path::new("/var/lib/preau")).unwrap(),
        );
        let text = second.render();
        assert!(
            text.contains("- remove 1 home folder(s) of people who left (retention ended; cannot be undone)"),
            "{text}"
        );
        assert!(
            text.contains(&format!("- {left} {home} (deletion due 2000-01-01)")),
            "{text}"
        );
        assert!(text.contains(&format!("- user {left}")), "{text}");
        assert!(
            !text.contains(&format!("- {waiting} ")),
            "still within the retention: {text}"
        );
        let report = crate::engine::apply(&host, &second);
        assert!(report.ok, "{}", report.render());
        assert!(
            host.log().contains(&format!("remove dir {home}")),
            "{:?}",
            host.log()
        );
        assert!(!host.exists(&home) && !host.exists(&format!("{home}/devoir.odt")));
        assert!(host.exists(&home_of(&s, &waiting)), "the other folder stays");
        let again = plan_again(&host, &w, &s);
        assert!(again.is_empty(), "{again:?}");
    }

    fn plan_again(host: &RecordingHost, w: &Wanted, s: &AccountsSettings) -> Vec<String> {
        plan(host, w, s, Path::new("/var/lib/preau"))
            .unwrap()
            .iter()
            .map(|c| c.summary())
            .collect()
    }

    /// Regression (issue 15): the shares give rights to `direction` and
    /// `admins`, which nothing created.
    #[test]
    fn direction_and_admins_groups_are_made_with_their_members() {
        let (_d, store) = school_store();
        let mut s = AccountsSettings::default();
        let teacher = directory::people(
            store.conn(),
            &directory::Filter {
                kind: Some(Kind::Teacher),
                ..Default::default()
            },
        )
        .unwrap()[0]
            .login
            .clone();
        s.admins = vec![teacher.clone(), "nobody.here".into()];
        let w = Wanted::load(store.conn(), &s).unwrap();
        let host = RecordingHost::new();
        let (_, wanted) = databases(&host, &w, &s).unwrap();
        assert!(
            wanted.group.contains("\ndirection:x:10003:claire.principal\n"),
            "{}",
            wanted.group
        );
        assert!(
            wanted.group.contains(&format!("\nadmins:x:10004:{teacher}\n")),
            "{}",
            wanted.group
        );
        assert!(wanted.gshadow.contains(&format!("\nadmins:!::{teacher}\n")));
        // An empty directory still makes the five role groups.
        let (_, empty) = databases(&host, &Wanted::empty(&s), &s).unwrap();
        for g in ["eleves", "profs", "personnels", "direction", "admins"] {
            assert!(empty.group.contains(&format!("\n{g}:x:")), "{g}: {}", empty.group);
        }
    }

    /// Regression (issue 15): a running nscd or sssd kept answering with
    /// the users and groups of before the rewrite.
    #[test]
    fn running_name_caches_are_invalidated_after_the_account_files() {
        let (_d, store) = school_store();
        let s = AccountsSettings::default();
        let w = Wanted::load(store.conn(), &s).unwrap();
        let host = RecordingHost::new();
        host.respond("pdbedit", Output::default());
        let summaries = |host: &RecordingHost| -> Vec<String> {
            plan(host, &w, &s, Path::new("/var/lib/preau"))
                .unwrap()
                .iter()
                .map(|c| c.summary())
                .collect()
        };
        assert!(
            !summaries(&host)
                .iter()
                .any(|c| c.contains("nscd") || c.contains("sss_cache"))
        );
        host.seed("/run/nscd/socket", b"");
        host.seed("/var/lib/sss/pipes/nss", b"");
        let got = summaries(&host);
        let at = got.iter().position(|c| c.contains("write /etc/passwd")).unwrap();
        assert_eq!(
            &got[at + 1..at + 4],
            [
                "! run `nscd --invalidate passwd` (nscd caches passwd entries)",
                "! run `nscd --invalidate group` (nscd caches group entries)",
                "! run `sss_cache -E` (sssd caches users and groups)",
            ]
        );
    }

    #[test]
    fn a_foreign_user_in_the_range_is_a_conflict() {
        let (_d, store) = school_store();
        let s = AccountsSettings::default();
        let w = Wanted::load(store.conn(), &s).unwrap();
        let host = RecordingHost::new();
        let uid = w.users[0].uid.unwrap();
        host.seed(
            "/etc/passwd",
            format!("root:x:0:0::/root:/bin/sh\nintrus:x:{uid}:100::/:/bin/sh\n").as_bytes(),
        );
        let e = databases(&host, &w, &s).unwrap_err();
        assert!(e.to_string().contains("user `intrus` already uses id"), "{e}");
    }
}
