//! Test tiers, one helper each:
//! - [`TempRoot`]: a temporary directory used as `--root` (no privileges);
//! - [`Sandbox`]: a root test's private world: its own mount namespace
//!   with a private copy of `/etc` (so `useradd`, `smbpasswd` and friends
//!   never touch the host's accounts), its own `/srv`, `/var/lib/samba`,
//!   `/run`, `/var/log` and `/tmp`, and its own network namespace (only `lo`,
//!   so ports never collide with the host), host name and PID namespace.
//!   Every command of the test runs inside it through `nsenter`; dropping
//!   it kills everything inside.
//!
//! Root tests are `#[ignore = "needs root"]` and call [`Sandbox::new_for`]:
//! `cargo test` as a normal user lists them as ignored (never as passed);
//! CI runs as root with `--include-ignored` (`scripts/test` adds it), so
//! they run there. Run without root, `new_for` fails the test saying why.
#![allow(dead_code)]

pub mod overlay;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `preau` binary built for these tests.
pub fn preau_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_preau"))
}

/// A temporary directory to use as `--root`.
pub struct TempRoot {
    pub dir: tempfile::TempDir,
}

impl TempRoot {
    pub fn new() -> TempRoot {
        TempRoot {
            dir: tempfile::Builder::new().prefix("preau-test-").tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `preau --root <dir> ARGS…`, not yet run.
    pub fn preau(&self, args: &[&str]) -> Command {
        let mut c = Command::new(preau_bin());
        c.arg("--root").arg(self.path()).args(args);
        c
    }

    /// Runs `preau --root <dir> ARGS…` and returns its output.
    pub fn run(&self, args: &[&str]) -> Output {
        self.preau(args).output().unwrap()
    }

    /// Writes a file under the root (creating parents).
    pub fn write(&self, path: &str, contents: &str) {
        let real = self.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(real.parent().unwrap()).unwrap();
        std::fs::write(real, contents).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.path().join(path.trim_start_matches('/'))).unwrap()
    }
}

/// Standard output and error of a finished command, for assertion messages.
pub fn show(out: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A private mount + network namespace for one root test.
pub struct Sandbox {
    holder: Child,
    pid: u32,
    /// Host-side scratch directory; inside the sandbox it is also visible
    /// at the same path.
    pub scratch: tempfile::TempDir,
}

impl Sandbox {
    /// A new sandbox for the root test `test`; fails the test, saying why,
    /// when this process is not root (an ignored test run by hand).
    pub fn new_for(test: &str) -> Sandbox {
        assert!(
            nix_is_root(),
            "{test} needs root for namespaces: run it as root (`scripts/test` passes --include-ignored then)"
        );
        Sandbox::new()
    }

    pub fn new() -> Sandbox {
        let scratch = tempfile::Builder::new()
            .prefix("preau-sandbox-")
            .tempdir()
            .unwrap();
        let s = scratch.path().display().to_string();
        // The holder sets the namespace up, then sleeps; everything else
        // enters it with nsenter. Private copies are bind-mounted over the
        // system paths the tests change.
        let script = format!(
            r#"set -e
mount --make-rprivate /
for d in etc srv var/lib/samba var/lib/preau var/cache/samba run/samba var/log tmp home; do
  mkdir -p "{s}/fs/$d"
done
cp -a /etc/. "{s}/fs/etc/"
if [ -d /var/lib/samba ]; then cp -a /var/lib/samba/. "{s}/fs/var/lib/samba/" 2>/dev/null || true; fi
mount --bind "{s}/fs/etc" /etc
mkdir -p /srv /var/lib/samba /var/lib/preau /var/cache/samba /run/samba /home
mount --bind "{s}/fs/srv" /srv
mount --bind "{s}/fs/var/lib/samba" /var/lib/samba
mount --bind "{s}/fs/var/lib/preau" /var/lib/preau
mount --bind "{s}/fs/var/cache/samba" /var/cache/samba
mount --bind "{s}/fs/run/samba" /run/samba
mount --bind "{s}/fs/var/log" /var/log
mount --bind "{s}/fs/home" /home
ip link set lo up
touch "{s}/ready"
exec sleep infinity
"#
        );
        let holder = Command::new("unshare")
            .args([
                "--mount",
                "--net",
                "--uts",
                "--pid",
                "--fork",
                "--kill-child",
                "--mount-proc",
                "--",
                "sh",
                "-c",
                &script,
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot run unshare");
        let ready = scratch.path().join("ready");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !ready.exists() {
            assert!(Instant::now() < deadline, "sandbox did not come up");
            std::thread::sleep(Duration::from_millis(20));
        }
        // `unshare --fork` runs the script in a child: find it (the holder
        // of the namespaces) so that nsenter can target it.
        let pid = child_of(holder.id()).expect("sandbox child not found");
        Sandbox { holder, pid, scratch }
    }

    /// A command that runs inside the sandbox.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.pid.to_string())
            .args(["-m", "-n", "-u", "-p", "--"])
            .arg(program);
        c
    }

    /// `preau ARGS…` inside the sandbox.
    pub fn preau(&self, args: &[&str]) -> Command {
        let mut c = self.command(preau_bin());
        c.args(args);
        c
    }

    /// Runs a shell snippet inside the sandbox; panics with its output if
    /// it fails.
    pub fn sh(&self, script: &str) -> Output {
        let out = self.command("sh").args(["-c", script]).output().unwrap();
        assert!(
            out.status.success(),
            "sandbox script failed: {script}\n{}",
            show(&out)
        );
        out
    }

    /// Runs a shell snippet inside the sandbox and returns its output
    /// whatever its status.
    pub fn sh_status(&self, script: &str) -> Output {
        self.command("sh").args(["-c", script]).output().unwrap()
    }

    /// Starts a long-running process inside the sandbox (killed with it).
    pub fn spawn(&self, program: &str, args: &[&str]) -> Child {
        self.command(program)
            .args(args)
            .stdin(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// A free TCP port on 127.0.0.1 inside the sandbox's network namespace.
    pub fn free_port(&self) -> u16 {
        let out = self.sh(
            "python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'",
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("a port number")
    }

    /// The host's process id of the process holding the sandbox's
    /// namespaces (`/proc/PID/ns/…`).
    pub fn holder_pid(&self) -> u32 {
        self.pid
    }

    /// The sandbox's scratch directory (same path inside and outside).
    pub fn path(&self) -> &Path {
        self.scratch.path()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // The holder's child is PID 1 of the sandbox's PID namespace and
        // dies with the holder (--kill-child); the kernel then kills every
        // process left in the namespace. Mounts vanish with it.
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// The first child process of `parent`.
fn child_of(parent: u32) -> Option<u32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let children = std::fs::read_to_string(format!("/proc/{parent}/task/{parent}/children")).ok()?;
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().ok();
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A free TCP port on 127.0.0.1 (of the current network namespace).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `f` returns true or the timeout passes.
pub fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    false
}

/// A generator from `shared/fixtures/` (beside the repository in CI, under
/// /work/shared on the development machine).
pub fn fixture(name: &str) -> PathBuf {
    let beside = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures")).join(name);
    if beside.exists() {
        beside
    } else {
        PathBuf::from("/work/shared/fixtures").join(name)
    }
}

/// Writes a synthetic school's exports (`gen_school.py`) into `dir`;
/// `extra` are more options of the generator (`--uaj`, `--year`…).
pub fn gen_school(dir: &Path, students: usize, extra: &[&str]) {
    let out = Command::new("python3")
        .arg(fixture("gen_school.py"))
        .args(["--students", &students.to_string()])
        .args(extra)
        .arg(dir)
        .output()
        .expect("python3 runs");
    assert!(out.status.success(), "gen_school.py failed\n{}", show(&out));
}
