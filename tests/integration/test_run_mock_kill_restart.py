#!/usr/bin/env python3
"""`earshot run` SIGKILLed mid-stream and restarted in the same group, on the
embedded broker: nothing is lost.

6000 generated posts are preloaded; earshot is slowed down (150 ms added
round trip on every broker, max.inflight.messages=200) so that the kill
lands mid-stream, with outputs in flight and offsets not yet committed. It
is killed with SIGKILL once it has consumed ~40%, restarted with the same
group, and must then deliver every expected output at least once (distinct
post ids and distinct rejected source offsets complete, nothing unexpected;
the duplicates a kill causes are allowed and reported). The restarted
process then stops cleanly on SIGTERM with committed = end offsets.

usage: test_run_mock_kill_restart.py EARSHOT_BINARY
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N = 6000
GROUP = "it-kill-restart"
SLOW = ["rtt 1 150", "rtt 2 150", "rtt 3 150"]
ARGS = rh.MOCK_GROUP_ARGS + ("--set", "max.inflight.messages=200")


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_kill_restart")
    wd = rh.workdir("run-kill")
    lines = rh.generate(earshot, N, seed=31)
    exp = rh.Expected(earshot, lines)
    rh.log("input %d lines: expect enriched %d, tickets %d, rejected %d" % ((N,) + exp.counts()))

    broker = rh.MockBroker(earshot, partitions=4, brokers=3, workdir=wd)
    runs = []
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        positions = prod.positions()
        prod.close()
        ck.eq("input messages produced", N, len(positions))
        for cmd in SLOW:
            ck.eq("'%s' accepted" % cmd, "ok", broker.cmd(cmd))

        run1 = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run1", args=ARGS)
        runs.append(run1)
        deadline = time.monotonic() + 60
        while run1.consumed() < 0.4 * N and time.monotonic() < deadline and run1.alive():
            time.sleep(0.05)
        before = run1.statuses()[-1] if run1.statuses() else None
        run1.kill()
        outs = rh.end_offsets(broker.bootstrap)
        produced = {t: sum(v.values()) for t, v in outs.items()}
        rh.log("killed run1 at status %r; outputs so far %r" % (before, produced))
        ck.check("SIGKILL landed mid-stream (consumed %d of %d)" % (before[0] if before else 0, N),
                 before is not None and 0 < before[0] < N, repr(before))
        ck.check("SIGKILL landed with outputs still missing",
                 produced["posts.enriched"] < len(exp.enriched_ids), repr(produced))

        for cmd in SLOW:
            broker.cmd(cmd.rsplit(" ", 1)[0] + " 0")
        run2 = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run2", args=ARGS)
        runs.append(run2)
        rh.collect_and_verify(ck, broker.bootstrap, exp, positions, exact=False, timeout=180)
        ck.check("restart resumed from committed offsets, not from the beginning "
                 "(run2 consumed %d < %d)" % (run2.consumed(), N), 0 < run2.consumed() < N,
                 repr(run2.statuses()[-1:]))
        rc, took = run2.signal_and_wait(signal.SIGTERM, timeout=35)
        ck.eq("SIGTERM after restart: exit status", 0, rc)
        ck.check("SIGTERM: exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
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
