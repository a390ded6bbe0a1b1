#!/bin/sh
# School-life daily pages benchmark: `preau demo` (a week of timetable,
# homework, messages) on a free loopback port, measured with wrk over
# HTTPS, closed loop (N connections, each sending its next request as soon
# as the previous answer arrives).
#
#   week timetable  GET /vie-scolaire/emploi-du-temps, the teacher's week,
#                   50 connections, the teacher's session
#   iCalendar feed  GET /vie-scolaire/agenda/{token}.ics, the teacher's
#                   feed (14 days back, 84 ahead), 20 connections
#   to-do list      GET /vie-scolaire/travail, the student's, 50 connections
#   inbox           GET /vie-scolaire/messages, the parent's, 50 connections
#
# Prints wrk's latency distribution (p50/p75/p90/p99) and requests/s.
#
# usage: bench/schoollog.sh [PREAU_BINARY] [SECONDS]
#   PREAU_BINARY  default target/release/preau (cargo build --release)
#   SECONDS       duration of each run (default 10)
# needs: wrk (scripts/bench-deps.txt), python3, curl
set -eu
BIN=${1:-target/release/preau}
SECS=${2:-10}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release" >&2; exit 1; }
ROOT=$(mktemp -d /tmp/preau-bench-schoollog.XXXXXX)
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$ROOT"; }
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --json demo --listen "127.0.0.1:$PORT" --dir "$ROOT/demo" >"$ROOT/demo.json" 2>"$ROOT/serve.log" &
PID=$!
for _ in $(seq 1 300); do [ -s "$ROOT/demo.json" ] && break; sleep 0.1; done
[ -s "$ROOT/demo.json" ] || { echo "the demo server did not start" >&2; cat "$ROOT/serve.log" >&2; exit 1; }
URL="https://127.0.0.1:$PORT"
account() { python3 -c "import json,sys; d=json.load(open('$ROOT/demo.json')); a=[a for a in d['accounts'] if a['role']=='$1'][0]; print(a['$2'])"; }

# A session: the sign-in form's token is a double-submit cookie.
sign_in() {
    curl -sk -o /dev/null -D - -H 'Sec-Fetch-Site: same-origin' \
        -b '__Host-preau-csrf=bench' \
        --data-urlencode "login=$(account "$1" login)" --data-urlencode "password=$(account "$1" password)" --data 'csrf=bench' \
        "$URL/connexion" | sed -n 's/^set-cookie: __Host-preau=\([^;]*\);.*/\1/ip'
}
TEACHER=$(sign_in teacher)
STUDENT=$(sign_in student)
PARENT=$(sign_in parent)
[ -n "$TEACHER" ] && [ -n "$STUDENT" ] && [ -n "$PARENT" ] || { echo "cannot sign in" >&2; exit 1; }

# The teacher's feed link: the page's form token, then a new link.
CSRF=$(curl -sk -H "Cookie: __Host-preau=$TEACHER" "$URL/vie-scolaire/agenda" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
FEED=$(curl -sk -H "Cookie: __Host-preau=$TEACHER" -H 'Sec-Fetch-Site: same-origin' \
    --data "csrf=$CSRF&action=nouveau" "$URL/vie-scolaire/agenda" | sed -n 's/.*class="feed-url mono"><a href="[^"]*\(\/vie-scolaire\/agenda\/[^"]*\.ics\)".*/\1/p')
[ -n "$FEED" ] || { echo "no feed link" >&2; exit 1; }
EVENTS=$(curl -sk "$URL$FEED" | grep -c '^BEGIN:VEVENT' || true)

run() { # name, connections, cookie or "", path
    echo "== $1: GET $4, $2 connections, ${SECS}s"
    if [ -n "$3" ]; then
        curl -sk -o /dev/null -w 'status %{http_code}, %{size_download} bytes\n' -H "Cookie: __Host-preau=$3" "$URL$4"
        wrk -t2 -c"$2" -d"${SECS}s" --latency -H "Cookie: __Host-preau=$3" "$URL$4"
    else
        curl -sk -o /dev/null -w 'status %{http_code}, %{size_download} bytes\n' "$URL$4"
        wrk -t2 -c"$2" -d"${SECS}s" --latency "$URL$4"
    fi
}
run "week timetable (teacher)" 50 "$TEACHER" /vie-scolaire/emploi-du-temps
echo "(feed of $EVENTS events)"
run "iCalendar feed (teacher)" 20 "" "$FEED"
run "to-do list (student)" 50 "$STUDENT" /vie-scolaire/travail
run "inbox (parent)" 50 "$PARENT" /vie-scolaire/messages
