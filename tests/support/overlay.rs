//! [`OverlaySystem`]: a throw-away copy of the whole host for tests that
//! install packages. The host's `/` is the read-only lower layer of an
//! overlayfs whose upper layer is a tmpfs private to the test; the test's
//! commands run chrooted into the merged tree, inside their own mount,
//! network (only `lo`), UTS and PID namespaces. `dpkg -i`, `apt`, `useradd`,
//! `nft` inside change only the tmpfs: the host's packages, files, rules and
//! ports are never touched, and dropping the value throws everything away.
//! No systemd runs inside (PID 1 is a `sleep`), like a chroot or container.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub struct OverlaySystem {
    holder: Child,
    pid: u32,
    /// Host-side scratch: `upper/` (the tmpfs), and `shared/`, bind-mounted
    /// at `/shared` inside.
    pub scratch: tempfile::TempDir,
}

impl OverlaySystem {
    /// Needs root (namespaces, overlayfs); panics with the reason otherwise.
    pub fn new() -> OverlaySystem {
        let scratch = tempfile::Builder::new()
            .prefix("preau-overlay-")
            .tempdir()
            .unwrap();
        let s = scratch.path().display().to_string();
        std::fs::create_dir_all(scratch.path().join("shared")).unwrap();
        let script = format!(
            r#"set -e
mount --make-rprivate /
mkdir -p "{s}/t"
mount -t tmpfs -o mode=0755 tmpfs "{s}/t"
mkdir "{s}/t/upper" "{s}/t/work" "{s}/t/merged"
mount -t overlay overlay -o lowerdir=/,upperdir="{s}/t/upper",workdir="{s}/t/work" "{s}/t/merged"
m="{s}/t/merged"
mount -t proc proc "$m/proc"
mount -t sysfs sysfs "$m/sys"
mount --rbind /dev "$m/dev"
mount -t tmpfs -o mode=0755 tmpfs "$m/run"
mount -t tmpfs -o mode=1777 tmpfs "$m/tmp"
mkdir -p "$m/shared"
mount --bind "{s}/shared" "$m/shared"
ip link set lo up
touch "{s}/ready"
exec chroot "$m" sleep infinity
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
            assert!(
                Instant::now() < deadline,
                "overlay system did not come up (root needed)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let pid = super::child_of(holder.id()).expect("overlay child not found");
        // The child has exec'd chroot + sleep once its root is the merged tree.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_link(format!("/proc/{pid}/root"))
            .map(|r| r == Path::new("/"))
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "overlay child did not chroot");
            std::thread::sleep(Duration::from_millis(10));
        }
        OverlaySystem { holder, pid, scratch }
    }

    /// A command run inside (its root, namespaces and working directory /).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.pid.to_string())
            .args(["-m", "-n", "-u", "-p", "-r", "-w", "--"])
            .arg(program)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .env(
                "PATH",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            )
            .stdin(Stdio::null());
        c
    }

    /// Runs a shell snippet inside and returns its output, whatever its status.
    pub fn sh_status(&self, script: &str) -> Output {
        self.command("sh").args(["-c", script]).output().unwrap()
    }

    /// Runs a shell snippet inside; panics with its output if it fails.
    pub fn sh(&self, script: &str) -> Output {
        let out = self.sh_status(script);
        assert!(
            out.status.success(),
            "script failed inside the overlay system: {script}\n{}",
            super::show(&out)
        );
        out
    }

    /// The host path of `/shared` inside.
    pub fn shared(&self) -> PathBuf {
        self.scratch.path().join("shared")
    }

    /// The PID (in the host's PID namespace) of the process holding it.
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

impl Drop for OverlaySystem {
    fn drop(&mut self) {
        // PID 1 of the namespace dies with the holder (--kill-child), the
        // kernel kills the rest, and the mounts go with the namespace.
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}

/// A bare network namespace (only `lo`), for a test's controller: commands
/// entered with [`NetNamespace::command`] keep the host's files but see
/// only the links the test adds (veths to [`OverlaySystem`]s).
pub struct NetNamespace {
    holder: Child,
    pid: u32,
}

impl NetNamespace {
    pub fn new() -> NetNamespace {
        let holder = Command::new("unshare")
            .args([
                "--net",
                "--fork",
                "--kill-child",
                "--",
                "sh",
                "-c",
                "ip link set lo up && exec sleep infinity",
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("cannot run unshare");
        let pid = super::child_of(holder.id()).expect("namespace child not found");
        // Wait until the child is in its own network namespace.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::read_link(format!("/proc/{pid}/ns/net")).ok()
            == std::fs::read_link("/proc/self/ns/net").ok()
        {
            assert!(Instant::now() < deadline, "network namespace did not come up");
            std::thread::sleep(Duration::from_millis(10));
        }
        NetNamespace { holder, pid }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// A command run in this network namespace (host files and processes).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.pid.to_string())
            .args(["-n", "--"])
            .arg(program);
        c.stdin(Stdio::null());
        c
    }

    /// Runs a shell snippet here; panics with its output if it fails.
    pub fn sh(&self, script: &str) -> Output {
        let out = self.command("sh").args(["-c", script]).output().unwrap();
        assert!(
            out.status.success(),
            "script failed: {script}\n{}",
            super::show(&out)
        );
        out
    }

    /// Links this namespace to `sys` with a veth pair: `ours` here with
    /// `ours_addr`, `theirs` there with `theirs_addr` (CIDR notation).
    pub fn link(&self, sys: &OverlaySystem, ours: &str, ours_addr: &str, theirs: &str, theirs_addr: &str) {
        self.sh(&format!(
            "ip link add {ours} type veth peer name {theirs} netns {pid} && ip addr add {ours_addr} dev {ours} && ip link set {ours} up",
            pid = sys.pid()
        ));
        sys.sh(&format!(
            "ip addr add {theirs_addr} dev {theirs} && ip link set {theirs} up"
        ));
    }
}

impl Drop for NetNamespace {
    fn drop(&mut self) {
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
