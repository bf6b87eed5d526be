#!/usr/bin/env python3
"""Two `earshot watch` processes in one group split the brands (partitions of
posts.enriched, keyed by brand) and together emit exactly the windows one
process emits.

Input: 8 brands over 20 simulated minutes with a 10x spike (test_watch_spike's
generator), one brand per event (a post naming two brands on two partitions
is counted by two processes: README, "Care intelligence"), 30 duplicates,
then one brandless event per partition past minute 20 (in production steady
traffic moves every partition's clock; here the test does).
  group it-watch-two: processes A and B, both assigned before any input;
  group it-watch-one: one process, writing to brand.stats.one/care.alerts.one.
Checks: A and B each hold 2 of the 4 partitions; their brand.stats records
together equal Python's per-(brand, window) count, with no (brand, window)
twice; A and B both emit some and their counts add up to it; the one-process
group's records are the same set, byte for byte; each group emits exactly
one spike (the injected one).

usage: test_watch_two_procs.py EARSHOT_BINARY
"""
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
import test_watch_spike as ws  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

ws.BRANDS = {"comcast": ("Comcast", 6), "dell": ("Dell", 4), "jetblue": ("JetBlue", 3),
             "verizon": ("Verizon", 5), "hp": ("HP", 3), "delta": ("Delta", 4),
             "att": ("AT&T", 5), "ups": ("UPS", 3)}
ARGS = ["--warmup", "8", "-X", "consumer.session.timeout.ms=6000",
        "-X", "consumer.heartbeat.interval.ms=500"]


def start(earshot, bootstrap, wd, name, group, extra=()):
    logf = open(os.path.join(wd, name + ".log"), "ab")
    proc = subprocess.Popen([earshot, "watch", "-b", bootstrap, "-g", group] + ARGS + list(extra),
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    rh.log("%s: pid %d" % (name, proc.pid))
    return proc, logf


def log_text(wd, name):
    with open(os.path.join(wd, name + ".log"), errors="replace") as f:
        return f.read()


def wait_assigned(wd, names, want, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        last = [[l for l in log_text(wd, n).splitlines() if "assigned" in l] for n in names]
        if all(l and ("assigned %d partition(s)" % want) in l[-1] for l in last):
            return True
        time.sleep(0.3)
    return False


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_watch_two_procs")
    wd = rh.workdir("watch2")
    gen = ws.Events(seed=21)
    rng = random.Random(22)
    evs = gen.minutes(0, 20, spike=("verizon", 15))
    for e in evs:
        e["brands"] = e["brands"][:1]
    evs = ws.arrival_order(rng, evs) + [dict(e) for e in rng.sample(evs, 30)]
    want = ws.expected_stats(evs)
    rh.log("%d events, %d (brand, window) pairs" % (len(evs), len(want)))

    broker = rh.MockBroker(earshot, partitions=4, brokers=1, workdir=wd)
    procs = []
    try:
        broker.cmd("create brand.stats.one 4")
        broker.cmd("create care.alerts.one 4")
        p = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all", linger_ms=5)
        for e in evs:
            p.send("posts.enriched", key=e["brands"][0]["id"].encode(),
                   value=json.dumps(e).encode())
        for part in range(4):
            wm = gen.event(ws.T0 + 20 * 60 + 31, [], "neutral")
            p.send("posts.enriched", key=b"watermark", value=json.dumps(wm).encode(),
                   partition=part)
        p.flush(timeout=60)
        p.close(timeout=10)
        # Both join at once, the input already there: the group's first
        # assignment splits it (the coordinator waits for both joins).
        for name in ("A", "B"):
            procs.append(start(earshot, broker.bootstrap, wd, name, "it-watch-two"))
        ck.check("A and B hold 2 partitions each",
                 wait_assigned(wd, ["A", "B"], 2), log_text(wd, "A")[-1500:])
        procs.append(start(earshot, broker.bootstrap, wd, "one", "it-watch-one",
                           ["--stats", "brand.stats.one", "--alerts", "care.alerts.one"]))
        rh.wait_for_outputs(broker.bootstrap, {"brand.stats": len(want),
                                               "brand.stats.one": len(want)},
                            timeout=120, settle=3.0,
                            proc_alive=lambda: all(q.poll() is None for q, _ in procs))
        for (q, _), name in zip(procs, ("A", "B", "one")):
            ck.eq("%s: SIGTERM exit status" % name, 0, ws.stop(q, name))
        two = ws.records(broker.bootstrap, "brand.stats")
        one = ws.records(broker.bootstrap, "brand.stats.one")
        ws.check_stats(ck, "A+B", want, two)
        ws.check_stats(ck, "one process", want, one)
        ck.check("A+B emit the same records as one process",
                 sorted(json.dumps(r, sort_keys=True) for _, r in two)
                 == sorted(json.dumps(r, sort_keys=True) for _, r in one))
        for topic, label in (("care.alerts", "A+B"), ("care.alerts.one", "one process")):
            got = [(a["type"], a["brand"]["id"], a["window_start"])
                   for _, a in ws.records(broker.bootstrap, topic)]
            ck.eq("%s: alerts" % label, [("spike", "verizon", ws.iso(ws.T0 + 15 * 60))], got)
        n = {}
        for name in ("A", "B"):
            m = re.search(r"stopped \(clean\): stats (\d+)", log_text(wd, name))
            n[name] = int(m.group(1)) if m else -1
        ck.check("A and B split the records (%d + %d = %d)" % (n["A"], n["B"], len(want)),
                 n["A"] > 0 and n["B"] > 0 and n["A"] + n["B"] == len(want))
    finally:
        for q, lf in procs:
            if q.poll() is None:
                q.kill()
                q.wait()
            lf.close()
        broker.stop()
    rc = ck.finish()
    if rc:
        for name in ("A", "B", "one"):
            path = os.path.join(wd, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    print("---- %s log tail\n%s" % (name, "".join(f.readlines()[-30:])))
    return rc


if __name__ == "__main__":
    sys.exit(main())
