//! A host in memory that records what was asked of it, for unit tests of
//! plans and applies.

use super::{Command, FileLock, FileMeta, Host, HostError, LockKind, LockWait, Output, Owner};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Entry {
    contents: Option<Vec<u8>>, // None: a directory
    meta: FileMeta,
}

/// An in-memory host. Starts with `/etc/passwd` and `/etc/group` holding
/// root; every mutating call is appended to [`RecordingHost::log`].
#[derive(Debug)]
pub struct RecordingHost {
    root: PathBuf,
    files: Mutex<BTreeMap<PathBuf, Entry>>,
    log: Mutex<Vec<String>>,
    responses: Mutex<HashMap<String, Output>>,
    failures: Mutex<Vec<String>>,
    /// Whether it stands for a system managed by systemd (the default).
    no_systemd: std::sync::atomic::AtomicBool,
    /// Locks held now (released when their guard drops).
    locks: Arc<Mutex<HashSet<PathBuf>>>,
}

/// Releases a recorded lock when dropped.
struct Held {
    path: PathBuf,
    locks: Arc<Mutex<HashSet<PathBuf>>>,
}

impl Drop for Held {
    fn drop(&mut self) {
        self.locks.lock().unwrap().remove(&self.path);
    }
}

impl Default for RecordingHost {
    fn default() -> Self {
        Self::new()
    }
}

impl RecordingHost {
    pub fn new() -> Self {
        let host = Self {
            root: PathBuf::from("/"),
            files: Mutex::default(),
            log: Mutex::default(),
            responses: Mutex::default(),
            failures: Mutex::default(),
            locks: Arc::default(),
            no_systemd: Default::default(),
        };
        host.seed("/etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n");
        host.seed("/etc/group", b"root:x:0:\n");
        host
    }

    /// Puts a file in place without recording it (test set-up).
    pub fn seed(&self, path: &str, contents: &[u8]) {
        self.files.lock().unwrap().insert(
            PathBuf::from(path),
            Entry {
                contents: Some(contents.to_vec()),
                meta: FileMeta {
                    is_dir: false,
                    mode: 0o644,
                    uid: 0,
                    gid: 0,
                },
            },
        );
    }

    /// Makes the host stand for a running system without systemd (a
    /// container, a chroot, a rescue shell).
    pub fn without_systemd(self) -> Self {
        self.no_systemd.store(true, std::sync::atomic::Ordering::Relaxed);
        self
    }

    /// Makes commands whose display starts with `prefix` answer `output`.
    pub fn respond(&self, prefix: &str, output: Output) {
        self.responses.lock().unwrap().insert(prefix.to_string(), output);
    }

    /// Makes every operation on a path (or command) starting with `prefix`
    /// fail, to test failure handling.
    pub fn fail_on(&self, prefix: &str) {
        self.failures.lock().unwrap().push(prefix.to_string());
    }

    /// What was done, one line per operation.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Forgets the log (between the two halves of a test).
    pub fn clear_log(&self) {
        self.log.lock().unwrap().clear();
    }

    /// Whether a lock on `path` is held now.
    pub fn locked(&self, path: &str) -> bool {
        self.locks.lock().unwrap().contains(Path::new(path))
    }

    /// Whether anything exists at `path`.
    pub fn exists(&self, path: &str) -> bool {
        self.files.lock().unwrap().contains_key(Path::new(path))
    }

    /// A file's current contents as text.
    pub fn text(&self, path: &str) -> Option<String> {
        self.files
            .lock()
            .unwrap()
            .get(Path::new(path))
            .and_then(|e| e.contents.as_ref())
            .map(|c| String::from_utf8_lossy(c).into_owned())
    }

    fn record(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn check_failure(&self, what: &str) -> Result<(), HostError> {
        if self
            .failures
            .lock()
            .unwrap()
            .iter()
            .any(|p| what.starts_with(p.as_str()))
        {
            return Err(HostError::Io {
                action: "simulated failure on",
                path: PathBuf::from(what),
                cause: std::io::Error::other("injected by the test"),
            });
        }
        Ok(())
    }
}

impl Host for RecordingHost {
    fn root(&self) -> &Path {
        &self.root
    }

    // The recording host stands for a live system so that service reloads
    // appear in the log.
    fn is_live(&self) -> bool {
        true
    }

    fn systemd_running(&self) -> bool {
        !self.no_systemd.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, HostError> {
        Ok(self
            .files
            .lock()
            .unwrap()
            .get(path)
            .and_then(|e| e.contents.clone()))
    }

    fn meta(&self, path: &Path) -> Result<Option<FileMeta>, HostError> {
        Ok(self.files.lock().unwrap().get(path).map(|e| e.meta))
    }

    fn write_file(&self, path: &Path, contents: &[u8], mode: u32, owner: &Owner) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        let (uid, gid) = self.owner_ids(owner)?;
        self.files.lock().unwrap().insert(
            path.to_path_buf(),
            Entry {
                contents: Some(contents.to_vec()),
                meta: FileMeta {
                    is_dir: false,
                    mode,
                    uid,
                    gid,
                },
            },
        );
        self.record(format!(
            "write {} {:o} {owner} ({} bytes)",
            path.display(),
            mode,
            contents.len()
        ));
        Ok(())
    }

