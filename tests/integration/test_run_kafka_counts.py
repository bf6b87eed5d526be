#!/usr/bin/env python3
"""`earshot run` against a real Apache Kafka (1 node, scripts/kafka), a
clean run: counts in = counts out exactly, every field as `earshot classify`
says, produced and read back with two other clients (kafka-python and kcat)
for wire compatibility; SIGTERM exits 0 with committed = end offsets; a
restart in the same group consumes nothing; SIGINT exits 0.
(The same scenario as test_run_mock_counts, run_helpers.clean_run.)

usage: test_run_kafka_counts.py EARSHOT_BINARY
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N, N_KCAT = 6000, 600
GROUP = "it-kafka-counts"


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_kafka_counts")
    wd = rh.workdir("run-kafka-counts")
    lines = rh.generate(earshot, N, seed=13)
    exp = rh.Expected(earshot, lines)
    rh.log("input %d lines: expect enriched %d, tickets %d, rejected %d" % ((N,) + exp.counts()))
    ck.check("the input exercises every route", all(c > 50 for c in exp.counts()),
             repr(exp.counts()))
    cluster = rh.KafkaCluster(nodes=1, workdir=wd)
    try:
        cluster.create_topics(partitions=4, replication=1)
        rh.clean_run(ck, earshot, cluster.bootstrap, wd, GROUP, lines, exp, n_kcat=N_KCAT)
    finally:
        rc = ck.finish()
        cluster.stop(failed=bool(rc))
    if rc:
        for name in ("run1", "run2"):
            path = os.path.join(wd, name + ".log")
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    print("---- %s log tail\n%s" % (name, "".join(f.readlines()[-40:])))
    return rc


if __name__ == "__main__":
    sys.exit(main())
