"""Shared helpers for the `earshot run` integration tests (test_run_*.py):
what goes in, what must come out, and the processes in between.

Owns:
  - the input: `earshot generate` lines, and what `earshot classify` says
    must become of each (Expected): the offline classifier is the oracle the
    Kafka pipeline is held to, line by line;
  - the processes: an embedded broker (`earshot broker`, fault commands on
    its stdin) and `earshot run` instances with their logs;
  - the wire: producing with kafka-python (a different client from the
    librdkafka inside earshot) and noting where each line landed
    (partition, offset), reading whole topics back, committed offsets;
  - verify(): counts in = counts out, per post id and per source offset,
    exact (clean run) or at-least-once (distinct ids complete, duplicates
    allowed, nothing unexpected), plus the exact fields of each record.

EARSHOT_IT_RUN_ARGS (environment): extra `earshot run` arguments for every
process a test starts, e.g. librdkafka debug contexts when chasing a failure.

Every test builds on these so that "nothing lost" means the same thing in
each. Not thread-safe except where noted (Producer.run_paced runs in a
thread of its own and only appends to its own list).
"""

import base64
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import kafka_helpers  # noqa: E402  (finds Debian's kafka-python)
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

SRC = os.environ.get("EARSHOT_SOURCE_DIR", os.path.abspath(os.path.join(HERE, "..", "..", "..")))
RULES = os.path.join(SRC, "rules")
OUT_TOPICS = ("posts.enriched", "care.tickets", "posts.rejected")
MIN_PRIORITY = 30  # tickets.min_priority default


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def wait_for(pred, timeout, interval=0.1):
    """Polls pred() until it is true or timeout seconds have passed; returns
    its last answer (asked once more at the deadline, so a condition that
    became true during the last sleep is not missed on a slow machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(interval)
    return bool(pred())


class Checker:
    """Collects named checks; finish() prints the summary and gives the
    exit status. A failed check does not stop the test, so one run shows
    every difference."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print("ok: %s" % what, flush=True)
        else:
            self.failed += 1
            print("FAIL: %s: %s" % (what, detail), flush=True)
        return ok

    def eq(self, what, expected, actual):
        return self.check("%s = %r" % (what, actual), expected == actual,
                          "expected %r, got %r" % (expected, actual))

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, self.failed), flush=True)
        return 1 if self.failed or not self.passed else 0


# ---- input and the oracle ----

def generate(earshot, count, seed, malformed_rate=0.05, mention_rate=0.3, shape="mix",
             size=None):
    args = [earshot, "generate", "--count", str(count), "--seed", str(seed), "--shape", shape,
            "--malformed-rate", str(malformed_rate), "--mention-rate", str(mention_rate)]
    if size:
        args += ["--bytes", str(size)]
    out = subprocess.run(args, check=True, capture_output=True, timeout=120).stdout
    lines = out.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if len(lines) != count:
        raise RuntimeError("earshot generate wrote %d lines, asked for %d" % (len(lines), count))
    return lines


class Expected:
    """What must become of each input line, from `earshot classify` on the
    same bytes: events[i] (the event dict) or reasons[i] (why rejected)."""

    def __init__(self, earshot, lines, min_priority=MIN_PRIORITY):
        with tempfile.TemporaryDirectory() as d:
            rej = os.path.join(d, "rejected")
            proc = subprocess.run([earshot, "classify", "--rules", RULES, "--rejected", rej],
                                  input=b"\n".join(lines) + b"\n", capture_output=True,
                                  timeout=300)
            if proc.returncode != 0:
                raise RuntimeError("earshot classify failed: %r" % proc.stderr[-500:])
            with open(rej, "rb") as f:
                rejected = [json.loads(x) for x in f if x.strip()]
        self.lines = lines
        self.reasons = {r["line"] - 1: r["reason"] for r in rejected}
        events = [json.loads(x) for x in proc.stdout.splitlines() if x.strip()]
        accepted = [i for i in range(len(lines)) if i not in self.reasons]
        if len(accepted) != len(events):
            raise RuntimeError("classify: %d events for %d accepted lines"
                               % (len(events), len(accepted)))
        self.events = dict(zip(accepted, events))
        self.by_id = {}
        self.line_of_id = {ev["id"]: i for i, ev in self.events.items()}
        for i, ev in self.events.items():
            if ev["id"] in self.by_id:
                raise RuntimeError("generated input repeats post id %s" % ev["id"])
            self.by_id[ev["id"]] = ev
        self.enriched_ids = {ev["id"] for ev in self.events.values() if ev["brands"]}
        self.ticket_ids = {ev["id"] for ev in self.events.values()
                           if ev["brands"] and ev["polarity"] in ("complaint", "question")
                           and ev["priority"] >= min_priority}
        self.rejected_lines = set(self.reasons)

    def counts(self):
        return (len(self.enriched_ids), len(self.ticket_ids), len(self.rejected_lines))


