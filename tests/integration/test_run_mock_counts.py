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
import sys

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
    broker = rh.MockBroker(earshot, partitions=4, brokers=3, workdir=wd)
    runs = []
    try:
        runs = rh.clean_run(ck, earshot, broker.bootstrap, wd, GROUP, lines, exp,
                            run_args=rh.MOCK_GROUP_ARGS, n_kcat=N_KCAT)
    finally:
        broker.stop()
    rc = ck.finish()
    if rc:
        for name in ("run1", "run2"):
            path = os.path.join(wd, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    print("---- %s log tail\n%s" % (name, "".join(f.readlines()[-40:])))
    return rc


if __name__ == "__main__":
    sys.exit(main())
