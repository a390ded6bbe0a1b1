//! The host layer: the only code that touches the machine.
//!
//! Every file read or written, every command run, every ownership lookup
//! goes through a [`Host`]. [`RealHost`] does it for real, with every
//! absolute path mapped under a root directory (`--root DIR`; `/` on a live
//! server); [`RecordingHost`] keeps files in memory and records what was
//! asked, for unit tests of plans and applies.
//!
//! Commands are always an argv (never a shell string); secrets are passed
//! on standard input and never appear in an argv or a log.

pub mod nft;
mod real;
mod recording;

pub use real::RealHost;
pub use recording::RecordingHost;

use std::fmt;
use std::path::{Path, PathBuf};

/// What is known of a file or directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileMeta {
    pub is_dir: bool,
    /// Permission bits (`0o7777` mask).
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Owner and group of a file, by name (resolved through the root's
/// `/etc/passwd` and `/etc/group`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Owner {
    pub user: String,
    pub group: String,
}

impl Owner {
    pub fn new(user: &str, group: &str) -> Self {
        Self {
            user: user.into(),
            group: group.into(),
        }
    }

    /// An owner by numeric ids (`#1234`), for files whose accounts may
    /// not exist yet (a restore before `preau apply`).
    pub fn ids(uid: u32, gid: u32) -> Self {
        Self {
            user: format!("#{uid}"),
            group: format!("#{gid}"),
        }
    }

    pub fn root() -> Self {
        Self::new("root", "root")
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.user, self.group)
    }
}

/// A command to run: program and arguments, optional standard input.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub argv: Vec<String>,
    /// Fed to the command's standard input; may hold secrets, so never
    /// printed (see the `Debug` impl).
    pub stdin: Option<Vec<u8>>,
}

impl Command {
    pub fn new<I, S>(argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            argv: argv.into_iter().map(Into::into).collect(),
            stdin: None,
        }
    }

    pub fn stdin(mut self, input: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(input.into());
        self
    }

    /// The argv as a person would type it (for plans and errors).
    pub fn display(&self) -> String {
        self.argv
            .iter()
            .map(|a| {
                if a.is_empty() || a.contains(|c: char| c.is_whitespace() || "'\"$\\".contains(c)) {
                    format!("'{}'", a.replace('\'', "'\\''"))
                } else {
                    a.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Command({})", self.display())?;
        if let Some(input) = &self.stdin {
            write!(f, " <stdin: {} bytes hidden>", input.len())?;
        }
        Ok(())
    }
}

/// What a finished command said.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub status: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

/// A host operation that failed, with what was being done.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("{action} {path}: {cause}")]
    Io {
        action: &'static str,
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot run `{command}`: {cause}{}", hint_for_missing(.cause))]
    Spawn { command: String, cause: std::io::Error },
    #[error("`{command}` failed with status {status}: {stderr}")]
    Failed {
        command: String,
        status: i32,
        stderr: String,
    },
    #[error(
        "no user named `{0}` on this system\n    help: create it first, or apply the module that creates it"
    )]
    NoSuchUser(String),
    #[error(
        "no group named `{0}` on this system\n    help: create it first, or apply the module that creates it"
    )]
    NoSuchGroup(String),
    #[error("{0} is not an absolute path")]
    RelativePath(PathBuf),
    #[error("{} is locked by another process", .0.display())]
    Busy(PathBuf),
    /// A value a typed call refuses before running anything.
    #[error("{0}")]
    Invalid(String),
}

/// Whether [`Host::lock`] waits for the lock or fails at once when
/// another process holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockWait {
    Wait,
    NoWait,
}

/// Which kind of lock [`Host::lock`] takes on the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockKind {
    /// `flock`: Préau's own locks (apply sessions, firewall decisions).
    Flock,
    /// A POSIX record lock over the whole file (open-file-description
    /// lock, which conflicts with the classic ones): the lock the
    /// shadow-utils take on `/etc/.pwd.lock` (`lckpwdf`), so that
    /// `useradd` and Préau never rewrite the account files at once.
    Record,
}

