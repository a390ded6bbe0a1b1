//! Homework hand-out, collection and return.
//!
//! - `distribute`: the teacher's files go into `perso/<student>/devoirs/<name>/`
//!   of every student of a class or group; a student's copy that already
//!   exists is never overwritten (running twice copies nothing new);
//! - `collect`: each student's current `devoirs/<name>/` comes into
//!   `perso/<teacher>/devoirs/ramasses/<name>/<student>/`;
//! - `return`: the corrected `ramasses/<name>/<student>/` goes back into
//!   the student's `devoirs/<name>/corrige/`.
//!
//! Collection and return copy a file when the destination lacks it or
//! holds an older version, so a teacher's corrections are never replaced
//! by an unchanged student file, and running twice changes nothing.
//!
//! Safety: every file is read with the file-system identity of its owner
//! and written with the identity of the receiver (`setfsuid`/`setfsgid`,
//! per thread), so a planted symbolic link can never make Préau read or
//! write anything the person could not. Files are created by the receiver
//! (right owner) with mode 0600, folders 0700; contents move with
//! `copy_file_range` (in-kernel copy), students in parallel.
//!
//! This is bulk data work, done here with the file system directly under
//! the host's root rather than through the `Host` trait, which has no
//! tree copy.

use super::layout::safe_login;
use super::settings::SharesSettings;
use crate::host::Host;
use serde::Serialize;
use std::fs::File;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

/// The three operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Distribute,
    Collect,
    Return,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Distribute => "distribute",
            Action::Collect => "collect",
            Action::Return => "return",
        }
    }
}

/// Why a homework operation could not start.
#[derive(Debug, thiserror::Error)]
pub enum HomeworkError {
    #[error(
        "\"{0}\" is not a homework name\n    help: use letters, digits, '-', '_' or '.', at most 64 characters, not starting with '.'; \"ramasses\" is reserved"
    )]
    BadName(String),
    #[error(
        "no Unix account `{0}` on this system\n    help: apply the accounts module first (`preau apply`)"
    )]
    NoAccount(String),
    #[error(
        "nothing to distribute: {0} does not exist\n    help: put the files in the teacher's `devoirs/<name>` folder or give --from PATH"
    )]
    NoSource(PathBuf),
    #[error("cannot read {path}: {cause}")]
    Read { path: PathBuf, cause: io::Error },
}

/// Whether `name` can name a homework folder.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name != "ramasses"
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// A Unix account: uid and primary gid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub gid: u32,
}

/// Looks accounts up in the host's `/etc/passwd`.
pub fn account(host: &dyn Host, login: &str) -> Result<Account, HomeworkError> {
    let text = host
        .read(Path::new("/etc/passwd"))
        .ok()
        .flatten()
        .unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 4 && f[0] == login)
        .and_then(|f| {
            Some(Account {
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
            })
        })
        .ok_or_else(|| HomeworkError::NoAccount(login.into()))
}

/// Runs `f` with the file-system identity of `who` on this thread.
fn as_user<T>(who: Account, f: impl FnOnce() -> T) -> T {
    use nix::unistd::{Gid, Uid, setfsgid, setfsuid};
    let old_gid = setfsgid(Gid::from_raw(who.gid));
    let old_uid = setfsuid(Uid::from_raw(who.uid));
    let out = f();
    setfsuid(old_uid);
    setfsgid(old_gid);
    out
}

/// One entry of a tree being copied.
enum Item {
    Dir(PathBuf),
    File {
        rel: PathBuf,
        file: File,
        len: u64,
        modified: SystemTime,
    },
}

