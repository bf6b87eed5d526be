#!/usr/bin/env python3
"""`earshot run` against a real Apache Kafka (1 node, scripts/kafka, with
Kafka's default auto.create.topics.enable=true) on the two topic paths the
embedded broker cannot exercise, since it can neither create nor delete a
topic through the admin API:

  1. topics.create=true with topics.partitions=3 / topics.replication=1:
     only the input topic exists at start; earshot creates the three output
     topics with exactly 3 partitions (the broker's default is 1, so the
     count proves whose creation it was), then delivers exactly what
     `earshot classify` says.
  2. the output topic posts.enriched is deleted (confluent_kafka
     AdminClient) while earshot runs, and more input arrives: the topic must
     stay deleted (earshot's own metadata requests must not get the broker
     to auto-create it with its defaults), earshot holds the post, pauses
     the input, answers /readyz 503 naming the topic, commits no input
     offset past the first held post; once the test creates the topic again
     (3 partitions), everything held is delivered: the recreated topic holds
     exactly phase 2's enriched outputs, tickets and rejected exactly both
     phases'; /readyz 200; SIGTERM exits 0 with committed = end offsets.

usage: test_run_kafka_topics.py EARSHOT_BINARY
"""
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402

try:
    from confluent_kafka.admin import AdminClient, NewTopic
except ImportError:  # the python3 on PATH may not be Debian's
    sys.path.append("/usr/lib/python3/dist-packages")
    from confluent_kafka.admin import AdminClient, NewTopic

N1, N2 = 600, 600
GROUP = "it-kafka-topics"
GONE = "posts.enriched"
READY_503 = ("not ready: output topic 'posts.enriched' does not exist (deleted?): producing is "
             "held until it is created\n")


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


def partitions_of(admin, topic):
    """Partition count of topic, 0 when the cluster does not list it. An
    all-topics request: naming the topic could auto-create it."""
    md = admin.list_topics(timeout=20)
    t = md.topics.get(topic)
    return len(t.partitions) if t is not None and t.error is None else 0


def delete_topic(admin, topic):
    admin.delete_topics([topic], operation_timeout=30)[topic].result(60)


