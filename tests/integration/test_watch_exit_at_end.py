#!/usr/bin/env python3
"""`earshot watch --exit-at-end` on the embedded broker: it stops by itself,
exit 0, once every partition has been read to its end, having emitted
exactly the windows the events close, and its last close is committed
although checkpoints are throttled (watch_kafka.h): a second run over the
same topic emits nothing again, and a third, after 8 more minutes of
events, emits exactly the new windows and the spike in them.

Events and expected figures: test_watch_spike.py's (three brands, a 10x
comcast spike in minute 15, duplicates, jittered arrival, a brandless
event that moves the watermark).

usage: test_watch_exit_at_end.py EARSHOT_BINARY
"""
import os
import random
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.insert(0, HERE)
import run_helpers as rh  # noqa: E402
import test_watch_spike as ws  # noqa: E402

GROUP = "it-watch-end"


def run_to_end(earshot, bootstrap, wd, name, timeout=90):
    """Runs earshot watch --exit-at-end; (exit status or None, seconds)."""
    with open(os.path.join(wd, name + ".log"), "ab") as logf:
        t0 = time.monotonic()
        p = subprocess.Popen([earshot, "watch", "-b", bootstrap, "-g", GROUP, "--exit-at-end"] +
                             ws.WATCH_ARGS, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = None
    took = time.monotonic() - t0
    rh.log("%s: exit %r after %.1f s" % (name, rc, took))
    return rc, took


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_watch_exit_at_end")
    wd = rh.workdir("watch-end")
    gen = ws.Events(seed=20)
    rng = random.Random(21)

    phase1 = gen.minutes(0, 20, spike=("comcast", 15))
    phase1 = ws.arrival_order(rng, phase1) + [dict(e) for e in rng.sample(phase1, 40)]
    phase1.append(gen.event(ws.T0 + 20 * 60 + 31, [], "neutral"))
    phase2 = ws.arrival_order(rng, gen.minutes(20, 28, spike=("dell", 25)))
    phase2.append(gen.event(ws.T0 + 28 * 60 + 31, [], "neutral"))
    want1 = ws.expected_stats(phase1)
    want2 = {k: v for k, v in ws.expected_stats(phase1 + phase2).items()
             if k[1] >= ws.T0 + 20 * 60}

    broker = rh.MockBroker(earshot, partitions=4, brokers=1, workdir=wd)
    try:
        broker.cmd("create brand.stats 4")
        broker.cmd("create care.alerts 4")
        ws.produce(broker.bootstrap, phase1)

        rc, _ = run_to_end(earshot, broker.bootstrap, wd, "end1")
        ck.eq("run 1: exits by itself, status 0", 0, rc)
        stats1 = ws.records(broker.bootstrap, "brand.stats")
        alerts1 = ws.records(broker.bootstrap, "care.alerts")
        ws.check_stats(ck, "run 1", want1, stats1)
        ck.eq("run 1: alerts (brand, type, window)",
              [("comcast", "spike", ws.iso(ws.T0 + 15 * 60))],
              [(a["brand"]["id"], a["type"], a["window_start"]) for _, a in alerts1])

        rc, _ = run_to_end(earshot, broker.bootstrap, wd, "end2")
        ck.eq("run 2 (nothing new): exit status", 0, rc)
        ck.eq("run 2 (nothing new): stats records added (the last close was committed)", 0,
              len(ws.records(broker.bootstrap, "brand.stats")) - len(stats1))
        ck.eq("run 2 (nothing new): alerts added", 0,
              len(ws.records(broker.bootstrap, "care.alerts")) - len(alerts1))

        ws.produce(broker.bootstrap, phase2)
        rc, _ = run_to_end(earshot, broker.bootstrap, wd, "end3")
        ck.eq("run 3 (8 more minutes): exit status", 0, rc)
        stats3 = ws.records(broker.bootstrap, "brand.stats")[len(stats1):]
        alerts3 = ws.records(broker.bootstrap, "care.alerts")[len(alerts1):]
        ws.check_stats(ck, "run 3", want2, stats3)
        ck.eq("run 3: alerts (brand, type, window)", [("dell", "spike", ws.iso(ws.T0 + 25 * 60))],
              [(a["brand"]["id"], a["type"], a["window_start"]) for _, a in alerts3])
    finally:
        broker.stop()
    rc = ck.finish()
    if rc:
        for name in ("end1", "end2", "end3"):
            path = os.path.join(wd, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    print("---- %s log tail\n%s" % (name, "".join(f.readlines()[-30:])))
    return rc


if __name__ == "__main__":
    sys.exit(main())