# ---- processes ----

class MockBroker:
    """`earshot broker` with a pipe to its stdin for fault commands."""

    def __init__(self, earshot, partitions=4, brokers=3, workdir=None):
        self.log_path = os.path.join(workdir or tempfile.gettempdir(),
                                     "broker-%d.log" % os.getpid())
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [earshot, "broker", "--partitions", str(partitions), "--brokers", str(brokers)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log)
        self.bootstrap = self.proc.stdout.readline().decode().strip()
        if not self.bootstrap:
            raise RuntimeError("earshot broker printed no bootstrap list (log %s)" % self.log_path)
        self.lock = threading.Lock()

    def cmd(self, line):
        """Runs one fault command; returns its reply ("ok" or "error: ...")."""
        with self.lock:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
            reply = self.proc.stdout.readline().decode().strip()
        log("broker: %s -> %s" % (line, reply))
        return reply

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# The mock cluster's coordinator waits session.timeout.ms - 1 s for members
# to rejoin whenever the group changes, including when the last member has
# left (librdkafka 2.0.2 rdkafka_mock_cgrp.c): with the default 45 s, a
# restart in the same group would idle 44 s. Real Kafka needs none of this.
MOCK_GROUP_ARGS = ("-X", "consumer.session.timeout.ms=6000",
                   "-X", "consumer.heartbeat.interval.ms=500")

STATUS_RE = re.compile(r"status: consumed (\d+) .*?in flight (\d+) msgs (\d+) B(?: \(paused\))?,"
                       r" lag (-?\d+), partitions (\d+)")


