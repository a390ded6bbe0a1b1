#!/usr/bin/env python3
"""Prepares the school-life benchmark (bench/viescolaire.sh) on an
imported school: today, one lesson per teacher session (an exceptional
lesson of a teacher with a class), signed-in sessions created in the
store (as sign-in would: SHA-256 of the token stored, a form token per
session), and the wrk scripts that replay them.

usage: viescolaire_setup.py DB OUTDIR TEACHERS PARENTS
"""
import datetime
import hashlib
import secrets
import sqlite3
import sys
import time

db, out, n_teachers, n_parents = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
conn = sqlite3.connect(db, timeout=30)
today = datetime.date.today().isoformat()
now = int(time.time())
stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M")


def session(login):
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    conn.execute(
        "INSERT INTO web_sessions (token_sha256, login, admin, csrf, created_at, seen_at, address, must_change)"
        " VALUES (?, ?, 0, ?, ?, ?, '127.0.0.1', 0)",
        (hashlib.sha256(token.encode()).hexdigest(), login, csrf, now, now),
    )
    return token, csrf


def roster(class_id):
    return [r[0] for r in conn.execute(
        "SELECT p.id FROM people p JOIN memberships m ON m.person_id = p.id"
        " WHERE m.structure_id = ? AND p.kind = 'student' AND p.status = 'active'"
        " ORDER BY p.last_name, p.first_name, p.id", (class_id,))]


classes = [r[0] for r in conn.execute(
    "SELECT s.id FROM structures s JOIN memberships m ON m.structure_id = s.id"
    " JOIN people p ON p.id = m.person_id AND p.kind = 'student' AND p.status = 'active'"
    " WHERE s.kind = 'class' GROUP BY s.id HAVING count(*) >= 2 ORDER BY count(*) DESC, s.id")]
teachers = conn.execute(
    "SELECT id, login FROM people WHERE kind = 'teacher' AND status = 'active' ORDER BY id").fetchall()
if not classes or not teachers:
    sys.exit("no class or no teacher in this school")

# A weekly timetable: 30 hours a week per class (6 a day, Monday to
# Friday), teachers in turn, so that a parent's page derives real lessons.
year_id = conn.execute("SELECT id FROM vs_years ORDER BY starts DESC LIMIT 1").fetchone()[0]
hours = ["08:00", "09:00", "10:00", "11:00", "14:00", "15:00"]
slot_rows = []
for c, class_id in enumerate(classes):
    for day in range(1, 6):
        for h, at in enumerate(hours):
            t = teachers[(c * 7 + day * 3 + h) % len(teachers)][0]
            slot_rows.append((year_id, t, f"S{h}", class_id, day, at, at[:3] + "55", f"R{c}", "csv"))
conn.executemany(
    "INSERT INTO vs_slots (year_id, teacher_id, subject_code, structure_id, weekday, starts, ends, room, source)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", slot_rows)

lessons = []
sizes = []
for i in range(n_teachers):
    tid, login = teachers[i % len(teachers)]
    class_id = classes[i % len(classes)]
    # A teacher with two sessions teaches two lessons, an hour apart.
    hour = 7 + i // len(teachers)
    cur = conn.execute(
        "INSERT INTO vs_exceptions (kind, slot_id, date, new_starts, new_ends, new_room, teacher_id,"
        " subject_code, structure_id, reason, created_by, created_at)"
        " VALUES ('extra', NULL, ?, ?, ?, 'B1', ?, 'BENCH', ?, 'benchmark', 'bench', ?)",
        (today, f"{hour:02d}:00", f"{hour:02d}:55", tid, class_id, stamp),
    )
    key = f"{today}_x{cur.lastrowid}"
    token, csrf = session(login)
    r = roster(class_id)
    sizes.append(len(r))
    a = f"csrf={csrf}&p{r[0]}=absent"
    b = f"csrf={csrf}&p{r[1]}=absent&p{r[-1]}=late&m{r[-1]}=5&r{r[-1]}=bus"
    lessons.append((f"/vie-scolaire/appel/{key}", token, a, b))

parents = conn.execute(
    "SELECT p.login, min(c.login) FROM parent_links l JOIN people p ON p.id = l.parent_id"
    " JOIN people c ON c.id = l.child_id"
    " WHERE l.legal > 0 AND p.status = 'active' AND c.status = 'active'"
    " GROUP BY p.id ORDER BY p.id LIMIT ?", (n_parents,)).fetchall()
reads = []
for login, child in parents:
    token, _ = session(login)
    reads.append((f"/vie-scolaire/eleves/{child}/absences", token))
conn.commit()


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


COMMON = """
-- PAUSE_MS: "min,max" pause of each connection between two requests ("": none).
local pmin, pmax = string.match(os.getenv("PAUSE_MS") or "", "(%d+),(%d+)")
function delay()
  if pmin then return math.random(tonumber(pmin), tonumber(pmax)) end
  return 0
end
local counter = 0
ok, bad = 0, 0
local threads = {}
local nthreads = 0
function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end
function init(args)
  counter = (tid or 1) * 7919
  math.randomseed(os.time() + (tid or 1))
end
function response(status, headers, body)
  if status == EXPECT then ok = ok + 1 else bad = bad + 1 end
end
function done(summary, latency, requests)
  local o, b = 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); b = b + t:get("bad") end
  io.write(string.format("RESULT requests=%d expected_status=%d other_status=%d socket_errors=%d p50_ms=%.1f p90_ms=%.1f p99_ms=%.1f max_ms=%.1f rps=%.1f\\n",
    summary.requests, o, b,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.requests / (summary.duration / 1e6)))
end
"""

with open(f"{out}/teachers.lua", "w") as f:
    f.write("EXPECT = 303\nlocal entries = {\n")
    for path, token, a, b in lessons:
        f.write(f"  {{{lua_str(path)}, {lua_str('__Host-preau=' + token)}, {lua_str(a)}, {lua_str(b)}}},\n")
    f.write("}\n" + COMMON + """
function request()
  counter = counter + 1
  local e = entries[(counter % #entries) + 1]
  local body = (math.floor(counter / #entries) % 2 == 0) and e[3] or e[4]
  return wrk.format("POST", e[1], {["Cookie"] = e[2], ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Sec-Fetch-Site"] = "same-origin"}, body)
end
""")

with open(f"{out}/parents.lua", "w") as f:
    f.write("EXPECT = 200\nlocal entries = {\n")
    for path, token in reads:
        f.write(f"  {{{lua_str(path)}, {lua_str('__Host-preau=' + token)}}},\n")
    f.write("}\n" + COMMON + """
function request()
  counter = counter + 1
  local e = entries[(counter % #entries) + 1]
  return wrk.format("GET", e[1], {["Cookie"] = e[2]})
end
""")

print(f"slots={len(slot_rows)} lessons={len(lessons)} teachers={len(teachers)} classes={len(classes)} "
      f"roster_min={min(sizes)} roster_avg={sum(sizes) / len(sizes):.1f} roster_max={max(sizes)} "
      f"parent_sessions={len(reads)} first_roll={lessons[0][0]} first_read={reads[0][0] if reads else ''}")
