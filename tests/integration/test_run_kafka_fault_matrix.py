#!/usr/bin/env python3
"""The rest of issue 12's fault matrix on a real 3-node Apache Kafka, one
continuous stream and one consumer group; after each fault every input
produced so far must have its outputs (distinct post ids and distinct
rejected source offsets complete, nothing unexpected; at-least-once
duplicates allowed and bounded as stated):

  a. the leader of an input partition (found with a metadata request) is
     SIGKILLed mid-stream and restarted once the controller has moved that
     leadership: earshot keeps running, no delivery fails;
  b. a second earshot joins; it is SIGSTOPped mid-stream for longer than its
     session timeout (6 s), the survivor takes its partitions, then it is
     SIGCONTed: the zombie must not commit for the partitions it lost (the
     group's committed offsets never move back, it logs the loss), it
     rejoins (each member's log: 2 + 2 partitions), and no input is output
     more than twice;
  c. the broker that leads (and alone holds) every output partition is
     SIGKILLed, so earshot cannot produce: backpressure pauses consumption
     (consumed stops growing, in flight stays at most max.inflight.messages
     = 500 plus one fetch), each process's RSS stays under its pre-fault
     RSS + 64 MiB, nothing fails; after the broker is back every input has
     its outputs.
Finally both exit 0 on SIGTERM with committed = end offsets.

Topology: posts has 4 partitions, replication 3 (min.insync.replicas 2);
the three output topics have 4 partitions each with broker 3 as their only
replica, which is what lets (c) take them away while the input stays up. So
(a) kills an input leader that is not broker 3.
(test_run_kafka_faults.py covers broker 2 SIGKILL, earshot SIGKILL and a
survivor taking over.)

usage: test_run_kafka_fault_matrix.py EARSHOT_BINARY
"""
import os
import signal
import sys
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from confluent_kafka import Consumer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

PHASE, RATE = 3000, 600
GROUP = "it-kafka-fault-matrix"
OUT_BROKER = 3
MAX_INFLIGHT = 500
RSS_SLACK_KB = 64 * 1024
# 6 s sessions (the brokers' group.min.session.timeout.ms) as in
# test_run_kafka_faults.py; a small in-flight bound so that (c) reaches it.
ARGS = ("-X", "consumer.session.timeout.ms=6000", "-X", "consumer.heartbeat.interval.ms=1000",
        "--set", "max.inflight.messages=%d" % MAX_INFLIGHT)


def create_topics(admin):
    topics = [NewTopic("posts", 4, 3)] + [
        NewTopic(t, 4, replica_assignment=[[OUT_BROKER]] * 4) for t in rh.OUT_TOPICS]
    for t, f in admin.create_topics(topics, request_timeout=60).items():
        f.result(timeout=60)

    def ready():
        md = admin.list_topics(timeout=10)
        return all(t in md.topics and len(md.topics[t].partitions) == 4 and
                   all(p.leader >= 0 for p in md.topics[t].partitions.values())
                   for t in ("posts",) + rh.OUT_TOPICS)
    if not rh.wait_for(ready, 60):
        raise RuntimeError("topics have no leaders after 60 s")


def leaders(admin, topic):
    md = admin.list_topics(topic=topic, timeout=10)
    return {p: pm.leader for p, pm in md.topics[topic].partitions.items()}


def committed(bootstrap):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                  "enable.auto.commit": False})
    try:
        got = c.committed([TopicPartition("posts", p) for p in range(4)], timeout=10)
        return {tp.partition: tp.offset for tp in got}
    finally:
        c.close()


def owned(run):
    """Input partitions `run` holds by its own log, after its last assign or
    revoke ("..., N in total" / "..., N left"); None before either."""
    import re
    found = re.findall(r"(\d+) (?:in total|left)$", run.text(), re.M)
    return int(found[-1]) if found else None


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for ln in f:
                if ln.startswith("VmRSS:"):
                    return int(ln.split()[1])
    except OSError:
        pass
    return 0