/// Opens everything under `src` (a file or a folder); symbolic links and
/// special files are skipped.
fn gather(src: &Path) -> io::Result<Vec<Item>> {
    let mut items = Vec::new();
    let meta = src.symlink_metadata()?;
    if meta.is_file() {
        let name = PathBuf::from(src.file_name().unwrap_or_default());
        items.push(open_item(src, name)?);
        return Ok(items);
    }
    if !meta.is_dir() {
        return Ok(items);
    }
    fn walk(base: &Path, rel: &Path, items: &mut Vec<Item>) -> io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(base.join(rel))?.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let r = rel.join(e.file_name());
            let ty = e.file_type()?;
            if ty.is_dir() {
                items.push(Item::Dir(r.clone()));
                walk(base, &r, items)?;
            } else if ty.is_file() {
                items.push(open_item(&base.join(&r), r)?);
            }
        }
        Ok(())
    }
    walk(src, Path::new(""), &mut items)?;
    Ok(items)
}

fn open_item(path: &Path, rel: PathBuf) -> io::Result<Item> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)?;
    let m = file.metadata()?;
    Ok(Item::File {
        rel,
        file,
        len: m.len(),
        modified: m.modified()?,
    })
}

/// How existing destination files are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Overwrite {
    Never,
    IfOlder,
}

/// Copies gathered items under `dst` (created as needed); returns files
/// copied, skipped and bytes copied.
fn put(items: &[Item], dst: &Path, rule: Overwrite) -> io::Result<(u64, u64, u64)> {
    let (mut copied, mut skipped, mut bytes) = (0, 0, 0);
    mkdirs(dst)?;
    for item in items {
        match item {
            Item::Dir(rel) => mkdir(&dst.join(rel))?,
            Item::File {
                rel,
                file,
                len,
                modified,
            } => {
                let target = dst.join(rel);
                if let Ok(m) = target.symlink_metadata() {
                    let older = m.is_file() && m.modified().map(|t| t < *modified).unwrap_or(true);
                    if rule == Overwrite::Never || !older {
                        skipped += 1;
                        continue;
                    }
                    if !m.is_file() {
                        skipped += 1;
                        continue;
                    }
                }
                let out = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .custom_flags(nix::libc::O_NOFOLLOW)
                    .open(&target)?;
                copy_range(file, &out, *len)?;
                out.set_permissions(std::fs::Permissions::from_mode(0o600))?;
                out.set_modified(*modified)?;
                copied += 1;
                bytes += len;
            }
        }
    }
    Ok((copied, skipped, bytes))
}

/// In-kernel copy of `len` bytes from the start of `src`.
fn copy_range(src: &File, dst: &File, len: u64) -> io::Result<()> {
    let mut off_in: i64 = 0;
    let mut left = len;
    while left > 0 {
        use std::os::fd::AsRawFd;
        // SAFETY: both descriptors are open for the duration of the call
        // and `off_in` is a valid, exclusively borrowed offset.
        let n = unsafe {
            nix::libc::copy_file_range(
                src.as_raw_fd(),
                &mut off_in,
                dst.as_raw_fd(),
                std::ptr::null_mut(),
                left.min(1 << 30) as usize,
                0,
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                // Not supported here (other filesystem, old kernel): plain copy.
                Some(nix::libc::EXDEV | nix::libc::ENOSYS | nix::libc::EINVAL | nix::libc::EOPNOTSUPP) => {
                    copy_plain(src, dst, off_in as u64, left)
                }
                _ => Err(e),
            };
        }
        if n == 0 {
            break; // the source shrank meanwhile
        }
        left -= n as u64;
    }
    Ok(())
}

fn copy_plain(src: &File, mut dst: &File, mut offset: u64, mut left: u64) -> io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = src.read_at(&mut buf[..left.min(1 << 20) as usize], offset)?;
        if n == 0 {
            break;
        }
        dst.write_all(&buf[..n])?;
        offset += n as u64;
        left -= n as u64;
    }
    Ok(())
}

fn mkdir(p: &Path) -> io::Result<()> {
    match std::fs::DirBuilder::new().mode(0o700).create(p) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if p.symlink_metadata()?.is_dir() {
                Ok(())
            } else {
                Err(io::Error::other(format!(
                    "{} exists and is not a folder",
                    p.display()
                )))
            }
        }
        other => other,
    }
}