class Earshot:
    """One `earshot run` process; stderr goes to a log file."""

    def __init__(self, earshot, bootstrap, group, workdir, name="run", threads=2, args=(),
                 backlog=True):
        self.name = name
        self.log_path = os.path.join(workdir, "%s.log" % name)
        self.log = open(self.log_path, "ab")
        # The tests produce their input before (or while) earshot joins a
        # new group and count every post, from fixtures dated years ago: so
        # the earliest offset and no ticket age limit, unlike the defaults
        # (latest, 24 h). backlog=False runs with those defaults.
        self.args = [earshot, "run", "-b", bootstrap, "-g", group, "--rules", RULES,
                     "--threads", str(threads), "--set", "status.interval.ms=500"]
        if backlog:
            self.args += ["--set", "consumer.auto.offset.reset=earliest",
                          "--set", "tickets.max_age=0"]
        self.args += list(args)
        # For a post-mortem: EARSHOT_IT_RUN_ARGS="--set log.level=debug -X consumer.debug=cgrp"
        self.args += os.environ.get("EARSHOT_IT_RUN_ARGS", "").split()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log)
        self.started = time.monotonic()
        log("%s: started pid %d" % (name, self.proc.pid))

    def alive(self):
        return self.proc.poll() is None

    def signal_and_wait(self, sig, timeout):
        """Sends sig; returns (exit status or None if still running after
        timeout, seconds it took)."""
        t0 = time.monotonic()
        if self.alive():
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        took = time.monotonic() - t0
        log("%s: signal %d -> exit %r after %.2f s" % (self.name, sig, rc, took))
        return rc, took

    def kill(self):
        if self.alive():
            self.proc.kill()
        self.proc.wait()
        log("%s: SIGKILLed" % self.name)

    def ensure_dead(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        self.log.close()

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def statuses(self):
        """(consumed, inflight_msgs, inflight_bytes, lag, partitions) per status line."""
        return [tuple(int(g) for g in m.groups()) for m in STATUS_RE.finditer(self.text())]

    def consumed(self):
        st = self.statuses()
        return st[-1][0] if st else 0

    def tail(self, n=30):
        return "\n".join(self.text().splitlines()[-n:])


class KafkaCluster:
    """A real Apache Kafka on loopback (scripts/kafka, KRaft), in its own
    directory on free ports; kill/restart one node for fault tests."""

    def __init__(self, nodes=1, workdir=None, sets=()):
        self.script = os.path.join(SRC, "scripts", "kafka")
        self.dir = tempfile.mkdtemp(prefix="kafka.", dir=workdir)
        self.env = dict(os.environ)
        # Functional tests want brokers up fast more than peak speed (as in kafka.sh).
        self.env.setdefault("EARSHOT_KAFKA_JVM_OPTS", "-XX:TieredStopAtLevel=1")
        subprocess.run([self.script, "fetch"], check=True, env=self.env,
                       stdout=subprocess.DEVNULL, timeout=900)
        args = [self.script, "start", "--dir", self.dir, "--port", "auto", "--nodes", str(nodes)]
        for kv in sets:
            args += ["--set", kv]
        t0 = time.monotonic()
        out = subprocess.run(args, check=True, env=self.env, stdout=subprocess.PIPE, timeout=300)
        self.bootstrap = out.stdout.decode().strip().splitlines()[-1]
        log("kafka: %d node(s) at %s in %.1f s" % (nodes, self.bootstrap, time.monotonic() - t0))

    def kill(self, node):
        subprocess.run([self.script, "kill", str(node), "--dir", self.dir], check=True,
                       env=self.env, timeout=60)
        log("kafka: node %d SIGKILLed" % node)

    def restart(self, node):
        t0 = time.monotonic()
        subprocess.run([self.script, "restart", str(node), "--dir", self.dir], check=True,
                       env=self.env, stdout=subprocess.DEVNULL, timeout=300)
        log("kafka: node %d restarted in %.1f s" % (node, time.monotonic() - t0))

    def create_topics(self, partitions, replication, configs=None):
        for t in ("posts",) + OUT_TOPICS:
            kafka_helpers.create_topic(self.bootstrap, t, partitions, replication, configs,
                                       timeout=60)

    def stop(self, failed=False):
        env = dict(self.env, EARSHOT_KAFKA_STOP_TIMEOUT="15")
        subprocess.run([self.script, "stop", "--dir", self.dir, "--keep-data"], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        if failed:
            log("kafka: kept the broker logs in %s" % self.dir)
            subprocess.run("rm -rf %s/node-*/data" % self.dir, shell=True)
        else:
            subprocess.run(["rm", "-rf", self.dir])


# ---- the wire ----

class Producer:
    """kafka-python producer that records where each line landed."""

    def __init__(self, bootstrap, topic="posts"):
        self.topic = topic
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                      batch_size=256 * 1024, max_request_size=4 * 1024 * 1024,
                                      retries=2147483647, retry_backoff_ms=200,
                                      max_in_flight_requests_per_connection=1,
                                      client_id="earshot-test-producer")
        self.futures = []  # index in lines -> future
        self.error = None

    def send(self, lines, keys=None):
        for i, line in enumerate(lines):
            key = keys[i] if keys else None
            self.futures.append(self.producer.send(self.topic, value=line, key=key))

    def run_paced(self, lines, per_second, keys=None, chunk=100):
        """Sends lines at about per_second in a thread; returns the thread."""
        def body():
            try:
                t0 = time.monotonic()
                for start in range(0, len(lines), chunk):
                    self.send(lines[start:start + chunk],
                              keys[start:start + chunk] if keys else None)
                    ahead = t0 + (start + chunk) / per_second - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                self.producer.flush()
            except Exception as e:  # reported by positions()
                self.error = e
        t = threading.Thread(target=body, daemon=True)
        t.start()
        return t

    def positions(self, timeout=120):
        """[(partition, offset)] of every line sent, in order; raises if one failed."""
        self.producer.flush(timeout=timeout)
        if self.error:
            raise self.error
        out = []
        for f in self.futures:
            md = f.get(timeout=timeout)
            out.append((md.partition, md.offset))
        return out

    def close(self):
        self.producer.close(timeout=10)


def topic_partitions(consumer, topic, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.topics()  # refreshes metadata
        time.sleep(0.2)
    raise RuntimeError("no metadata for topic %s" % topic)


def end_offsets(bootstrap, topics=OUT_TOPICS):
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="earshot-test-offsets",
                      enable_auto_commit=False, request_timeout_ms=30000)
    try:
        out = {}
        for t in topics:
            out[t] = c.end_offsets(topic_partitions(c, t))
        return out
    finally:
        c.close()


def wait_for_outputs(bootstrap, minimum, timeout, settle=2.0, proc_alive=None):
    """Waits until each output topic holds at least minimum[topic] messages
    and nothing new has arrived for `settle` seconds. Returns the totals."""
    deadline = time.monotonic() + timeout
    last, since = None, time.monotonic()
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="earshot-test-offsets",
                      enable_auto_commit=False)
    try:
        tps = {t: topic_partitions(c, t) for t in minimum}
        while True:
            totals = {t: sum(c.end_offsets(tps[t]).values()) for t in minimum}
            now = time.monotonic()
            if totals != last:
                last, since = totals, now
            done = all(totals[t] >= minimum[t] for t in minimum)
            if done and now - since >= settle:
                return totals
            if now >= deadline:
                log("wait_for_outputs: timed out at %r (want %r)" % (totals, minimum))
                return totals
            if proc_alive is not None and not proc_alive():
                if now - since >= settle:
                    return totals
            time.sleep(0.25)
    finally:
        c.close()