/// An exclusive lock on a file, held until dropped.
pub struct FileLock {
    _held: Box<dyn std::any::Any + Send>,
}

impl FileLock {
    pub fn new(held: impl std::any::Any + Send) -> FileLock {
        FileLock {
            _held: Box::new(held),
        }
    }
}

impl fmt::Debug for FileLock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileLock")
    }
}

fn hint_for_missing(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::NotFound {
        "\n    help: the program is not installed; `preau check` lists the Debian packages each module needs"
    } else {
        ""
    }
}

/// Everything Préau does to the machine.
pub trait Host: Send + Sync {
    /// The root every absolute path is mapped under (`/` on a live server).
    fn root(&self) -> &Path;

    /// Whether this host is the running system (root `/`): only then are
    /// services reloaded and live state (hostname, rulesets) changed.
    fn is_live(&self) -> bool {
        self.root() == Path::new("/")
    }

    /// Whether systemd manages this running system (the `sd_booted` test:
    /// `/run/systemd/system` exists). In a container, a chroot, an image
    /// build or a rescue shell it does not: services cannot be reloaded
    /// there, and unit files take effect at the next boot.
    fn systemd_running(&self) -> bool {
        self.is_live() && matches!(self.meta(Path::new("/run/systemd/system")), Ok(Some(m)) if m.is_dir)
    }

    /// The real path of an absolute host path.
    fn real_path(&self, path: &Path) -> PathBuf {
        map_under(self.root(), path)
    }

    /// A file's contents; `None` if it does not exist.
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, HostError>;

    /// A file's metadata (not following a final symlink); `None` if absent.
    fn meta(&self, path: &Path) -> Result<Option<FileMeta>, HostError>;

    /// Writes a file atomically (temporary file, fsync, rename) with the
    /// given mode and owner; missing parent directories are created.
    fn write_file(&self, path: &Path, contents: &[u8], mode: u32, owner: &Owner) -> Result<(), HostError>;

    /// Creates a directory (and missing parents, as root-owned 0755) and
    /// sets its mode and owner.
    fn create_dir(&self, path: &Path, mode: u32, owner: &Owner) -> Result<(), HostError>;

    /// Sets mode and owner of an existing file or directory.
    fn set_meta(&self, path: &Path, mode: u32, owner: &Owner) -> Result<(), HostError>;

    /// Removes a file (not a directory); absent is fine.
    fn remove_file(&self, path: &Path) -> Result<(), HostError>;

    /// Removes a directory and everything in it, never following a
    /// symbolic link out of it; absent is fine.
    fn remove_dir_all(&self, path: &Path) -> Result<(), HostError>;

    /// Takes an exclusive lock on `path` (created if missing, 0600): held
    /// until the returned guard is dropped. The one lock of the code base
    /// (apply sessions, firewall decisions). With [`LockWait::NoWait`] a
    /// lock held elsewhere is [`HostError::Busy`]; any failure to lock is
    /// an error, never a silent carry-on.
    fn lock(&self, path: &Path, kind: LockKind, wait: LockWait) -> Result<FileLock, HostError>;

    /// Creates a directory (its parent must exist) owned by numeric ids,
    /// without looking names up: for thousands of home directories whose
    /// users were just written. An existing directory gets the mode and
    /// owner.
    fn create_dir_owned(&self, path: &Path, mode: u32, uid: u32, gid: u32) -> Result<(), HostError>;

    /// Puts a new directory tree (files by relative path; directories
    /// 0755, files 0644, owned by the running process) in place of `path`
    /// at once: written and synced beside it, then swapped in by renames,
    /// the old tree removed. On failure `path` stays as it was.
    fn replace_dir(
        &self,
        path: &Path,
        files: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    ) -> Result<(), HostError>;

