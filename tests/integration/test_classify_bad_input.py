#!/usr/bin/env python3
"""`earshot classify` on bad input: every bad line is reported with its line
number and the exact reason, every good line still gives an event, in order,
nothing crashes and the exit status stays 0. Also: bad rules exit 2 with the
file named, an unreadable input file exits 1, and oversized lines are
reported without being held in memory.

usage: test_classify_bad_input.py EARSHOT_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile

GOOD = json.dumps({"id": "1", "platform": "blog", "text": "@comcastcares on hold for an hour",
                   "author": {"handle": "a", "followers": 10, "verified": False}})

# (raw line bytes, expected reason, or None for a good line)
CASES = [
    (GOOD.encode(), None),
    (b"this is not json", "not JSON"),
    (b"[1, 2, 3]", "not an object"),
    (b'"just a string"', "not an object"),
    (b'{"id": "2", "platform": "blog"}', "no text"),
    (b'{"id": "3", "text": ""}', "no text"),
    (b'{"id": "4", "text": "bad \xff\xfe bytes"}', "invalid UTF-8"),
    (b'{"id": "5", "text": "x", "a": ' + b"[" * 200 + b"]" * 200 + b"}", "nested too deep"),
    (b'{"id": "6", "text": "truncated', "not JSON"),
    (b"", "not JSON"),
    (b'{"id": "7", "text": "fine"} trailing', "not JSON"),
    (b"\x00\x01\x02\x03", "not JSON"),
    # Invalid JSON in fields earshot skips (issue 12 item 6): rejected, not events.
    (b'{"id":"b","text":"Comcast is down","x":tru}',
     "not JSON: Problem while parsing an atom starting with the letter 't'"),
    (b'{"id":"b","text":"Comcast is down","x":[1,,2]}', "not JSON: The JSON document has an improper structure"),
    (b'{"id":"b","text":"Comcast is down","x":{1:2}}', "not JSON: The JSON document has an improper structure"),
    (b'{"id":"b","text":"Comcast is down","x":"\\q"}', "not JSON: Problem while parsing a string"),
    (b'{"id":"b","text":"Comcast is down","x":01}', "not JSON: Problem while parsing a number"),
    (b'{"id":"b","text":"Comcast is down","x":"\\ud800"}', "invalid UTF-8"),
    (b'{"id":"b","text":"Comcast is down","\\ud800":1}', "invalid UTF-8"),
    (GOOD.replace('"1"', '"8"').encode(), None),
]


def run(earshot, args, data, src):
    return subprocess.run([earshot, "classify", "--rules", os.path.join(src, "rules")] + args,
                          input=data, capture_output=True, timeout=120)


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

    data = b"\n".join(c[0] for c in CASES) + b"\n"
    proc = run(earshot, [], data, src)
    check("exit status 0 with bad lines", proc.returncode == 0, f"rc={proc.returncode} {proc.stderr[:500]!r}")
    events = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    rejected = [json.loads(l) for l in proc.stderr.decode().splitlines()]
    good = [i + 1 for i, c in enumerate(CASES) if c[1] is None]
    bad = [(i + 1, c[1]) for i, c in enumerate(CASES) if c[1] is not None]
    check("counts in = events + rejected", len(events) + len(rejected) == len(CASES),
          f"{len(CASES)} in, {len(events)} events, {len(rejected)} rejected")
    check("events in input order", [e["id"] for e in events] == ["1", "8"], [e.get("id") for e in events])
    check("rejected line numbers", [r["line"] for r in rejected] == [b[0] for b in bad],
          [r.get("line") for r in rejected])
    for r, (line, reason) in zip(rejected, bad):
        check(f"line {line} reason", r["reason"].startswith(reason), f"{r['reason']!r} should start with {reason!r}")

    # --rejected FILE and CRLF line endings.
    with tempfile.TemporaryDirectory() as tmp:
        rej = os.path.join(tmp, "rejected.jsonl")
        proc = run(earshot, ["--rejected", rej], GOOD.encode() + b"\r\nnope\r\n", src)
        with open(rej) as f:
            rej_lines = [json.loads(l) for l in f]
        check("--rejected file", proc.returncode == 0 and rej_lines == [{"line": 2, "reason": rej_lines[0]["reason"]}]
              and rej_lines[0]["reason"].startswith("not JSON"), f"{rej_lines}")
        check("CRLF line accepted", len(proc.stdout.decode().splitlines()) == 1, proc.stdout[:200])

        # Oversized line, with and without a final newline.
        big = b'{"id":"9","text":"' + b"a" * 5000 + b'"}'
        proc = run(earshot, ["--max-bytes", "1000"], big + b"\n" + GOOD.encode() + b"\n" + big, src)
        rej = [json.loads(l) for l in proc.stderr.decode().splitlines()]
        check("oversized lines rejected", [r["line"] for r in rej] == [1, 3]
              and all(r["reason"].startswith("too large") for r in rej), f"{rej}")
        check("line after oversized kept", len(proc.stdout.decode().splitlines()) == 1, proc.stdout[:200])

        # Several files: line numbers per file, file named.
        a, b = os.path.join(tmp, "a.jsonl"), os.path.join(tmp, "b.jsonl")
        open(a, "wb").write(b"junk\n" + GOOD.encode() + b"\n")
        open(b, "wb").write(GOOD.encode() + b"\n{}\n")
        proc = subprocess.run([earshot, "classify", "--rules", os.path.join(src, "rules"), a, b],
                              capture_output=True, timeout=60)
        rej = [json.loads(l) for l in proc.stderr.decode().splitlines()]
        check("per-file line numbers", [(r["file"], r["line"]) for r in rej] == [(a, 1), (b, 2)], f"{rej}")

        # Missing input file: exit 1, named.
        proc = subprocess.run([earshot, "classify", "--rules", os.path.join(src, "rules"),
                               os.path.join(tmp, "missing.jsonl")], capture_output=True, timeout=60)
        check("missing file exits 1", proc.returncode == 1 and b"missing.jsonl" in proc.stderr, proc.stderr)

        # Invalid rules: exit 2, file named.
        rules = os.path.join(tmp, "rules")
        os.mkdir(rules)
        open(os.path.join(rules, "bad.json"), "w").write('{"rules": [\n  {"id": "x", "tag": "y",, }\n]}\n')
        proc = subprocess.run([earshot, "classify", "--rules", rules], input=GOOD.encode(),
                              capture_output=True, timeout=60)
        check("bad rules exit 2", proc.returncode == 2 and b"bad.json:2:" in proc.stderr, proc.stderr)

    # Random bytes: never a crash, every line accounted for.
    import random
    rng = random.Random(5)
    lines = []
    for _ in range(2000):
        base = bytearray(GOOD.encode())
        for _ in range(rng.randint(1, 8)):
            base[rng.randrange(len(base))] = rng.randrange(256)
        lines.append(bytes(base).replace(b"\n", b" "))
    proc = run(earshot, [], b"\n".join(lines) + b"\n", src)
    n_ev = len(proc.stdout.splitlines())
    n_rej = len(proc.stderr.splitlines())
    check("2000 mutated lines accounted for", proc.returncode == 0 and n_ev + n_rej == 2000,
          f"rc={proc.returncode} events={n_ev} rejected={n_rej}")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