def create_topic(admin, topic, partitions, deadline_s=10):
    """CreateTopics, retried for a while in case the broker still finishes
    the deletion of a topic of that name. Already existing after that means
    someone else created it (a broker auto-create, say): an error."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            admin.create_topics([NewTopic(topic, partitions, 1)],
                                operation_timeout=30)[topic].result(60)
            return
        except Exception as e:  # KafkaException: marked for deletion, retry
            if time.monotonic() > deadline:
                raise
            rh.log("create %s: %s; retrying" % (topic, e))
            time.sleep(0.5)


def records_for(records, exp, positions):
    """Only the output records that belong to exp's inputs."""
    srcs = set(positions)
    out = {}
    for topic in ("posts.enriched", "care.tickets"):
        out[topic] = [r for r in records[topic]
                      if (rh._header(r, "earshot.post_id") or b"").decode() in exp.by_id]
    out["posts.rejected"] = []
    for r in records["posts.rejected"]:
        v = rh.json.loads(r.value)
        if (v.get("partition"), v.get("offset")) in srcs:
            out["posts.rejected"].append(r)
    return out


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_kafka_topics")
    wd = rh.workdir("run-kafka-topics")
    lines = rh.generate(earshot, N1 + N2, seed=4242)
    exp1, exp2 = rh.Expected(earshot, lines[:N1]), rh.Expected(earshot, lines[N1:])
    ck.check("each phase exercises every route (%r, %r)" % (exp1.counts(), exp2.counts()),
             all(c > 10 for c in exp1.counts() + exp2.counts()), "")
    cluster = rh.KafkaCluster(nodes=1, workdir=wd)
    run = None
    try:
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
        rh.kafka_helpers.create_topic(cluster.bootstrap, "posts", 2, 1, timeout=60)
        ck.eq("at start only the input topic exists", [2, 0, 0, 0],
              [partitions_of(admin, t) for t in ("posts",) + rh.OUT_TOPICS])
        prod = rh.Producer(cluster.bootstrap)
        prod.send(lines[:N1])
        pos1 = prod.positions()
        prod.close()

        # 1. topics.create
        run = rh.Earshot(earshot, cluster.bootstrap, GROUP, wd, threads=2, args=(
            "--set", "topics.create=true", "--set", "topics.partitions=3",
            "--set", "topics.replication=1", "--set", "max.inflight.messages=100",
            "--http", "127.0.0.1:0"))
        for topic, key in zip(rh.OUT_TOPICS, ("topic.enriched", "topic.tickets",
                                              "topic.rejected")):
            line = ("INFO: created topic '%s' (%s; topics.create, partitions 3, replication 1, "
                    "-1 = the broker's default)" % (topic, key))
            ck.check("logged: %s" % line, rh.wait_for(lambda: line in run.text(), 60),
                     run.tail())
        ck.check("output topics created with 3 partitions each",
                 rh.wait_for(lambda: [partitions_of(admin, t) for t in rh.OUT_TOPICS]
                             == [3, 3, 3], 20),
                 repr([partitions_of(admin, t) for t in rh.OUT_TOPICS]))
        m = re.search(r"metrics on http://\S+ \(port (\d+)\)", run.text())
        port = int(m.group(1)) if m else 0
        rh.collect_and_verify(ck, cluster.bootstrap, exp1, pos1, exact=True, timeout=90,
                              label="phase 1 (created topics)", proc_alive=run.alive)
        ck.check("phase 1: /readyz 200",
                 rh.wait_for(lambda: get(port, "/readyz") == (200, "ready\n"), 30),
                 repr(get(port, "/readyz")))
        ck.check("phase 1: committed = end offsets",
                 rh.wait_for(lambda: rh.committed_offsets(cluster.bootstrap, GROUP)
                             == {p: o for p, o in
                                 ((tp.partition, o) for tp, o in rh.end_offsets(
                                     cluster.bootstrap, ["posts"])["posts"].items())}, 30),
                 repr(rh.committed_offsets(cluster.bootstrap, GROUP)))
        committed1 = rh.committed_offsets(cluster.bootstrap, GROUP)

        # 2. posts.enriched deleted while running, then recreated.
        delete_topic(admin, GONE)
        ck.check("posts.enriched deleted",
                 rh.wait_for(lambda: partitions_of(admin, GONE) == 0, 30), "")
        prod = rh.Producer(cluster.bootstrap)
        prod.send(lines[N1:])
        pos2 = prod.positions()
        prod.close()
        held = ("producing to posts.enriched: ", "the topic does not exist (deleted?); holding "
                "input posts [")
        ck.check("the held post is logged",
                 rh.wait_for(lambda: all(h in run.text() for h in held), 60), run.tail())
        ck.eq("/readyz while held", (503, READY_503), get(port, "/readyz"))
        ck.check("input paused while held (a status line says (paused))",
                 rh.wait_for(lambda: re.search(r"status: consumed \d+ .*\(paused\)",
                                               run.text().split(held[0], 1)[-1]), 30),
                 run.tail(5))
        time.sleep(4)  # two more retries of the wait at least
        ck.check("still running while held", run.alive(), run.tail())
        ck.eq("posts.enriched stays deleted (earshot did not get it auto-created)", 0,
              partitions_of(admin, GONE))
        # Nothing past the first held post may be committed: per input
        # partition, at most the offset of its first phase-2 input that has
        # an enriched output.
        first_held = {}
        for i in sorted(i for i, ev in exp2.events.items() if ev["brands"]):
            p, o = pos2[i]
            first_held.setdefault(p, o)
        got = rh.committed_offsets(cluster.bootstrap, GROUP)
        bad = {p: (got.get(p), o) for p, o in first_held.items()
               if got.get(p) is None or got.get(p) > o}
        ck.check("no input offset committed past the first held post (committed %r, first held "
                 "%r)" % (got, first_held), not bad, repr(bad))
        ck.check("phase-1 commits kept (%r, were %r)" % (got, committed1),
                 all((got.get(p) or 0) >= (o or 0) for p, o in committed1.items()), "")
        consumed_held = run.consumed()
        ck.check("consumption stopped at the in-flight limit (consumed %d of %d)"
                 % (consumed_held, N1 + N2), consumed_held < N1 + N2, run.tail(5))

        create_topic(admin, GONE, 3)
        want = {"posts.enriched": len(exp2.enriched_ids),
                "care.tickets": len(exp1.ticket_ids) + len(exp2.ticket_ids),
                "posts.rejected": len(exp1.rejected_lines) + len(exp2.rejected_lines)}
        totals = rh.wait_for_outputs(cluster.bootstrap, want, 90, proc_alive=run.alive)
        rh.log("phase 2 outputs %r, want %r" % (totals, want))
        ck.eq("phase 2: output counts (recreated enriched: phase 2 only; tickets and rejected: "
              "both phases)", want, totals)
        records = rh.read_outputs(cluster.bootstrap)
        rh.verify(ck, exp2, pos2, records_for(records, exp2, pos2), exact=True,
                  label="phase 2 (deleted, recreated)")
        ck.check("producing again logged",
                 "INFO: producing to posts.enriched again: the topic exists" in run.text(),
                 run.tail())
        ck.check("phase 2: /readyz 200 again",
                 rh.wait_for(lambda: get(port, "/readyz") == (200, "ready\n"), 30),
                 repr(get(port, "/readyz")))
        ck.check("no produce or delivery failed",
                 "delivery to" not in run.text() and " failed: " not in run.text(), run.tail())
        rc, took = run.signal_and_wait(signal.SIGTERM, timeout=20)
        ck.eq("SIGTERM: exit status", 0, rc)
        rh.assert_committed_at_end(ck, cluster.bootstrap, GROUP, pos1 + pos2)
    finally:
        if run:
            run.ensure_dead()
        rc = ck.finish()
        cluster.stop(failed=bool(rc))
    if rc and run:
        print("---- run log tail\n%s" % run.tail(60))
    return rc


if __name__ == "__main__":
    sys.exit(main())
