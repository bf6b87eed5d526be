#!/usr/bin/env python3
"""`earshot classify` on the edges of created_at and id (issue 12 items 7
and 11): a post dated before 1970 keeps its date and respond_by counts from
it (1969-12-31T23:59:59Z is epoch -1, once the "no date" sentinel); an id
that is null, fractional or an object is rejected in each input shape
rather than collapsing to "" and sharing one de-duplication key.

usage: test_classify_dates_ids.py EARSHOT_BINARY
"""
import calendar
import json
import os
import subprocess
import sys
import time

COMPLAINT = "@comcastcares on hold for an hour, worst service ever"
NOW = 2000000000  # --now: a post without a date would get respond_by from here
TARGETS = [(80, 15), (50, 30), (20, 60), (0, 240)]  # README defaults


def epoch(iso):
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def run(earshot, lines, src):
    return subprocess.run([earshot, "classify", "--rules", os.path.join(src, "rules"),
                           "--now", str(NOW)],
                          input=b"\n".join(lines) + b"\n", capture_output=True, timeout=120)


def main():
    earshot = sys.argv[1]
    src = os.environ.get("EARSHOT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name}: {detail}")

    # ---- dates before 1970 ----
    dates = ["1969-12-31T23:59:59Z", "1950-06-15T08:00:00Z", "1970-01-01T00:00:00Z"]
    posts = [json.dumps({"id": f"d{i}", "text": COMPLAINT, "created_at": d}).encode()
             for i, d in enumerate(dates)]
    # v1.1 and v2 shapes too
    posts.append(json.dumps({"id_str": "d3", "text": COMPLAINT, "user": {"screen_name": "a"},
                             "created_at": "Wed Dec 31 23:59:59 +0000 1969"}).encode())
    posts.append(json.dumps({"data": {"id": "d4", "text": COMPLAINT,
                                      "created_at": "1950-06-15T08:00:00.000Z"}}).encode())
    want_dates = dates + ["1969-12-31T23:59:59Z", "1950-06-15T08:00:00Z"]
    proc = run(earshot, posts, src)
    events = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    check("dated posts all events", proc.returncode == 0 and len(events) == len(posts),
          f"rc={proc.returncode} {proc.stderr[:300]!r}")
    for ev, d in zip(events, want_dates):
        check(f"{ev['id']} created_at kept", ev.get("created_at") == d, f"{ev.get('created_at')!r} want {d!r}")
        minutes = next(m for p, m in TARGETS if ev["priority"] >= p)
        want_rb = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch(d) + minutes * 60))
        check(f"{ev['id']} respond_by from created_at", ev.get("respond_by") == want_rb,
              f"{ev.get('respond_by')!r} want {want_rb!r} (priority {ev['priority']})")

    # ---- ids that would collapse to "" ----
    reason = "id must be a string or an integer"
    bad_ids = [None, 12.5, {"n": 1}]
    lines, want = [], []
    for bid in bad_ids:
        lines.append(json.dumps({"id": bid, "text": COMPLAINT}).encode())  # generic
        lines.append(json.dumps({"id_str": bid, "text": COMPLAINT, "user": {}}).encode())  # v1.1
        lines.append(json.dumps({"id": bid, "text": COMPLAINT, "user": {}}).encode())  # v1.1, id only
        lines.append(json.dumps({"data": {"id": bid, "text": COMPLAINT}}).encode())  # v2
        want += [reason] * 4
    # good ids still work: string, integer past 2^64, negative integer, absent
    good = [json.dumps({"id": "s1", "text": COMPLAINT}).encode(),
            b'{"id":123456789012345678901234,"text":"' + COMPLAINT.encode() + b'"}',
            b'{"id_str":"77","id":77,"text":"' + COMPLAINT.encode() + b'","user":{}}',
            b'{"data":{"id":-5,"text":"' + COMPLAINT.encode() + b'"}}',
            json.dumps({"text": COMPLAINT}).encode()]
    proc = run(earshot, lines + good, src)
    events = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    rejected = [json.loads(l) for l in proc.stderr.decode().splitlines()]
    check("bad ids rejected by line", [r["line"] for r in rejected] == list(range(1, len(lines) + 1)),
          [(r.get("line"), r.get("reason")) for r in rejected])
    check("bad id reason", all(r["reason"] == reason for r in rejected),
          [r.get("reason") for r in rejected])
    check("good ids kept", [e["id"] for e in events] == ["s1", "123456789012345678901234", "77", "-5", ""],
          [e.get("id") for e in events])

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
