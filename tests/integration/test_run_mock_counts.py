#!/usr/bin/env python3
"""`earshot run` on the embedded broker, a clean run: counts in = counts out,
exactly, and every output field as `earshot classify` says.

Input: 4000 generated posts (all shapes, 5% malformed, 30% naming a brand),
3600 produced with kafka-python (every third with a key), 400 with kcat
(librdkafka, but not earshot's code) onto partition 0. Expected outputs come
from `earshot classify` on the same bytes. Then:
  - posts.enriched / care.tickets: exactly the expected post ids, once each;
    key = first brand id; header earshot.post_id = event id; event = classify's;
  - posts.rejected: exactly the rejected inputs, once each, with reason,
    topic, partition, offset, payload_bytes and the original bytes, and the
    input's key;
  - kcat reads the same counts as kafka-python (wire check with a second client);
  - SIGTERM: exit 0 within 10 s; committed offsets = end offsets;
  - a restart in the same group consumes nothing and produces nothing;
    SIGINT then also exits 0.

usage: test_run_mock_counts.py EARSHOT_BINARY
"""
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N, N_KCAT = 4000, 400
GROUP = "it-counts"


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_counts")
    wd = rh.workdir("run-counts")
    lines = rh.generate(earshot, N, seed=11)
    exp = rh.Expected(earshot, lines)
    rh.log("input %d lines: expect enriched %d, tickets %d, rejected %d"
           % ((N,) + exp.counts()))
    ck.check("the input exercises every route", all(c > 50 for c in exp.counts()),
             repr(exp.counts()))
    kcat_lines = lines[N - N_KCAT:]
    ck.check("no empty line goes through kcat (it would skip it)", all(kcat_lines), "")

    broker = rh.MockBroker(earshot, partitions=4, brokers=3, workdir=wd)
    runs = []
    try:
        keys = [b"k%d" % i if i % 3 == 0 else None for i in range(N - N_KCAT)]
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines[:N - N_KCAT], keys)
        positions = prod.positions()
        prod.close()
        end0 = rh.end_offsets(broker.bootstrap, ["posts"])["posts"]
        base = [off for tp, off in end0.items() if tp.partition == 0][0]
        kc = subprocess.run(["kcat", "-P", "-b", broker.bootstrap, "-t", "posts", "-p", "0",
                             "-X", "enable.idempotence=true"],
                            input=b"\n".join(kcat_lines) + b"\n", capture_output=True, timeout=60)
        ck.eq("kcat produce exit status", 0, kc.returncode)
        positions += [(0, base + j) for j in range(N_KCAT)]
        keys += [None] * N_KCAT
        total_in = sum(rh.end_offsets(broker.bootstrap, ["posts"])["posts"].values())
        ck.eq("input messages on posts", N, total_in)

        run = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run1",
                         args=rh.MOCK_GROUP_ARGS)
        runs.append(run)
        t0 = time.monotonic()
        rh.collect_and_verify(ck, broker.bootstrap, exp, positions, exact=True, timeout=120,
                              keys=keys)
        rh.log("all outputs in %.1f s" % (time.monotonic() - t0))

        # A second client library reads the same counts.
        for topic, want in zip(rh.OUT_TOPICS, exp.counts()):
            out = subprocess.run(["kcat", "-C", "-b", broker.bootstrap, "-t", topic, "-e", "-q",
                                  "-o", "beginning", "-f", "%h\\n"],
                                 capture_output=True, timeout=60)
            got = out.stdout.count(b"\n")
            ck.eq("kcat reads %s records" % topic, want, got)
            if topic != "posts.rejected":
                ck.eq("kcat: every %s record has header earshot.post_id" % topic, want,
                      out.stdout.count(b"earshot.post_id="))

        rc, took = run.signal_and_wait(signal.SIGTERM, timeout=15)
        ck.eq("SIGTERM: exit status", 0, rc)
        ck.check("SIGTERM: exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        ck.check("SIGTERM: clean stop logged", "stopped (clean)" in run.text(), run.tail())
        rh.assert_committed_at_end(ck, broker.bootstrap, GROUP, positions)

        # Restart in the same group: nothing left to consume, nothing produced.
        before = rh.end_offsets(broker.bootstrap)
        run2 = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run2",
                          args=rh.MOCK_GROUP_ARGS)
        runs.append(run2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "assigned 4 partition" not in run2.text():
            time.sleep(0.2)
        ck.check("restart: got the 4 partitions", "assigned 4 partition" in run2.text(),
                 run2.tail())
        time.sleep(2.0)
        rc, took = run2.signal_and_wait(signal.SIGINT, timeout=15)
        ck.eq("SIGINT: exit status", 0, rc)
        ck.check("SIGINT: exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        ck.eq("restart: messages consumed", 0, run2.consumed())
        ck.eq("restart: output end offsets unchanged", before, rh.end_offsets(broker.bootstrap))
    finally:
        for r in runs:
            r.ensure_dead()
        broker.stop()
    rc = ck.finish()
    if rc:
        for r in runs:
            print("---- %s log tail\n%s" % (r.name, r.tail(40)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
