"""Fetches a Préau iCalendar feed and parses it with the independent
`icalendar` package (PyPI), strictly; prints a JSON summary.

usage: schoollog_ical.py URL
Exit 0 with {"status": 200, ...} or {"status": 404}.
"""
import json
import ssl
import sys
import urllib.error
import urllib.request
from datetime import timezone

import icalendar

url = sys.argv[1]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE  # the test server's self-signed certificate
try:
    with urllib.request.urlopen(url, context=ctx, timeout=20) as r:
        raw = r.read()
        ctype = r.headers.get("Content-Type", "")
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code}))
    sys.exit(0)

text = raw.decode("utf-8")
lines = raw.split(b"\r\n")
problems = []
if not raw.endswith(b"\r\n"):
    problems.append("does not end with CRLF")
for i, line in enumerate(lines):
    if b"\n" in line or b"\r" in line:
        problems.append(f"line {i}: bare CR or LF")
    if len(line) > 75:
        problems.append(f"line {i}: {len(line)} octets")

cal = icalendar.Calendar.from_ical(text)
events = list(cal.walk("VEVENT"))
zones = [str(z.get("TZID")) for z in cal.walk("VTIMEZONE")]
out = []
for e in events:
    for key in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
        if e.get(key) is None:
            problems.append(f"event without {key}")
    start = e.decoded("DTSTART")
    if start.tzinfo is None:
        problems.append("floating DTSTART")
    out.append({
        "uid": str(e.get("UID")),
        "summary": str(e.get("SUMMARY")),
        "location": str(e.get("LOCATION", "")),
        "status": str(e.get("STATUS", "")),
        "start_local": start.strftime("%Y-%m-%dT%H:%M"),
        "start_utc": start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M"),
        "utc_offset_minutes": int(start.utcoffset().total_seconds() // 60),
    })
uids = [e["uid"] for e in out]
if len(set(uids)) != len(uids):
    problems.append("duplicate UID")
print(json.dumps({
    "status": 200,
    "content_type": ctype,
    "version": str(cal.get("VERSION")),
    "zones": zones,
    "events": out,
    "problems": problems,
}, ensure_ascii=False))