    fn create_dir(&self, path: &Path, mode: u32, owner: &Owner) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        let (uid, gid) = self.owner_ids(owner)?;
        self.files.lock().unwrap().insert(
            path.to_path_buf(),
            Entry {
                contents: None,
                meta: FileMeta {
                    is_dir: true,
                    mode,
                    uid,
                    gid,
                },
            },
        );
        self.record(format!("mkdir {} {:o} {owner}", path.display(), mode));
        Ok(())
    }

    fn set_meta(&self, path: &Path, mode: u32, owner: &Owner) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        let (uid, gid) = self.owner_ids(owner)?;
        let mut files = self.files.lock().unwrap();
        let entry = files.get_mut(path).ok_or_else(|| HostError::Io {
            action: "cannot set the mode of",
            path: path.to_path_buf(),
            cause: std::io::ErrorKind::NotFound.into(),
        })?;
        entry.meta.mode = mode;
        entry.meta.uid = uid;
        entry.meta.gid = gid;
        drop(files);
        self.record(format!("chmod {} {:o} {owner}", path.display(), mode));
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        self.files.lock().unwrap().remove(path);
        self.record(format!("remove {}", path.display()));
        Ok(())
    }

    fn remove_dir_all(&self, path: &Path) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        self.files
            .lock()
            .unwrap()
            .retain(|p, _| !(p == path || p.starts_with(path)));
        self.record(format!("remove dir {}", path.display()));
        Ok(())
    }

    fn lock(&self, path: &Path, _kind: LockKind, _wait: LockWait) -> Result<FileLock, HostError> {
        self.check_failure(&path.display().to_string())?;
        // One process: a lock already held would wait forever, so both
        // ways say busy.
        if !self.locks.lock().unwrap().insert(path.to_path_buf()) {
            return Err(HostError::Busy(path.to_path_buf()));
        }
        self.record(format!("lock {}", path.display()));
        Ok(FileLock::new(Held {
            path: path.to_path_buf(),
            locks: self.locks.clone(),
        }))
    }

    fn create_dir_owned(&self, path: &Path, mode: u32, uid: u32, gid: u32) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        self.files.lock().unwrap().insert(
            path.to_path_buf(),
            Entry {
                contents: None,
                meta: FileMeta {
                    is_dir: true,
                    mode,
                    uid,
                    gid,
                },
            },
        );
        self.record(format!("mkdir {} {:o} {uid}:{gid}", path.display(), mode));
        Ok(())
    }

    fn replace_dir(&self, path: &Path, files: &BTreeMap<PathBuf, Vec<u8>>) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        let mut all = self.files.lock().unwrap();
        all.retain(|p, _| !(p == path || p.starts_with(path)));
        all.insert(
            path.to_path_buf(),
            Entry {
                contents: None,
                meta: FileMeta {
                    is_dir: true,
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                },
            },
        );
        for (rel, bytes) in files {
            let target = path.join(rel);
            all.insert(
                target,
                Entry {
                    contents: Some(bytes.clone()),
                    meta: FileMeta {
                        is_dir: false,
                        mode: 0o644,
                        uid: 0,
                        gid: 0,
                    },
                },
            );
        }
        drop(all);
        self.record(format!("replace dir {} ({} files)", path.display(), files.len()));
        Ok(())
    }

    fn sync(&self, path: &Path) -> Result<(), HostError> {
        self.check_failure(&path.display().to_string())?;
        self.record(format!("sync {}", path.display()));
        Ok(())
    }

    fn spawn_detached(&self, command: &Command) -> Result<(), HostError> {
        let shown = command.display();
        self.check_failure(&shown)?;
        self.record(format!("spawn {shown}"));
        Ok(())
    }

    fn run(&self, command: &Command) -> Result<Output, HostError> {
        let shown = command.display();
        self.check_failure(&shown)?;
        self.record(format!("run {shown}"));
        let responses = self.responses.lock().unwrap();
        let best = responses
            .iter()
            .filter(|(prefix, _)| shown.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len());
        Ok(best.map(|(_, out)| out.clone()).unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_answers() {
        let host = RecordingHost::new();
        host.respond(
            "testparm",
            Output {
                status: 1,
                ..Output::default()
            },
        );
        host.write_file(Path::new("/etc/a"), b"x", 0o640, &Owner::root())
            .unwrap();
        assert_eq!(host.text("/etc/a").as_deref(), Some("x"));
        assert_eq!(host.run(&Command::new(["testparm", "-s"])).unwrap().status, 1);
        assert_eq!(host.run(&Command::new(["true"])).unwrap().status, 0);
        assert_eq!(
            host.log(),
            vec![
                "write /etc/a 640 root:root (1 bytes)",
                "run testparm -s",
                "run true"
            ]
        );
        host.fail_on("/etc/b");
        assert!(
            host.write_file(Path::new("/etc/b"), b"", 0o644, &Owner::root())
                .is_err()
        );
        assert!(
            host.write_file(Path::new("/etc/c"), b"", 0o644, &Owner::new("x", "root"))
                .is_err()
        );
    }
}
