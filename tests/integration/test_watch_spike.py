#!/usr/bin/env python3
"""`earshot watch` on the embedded broker: exact window statistics, one spike
alert where the spike is, none elsewhere, and a restart that neither repeats
a window nor forgets the baseline.

Input: enriched-style events built here (the fields `earshot run` writes),
produced to posts.enriched keyed by first brand id as `earshot run` does:
three brands at steady rates over 20 simulated minutes, a 10x complaint spike
for comcast in minute 15, one complaint from a 250k-follower author, posts
naming two brands, 40 redelivered duplicates, arrival order jittered by up to
20 s (inside the 30 s lateness), then a brandless event at 20:31 whose only
job is to move the watermark past minute 19.
  run 1: brand.stats = exactly the per-(brand, window) figures Python computes
         from the same events; care.alerts = one spike (comcast, 12:15) and
         one influencer alert, nothing else; SIGTERM exits 0.
  run 2 (same group, after 8 more minutes with a 10x dell spike in minute
         25 and another watermark event): the restart replays its history,
         emits only the windows 20..27, exactly as computed, and one spike
         for dell at 12:25. --warmup 8 makes that alert depend on the
         replayed history: dell has only 5 windows after the restart.
No (brand, window_start) appears twice in brand.stats.

usage: test_watch_spike.py EARSHOT_BINARY
"""
import calendar
import collections
import json
import os
import random
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from kafka import KafkaProducer  # noqa: E402

GROUP = "it-watch"
T0 = 1714564800  # 2024-05-01T12:00:00Z
BRANDS = {"comcast": ("Comcast", 6), "dell": ("Dell", 4), "jetblue": ("JetBlue", 3)}
LABELS = ["wait_time", "billing", "outage", "delivery", "rude_staff", "refund", "cancel"]
MIN_PRIORITY = 30
WATCH_ARGS = ["--warmup", "8", "-X", "consumer.session.timeout.ms=6000",
              "-X", "consumer.heartbeat.interval.ms=500"]


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class Events:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.n = 0

    def event(self, t, brands, polarity, followers=None):
        rng = self.rng
        self.n += 1
        return {
            "id": "p%06d" % self.n, "platform": "twitter", "created_at": iso(t),
            "author": {"handle": "user%d" % self.n,
                       "followers": followers if followers is not None
                       else int(rng.paretovariate(1.2) * 50) % 90000,
                       "verified": rng.random() < 0.05},
            "lang": "en", "text": "synthetic", "is_retweet": rng.random() < 0.2,
            "is_reply": False,
            "brands": [{"id": b, "name": BRANDS[b][0]} for b in brands],
            "polarity": polarity,
            "labels": rng.sample(LABELS, rng.randint(0, 3)),
            "matched_rules": [], "priority": rng.randint(0, 100),
        }

    def minutes(self, first, last, spike=None):
        """Events of minutes [first, last); spike = (brand, minute)."""
        rng, out = self.rng, []
        for minute in range(first, last):
            for b, (_, rate) in BRANDS.items():
                n_c = rate + rng.randint(-1, 1)
                if spike == (b, minute):
                    n_c = rate * 10
                mix = ["complaint"] * n_c + ["praise"] * (2 + rng.randint(0, 2)) + \
                      ["question"] * rng.randint(1, 3) + ["neutral"] * rng.randint(0, 2)
                for pol in mix:
                    t = T0 + minute * 60 + rng.randint(0, 59)
                    brands = [b]
                    if rng.random() < 0.1:
                        brands.append(rng.choice([x for x in BRANDS if x != b]))
                    out.append(self.event(t, brands, pol))
        return out


def arrival_order(rng, events):
    """Sorted by time with up to 20 s of jitter (inside the 30 s lateness)."""
    keyed = [(e, rh_time(e) + rng.uniform(-10, 10)) for e in events]
    keyed.sort(key=lambda x: x[1])
    return [e for e, _ in keyed]


def rh_time(e):
    return calendar.timegm(time.strptime(e["created_at"], "%Y-%m-%dT%H:%M:%SZ"))


