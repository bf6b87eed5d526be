#!/usr/bin/env python3
"""Two `earshot run` processes in one consumer group on the embedded broker:
they split the partitions (cooperative-sticky: the first gives two of its
four away, finishing and committing their in-flight work), one is SIGKILLed
mid-stream, the survivor takes its partitions over, and together they lose
nothing.

5000 of 9000 generated posts are preloaded, a starts alone and is busy with
them when b joins (so a's revoke has work in flight), the other 4000 are
produced once the two have split the partitions. Both processes are slowed
down (300 ms added round trip on every broker, max.inflight.messages=200). Checks: each
process held 2 of the 4 partitions and consumed some input; after the kill
the survivor holds all 4; every expected output arrives at least once
(distinct post ids / source offsets complete, nothing unexpected);
the survivor stops cleanly on SIGTERM with committed = end offsets.

usage: test_run_mock_two_procs.py EARSHOT_BINARY
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N, FIRST = 9000, 5000
GROUP = "it-two-procs"
SLOW = ["rtt 1 300", "rtt 2 300", "rtt 3 300"]
ARGS = rh.MOCK_GROUP_ARGS + ("--set", "max.inflight.messages=200")


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_two_procs")
    wd = rh.workdir("run-two")
    lines = rh.generate(earshot, N, seed=47)
    exp = rh.Expected(earshot, lines)
    rh.log("input %d lines: expect enriched %d, tickets %d, rejected %d" % ((N,) + exp.counts()))

    broker = rh.MockBroker(earshot, partitions=4, brokers=3, workdir=wd)
    runs = []
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines[:FIRST])
        prod.positions()
        for cmd in SLOW:
            ck.eq("'%s' accepted" % cmd, "ok", broker.cmd(cmd))

        a = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="a", args=ARGS)
        runs.append(a)
        ck.check("a: assigned 4 partitions alone", rh.wait_for(lambda: "4 in total" in a.text(), 30),
                 a.tail())
        b = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="b", args=ARGS)
        runs.append(b)
        split = rh.wait_for(lambda: "2 left" in a.text() and "2 in total" in b.text(), 40)
        ck.check("cooperative-sticky: a revoked 2 and kept 2, b got 2", split,
                 "a: %s\nb: %s" % (a.tail(8), b.tail(8)))
        text = a.text()
        before = [int(m.group(1)) for m in rh.STATUS_RE.finditer(text[:text.index("2 left")])]
        ck.check("a was still busy with the first %d when it gave partitions away (consumed %r)"
                 % (FIRST, before[-1:]), before and before[-1] < FIRST, a.tail(5))
        prod.send(lines[FIRST:])
        positions = prod.positions()
        prod.close()
        ck.eq("input messages produced", N, len(positions))
        ck.check("both consumed input", rh.wait_for(lambda: a.consumed() > 0 and b.consumed() > 0, 20),
                 "a %d b %d" % (a.consumed(), b.consumed()))
        rh.wait_for(lambda: a.consumed() + b.consumed() >= FIRST + 0.3 * (N - FIRST), 60)
        ca, cb = a.consumed(), b.consumed()
        a.kill()
        ck.check("a SIGKILLed mid-stream (a consumed %d, b %d, of %d)" % (ca, cb, N),
                 ca > 0 and cb > 0 and ca + cb < N, "")
        for cmd in SLOW:
            broker.cmd(cmd.rsplit(" ", 1)[0] + " 0")
        ck.check("b took a's partitions over (4 in total)",
                 rh.wait_for(lambda: "4 in total" in b.text(), 60), b.tail(10))
        rh.collect_and_verify(ck, broker.bootstrap, exp, positions, exact=False, timeout=180)
        ck.check("b still running", b.alive(), b.tail())
        rc, took = b.signal_and_wait(signal.SIGTERM, timeout=35)
        ck.eq("b: SIGTERM exit status", 0, rc)
        ck.check("b: SIGTERM exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        rh.assert_committed_at_end(ck, broker.bootstrap, GROUP, positions)
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
