#!/usr/bin/env python3
"""The in-run aggregator's first start (a new group, consumer.auto.offset.reset
= latest, the default): the baseline is rebuilt by reading posts.enriched back
by timestamp, history is not emitted, and a spike that follows is alerted
against that baseline.

Input on the embedded broker, dated relative to now (t = the current
minute's start):
  before earshot starts: comcast at 5 complaints + 2 praise a minute over the
    20 minutes t-21 .. t-2 (minute t-1 is empty);
  after its aggregator has started: 50 comcast complaints inside minute t
    (10x), then one comcast praise at t + 91 s (moves the watermark past t).
Checks: brand.stats holds exactly one record, for (comcast, t), with 50
complaints (the 20 history windows were learned, not emitted); care.alerts
holds exactly one spike, for window t, whose baseline (4-6) could only come
from the replayed history (4-6: 5 a window, one empty window; the default warmup is 5 windows; without the
replay comcast would have none); the log says it learned before alerting;
SIGTERM exits 0.

usage: test_run_watch_first_start.py EARSHOT_BINARY
"""
import json
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from kafka import KafkaProducer  # noqa: E402


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def event(n, t, brand, polarity):
    return {"id": "f%06d" % n, "platform": "twitter", "created_at": iso(t),
            "author": {"handle": "u%d" % n, "followers": 10, "verified": False},
            "lang": "en", "text": "x", "is_retweet": False, "is_reply": False,
            "brands": [{"id": brand, "name": "Comcast"}] if brand else [],
            "polarity": polarity, "labels": [], "matched_rules": [], "priority": 20}


def send(bootstrap, events):
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for e in events:
        key = e["brands"][0]["id"].encode() if e["brands"] else b"watermark"
        p.send("posts.enriched", key=key, value=json.dumps(e).encode())
    p.flush(timeout=60)
    p.close(timeout=10)


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_watch_first_start")
    wd = rh.workdir("watch-first")
    now = int(time.time())
    if now % 60 > 40:  # keep minute t open for the whole test
        time.sleep(62 - now % 60)
        now = int(time.time())
    t = now - now % 60
    n = 0
    history = []
    # minutes t-21 .. t-2: the last ends a minute before t, so it is closable
    # (quiet) whenever earshot starts within minute t
    for m in range(21, 1, -1):
        for k in range(7):
            n += 1
            history.append(event(n, t - m * 60 + k * 8, "comcast",
                                 "complaint" if k < 5 else "praise"))
    spike = []
    for k in range(50):
        n += 1
        spike.append(event(n, t + k, "comcast", "complaint"))
    # The event that moves the watermark is comcast's too, so it sits behind
    # the spike on the same partition: on another partition it could be
    # read first and close minute t before the spike arrives (README, "idle
    # partitions"); it falls in minute t+1, which stays open.
    n += 1
    spike.append(event(n, t + 91, "comcast", "praise"))

    broker = rh.MockBroker(earshot, partitions=4, brokers=1, workdir=wd)
    run = None
    try:
        send(broker.bootstrap, history)
        run = rh.Earshot(earshot, broker.bootstrap, "it-watch-first", wd, backlog=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "assigned 4 partition(s) of posts.enriched" \
                not in run.text():
            time.sleep(0.2)
        ck.check("aggregator assigned", "assigned 4 partition(s) of posts.enriched" in run.text(),
                 run.tail())
        ck.check("first start learns before alerting",
                 re.search(r"watch: posts.enriched: first start, learning the last 14400 s",
                           run.text()) is not None, run.tail())
        send(broker.bootstrap, spike)
        got = rh.wait_for_outputs(broker.bootstrap, {"brand.stats": 1, "care.alerts": 1},
                                  timeout=60, settle=3.0, proc_alive=run.alive)
        ck.check("outputs arrived: %r" % got, got["brand.stats"] >= 1 and got["care.alerts"] >= 1)
        rc, _ = run.signal_and_wait(signal.SIGTERM, 30)
        ck.eq("SIGTERM exit status", 0, rc)
        stats = [json.loads(r.value) for r in rh.read_topic(broker.bootstrap, "brand.stats")]
        alerts = [json.loads(r.value) for r in rh.read_topic(broker.bootstrap, "care.alerts")]
        ck.eq("brand.stats: (brand, window, complaints)", [("comcast", iso(t), 50)],
              [(s["brand"]["id"], s["window_start"], s["complaints"]) for s in stats])
        ck.eq("care.alerts: (type, brand, window)", [("spike", "comcast", iso(t))],
              [(a["type"], a["brand"]["id"], a["window_start"]) for a in alerts])
        if alerts:
            ck.check("the spike's baseline comes from the replayed history (%s)"
                     % alerts[0]["baseline"], 4.0 <= alerts[0]["baseline"] <= 6.0)
    finally:
        if run:
            run.ensure_dead()
            if ck.failed:
                print("t = %s" % iso(t))
                print(run.tail(40))
        broker.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
