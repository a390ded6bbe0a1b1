#!/bin/sh
# School-life benchmark (roll call and parents' reading), on the real
# `preau serve` over HTTPS in a temporary --root:
#
#   a school of 2,400 students (shared/fixtures/gen_school.py, imported
#   with `preau accounts import`), a school year, and for each of 200
#   teacher sessions an exceptional lesson today with one of the classes
#   (bench/viescolaire_setup.py; sessions are created in the store as
#   sign-in creates them);
#
#   rolls    POST /vie-scolaire/appel/{lesson}: 200 connections (closed
#            loop, no pause), each request a whole roll saved (one
#            IMMEDIATE transaction with its audit entry); consecutive
#            saves of a lesson alternate two rolls, so every save changes
#            lines and writes history. Afterwards the rows are counted:
#            audit entries = saved rolls, attendance lines = roster sizes.
#            Then the same 200 sessions paced (TEACHER_PAUSE_MS between two
#            rolls of a connection): the latency at about 1,000 rolls/s.
#   parents  GET /vie-scolaire/eleves/{child}/absences (the child's day,
#            half-days, absences): 2,000 parent sessions on 2,000
#            connections, each pausing PAUSE_MS between pages (open-ish
#            loop: "2,000 concurrent users"), then 200 connections without
#            pause (capacity).
#
# Prints wrk's figures (p50/p90/p99, requests/s, statuses), the row
# counts, and the server's resident memory (VmRSS, peak VmHWM).
#
# usage: bench/viescolaire.sh [PREAU_BINARY] [SECONDS]
#   PREAU_BINARY  default target/release/preau (cargo build --release)
#   SECONDS       duration of each run (default 20)
#   PAUSE_MS      parents' pause, "min,max" milliseconds (default 5000,15000)
#   TEACHER_PAUSE_MS  the paced rolls' pause, "min,max" (default 150,250)
#   PERF          a file: CPU profile of the server during the rolls
# needs: wrk, sqlite3, python3 (scripts/bench-deps.txt)
set -eu
BIN=${1:-target/release/preau}
SECS=${2:-20}
PAUSE=${PAUSE_MS:-5000,15000}
TPAUSE=${TEACHER_PAUSE_MS:-150,250}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v wrk >/dev/null || { echo "wrk is needed: scripts/install-deps --bench" >&2; exit 1; }
command -v sqlite3 >/dev/null || { echo "sqlite3 is needed: scripts/install-deps --bench" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release" >&2; exit 1; }
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
ROOT=$(mktemp -d /tmp/preau-bench-vs.XXXXXX)
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$ROOT"; }
trap cleanup EXIT INT TERM
ulimit -n 65536 2>/dev/null || ulimit -n 8192

P() { "$BIN" --root "$ROOT/root" "$@"; }
mkdir -p "$ROOT/root"
P --json init --name "Collège du banc d'essai" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s|#listen = \[\"\[::\]:443\"\]|listen = [\"127.0.0.1:$PORT\"]|" "$ROOT/root/etc/preau/preau.toml"
grep -q "127.0.0.1:$PORT" "$ROOT/root/etc/preau/preau.toml" || { echo "cannot set the listen address" >&2; exit 1; }

echo "== school: 2,400 students (gen_school.py), imported"
python3 "$HERE/../../shared/fixtures/gen_school.py" --students 2400 "$ROOT/school" >/dev/null 2>&1 \
  || python3 /work/shared/fixtures/gen_school.py --students 2400 "$ROOT/school" >/dev/null
P accounts import --apply --no-system "$ROOT"/school/ElevesSansAdresses.xml \
  "$ROOT"/school/ResponsablesAvecAdresses.xml "$ROOT"/school/sts_emp_*.xml >/dev/null
Y=$(date +%Y); M=$(date +%m)
if [ "$M" -ge 8 ]; then Y1=$Y; else Y1=$((Y - 1)); fi
P viescolaire year set --label "$Y1-$((Y1 + 1))" --from "$Y1-09-01" --to "$((Y1 + 1))-07-04" >/dev/null
DB="$ROOT/root/var/lib/preau/preau.db"
python3 "$HERE/viescolaire_setup.py" "$DB" "$ROOT" 200 2000
sqlite3 "$DB" "SELECT 'people: ' || count(*) || ' (' || sum(kind = 'student') || ' students, ' || sum(kind = 'parent') || ' parents, ' || sum(kind = 'teacher') || ' teachers)' FROM people"

"$BIN" --root "$ROOT/root" serve >"$ROOT/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 200); do
    curl -sk -o /dev/null "https://127.0.0.1:$PORT/connexion" && break
    sleep 0.1
done
URL="https://127.0.0.1:$PORT"
rss() { grep -E 'VmRSS|VmHWM' "/proc/$PID/status" | tr -s ' \t' ' ' | tr '\n' ' '; echo; }
echo "== server memory after start: $(rss)"

FIRST=$(sed -n '3s/^  {"\([^"]*\)", "\([^"]*\)", "\([^"]*\)".*/\1 \2 \3/p' "$ROOT/teachers.lua")
set -- $FIRST
curl -sk -o /dev/null -w "one roll: status %{http_code} in %{time_total}s\n" -H "Cookie: $2" \
  -H 'Sec-Fetch-Site: same-origin' --data "$3" "$URL$1"
BEFORE=$(sqlite3 "$DB" "SELECT count(*) FROM audit_log WHERE action = 'appel'")

echo "== rolls: POST /vie-scolaire/appel/{lesson}, 200 teacher sessions on 200 connections, ${SECS}s, no pause"
# PERF=FILE: a CPU profile of the server during the rolls (perf record).
if [ -n "${PERF:-}" ]; then perf record -F 999 -o "$PERF" -p "$PID" -- sleep "$SECS" 2>/dev/null & fi
PAUSE_MS= wrk -t2 -c200 -d"${SECS}s" --timeout 10s -s "$ROOT/teachers.lua" "$URL" | grep -E 'RESULT|Requests/sec|Latency'
sleep 2
echo "== rows after the rolls"
sqlite3 "$DB" "SELECT 'rolls saved (audit entries): ' || (count(*) - $BEFORE) FROM audit_log WHERE action = 'appel'"
sqlite3 "$DB" "SELECT 'bench lessons with a roll: ' || count(*) || ', attendance lines: ' || (SELECT count(*) FROM vs_attendance a JOIN vs_lessons l ON l.id = a.lesson_id WHERE l.subject_code = 'BENCH') || ', expected (sum of their rosters): ' || sum((SELECT count(*) FROM memberships m JOIN people p ON p.id = m.person_id AND p.kind = 'student' AND p.status = 'active' WHERE m.structure_id = l.structure_id)) FROM vs_lessons l WHERE l.subject_code = 'BENCH' AND l.roll_taken_at IS NOT NULL"
sqlite3 "$DB" "SELECT 'history lines: ' || count(*) FROM vs_attendance_history"
sqlite3 "$DB" "SELECT 'absent now: ' || count(*) FROM vs_attendance WHERE status = 'absent'"
echo "== server memory after the rolls: $(rss)"
echo "== rolls paced: 200 teacher sessions on 200 connections, each pausing ${TPAUSE} ms between rolls (offered about 1,000 rolls/s), ${SECS}s"
PAUSE_MS=$TPAUSE wrk -t2 -c200 -d"${SECS}s" --timeout 10s -s "$ROOT/teachers.lua" "$URL" | grep -E 'RESULT|Requests/sec|Latency'
sleep 2
sqlite3 "$DB" "SELECT 'rolls saved in all (audit entries): ' || (count(*) - $BEFORE) FROM audit_log WHERE action = 'appel'"

FIRSTP=$(sed -n '3s/^  {"\([^"]*\)", "\([^"]*\)".*/\1 \2/p' "$ROOT/parents.lua")
set -- $FIRSTP
curl -sk -o /dev/null -w "one parent page: status %{http_code} in %{time_total}s\n" -H "Cookie: $2" "$URL$1"
echo "== parents: GET /vie-scolaire/eleves/{child}/absences, 2,000 parent sessions on 2,000 connections, pause ${PAUSE} ms, ${SECS}s"
PAUSE_MS=$PAUSE wrk -t2 -c2000 -d"${SECS}s" --timeout 10s -s "$ROOT/parents.lua" "$URL" | grep -E 'RESULT|Requests/sec|Latency'
echo "== server memory with 2,000 parent connections: $(rss)"
echo "== parents, capacity: 200 connections, no pause, ${SECS}s"
PAUSE_MS= wrk -t2 -c200 -d"${SECS}s" --timeout 10s -s "$ROOT/parents.lua" "$URL" | grep -E 'RESULT|Requests/sec|Latency'
echo "== server memory at the end: $(rss)"
grep -ciE 'error|panic' "$ROOT/serve.log" | sed 's/^/server log lines with error or panic: /'
