//! `preau backup`: the server's own state in one archive, optionally the
//! shares, optionally encrypted; scheduled backups with rotation.
//!
//! What is saved: the configuration directory (`/etc/preau`: preau.toml and
//! template overrides) and the state directory (`[paths] state_dir`: a
//! consistent copy of the database taken online with SQLite's backup API,
//! the TLS material, the saved firewall rulesets, the proxy's category
//! lists); with `--with-shares` (or `[backup] with_shares`) the shares'
//! folders and files too (`[shares] root`), with their numeric owners and
//! modes (their ACLs are derived from the directory: `preau apply` after a
//! restore puts them back). Not saved: the proxy's connection logs, links.
//!
//! The archive is a gzip'd tar: `manifest.json` first (product, format,
//! Préau version, database schema version), the members, then
//! `SHA256SUMS` with the digest of every file. When `[backup] recipients`
//! lists age public keys, the whole stream is encrypted to them with age
//! (X25519); restoring then needs a matching identity file.
//!
//! Restore checks the whole archive before touching anything: decryption,
//! the manifest of this product, a version and schema not newer than this
//! binary's, only plain paths under the saved directories, every digest,
//! and a database that passes `PRAGMA integrity_check`. Then each member is
//! written atomically through the host with its saved mode (and, for the
//! shares, owner). The daemon should be restarted afterwards.
//!
//! Rotation ([`rotation`]) is a pure function of the archive names in the
//! backup directory: the newest of each of the last `keep_daily` days,
//! `keep_weekly` weeks and `keep_monthly` months stay, the rest go.

use crate::config::Config;
use crate::config::problems::{Problems, join};
use crate::config::settings::Validate;
use crate::host::{Host, Owner};
use crate::msg;
use anyhow::{Context as _, bail};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

/// Backups: where the scheduled ones go and how many stay, whether they
/// hold the shares, who can decrypt them.
///
/// fr: Les sauvegardes : où vont celles qui sont programmées et combien en
/// restent, si elles contiennent les partages, qui peut les déchiffrer.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BackupSettings {
    /// Directory of the scheduled backups (`preau backup run`, started
    /// every night by `preau-backup.timer`). Better on another disk, and
    /// copied off the server.
    ///
    /// fr: Répertoire des sauvegardes programmées (`preau backup run`, lancée
    /// chaque nuit par `preau-backup.timer`). De préférence sur un autre
    /// disque, et copié hors du serveur.
    pub directory: String,
    /// Scheduled backups include the shares' files (the school's documents
    /// under `[shares] root`). They can be large.
    ///
    /// fr: Les sauvegardes programmées contiennent les fichiers des partages
    /// (les documents de l'établissement sous `[shares] root`). Elles peuvent
    /// être volumineuses.
    pub with_shares: bool,
    /// age public keys (`age1…`, made by `preau backup keygen` or
    /// `age-keygen`). When any is given every backup is encrypted to them,
    /// and a restore needs a matching identity (`--identity FILE`): keep
    /// the identity off this server.
    ///
    /// fr: Clés publiques age (`age1…`, créées par `preau backup keygen` ou
    /// `age-keygen`). Dès qu'il y en a une, chaque sauvegarde est chiffrée pour
    /// elles, et une restauration demande l'identité correspondante
    /// (`--identity FICHIER`) : gardez l'identité hors de ce serveur.
    pub recipients: Vec<String>,
    /// Scheduled backups kept: the newest of each of the last N days.
    ///
    /// fr: Sauvegardes programmées gardées : la plus récente de chacun des N
    /// derniers jours.
    #[schemars(range(min = 0, max = 366))]
    pub keep_daily: u32,
    /// ...and the newest of each of the last N weeks (Monday to Sunday).
    ///
    /// fr: …et la plus récente de chacune des N dernières semaines (du lundi au
    /// dimanche).
    #[schemars(range(min = 0, max = 520))]
    pub keep_weekly: u32,
    /// ...and the newest of each of the last N months.
    ///
    /// fr: …et la plus récente de chacun des N derniers mois.
    #[schemars(range(min = 0, max = 240))]
    pub keep_monthly: u32,
}

impl Default for BackupSettings {
    fn default() -> Self {
        Self {
            directory: "/var/backups/preau".into(),
            with_shares: false,
            recipients: Vec::new(),
            keep_daily: 7,
            keep_weekly: 4,
            keep_monthly: 12,
        }
    }
}

