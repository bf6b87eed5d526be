#!/usr/bin/env python3
"""`earshot run` on a real 3-node Apache Kafka (replication 3,
min.insync.replicas=2, earshot's producer acks=all + idempotent) through
three faults on one continuous stream and one consumer group; after each,
every input produced so far must have its outputs (distinct post ids and
distinct rejected source offsets complete, nothing unexpected; the
duplicates a crash causes are allowed and reported):

  1. a broker is SIGKILLed mid-stream and restarted: earshot keeps running
     and never fails a delivery;
  2. earshot is SIGKILLed mid-stream and restarted in the same group;
  3. a second earshot joins the group (the two split the partitions), then
     the first is SIGKILLed mid-stream: the survivor takes its partitions.
Finally the survivor exits 0 on SIGTERM with committed = end offsets.

Input: 12000 generated posts, 4000 per phase, produced by kafka-python at
~800/s while earshot consumes them, so each kill lands mid-stream.

usage: test_run_kafka_faults.py EARSHOT_BINARY
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

PHASE, RATE = 4000, 800
GROUP = "it-kafka-faults"
# A dead member's partitions move on after its session expires: 6 s (the
# brokers' group.min.session.timeout.ms) rather than librdkafka's 45 s.
ARGS = ("-X", "consumer.session.timeout.ms=6000", "-X", "consumer.heartbeat.interval.ms=1000")


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_kafka_faults")
    wd = rh.workdir("run-kafka-faults")
    lines = rh.generate(earshot, 3 * PHASE, seed=97)
    cluster = rh.KafkaCluster(nodes=3, workdir=wd)
    runs = []
    try:
        cluster.create_topics(partitions=4, replication=3)
        s = rh.PacedStream(earshot, cluster.bootstrap, lines, PHASE, RATE)

        a = rh.Earshot(earshot, cluster.bootstrap, GROUP, wd, name="a", args=ARGS)
        runs.append(a)
        ck.check("a: assigned 4 partitions", rh.wait_for(lambda: "4 in total" in a.text(), 60),
                 a.tail())

        # 1. a broker dies mid-stream and comes back.
        seen = {}

        def kill_broker():
            seen["before"] = a.consumed()
            cluster.kill(2)

        def restart_broker():
            seen["down"] = a.consumed()
            cluster.restart(2)
        s.phase(0, [(0.3, kill_broker), (0.6, restart_broker)])
        ck.check("phase 1: broker 2 killed mid-stream (a had consumed %r, then %r while it was "
                 "down)" % (seen.get("before"), seen.get("down")),
                 0 < seen.get("before", 0) < seen.get("down", 0) < PHASE, "")
        s.verify(ck, "phase 1 (broker SIGKILL)")
        ck.check("phase 1: earshot kept running", a.alive(), a.tail())
        ck.check("phase 1: no delivery failed", "delivery to" not in a.text(), a.tail())

        # 2. earshot dies mid-stream and is restarted in the same group.
        restarted = []
        seen["phase1_end"] = a.consumed()

        def kill_earshot():
            seen["killed_at"] = a.consumed()
            a.kill()
            restarted.append(rh.Earshot(earshot, cluster.bootstrap, GROUP, wd, name="a2",
                                        args=ARGS))
        s.phase(1, [(0.4, kill_earshot)])
        a2 = restarted[0]
        runs.append(a2)
        # consumed() counts what librdkafka delivered, re-deliveries after
        # phase 1's broker restart included, so it is not bounded by 2 x PHASE:
        # mid-stream means a consumed phase-2 input before the kill, which is
        # scheduled at 40% of the phase's production.
        ck.check("phase 2: earshot SIGKILLed mid-stream (had consumed %r, %r at the end of "
                 "phase 1)" % (seen.get("killed_at"), seen.get("phase1_end")),
                 seen.get("phase1_end", 0) < seen.get("killed_at", 0), "")
        s.verify(ck, "phase 2 (earshot SIGKILL + restart)")

        # 3. a second process joins; the first dies mid-stream.
        b = rh.Earshot(earshot, cluster.bootstrap, GROUP, wd, name="b", args=ARGS)
        runs.append(b)
        ck.check("phase 3: a2 and b split the 4 partitions",
                 rh.wait_for(lambda: "2 in total" in b.text() and "2 left" in a2.text(), 60),
                 "a2: %s\nb: %s" % (a2.tail(6), b.tail(6)))

        def kill_a2():
            seen["a2"], seen["b"] = a2.consumed(), b.consumed()
            a2.kill()
        s.phase(2, [(0.5, kill_a2)])
        ck.check("phase 3: both consumed before the kill (a2 %r, b %r)"
                 % (seen.get("a2"), seen.get("b")), seen.get("a2", 0) > 0 and seen.get("b", 0) > 0,
                 "")
        ck.check("phase 3: b took a2's partitions (4 in total)",
                 rh.wait_for(lambda: "4 in total" in b.text(), 60), b.tail(10))
        s.verify(ck, "phase 3 (two processes, one SIGKILLed)")
        ck.check("b: no delivery failed", "delivery to" not in b.text(), b.tail())

        rc, took = b.signal_and_wait(signal.SIGTERM, timeout=35)
        ck.eq("b: SIGTERM exit status", 0, rc)
        ck.check("b: SIGTERM exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        rh.assert_committed_at_end(ck, cluster.bootstrap, GROUP, s.positions)
    finally:
        for r in runs:
            r.ensure_dead()
        rc = ck.finish()
        cluster.stop(failed=bool(rc))
    if rc:
        for r in runs:
            print("---- %s log tail\n%s" % (r.name, r.tail(40)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
