#!/bin/sh
# Homework hand-out benchmark: 30 students x 10 MB.
#
# Measures `preau shares distribute` and `preau shares collect` side by side
# with the usual shell way (one `cp -r` + `chown -R` + `chmod -R` per student,
# as hand-out scripts of other school servers do), in one run, with
# hyperfine. Everything happens under a temporary --root directory (its own
# /etc/passwd with the test accounts): the host's accounts are untouched.
# Needs root (files are written as the students), sqlite3 and hyperfine.
#
#   bench/shares.sh [path/to/preau] [runs]
set -eu
PREAU=${1:-target/release/preau}
RUNS=${2:-7}
STUDENTS=30
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 1; }
PREAU=$(realpath "$PREAU")
ROOT=$(mktemp -d /var/tmp/preau-bench-shares.XXXXXX)
# Students and teachers must traverse it, as they traverse / on a server.
chmod 755 "$ROOT"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$ROOT"' EXIT

# Accounts: a teacher and 30 students (uids that exist nowhere else).
mkdir -p "$ROOT/etc"
{
  echo "root:x:0:0:root:/root:/bin/sh"
  echo "prof.maths:x:61000:100::/nonexistent:/usr/sbin/nologin"
  i=1; while [ $i -le $STUDENTS ]; do
    printf 'eleve.%02d:x:%d:100::/nonexistent:/usr/sbin/nologin\n' $i $((61000 + i)); i=$((i + 1))
  done
} > "$ROOT/etc/passwd"
{
  echo "root:x:0:"; echo "users:x:100:"
  for g in eleves profs personnels direction admins; do echo "$g:x:$((62000 + ${#g})):"; done
  echo "c-6a:x:62100:"
} > "$ROOT/etc/group"

"$PREAU" --root "$ROOT" init >/dev/null 2>&1 </dev/null || true
cat > "$ROOT/etc/preau/preau.toml" <<TOML
[establishment]
uai = "0999999X"
name = "Banc d'essai"

[modules]
enabled = ["accounts", "shares"]

[shares.quotas]
enabled = false
TOML
DB="$ROOT/var/lib/preau/preau.db"
{
  echo "INSERT INTO structures (id, kind, code, label, group_name, gid) VALUES (10, 'class', '6A', '6e A', 'c-6a', 62100);"
  echo "INSERT INTO people (id, kind, source, last_name, first_name, function, login, status, created_at, updated_at) VALUES (1, 'teacher', 'manual', 'maths', 'prof', 'ENS', 'prof.maths', 'active', 'now', 'now');"
  echo "INSERT INTO services VALUES (1, 'MATHS', 10);"
  i=1; while [ $i -le $STUDENTS ]; do
    l=$(printf 'eleve.%02d' $i)
    echo "INSERT INTO people (id, kind, source, last_name, first_name, login, status, created_at, updated_at) VALUES ($((100 + i)), 'student', 'manual', '$l', '$l', '$l', 'active', 'now', 'now');"
    echo "INSERT INTO memberships VALUES ($((100 + i)), 10);"
    i=$((i + 1))
  done
} | sqlite3 "$DB"
"$PREAU" --root "$ROOT" apply shares >/dev/null

# The teacher's 10 MB: five 2 MB files.
SRC="$ROOT/srv/preau/perso/prof.maths/devoirs/dm1"
mkdir -p "$SRC"
for n in 1 2 3 4 5; do head -c 2097152 /dev/urandom > "$SRC/doc$n.bin"; done
chown -R 61000:100 "$SRC"

PERSO="$ROOT/srv/preau/perso"
CLEAN="rm -rf $PERSO/eleve.*/devoirs/dm1 $PERSO/prof.maths/devoirs/ramasses"
# The per-student shell way, for comparison (numeric owners: the accounts
# exist only in the --root's /etc/passwd).
SHELL_DISTRIBUTE="i=1; while [ \$i -le $STUDENTS ]; do l=\$(printf eleve.%02d \$i); \
d=$PERSO/\$l/devoirs/dm1; cp -r $SRC \$d && chown -R \$((61000+i)):100 \$d && chmod -R go-rwx \$d; i=\$((i+1)); done"
SHELL_COLLECT="i=1; while [ \$i -le $STUDENTS ]; do l=\$(printf eleve.%02d \$i); \
d=$PERSO/prof.maths/devoirs/ramasses/dm1/\$l; mkdir -p \$d && cp -r $PERSO/\$l/devoirs/dm1/. \$d && chown -R 61000:100 \$d; i=\$((i+1)); done"

P="$PREAU --root $ROOT shares"
T="--teacher prof.maths --to 6A dm1"
echo "== distribute: $STUDENTS students x 10 MB"
hyperfine --runs "$RUNS" --prepare "$CLEAN; sync" \
  -n "preau shares distribute" "$P distribute $T" \
  -n "shell cp+chown per student" "$SHELL_DISTRIBUTE" \
  --export-json "$ROOT/distribute.json"
echo "== collect: $STUDENTS students x 10 MB"
hyperfine --runs "$RUNS" --prepare "rm -rf $PERSO/prof.maths/devoirs/ramasses; $P distribute $T >/dev/null; sync" \
  -n "preau shares collect" "$P collect $T" \
  -n "shell cp+chown per student" "$SHELL_COLLECT" \
  --export-json "$ROOT/collect.json"
echo "== distribute again (nothing new to copy)"
hyperfine --runs "$RUNS" -n "preau shares distribute (second run)" "$P distribute $T"

python3 - "$ROOT/distribute.json" "$ROOT/collect.json" <<'PY'
import json, sys
for f in sys.argv[1:]:
    r = json.load(open(f))["results"]
    a, b = r[0]["median"], r[1]["median"]
    print(f"{r[0]['command']}: median {a*1000:.0f} ms; {r[1]['command']}: median {b*1000:.0f} ms; ratio {b/a:.1f}x")
PY
