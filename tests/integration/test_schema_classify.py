#!/usr/bin/env python3
"""The event contract, offline: every line `earshot classify` writes
validates against schema/ (events, --explain lines, rejected lines, and the
events that would be tickets against the ticket schema), and the link fields
(url, conversation_id, reply_to) are exactly what the documented rules give
for each input line, recomputed here from the raw JSON.

Inputs: tests/data/posts/*.jsonl (every shape, malformed lines) and 3000
`earshot generate` lines (all shapes, replies and retweets, 5% malformed).
Also: every schema file passes check_schema, format checking really runs,
and records that break the contract (an unknown field, a praise with a
deadline, a bad date) are refused, so the validation cannot pass vacuously.

usage: test_schema_classify.py EARSHOT_BINARY
"""
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from schema_check import Schemas, SCHEMA_DIR  # noqa: E402

NOW = 1714600000  # --now: processed_at is exactly this
NOW_ISO = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(NOW))
V1_KEYS = ("id_str", "user", "full_text", "extended_tweet", "retweeted_status",
           "in_reply_to_status_id_str", "in_reply_to_status_id")
HANDLE_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def as_id(v):
    """An id as post.h reads it: a string as is, an integer's digits."""
    if isinstance(v, str):
        return v
    if isinstance(v, int) and not isinstance(v, bool):
        return str(v)
    return ""


def tweet_url(handle, pid):
    if handle.startswith("@"):
        handle = handle[1:]
    if (pid and pid.isdigit() and len(pid) <= 20 and handle and len(handle) <= 50
            and set(handle) <= HANDLE_OK):
        return "https://twitter.com/%s/status/%s" % (handle, pid)
    return ""


def expected_links(post):
    """(url, conversation_id, reply_to) per README "Event schema"; "" = absent."""
    if isinstance(post.get("data"), dict):
        d = post["data"]
        reply = ""
        refs = d.get("referenced_tweets")
        for r in refs if isinstance(refs, list) else []:
            if isinstance(r, dict) and r.get("type") == "replied_to":
                reply = as_id(r.get("id"))
                break
        url = ""
        users = (post.get("includes") or {}).get("users") if isinstance(post.get("includes"), dict) else None
        author = as_id(d.get("author_id"))
        for u in users if isinstance(users, list) else []:
            if isinstance(u, dict) and author and as_id(u.get("id")) == author:
                un = u.get("username")
                url = tweet_url(un if isinstance(un, str) else "", as_id(d.get("id")))
                break
        return url, as_id(d.get("conversation_id")), reply
    if any(k in post for k in V1_KEYS):
        user = post.get("user") if isinstance(post.get("user"), dict) else {}
        sn = user.get("screen_name")
        pid = as_id(post["id_str"]) if as_id(post.get("id_str")) else as_id(post.get("id"))
        reply = as_id(post.get("in_reply_to_status_id_str")) or \
            as_id(post.get("in_reply_to_status_id"))
        return tweet_url(sn if isinstance(sn, str) else "", pid), "", reply
    url = post.get("url")
    ok = (isinstance(url, str) and (url.startswith("https://") or url.startswith("http://"))
          and len(url) <= 4096 and not any(ord(c) <= 0x20 or ord(c) == 0x7f for c in url))
    return (url if ok else ""), as_id(post.get("conversation_id")), as_id(post.get("reply_to"))


def classify(earshot, args, data=None):
    with tempfile.TemporaryDirectory() as d:
        rej = os.path.join(d, "rejected")
        proc = subprocess.run([earshot, "classify", "--rules", rh.RULES, "--now", str(NOW),
                               "--rejected", rej] + args, input=data, capture_output=True,
                              timeout=300)
        with open(rej, "rb") as f:
            rejected = [json.loads(x) for x in f if x.strip()]
    events = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
    return proc.returncode, events, rejected


