#!/usr/bin/env python3
"""`earshot run` on the embedded broker: the two latency histograms count
every post once (issue 14).

  - earshot_processing_latency_seconds: consume -> acknowledged (the
    delivery report of the post's last output; its classification when it
    has none): _count = posts consumed, once all are acknowledged;
  - earshot_queue_latency_seconds: broker timestamp -> consume: _count =
    posts consumed;
  - both _sum are positive and below the run's wall time per post summed
    (a clock mix-up, e.g. ms read as ns or realtime vs monotonic, breaks it);
  - the +Inf bucket equals _count and buckets never decrease.

usage: test_run_mock_latency_metrics.py EARSHOT_BINARY
"""
import os
import re
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

GROUP = "it-latency-metrics"
N = 1500
FAMILIES = ("earshot_processing_latency_seconds", "earshot_queue_latency_seconds")


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def sample(text, name):
    m = re.search(r"^%s ([0-9.e+-]+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def buckets(text, family):
    return [float(v) for v in
            re.findall(r'^%s_bucket\{le="[^"]+"\} ([0-9]+)$' % re.escape(family), text, re.M)]


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_latency_metrics")
    wd = rh.workdir("run-latency-metrics")
    lines = rh.generate(earshot, N, seed=23)
    broker = rh.MockBroker(earshot, partitions=2, brokers=1, workdir=wd)
    run = None
    try:
        run = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run",
                         args=rh.MOCK_GROUP_ARGS + ("--http", "127.0.0.1:0"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "assigned 2 partition" not in run.text():
            time.sleep(0.2)
        ck.check("assigned the 2 partitions", "assigned 2 partition" in run.text(), run.tail())
        port = int(re.search(r"\(port (\d+)\)", run.text()).group(1))
        t0 = time.monotonic()
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        prod.positions()
        prod.close()
        # Wait until every post is consumed and acknowledged.
        text = ""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            text = scrape(port)
            if (sample(text, "earshot_consumed_total") == N and
                    sample(text, "earshot_processing_latency_seconds_count") == N):
                break
            time.sleep(0.5)
        wall = time.monotonic() - t0
        ck.eq("earshot_consumed_total", N, sample(text, "earshot_consumed_total"))
        for fam in FAMILIES:
            count = sample(text, fam + "_count")
            total = sample(text, fam + "_sum")
            ck.eq("%s_count = posts consumed" % fam, N, count)
            ck.check("%s_sum in (0, %d posts x %.1f s)" % (fam, N, wall),
                     total is not None and 0 < total < N * wall, repr(total))
            b = buckets(text, fam)
            ck.eq("%s: 21 buckets" % fam, 21, len(b))
            ck.check("%s: buckets never decrease" % fam,
                     all(x <= y for x, y in zip(b, b[1:])), repr(b))
            ck.eq("%s: +Inf bucket = _count" % fam, count, b[-1] if b else None)
        rc, _ = run.signal_and_wait(rh.signal.SIGTERM, timeout=30)
        ck.eq("SIGTERM: exit status", 0, rc)
    finally:
        if run:
            run.ensure_dead()
        broker.stop()
    rc = ck.finish()
    if rc and run:
        print("---- run log tail\n" + run.tail(40))
    return rc


if __name__ == "__main__":
    sys.exit(main())