def expected_stats(events):
    """{(brand, window_start): stats dict} from distinct post ids."""
    seen, acc = set(), {}
    for e in events:
        if e["id"] in seen or not e["brands"]:
            continue
        seen.add(e["id"])
        t = int(rh_time(e))
        ws = t - t % 60
        for b in e["brands"]:
            a = acc.setdefault((b["id"], ws), {
                "brand": {"id": b["id"], "name": b["name"]}, "window_start": iso(ws),
                "window_end": iso(ws + 60), "mentions": 0, "complaints": 0, "praise": 0,
                "questions": 0, "tickets": 0, "reach": 0, "verified": 0,
                "labels": collections.Counter(), "retweets": 0})
            a["mentions"] += 1
            pol = e["polarity"]
            a["complaints"] += pol == "complaint"
            a["praise"] += pol == "praise"
            a["questions"] += pol == "question"
            a["tickets"] += pol in ("complaint", "question") and e["priority"] >= MIN_PRIORITY
            a["reach"] += e["author"]["followers"]
            a["verified"] += e["author"]["verified"]
            a["retweets"] += e["is_retweet"]
            a["labels"].update(e["labels"])
    out = {}
    for k, a in acc.items():
        labels = sorted(a.pop("labels").items(), key=lambda x: (-x[1], x[0]))[:5]
        a["top_labels"] = [[l, n] for l, n in labels]
        a["retweet_share"] = round(a.pop("retweets") / a["mentions"], 4)
        out[k] = a
    return out


def produce(bootstrap, events):
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                      client_id="earshot-test-producer")
    for e in events:
        key = e["brands"][0]["id"].encode() if e["brands"] else b"watermark"
        p.send("posts.enriched", key=key, value=json.dumps(e).encode())
    p.flush(timeout=60)
    p.close(timeout=10)