fn mkdirs(p: &Path) -> io::Result<()> {
    if p.symlink_metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Ok(());
    }
    if let Some(parent) = p.parent() {
        mkdirs(parent)?;
    }
    mkdir(p)
}

/// What happened for one student.
#[derive(Debug, Clone, Serialize)]
pub struct StudentOutcome {
    pub login: String,
    pub copied: u64,
    pub skipped: u64,
    pub bytes: u64,
    pub error: Option<String>,
}

/// What a homework operation did.
#[derive(Debug, Clone, Serialize)]
pub struct HomeworkReport {
    pub action: Action,
    pub name: String,
    pub teacher: String,
    pub target: String,
    pub students: Vec<StudentOutcome>,
    pub copied: u64,
    pub skipped: u64,
    pub bytes: u64,
    pub failed: usize,
    pub duration_ms: u64,
}

impl HomeworkReport {
    pub fn render(&self) -> String {
        let verb = match self.action {
            Action::Distribute => "Distributed",
            Action::Collect => "Collected",
            Action::Return => "Returned",
        };
        let mut out = format!(
            "{verb} \"{}\" ({} of {}, {} student(s)): {} file(s) copied ({}), {} already there, in {} ms.\n",
            self.name,
            self.teacher,
            self.target,
            self.students.len(),
            self.copied,
            super::usage::human(self.bytes),
            self.skipped,
            self.duration_ms
        );
        for s in &self.students {
            if let Some(e) = &s.error {
                out.push_str(&format!("  FAILED {}: {e}\n", s.login));
            }
        }
        out
    }
}

/// The work of one operation, resolved to real paths.
pub struct Job<'a> {
    pub host: &'a dyn Host,
    pub settings: &'a SharesSettings,
    pub teacher: &'a str,
    /// Class or group code, for the report.
    pub target: &'a str,
    pub students: &'a [String],
    pub name: &'a str,
}

