#!/usr/bin/env bash
# Préau's filtering proxy against Squid 5 + squidGuard, in one run, with
# the same category lists (gen_blacklists.py, 5 million domains by
# default), the same local origin server and the same load (wrk).
#
# Measures: list load time (Préau: loading the index; squidGuard: building
# its Berkeley DB with `squidGuard -C all`, then squid's start with its
# helpers), resident memory once loaded and after the load test, requests
# per second and p50/p99 latency (median of ROUNDS rounds, alternating),
# and Préau's mean list lookup.
#
# usage: bench/proxy.sh            (env: DOMAINS DURATION CONNECTIONS ROUNDS WORK)
# Needs: squid squidguard wrk python3 (Debian). Runs as root (squid drops
# to the user proxy); everything lives in WORK, squid on free high ports
# with its own configuration, never the system one.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
FIX="$REPO/../shared/fixtures"
[ -d "$FIX" ] || FIX=/work/shared/fixtures
DOMAINS=${DOMAINS:-5000000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
ROUNDS=${ROUNDS:-3}
WORK=${WORK:-$(mktemp -d /tmp/preau-bench-proxy.XXXXXX)}
TARGET=${CARGO_TARGET_DIR:-$REPO/target}

(cd "$REPO" && cargo build --release --bin preau --example bench_origin)
# Private copies: a shared target directory may get another build's binary.
mkdir -p "$WORK/bin"
cp "$TARGET/release/preau" "$TARGET/release/examples/bench_origin" "$WORK/bin/"
PREAU="$WORK/bin/preau"
ORIGIN_BIN="$WORK/bin/bench_origin"
"$PREAU" blacklists --help >/dev/null || { echo "$PREAU has no proxy module (another build?)"; exit 1; }

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
wait_port() { for _ in $(seq 1 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    [ -f "$WORK/squid/squid.pid" ] && kill "$(cat "$WORK/squid/squid.pid")" 2>/dev/null || true
}
trap cleanup EXIT
trap "exit 130" INT TERM

echo "work directory: $WORK"
if [ ! -f "$WORK/ut1/adult/domains" ]; then
    python3 "$FIX/gen_blacklists.py" --domains "$DOMAINS" "$WORK/ut1"
fi
ENTRIES=$(cat "$WORK"/ut1/*/domains | wc -l)
BLOCKED=$(sed -n '1000p' "$WORK/ut1/adult/domains")
echo "lists: $ENTRIES domains; a blocked name: $BLOCKED"

ORIGIN_PORT=$(free_port)
"$ORIGIN_BIN" "127.0.0.1:$ORIGIN_PORT" & PIDS+=($!)
wait_port "$ORIGIN_PORT"

# wrk script: 9 requests in 10 to the origin, 1 to a blocked name.
cat > "$WORK/mix.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  if n % 10 == 0 then
    return wrk.format("GET", "http://www.$BLOCKED/page")
  end
  return wrk.format("GET", "http://127.0.0.1:$ORIGIN_PORT/")
end
LUA

# ---------------------------------------------------------------- Préau
ROOT="$WORK/preau-root"
rm -rf "$ROOT"
"$PREAU" --root "$ROOT" init >/dev/null
PREAU_PORT=$(free_port)
HTTPS_PORT=$(free_port)
sed -i -e 's/^#enabled = \[\]/enabled = ["proxy"]/' \
       -e "0,/^#listen = \[\"\[::\]:443\"\]/s//listen = [\"127.0.0.1:$HTTPS_PORT\"]/" \
       -e "s/^#listen = \[\"0.0.0.0:3128\"\]/listen = [\"127.0.0.1:$PREAU_PORT\"]/" \
       -e "s/^#local_destinations = false/local_destinations = true/" \
       "$ROOT/etc/preau/preau.toml"
T0=$(now_ms)
"$PREAU" --root "$ROOT" blacklists update "$WORK/ut1" >/dev/null
PREAU_INSTALL_MS=$(( $(now_ms) - T0 ))
SHOW=$("$PREAU" --root "$ROOT" --json blacklists show --lookups 1000000)
PREAU_LOOKUP_NS=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["lookup_ns"]))' "$SHOW")
PREAU_INDEX_MB=$(python3 -c 'import json,sys; print(round(json.loads(sys.argv[1])["memory_bytes"]/1e6))' "$SHOW")
T0=$(now_ms)
"$PREAU" --root "$ROOT" serve 2> "$WORK/preau-serve.log" & PREAU_PID=$!; PIDS+=($PREAU_PID)
until grep -q "proxy lists loaded" "$WORK/preau-serve.log"; do
    kill -0 $PREAU_PID || { cat "$WORK/preau-serve.log"; exit 1; }
    sleep 0.05
done
PREAU_START_MS=$(( $(now_ms) - T0 ))
PREAU_LOAD_MS=$(grep -o 'proxy lists loaded.*ms=[0-9]*' "$WORK/preau-serve.log" | grep -o 'ms=[0-9]*' | cut -d= -f2)
wait_port "$PREAU_PORT"
PREAU_RSS_LOADED=$(rss_kb $PREAU_PID)
curl -s -o /dev/null -w "préau check: %{http_code} " -x "http://127.0.0.1:$PREAU_PORT" "http://127.0.0.1:$ORIGIN_PORT/"
curl -s -o /dev/null -w "%{http_code}\n" -x "http://127.0.0.1:$PREAU_PORT" "http://www.$BLOCKED/"

# ---------------------------------------------------------------- Squid + squidGuard
SQ="$WORK/squid"
rm -rf "$SQ"; mkdir -p "$SQ/db" "$SQ/log" "$SQ/spool"
cp -r "$WORK/ut1/." "$SQ/db/"
{
    echo "dbhome $SQ/db"
    echo "logdir $SQ/log"
    for c in adult agressif malware phishing; do
        if [ -f "$SQ/db/$c/urls" ]; then
            printf 'dest %s {\n\tdomainlist %s/domains\n\turllist %s/urls\n}\n' "$c" "$c" "$c"
        else
            printf 'dest %s {\n\tdomainlist %s/domains\n}\n' "$c" "$c"
        fi
    done
    printf 'acl {\n\tdefault {\n\t\tpass !adult !agressif !malware !phishing all\n\t\tredirect 302:http://127.0.0.1:%s/blocked\n\t}\n}\n' "$ORIGIN_PORT"
} > "$SQ/squidGuard.conf"
T0=$(now_ms)
squidGuard -c "$SQ/squidGuard.conf" -C all
SG_BUILD_MS=$(( $(now_ms) - T0 ))
chown -R proxy:proxy "$SQ"
SQUID_PORT=$(free_port)
cat > "$SQ/squid.conf" <<CONF
http_port 127.0.0.1:$SQUID_PORT
visible_hostname bench
pid_filename $SQ/squid.pid
cache_log $SQ/log/cache.log
access_log stdio:$SQ/log/access.log
cache_store_log none
coredump_dir $SQ/spool
cache deny all
cache_mem 8 MB
url_rewrite_program /usr/bin/squidGuard -c $SQ/squidGuard.conf
url_rewrite_children 8 startup=8 idle=8
cache_effective_user proxy
shutdown_lifetime 1 seconds
http_access allow localhost
http_access deny all
CONF
T0=$(now_ms)
squid -f "$SQ/squid.conf" -N 2> "$SQ/log/stderr" & SQUID_PID=$!; PIDS+=($SQUID_PID)
wait_port "$SQUID_PORT"
# Ready when a blocked request is redirected (the helpers answer).
until [ "$(curl -s -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$SQUID_PORT" "http://www.$BLOCKED/")" = 302 ]; do sleep 0.1; done
SQUID_START_MS=$(( $(now_ms) - T0 ))
squid_rss() {
    local total=0
    for p in $(pgrep -f "squid -f $SQ/squid.conf") $(pgrep -f "squidGuard -c $SQ/squidGuard.conf"); do
        total=$(( total + $(rss_kb "$p") ))
    done
    echo $total
}
SQUID_RSS_LOADED=$(squid_rss)
curl -s -o /dev/null -w "squid check: %{http_code} " -x "http://127.0.0.1:$SQUID_PORT" "http://127.0.0.1:$ORIGIN_PORT/"
curl -s -o /dev/null -w "%{http_code}\n" -x "http://127.0.0.1:$SQUID_PORT" "http://www.$BLOCKED/"

# ---------------------------------------------------------------- load
run_wrk() { # port -> "rps p50_ms p99_ms"
    wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$WORK/mix.lua" "http://127.0.0.1:$1/" > "$WORK/wrk.out"
    python3 - "$WORK/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"\s%s%%\s+([\d.]+)(us|ms|s)\b" % label, t)
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
print(f"{rps:.0f} {ms('50'):.3f} {ms('99'):.3f}")
PY
}
declare -a PR SR
for i in $(seq 1 "$ROUNDS"); do
    PR+=("$(run_wrk "$PREAU_PORT")"); echo "round $i préau: ${PR[-1]}"
    SR+=("$(run_wrk "$SQUID_PORT")"); echo "round $i squid: ${SR[-1]}"
done
PREAU_RSS_AFTER=$(rss_kb $PREAU_PID)
SQUID_RSS_AFTER=$(squid_rss)

python3 - "$ENTRIES" "$PREAU_INSTALL_MS" "$PREAU_LOAD_MS" "$PREAU_START_MS" "$PREAU_INDEX_MB" "$PREAU_LOOKUP_NS" \
    "$PREAU_RSS_LOADED" "$PREAU_RSS_AFTER" "$SG_BUILD_MS" "$SQUID_START_MS" "$SQUID_RSS_LOADED" "$SQUID_RSS_AFTER" \
    "$(IFS=,; echo "${PR[*]}")" "$(IFS=,; echo "${SR[*]}")" <<'PY'
import statistics as st, sys
a = sys.argv[1:]
entries, p_install, p_load, p_start, p_index, p_lookup, p_rss0, p_rss1, sg_build, sq_start, sq_rss0, sq_rss1 = a[:12]
def med(rounds):
    rows = [list(map(float, r.split())) for r in rounds.split(",")]
    return [st.median(c) for c in zip(*rows)]
p, s = med(a[12]), med(a[13])
print()
print(f"lists: {int(entries):,} domains")
print(f"{'':28}{'Préau':>14}{'Squid+squidGuard':>20}{'ratio':>8}")
print(f"{'requests/s (median)':28}{p[0]:>14.0f}{s[0]:>20.0f}{p[0]/s[0]:>7.2f}x")
print(f"{'p50 latency ms':28}{p[1]:>14.3f}{s[1]:>20.3f}{s[1]/p[1]:>7.2f}x")
print(f"{'p99 latency ms':28}{p[2]:>14.3f}{s[2]:>20.3f}{s[2]/p[2]:>7.2f}x")
print(f"{'list load ms':28}{int(p_load):>14}{int(sg_build):>20}   (squidGuard -C all)")
print(f"{'start until filtering ms':28}{int(p_start):>14}{int(sq_start):>20}")
print(f"{'install (check+swap) ms':28}{int(p_install):>14}")
print(f"{'RSS loaded MB':28}{int(p_rss0)/1024:>14.0f}{int(sq_rss0)/1024:>20.0f}")
print(f"{'RSS after load test MB':28}{int(p_rss1)/1024:>14.0f}{int(sq_rss1)/1024:>20.0f}")
print(f"{'index size MB':28}{int(p_index):>14}")
print(f"{'mean lookup ns':28}{int(p_lookup):>14}")
PY
