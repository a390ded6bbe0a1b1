#!/bin/sh
# Accounts benchmark: a whole school, from the national XML exports to
# working Unix + Samba accounts with home directories.
#
#   Préau:        preau accounts import FILES --apply   (one process: parse,
#                 diff, one SQLite transaction, passwd/shadow/group/gshadow
#                 written once, homes, one pdbedit import)
#   per account:  groupadd per group, then per person useradd -m + smbpasswd -a
#                 (what one-process-per-account tools do), same people, same
#                 groups, same passwords
#
# Both run in the same invocation inside a private mount namespace (its own
# copies of /etc, /srv, /home, /var/lib/samba): the host's accounts are
# never touched. Run as root.
#
# usage: bench/accounts.sh [STUDENTS] [RUNS]
#   STUDENTS  students in the generated school (default 2400; parents and
#             ~1 teacher per 12 students come with them)
#   RUNS      Préau runs (median reported; default 3). The per-account way
#             runs once (it takes minutes).
#   PREAU     the binary (default: target/release/preau, or
#             $CARGO_TARGET_DIR/release/preau)
#   PEER=0    skip the per-account way (Préau's figures only)
set -eu

if [ -z "${PREAU_BENCH_INSIDE:-}" ]; then
  HERE=$(cd "$(dirname "$0")/.." && pwd)
  : "${PREAU:=${CARGO_TARGET_DIR:-$HERE/target}/release/preau}"
  GEN="$HERE/../shared/fixtures/gen_school.py"
  [ -f "$GEN" ] || GEN=/work/shared/fixtures/gen_school.py
  [ -x "$PREAU" ] || { echo "no $PREAU: cargo build --release first" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "run as root (private mount namespace)" >&2; exit 1; }
  W=$(mktemp -d /tmp/preau-bench-accounts-XXXXXX)
  PREAU_BENCH_INSIDE=1 STUDENTS=${1:-2400} RUNS=${2:-3} PREAU=$PREAU GEN=$GEN W=$W PEER=${PEER:-1}
  export PREAU_BENCH_INSIDE STUDENTS RUNS PREAU GEN W PEER
  status=0
  unshare --mount --fork "$0" || status=$?
  rm -rf "$W"
  exit $status
fi

# ---- inside the private mount namespace ----
mount --make-rprivate /
mkdir -p "$W/etc" "$W/srv" "$W/home" "$W/samba" "$W/pristine" "$W/school" "$W/state" "$W/log"
cp -a /etc/. "$W/etc/"
mount --bind "$W/etc" /etc
mount --bind "$W/srv" /srv
mount --bind "$W/home" /home
[ -d /var/lib/samba ] && cp -a /var/lib/samba/. "$W/samba/"
mount --bind "$W/samba" /var/lib/samba
mkdir -p /var/lib/samba/private
PDB=/var/lib/samba/private/passdb.tdb
cp -a /etc/passwd /etc/shadow /etc/group /etc/gshadow "$W/pristine/"
[ -f $PDB ] && cp -a $PDB "$W/pristine/passdb.tdb"

