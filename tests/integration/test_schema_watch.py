#!/usr/bin/env python3
"""The event contract of `earshot watch`: every brand.stats and care.alerts
record validates against schema/brand-stats and schema/care-alert, with
exact counts: one stats record per (brand, window) Python computes from the
input, and exactly one spike and one influencer alert.

Input: the events test_watch_spike.py builds (three brands over 20 minutes,
a 10x comcast spike in minute 15, a complaint from a 250k-follower author,
duplicates, jittered arrival), produced to posts.enriched on the embedded
broker.

usage: test_schema_watch.py EARSHOT_BINARY
"""
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import run_helpers as rh  # noqa: E402
from schema_check import Schemas  # noqa: E402
import test_watch_spike as ws  # noqa: E402  (its event builder and oracle)


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_schema_watch")
    sc = Schemas()
    wd = rh.workdir("schema-watch")
    gen = ws.Events(seed=10)
    rng = random.Random(11)
    events = gen.minutes(0, 20, spike=("comcast", 15))
    big = gen.event(ws.T0 + 5 * 60 + 12, ["comcast"], "complaint", followers=250000)
    events.append(big)
    dups = [dict(e) for e in rng.sample(events, 40)]
    events = ws.arrival_order(rng, events) + dups
    events.append(gen.event(ws.T0 + 20 * 60 + 31, [], "neutral"))
    want = ws.expected_stats(events)

    broker = rh.MockBroker(earshot, partitions=4, brokers=1, workdir=wd)
    proc = None
    try:
        broker.cmd("create brand.stats 4")
        broker.cmd("create care.alerts 4")
        ws.produce(broker.bootstrap, events)
        proc, logf = ws.start_watch(earshot, broker.bootstrap, wd, "watch1")
        t0 = time.monotonic()
        ws.wait_counts(broker.bootstrap, len(want), proc)
        rh.log("outputs settled after %.1f s" % (time.monotonic() - t0))
        ck.eq("SIGTERM: exit status", 0, ws.stop(proc, "watch1"))
        stats = [r for _, r in ws.records(broker.bootstrap, "brand.stats")]
        alerts = [r for _, r in ws.records(broker.bootstrap, "care.alerts")]
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        broker.stop()

    ck.eq("brand.stats: one record per (brand, window)", len(want), len(stats))
    for i, msg in sc.bad("brand-stats", stats):
        ck.check("brand.stats record %d validates" % i, False, msg)
    ck.eq("care.alerts: types", ["influencer", "spike"], sorted(a.get("type") for a in alerts))
    for i, msg in sc.bad("care-alert", alerts):
        ck.check("care.alerts record %d validates" % i, False, msg)
    # The alert schema is a oneOf: a spike record must not pass as an
    # influencer one (or the other way round).
    v = sc.validator("care-alert")
    for a in alerts:
        other = dict(a, type="influencer" if a["type"] != "influencer" else "spike")
        ck.check("care-alert refuses a %s record retyped" % a["type"], not v.is_valid(other), "")
    rh.log("validated %d stats and %d alert records" % (len(stats), len(alerts)))
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
