#!/usr/bin/env python3
"""Rebalances without a crash lose nothing and repeat nothing: exactly-once
counts through two cooperative hand-overs, on the embedded broker.

a starts alone on 4 partitions and is busy with 3000 preloaded posts when b
joins: a must finish its in-flight work on the 2 partitions it gives away
and commit them before b starts from the committed offsets. The other 3000
posts are produced after the split. While both are busy, b gets SIGTERM: it
drains, commits and leaves; a takes b's partitions back from the committed
offsets. Every expected output must then be there exactly once (a revoke
that committed too little would show as duplicates, one that committed too
much as missing posts). Both exit 0; committed = end offsets.

usage: test_run_mock_rebalance.py EARSHOT_BINARY
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N, FIRST = 6000, 3000
GROUP = "it-rebalance"
SLOW = ["rtt 1 300", "rtt 2 300", "rtt 3 300"]
# At most 60 posts in flight against a 300 ms produce round trip: a needs
# ~15 s for the first 3000, so it is still busy when b (which loads and
# compiles the rules, model included, on a loaded CI machine) joins.
ARGS = rh.MOCK_GROUP_ARGS + ("--set", "max.inflight.messages=60")


def status_before(run, marker):
    text = run.text()
    at = text.find(marker)
    st = [tuple(int(g) for g in m.groups()) for m in rh.STATUS_RE.finditer(text[:at])]
    return st[-1] if st else None


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_rebalance")
    wd = rh.workdir("run-rebalance")
    lines = rh.generate(earshot, N, seed=59)
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
        ck.check("cooperative-sticky: a revoked 2 and kept 2, b got 2",
                 rh.wait_for(lambda: "2 left" in a.text() and "2 in total" in b.text(), 40),
                 "a: %s\nb: %s" % (a.tail(8), b.tail(8)))
        st = status_before(a, "2 left")
        ck.check("a was busy when it gave 2 partitions away (status before: %r)" % (st,),
                 st is not None and st[0] < FIRST and st[3] > 0, a.tail(5))
        prod.send(lines[FIRST:])
        positions = prod.positions()
        prod.close()
        ck.eq("input messages produced", N, len(positions))
        rh.wait_for(lambda: a.consumed() + b.consumed() >= 0.7 * N, 60)
        ca, cb = a.consumed(), b.consumed()
        rc, took = b.signal_and_wait(signal.SIGTERM, timeout=35)
        ck.check("b stopped mid-stream (a consumed %d, b %d, of %d)" % (ca, cb, N),
                 ca > 0 and cb > 0 and ca + cb < N, "")
        ck.eq("b: SIGTERM exit status", 0, rc)
        ck.check("b: SIGTERM exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        ck.check("a took b's partitions back (4 in total)",
                 rh.wait_for(lambda: a.text().count("4 in total") >= 2, 60), a.tail(10))
        for cmd in SLOW:
            broker.cmd(cmd.rsplit(" ", 1)[0] + " 0")
        rh.collect_and_verify(ck, broker.bootstrap, exp, positions, exact=True, timeout=180)
        ck.eq("a + b consumed every input exactly once", N, a.consumed() + b.consumed())
        rc, took = a.signal_and_wait(signal.SIGTERM, timeout=35)
        ck.eq("a: SIGTERM exit status", 0, rc)
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
