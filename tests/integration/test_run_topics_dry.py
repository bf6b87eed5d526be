#!/usr/bin/env python3
"""`earshot run --dry-run` on the embedded broker (issue 11 item 2): over N
generated posts it must report exactly what `earshot classify` says a run
would produce (enriched, tickets, rejected, and the brands with the most
complaints), in its status line and its summary at exit, while the output
topics stay empty and its consumer group never gets a committed offset.

usage: test_run_topics_dry.py EARSHOT_BINARY
"""
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

N = 500
GROUP = "it-dry-run"


def top_complaints(exp, n=10):
    """What dryrun_top_complaints must print, from classify's events: per
    brand, the complaints that mention it; most first, ties by id."""
    per = {}
    for ev in exp.events.values():
        if ev["polarity"] == "complaint":
            for b in ev["brands"]:
                per[b["id"]] = per.get(b["id"], 0) + 1
    top = sorted(per.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return ", ".join("%s %d" % kv for kv in top) or "none"


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_topics_dry")
    wd = rh.workdir("run-dry")
    broker = rh.MockBroker(earshot, partitions=2, brokers=1, workdir=wd)
    run = None
    try:
        lines = rh.generate(earshot, N, seed=2222)
        exp = rh.Expected(earshot, lines)
        enriched, tickets, rejected = exp.counts()
        ck.check("the input has posts of every kind (%d/%d/%d)" % exp.counts(),
                 enriched and tickets and rejected, "")
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        prod.positions()
        prod.close()

        run = rh.Earshot(earshot, broker.bootstrap, GROUP, wd, threads=2,
                         args=rh.MOCK_GROUP_ARGS + ("--dry-run",))
        status = ("dry run: would produce enriched %d tickets %d rejected %d, in flight 0 msgs"
                  % exp.counts())
        ck.check("status line: consumed %d, would produce exactly classify's counts" % N,
                 rh.wait_for(lambda: "status: consumed %d " % N in run.text()
                             and status in run.text(), 90), run.tail())
        ck.check("start logged as a dry run",
                 "(dry run: nothing is produced, no offset is committed)" in run.text(), "")
        rc, _ = run.signal_and_wait(signal.SIGTERM, 20)
        ck.eq("SIGTERM: exit status", 0, rc)
        text = run.text()
        ck.check("summary: counts", ("INFO: dry run summary: consumed %d post(s); would have "
                                     "produced enriched %d, tickets %d, rejected %d; produced "
                                     "nothing, committed no offset"
                                     % (N, enriched, tickets, rejected)) in text, run.tail(5))
        want_top = "INFO: dry run summary: top complaints by brand: %s" % top_complaints(exp)
        ck.check("summary: top complaints = classify's (%s)" % want_top, want_top in text,
                 run.tail(5))
        ends = rh.end_offsets(broker.bootstrap)
        ck.eq("output topics stay empty", {t: 0 for t in rh.OUT_TOPICS},
              {t: sum(v.values()) for t, v in ends.items()})
        ck.eq("the group has no committed offset", {0: None, 1: None},
              rh.committed_offsets(broker.bootstrap, GROUP))
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
