#!/usr/bin/env python3
"""`earshot run` SIGTERMed while still joining its group exits 0, on the
embedded broker (issue 12, item 10).

The sequence that aborted with librdkafka 2.0.2's
`rd_kafka_sticky_assignor_state_destroy: Assertion 'assignor_state' failed`
(upstream librdkafka #4312, fixed in 2.3.0): run1 joins group G and gets
its partitions, is SIGKILLed (it never leaves the group), run2 joins G and
waits for its first assignment (the mock coordinator waits for the dead
member until its session times out, 6 s here), and run2 is SIGTERMed while
it waits, right after the JoinGroup response chose the cooperative-sticky
protocol and before the SyncGroup brought an assignment (run2 logs
librdkafka's cgrp debug so the test can see that moment). It must exit 0 and log a clean stop. A third run in the same
group then gets all the partitions: the workaround left the group usable.

usage: test_run_mock_sigterm_joining.py EARSHOT_BINARY
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

GROUP = "it-sigterm-joining"
ARGS = rh.MOCK_GROUP_ARGS


def wait_for_log(run, text, timeout):
    """text in run's log within timeout; gives up early if run exits."""
    rh.wait_for(lambda: text in run.text() or not run.alive(), timeout)
    return text in run.text()


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_sigterm_joining")
    wd = rh.workdir("run-sigterm-joining")
    broker = rh.MockBroker(earshot, partitions=4, brokers=3, workdir=wd)
    runs = []
    try:
        run1 = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run1", args=ARGS)
        runs.append(run1)
        ck.check("run1: got its partitions", wait_for_log(run1, "assigned 4 partition", 30),
                 run1.tail())
        run1.kill()

        run2 = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run2",
                          args=ARGS + ("--set", "log.level=debug", "-X", "consumer.debug=cgrp"))
        runs.append(run2)
        ck.check("run2: JoinGroup answered (the coordinator gave up on run1's session)",
                 wait_for_log(run2, "JoinGroup response", 30), run2.tail())
        ck.check("run2: still waiting for its first assignment when signalled",
                 "INFO: assigned" not in run2.text(), run2.tail())
        rc, took = run2.signal_and_wait(signal.SIGTERM, timeout=30)
        ck.eq("run2: SIGTERM while joining: exit status", 0, rc)
        ck.check("run2: exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        ck.check("run2: clean stop logged", "stopped (clean)" in run2.text(), run2.tail())
        ck.check("run2: no assertion", "Assertion" not in run2.text(), run2.tail())

        run3 = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run3", args=ARGS)
        runs.append(run3)
        ck.check("run3: the group still works, all 4 partitions assigned",
                 wait_for_log(run3, "assigned 4 partition", 40), run3.tail())
        rc, took = run3.signal_and_wait(signal.SIGTERM, timeout=30)
        ck.eq("run3: SIGTERM after assignment: exit status", 0, rc)
    finally:
        for r in runs:
            r.ensure_dead()
        broker.stop()
    rc = ck.finish()
    if rc:
        for r in runs:
            print("---- %s log tail\n%s" % (r.name, r.tail(25)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