    /// Flushes a file written by a program to the disk (`fsync`).
    fn sync(&self, path: &Path) -> Result<(), HostError>;

    /// Starts a program in its own process group that outlives Préau
    /// (standard streams closed): the firewall's confirm timer where
    /// systemd does not run.
    fn spawn_detached(&self, command: &Command) -> Result<(), HostError>;

    /// Runs a command and returns its output whatever its status.
    fn run(&self, command: &Command) -> Result<Output, HostError>;

    /// Runs a command and fails unless it exits 0.
    fn run_ok(&self, command: &Command) -> Result<Output, HostError> {
        let out = self.run(command)?;
        if out.success() {
            Ok(out)
        } else {
            Err(HostError::Failed {
                command: command.display(),
                status: out.status,
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            })
        }
    }

    /// The uid of a user in the root's `/etc/passwd`.
    fn user_id(&self, name: &str) -> Result<Option<u32>, HostError> {
        if let Some(id) = name.strip_prefix('#') {
            return Ok(id.parse().ok());
        }
        let found = id_from_db(&self.read(Path::new("/etc/passwd"))?, name);
        // root is uid 0 on every Linux, even in a root directory that has
        // no account database yet (`--root` on an empty directory).
        Ok(found.or_else(|| (name == "root").then_some(0)))
    }

    /// The gid of a group in the root's `/etc/group`.
    fn group_id(&self, name: &str) -> Result<Option<u32>, HostError> {
        if let Some(id) = name.strip_prefix('#') {
            return Ok(id.parse().ok());
        }
        let found = id_from_db(&self.read(Path::new("/etc/group"))?, name);
        Ok(found.or_else(|| (name == "root").then_some(0)))
    }

    /// Both ids of an owner, or an error naming what is missing.
    fn owner_ids(&self, owner: &Owner) -> Result<(u32, u32), HostError> {
        let uid = self
            .user_id(&owner.user)?
            .ok_or_else(|| HostError::NoSuchUser(owner.user.clone()))?;
        let gid = self
            .group_id(&owner.group)?
            .ok_or_else(|| HostError::NoSuchGroup(owner.group.clone()))?;
        Ok((uid, gid))
    }
}

/// `root` + `path`, for an absolute `path`. Never escapes `root`: `..`
/// components are dropped.
pub fn map_under(root: &Path, path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = root.to_path_buf();
    for c in path.components() {
        if let Component::Normal(part) = c {
            out.push(part);
        }
    }
    out
}

/// Looks a name up in a passwd/group-format database (`name:x:id:...`).
pub fn id_from_db(db: &Option<Vec<u8>>, name: &str) -> Option<u32> {
    let text = String::from_utf8_lossy(db.as_deref()?);
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 3 && f[0] == name)
        .and_then(|f| f[2].parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_under_root() {
        assert_eq!(
            map_under(Path::new("/tmp/x"), Path::new("/etc/../../etc/preau")),
            PathBuf::from("/tmp/x/etc/etc/preau")
        );
        assert_eq!(
            map_under(Path::new("/"), Path::new("/etc/passwd")),
            PathBuf::from("/etc/passwd")
        );
    }

    #[test]
    fn command_display_quotes_and_hides_stdin() {
        let c = Command::new(["smbpasswd", "-s", "a b"]).stdin("secret");
        assert_eq!(c.display(), "smbpasswd -s 'a b'");
        assert_eq!(
            format!("{c:?}"),
            "Command(smbpasswd -s 'a b') <stdin: 6 bytes hidden>"
        );
    }

    #[test]
    fn passwd_lookup() {
        let db = Some(b"root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/h:/bin/sh\nbroken\n".to_vec());
        assert_eq!(id_from_db(&db, "alice"), Some(1000));
        assert_eq!(id_from_db(&db, "bob"), None);
        assert_eq!(id_from_db(&None, "root"), None);
    }
}
