#!/usr/bin/env python3
"""`earshot run` on the embedded broker while the cluster misbehaves: nothing
is lost.

6000 generated posts are preloaded (so that only earshot produces while the
faults are injected: the mock's request errors hit whichever client sends
next), then earshot is slowed down (200 ms added round trip on every broker,
max.inflight.messages=200: ~1000 posts/s) and, as it consumes, the mock cluster (commands on `earshot broker`'s stdin) fails
Fetch and OffsetCommit requests, moves the leader of an input partition (no
producer-side faults: see FAULTS), and takes broker 1 down and up again. Afterwards every expected
post id is on posts.enriched / care.tickets and every rejected input on
posts.rejected (distinct counts complete, nothing unexpected; duplicates are
allowed and reported), earshot never stopped, SIGTERM exits 0 and the
committed offsets equal the end offsets.

usage: test_run_mock_faults.py EARSHOT_BINARY
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N = 6000
GROUP = "it-faults"

# (share of the input earshot has consumed, command, seconds to wait after)
#
# Faults on the consumer side only. Faults on the producer side of the mock
# cluster (injected Produce errors, leader moves of the output partitions)
# ended, on librdkafka 2.0.2, with 2-12 outputs that the producer reported
# delivered missing from the mock's log: 3 runs of 3 with the Produce
# errors, 1 of 2 with them removed but the output leader moves kept, 0 of 3
# with neither. Whether the mock or 2.0.2's idempotent producer drops them is
# not established (librdkafka 2.3.0 fixed the idempotent producer's
# handling of "possibly persisted" errors, #4438). Real Kafka is the
# arbiter: test_run_kafka_faults SIGKILLs a leader broker mid-stream (real
# Produce errors, leader elections and retries) and loses nothing. See the
# issue-3 note.
FAULTS = [
    (0.15, "errors Fetch 3 NOT_LEADER_FOR_PARTITION", 0),
    (0.15, "leader posts 2 1", 0.3),
    (0.25, "down 1", 2.0),
    (0.25, "up 1", 0.3),
    (0.30, "errors OffsetCommit 2 COORDINATOR_LOAD_IN_PROGRESS COORDINATOR_LOAD_IN_PROGRESS",
     0.3),
    (0.40, "down 2", 1.5),
    (0.40, "up 2", 0),
]
SLOW = ["rtt 1 200", "rtt 2 200", "rtt 3 200"]


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_faults")
    wd = rh.workdir("run-faults")
    lines = rh.generate(earshot, N, seed=23)
    exp = rh.Expected(earshot, lines)
    rh.log("input %d lines: expect enriched %d, tickets %d, rejected %d" % ((N,) + exp.counts()))

    broker = rh.MockBroker(earshot, partitions=4, brokers=3, workdir=wd)
    run = None
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        positions = prod.positions()
        prod.close()
        ck.eq("input messages produced", N, len(positions))
        for cmd in SLOW:
            ck.eq("'%s' accepted" % cmd, "ok", broker.cmd(cmd))
        run = rh.Earshot(earshot, broker.bootstrap, GROUP, wd,
                         args=rh.MOCK_GROUP_ARGS + ("--set", "max.inflight.messages=200"))
        for share, cmd, after in FAULTS:
            deadline = time.monotonic() + 30
            while run.consumed() < share * N and time.monotonic() < deadline and run.alive():
                time.sleep(0.05)
            consumed = run.consumed()
            reply = broker.cmd(cmd)
            ck.check("fault '%s' accepted mid-stream (earshot had consumed %d of %d)"
                     % (cmd, consumed, N), reply == "ok" and 0 < consumed < N,
                     "reply %r, consumed %d" % (reply, consumed))
            time.sleep(after)
        for cmd in SLOW:
            broker.cmd(cmd.rsplit(" ", 1)[0] + " 0")
        ck.check("earshot is still running after the faults", run.alive(), run.tail())

        rh.collect_and_verify(ck, broker.bootstrap, exp, positions, exact=False, timeout=180)
        ck.check("no delivery failed", "delivery to" not in run.text(), run.tail())

        rc, took = run.signal_and_wait(signal.SIGTERM, timeout=35)
        ck.eq("SIGTERM: exit status", 0, rc)
        ck.check("SIGTERM: exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        rh.assert_committed_at_end(ck, broker.bootstrap, GROUP, positions)
    finally:
        if run:
            run.ensure_dead()
        broker.stop()
    rc = ck.finish()
    if rc and run:
        print("---- earshot log tail\n%s" % run.tail(60))
    return rc


if __name__ == "__main__":
    sys.exit(main())