impl Validate for BackupSettings {
    fn validate(&self, path: &str, problems: &mut Problems) {
        if !self.directory.starts_with('/') || self.directory.split('/').any(|c| c == "..") {
            problems.push_hint(
                join(path, "directory"),
                msg!(
                    en("\"{}\" is not a plain absolute path", self.directory),
                    fr("« {} » n'est pas un simple chemin absolu", self.directory)
                ),
                msg!(
                    "e.g. \"/var/backups/preau\"",
                    "par exemple « /var/backups/preau »"
                ),
            );
        }
        for (i, r) in self.recipients.iter().enumerate() {
            if age::x25519::Recipient::from_str(r).is_err() {
                problems.push_hint(
                    crate::config::problems::index(&join(path, "recipients"), i),
                    msg!("\"{r}\" is not an age public key", "« {r} » n'est pas une clé publique age"),
                    msg!("a public key starts with \"age1\"; `preau backup keygen --out FILE` makes a pair", "une clé publique commence par « age1 » ; `preau backup keygen --out FICHIER` crée une paire de clés"),
                );
            }
        }
        if self.keep_daily + self.keep_weekly + self.keep_monthly == 0 {
            problems.push_hint(
                join(path, "keep_daily"),
                msg!("keep_daily, keep_weekly and keep_monthly are all 0: every scheduled backup would be deleted", "keep_daily, keep_weekly et keep_monthly valent tous 0 : chaque sauvegarde programmée serait supprimée"),
                msg!("keep at least one, e.g. keep_daily = 7", "gardez-en au moins une, par exemple keep_daily = 7"),
            );
        }
    }
}

/// Describes an archive; stored first in it as `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub product: String,
    /// Layout of the archive (this module's [`FORMAT`]).
    #[serde(default = "format_one")]
    pub format: u32,
    /// The Préau version that made it.
    pub version: String,
    /// `PRAGMA user_version` of the saved database (0: none saved).
    #[serde(default)]
    pub schema: u32,
    pub created_at: String,
    pub uai: String,
    pub hostname: String,
    pub state_dir: String,
    /// The shares' root when the shares are in the archive.
    #[serde(default)]
    pub shares_root: Option<String>,
    pub files: usize,
}

fn format_one() -> u32 {
    1
}

const PRODUCT: &str = "preau";
/// The archive layout this binary writes and reads.
pub const FORMAT: u32 = 2;
const CONFIG_DIR: &str = "/etc/preau";
const SUMS: &str = "SHA256SUMS";
const AGE_MAGIC: &[u8] = b"age-encryption.org/";
/// Files of the state directory not to save: the live database (saved as a
/// consistent copy instead), its journal and the apply lock.
const SKIP: &[&str] = &["preau.db", "preau.db-wal", "preau.db-shm", "apply.lock"];
/// Largest archive member accepted on restore.
const MAX_MEMBER: u64 = 2 << 30;

/// One thing to put in the archive.
struct Member {
    /// Logical host path.
    logical: PathBuf,
    /// Where to read it (real path).
    real: PathBuf,
    dir: bool,
}

/// What `create` wrote.
#[derive(Debug, Serialize)]
pub struct Created {
    pub file: PathBuf,
    pub files: usize,
    pub bytes: u64,
    pub encrypted: bool,
    pub with_shares: bool,
    /// Symbolic links and special files left out (shares only).
    pub skipped: usize,
}

/// Options of one backup.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub with_shares: bool,
}

