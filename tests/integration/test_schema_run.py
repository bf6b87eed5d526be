#!/usr/bin/env python3
"""The event contract on the wire: `earshot run` on the embedded broker, and
every record of posts.enriched, care.tickets and posts.rejected validates
against schema/event, schema/ticket and schema/reject. Counts are exact
(what `earshot classify` says each route must get), every topic is read to
its end, and processed_at lies within the run's wall-clock span.

Input: 1500 generated posts, all shapes, 8% malformed, 40% naming a brand.

usage: test_schema_run.py EARSHOT_BINARY
"""
import calendar
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from schema_check import Schemas  # noqa: E402

N = 1500
GROUP = "it-schema"


def iso_epoch(s):
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_schema_run")
    sc = Schemas()
    wd = rh.workdir("schema-run")
    lines = rh.generate(earshot, N, seed=31, malformed_rate=0.08, mention_rate=0.4)
    exp = rh.Expected(earshot, lines)
    want = dict(zip(rh.OUT_TOPICS, exp.counts()))
    rh.log("expect %r" % want)
    ck.check("the input exercises every route", all(c > 30 for c in want.values()), repr(want))
    broker = rh.MockBroker(earshot, partitions=4, brokers=1, workdir=wd)
    run = None
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        prod.positions()
        prod.close()
        t_start = int(time.time())
        run = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, name="run1",
                         args=rh.MOCK_GROUP_ARGS)
        rh.wait_for_outputs(broker.bootstrap, want, timeout=120, proc_alive=run.alive)
        rc, _ = run.signal_and_wait(signal.SIGTERM, timeout=15)
        t_end = int(time.time()) + 1
        ck.eq("SIGTERM: exit status", 0, rc)
        recs = {t: [json.loads(r.value) for r in rh.read_topic(broker.bootstrap, t)]
                for t in rh.OUT_TOPICS}
    finally:
        if run:
            run.ensure_dead()
        broker.stop()

    for topic, schema in (("posts.enriched", "event"), ("care.tickets", "ticket"),
                          ("posts.rejected", "reject")):
        got = recs[topic]
        ck.eq("%s: records (exactly classify's count)" % topic, want[topic], len(got))
        for i, msg in sc.bad(schema, got):
            ck.check("%s record %d validates against %s" % (topic, i, schema), False, msg)
        rh.log("%s: %d records validated against schema/%s.schema.json"
               % (topic, len(got), schema))
    # Tickets are a subset of the enriched events, byte for byte the same event.
    enriched = {e["id"]: e for e in recs["posts.enriched"]}
    ck.eq("every ticket is also an enriched event, unchanged", len(recs["care.tickets"]),
          sum(1 for t in recs["care.tickets"] if enriched.get(t["id"]) == t))
    ck.eq("rejected records: payload or payload_base64 for each",
          len(recs["posts.rejected"]),
          sum(1 for r in recs["posts.rejected"] if ("payload" in r) != ("payload_base64" in r)))
    ck.check("some rejected payloads are not UTF-8 (base64 path covered: %d)"
             % sum(1 for r in recs["posts.rejected"] if "payload_base64" in r),
             any("payload_base64" in r for r in recs["posts.rejected"]), "")
    times = [iso_epoch(e["processed_at"]) for e in recs["posts.enriched"]]
    late = [t for t in times if not t_start <= t <= t_end]
    ck.check("processed_at within the run (%d..%d)" % (t_start, t_end), times and not late,
             "%d outside, e.g. %r" % (len(late), late[:3]))
    ck.check("links reach the wire (url in %d, reply_to in %d events)"
             % (sum("url" in e for e in enriched.values()),
                sum("reply_to" in e for e in enriched.values())),
             any("url" in e for e in enriched.values())
             and any("reply_to" in e for e in enriched.values()), "")
    rc = ck.finish()
    if rc and run:
        print("---- run log tail\n%s" % run.tail(40))
    return rc


if __name__ == "__main__":
    sys.exit(main())
