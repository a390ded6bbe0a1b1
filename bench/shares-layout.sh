#!/bin/sh
# Layout benchmark: folders and POSIX ACLs for a school of 2,400 students
# (80 classes of 30, 150 teachers teaching 6 classes each).
#
# Measures `preau apply shares` on an empty shares root (creates every
# folder and sets every ACL with one `setfacl --restore`), then
# `preau plan shares` once everything is right (one `getfacl` per 1,000
# folders), side by side with the one-process-per-folder way (`setfacl -m`
# and `setfacl -d -m` for each folder, as shell provisioning scripts do).
# Everything happens under a temporary --root; needs root, sqlite3, hyperfine.
#
#   bench/shares-layout.sh [path/to/preau] [runs]
set -eu
PREAU=$(realpath "${1:-target/release/preau}")
RUNS=${2:-5}
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
ROOT=$(mktemp -d /var/tmp/preau-bench-layout.XXXXXX)
chmod 755 "$ROOT"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$ROOT"' EXIT
now_ms() { date +%s%3N; }

python3 - "$ROOT" <<'PY'
import os, sys, sqlite3
root = sys.argv[1]
os.makedirs(f"{root}/etc", exist_ok=True)
classes = [f"{lvl}{c}" for lvl in "6543" for c in "ABCDEFGHIJKLMNOPQRST"]  # 80
with open(f"{root}/etc/passwd", "w") as p, open(f"{root}/etc/group", "w") as g:
    p.write("root:x:0:0:root:/root:/bin/sh\n")
    g.write("root:x:0:\neleves:x:70000:\nprofs:x:70001:\npersonnels:x:70002:\n")
    for i, c in enumerate(classes):
        g.write(f"c-{c.lower()}:x:{70100 + i}:\n")
    for i in range(2400):
        p.write(f"eleve.{i:04d}:x:{71000 + i}:70000::/nonexistent:/usr/sbin/nologin\n")
    for i in range(150):
        p.write(f"prof.{i:03d}:x:{74000 + i}:70001::/nonexistent:/usr/sbin/nologin\n")
open(f"{root}/classes.txt", "w").write("\n".join(classes))
PY
cat > "$ROOT/preau.toml" <<TOML
[establishment]
uai = "0999999X"
name = "Banc d'essai"

[modules]
enabled = ["accounts", "shares"]

[shares.quotas]
enabled = false
TOML
"$PREAU" --root "$ROOT" init >/dev/null 2>&1 </dev/null || true
cp "$ROOT/preau.toml" "$ROOT/etc/preau/preau.toml"
python3 - "$ROOT" <<'PY'
import sys, sqlite3
root = sys.argv[1]
db = sqlite3.connect(f"{root}/var/lib/preau/preau.db")
classes = open(f"{root}/classes.txt").read().split()
for i, c in enumerate(classes):
    db.execute("INSERT INTO structures (id, kind, code, label, group_name, gid) VALUES (?, 'class', ?, ?, ?, ?)",
               (1000 + i, c, c, f"c-{c.lower()}", 70100 + i))
for i in range(2400):
    l = f"eleve.{i:04d}"
    db.execute("INSERT INTO people (id, kind, source, last_name, first_name, login, status, created_at, updated_at) VALUES (?, 'student', 'manual', ?, ?, ?, 'active', 'now', 'now')", (i + 1, l, l, l))
    db.execute("INSERT INTO memberships VALUES (?, ?)", (i + 1, 1000 + i // 30))
for i in range(150):
    l = f"prof.{i:03d}"
    db.execute("INSERT INTO people (id, kind, source, last_name, first_name, function, login, status, created_at, updated_at) VALUES (?, 'teacher', 'manual', ?, ?, 'ENS', ?, 'active', 'now', 'now')", (5000 + i, l, l, l))
    for k in range(6):
        db.execute("INSERT INTO services VALUES (?, ?, ?)", (5000 + i, f"M{k}", 1000 + (i * 6 + k) % 80))
db.commit()
PY

P="$PREAU --root $ROOT"
FOLDERS=$($P plan shares 2>/dev/null | grep -o 'create [0-9]* folder' | grep -o '[0-9]*' || echo "?")
echo "== $FOLDERS folders"
t0=$(now_ms); $P apply shares >/dev/null; t1=$(now_ms)
echo "preau apply shares (first, creates everything): $((t1 - t0)) ms"
hyperfine --runs "$RUNS" -n "preau plan shares (nothing to change)" "$P plan shares" --export-json "$ROOT/plan.json"

# The one-process-per-folder way, on the same folders (already created):
# two setfacl processes per folder (access and default ACL).
find "$ROOT/srv/preau" -mindepth 2 -maxdepth 3 -type d > "$ROOT/folders.txt"
N=$(wc -l < "$ROOT/folders.txt")
t0=$(now_ms)
while read -r d; do
  setfacl -m u::rwx,g::---,o::---,g:70000:r-x "$d"
  setfacl -d -m u::rwx,g::---,o::---,g:70000:r-x "$d"
done < "$ROOT/folders.txt"
t1=$(now_ms)
echo "setfacl per folder ($N folders, 2 processes each): $((t1 - t0)) ms"
# Put them back as preau wants them, and time that repair.
t0=$(now_ms); $P apply shares >/dev/null; t1=$(now_ms)
echo "preau apply shares (repair every changed ACL): $((t1 - t0)) ms"
python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"preau plan shares: median {r['median']*1000:.0f} ms\")" "$ROOT/plan.json"