/// Writes the archive `out` (a path of the machine running the command).
pub fn create(
    host: &dyn Host,
    config: &Config,
    out: &Path,
    options: &CreateOptions,
) -> anyhow::Result<Created> {
    let recipients = recipients(&config.backup)?;
    let state = PathBuf::from(&config.paths.state_dir);
    let mut members: Vec<Member> = Vec::new();
    let mut skipped = 0;
    for dir in [PathBuf::from(CONFIG_DIR), state.clone()] {
        collect(&host.real_path(&dir), &dir, false, &mut members, &mut skipped)?;
    }
    members.retain(|m| {
        !(m.logical.parent() == Some(state.as_path())
            && m.logical
                .file_name()
                .is_some_and(|n| SKIP.iter().any(|s| n == *s)))
    });
    let shares_root = options.with_shares.then(|| PathBuf::from(&config.shares.root));
    if let Some(root) = &shares_root {
        let real = host.real_path(root);
        if !real.is_dir() {
            bail!(
                "the shares' folder {} does not exist: nothing to save with --with-shares",
                root.display()
            );
        }
        members.push(Member {
            logical: root.clone(),
            real: real.clone(),
            dir: true,
        });
        collect(&real, root, true, &mut members, &mut skipped)?;
    }
    // A consistent copy of the database while the daemon may be writing:
    // SQLite's online backup API, page by page under a read transaction.
    let tmp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let db_copy = tmp.path().join("preau.db");
    let db_real = host.real_path(&state.join(crate::store::DB_FILE));
    let mut schema = 0;
    if db_real.exists() {
        let store = crate::store::Store::open_existing(&db_real)?;
        store
            .conn()
            .backup("main", &db_copy, None)
            .context("cannot copy the database")?;
        schema = store
            .conn()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .context("cannot read the database's schema version")?;
        members.push(Member {
            logical: state.join(crate::store::DB_FILE),
            real: db_copy.clone(),
            dir: false,
        });
    }
    let manifest = Manifest {
        product: PRODUCT.into(),
        format: FORMAT,
        version: env!("CARGO_PKG_VERSION").into(),
        schema,
        created_at: now_utc("%Y-%m-%dT%H:%M:%SZ"),
        uai: config.establishment.uai.clone(),
        hostname: config.establishment.hostname.clone(),
        state_dir: config.paths.state_dir.clone(),
        shares_root: shares_root.as_ref().map(|p| p.display().to_string()),
        files: members.iter().filter(|m| !m.dir).count(),
    };
    let partial = PathBuf::from(format!("{}.partial", out.display()));
    let file =
        std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    // The archive holds keys and password material: owner only, from the start.
    std::fs::set_permissions(&partial, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    let written = write_archive(file, &recipients, &manifest, &members);
    let file = match written {
        Ok(f) => f,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    file.sync_all()?;
    std::fs::rename(&partial, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(Created {
        file: out.to_path_buf(),
        files: manifest.files,
        bytes: std::fs::metadata(out)?.len(),
        encrypted: !recipients.is_empty(),
        with_shares: shares_root.is_some(),
        skipped,
    })
}

fn recipients(settings: &BackupSettings) -> anyhow::Result<Vec<age::x25519::Recipient>> {
    settings
        .recipients
        .iter()
        .map(|r| {
            age::x25519::Recipient::from_str(r)
                .map_err(|e| anyhow::anyhow!("[backup] recipients: \"{r}\" is not an age public key ({e})"))
        })
        .collect()
}

/// The stream: tar in gzip, in age when there are recipients.
fn write_archive(
    file: std::fs::File,
    recipients: &[age::x25519::Recipient],
    manifest: &Manifest,
    members: &[Member],
) -> anyhow::Result<std::fs::File> {
    if recipients.is_empty() {
        let gz = write_tar(file, manifest, members)?;
        Ok(gz.finish().context("cannot finish the archive")?)
    } else {
        let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
            .context("cannot set up encryption")?;
        let writer = encryptor
            .wrap_output(file)
            .context("cannot start the encrypted archive")?;
        let gz = write_tar(writer, manifest, members)?;
        let writer = gz.finish().context("cannot finish the archive")?;
        Ok(writer.finish().context("cannot finish the encrypted archive")?)
    }
}

fn write_tar<W: Write>(
    w: W,
    manifest: &Manifest,
    members: &[Member],
) -> anyhow::Result<flate2::write::GzEncoder<W>> {
    let gz = flate2::write::GzEncoder::new(w, flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    tar.follow_symlinks(false);
    append_bytes(&mut tar, "manifest.json", &serde_json::to_vec_pretty(manifest)?)?;
    let mut sums = String::new();
    for m in members {
        let name = m.logical.strip_prefix("/").unwrap_or(&m.logical);
        if m.dir {
            tar.append_dir(name, &m.real)
                .with_context(|| format!("cannot add {} to the archive", m.real.display()))?;
            continue;
        }
        let mut f =
            std::fs::File::open(&m.real).with_context(|| format!("cannot read {}", m.real.display()))?;
        let meta = f.metadata()?;
        let mut header = tar::Header::new_gnu();
        header.set_metadata(&meta);
        let mut hashing = HashingReader::new(&mut f);
        tar.append_data(&mut header, name, &mut hashing)
            .with_context(|| format!("cannot add {} to the archive", m.real.display()))?;
        sums.push_str(&format!("{}  {}\n", hashing.hex(), name.display()));
    }
    append_bytes(&mut tar, SUMS, sums.as_bytes())?;
    tar.into_inner().context("cannot finish the archive")
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_cksum();
    tar.append_data(&mut header, name, bytes)?;
    Ok(())
}

/// Reads through, computing the SHA-256 of what passed.
struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hash: Sha256::new(),
        }
    }

    fn hex(self) -> String {
        hex(&self.hash.finalize())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn collect(
    real: &Path,
    logical: &Path,
    with_dirs: bool,
    out: &mut Vec<Member>,
    skipped: &mut usize,
) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(real) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", real.display())),
    };
    let mut entries: Vec<_> = entries.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let kind = entry.file_type()?;
        let (r, l) = (entry.path(), logical.join(entry.file_name()));
        if kind.is_dir() {
            if with_dirs {
                out.push(Member {
                    logical: l.clone(),
                    real: r.clone(),
                    dir: true,
                });
            }
            collect(&r, &l, with_dirs, out, skipped)?;
        } else if kind.is_file() {
            out.push(Member {
                logical: l,
                real: r,
                dir: false,
            });
        } else {
            *skipped += 1;
        }
    }
    Ok(())
}