impl Job<'_> {
    fn perso(&self, login: &str) -> PathBuf {
        self.host.real_path(&super::layout::perso(self.settings, login))
    }

    fn check(&self) -> Result<Account, HomeworkError> {
        if !valid_name(self.name) {
            return Err(HomeworkError::BadName(self.name.into()));
        }
        if !safe_login(self.teacher) {
            return Err(HomeworkError::NoAccount(self.teacher.into()));
        }
        account(self.host, self.teacher)
    }

    /// Runs `one` for every student, a few in parallel.
    fn each(
        &self,
        action: Action,
        started: Instant,
        one: impl Fn(&str, Account) -> io::Result<(u64, u64, u64)> + Sync,
    ) -> HomeworkReport {
        let threads = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            .clamp(2, 8);
        let chunk = self.students.len().div_ceil(threads).max(1);
        let outcomes: Vec<StudentOutcome> = std::thread::scope(|scope| {
            let handles: Vec<_> = self
                .students
                .chunks(chunk)
                .map(|logins| {
                    let one = &one;
                    scope.spawn(move || {
                        logins
                            .iter()
                            .map(|login| {
                                let result = if safe_login(login) {
                                    account(self.host, login)
                                        .map_err(|e| e.to_string())
                                        .and_then(|acc| one(login, acc).map_err(|e| e.to_string()))
                                } else {
                                    Err("not a valid login".into())
                                };
                                match result {
                                    Ok((copied, skipped, bytes)) => StudentOutcome {
                                        login: login.clone(),
                                        copied,
                                        skipped,
                                        bytes,
                                        error: None,
                                    },
                                    Err(e) => StudentOutcome {
                                        login: login.clone(),
                                        copied: 0,
                                        skipped: 0,
                                        bytes: 0,
                                        error: Some(e),
                                    },
                                }
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        HomeworkReport {
            action,
            name: self.name.into(),
            teacher: self.teacher.into(),
            target: self.target.into(),
            copied: outcomes.iter().map(|o| o.copied).sum(),
            skipped: outcomes.iter().map(|o| o.skipped).sum(),
            bytes: outcomes.iter().map(|o| o.bytes).sum(),
            failed: outcomes.iter().filter(|o| o.error.is_some()).count(),
            students: outcomes,
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }

    /// Copies `source` (a host path; default the teacher's
    /// `devoirs/<name>`) to every student.
    pub fn distribute(&self, source: Option<&Path>) -> Result<HomeworkReport, HomeworkError> {
        let started = Instant::now();
        let teacher = self.check()?;
        let src = match source {
            Some(p) => self.host.real_path(p),
            None => self.perso(self.teacher).join("devoirs").join(self.name),
        };
        // Read as the teacher: only what the teacher may read goes out.
        let items = as_user(teacher, || gather(&src)).map_err(|cause| {
            if cause.kind() == io::ErrorKind::NotFound {
                HomeworkError::NoSource(src.clone())
            } else {
                HomeworkError::Read {
                    path: src.clone(),
                    cause,
                }
            }
        })?;
        Ok(self.each(Action::Distribute, started, |login, student| {
            let home = self.perso(login);
            if !home.is_dir() {
                return Err(io::Error::other(format!(
                    "no personal folder {} (run `preau apply shares`)",
                    home.display()
                )));
            }
            as_user(student, || {
                put(&items, &home.join("devoirs").join(self.name), Overwrite::Never)
            })
        }))
    }

    /// Gathers each student's current copy into the teacher's folder.
    pub fn collect(&self) -> Result<HomeworkReport, HomeworkError> {
        let started = Instant::now();
        let teacher = self.check()?;
        let base = self.perso(self.teacher).join("devoirs/ramasses").join(self.name);
        Ok(self.each(Action::Collect, started, |login, student| {
            let src = self.perso(login).join("devoirs").join(self.name);
            let items = match as_user(student, || gather(&src)) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                other => other?,
            };
            as_user(teacher, || put(&items, &base.join(login), Overwrite::IfOlder))
        }))
    }

    /// Gives the teacher's corrected copies back, into `devoirs/<name>/corrige/`.
    pub fn give_back(&self) -> Result<HomeworkReport, HomeworkError> {
        let started = Instant::now();
        let teacher = self.check()?;
        let base = self.perso(self.teacher).join("devoirs/ramasses").join(self.name);
        Ok(self.each(Action::Return, started, |login, student| {
            let items = match as_user(teacher, || gather(&base.join(login))) {
                Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
                other => other?,
            };
            let dst = self.perso(login).join("devoirs").join(self.name).join("corrige");
            as_user(student, || put(&items, &dst, Overwrite::IfOlder))
        }))
    }
}

/// Records an operation in the store (one row per teacher, name and
/// target; later operations update it).
pub fn record(tx: &rusqlite::Transaction<'_>, r: &HomeworkReport) -> rusqlite::Result<()> {
    let column = match r.action {
        Action::Distribute => "distributed_at",
        Action::Collect => "collected_at",
        Action::Return => "returned_at",
    };
    tx.execute(
        &format!(
            "INSERT INTO share_homework (teacher, name, target, students, files, bytes, {column})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
             ON CONFLICT (teacher, name, target) DO UPDATE SET
                 {column} = excluded.{column},
                 students = CASE WHEN ?7 THEN excluded.students ELSE students END,
                 files = CASE WHEN ?7 THEN excluded.files ELSE files END,
                 bytes = CASE WHEN ?7 THEN excluded.bytes ELSE bytes END"
        ),
        rusqlite::params![
            r.teacher,
            r.name,
            r.target,
            r.students.len() as i64,
            (r.copied + r.skipped) as i64,
            r.bytes as i64,
            r.action == Action::Distribute
        ],
    )?;
    Ok(())
}

/// One recorded hand-out.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub teacher: String,
    pub name: String,
    pub target: String,
    pub students: i64,
    pub files: i64,
    pub bytes: i64,
    pub distributed_at: Option<String>,
    pub collected_at: Option<String>,
    pub returned_at: Option<String>,
}

/// Every recorded hand-out, newest first.
pub fn records(conn: &rusqlite::Connection) -> rusqlite::Result<Vec<Record>> {
    let mut stmt = conn.prepare(
        "SELECT teacher, name, target, students, files, bytes, distributed_at, collected_at, returned_at
         FROM share_homework ORDER BY COALESCE(distributed_at, collected_at, returned_at) DESC, teacher, name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Record {
            teacher: r.get(0)?,
            name: r.get(1)?,
            target: r.get(2)?,
            students: r.get(3)?,
            files: r.get(4)?,
            bytes: r.get(5)?,
            distributed_at: r.get(6)?,
            collected_at: r.get(7)?,
            returned_at: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// Why a homework run for a teacher and a class could not happen.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(
        "no class or group \"{0}\" in the directory\n    help: `preau accounts list` shows the classes and groups"
    )]
    NoStructure(String),
    #[error(
        "{teacher} does not teach {code} (no teaching service from STS-web)\n    help: check the teacher's login and the class code; services come from the STS-web import"
    )]
    NotTeacher { teacher: String, code: String },
    #[error(transparent)]
    Homework(#[from] HomeworkError),
    #[error("{0:#}")]
    Other(anyhow::Error),
}

impl RunError {
    /// The same, for people (French), without host paths.
    pub fn french(&self) -> String {
        match self {
            RunError::NoStructure(c) => format!("Aucune classe ni aucun groupe « {c} »."),
            RunError::NotTeacher { code, .. } => format!("Vous n'enseignez pas en {code}."),
            RunError::Homework(HomeworkError::BadName(n)) => format!(
                "« {n} » ne peut pas nommer un devoir : lettres, chiffres, « - », « _ » ou « . », 64 caractères au plus, sans point au début ; « ramasses » est réservé."
            ),
            RunError::Homework(HomeworkError::NoAccount(l)) => format!(
                "Le compte {l} n'existe pas encore sur le serveur : l'administrateur doit appliquer les comptes."
            ),
            RunError::Homework(HomeworkError::NoSource(_)) => {
                "Rien à distribuer : le dossier du devoir est vide ou absent.".into()
            }
            RunError::Homework(HomeworkError::Read { .. }) => {
                "Les fichiers du devoir n'ont pas pu être lus.".into()
            }
            RunError::Other(_) => "Le serveur n'a pas pu faire l'opération ; voir son journal.".into(),
        }
    }
}

/// Hands out, collects or returns homework `name` of `teacher` for the
/// class or group `code`, and records it: what `preau shares
/// distribute|collect|return` and the classroom page both run.
#[allow(clippy::too_many_arguments)]
pub fn run_for(
    host: &dyn Host,
    settings: &SharesSettings,
    store: &mut crate::store::Store,
    teacher: &str,
    code: &str,
    name: &str,
    action: Action,
    from: Option<&Path>,
) -> Result<HomeworkReport, RunError> {
    let dir = super::source::load(store.conn()).map_err(|e| RunError::Other(e.into()))?;
    let structure = dir
        .structure(code)
        .ok_or_else(|| RunError::NoStructure(code.to_string()))?;
    if !structure.teachers.iter().any(|t| t == teacher) {
        return Err(RunError::NotTeacher {
            teacher: teacher.to_string(),
            code: structure.code.clone(),
        });
    }
    let job = Job {
        host,
        settings,
        teacher,
        target: &structure.code,
        students: &structure.students,
        name,
    };
    let report = match action {
        Action::Distribute => job.distribute(from)?,
        Action::Collect => job.collect()?,
        Action::Return => job.give_back()?,
    };
    store
        .write(|tx| record(tx, &report))
        .map_err(|e| RunError::Other(e.into()))?;
    Ok(report)
}

/// One uploaded file: its name (no folder) and contents.
#[derive(Debug, Clone)]
pub struct Upload {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Whether `name` can name an uploaded file (a plain name, no folder).
pub fn valid_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// Puts uploaded files into the teacher's `devoirs/<name>/`, written with
/// his identity (files 0600, folders 0700, links never followed); a file
/// of the same name is replaced. `distribute` then hands them out.
pub fn stage(
    host: &dyn Host,
    settings: &SharesSettings,
    teacher: &str,
    name: &str,
    files: &[Upload],
) -> Result<(), HomeworkError> {
    if !valid_name(name) {
        return Err(HomeworkError::BadName(name.into()));
    }
    if !safe_login(teacher) {
        return Err(HomeworkError::NoAccount(teacher.into()));
    }
    let who = account(host, teacher)?;
    let perso = host.real_path(&super::layout::perso(settings, teacher));
    let dst = perso.join("devoirs").join(name);
    as_user(who, || -> io::Result<()> {
        if !perso.is_dir() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no personal folder"));
        }
        mkdirs(&dst)?;
        for f in files {
            if !valid_file_name(&f.name) {
                return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad file name"));
            }
            let target = dst.join(&f.name);
            if target.symlink_metadata().is_ok_and(|m| !m.is_file()) {
                return Err(io::Error::other("not a file"));
            }
            use std::io::Write;
            let mut out = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .custom_flags(nix::libc::O_NOFOLLOW)
                .open(&target)?;
            out.write_all(&f.bytes)?;
            out.sync_all()?;
        }
        Ok(())
    })
    .map_err(|cause| HomeworkError::Read {
        path: dst.clone(),
        cause,
    })
}

/// Where a student's copy of a homework stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CopyState {
    /// No copy in the student's folder.
    NotHandedOut,
    /// The copy is as handed out.
    HandedOut,
    /// The student changed or added something since.
    Modified,
    /// The teacher collected it.
    Collected,
    /// The correction came back into `corrige/`.
    Returned,
}

impl CopyState {
    pub fn label_fr(self) -> &'static str {
        match self {
            CopyState::NotHandedOut => "pas distribué",
            CopyState::HandedOut => "distribué",
            CopyState::Modified => "modifié par l'élève",
            CopyState::Collected => "ramassé",
            CopyState::Returned => "rendu corrigé",
        }
    }
}

/// The state of a copy from what is on disk: the newest change in the
/// student's copy (its `corrige/` left out), the newest of the teacher's
/// source, and whether a collected copy and a returned correction exist.
pub fn copy_state(
    copy_newest: Option<SystemTime>,
    source_newest: Option<SystemTime>,
    collected: bool,
    returned: bool,
) -> CopyState {
    if returned {
        return CopyState::Returned;
    }
    if collected {
        return CopyState::Collected;
    }
    match (copy_newest, source_newest) {
        (None, _) => CopyState::NotHandedOut,
        (Some(c), Some(s)) if c > s => CopyState::Modified,
        (Some(_), None) => CopyState::Modified,
        _ => CopyState::HandedOut,
    }
}

/// The newest modification under `dir` (itself included when it is a
/// folder), links not followed, `skip` left out, at most 10 000 entries.
fn newest(dir: &Path, skip: Option<&Path>) -> Option<SystemTime> {
    let meta = dir.symlink_metadata().ok()?;
    if !meta.is_dir() {
        return None;
    }
    let mut best: Option<SystemTime> = None;
    let mut todo = vec![dir.to_path_buf()];
    let mut seen = 0;
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > 10_000 {
                return best;
            }
            let p = e.path();
            if Some(p.as_path()) == skip {
                continue;
            }
            let Ok(m) = p.symlink_metadata() else { continue };
            if m.is_dir() {
                todo.push(p);
            } else if let Ok(t) = m.modified() {
                best = Some(best.map_or(t, |b| b.max(t)));
            }
        }
    }
    best
}

/// Each student's copy of homework `name` of `teacher`, read from disk.
pub fn states(
    host: &dyn Host,
    settings: &SharesSettings,
    teacher: &str,
    name: &str,
    students: &[String],
) -> Vec<(String, CopyState)> {
    let perso = |login: &str| host.real_path(&super::layout::perso(settings, login));
    let source = newest(&perso(teacher).join("devoirs").join(name), None);
    let collected = perso(teacher).join("devoirs/ramasses").join(name);
    students
        .iter()
        .filter(|s| safe_login(s))
        .map(|s| {
            let copy = perso(s).join("devoirs").join(name);
            let corrige = copy.join("corrige");
            let state = copy_state(
                newest(&copy, Some(&corrige)).or_else(|| copy.is_dir().then_some(SystemTime::UNIX_EPOCH)),
                source,
                collected.join(s).symlink_metadata().is_ok_and(|m| m.is_dir()),
                corrige.symlink_metadata().is_ok_and(|m| m.is_dir()),
            );
            (s.clone(), state)
        })
        .collect()
}

/// Whether the file at `path` has owner `uid` and `mode` (tests, checks).
pub fn owned_as(path: &Path, uid: u32, mode: u32) -> bool {
    path.symlink_metadata()
        .map(|m| m.uid() == uid && m.mode() & 0o7777 == mode)
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RealHost;

    fn me() -> (String, Account) {
        let uid = nix::unistd::getuid().as_raw();
        let gid = nix::unistd::getgid().as_raw();
        let name = nix::unistd::User::from_uid(nix::unistd::getuid())
            .unwrap()
            .map(|u| u.name)
            .unwrap_or_else(|| "root".into());
        (name, Account { uid, gid })
    }

    #[test]
    fn names() {
        assert!(valid_name("dm-1_fractions"));
        assert!(!valid_name("../x"));
        assert!(!valid_name(".cache"));
        assert!(!valid_name("ramasses"));
        assert!(!valid_name(""));
    }

    /// Every person is the test user here (the sandboxed end-to-end test
    /// checks real owners); this checks the copying rules.
    #[test]
    fn distribute_collect_return_twice() {
        let tmp = tempfile::tempdir().unwrap();
        let (me, acc) = me();
        std::fs::create_dir_all(tmp.path().join("etc")).unwrap();
        let students = ["s1", "s2", "s3"];
        let mut passwd = format!("{me}:x:{}:{}::/:/bin/sh\n", acc.uid, acc.gid);
        for s in students.iter().chain(&["prof"]) {
            passwd.push_str(&format!("{s}:x:{}:{}::/:/bin/sh\n", acc.uid, acc.gid));
        }
        std::fs::write(tmp.path().join("etc/passwd"), passwd).unwrap();
        let host = RealHost::new(tmp.path());
        let s = SharesSettings::default();
        let perso = tmp.path().join("srv/preau/perso");
        for p in students.iter().chain(&["prof"]) {
            std::fs::create_dir_all(perso.join(p).join("devoirs")).unwrap();
        }
        let src = perso.join("prof/devoirs/dm1");
        std::fs::create_dir_all(src.join("annexes")).unwrap();
        std::fs::write(src.join("sujet.txt"), "Sujet\n").unwrap();
        std::fs::write(src.join("annexes/figure.txt"), "Figure\n").unwrap();
        std::os::unix::fs::symlink("/etc/shadow", src.join("piege")).unwrap();
        let list: Vec<String> = students.iter().map(|s| s.to_string()).collect();
        let job = Job {
            host: &host,
            settings: &s,
            teacher: "prof",
            target: "6A",
            students: &list,
            name: "dm1",
        };
        let r = job.distribute(None).unwrap();
        assert_eq!((r.copied, r.skipped, r.failed), (6, 0, 0), "{}", r.render());
        let copy = perso.join("s2/devoirs/dm1/sujet.txt");
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "Sujet\n");
        assert!(owned_as(&copy, acc.uid, 0o600));
        assert!(owned_as(&perso.join("s2/devoirs/dm1/annexes"), acc.uid, 0o700));
        assert!(!perso.join("s2/devoirs/dm1/piege").exists());
        // A student's work is never overwritten by a second hand-out.
        std::fs::write(&copy, "Ma réponse\n").unwrap();
        let r = job.distribute(None).unwrap();
        assert_eq!((r.copied, r.skipped), (0, 6));
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "Ma réponse\n");

        let r = job.collect().unwrap();
        assert_eq!(r.copied, 6, "{}", r.render());
        let got = perso.join("prof/devoirs/ramasses/dm1/s2/sujet.txt");
        assert_eq!(std::fs::read_to_string(&got).unwrap(), "Ma réponse\n");
        assert_eq!(job.collect().unwrap().copied, 0);
        // The teacher corrects; a new collection keeps the correction.
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&got, "Ma réponse\nCorrigé : bien.\n").unwrap();
        assert_eq!(job.collect().unwrap().copied, 0);
        let r = job.give_back().unwrap();
        assert_eq!(r.copied, 6);
        assert_eq!(
            std::fs::read_to_string(perso.join("s2/devoirs/dm1/corrige/sujet.txt")).unwrap(),
            "Ma réponse\nCorrigé : bien.\n"
        );
        assert_eq!(job.give_back().unwrap().copied, 0);
    }

    #[test]
    fn copy_states() {
        let t = |s: u64| Some(SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s));
        assert_eq!(copy_state(None, t(10), false, false), CopyState::NotHandedOut);
        assert_eq!(copy_state(t(10), t(10), false, false), CopyState::HandedOut);
        assert_eq!(copy_state(t(5), t(10), false, false), CopyState::HandedOut);
        assert_eq!(copy_state(t(11), t(10), false, false), CopyState::Modified);
        assert_eq!(copy_state(t(11), None, false, false), CopyState::Modified);
        assert_eq!(copy_state(t(11), t(10), true, false), CopyState::Collected);
        assert_eq!(copy_state(t(11), t(10), true, true), CopyState::Returned);
        assert_eq!(copy_state(None, t(10), false, true), CopyState::Returned);
    }

    #[test]
    fn file_names() {
        assert!(valid_file_name("sujet DM1.pdf"));
        for bad in ["", ".htaccess", "a/b", "a\\b", "../x", "a\nb"] {
            assert!(!valid_file_name(bad), "{bad:?}");
        }
        assert!(!valid_file_name(&"x".repeat(129)));
    }

    #[test]
    fn missing_source_and_home_are_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let (me, acc) = me();
        std::fs::create_dir_all(tmp.path().join("etc")).unwrap();
        std::fs::write(
            tmp.path().join("etc/passwd"),
            format!(
                "{me}:x:{}:{}::/:/bin/sh\nprof:x:{}:{}::/:/bin/sh\nghost:x:{}:{}::/:/bin/sh\n",
                acc.uid, acc.gid, acc.uid, acc.gid, acc.uid, acc.gid
            ),
        )
        .unwrap();
        let host = RealHost::new(tmp.path());
        let s = SharesSettings::default();
        let list = vec!["ghost".to_string(), "nobody".to_string()];
        let job = Job {
            host: &host,
            settings: &s,
            teacher: "prof",
            target: "6A",
            students: &list,
            name: "dm1",
        };
        assert!(matches!(job.distribute(None), Err(HomeworkError::NoSource(_))));
        let src = tmp.path().join("srv/preau/perso/prof/devoirs/dm1");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("a"), "a").unwrap();
        let r = job.distribute(None).unwrap();
        assert_eq!(r.failed, 2);
        assert!(
            r.render().contains("FAILED ghost: no personal folder"),
            "{}",
            r.render()
        );
        assert!(
            r.render().contains("FAILED nobody: no Unix account"),
            "{}",
            r.render()
        );
    }
}