def read_topic(bootstrap, topic, timeout=60):
    """Every record of `topic` from the beginning up to its end offsets when
    called: [ConsumerRecord]."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="earshot-test-reader",
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      max_partition_fetch_bytes=4 * 1024 * 1024)
    try:
        tps = topic_partitions(c, topic)
        ends = c.end_offsets(tps)
        c.assign(tps)
        c.seek_to_beginning()
        out = []
        deadline = time.monotonic() + timeout
        while any(c.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise RuntimeError("reading %s: timed out at %d records" % (topic, len(out)))
            for recs in c.poll(timeout_ms=200, max_records=10000).values():
                out.extend(r for r in recs if r.offset < ends[TopicPartition(r.topic, r.partition)])
        return out
    finally:
        c.close()


def committed_offsets(bootstrap, group, topic="posts"):
    """{partition: committed offset} of `group` on `topic` (None = none).
    An OffsetFetch naming the partitions: the mock cluster does not answer
    the "all topics" form that KafkaAdminClient sends."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                      client_id="earshot-test-committed", enable_auto_commit=False)
    try:
        return {tp.partition: c.committed(tp) for tp in topic_partitions(c, topic)}
    finally:
        c.close(autocommit=False)


# ---- verification ----

def _header(rec, name):
    for k, v in rec.headers or []:
        if k == name:
            return v
    return None


def _strip_now(ev):
    """processed_at, and respond_by of a post without created_at, depend on
    processing time."""
    ev = dict(ev)
    ev.pop("processed_at", None)
    if ev.get("created_at") is None:
        ev.pop("respond_by", None)
    return ev


def _repeated(items):
    seen, rep = set(), set()
    for x in items:
        (rep if x in seen else seen).add(x)
    return rep


def _ranges(positions):
    """'input offsets repeated: p0 120..480 (57), ...' for diagnostics."""
    by_part = {}
    for p, o in positions:
        by_part.setdefault(p, []).append(o)
    return "input offsets repeated: " + ", ".join(
        "p%d %d..%d (%d)" % (p, min(v), max(v), len(v)) for p, v in sorted(by_part.items()))