/// The current UTC time in an strftime `format`.
fn now_utc(format: &str) -> String {
    rusqlite::Connection::open_in_memory()
        .and_then(|c| c.query_row("SELECT strftime(?1, 'now')", [format], |r| r.get(0)))
        .unwrap_or_default()
}

/// Opens an archive for reading: decrypts it when it is an age file.
fn open_archive(input: &Path, identity: Option<&Path>) -> anyhow::Result<tar::Archive<Box<dyn Read>>> {
    let mut file = std::fs::File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut magic = [0u8; 19];
    let n = read_up_to(&mut file, &mut magic)?;
    let file = std::io::Read::chain(std::io::Cursor::new(magic[..n].to_vec()), file);
    let plain: Box<dyn Read> = if magic[..n] == *AGE_MAGIC {
        let Some(identity) = identity else {
            bail!(
                "{} is encrypted: give the identity (private key) that matches [backup] recipients with --identity FILE",
                input.display()
            );
        };
        let identities = age::IdentityFile::from_file(identity.display().to_string())
            .with_context(|| format!("cannot read the identity file {}", identity.display()))?
            .into_identities()
            .with_context(|| format!("{} holds no usable identity", identity.display()))?;
        let decryptor = age::Decryptor::new(file)
            .map_err(|e| anyhow::anyhow!("{} is not a readable age file ({e})", input.display()))?;
        let reader = decryptor
            .decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot decrypt {} with {} ({e}): not the key it was encrypted to",
                    input.display(),
                    identity.display()
                )
            })?;
        Box::new(flate2::read::GzDecoder::new(reader))
    } else {
        Box::new(flate2::read::GzDecoder::new(file))
    };
    Ok(tar::Archive::new(plain))
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// What a checked archive holds.
#[derive(Debug, Serialize)]
pub struct Verified {
    pub manifest: Manifest,
    pub files: usize,
    pub dirs: usize,
    pub bytes: u64,
}

/// Compares dotted versions ("0.1.0"); `None` if either is not one.
fn version_newer(theirs: &str, ours: &str) -> Option<bool> {
    let parse = |v: &str| -> Option<Vec<u64>> {
        v.split(['-', '+'])
            .next()?
            .split('.')
            .map(|p| p.parse().ok())
            .collect()
    };
    Some(parse(theirs)? > parse(ours)?)
}

/// The schema version this binary's migrations reach.
pub fn latest_schema() -> u32 {
    crate::store::latest_schema()
}