reset() {
  cp -a "$W/pristine/passwd" "$W/pristine/shadow" "$W/pristine/group" "$W/pristine/gshadow" /etc/
  rm -f $PDB
  [ -f "$W/pristine/passdb.tdb" ] && cp -a "$W/pristine/passdb.tdb" $PDB
  rm -rf /srv/* "$W/state"
  mkdir -p "$W/state"
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

python3 "$GEN" --students "$STUDENTS" "$W/school" | sed 's/^/school: /'
FILES="$W/school/ElevesSansAdresses.zip $W/school/ResponsablesAvecAdresses.xml $W/school/sts_emp_0999999X_2026.xml"
cat > "$W/preau.toml" <<EOT
[establishment]
uai = "0999999X"
name = "Collège des Tilleuls"

[modules]
enabled = ["accounts"]

[paths]
state_dir = "$W/state"
log_dir = "$W/log"
EOT
P="$PREAU --config $W/preau.toml"

echo "== Préau: import --apply, $RUNS run(s) from a blank system"
full=""; again=""
for i in $(seq 1 "$RUNS"); do
  reset
  t0=$(now)
  # shellcheck disable=SC2086
  $P accounts import $FILES --apply > "$W/import.log"
  t1=$(now)
  # shellcheck disable=SC2086
  $P accounts import $FILES --apply > "$W/reimport.log"
  t2=$(now)
  grep -q "already matches" "$W/reimport.log" || { echo "re-import changed something" >&2; cat "$W/reimport.log" >&2; exit 1; }
  full="$full $(elapsed "$t0" "$t1")"
  again="$again $(elapsed "$t1" "$t2")"
  echo "  run $i: import $(elapsed "$t0" "$t1") s, re-import with no change $(elapsed "$t1" "$t2") s"
done
tail -n 3 "$W/import.log" | sed 's/^/  /'
users=$(awk -F: '$3 >= 10010 && $3 <= 59999' /etc/passwd | wc -l)
homes=$(find /srv/preau/perso -mindepth 1 -maxdepth 1 -type d | wc -l)
samba=$(pdbedit -L -b tdbsam:$PDB 2>/dev/null | wc -l)
echo "  result: $users Unix users, $homes home directories, $samba Samba accounts, parents: $($P --json accounts list --kind parent | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') (directory only)"
[ "$users" -gt 0 ] && [ "$users" = "$homes" ] && [ "$samba" -ge "$users" ] || { echo "Préau's result is incomplete" >&2; exit 1; }

if [ "$PEER" = 0 ]; then
  echo "== summary: import $(echo "$full" | median) s, re-import $(echo "$again" | median) s (per-account way skipped)"
  exit 0
fi

# The same people for the per-account way: login, primary group,
# supplementary groups, password (from Préau's own login sheets).
$P accounts sheets --staff --out "$W/sheets" > /dev/null
cat "$W/sheets"/*.csv | awk -F';' '$1 != "classe" { print $4 ":" $5 }' | sort -u > "$W/passwords"
awk -F: 'FNR == NR { if ($3 >= 10000 && $3 <= 59999) { gname[$3] = $1; if ($3 >= 10010) order[++n] = $1; split($4, m, ","); for (k in m) if (m[k] != "") supp[m[k]] = supp[m[k]] (supp[m[k]] ? "," : "") $1 } next }
         $3 >= 10010 && $3 <= 59999 { prim[$1] = gname[$4] }
         END { for (i = 1; i <= n; i++) print "G:" order[i]; for (u in prim) print "U:" u ":" prim[u] ":" supp[u] }' /etc/group /etc/passwd > "$W/people.raw"
grep '^G:' "$W/people.raw" | cut -d: -f2 > "$W/groups"
grep '^U:' "$W/people.raw" | cut -d: -f2- | sort > "$W/users"
join -t: "$W/users" "$W/passwords" > "$W/people"
n=$(wc -l < "$W/people")
echo "== per account: groupadd x $(($(wc -l < "$W/groups") + 3)), then useradd -m + smbpasswd -a x $n"
reset
mkdir -p /srv/peer/home
t0=$(now)
for g in eleves profs personnels $(cat "$W/groups"); do groupadd "$g"; done
while IFS=: read -r login prim supp pw; do
  if [ -n "$supp" ]; then
    useradd -m -d "/srv/peer/home/$login" -g "$prim" -G "$supp" -s /usr/sbin/nologin "$login"
  else
    useradd -m -d "/srv/peer/home/$login" -g "$prim" -s /usr/sbin/nologin "$login"
  fi
  printf '%s\n%s\n' "$pw" "$pw" | smbpasswd -c /etc/samba/smb.conf -a -s "$login" > /dev/null
done < "$W/people"
t1=$(now)
peer=$(elapsed "$t0" "$t1")
echo "  $peer s ($(pdbedit -L -b tdbsam:$PDB 2>/dev/null | wc -l) Samba accounts, $(find /srv/peer/home -mindepth 1 -maxdepth 1 | wc -l) homes)"

mf=$(echo "$full" | median); ma=$(echo "$again" | median)
echo
echo "== summary ($STUDENTS students, $n system accounts, $(nproc) CPU)"
echo "  Préau import, XML to working accounts (median of $RUNS): $mf s   (goal < 15 s)"
echo "  Préau re-import, nothing changed (median of $RUNS):      $ma s   (goal < 2 s)"
echo "  per account (useradd + smbpasswd):                        $peer s"
awk -v p="$peer" -v f="$mf" 'BEGIN { printf "  ratio: Préau is %.1fx faster (goal >= 20x)\n", p / f }'
