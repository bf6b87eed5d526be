#!/usr/bin/env python3
"""An offset reset that skips input is reported as data loss, on the
embedded broker (issue 12, item 9).

The group commits offset 5 of a one-partition input topic; then enough
posts are produced (4000 of ~2 KB) that the mock's retention deletes the
head of the log, committed offset included. `earshot run` resumes at 5,
gets OFFSET_OUT_OF_RANGE, and librdkafka (auto.offset.reset=earliest)
jumps to the new log start L: offsets 5..L-1 were never read. earshot must
log an ERROR naming the count L-5, count it in earshot_input_lost_total,
consume exactly end-L messages, and stop cleanly.

usage: test_run_mock_offset_reset.py EARSHOT_BINARY
"""
import os
import re
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from kafka import KafkaConsumer, TopicPartition  # noqa: E402
from kafka.structs import OffsetAndMetadata  # noqa: E402

GROUP = "it-offset-reset"
N = 4000
COMMITTED = 5


def metric(port, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        m = re.search(r"^%s (\d+)$" % name, r.read().decode(), re.M)
    return int(m.group(1)) if m else None


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_offset_reset")
    wd = rh.workdir("run-offset-reset")
    lines = rh.generate(earshot, N, seed=41, size=2000)
    broker = rh.MockBroker(earshot, partitions=1, brokers=1, workdir=wd)
    run = None
    try:
        tp = TopicPartition("posts", 0)
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines[:10])
        prod.positions()
        c = KafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=GROUP,
                          enable_auto_commit=False)
        c.assign([tp])
        c.commit({tp: OffsetAndMetadata(COMMITTED, None)})
        prod.send(lines[10:])
        prod.positions()
        prod.close()
        start = c.beginning_offsets([tp])[tp]
        end = c.end_offsets([tp])[tp]
        c.close()
        rh.log("input log now [%d, %d), group committed %d" % (start, end, COMMITTED))
        ck.check("retention deleted the committed offset (log start %d > %d)"
                 % (start, COMMITTED), start > COMMITTED, "")

        run = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run",
                         args=rh.MOCK_GROUP_ARGS + ("--http", "127.0.0.1:0"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and run.consumed() < end - start and run.alive():
            time.sleep(0.2)
        port = int(re.search(r"\(port (\d+)\)", run.text()).group(1))
        text = run.text()
        want = "offset %d is not on the broker, librdkafka reset the position to %d: " \
               "%d message(s) skipped unread" % (COMMITTED, start, start - COMMITTED)
        ck.check("ERROR logged: %s" % want,
                 any("ERROR" in ln and want in ln for ln in text.splitlines()), run.tail())
        ck.eq("earshot_input_lost_total", start - COMMITTED,
              metric(port, "earshot_input_lost_total"))
        ck.eq("consumed (what was left on the broker)", end - start, run.consumed())
        rc, took = run.signal_and_wait(signal.SIGTERM, timeout=30)
        ck.eq("SIGTERM: exit status", 0, rc)
    finally:
        if run:
            run.ensure_dead()
        broker.stop()
    rc = ck.finish()
    if rc and run:
        print("---- run log tail\n%s" % run.tail(30))
    return rc


if __name__ == "__main__":
    sys.exit(main())