/// Checks everything in the archive without writing anything.
pub fn verify(input: &Path, identity: Option<&Path>) -> anyhow::Result<Verified> {
    let mut archive = open_archive(input, identity)?;
    let bad = |what: String| anyhow::anyhow!("{} is not a usable Préau backup: {what}", input.display());
    let mut manifest: Option<Manifest> = None;
    let mut digests: BTreeMap<PathBuf, String> = BTreeMap::new();
    let mut sums: Option<String> = None;
    let (mut dirs, mut bytes) = (0, 0u64);
    let tmp = tempfile::tempdir()?;
    let mut db_checked = false;
    for entry in archive.entries().map_err(|e| bad(e.to_string()))? {
        let mut entry = entry.map_err(|e| bad(format!("damaged archive ({e})")))?;
        let path = entry.path().map_err(|e| bad(e.to_string()))?.into_owned();
        let kind = entry.header().entry_type();
        if manifest.is_none() {
            if path != Path::new("manifest.json") {
                bail!(bad("no manifest.json at its start".into()));
            }
            let mut text = Vec::new();
            entry
                .by_ref()
                .take(1 << 20)
                .read_to_end(&mut text)
                .map_err(|e| bad(format!("damaged archive ({e})")))?;
            let m: Manifest =
                serde_json::from_slice(&text).map_err(|e| bad(format!("unreadable manifest ({e})")))?;
            check_manifest(&m).map_err(|e| bad(e.to_string()))?;
            manifest = Some(m);
            continue;
        }
        let m = manifest.as_ref().expect("manifest read first");
        if path == Path::new(SUMS) {
            let mut text = String::new();
            entry
                .read_to_string(&mut text)
                .map_err(|e| bad(format!("damaged checksum list ({e})")))?;
            sums = Some(text);
            continue;
        }
        if sums.is_some() {
            bail!(bad(format!("{} comes after the checksum list", path.display())));
        }
        let logical = allowed_path(m, &path).map_err(bad)?;
        if kind.is_dir() {
            if !logical_in_shares(m, &logical) {
                bail!(bad(format!("{} is a folder outside the shares", path.display())));
            }
            dirs += 1;
            continue;
        }
        if !kind.is_file() {
            bail!(bad(format!("{} is not a regular file", path.display())));
        }
        if entry.size() > MAX_MEMBER {
            bail!(bad(format!("{} is too large", path.display())));
        }
        bytes += entry.size();
        let is_db = logical == Path::new(&m.state_dir).join(crate::store::DB_FILE);
        let digest = if is_db {
            // The database must be sound and not from a newer schema.
            let copy = tmp.path().join("check.db");
            let mut out = std::fs::File::create(&copy)?;
            let mut hashing = HashingReader::new(&mut entry);
            std::io::copy(&mut hashing, &mut out).map_err(|e| bad(format!("damaged archive ({e})")))?;
            drop(out);
            check_database(&copy).map_err(|e| bad(e.to_string()))?;
            db_checked = true;
            hashing.hex()
        } else {
            let mut hashing = HashingReader::new(&mut entry);
            std::io::copy(&mut hashing, &mut std::io::sink())
                .map_err(|e| bad(format!("damaged archive ({e})")))?;
            hashing.hex()
        };
        if digests.insert(path.clone(), digest).is_some() {
            bail!(bad(format!("{} appears twice", path.display())));
        }
    }
    let manifest = manifest.ok_or_else(|| bad("empty archive".into()))?;
    let sums =
        sums.ok_or_else(|| bad("no SHA256SUMS: the archive is truncated or from an older Préau".into()))?;
    let listed = parse_sums(&sums).map_err(bad)?;
    for (path, digest) in &digests {
        match listed.get(path) {
            None => bail!(bad(format!("{} is not in SHA256SUMS", path.display()))),
            Some(d) if d != digest => {
                bail!(bad(format!("{} is damaged (checksum mismatch)", path.display())))
            }
            Some(_) => {}
        }
    }
    if let Some(missing) = listed.keys().find(|p| !digests.contains_key(*p)) {
        bail!(bad(format!("{} is listed but missing", missing.display())));
    }
    if manifest.schema > 0 && !db_checked {
        bail!(bad(
            "the manifest announces a database the archive does not hold".into()
        ));
    }
    Ok(Verified {
        files: digests.len(),
        dirs,
        bytes,
        manifest,
    })
}

fn check_manifest(m: &Manifest) -> anyhow::Result<()> {
    if m.product != PRODUCT {
        bail!("made by \"{}\"", m.product);
    }
    if m.format > FORMAT {
        bail!(
            "archive format {} is newer than this Préau's ({FORMAT}); upgrade Préau to {} or later first",
            m.format,
            m.version
        );
    }
    let ours = env!("CARGO_PKG_VERSION");
    match version_newer(&m.version, ours) {
        None => bail!("unknown Préau version \"{}\"", m.version),
        Some(true) => bail!(
            "made by Préau {} which is newer than this one ({ours}); upgrade Préau first, a backup never goes back in time",
            m.version
        ),
        Some(false) => {}
    }
    if m.schema > latest_schema() {
        bail!(
            "its database schema ({}) is newer than this Préau's ({}); upgrade Préau first",
            m.schema,
            latest_schema()
        );
    }
    let state = Path::new(&m.state_dir);
    if !plain_absolute(state) {
        bail!("state directory \"{}\" is not a plain absolute path", m.state_dir);
    }
    if let Some(root) = &m.shares_root
        && !plain_absolute(Path::new(root))
    {
        bail!("shares' root \"{root}\" is not a plain absolute path");
    }
    Ok(())
}

fn check_database(path: &Path) -> anyhow::Result<()> {
    let conn = rusqlite::Connection::open(path)?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| anyhow::anyhow!("the database is unreadable ({e})"))?;
    if verdict != "ok" {
        bail!("the database is damaged ({verdict})");
    }
    let schema: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if schema > latest_schema() {
        bail!(
            "its database schema ({schema}) is newer than this Préau's ({}); upgrade Préau first",
            latest_schema()
        );
    }
    Ok(())
}

fn plain_absolute(p: &Path) -> bool {
    p.is_absolute()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

/// The logical path of an archive member, if it may be restored.
fn allowed_path(m: &Manifest, path: &Path) -> Result<PathBuf, String> {
    let plain = path.components().all(|c| matches!(c, Component::Normal(_)));
    let logical = Path::new("/").join(path);
    let inside = logical.starts_with(CONFIG_DIR)
        || logical.starts_with(&m.state_dir)
        || logical_in_shares(m, &logical);
    if !plain || !inside {
        return Err(format!(
            "{} is outside /etc/preau, the state directory and the shares",
            path.display()
        ));
    }
    Ok(logical)
}

fn logical_in_shares(m: &Manifest, logical: &Path) -> bool {
    m.shares_root.as_ref().is_some_and(|r| logical.starts_with(r))
}

fn parse_sums(text: &str) -> Result<BTreeMap<PathBuf, String>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let (digest, path) = line
            .split_once("  ")
            .ok_or_else(|| format!("bad SHA256SUMS line \"{line}\""))?;
        out.insert(PathBuf::from(path), digest.to_string());
    }
    Ok(out)
}

