#!/usr/bin/env python3
"""`earshot run` on the embedded broker with the defaults a first deployment
gets (issue 11 item 2):

- consumer.auto.offset.reset = latest: a new group starts at the end of the
  input. 10 posts produced before earshot starts are never processed; of the
  10 produced once it has joined, exactly those 10 come out.
- tickets.max_age = 24 h: of those 10 complaints about a brand, the one
  dated two days ago goes to posts.enriched but not to care.tickets; the 9
  dated now open tickets.

usage: test_run_mock_first_start.py EARSHOT_BINARY
"""
import datetime
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

TEXT = "@comcast my internet has been down all day, worst service ever, fix it now"


def post(post_id, created_at):
    return json.dumps({"id": post_id, "text": TEXT, "created_at": created_at,
                       "author": {"handle": "it", "followers": 10}}).encode()


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_at_end(run, timeout=60):
    """Until librdkafka's debug log says the new group's position was reset
    to the end of the partition (offset 10, after the 10 posts already
    there): what is produced next comes after it, so nothing is skipped by a
    reset that happens late. (The status line's lag cannot tell: with no
    message consumed the position stays unknown.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.alive():
        if "Partition posts [0] start fetching at offset 10" in run.text():
            return True
        time.sleep(0.1)
    return False


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_mock_first_start")
    wd = rh.workdir("run-first-start")
    now = datetime.datetime.now(datetime.timezone.utc)
    before = [post("before-%d" % i, iso(now)) for i in range(10)]
    new_ids = ["new-%d" % i for i in range(9)] + ["new-old"]
    after = [post(i, iso(now)) for i in new_ids[:9]]
    after.append(post("new-old", iso(now - datetime.timedelta(days=2))))
    broker = rh.MockBroker(earshot, partitions=1, brokers=1, workdir=wd)
    run = None
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(before)
        prod.positions()
        run = rh.Earshot(earshot, broker.bootstrap, "it-first-start", wd, threads=1,
                         args=rh.MOCK_GROUP_ARGS + ("-X", "consumer.debug=fetch,topic",
                                                    "--set", "log.level=debug"),
                         backlog=False)
        ck.check("a new group starts at the end (offset 10)", wait_at_end(run), run.tail(10))
        ck.check("reset to END by the default auto.offset.reset",
                 "offset reset (at offset INVALID" in run.text() and "to END" in run.text())
        prod.send(after)
        prod.positions()
        prod.close()
        rh.wait_for_outputs(broker.bootstrap, {"posts.enriched": 10, "care.tickets": 9},
                            timeout=60, settle=2.0, proc_alive=run.alive)
        enriched = sorted(json.loads(r.value)["id"]
                          for r in rh.read_topic(broker.bootstrap, "posts.enriched"))
        tickets = sorted(json.loads(r.value)["id"]
                         for r in rh.read_topic(broker.bootstrap, "care.tickets"))
        ck.eq("posts.enriched: exactly the 10 produced after the start", sorted(new_ids),
              enriched)
        ck.eq("care.tickets: the 9 fresh complaints, not the 2-day-old one",
              sorted(new_ids[:9]), tickets)
        rc, _ = run.signal_and_wait(signal.SIGTERM, 15)
        ck.eq("exit status", 0, rc)
    finally:
        if run:
            run.ensure_dead()
        broker.stop()
    rc = ck.finish()
    if rc and run:
        print(run.tail(40))
    return rc


if __name__ == "__main__":
    sys.exit(main())
