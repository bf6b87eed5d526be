#!/usr/bin/env python3
"""Backpressure on the embedded broker: while the downstream is unavailable
earshot stops consuming instead of buffering or dropping, and once it is
back everything arrives.

Every partition of the three output topics is led by broker 1, the input
and the group coordinator live on brokers 2 and 3. With broker 1 down and
max.inflight.messages=100, 3000 posts are produced. Checks while it is
down: in-flight never exceeds 100 messages, consumption stops (consumed
does not move for 3 s, the lag stays > 0), no output is acknowledged, RSS does not grow by more than 64 MB, earshot keeps running. After
`up 1`: every expected output arrives (distinct ids complete, nothing
unexpected), SIGTERM exits 0, committed = end offsets.

usage: test_run_mock_backpressure.py EARSHOT_BINARY
"""
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N, MAX_INFLIGHT, PARTS = 3000, 100, 4
GROUP = "it-backpressure"


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_backpressure")
    wd = rh.workdir("run-bp")
    lines = rh.generate(earshot, N, seed=71)
    exp = rh.Expected(earshot, lines)
    rh.log("input %d lines: expect enriched %d, tickets %d, rejected %d" % ((N,) + exp.counts()))

    broker = rh.MockBroker(earshot, partitions=PARTS, brokers=3, workdir=wd)
    run = None
    try:
        cmds = ["coordinator group %s 2" % GROUP]
        cmds += ["leader %s %d 1" % (t, p) for t in rh.OUT_TOPICS for p in range(PARTS)]
        cmds += ["leader posts %d %d" % (p, 2 + p % 2) for p in range(PARTS)]
        for cmd in cmds:
            ck.eq("'%s' accepted" % cmd, "ok", broker.cmd(cmd))

        run = rh.Earshot(earshot, broker.bootstrap, GROUP, wd,
                         args=rh.MOCK_GROUP_ARGS
                         + ("--set", "max.inflight.messages=%d" % MAX_INFLIGHT))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "4 in total" not in run.text():
            time.sleep(0.1)
        ck.check("earshot got the 4 input partitions", "4 in total" in run.text(), run.tail())
        rss0 = rss_kb(run.proc.pid)
        ck.eq("'down 1' (every output partition's leader)", "ok", broker.cmd("down 1"))

        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        positions = prod.positions()
        prod.close()
        ck.eq("input messages produced while the outputs are down", N, len(positions))

        time.sleep(3.0)
        c1 = run.consumed()
        time.sleep(3.0)
        sts = run.statuses()
        c2 = run.consumed()
        rss1 = rss_kb(run.proc.pid)
        max_inflight = max(s[1] for s in sts)
        rh.log("while down: consumed %d then %d, max in flight %d, last status %r, "
               "RSS %d -> %d kB" % (c1, c2, max_inflight, sts[-1], rss0, rss1))
        ck.check("in flight never above max.inflight.messages (max %d)" % max_inflight,
                 0 < max_inflight <= MAX_INFLIGHT, repr(sts[-5:]))
        ck.check("consumption paused: consumed %d == %d over 3 s, far below %d" % (c1, c2, N),
                 c1 == c2 and c2 < N // 2, "")
        ck.check("lag > 0 while paused (%d)" % sts[-1][3], sts[-1][3] > 0, repr(sts[-1]))
        ck.check("'(paused)' shown in the status line", "(paused)" in run.tail(3), run.tail(3))
        ck.check("RSS grew by < 64 MB while paused (%d kB)" % (rss1 - rss0),
                 rss1 - rss0 < 64 * 1024, "")
        last = [ln for ln in run.text().splitlines() if "status:" in ln][-1]
        ck.check("earshot acknowledged no output while their leader was down",
                 "produced enriched 0 tickets 0 rejected 0," in last, last)
        ck.check("earshot still running", run.alive(), run.tail())

        ck.eq("'up 1'", "ok", broker.cmd("up 1"))
        rh.collect_and_verify(ck, broker.bootstrap, exp, positions, exact=False, timeout=180)
        sts = run.statuses()
        ck.check("in flight never above max.inflight.messages over the whole run (max %d)"
                 % max(s[1] for s in sts), max(s[1] for s in sts) <= MAX_INFLIGHT, "")
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