def start_watch(earshot, bootstrap, wd, name):
    logf = open(os.path.join(wd, name + ".log"), "ab")
    proc = subprocess.Popen([earshot, "watch", "-b", bootstrap, "-g", GROUP] + WATCH_ARGS,
                            stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
    rh.log("%s: pid %d" % (name, proc.pid))
    return proc, logf


def records(bootstrap, topic):
    return [(r.key, json.loads(r.value)) for r in rh.read_topic(bootstrap, topic)]


def stop(proc, name):
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        rc = proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        rc = proc.wait()
    rh.log("%s: SIGTERM -> exit %r after %.2f s" % (name, rc, time.monotonic() - t0))
    return rc


def check_stats(ck, label, want, got):
    """got: [(key, record)] for the windows of want."""
    by = {}
    dups = 0
    for key, r in got:
        k = (r["brand"]["id"], int(rh_time({"created_at": r["window_start"]})))
        dups += k in by
        by[k] = (key, r)
    ck.eq("%s: stats records" % label, len(want), len(got))
    ck.eq("%s: stats records repeating a (brand, window)" % label, 0, dups)
    missing, extra = sorted(set(want) - set(by)), sorted(set(by) - set(want))
    ck.check("%s: the (brand, window) pairs are the expected %d" % (label, len(want)),
             not missing and not extra, "missing %s, extra %s" % (missing[:5], extra[:5]))
    bad = []
    for k, w in sorted(want.items()):
        if k not in by:
            continue
        key, r = by[k]
        if key != k[0].encode():
            bad.append("%s: key %r" % (k, key))
        r2 = dict(r)
        share = r2.pop("retweet_share")
        w2 = dict(w)
        wshare = w2.pop("retweet_share")
        if r2 != w2 or abs(share - wshare) > 1e-6:
            bad.append("%s: got %s, want %s" % (k, json.dumps(r), json.dumps(w)))
    ck.check("%s: every stats record equals Python's count (%d windows)" % (label, len(want)),
             not bad, "; ".join(bad[:3]))


def wait_counts(bootstrap, want_stats, proc):
    rh.wait_for_outputs(bootstrap, {"brand.stats": want_stats, "care.alerts": 0}, timeout=90,
                        settle=3.0, proc_alive=lambda: proc.poll() is None)


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_watch_spike")
    wd = rh.workdir("watch")
    gen = Events(seed=10)
    rng = random.Random(11)

    phase1 = gen.minutes(0, 20, spike=("comcast", 15))
    big = gen.event(T0 + 5 * 60 + 12, ["comcast"], "complaint", followers=250000)
    phase1.append(big)
    dups = [dict(e) for e in rng.sample(phase1, 40)]
    phase1 = arrival_order(rng, phase1) + dups
    phase1.append(gen.event(T0 + 20 * 60 + 31, [], "neutral"))
    phase2 = arrival_order(rng, gen.minutes(20, 28, spike=("dell", 25)))
    phase2.append(gen.event(T0 + 28 * 60 + 31, [], "neutral"))
    want1 = expected_stats(phase1)
    want2 = {k: v for k, v in expected_stats(phase1 + phase2).items()
             if k[1] >= T0 + 20 * 60}
    rh.log("phase 1: %d events, %d windows; phase 2: %d events, %d windows"
           % (len(phase1), len(want1), len(phase2), len(want2)))

    broker = rh.MockBroker(earshot, partitions=4, brokers=1, workdir=wd)
    procs = []
    try:
        broker.cmd("create brand.stats 4")
        broker.cmd("create care.alerts 4")
        produce(broker.bootstrap, phase1)

        p1, l1 = start_watch(earshot, broker.bootstrap, wd, "watch1")
        procs.append((p1, l1))
        t0 = time.monotonic()
        wait_counts(broker.bootstrap, len(want1), p1)
        rh.log("run 1: outputs settled after %.1f s" % (time.monotonic() - t0))
        ck.eq("run 1: SIGTERM exit status", 0, stop(p1, "watch1"))
        stats1 = records(broker.bootstrap, "brand.stats")
        alerts1 = records(broker.bootstrap, "care.alerts")
        check_stats(ck, "run 1", want1, stats1)
        spikes = [(k, a) for k, a in alerts1 if a.get("type") in ("spike", "update")]
        ck.eq("run 1: spike/update alerts (brand, type, window)",
              [("comcast", "spike", iso(T0 + 15 * 60))],
              [(a["brand"]["id"], a["type"], a["window_start"]) for _, a in spikes])
        if spikes:
            k, a = spikes[0]
            ck.eq("run 1: spike key", b"comcast", k)
            ck.eq("run 1: spike complaints", want1[("comcast", T0 + 15 * 60)]["complaints"],
                  a["complaints"])
            ck.check("run 1: spike ratio >= 3 and z >= 3 (%.2f, %.2f)" % (a["ratio"], a["z"]),
                     a["ratio"] >= 3 and a["z"] >= 3, json.dumps(a))
            ck.eq("run 1: sample_post_ids", 5, len(a["sample_post_ids"]))
        infl = [a for _, a in alerts1 if a.get("type") == "influencer"]
        ck.eq("run 1: influencer alerts (post ids)", [big["id"]], [a["post_id"] for a in infl])
        ck.eq("run 1: alerts in all", 2, len(alerts1))

        produce(broker.bootstrap, phase2)
        p2, l2 = start_watch(earshot, broker.bootstrap, wd, "watch2")
        procs.append((p2, l2))
        t0 = time.monotonic()
        wait_counts(broker.bootstrap, len(want1) + len(want2), p2)
        rh.log("run 2: outputs settled after %.1f s" % (time.monotonic() - t0))
        ck.eq("run 2: SIGTERM exit status", 0, stop(p2, "watch2"))
        stats2 = records(broker.bootstrap, "brand.stats")[len(stats1):]
        alerts2 = records(broker.bootstrap, "care.alerts")[len(alerts1):]
        check_stats(ck, "run 2 (restart)", want2, stats2)
        check_stats(ck, "both runs", {**want1, **want2}, stats1 + stats2)
        ck.eq("run 2: alerts (brand, type, window)", [("dell", "spike", iso(T0 + 25 * 60))],
              [(a["brand"]["id"], a["type"], a["window_start"]) for _, a in alerts2])
        with open(os.path.join(wd, "watch2.log"), errors="replace") as f:
            log2 = f.read()
        ck.check("run 2: replayed the emitted windows quietly", "replaying them quietly" in log2,
                 log2[-2000:])
    finally:
        for p, lf in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            lf.close()
        broker.stop()
    rc = ck.finish()
    if rc:
        for name in ("watch1", "watch2"):
            path = os.path.join(wd, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    print("---- %s log tail\n%s" % (name, "".join(f.readlines()[-30:])))
    return rc


if __name__ == "__main__":
    sys.exit(main())
