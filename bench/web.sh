#!/bin/sh
# Web console benchmark: `preau serve` on the demo school (154 people) in a
# temporary --root on a free loopback port, measured with wrk over HTTPS.
#
#   dashboard      GET /console, 50 connections, an administrator's session
#   people search  GET /console/personnes?q=..., 50 connections, same session
#   sign-in        POST /connexion, 20 connections, a teacher's login and
#                  password (argon2id at the argon2 crate's default cost:
#                  m=19456 KiB, t=2, p=1), a new session each time
#
# Prints wrk's latency distribution (p50/p75/p90/p99) and requests per
# second, and the server's peak resident memory (VmHWM).
#
# usage: bench/web.sh [PREAU_BINARY] [SECONDS]
#   PREAU_BINARY  default target/release/preau (cargo build --release)
#   SECONDS       duration of each run (default 15)
# needs: wrk (scripts/bench-deps.txt), python3, curl
set -eu
BIN=${1:-target/release/preau}
SECS=${2:-15}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release" >&2; exit 1; }
ROOT=$(mktemp -d /tmp/preau-bench-web.XXXXXX)
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$ROOT"; }
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --json demo --listen "127.0.0.1:$PORT" --dir "$ROOT/demo" >"$ROOT/demo.json" 2>"$ROOT/serve.log" &
PID=$!
for _ in $(seq 1 200); do [ -s "$ROOT/demo.json" ] && break; sleep 0.1; done
[ -s "$ROOT/demo.json" ] || { echo "the demo server did not start" >&2; cat "$ROOT/serve.log" >&2; exit 1; }
URL="https://127.0.0.1:$PORT"
account() { python3 -c "import json,sys; d=json.load(open('$ROOT/demo.json')); a=[a for a in d['accounts'] if a['role']=='$1'][0]; print(a['$2'])"; }

# A session: sign in once with curl (the sign-in form's token is a
# double-submit cookie: any value, the same in the cookie and the form).
sign_in() {
    curl -sk -o /dev/null -D - -H 'Sec-Fetch-Site: same-origin' \
        -b '__Host-preau-csrf=bench' \
        --data-urlencode "login=$1" --data-urlencode "password=$2" --data 'csrf=bench' \
        "$URL/connexion" | sed -n 's/^set-cookie: __Host-preau=\([^;]*\);.*/\1/ip'
}
ADMIN_TOKEN=$(sign_in "$(account admin login)" "$(account admin password)")
[ -n "$ADMIN_TOKEN" ] || { echo "cannot sign in as admin" >&2; exit 1; }
COOKIE="Cookie: __Host-preau=$ADMIN_TOKEN"
Q=$(account student login | cut -c1-3)

echo "== dashboard: GET /console, 50 connections, ${SECS}s"
curl -sk -o /dev/null -w 'status %{http_code}\n' -H "$COOKIE" "$URL/console"
wrk -t2 -c50 -d"${SECS}s" --latency -H "$COOKIE" "$URL/console"
echo "== people search: GET /console/personnes?q=$Q, 50 connections, ${SECS}s"
curl -sk -o /dev/null -w 'status %{http_code}\n' -H "$COOKIE" "$URL/console/personnes?q=$Q"
wrk -t2 -c50 -d"${SECS}s" --latency -H "$COOKIE" "$URL/console/personnes?q=$Q"

cat >"$ROOT/signin.lua" <<LUA
wrk.method = "POST"
wrk.body = "login=$(account teacher login)&password=$(account teacher password)&csrf=bench"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "__Host-preau-csrf=bench"
wrk.headers["Sec-Fetch-Site"] = "same-origin"
LUA
echo "== sign-in: POST /connexion, 20 connections, ${SECS}s (expect 303)"
wrk -t2 -c20 -d"${SECS}s" --latency -s "$ROOT/signin.lua" "$URL/connexion"
echo "== server memory"
grep -E 'VmHWM|VmRSS' "/proc/$PID/status"
echo "sessions created: $(sqlite3 "$ROOT/demo/var/lib/preau/preau.db" 'SELECT count(*) FROM web_sessions' 2>/dev/null || echo '?')"