/// What `restore` did.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub files: usize,
    pub dirs: usize,
    pub uai: String,
    pub created_at: String,
    pub version: String,
    pub with_shares: bool,
}

/// Restores the archive `input` onto the host, after checking all of it.
pub fn restore(host: &dyn Host, input: &Path, identity: Option<&Path>) -> anyhow::Result<Restored> {
    let verified = verify(input, identity)?;
    let m = verified.manifest;
    let listed = {
        // Second pass: the digests again, so that an archive changed since
        // the check is caught file by file.
        let mut archive = open_archive(input, identity)?;
        let mut sums = None;
        for entry in archive.entries()? {
            let mut entry = entry?;
            if entry.path()?.as_ref() == Path::new(SUMS) {
                let mut text = String::new();
                entry.read_to_string(&mut text)?;
                sums = Some(text);
            }
        }
        parse_sums(&sums.unwrap_or_default()).map_err(anyhow::Error::msg)?
    };
    let db_logical = Path::new(&m.state_dir).join(crate::store::DB_FILE);
    let mut archive = open_archive(input, identity)?;
    let (mut files, mut dirs) = (0, 0);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let path = entry.path()?.into_owned();
        if path == Path::new("manifest.json") || path == Path::new(SUMS) {
            continue;
        }
        let logical = allowed_path(&m, &path).map_err(anyhow::Error::msg)?;
        let mode = entry.header().mode().unwrap_or(0o600) & 0o7777;
        let shared = logical_in_shares(&m, &logical);
        // Shares keep their numeric owners (uids and gids are kept in the
        // directory, so `preau apply` recreates the same accounts); the
        // rest is root's.
        let owner = if shared {
            Owner::ids(entry.header().uid()? as u32, entry.header().gid()? as u32)
        } else {
            Owner::root()
        };
        if entry.header().entry_type().is_dir() {
            host.create_dir(&logical, mode, &owner)?;
            dirs += 1;
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes)?;
        if listed.get(&path).map(String::as_str) != Some(hex(&Sha256::digest(&bytes)).as_str()) {
            bail!(
                "{} changed while it was being restored ({} is damaged); restore it again",
                input.display(),
                path.display()
            );
        }
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
        host.write_file(&logical, &bytes, mode, &owner)?;
        files += 1;
    }
    Ok(Restored {
        files,
        dirs,
        uai: m.uai,
        created_at: m.created_at,
        version: m.version,
        with_shares: m.shares_root.is_some(),
    })
}

/// Makes an age key pair: writes the identity to `out` (owner only) and
/// returns the public key to put in `[backup] recipients`.
pub fn keygen(out: &Path) -> anyhow::Result<String> {
    use age::secrecy::ExposeSecret;
    if out.exists() {
        bail!(
            "{} exists already: it may be the only key to older backups",
            out.display()
        );
    }
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let text = format!(
        "# created: {}\n# public key: {public}\n{}\n",
        now_utc("%Y-%m-%dT%H:%M:%SZ"),
        identity.to_string().expose_secret()
    );
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode_owner_only()
        .open(out)
        .with_context(|| format!("cannot create {}", out.display()))?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    Ok(public)
}

trait OwnerOnly {
    fn mode_owner_only(&mut self) -> &mut Self;
}

impl OwnerOnly for std::fs::OpenOptions {
    fn mode_owner_only(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600)
    }
}

/// Scheduled backups: names, dates and which to keep.
pub mod rotation {
    use std::collections::BTreeSet;

    /// The period a backup falls in: day, week or month number.
    type PeriodKey = fn(&Stamp) -> i64;

    /// How many of each period to keep.
    #[derive(Debug, Clone, Copy)]
    pub struct Keep {
        pub daily: u32,
        pub weekly: u32,
        pub monthly: u32,
    }

    /// A scheduled backup's time, from its name.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
    pub struct Stamp {
        pub year: i32,
        pub month: u32,
        pub day: u32,
        pub seconds: u32,
    }

    impl Stamp {
        /// Days since 1970-01-01 (Howard Hinnant's days_from_civil).
        pub fn days(&self) -> i64 {
            let y = i64::from(self.year) - i64::from(self.month <= 2);
            let era = y.div_euclid(400);
            let yoe = y - era * 400;
            let m = i64::from(self.month);
            let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            era * 146_097 + doe - 719_468
        }