def verify(ck, exp, positions, records, exact, input_topic="posts", label="", keys=None,
           input_records=None):
    """Holds the output records ({topic: [ConsumerRecord]}) to the oracle.

    exact: every expected output exactly once (a clean run). Otherwise
    at-least-once: every expected output at least once (distinct post ids
    and distinct source offsets complete), duplicates allowed, nothing that
    should not be there. Returns True when all held.

    input_records (the input topic as read back): an upstream producer that
    retries across a broker failure (kafka-python has no idempotence) may
    write one input twice; such a copy is a real input at an offset the
    producer never saw acknowledged, and its outputs are allowed."""
    pre = label + ": " if label else ""
    at = {pos: i for i, pos in enumerate(positions)}
    dup_inputs = {}
    if input_records is not None:
        by_bytes = {}
        for i, line in enumerate(exp.lines):
            by_bytes.setdefault(line, i)
        for rec in input_records:
            pos = (rec.partition, rec.offset)
            if pos not in at and rec.value in by_bytes:
                dup_inputs[pos] = by_bytes[rec.value]
        if dup_inputs:
            log("%sinput topic: %d input(s) written twice by the test's producer, at %s"
                % (pre, len(dup_inputs), sorted(dup_inputs)[:5]))
        at.update(dup_inputs)
    ok = True

    for topic, want_ids in (("posts.enriched", exp.enriched_ids), ("care.tickets", exp.ticket_ids)):
        recs = records[topic]
        ids = [(_header(rec, "earshot.post_id") or b"").decode() for rec in recs]
        distinct = set(ids)
        missing = want_ids - distinct
        extra = distinct - want_ids
        ok &= ck.check("%s%s: every expected post id present (%d distinct of %d)"
                       % (pre, topic, len(distinct & want_ids), len(want_ids)),
                       not missing, "missing %d, e.g. %s" % (len(missing), sorted(missing)[:5]))
        ok &= ck.check("%s%s: no unexpected post id" % (pre, topic), not extra,
                       "%d unexpected, e.g. %s" % (len(extra), sorted(extra)[:5]))
        if exact:
            ok &= ck.eq("%s%s: record count (clean run, exactly once)" % (pre, topic),
                        len(want_ids), len(recs))
        if len(recs) != len(distinct):
            log("%s%s: %d records, %d duplicates; %s" % (pre, topic, len(recs),
                len(recs) - len(distinct),
                _ranges([positions[exp.line_of_id[i]] for i in _repeated(ids)
                         if i in exp.line_of_id])))
        bad = []
        for rec, pid in zip(recs, ids):
            ev = json.loads(rec.value)
            want = exp.by_id.get(pid)
            if want is None:
                continue
            if ev["id"] != pid:
                bad.append("%s: header post id %s != event id %s" % (topic, pid, ev["id"]))
            elif (rec.key or b"").decode() != want["brands"][0]["id"]:
                bad.append("%s: key %r, want brand %s" % (pid, rec.key, want["brands"][0]["id"]))
            elif _strip_now(ev) != _strip_now(want):
                bad.append("%s: event differs from earshot classify: %s vs %s"
                           % (pid, json.dumps(ev)[:300], json.dumps(want)[:300]))
            if len(bad) > 5:
                break
        ok &= ck.check("%s%s: key = first brand id, header = event id, event = classify's"
                       % (pre, topic), not bad, "; ".join(bad))

    recs = records["posts.rejected"]
    srcs, bad = [], []
    for rec in recs:
        r = json.loads(rec.value)
        src = (r.get("partition"), r.get("offset"))
        srcs.append(src)
        i = at.get(src)
        if r.get("topic") != input_topic or i is None:
            bad.append("rejected record points at %s %r, not a produced input" % (r.get("topic"), src))
            continue
        raw = exp.lines[i]
        if "payload" in r:
            got = r["payload"].encode("utf-8")
        else:
            got = base64.b64decode(r.get("payload_base64", ""))
        if got != raw:
            bad.append("%r: payload differs from the input bytes" % (src,))
        if r.get("payload_bytes") != len(raw):
            bad.append("%r: payload_bytes %r != %d" % (src, r.get("payload_bytes"), len(raw)))
        if keys is not None and rec.key != keys[i]:
            bad.append("%r: key %r, the input's was %r" % (src, rec.key, keys[i]))
        if i in exp.reasons and r.get("reason") != exp.reasons[i]:
            bad.append("%r: reason %r, classify says %r" % (src, r.get("reason"), exp.reasons[i]))
        if "payload" in r and set(r) != {"reason", "topic", "partition", "offset",
                                         "payload_bytes", "payload"}:
            bad.append("%r: keys %s" % (src, sorted(r)))
        if len(bad) > 5:
            break
    want_srcs = {positions[i] for i in exp.rejected_lines}
    distinct = set(srcs)
    missing = want_srcs - distinct
    rejected = set(exp.rejected_lines)
    extra = distinct - want_srcs - {pos for pos, i in dup_inputs.items() if i in rejected}
    ok &= ck.check("%sposts.rejected: every rejected input present (%d distinct of %d)"
                   % (pre, len(distinct & want_srcs), len(want_srcs)),
                   not missing, "missing %d, e.g. %s" % (len(missing), sorted(missing)[:5]))
    ok &= ck.check("%sposts.rejected: no accepted input rejected" % pre, not extra,
                   "%d unexpected, e.g. %s" % (len(extra), sorted(extra)[:5]))
    ok &= ck.check("%sposts.rejected: reason/topic/partition/offset/payload match the input" % pre,
                   not bad, "; ".join(bad))
    if exact:
        ok &= ck.eq("%sposts.rejected: record count (clean run, exactly once)" % pre,
                    len(want_srcs), len(recs))
    if len(recs) != len(distinct):
        log("%sposts.rejected: %d records, %d duplicates; %s"
            % (pre, len(recs), len(recs) - len(distinct), _ranges(_repeated(srcs))))
    return ok


