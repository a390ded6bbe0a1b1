//! `preau backup create|restore`: the server's own state in one archive.
//!
//! What is saved: the configuration directory (`/etc/preau`: preau.toml and
//! template overrides) and the state directory (`[paths] state_dir`: a
//! consistent copy of the database taken online with `VACUUM INTO`, the
//! TLS material, the saved firewall rulesets, the proxy's category lists).
//! Not saved: the shares' files (`/srv/preau`, back them up with the
//! school's file backup) and the proxy's connection logs.
//!
//! Restore checks the whole archive before touching anything: a manifest
//! of this product, only regular files under the two directories, no
//! `..`, no links, a database that passes `PRAGMA integrity_check`. Then
//! each file is written atomically with its saved mode. The daemon should
//! be restarted afterwards (`systemctl restart preau`).

use crate::config::Config;
use crate::host::{Host, Owner};
use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Describes an archive; stored first in it as `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub product: String,
    pub version: String,
    pub created_at: String,
    pub uai: String,
    pub hostname: String,
    pub state_dir: String,
    pub files: usize,
}

const PRODUCT: &str = "preau";
const CONFIG_DIR: &str = "/etc/preau";
/// Files of the state directory not to save: the live database (saved as a
/// consistent copy instead), its journal and the apply lock.
const SKIP: &[&str] = &["preau.db", "preau.db-wal", "preau.db-shm", "apply.lock"];
/// Largest archive member accepted on restore.
const MAX_MEMBER: u64 = 2 << 30;

/// What `create` wrote.
#[derive(Debug, Serialize)]
pub struct Created {
    pub file: PathBuf,
    pub files: usize,
    pub bytes: u64,
}

/// Writes the archive `out` (a path of the machine running the command).
pub fn create(host: &dyn Host, config: &Config, out: &Path) -> anyhow::Result<Created> {
    let state = PathBuf::from(&config.paths.state_dir);
    let mut members: Vec<(PathBuf, PathBuf)> = Vec::new(); // (logical, real)
    for dir in [PathBuf::from(CONFIG_DIR), state.clone()] {
        collect(&host.real_path(&dir), &dir, &mut members)?;
    }
    members.retain(|(logical, _)| {
        !(logical.parent() == Some(state.as_path())
            && logical.file_name().is_some_and(|n| SKIP.iter().any(|s| n == *s)))
    });
    // A consistent copy of the database while the daemon may be writing.
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let db_copy = tmp.path().join("preau.db");
    let db_real = host.real_path(&state.join(crate::store::DB_FILE));
    if db_real.exists() {
        let store = crate::store::Store::open_existing(&db_real)?;
        store
            .conn()
            .execute("VACUUM INTO ?1", [db_copy.display().to_string()])
            .context("cannot copy the database")?;
        members.push((state.join(crate::store::DB_FILE), db_copy.clone()));
    }
    let manifest = Manifest {
        product: PRODUCT.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_utc(),
        uai: config.establishment.uai.clone(),
        hostname: config.establishment.hostname.clone(),
        state_dir: config.paths.state_dir.clone(),
        files: members.len(),
    };
    let partial = out.with_extension("partial");
    let file =
        std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let manifest_bytes = serde_json::to_vec_pretty(&manifest)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest_bytes.len() as u64);
    header.set_mode(0o600);
    header.set_cksum();
    tar.append_data(&mut header, "manifest.json", manifest_bytes.as_slice())?;
    for (logical, real) in &members {
        let name = logical.strip_prefix("/").unwrap_or(logical);
        tar.append_path_with_name(real, name)
            .with_context(|| format!("cannot add {} to the archive", real.display()))?;
    }
    let gz = tar.into_inner().context("cannot finish the archive")?;
    gz.finish().context("cannot finish the archive")?.sync_all()?;
    // The archive holds keys and password material: owner only.
    std::fs::set_permissions(&partial, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    std::fs::rename(&partial, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(Created {
        file: out.to_path_buf(),
        files: members.len(),
        bytes: std::fs::metadata(out)?.len(),
    })
}

fn collect(real: &Path, logical: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(real) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", real.display())),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        let (r, l) = (entry.path(), logical.join(entry.file_name()));
        if kind.is_dir() {
            collect(&r, &l, out)?;
        } else if kind.is_file() {
            out.push((l, r));
        }
    }
    Ok(())
}

fn now_utc() -> String {
    rusqlite::Connection::open_in_memory()
        .and_then(|c| c.query_row("SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now')", [], |r| r.get(0)))
        .unwrap_or_default()
}

/// What `restore` did.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub files: usize,
    pub uai: String,
    pub created_at: String,
}

/// Restores the archive `input` onto the host, after checking all of it.
pub fn restore(host: &dyn Host, input: &Path) -> anyhow::Result<Restored> {
    let file = std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut manifest: Option<Manifest> = None;
    let mut members: Vec<(PathBuf, Vec<u8>, u32)> = Vec::new();
    let bad = |what: String| anyhow::anyhow!("{} is not a Préau backup: {what}", input.display());
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(format!("damaged archive ({e})")))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        if !entry.header().entry_type().is_file() {
            bail!(bad(format!("{} is not a regular file", path.display())));
        }
        if entry.size() > MAX_MEMBER {
            bail!(bad(format!("{} is too large", path.display())));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("damaged archive ({e})")))?;
        if path == Path::new("manifest.json") {
            let m: Manifest =
                serde_json::from_slice(&bytes).map_err(|e| bad(format!("unreadable manifest ({e})")))?;
            if m.product != PRODUCT {
                bail!(bad(format!("made by \"{}\"", m.product)));
            }
            manifest = Some(m);
            continue;
        }
        let mode = entry.header().mode().unwrap_or(0o600) & 0o777;
        members.push((path, bytes, mode));
    }
    let manifest = manifest.ok_or_else(|| bad("no manifest.json".into()))?;
    let state = PathBuf::from(&manifest.state_dir);
    if !state.is_absolute() || state.components().any(|c| c == Component::ParentDir) {
        bail!(bad(format!(
            "state directory \"{}\" is not a plain absolute path",
            manifest.state_dir
        )));
    }
    let mut plan = Vec::new();
    for (path, bytes, mode) in members {
        let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
        let logical = Path::new("/").join(&path);
        if !plain || !(logical.starts_with(CONFIG_DIR) || logical.starts_with(&state)) {
            bail!(bad(format!(
                "{} is outside /etc/preau and the state directory",
                path.display()
            )));
        }
        plan.push((logical, bytes, mode));
    }
    // The database must be sound before it replaces the running one.
    let db_logical = state.join(crate::store::DB_FILE);
    if let Some((_, bytes, _)) = plan.iter().find(|(l, _, _)| *l == db_logical) {
        let tmp = tempfile::tempdir()?;
        let copy = tmp.path().join("check.db");
        std::fs::write(&copy, bytes)?;
        let conn = rusqlite::Connection::open(&copy)?;
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| bad(format!("the database is unreadable ({e})")))?;
        if verdict != "ok" {
            bail!(bad(format!("the database is damaged ({verdict})")));
        }
    }
    let count = plan.len();
    for (logical, bytes, mode) in plan {
        if let Some(parent) = logical.parent()
            && host.meta(parent)?.is_none()
        {
            host.create_dir(parent, 0o750, &Owner::root())?;
        }
        if logical == db_logical {
            // The old journal belongs to the old database.
            for suffix in ["-wal", "-shm"] {
                host.remove_file(&PathBuf::from(format!("{}{suffix}", db_logical.display())))?;
            }
        }
        host.write_file(&logical, &bytes, mode, &Owner::root())?;
    }
    Ok(Restored {
        files: count,
        uai: manifest.uai,
        created_at: manifest.created_at,
    })
}
