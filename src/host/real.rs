//! The real host: files under a root directory, commands run with argv.

use super::{Command, FileLock, FileMeta, Host, HostError, LockKind, LockWait, Output, Owner, map_under};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// The machine itself, every absolute path mapped under `root`.
#[derive(Debug, Clone)]
pub struct RealHost {
    root: PathBuf,
}

impl RealHost {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn map(&self, path: &Path) -> Result<PathBuf, HostError> {
        if !path.is_absolute() {
            return Err(HostError::RelativePath(path.to_path_buf()));
        }
        Ok(map_under(&self.root, path))
    }
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> HostError + 'a {
    move |cause| HostError::Io {
        action,
        path: path.to_path_buf(),
        cause,
    }
}

impl Host for RealHost {
    fn root(&self) -> &Path {
        &self.root
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, HostError> {
        let real = self.map(path)?;
        match std::fs::read(&real) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("cannot read", &real)(e)),
        }
    }

    fn meta(&self, path: &Path) -> Result<Option<FileMeta>, HostError> {
        let real = self.map(path)?;
        match std::fs::symlink_metadata(&real) {
            Ok(m) => Ok(Some(FileMeta {
                is_dir: m.is_dir(),
                mode: m.mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io("cannot inspect", &real)(e)),
        }
    }

    fn write_file(&self, path: &Path, contents: &[u8], mode: u32, owner: &Owner) -> Result<(), HostError> {
        let real = self.map(path)?;
        let (uid, gid) = self.owner_ids(owner)?;
        let dir = real.parent().unwrap_or(Path::new("/"));
        if !dir.exists() {
            // Missing parents are created like `mkdir -p`: root-owned 0755.
            std::fs::create_dir_all(dir).map_err(io("cannot create directory", dir))?;
        }
        // The temporary file gets its final mode and owner before it holds
        // any content, so a secret is never readable by others, not even
        // for a moment; rename makes the switch atomic.
        let mut tmp = tempfile::Builder::new()
            .prefix(".preau-")
            .permissions(std::fs::Permissions::from_mode(0o600))
            .tempfile_in(dir)
            .map_err(io("cannot create a temporary file in", dir))?;
        std::os::unix::fs::fchown(tmp.as_file(), Some(uid), Some(gid))
            .map_err(io("cannot set the owner of", &real))?;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(io("cannot set the mode of", &real))?;
        tmp.write_all(contents).map_err(io("cannot write", &real))?;
        tmp.as_file().sync_all().map_err(io("cannot sync", &real))?;
        tmp.persist(&real)
            .map_err(|e| io("cannot replace", &real)(e.error))?;
        Ok(())
    }

    fn create_dir(&self, path: &Path, mode: u32, owner: &Owner) -> Result<(), HostError> {
        let real = self.map(path)?;
        std::fs::create_dir_all(&real).map_err(io("cannot create directory", &real))?;
        self.set_meta(path, mode, owner)
    }

    fn set_meta(&self, path: &Path, mode: u32, owner: &Owner) -> Result<(), HostError> {
        let real = self.map(path)?;
        let (uid, gid) = self.owner_ids(owner)?;
        std::os::unix::fs::lchown(&real, Some(uid), Some(gid))
            .map_err(io("cannot set the owner of", &real))?;
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(mode))
            .map_err(io("cannot set the mode of", &real))
    }

    fn remove_file(&self, path: &Path) -> Result<(), HostError> {
        let real = self.map(path)?;
        match std::fs::remove_file(&real) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove", &real)(e)),
            _ => Ok(()),
        }
    }

    fn remove_dir_all(&self, path: &Path) -> Result<(), HostError> {
        let real = self.map(path)?;
        // std's remove_dir_all does not follow symbolic links: a link
        // planted inside is removed, not its target.
        match std::fs::remove_dir_all(&real) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io("cannot remove", &real)(e)),
            _ => Ok(()),
        }
    }

    fn lock(&self, path: &Path, kind: LockKind, wait: LockWait) -> Result<FileLock, HostError> {
        use std::os::unix::fs::OpenOptionsExt;
        let real = self.map(path)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&real)
            .map_err(io("cannot open the lock file", &real))?;
        let failed = |errno: nix::errno::Errno| match errno {
            nix::errno::Errno::EWOULDBLOCK | nix::errno::Errno::EACCES => HostError::Busy(real.clone()),
            e => io("cannot lock", &real)(std::io::Error::from(e)),
        };
        match kind {
            LockKind::Flock => {
                let how = match wait {
                    LockWait::Wait => nix::fcntl::FlockArg::LockExclusive,
                    LockWait::NoWait => nix::fcntl::FlockArg::LockExclusiveNonblock,
                };
                match nix::fcntl::Flock::lock(file, how) {
                    Ok(held) => Ok(FileLock::new(held)),
                    Err((_, errno)) => Err(failed(errno)),
                }
            }
            LockKind::Record => {
                let whole = nix::libc::flock {
                    l_type: nix::libc::F_WRLCK as i16,
                    l_whence: nix::libc::SEEK_SET as i16,
                    l_start: 0,
                    l_len: 0,
                    l_pid: 0,
                };
                let arg = match wait {
                    LockWait::Wait => nix::fcntl::FcntlArg::F_OFD_SETLKW(&whole),
                    LockWait::NoWait => nix::fcntl::FcntlArg::F_OFD_SETLK(&whole),
                };
                // Released when the file (its open description) closes.
                nix::fcntl::fcntl(&file, arg).map_err(failed)?;
                Ok(FileLock::new(file))
            }
        }
    }

    fn create_dir_owned(&self, path: &Path, mode: u32, uid: u32, gid: u32) -> Result<(), HostError> {
        let real = self.map(path)?;
        match std::fs::create_dir(&real) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(io("cannot create directory", &real)(e));
            }
            _ => {}
        }
        std::os::unix::fs::lchown(&real, Some(uid), Some(gid))
            .map_err(io("cannot set the owner of", &real))?;
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(mode))
            .map_err(io("cannot set the mode of", &real))
    }

    fn replace_dir(
        &self,
        path: &Path,
        files: &std::collections::BTreeMap<PathBuf, Vec<u8>>,
    ) -> Result<(), HostError> {
        let real = self.map(path)?;
        let parent = real.parent().unwrap_or(Path::new("/"));
        std::fs::create_dir_all(parent).map_err(io("cannot create directory", parent))?;
        let staging = tempfile::Builder::new()
            .prefix(".preau-new-")
            .tempdir_in(parent)
            .map_err(io("cannot create a directory in", parent))?;
        let ready = staging.path().join("new");
        std::fs::create_dir(&ready).map_err(io("cannot create directory", &ready))?;
        for (rel, bytes) in files {
            let clean: PathBuf = rel
                .components()
                .filter(|c| matches!(c, std::path::Component::Normal(_)))
                .collect();
            let target = ready.join(&clean);
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir).map_err(io("cannot create directory", dir))?;
            }
            let mut f = std::fs::File::create(&target).map_err(io("cannot write", &target))?;
            f.write_all(bytes).map_err(io("cannot write", &target))?;
            f.sync_all().map_err(io("cannot sync", &target))?;
            f.set_permissions(std::fs::Permissions::from_mode(0o644))
                .map_err(io("cannot set the mode of", &target))?;
        }
        std::fs::set_permissions(&ready, std::fs::Permissions::from_mode(0o755))
            .map_err(io("cannot set the mode of", &ready))?;
        let old = staging.path().join("old");
        if std::fs::symlink_metadata(&real).is_ok() {
            std::fs::rename(&real, &old).map_err(io("cannot move aside", &real))?;
        }
        if let Err(e) = std::fs::rename(&ready, &real) {
            let _ = std::fs::rename(&old, &real);
            return Err(io("cannot put in place", &real)(e));
        }
        // The old tree goes with the staging directory.
        Ok(())
    }

    fn sync(&self, path: &Path) -> Result<(), HostError> {
        let real = self.map(path)?;
        std::fs::File::open(&real)
            .and_then(|f| f.sync_all())
            .map_err(io("cannot sync", &real))
    }

    fn spawn_detached(&self, command: &Command) -> Result<(), HostError> {
        use std::os::unix::process::CommandExt as _;
        let spawn_err = |cause| HostError::Spawn {
            command: command.display(),
            cause,
        };
        let (program, args) = command
            .argv
            .split_first()
            .ok_or_else(|| spawn_err(std::io::Error::other("empty command")))?;
        log::debug!(command = command.display().as_str(); "starting detached");
        std::process::Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(spawn_err)?;
        Ok(())
    }

    fn run(&self, command: &Command) -> Result<Output, HostError> {
        let spawn_err = |cause| HostError::Spawn {
            command: command.display(),
            cause,
        };
        let (program, args) = command
            .argv
            .split_first()
            .ok_or_else(|| spawn_err(std::io::Error::other("empty command")))?;
        log::debug!(command = command.display().as_str(); "running");
        let mut child = std::process::Command::new(program)
            .args(args)
            .stdin(if command.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(spawn_err)?;
        if let Some(input) = &command.stdin {
            let mut stdin = child.stdin.take().expect("stdin was piped");
            // A command that exits without reading its input is not an
            // error of ours: its status tells.
            let _ = stdin.write_all(input);
        }
        let out = child.wait_with_output().map_err(spawn_err)?;
        Ok(Output {
            status: out.status.code().unwrap_or(-1),
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Owner {
        // Whoever runs the tests owns the files they write.
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .unwrap()
            .unwrap();
        let group = nix::unistd::Group::from_gid(nix::unistd::getgid())
            .unwrap()
            .unwrap();
        Owner::new(&user.name, &group.name)
    }

    fn host_with_passwd() -> (tempfile::TempDir, RealHost) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("etc")).unwrap();
        let o = me();
        std::fs::write(
            dir.path().join("etc/passwd"),
            format!(
                "{}:x:{}:{}::/:/bin/sh\n",
                o.user,
                nix::unistd::getuid(),
                nix::unistd::getgid()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("etc/group"),
            format!("{}:x:{}:\n", o.group, nix::unistd::getgid()),
        )
        .unwrap();
        let host = RealHost::new(dir.path());
        (dir, host)
    }

    #[test]
    fn writes_atomically_with_mode_under_root() {
        let (dir, host) = host_with_passwd();
        host.create_dir(Path::new("/etc/preau"), 0o750, &me()).unwrap();
        host.write_file(Path::new("/etc/preau/secret"), b"s3cret", 0o600, &me())
            .unwrap();
        let real = dir.path().join("etc/preau/secret");
        assert_eq!(std::fs::read(&real).unwrap(), b"s3cret");
        let meta = host.meta(Path::new("/etc/preau/secret")).unwrap().unwrap();
        assert_eq!(meta.mode, 0o600);
        assert_eq!(host.meta(Path::new("/etc/preau")).unwrap().unwrap().mode, 0o750);
        assert_eq!(host.read(Path::new("/nope")).unwrap(), None);
        // No temporary file left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("etc/preau")).unwrap().count(),
            1
        );
    }

    #[test]
    fn unknown_owner_is_a_clear_error() {
        let (_dir, host) = host_with_passwd();
        let err = host
            .write_file(
                Path::new("/etc/x"),
                b"",
                0o644,
                &Owner::new("nobody-here", "root"),
            )
            .unwrap_err();
        assert!(
            err.to_string().starts_with("no user named `nobody-here`"),
            "{err}"
        );
    }

    #[test]
    fn a_held_lock_is_busy_until_dropped() {
        let (_dir, host) = host_with_passwd();
        for kind in [LockKind::Flock, LockKind::Record] {
            let held = host
                .lock(Path::new("/etc/a.lock"), kind, LockWait::NoWait)
                .unwrap();
            let err = host
                .lock(Path::new("/etc/a.lock"), kind, LockWait::NoWait)
                .unwrap_err();
            assert!(matches!(err, HostError::Busy(_)), "{kind:?}: {err}");
            drop(held);
            host.lock(Path::new("/etc/a.lock"), kind, LockWait::NoWait)
                .unwrap();
            // No directory to hold the lock file: an error, not an unlocked run.
            assert!(
                host.lock(Path::new("/missing/dir/x.lock"), kind, LockWait::Wait)
                    .is_err()
            );
        }
    }

    #[test]
    fn commands_report_status_and_missing_programs() {
        let host = RealHost::new("/");
        let out = host
            .run(&Command::new(["sh", "-c", "cat; exit 3"]).stdin("in"))
            .unwrap();
        assert_eq!((out.status, out.stdout.as_slice()), (3, b"in".as_slice()));
        let err = host.run(&Command::new(["/nonexistent/program"])).unwrap_err();
        assert!(err.to_string().contains("the program is not installed"), "{err}");
        let err = host.run_ok(&Command::new(["false"])).unwrap_err();
        assert!(
            err.to_string().starts_with("`false` failed with status 1"),
            "{err}"
        );
    }
}