def check_contract_negative(ck, sc, event):
    """The schemas refuse what breaks the contract (so a pass means something)."""
    v = sc.validator("event")
    ck.check("a real event validates", v.is_valid(event), json.dumps(event)[:300])
    cases = {
        "an unknown field": dict(event, surprise=1),
        "a missing processed_at": {k: x for k, x in event.items() if k != "processed_at"},
        "schema_version 2": dict(event, schema_version=2),
        "processed_at 2024-13-01T00:00:00Z (format check)": dict(event, processed_at="2024-13-01T00:00:00Z"),
        "a relative url": dict(event, url="/status/1"),
        "priority 101": dict(event, priority=101),
        "an empty reply_to": dict(event, reply_to=""),
        "praise with respond_by": dict(event, polarity="praise", respond_by=NOW_ISO),
    }
    for what, rec in cases.items():
        ck.check("the event schema refuses %s" % what, not v.is_valid(rec), "")
    t = sc.validator("ticket")
    ck.check("the ticket schema refuses a praise",
             not t.is_valid({k: x for k, x in dict(event, polarity="praise").items()
                             if k != "respond_by"}), "")
    ck.check("the ticket schema refuses a post naming no brand",
             not t.is_valid(dict(event, brands=[])), "")


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_schema_classify")
    sc = Schemas()
    names = sorted(sc.docs)
    ck.eq("schema files (each passed check_schema)",
          ["brand-stats", "care-alert", "classify-explain", "classify-reject", "event",
           "reject", "ticket"], names)
    ck.check("schemas live in %s" % SCHEMA_DIR, os.path.isdir(SCHEMA_DIR), "")

    # 1. the sample files: several files, so rejected lines name theirs
    files = sorted(glob.glob(os.path.join(rh.SRC, "tests", "data", "posts", "*.jsonl")))
    raw = []
    for path in files:
        with open(path, "rb") as f:
            raw += [(os.path.basename(path), ln) for ln in f.read().split(b"\n") if ln]
    rc, events, rejected = classify(earshot, files)
    ck.eq("classify samples: exit status", 0, rc)
    ck.eq("classify samples: events + rejected lines = input lines", len(raw),
          len(events) + len(rejected))
    ck.check("classify samples: some of each (%d events, %d rejected)"
             % (len(events), len(rejected)), len(events) >= 12 and len(rejected) >= 10, "")
    for i, msg in sc.bad("event", events):
        ck.check("samples: event %d validates" % i, False, msg)
    for i, msg in sc.bad("classify-reject", rejected):
        ck.check("samples: rejected line %d validates" % i, False, msg)
    ck.eq("samples: every rejected line names its file (several files given)",
          len(rejected), sum(1 for r in rejected if r.get("file")))
    ck.eq("samples: processed_at = --now", [NOW_ISO] * len(events),
          [e["processed_at"] for e in events])
    tickets = [e for e in events if e["brands"] and e["polarity"] in ("complaint", "question")
               and e["priority"] >= rh.MIN_PRIORITY]
    ck.check("samples: some events are tickets (%d)" % len(tickets), len(tickets) >= 3, "")
    for i, msg in sc.bad("ticket", tickets):
        ck.check("samples: ticket %d validates" % i, False, msg)
    if events:
        check_contract_negative(ck, sc, next(e for e in events if e.get("respond_by")))

    # links of the samples against the rules, line by line (events keep input order)
    good = []
    for name, ln in raw:
        try:
            post = json.loads(ln)
        except ValueError:
            continue
        if isinstance(post, dict):
            good.append(post)
    by_id = {e["id"]: e for e in events}
    n_url = n_conv = n_reply = 0
    bad = []
    for post in good:
        pid = as_id((post.get("data") or {}).get("id")) if isinstance(post.get("data"), dict) \
            else (as_id(post.get("id_str")) or as_id(post.get("id")))
        if pid not in by_id:
            continue
        want = expected_links(post)
        e = by_id[pid]
        got = (e.get("url", ""), e.get("conversation_id", ""), e.get("reply_to", ""))
        n_url, n_conv, n_reply = n_url + bool(got[0]), n_conv + bool(got[1]), n_reply + bool(got[2])
        if got != want:
            bad.append("%s: got %r want %r" % (pid, got, want))
    ck.check("samples: url/conversation_id/reply_to as documented", not bad, "; ".join(bad[:3]))
    ck.check("samples: links present (url %d, conversation_id %d, reply_to %d)"
             % (n_url, n_conv, n_reply), n_url >= 8 and n_conv >= 2 and n_reply >= 3, "")

    # 2. generated posts: volume, every shape, replies, malformed lines
    lines = rh.generate(earshot, 3000, seed=23, malformed_rate=0.05, mention_rate=0.4)
    rc, events, rejected = classify(earshot, [], b"\n".join(lines) + b"\n")
    ck.eq("classify generated: exit status", 0, rc)
    ck.eq("classify generated: events + rejected = 3000", 3000, len(events) + len(rejected))
    ck.check("classify generated: rejected lines exist (%d)" % len(rejected), len(rejected) > 50, "")
    for i, msg in sc.bad("event", events):
        ck.check("generated: event %d validates" % i, False, msg)
    for i, msg in sc.bad("classify-reject", rejected):
        ck.check("generated: rejected line %d validates" % i, False, msg)
    ck.eq("generated: no rejected line names a file (stdin)", 0,
          sum(1 for r in rejected if "file" in r))
    rej_lines = {r["line"] - 1 for r in rejected}
    accepted = [i for i in range(len(lines)) if i not in rej_lines]
    bad, n = [], [0, 0, 0]
    for i, e in zip(accepted, events):
        want = expected_links(json.loads(lines[i]))
        got = (e.get("url", ""), e.get("conversation_id", ""), e.get("reply_to", ""))
        for k in range(3):
            n[k] += bool(got[k])
        if got != want:
            bad.append("line %d: got %r want %r" % (i + 1, got, want))
    ck.check("generated: links as documented on all %d events" % len(events), not bad,
             "%d differ: %s" % (len(bad), "; ".join(bad[:3])))
    ck.check("generated: links present (url %d, conversation_id %d, reply_to %d)" % tuple(n),
             all(x > 100 for x in n), "")
    tickets = [e for e in events if e["brands"] and e["polarity"] in ("complaint", "question")
               and e["priority"] >= rh.MIN_PRIORITY]
    for i, msg in sc.bad("ticket", tickets):
        ck.check("generated: ticket %d validates" % i, False, msg)

    # 3. --explain lines (with the lexicon; the default rules have no model)
    rc, explained, rejected = classify(earshot, ["--explain"], b"\n".join(lines[:500]) + b"\n")
    ck.eq("classify --explain: exit status", 0, rc)
    ck.eq("classify --explain: lines", 500, len(explained) + len(rejected))
    ck.check("classify --explain: every line has explain",
             explained and all("explain" in e for e in explained), "")
    for i, msg in sc.bad("classify-explain", explained):
        ck.check("--explain line %d validates" % i, False, msg)
    ck.check("the plain event schema refuses an --explain line",
             not explained or not sc.validator("event").is_valid(explained[0]), "")
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