        /// The week (Monday to Sunday) it falls in, as a number.
        pub fn week(&self) -> i64 {
            // 1970-01-01 was a Thursday: shift so weeks start on Monday.
            (self.days() + 3).div_euclid(7)
        }
    }

    /// The archive name of a scheduled backup made at `stamp`
    /// (`YYYYMMDDTHHMMSSZ`).
    pub fn name(hostname: &str, stamp: &str, encrypted: bool) -> String {
        format!(
            "preau-{hostname}-{stamp}.tar.gz{}",
            if encrypted { ".age" } else { "" }
        )
    }

    /// The time of a scheduled backup's name; `None` for any other file
    /// (never deleted by rotation).
    pub fn parse(name: &str) -> Option<Stamp> {
        let rest = name.strip_prefix("preau-")?;
        let rest = rest
            .strip_suffix(".tar.gz.age")
            .or_else(|| rest.strip_suffix(".tar.gz"))?;
        let stamp = rest.rsplit('-').next()?;
        let b = stamp.as_bytes();
        if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let s = stamp.get(r)?;
            s.bytes().all(|c| c.is_ascii_digit()).then(|| s.parse().ok())?
        };
        let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
        let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        Some(Stamp {
            year: year as i32,
            month,
            day,
            seconds: h * 3600 + mi * 60 + s,
        })
    }

    /// Which of `names` to keep: the newest of each of the last
    /// `keep.daily` days, `keep.weekly` weeks and `keep.monthly` months that
    /// have a backup, and always the newest one. Names that are not
    /// scheduled backups are kept.
    pub fn keep(names: &[String], keep: Keep) -> BTreeSet<String> {
        let mut dated: Vec<(Stamp, &String)> = Vec::new();
        let mut kept = BTreeSet::new();
        for n in names {
            match parse(n) {
                Some(s) => dated.push((s, n)),
                None => {
                    kept.insert(n.clone());
                }
            }
        }
        // Newest first; equal stamps ordered by name for determinism.
        dated.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.cmp(a.1)));
        if let Some((_, newest)) = dated.first() {
            kept.insert((*newest).clone());
        }
        let periods: [(u32, PeriodKey); 3] = [
            (keep.daily, |s| s.days()),
            (keep.weekly, |s| s.week()),
            (keep.monthly, |s| i64::from(s.year) * 12 + i64::from(s.month)),
        ];
        for (count, key) in periods {
            let mut seen = BTreeSet::new();
            for (stamp, name) in &dated {
                if seen.len() as u32 >= count {
                    break;
                }
                if seen.insert(key(stamp)) {
                    kept.insert((*name).clone());
                }
            }
        }
        kept
    }
}

/// What a scheduled run did.
#[derive(Debug, Serialize)]
pub struct RunReport {
    pub created: Created,
    pub removed: Vec<String>,
}

/// `preau backup run`: a backup into `[backup] directory`, then rotation.
pub fn run(host: &dyn Host, config: &Config) -> anyhow::Result<RunReport> {
    let settings = &config.backup;
    let dir = Path::new(&settings.directory);
    if host.meta(dir)?.is_none() {
        host.create_dir(dir, 0o700, &Owner::root())?;
    }
    let name = rotation::name(
        &config.establishment.hostname,
        &now_utc("%Y%m%dT%H%M%SZ"),
        !settings.recipients.is_empty(),
    );
    let out = host.real_path(&dir.join(&name));
    let created = create(
        host,
        config,
        &out,
        &CreateOptions {
            with_shares: settings.with_shares,
        },
    )?;
    let removed = rotate(host, config, false)?;
    Ok(RunReport { created, removed })
}

