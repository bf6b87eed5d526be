#!/usr/bin/env python3
"""`earshot run` with an output topic missing at start, and `--check
--connect` (issue 11 item 3), on the embedded broker.

Missing topic: topic.tickets names care.tickets2, which the broker does
not have. earshot must stay up, log exactly one line naming the topic and
what to do, answer /readyz 503 naming it, consume nothing (no input offset
moves); once the test creates the topic (the broker's `create` command), it
must log that it starts and produce exactly what `earshot classify` says
for every post, commit every input offset, and exit 0 on SIGTERM.

The test never asks for care.tickets2 by name before creating it:
librdkafka's mock cluster creates any topic a Metadata request names.

SIGTERM while waiting for a missing input topic exits 0 at once.

--check --connect: exact report with every topic present (exit 0), exact
problem lines with two topics missing (exit 1), and an unreachable broker
(exit 1 within topics.timeout.ms plus a margin).

usage: test_run_topics.py EARSHOT_BINARY
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

MISSING_LINE = ("ERROR: topic 'care.tickets2' (topic.tickets) does not exist (or this principal "
                "may not Describe it): create it (e.g. kafka-topics.sh --create --topic "
                "care.tickets2) or set topics.create=true; waiting, checking every 2 s")
READY_503 = "not ready: waiting for topic(s) care.tickets2 (topic.tickets)\n"


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def check_connect(ck, earshot, bootstrap):
    base = [earshot, "run", "--check", "--connect", "--rules", rh.RULES]
    p = subprocess.run(base + ["-b", bootstrap], capture_output=True, text=True, timeout=60)
    ck.eq("--check --connect, all topics: exit status", 0, p.returncode)
    out = re.sub(r"metadata in \d+ ms", "metadata in N ms", p.stdout).splitlines()[2:]
    ck.eq("--check --connect, all topics: report", [
        "brokers ok: %s (1 broker(s) in the cluster, metadata in N ms)" % bootstrap,
        "topic ok: posts (topic.input), 2 partition(s)",
        "topic ok: posts.enriched (topic.enriched), 2 partition(s)",
        "topic ok: care.tickets (topic.tickets), 2 partition(s)",
        "topic ok: posts.rejected (topic.rejected), 2 partition(s)"], out)

    p = subprocess.run(base + ["-b", bootstrap, "--set", "topic.input=nope",
                               "--set", "topic.rejected=nope.rejected"],
                       capture_output=True, text=True, timeout=60)
    ck.eq("--check --connect, two topics missing: exit status", 1, p.returncode)
    problems = [x for x in p.stderr.splitlines() if " INFO: " not in x]
    ck.eq("--check --connect, two topics missing: one line per problem", [
        "topic 'nope' (topic.input) does not exist (or this principal may not Describe it): "
        "create it, or set topics.create=true",
        "topic 'nope.rejected' (topic.rejected) does not exist (or this principal may not "
        "Describe it): create it, or set topics.create=true"], problems)

    t0 = time.monotonic()
    p = subprocess.run(base + ["-b", "127.0.0.1:1", "--set", "topics.timeout.ms=2000"],
                       capture_output=True, text=True, timeout=60)
    took = time.monotonic() - t0
    ck.eq("--check --connect, unreachable broker: exit status", 1, p.returncode)
    problems = [x for x in p.stderr.splitlines() if " INFO: " not in x]
    ck.check("--check --connect, unreachable broker: one line naming the broker (%r)" % problems,
             len(problems) == 1 and problems[0].startswith(
                 "brokers 127.0.0.1:1: no metadata from the brokers within 2000 ms ("), p.stderr)
    ck.check("--check --connect, unreachable broker: took %.1f s (<= 2 s + 3 s)" % took,
             took <= 5.0, "")


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_topics")
    wd = rh.workdir("run-topics")
    broker = rh.MockBroker(earshot, partitions=2, brokers=1, workdir=wd)
    run = None
    try:
        check_connect(ck, earshot, broker.bootstrap)

        # SIGTERM while waiting for a missing input topic: a clean exit.
        waiter = rh.Earshot(earshot, broker.bootstrap, "it-topics-wait", wd, name="wait",
                            args=rh.MOCK_GROUP_ARGS + ("--set", "topic.input=missing.in"))
        try:
            ck.check("a missing input topic is waited for",
                     rh.wait_for(lambda: "ERROR: topic 'missing.in' (topic.input) does not "
                                 "exist" in waiter.text(), 30), waiter.tail())
            rc, took = waiter.signal_and_wait(signal.SIGTERM, 15)
            ck.eq("SIGTERM while waiting: exit status", 0, rc)
            ck.check("SIGTERM while waiting: exited within 5 s (%.2f s)" % took, took < 5, "")
        finally:
            waiter.ensure_dead()

        lines = rh.generate(earshot, 400, seed=1111)
        exp = rh.Expected(earshot, lines)
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        positions = prod.positions()
        prod.close()

        run = rh.Earshot(earshot, broker.bootstrap, "it-topics", wd, threads=2,
                         args=rh.MOCK_GROUP_ARGS + ("--set", "topic.tickets=care.tickets2",
                                                    "--http", "127.0.0.1:0"))
        ck.check("the missing topic is logged",
                 rh.wait_for(lambda: MISSING_LINE in run.text(), 30), run.tail())
        m = re.search(r"metrics on http://\S+ \(port (\d+)\)", run.text())
        port = int(m.group(1)) if m else 0
        ck.eq("/readyz while waiting", (503, READY_503), get(port, "/readyz"))
        time.sleep(5)  # two more checks at least
        ck.check("still running while waiting", run.alive(), run.tail())
        ck.eq("the missing-topic line is logged once (then once a minute)", 1,
              run.text().count(MISSING_LINE))
        ck.eq("nothing consumed while waiting", 0, run.consumed())
        ck.eq("no input offset committed while waiting", {0: None, 1: None},
              rh.committed_offsets(broker.bootstrap, "it-topics"))

        ck.eq("create care.tickets2", "ok", broker.cmd("create care.tickets2 2"))
        ck.check("start logged once the topic exists",
                 rh.wait_for(lambda: "topics: every topic the run needs exists now; starting"
                             in run.text(), 30), run.tail())
        want = dict(zip(("posts.enriched", "care.tickets2", "posts.rejected"), exp.counts()))
        totals = rh.wait_for_outputs(broker.bootstrap, want, 120, proc_alive=run.alive)
        rh.log("outputs %r, want %r" % (totals, want))
        records = {"posts.enriched": rh.read_topic(broker.bootstrap, "posts.enriched"),
                   "care.tickets": rh.read_topic(broker.bootstrap, "care.tickets2"),
                   "posts.rejected": rh.read_topic(broker.bootstrap, "posts.rejected")}
        rh.verify(ck, exp, positions, records, exact=True)
        ck.eq("nothing went to the unused care.tickets", {0: 0, 1: 0},
              {tp.partition: o for tp, o in
               rh.end_offsets(broker.bootstrap, ["care.tickets"])["care.tickets"].items()})
        ck.check("/readyz 200 once assigned",
                 rh.wait_for(lambda: get(port, "/readyz") == (200, "ready\n"), 30),
                 repr(get(port, "/readyz")))
        rc, _ = run.signal_and_wait(signal.SIGTERM, 20)
        ck.eq("SIGTERM: exit status", 0, rc)
        rh.assert_committed_at_end(ck, broker.bootstrap, "it-topics", positions)
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