def times_output(bootstrap):
    """Counter: post id -> how many posts.enriched events carry it."""
    import json
    return Counter(json.loads(r.value).get("id") for r in rh.read_topic(bootstrap, "posts.enriched"))


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_kafka_fault_matrix")
    wd = rh.workdir("run-kafka-fault-matrix")
    lines = rh.generate(earshot, 3 * PHASE, seed=131)
    cluster = rh.KafkaCluster(nodes=3, workdir=wd)
    runs = []
    try:
        admin = AdminClient({"bootstrap.servers": cluster.bootstrap})
        create_topics(admin)
        s = rh.PacedStream(earshot, cluster.bootstrap, lines, PHASE, RATE)
        a = rh.Earshot(earshot, cluster.bootstrap, GROUP, wd, name="a", args=ARGS)
        runs.append(a)
        ck.check("a: assigned 4 partitions", rh.wait_for(lambda: "4 in total" in a.text(), 60),
                 a.tail())

        # a. the leader of an input partition dies mid-stream, comes back.
        lead = leaders(admin, "posts")
        part, victim = min((p, b) for p, b in lead.items() if b != OUT_BROKER)
        rh.log("posts leaders %r: killing broker %d, leader of posts [%d]" % (lead, victim, part))
        seen = {}

        def kill_leader():
            seen["before"] = a.consumed()
            cluster.kill(victim)

        def restart_leader():
            # The controller moves leadership once the broker's session
            # expires (broker.session.timeout.ms, 9 s): wait for it.
            rh.wait_for(lambda: leaders(admin, "posts")[part] != victim, 40)
            seen["new"] = leaders(admin, "posts")[part]
            seen["down"] = a.consumed()
            cluster.restart(victim)
        s.phase(0, [(0.3, kill_leader), (0.6, restart_leader)])
        ck.check("a: posts [%d] moved from broker %d to %r" % (part, victim, seen.get("new")),
                 seen.get("new") not in (None, -1, victim), "")
        ck.check("a: consumed while its leader was down (%r, then %r)"
                 % (seen.get("before"), seen.get("down")),
                 0 < seen.get("before", 0) < seen.get("down", 0), "")
        s.verify(ck, "a (input leader SIGKILL)")
        ck.check("a: earshot kept running", a.alive(), a.tail())
        ck.check("a: no delivery failed", "delivery to" not in a.text(), a.tail())

        # b. a zombie: b is stopped past its session timeout, then resumed.
        b = rh.Earshot(earshot, cluster.bootstrap, GROUP, wd, name="b", args=ARGS)
        runs.append(b)
        ck.check("b: a and b split the 4 partitions",
                 rh.wait_for(lambda: "2 in total" in b.text() and "2 left" in a.text(), 60),
                 "a: %s\nb: %s" % (a.tail(6), b.tail(6)))
        history = []   # (time, committed offsets) while b is a zombie and after
        stop_watch = threading.Event()

        def watch():
            while not stop_watch.is_set():
                try:
                    history.append((time.monotonic(), committed(cluster.bootstrap)))
                except Exception as e:  # a sample lost is not a failure
                    rh.log("committed: %s" % e)
                time.sleep(0.5)

        def stop_b():
            seen["b_stopped_at"] = b.consumed()
            b.proc.send_signal(signal.SIGSTOP)
            rh.log("b: SIGSTOPped")
            threading.Thread(target=watch, daemon=True).start()

        def resume_b():
            ck.check("b: while b was stopped, a took its partitions (4 in total)",
                     rh.wait_for(lambda: owned(a) == 4, 40), a.tail(8))
            seen["resumed"] = time.monotonic()
            b.proc.send_signal(signal.SIGCONT)
            rh.log("b: SIGCONTed")
        s.phase(1, [(0.2, stop_b), (0.5, resume_b)])
        ck.check("b: consumed before it was stopped (%r)" % seen.get("b_stopped_at"),
                 seen.get("b_stopped_at", 0) > 0, "")
        ck.check("b: the zombie learnt it lost its partitions",
                 rh.wait_for(lambda: "lost (session timed out?)" in b.text(), 30), b.tail(10))
        # Membership from the members' own logs: Debian's confluent-kafka
        # (2.0.2) has no describe_consumer_groups, and kafka-python's
        # DescribeGroups v0 is gone from Kafka 4.
        ck.check("b: rejoined, the group's two members hold 2 + 2 partitions",
                 rh.wait_for(lambda: (owned(a), owned(b)) == (2, 2) and
                          "in total" in b.text().split("lost (session timed out?)")[-1], 60),
                 "a: %s\nb: %s" % (a.tail(6), b.tail(10)))
        s.verify(ck, "b (zombie member)")
        time.sleep(2)
        stop_watch.set()
        back = []
        for (t0, c0), (t1, c1) in zip(history, history[1:]):
            for p in c0:
                if c0[p] >= 0 and c1.get(p, -1) >= 0 and c1[p] < c0[p]:
                    back.append((p, c0[p], c1[p], round(t1 - seen.get("resumed", 0), 1)))
        ck.check("b: committed offsets never moved back (%d samples from the stop on)"
                 % len(history), len(history) > 10 and not back,
                 "partition, from, to, s after SIGCONT: %r" % back)
        outs = times_output(cluster.bootstrap)
        over = {i: n for i, n in outs.items() if n > 2}
        ck.check("b: no post output more than twice (%d output twice)"
                 % sum(1 for n in outs.values() if n == 2), not over, repr(list(over.items())[:5]))
        ck.check("b: no delivery failed", "delivery to" not in a.text() + b.text(), b.tail())

        # c. the output topics' only broker is down: earshot cannot produce.
        rss = {r.name: [] for r in (a, b)}
        base = {r.name: rss_kb(r.proc.pid) for r in (a, b)}
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                for r in (a, b):
                    rss[r.name].append(rss_kb(r.proc.pid))
                time.sleep(0.25)

        def kill_out():
            threading.Thread(target=sample, daemon=True).start()
            cluster.kill(OUT_BROKER)

        s.phase(2, [(0.1, kill_out)])
        # The whole phase is produced; once both have paused (after the
        # rebalance that losing broker 3 may cause, as it may be the group
        # coordinator), nothing more may be consumed.
        def paused():
            return all("(paused)" in r.text().rstrip().rsplit("\n", 1)[-1] for r in (a, b))
        ck.check("c: both processes paused their input", rh.wait_for(paused, 60),
                 "a: %s\nb: %s" % (a.tail(4), b.tail(4)))
        st1 = (a.consumed() + b.consumed(), time.monotonic())
        time.sleep(5)
        st2 = a.consumed() + b.consumed()
        inflight = [x[1] for r in (a, b) for x in r.statuses()[-4:]]
        # consumed counts redeliveries too (losing broker 3 may move the
        # group coordinator and rebalance), so "stopped" is: no growth over
        # 5 s, with input left unread (lag) and the partitions paused.
        last = [r.text().rstrip().rsplit("status: ", 1)[-1] for r in (a, b)]
        lag = sum(r.statuses()[-1][3] for r in (a, b))
        ck.check("c: consumption stopped while outputs were down (consumed %d, 5 s later %d, "
                 "lag %d, paused)" % (st1[0], st2, lag),
                 st1[0] == st2 and lag > 0 and any("(paused)" in x for x in last),
                 "a: %s\nb: %s" % (a.tail(4), b.tail(4)))
        ck.check("c: in flight bounded (max %r, bound %d + one fetch)"
                 % (max(inflight or [None]), MAX_INFLIGHT),
                 inflight and max(inflight) <= 2 * MAX_INFLIGHT, repr(inflight))
        cluster.restart(OUT_BROKER)
        s.verify(ck, "c (output broker down)")
        sampling.set()
        for r in (a, b):
            peak = max(rss[r.name] or [0])
            rh.log("c: %s RSS before %d kB, peak %d kB over %d samples"
                   % (r.name, base[r.name], peak, len(rss[r.name])))
            ck.check("c: %s RSS peak %d kB <= %d kB before + %d kB"
                     % (r.name, peak, base[r.name], RSS_SLACK_KB),
                     0 < peak <= base[r.name] + RSS_SLACK_KB, "")
        ck.check("c: earshot kept running", a.alive() and b.alive(), a.tail() + b.tail())
        ck.check("c: no delivery failed", "delivery to" not in a.text() + b.text(),
                 a.tail() + b.tail())

        for r in (b, a):
            rc, took = r.signal_and_wait(signal.SIGTERM, timeout=35)
            ck.eq("%s: SIGTERM exit status" % r.name, 0, rc)
        rh.assert_committed_at_end(ck, cluster.bootstrap, GROUP, s.positions)
    finally:
        for r in runs:
            if r.alive():
                r.proc.send_signal(signal.SIGCONT)
            r.ensure_dead()
        rc = ck.finish()
        cluster.stop(failed=bool(rc))
    if rc:
        for r in runs:
            print("---- %s log tail\n%s" % (r.name, r.tail(40)))
    return rc


if __name__ == "__main__":
    sys.exit(main())