/// Deletes the scheduled backups rotation does not keep (only lists them
/// with `dry_run`); returns their names.
pub fn rotate(host: &dyn Host, config: &Config, dry_run: bool) -> anyhow::Result<Vec<String>> {
    let settings = &config.backup;
    let dir = Path::new(&settings.directory);
    let real = host.real_path(dir);
    let mut names = Vec::new();
    match std::fs::read_dir(&real) {
        Ok(entries) => {
            for e in entries {
                let e = e?;
                if e.file_type()?.is_file()
                    && let Some(n) = e.file_name().to_str()
                {
                    names.push(n.to_string());
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", real.display())),
    }
    let keep = rotation::keep(
        &names,
        rotation::Keep {
            daily: settings.keep_daily,
            weekly: settings.keep_weekly,
            monthly: settings.keep_monthly,
        },
    );
    let mut removed: Vec<String> = names.into_iter().filter(|n| !keep.contains(n)).collect();
    removed.sort();
    if !dry_run {
        for n in &removed {
            host.remove_file(&dir.join(n))?;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::rotation::{Keep, keep, parse};
    use super::*;

    fn names(stamps: &[&str]) -> Vec<String> {
        stamps
            .iter()
            .map(|s| rotation::name("scribe", s, false))
            .collect()
    }

    #[test]
    fn names_parse_back_and_others_are_ignored() {
        let n = rotation::name("scribe-2", "20261201T023000Z", true);
        assert_eq!(n, "preau-scribe-2-20261201T023000Z.tar.gz.age");
        let s = parse(&n).unwrap();
        assert_eq!(
            (s.year, s.month, s.day, s.seconds),
            (2026, 12, 1, 2 * 3600 + 30 * 60)
        );
        for other in [
            "notes.txt",
            "preau-scribe-20261201T023000Z.tar.gz.partial",
            "preau-scribe-20261301T023000Z.tar.gz",
            "preau-scribe-2026120AT023000Z.tar.gz",
            "preau-scribe.tar.gz",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }

    #[test]
    fn calendar_days_and_weeks() {
        let day = |y, m, d| rotation::Stamp {
            year: y,
            month: m,
            day: d,
            seconds: 0,
        };
        assert_eq!(day(1970, 1, 1).days(), 0);
        assert_eq!(day(2000, 3, 1).days(), 11_017);
        assert_eq!(day(2026, 12, 1).days(), 20_788);
        // Monday 30 November and Sunday 6 December 2026 are one week,
        // Monday 7 December the next.
        assert_eq!(day(2026, 11, 30).week(), day(2026, 12, 6).week());
        assert_eq!(day(2026, 12, 7).week(), day(2026, 12, 6).week() + 1);
    }

    #[test]
    fn rotation_keeps_newest_of_each_day_week_month() {
        // Two a day for 70 days from 2026-09-23 to 2026-12-01.
        let mut all = Vec::new();
        for d in 0..70 {
            let days = 20_719 + d; // 2026-09-23
            let (y, m, dd) = civil(days);
            for h in ["02", "14"] {
                all.push(format!("{y:04}{m:02}{dd:02}T{h}0000Z"));
            }
        }
        let all_names = names(&all.iter().map(String::as_str).collect::<Vec<_>>());
        let kept = keep(
            &all_names,
            Keep {
                daily: 3,
                weekly: 2,
                monthly: 3,
            },
        );
        let kept: Vec<&str> = kept.iter().map(|n| &n[13..29]).collect();
        // Days: 1 December, 30 and 29 November; weeks: this one (from
        // Monday 30 November: 1 December) and the one before (29
        // November); months: December, November (30th), October (31st).
        assert_eq!(
            kept,
            vec![
                "20261031T140000Z",
                "20261129T140000Z",
                "20261130T140000Z",
                "20261201T140000Z"
            ]
        );
    }

    /// Inverse of days_from_civil, for building test names.
    fn civil(days: i64) -> (i64, u32, u32) {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        (yoe + era * 400 + i64::from(m <= 2), m, d)
    }

    #[test]
    fn rotation_always_keeps_the_newest_and_foreign_files() {
        let mut all = names(&["20260101T000000Z", "20250101T000000Z"]);
        all.push("copy-for-the-inspector.tar.gz".into());
        let kept = keep(
            &all,
            Keep {
                daily: 0,
                weekly: 0,
                monthly: 0,
            },
        );
        assert!(kept.contains("copy-for-the-inspector.tar.gz"));
        assert!(kept.contains(&all[0]));
        assert!(!kept.contains(&all[1]));
    }

    #[test]
    fn versions_compare_numerically() {
        assert_eq!(version_newer("0.10.0", "0.9.3"), Some(true));
        assert_eq!(version_newer("0.1.0", "0.1.0"), Some(false));
        assert_eq!(version_newer("0.1.0-rc1", "0.1.1"), Some(false));
        assert_eq!(version_newer("1.0", "0.9.9"), Some(true));
        assert_eq!(version_newer("one", "0.1.0"), None);
    }

    #[test]
    fn settings_are_checked() {
        let mut s = BackupSettings {
            directory: "backups".into(),
            recipients: vec!["age1nope".into()],
            keep_daily: 0,
            keep_weekly: 0,
            keep_monthly: 0,
            ..Default::default()
        };
        let mut problems = Problems::default();
        s.validate("backup", &mut problems);
        let text = format!("{problems:?}");
        assert!(text.contains("backup.directory"), "{text}");
        assert!(text.contains("backup.recipients[0]"), "{text}");
        assert!(text.contains("backup.keep_daily"), "{text}");
        s = BackupSettings::default();
        let mut problems = Problems::default();
        s.validate("backup", &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
    }
}