def read_outputs(bootstrap):
    return {t: read_topic(bootstrap, t) for t in OUT_TOPICS}


def collect_and_verify(ck, bootstrap, exp, positions, exact, timeout=120, label="",
                       proc_alive=None, keys=None):
    """Waits for the outputs to reach the expected counts, reads them and
    verifies them (see verify)."""
    want = dict(zip(OUT_TOPICS, exp.counts()))
    totals = wait_for_outputs(bootstrap, want, timeout, proc_alive=proc_alive)
    log("outputs: %r (expected distinct %r)" % (totals, want))
    return verify(ck, exp, positions, read_outputs(bootstrap), exact, label=label, keys=keys,
                  input_records=read_topic(bootstrap, "posts"))


class PacedStream:
    """An input stream produced in phases at a fixed rate while faults are
    injected: the lines so far and where each landed (the fault tests)."""

    def __init__(self, earshot, bootstrap, lines, phase_len, rate):
        self.earshot, self.bootstrap, self.lines = earshot, bootstrap, lines
        self.phase_len, self.rate = phase_len, rate
        self.positions = []

    def phase(self, k, at=()):
        """Produces phase k's lines at the rate; calls each (share, fn) in
        `at` once that share of the phase has been sent."""
        part = self.lines[k * self.phase_len:(k + 1) * self.phase_len]
        prod = Producer(self.bootstrap)
        t0 = time.monotonic()
        thread = prod.run_paced(part, self.rate)
        for share, fn in at:
            wait = t0 + share * self.phase_len / self.rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            fn()
        thread.join(300)
        self.positions += prod.positions()
        prod.close()

    def verify(self, ck, label):
        """Every input so far has its outputs (duplicates allowed)."""
        exp = Expected(self.earshot, self.lines[:len(self.positions)])
        return collect_and_verify(ck, self.bootstrap, exp, self.positions, exact=False,
                                  timeout=180, label=label)


