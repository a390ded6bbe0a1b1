#!/bin/sh
# Settings applied from the web console: `preau demo` (its `preau serve`
# on a temporary --root, free loopback port), an administrator's session,
# then N times in a row, as the settings page does:
#
#   plan       POST /console/reglages/establishment (a new name): validation
#              as `preau check`, the plan of every enabled module
#   apply      POST …/appliquer: preau.toml written, the engine's apply
#              session (lock, plan, apply, record), then the running
#              server's reload (its SIGHUP path) before the answer
#   next page  GET /console, checked to carry the new name
#
# One connection, one request at a time (applies are serialized by the
# apply lock anyway). Prints the median, p90, p99 and worst of each, and
# the server's reload counter at the end.
#
# usage: bench/settings-apply.sh [PREAU_BINARY] [N]
#   PREAU_BINARY  default target/release/preau (cargo build --release)
#   N             applies (default 40)
# needs: python3
set -eu
BIN=${1:-target/release/preau}
N=${2:-40}
[ -x "$BIN" ] || { echo "no $BIN: cargo build --release" >&2; exit 1; }
ROOT=$(mktemp -d /tmp/preau-bench-settings.XXXXXX)
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; rm -rf "$ROOT"; }
trap cleanup EXIT INT TERM

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BIN" --json demo --listen "127.0.0.1:$PORT" --dir "$ROOT/demo" >"$ROOT/demo.json" 2>"$ROOT/serve.log" &
PID=$!
for _ in $(seq 1 200); do [ -s "$ROOT/demo.json" ] && break; sleep 0.1; done
[ -s "$ROOT/demo.json" ] || { echo "the demo server did not start" >&2; cat "$ROOT/serve.log" >&2; exit 1; }

python3 - "$PORT" "$ROOT/demo.json" "$N" <<'PY'
import http.client, json, re, ssl, sys, time, urllib.parse

port, demo, n = int(sys.argv[1]), json.load(open(sys.argv[2])), int(sys.argv[3])
admin = [a for a in demo["accounts"] if a["role"] == "admin"][0]
conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl._create_unverified_context())

def call(method, path, body=None, cookie=""):
    headers = {"Cookie": cookie, "Sec-Fetch-Site": "same-origin"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urllib.parse.urlencode(body)
    start = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    r = conn.getresponse()
    text = r.read().decode()
    return r, text, (time.perf_counter() - start) * 1000

# Sign-in: the form's token is a double-submit cookie (any value).
r, _, _ = call("POST", "/connexion", {"login": admin["login"], "password": admin["password"], "csrf": "bench"},
               "__Host-preau-csrf=bench")
token = re.search(r"__Host-preau=([^;]+)", r.getheader("Set-Cookie") or "")
assert token, "cannot sign in"
cookie = "__Host-preau=" + token.group(1)
_, form, _ = call("GET", "/console/reglages/establishment", cookie=cookie)
csrf = re.search(r'name="csrf" value="([^"]+)"', form).group(1)

plans, applies, nexts = [], [], []
for i in range(n):
    name = "Collège numéro %d" % i
    r, text, ms = call("POST", "/console/reglages/establishment", {"csrf": csrf, "f.name": name}, cookie)
    jeton = re.search(r'name="jeton" value="([^"]+)"', text)
    assert r.status == 200 and jeton, text[:2000]
    plans.append(ms)
    r, text, ms = call("POST", "/console/reglages/establishment/appliquer",
                       {"csrf": csrf, "jeton": jeton.group(1)}, cookie)
    assert r.status == 200 and "Le serveur a relu sa configuration" in text.replace("&#39;", "'"), text[:3000]
    applies.append(ms)
    r, text, ms = call("GET", "/console", cookie=cookie)
    assert name in text, "the next page does not carry the new name"
    nexts.append(ms)

def show(label, xs):
    xs = sorted(xs)
    q = lambda p: xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
    print("%-10s n=%d  median %.1f ms  p90 %.1f ms  p99 %.1f ms  max %.1f ms" % (label, len(xs), q(.5), q(.9), q(.99), xs[-1]))

show("plan", plans)
show("apply", applies)
show("next page", nexts)
_, metrics, _ = call("GET", "/metrics")
print(" ".join(l for l in metrics.splitlines() if l.startswith("preau_reloads")))
PY