def assert_committed_at_end(ck, bootstrap, group, positions, label=""):
    """The group's committed offset of every input partition equals the
    partition's end: everything consumed was committed."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="earshot-test-offsets",
                      enable_auto_commit=False)
    try:
        ends = {tp.partition: off for tp, off in c.end_offsets(topic_partitions(c, "posts")).items()}
    finally:
        c.close()
    got = committed_offsets(bootstrap, group)
    want = {p: e for p, e in ends.items() if e > 0}
    got = {p: o for p, o in got.items() if p in want}
    return ck.eq("%scommitted offsets of group %s = end offsets %r" % (label, group, want), want, got)


# ---- scenarios shared by the embedded-broker and real-Kafka tests ----

def clean_run(ck, earshot, bootstrap, wd, group, lines, exp, run_args=(), n_kcat=400):
    """A clean run, exactly once: the first len(lines) - n_kcat lines are
    produced with kafka-python (every third with a key), the rest with kcat
    onto partition 0; `earshot run` must produce exactly the expected
    outputs with the exact fields; kcat reads the same counts; SIGTERM exits
    0 within 10 s with committed = end offsets; a restart in the same group
    consumes and produces nothing and exits 0 on SIGINT. Returns the runs
    (for their logs)."""
    n = len(lines)
    kcat_lines = lines[n - n_kcat:]
    ck.check("no empty line goes through kcat (it would skip it)", all(kcat_lines), "")
    runs = []
    try:
        keys = [b"k%d" % i if i % 3 == 0 else None for i in range(n - n_kcat)]
        prod = Producer(bootstrap)
        prod.send(lines[:n - n_kcat], keys)
        positions = prod.positions()
        prod.close()
        end0 = end_offsets(bootstrap, ["posts"])["posts"]
        base = [off for tp, off in end0.items() if tp.partition == 0][0]
        kc = subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", "posts", "-p", "0",
                             "-X", "enable.idempotence=true", "-X", "acks=all"],
                            input=b"\n".join(kcat_lines) + b"\n", capture_output=True,
                            timeout=60)
        ck.eq("kcat produce exit status", 0, kc.returncode)
        positions += [(0, base + j) for j in range(n_kcat)]
        keys += [None] * n_kcat
        total_in = sum(end_offsets(bootstrap, ["posts"])["posts"].values())
        ck.eq("input messages on posts", n, total_in)

        run = Earshot(earshot, bootstrap, group, wd, name="run1", args=run_args)
        runs.append(run)
        t0 = time.monotonic()
        collect_and_verify(ck, bootstrap, exp, positions, exact=True, timeout=120, keys=keys)
        log("all outputs in %.1f s" % (time.monotonic() - t0))

        # A second client library reads the same counts.
        for topic, want in zip(OUT_TOPICS, exp.counts()):
            out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-q",
                                  "-o", "beginning", "-f", "%h\\n"],
                                 capture_output=True, timeout=60)
            ck.eq("kcat reads %s records" % topic, want, out.stdout.count(b"\n"))
            if topic != "posts.rejected":
                ck.eq("kcat: every %s record has header earshot.post_id" % topic, want,
                      out.stdout.count(b"earshot.post_id="))

        rc, took = run.signal_and_wait(signal.SIGTERM, timeout=15)
        ck.eq("SIGTERM: exit status", 0, rc)
        ck.check("SIGTERM: exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        ck.check("SIGTERM: clean stop logged", "stopped (clean)" in run.text(), run.tail())
        assert_committed_at_end(ck, bootstrap, group, positions)

        # Restart in the same group: nothing left to consume, nothing produced.
        before = end_offsets(bootstrap)
        run2 = Earshot(earshot, bootstrap, group, wd, name="run2", args=run_args)
        runs.append(run2)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and "assigned 4 partition" not in run2.text():
            time.sleep(0.2)
        ck.check("restart: got the 4 partitions", "assigned 4 partition" in run2.text(),
                 run2.tail())
        time.sleep(2.0)
        rc, took = run2.signal_and_wait(signal.SIGINT, timeout=15)
        ck.eq("SIGINT: exit status", 0, rc)
        ck.check("SIGINT: exited within 10 s (took %.2f s)" % took, took < 10, "%.2f s" % took)
        ck.eq("restart: messages consumed", 0, run2.consumed())
        ck.eq("restart: output end offsets unchanged", before, end_offsets(bootstrap))
    finally:
        for r in runs:
            r.ensure_dead()
    return runs


def workdir(name):
    d = tempfile.mkdtemp(prefix="earshot-%s." % name)
    return d
