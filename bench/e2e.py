#!/usr/bin/env python3
"""End to end through Kafka, for bench/run: earshot beside a passthrough, the
Python peer and the Kafka Streams peer, on the same preloaded topic and broker.

  e2e.py --broker kafka|embedded --build DIR --corpus FILE --cache DIR
         --rules LABEL=DIR[,LABEL=DIR...] [--quick] [--no-streams] [--partitions P]

How a run is timed. The input topic is preloaded once (kcat -P); on the
embedded broker only what fits its ~5 MB per partition retention is
preloaded. The retained input is read back and classified offline with
`earshot classify`: that gives the exact output counts to expect. Each peer
then drains the same topic in its own consumer group, writing to its own
output topics. A watcher polls the output topics' high watermarks (what the
broker has acknowledged) every 5 ms: the clock starts at the first output
and stops when the counts reach the expected ones; posts/s = input posts /
that span. The Streams peer, whose outputs are not earshot's, is timed the
same way on its committed input offsets (it commits every 100 ms). Start-up (rule compilation, JVM start) is not counted, for every
peer alike. A run whose counts do not match is reported as failed, so a fast
wrong run cannot pass. Slow peers (Python; Streams past its time budget) are
measured on a prefix through their consumer group's committed offsets and
say so in "notes".

Latency: earshot, then the passthrough, each runs idle on fresh topics
while a producer offers posts at 1,000, 5,000 and 20,000 posts/s in turn
(--rates), sleeping to its schedule; each post's send time is matched by id
to the arrival of its event: p50 / p99 / p99.9 / max ms and the process's
CPU per rate, after a throw-away warm-up (see latency()). --latency-only
runs just that stage, e.g. against a running broker (--bootstrap).

Prints one JSON object (field names as in issue 4's e2e section).
Needs confluent-kafka (Debian python3-confluent-kafka).
"""
import argparse
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from confluent_kafka import (TIMESTAMP_CREATE_TIME, Consumer, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
PY = sys.executable


def log(msg):
    print(f"e2e: {msg}", file=sys.stderr, flush=True)


class Broker:
    """A real Kafka (scripts/kafka) or the embedded one (earshot broker)."""

    def __init__(self, kind, earshot, partitions, workdir, bootstrap=None, topics=()):
        self.kind, self.proc, self.dir, self.external = kind, None, None, bool(bootstrap)
        if bootstrap:
            self.bootstrap = bootstrap  # --broker says which kind it is
        elif kind == "kafka":
            self.dir = os.path.join(workdir, "kafka")
            subprocess.run([os.path.join(ROOT, "scripts", "kafka"), "fetch"], check=True,
                           stdout=subprocess.DEVNULL)
            out = subprocess.run([os.path.join(ROOT, "scripts", "kafka"), "start", "--nodes", "1",
                                  "--dir", self.dir, "--port", "auto"],
                                 check=True, capture_output=True, text=True).stdout
            self.bootstrap = out.strip().splitlines()[-1]
        else:
            # Every topic is named at start: the mock cluster gives a topic
            # that a client's metadata request auto-creates its own default
            # of 4 partitions, not --partitions.
            self.proc = subprocess.Popen([earshot, "broker", "--partitions", str(partitions)] +
                                         [a for t in topics for a in ("--topic", t)],
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True)
            self.bootstrap = self.proc.stdout.readline().strip()
            if not self.bootstrap:
                raise RuntimeError("earshot broker printed no bootstrap line")
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap})

    def create(self, topics, partitions):
        if self.kind != "kafka":
            # The mock cluster has no CreateTopics: it creates a topic (with
            # its default partition count, `earshot broker --partitions`) on
            # a producer's metadata request.
            p = Producer({"bootstrap.servers": self.bootstrap})
            for t in topics:
                for _ in range(50):
                    md = p.list_topics(t, timeout=10).topics.get(t)
                    if md and not md.error and md.partitions:
                        break
                    time.sleep(0.1)
            return
        fs = self.admin.create_topics([NewTopic(t, partitions, 1) for t in topics],
                                      operation_timeout=30)
        for t, f in fs.items():
            try:
                f.result()
            except Exception as e:  # an existing topic is fine
                if "TOPIC_ALREADY_EXISTS" not in str(e):
                    raise
        # Leaders are elected a moment after CreateTopics returns.
        w = Watch(self.bootstrap)
        try:
            w.highs(topics)
        finally:
            w.close()

    def stop(self):
        if self.external:
            return
        if self.kind == "kafka":
            subprocess.run([os.path.join(ROOT, "scripts", "kafka"), "stop", "--dir", self.dir],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        elif self.proc:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


class Watch:
    """Acknowledged outputs and committed offsets, polled without consuming.

    One poll is one ListOffsets request per leader (offsets_for_times with
    the "latest" timestamp, -1, answers the high watermarks of every
    partition at once): ~1 ms, where a get_watermark_offsets() per partition
    costs a round trip each and made a 3-topic poll ~30 ms, too coarse to time
    a drain of a fraction of a second. Progress on a topic is its high
    watermarks now minus when it was first seen (fresh output topics start at
    0): retention (the embedded broker keeps ~2 MB per partition) drops old
    messages from the low end without hiding what was acknowledged."""

    def __init__(self, bootstrap):
        self.bootstrap, self.groups = bootstrap, {}
        self.c = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench.watch",
                           "enable.auto.commit": False})
        self.parts, self.base = {}, {}

    def partitions(self, topic):
        if topic not in self.parts:
            for attempt in range(100):
                md = self.c.list_topics(topic, timeout=10).topics[topic]
                if md.partitions and not md.error:
                    break
                time.sleep(0.1)
            self.parts[topic] = sorted(md.partitions)
        return self.parts[topic]

    def highs(self, topics):
        """{topic: sum of high watermarks}, one request per leader."""
        tps = [TopicPartition(t, p, -1) for t in topics for p in self.partitions(t)]
        # Right after a topic is created its leader may not be elected yet.
        for attempt in range(100):
            try:
                got = self.c.offsets_for_times(tps, timeout=10)
                if all(tp.offset >= 0 and not tp.error for tp in got):
                    break
            except KafkaException:
                pass
            if attempt == 99:
                raise RuntimeError(f"no high watermarks for {topics}")
            time.sleep(0.1)
        out = {t: 0 for t in topics}
        for tp in got:
            out[tp.topic] += tp.offset
        return out

    def count(self, *topics):
        """Messages acknowledged on topics since each was first seen."""
        h = self.highs(topics)
        for t in topics:
            self.base.setdefault(t, h[t])
        return sum(h[t] - self.base[t] for t in topics)

    def counts(self, topics):
        h = self.highs(topics)
        return {t: h[t] - self.base.setdefault(t, h[t]) for t in topics}

    def mark(self, *topics):
        """Take the current high watermarks as the zero of count()."""
        self.base.update(self.highs(topics))

    def watermarks(self, topic, p):
        return self.c.get_watermark_offsets(TopicPartition(topic, p), timeout=10, cached=False)

    def low(self, topic):
        return {p: self.watermarks(topic, p)[0] for p in self.partitions(topic)}

    def committed(self, group, topic, low):
        """Offsets group has committed on topic, past the low watermarks."""
        if group not in self.groups:
            self.groups[group] = Consumer({"bootstrap.servers": self.bootstrap,
                                           "group.id": group, "enable.auto.commit": False})
        tps = self.groups[group].committed(
            [TopicPartition(topic, p) for p in self.partitions(topic)], timeout=10)
        return sum(max(0, tp.offset - low[tp.partition]) for tp in tps if tp.offset >= 0)

    def close(self):
        for c in self.groups.values():
            c.close()
        self.c.close()


def vm_hwm_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


# What each peer prints on stderr once its consumer has its partitions
# (earshot's log line, bench_passthrough's, the Streams peer's state change):
# the clock of a drain starts there.
ASSIGNED = re.compile(r"assigned \d+ partition|streams peer: RUNNING")


def drain(name, cmd, poll, target, n_in, budget_s, env=None, ready_re=ASSIGNED, on_line=None):
    """Start cmd and time it draining the preloaded input.

    The clock starts when the peer says its consumer has its partitions
    (ASSIGNED on its stderr): process start, rule compilation and the group
    join are not counted, for every peer alike, while fetching, classifying,
    producing and waiting for the acknowledgements are. It stops when poll()
    (outputs acknowledged, or input offsets committed) reaches target:
    posts/s = n_in / span. A peer that never prints the line is timed from
    its first output instead (posts/s scaled by the outputs seen after it).

    Returns a dict: posts_per_s, seconds, ok, rss_mb, cpu_s (the process's
    user + system CPU seconds over the timed span, when the clock started at
    the assignment and the target was reached); partial=True with the rate
    over budget_s when the budget ran out first. on_line(line) sees each
    stderr line (the caller may learn a port from it)."""
    log(f"{name}: {' '.join(cmd)}")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    lines, marks, cpu0 = [], [], []

    def read_stderr():
        for raw in proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            if not marks and ready_re.search(line):
                marks.append(time.perf_counter())
                cpu0.append(cpu_s(proc.pid))
            if on_line:
                on_line(line)
            lines.append(line)
    th = threading.Thread(target=read_stderr, daemon=True)
    th.start()
    t_first = t_done = None
    p0 = progress = 0
    rss = None
    t_start = time.perf_counter()
    while True:
        progress = poll()
        now = time.perf_counter()
        rss = vm_hwm_mb(proc.pid) or rss
        if progress > 0 and t_first is None:
            t_first, p0 = now, progress
        if progress >= target:
            t_done = now
            cpu_done = cpu_s(proc.pid)
            break
        if proc.poll() is not None:
            break
        t0 = marks[0] if marks else t_first
        if t0 is not None and now - t0 > budget_s:
            break
        if t0 is None and now - t_start > 300:
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    th.join(5)
    err_tail = [ln for ln in lines if ln.strip()][-3:]
    res = {"rss_mb": rss, "progress": progress, "target": target}
    end = t_done or now
    if marks and end > marks[0] and progress > 0:
        span = end - marks[0]
        res["clock"] = "from partitions assigned"
        res["seconds"] = round(span, 3)
        res["posts_per_s"] = round(n_in * progress / target / span, 1)
    elif t_first is not None and end > t_first and progress > p0:
        span = end - t_first
        res["clock"] = "from first output"
        res["seconds"] = round(span, 3)
        res["posts_per_s"] = round(n_in * (progress - p0) / target / span, 1)
    if t_done is not None and on_line:
        res["done_at"] = t_done  # perf_counter, for the caller
    if t_done is not None and cpu0 and res.get("clock") == "from partitions assigned":
        res["cpu_s"] = round(cpu_done - cpu0[0], 3)
    if "posts_per_s" in res:
        res["ok"] = t_done is not None
        if t_done is None:
            if proc.returncode is None or budget_s <= res["seconds"]:
                res["partial"] = True
                res["ok"] = True
                res["note"] = (f"timed over {res['seconds']:.0f} s on the first "
                               f"{n_in * progress // target} posts (budget {budget_s} s)")
            else:
                res["error"] = f"exited at {progress} of {target}: " + " | ".join(err_tail)
    else:
        res["ok"] = False
        res["error"] = f"no progress ({progress} of {target}): " + " | ".join(err_tail)
    log(f"{name}: {res.get('posts_per_s')} posts/s over {res.get('seconds')} s "
        f"({res.get('clock')}), ok={res['ok']} {res.get('note', '')}{res.get('error', '')}")
    return res


def preload(broker, bootstrap, topic, corpus, max_posts, partitions, workdir):
    """Produce the corpus (at most max_posts) and read back what the broker kept."""
    broker.create([topic], partitions)
    # max_posts of the corpus, cycling over it when it is shorter: a drain
    # must last long enough (>= ~0.3 s at the ceiling) for a 5 ms poll to
    # time it. Repeated posts classify the same each time.
    src = os.path.join(workdir, "input.jsonl")
    with open(corpus, "rb") as f:
        lines = [ln for ln in f.read().split(b"\n") if ln.strip()]
    with open(src, "wb") as o:
        for i in range(max_posts):
            o.write(lines[i % len(lines)] + b"\n")
    # Round robin over the partitions, explicitly: the sticky partitioner of
    # a key-less producer (kcat's) fills one partition per batch, which
    # leaves partitions uneven and, on the embedded broker, past retention.
    w = Watch(bootstrap)
    try:
        n_parts = len(w.partitions(topic))
    finally:
        w.close()
    p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20,
                  "batch.num.messages": 2000, "queue.buffering.max.messages": 200000,
                  "queue.buffering.max.kbytes": 1048576})
    with open(src, "rb") as f:
        for i, line in enumerate(f):
            while True:
                try:
                    p.produce(topic, line.rstrip(b"\n"), partition=i % n_parts)
                    break
                except BufferError:
                    p.poll(0.05)
            if i % 1000 == 0:
                p.poll(0)
    if p.flush(120):
        raise RuntimeError(f"preload of {topic} did not finish")
    kept = os.path.join(workdir, f"{topic}.kept.jsonl")
    with open(kept, "wb") as o:
        subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e",
                        "-q", "-D", "\n"], stdout=o, check=True)
    with open(kept, "rb") as f:
        n = sum(1 for line in f if line.strip())
    return kept, n


def oracle(earshot, rules, kept, config):
    """Exact output counts for earshot from `earshot classify` on the retained input."""
    p = subprocess.run([earshot, "classify", "--rules", rules, kept], capture_output=True,
                       text=True)
    enriched = tickets = 0
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        if not ev.get("brands") and not config["all_posts"]:
            continue
        enriched += 1
        if ev.get("brands") and ev.get("polarity") in ("complaint", "question") and \
                ev.get("priority", 0) >= config["ticket_min_priority"]:
            tickets += 1
    rejected = sum(1 for line in p.stderr.splitlines() if line.startswith("{\"line\""))
    return {"enriched": enriched, "tickets": tickets, "rejected": rejected}


def earshot_config(path, prefix, inp, group):
    """The `earshot run` config file (src/ops/config.c keys) for one run: its
    own topics and group, earshot's default routes and ticket threshold. The
    input is produced before earshot starts and generated posts are dated
    2018-2022, so the group starts at the earliest offset and tickets have no
    age limit: the oracle counts every post, as `earshot classify` does."""
    conf = {"all_posts": False, "ticket_min_priority": 30}
    with open(path, "w") as f:
        f.write(f"# bench/e2e.py\n"
                f"group.id = {group}\n"
                f"topic.input = {inp}\n"
                f"topic.enriched = {prefix}.enriched\n"
                f"topic.tickets = {prefix}.tickets\n"
                f"topic.rejected = {prefix}.rejected\n"
                f"route.enriched.all = {'true' if conf['all_posts'] else 'false'}\n"
                f"tickets.min_priority = {conf['ticket_min_priority']}\n"
                f"status.interval.ms = 0\n"
                f"consumer.auto.offset.reset = earliest\n"
                f"tickets.max_age = 0\n")
    return conf


WARM_S = 1.5
LAT_RATES = (1000, 5000, 20000)
# --latency-dump DIR: every timed post's (sent, latency, before-produce) in
# ms, in send order, one file per system and rate, for finding where a tail
# sits in time (a stall, a periodic task) rather than only how long it is.
LAT_DUMP = None
LAT_WARM_UP_S = 3


def pct(sorted_ms, q):
    """The q-quantile (nearest rank) of an ascending list of milliseconds."""
    return round(sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * q))], 2)


def paced_send(p, topic, posts, rate, sent, count_from):
    """Offer posts at rate/s on the schedule t0 + i/rate, sleeping (never
    spinning) to it: a busy-wait producer takes one of the two cores from
    the broker and the system measured (issue 14: that alone cost p50
    ~200 ms). Behind schedule it sends without sleeping, so the offered rate
    holds. Serves delivery reports with poll(0) between sends. Posts from
    count_from on are timed (sent[key] = time produce() was called)."""
    t0 = time.perf_counter()
    for i, (key, val) in enumerate(posts):
        ahead = t0 + i / rate - time.perf_counter()
        if ahead > 0.0005:
            time.sleep(ahead)
        if i >= count_from:
            sent[key] = time.perf_counter()
        while True:
            try:
                p.produce(topic, val, key=key)
                break
            except BufferError:
                p.poll(0.005)
        if i % 64 == 0:
            p.poll(0)
    p.poll(0)


def cpu_s(pid):
    """CPU seconds (user + system) a process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def unique_post(posts, i):
    """The i-th post of the cycle over posts, its id made unique ("ID~i"),
    so that a post offered twice (runs longer than the corpus) is not
    matched to an event of its earlier copy."""
    pid, val = posts[i % len(posts)]
    new = pid + b"~%d" % i
    return new, val.replace(b'"id":"' + pid + b'"', b'"id":"' + new + b'"', 1)


def latency_one(name, cmd, broker, inp, out, posts, rates, seconds, ready_re=ASSIGNED):
    """One system (earshot or the passthrough), started once, offered each
    rate in turn: WARM_S s not counted, then `seconds` s timed, then a pause
    for what is in flight to arrive. Returns {rate: {p50, p99, p999, max, ...}}.

    Each post is keyed by its id; the reader takes the id from earshot's
    earshot.post_id header, or from the key the passthrough copied, so it
    parses nothing. The reader is apparatus: poll() returns as soon as a
    message is there and consume(.., 0) drains what came with it without
    waiting; its fetches wait at most 5 ms on the broker when there is
    nothing (fetch.wait.max.ms), and a new event ends that wait at once."""
    log(f"latency[{name}]: {' '.join(cmd)}")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ready, assigned, stop = threading.Event(), threading.Event(), threading.Event()
    tail = []

    def watch_stderr():
        for raw in proc.stderr:
            line = raw.decode(errors="replace")
            tail.append(line.rstrip())
            del tail[:-5]
            if ready_re.search(line):
                ready.set()
    threading.Thread(target=watch_stderr, daemon=True).start()
    arrived = {}
    # time.time() - time.perf_counter(): maps a broker timestamp (wall
    # clock, ms) onto the perf_counter scale the send times use.
    wall_offset = time.time() - time.perf_counter()
    c = Consumer({"bootstrap.servers": broker.bootstrap,
                  "group.id": f"bench.lat.reader.{name}.{time.time_ns()}",
                  "auto.offset.reset": "latest", "fetch.wait.max.ms": 5,
                  "enable.auto.commit": False})
    c.subscribe([out], on_assign=lambda cons, parts: assigned.set())

    def reader():
        while not stop.is_set():
            m = c.poll(0.05)
            if m is None:
                continue
            now = time.perf_counter()
            for x in [m] + c.consume(10000, 0):
                if x.error():
                    continue
                h = x.headers()
                key = h[0][1] if h else x.key()
                if key not in arrived:
                    # CreateTime: set by the system's own producer when it
                    # called produce() (neither earshot nor the passthrough
                    # copies the input's timestamp), so it splits a post's
                    # latency into before and after that call.
                    kind, ts = x.timestamp()
                    arrived[key] = (now, ts / 1000.0 - wall_offset
                                    if kind == TIMESTAMP_CREATE_TIME else None)
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    res = {}
    try:
        if not ready.wait(60) or not assigned.wait(60):
            return {r: {"p50": None, "p99": None, "offered_posts_per_s": r,
                        "error": f"{name} or the reader got no partitions within 60 s: "
                                 + " | ".join(tail)} for r in rates}
        # "latest" is resolved when the reader first fetches: let it.
        time.sleep(1)
        # linger.ms=1: the offering producer batches what one millisecond
        # brings (20 requests/ms at 20k posts/s would load the broker);
        # it adds at most 1 ms, to both systems alike.
        p = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 1})
        # Thrown away: the first seconds of load pay once-per-process costs
        # (producer id, metadata, the group's first commits, the JIT of a
        # fresh broker topic) that are start-up, not latency; measured, they
        # put a 1,000/s p99 anywhere from 17 to 425 ms.
        used = int(1000 * LAT_WARM_UP_S)
        paced_send(p, inp, [unique_post(posts, i) for i in range(used)], 1000, {}, used)
        p.flush(10)
        time.sleep(1)
        for rate in rates:
            n_warm, n = int(rate * WARM_S), int(rate * seconds)
            batch = [unique_post(posts, used + i) for i in range(n_warm + n)]
            used += n_warm + n
            sent = {}
            paced_send(p, inp, batch[:n_warm], rate, sent, n_warm)
            cpu0, t0 = cpu_s(proc.pid), time.perf_counter()
            paced_send(p, inp, batch[n_warm:], rate, sent, 0)
            cpu = (cpu_s(proc.pid) - cpu0) / (time.perf_counter() - t0)
            p.flush(10)
            time.sleep(2)
            got = [(arrived[k], t) for k, t in sent.items() if k in arrived]
            if LAT_DUMP:
                with open(os.path.join(LAT_DUMP, f"{name}-{rate}-{int(time.time())}.tsv"),
                          "w") as f:
                    for a, t in sorted(got, key=lambda x: x[1]):
                        f.write(f"{t * 1000:.3f}\t{(a[0] - t) * 1000:.3f}\t"
                                f"{(a[1] - t) * 1000 if a[1] is not None else -1:.3f}\n")
            lat = sorted((a[0] - t) * 1000 for a, t in got)
            before = sorted((a[1] - t) * 1000 for a, t in got if a[1] is not None)
            after = sorted((a[0] - a[1]) * 1000 for a, _ in got if a[1] is not None)
            r = {"offered_posts_per_s": rate, "seconds": seconds, "warm_up_s": WARM_S,
                 "samples": len(lat), "sent": len(sent), "cpu_pct": round(100 * cpu, 1)}
            if lat:
                r.update(p50=pct(lat, 0.5), p99=pct(lat, 0.99), p999=pct(lat, 0.999),
                         max=round(lat[-1], 2))
            if before:
                # Before: offered -> the system's produce() (input fetch,
                # queueing, classification). After: produce() -> the reader
                # (linger, broker append, the reader's fetch). The broker's
                # millisecond timestamps make each side +-1 ms.
                r["split"] = {"before_p50": pct(before, 0.5), "before_p99": pct(before, 0.99),
                              "after_p50": pct(after, 0.5), "after_p99": pct(after, 0.99)}
            else:
                r.update(p50=None, p99=None, error="no events")
            sp = r.get("split") or {}
            log(f"latency[{name}] {rate}/s: p50 {r.get('p50')} p99 {r.get('p99')} "
                f"p99.9 {r.get('p999')} max {r.get('max')} ms ({len(lat)} of {len(sent)}), "
                f"{r['cpu_pct']}% CPU; before produce p50 {sp.get('before_p50')} "
                f"p99 {sp.get('before_p99')}, after p50 {sp.get('after_p50')} "
                f"p99 {sp.get('after_p99')} ms")
            # Per post, for latency()'s same-posts comparison; dropped there.
            r["_by_key"] = {k: ((arrived[k][0] - t) * 1000,
                                (arrived[k][1] - t) * 1000 if arrived[k][1] is not None
                                else None) for k, t in sent.items() if k in arrived}
            res[rate] = r
    finally:
        stop.set()
        th.join(5)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        c.close()
    return res


def same_posts(mine, theirs):
    """Percentiles of `mine` (a latency_one row) over the posts `theirs`
    timed: earshot times only the posts it routes (brand mentions, ~5.6% of
    this corpus), the passthrough every post, so their p99s rest on 20x
    different sample counts; this compares the same posts."""
    keys = [k for k in theirs.get("_by_key", {}) if k in mine.get("_by_key", {})]
    lat = sorted(mine["_by_key"][k][0] for k in keys)
    before = sorted(mine["_by_key"][k][1] for k in keys if mine["_by_key"][k][1] is not None)
    if not lat:
        return None
    out = {"samples": len(lat), "p50": pct(lat, 0.5), "p99": pct(lat, 0.99),
           "p999": pct(lat, 0.999), "max": round(lat[-1], 2)}
    if before:
        out["before_p99"] = pct(before, 0.99)
    return out


def latency(earshot, passthrough, broker, rules, corpus, rates, seconds, workdir, partitions,
            extra=(), prefix="bench.lat", passthrough_first=False, watch_off=False):
    """Send-to-arrival latency of earshot and of the passthrough, same run.

    Each runs idle on fresh topics while a producer offers posts at each
    rate of `rates`; a post's send time is matched by id to the arrival of
    its event (earshot: posts.enriched; passthrough: its copy). Only posts
    whose event earshot routes count for earshot (brand mentions, ~5.6% of
    the corpus); the passthrough's row also gives its percentiles over those
    same posts ("same_posts"). The systems run one after the other on one
    broker, and the first pays what a broker still warms up at each new
    rate: passthrough_first swaps the order (latency_stage alternates it).
    watch_off: earshot runs a second time with watch.enabled=false
    ("earshot_nowatch"), the in-run aggregator's share of the latency.
    Returns the earshot row at 5,000/s (or the first rate) with
    p50/p99/p999/max, and "by_rate": [{rate, earshot, passthrough, ...}]."""
    tag = f"{int(time.time() * 1000)}"
    with open(corpus, "rb") as f:
        posts = []
        for ln in f.read().split(b"\n"):
            if not ln:
                continue
            try:
                pid = json.loads(ln)["data"]["id"].encode()
            except (ValueError, KeyError, TypeError, AttributeError):
                continue
            posts.append((pid, ln))
    out = {}
    inp = f"{prefix}.{tag}.in"
    topics = [inp] + [f"{prefix}.{tag}.{k}" for k in ("enriched", "tickets", "rejected")]
    broker.create(topics, partitions)
    cfg = os.path.join(workdir, f"{prefix}.conf")
    earshot_config(cfg, f"{prefix}.{tag}", inp, f"{prefix}.{tag}")

    def run_earshot(name, sub, more):
        t = f"{prefix}.{sub}{tag}"
        if sub:
            broker.create([f"{t}.in"] + [f"{t}.{k}" for k in ("enriched", "tickets",
                                                              "rejected")], partitions)
            earshot_config(cfg, t, f"{t}.in", t)
        out[name] = latency_one(
            name, [earshot, "run", "-c", cfg, "-b", broker.bootstrap, "--rules", rules]
            + list(extra) + more, broker, f"{t}.in" if sub else inp, f"{t}.enriched", posts,
            rates, seconds)

    def run_passthrough():
        pin, pout = f"{prefix}.pt.{tag}.in", f"{prefix}.pt.{tag}.out"
        broker.create([pin, pout], partitions)
        out["passthrough"] = latency_one(
            "passthrough", [passthrough, "-b", broker.bootstrap, "-i", pin, "-o", pout,
                            "-n", str(10 ** 9), "-g", f"{prefix}.pt.{tag}"],
            broker, pin, pout, posts, rates, seconds)
    if passthrough and passthrough_first:
        run_passthrough()
    run_earshot("earshot", "", [])
    if watch_off:
        run_earshot("earshot_nowatch", "nw.", ["--set", "watch.enabled=false"])
    if passthrough and not passthrough_first:
        run_passthrough()
    for r in rates:
        if "passthrough" in out:
            pt = out["passthrough"][r]
            pt["same_posts"] = same_posts(pt, out["earshot"][r])
        for rows in out.values():
            rows[r].pop("_by_key", None)
    head = 5000 if 5000 in rates else rates[0]
    res = dict(out["earshot"][head])
    res["order"] = ["passthrough", "earshot"] if passthrough_first else ["earshot", "passthrough"]
    res["extra_args"] = list(extra)
    res["by_rate"] = [{"rate": r, **{k: v[r] for k, v in out.items()}} for r in rates]
    return res


def run_earshot(args, res, row, earshot, label, rules, kept, conf, cfg, broker, watch, topics,
                inp, n_in):
    exp = oracle(earshot, rules, kept, conf)
    row["expected"] = exp
    watch.mark(*topics)
    r = drain(f"earshot[{label}]", [earshot, "run", "-c", cfg, "-b", broker.bootstrap,
                                    "--rules", rules],
              lambda: watch.count(*topics), sum(exp.values()), n_in, 300)
    got = {t.rsplit(".", 1)[1]: n for t, n in watch.counts(topics).items()}
    r["got"] = got
    if r["ok"] and got != exp:
        r["ok"] = False
        r["error"] = f"counts differ: got {got}, expected {exp}"
    row["earshot"] = r
    row["earshot_posts_per_s"] = r.get("posts_per_s") if r["ok"] else None
    res["rss_mb"][f"earshot[{label}]"] = r.get("rss_mb")


# The pipeline's own "assigned" line (src/pipeline/rebalance.c), not the
# in-run aggregator's ("watch: assigned N partition(s) of ..."): the clock of
# both aggregation-cost drains starts at the same point.
PIPELINE_ASSIGNED = re.compile(r"assigned \d+ partition\(s\), \d+ in total")
METRICS_PORT = re.compile(r"metrics on http://\S+ \(port (\d+)\)")


def watch_events_read(port):
    """Enriched events the in-run aggregator has consumed (/api/watch), or 0."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/watch", timeout=2) as r:
            return json.loads(r.read())["events_read"]
    except (OSError, ValueError, KeyError):
        return 0


def agg_topics(mode, i):
    p = f"bench.agg.{mode}{i}"
    return p, [f"{p}.{k}" for k in ("enriched", "tickets", "rejected", "stats", "alerts")]


AGG_PAIRS = 4           # off/on pairs on real Kafka (2 with --quick)
AGG_POSTS = 1000000     # posts per drain on real Kafka (the shared input with --quick)


def agg_broker_pid(args, broker):
    """The broker's process (the JVM of scripts/kafka's node 1, or `earshot
    broker`), whose CPU the aggregator's fetches and commits add to; for one
    given with --bootstrap, --broker-pid or None."""
    if args.broker_pid:
        return args.broker_pid
    if broker.proc:
        return broker.proc.pid
    if broker.dir:
        try:
            with open(os.path.join(broker.dir, "node-1", "pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None
    return None


def agg_summary(rows, n_in, key):
    """Median and range of one mode's runs."""
    v = sorted(r[key] for r in rows if r.get(key) is not None)
    if not v:
        return None
    return {"median": v[len(v) // 2] if len(v) % 2 else round((v[len(v) // 2 - 1] +
                                                               v[len(v) // 2]) / 2, 3),
            "min": v[0], "max": v[-1], "all": v}


def agg_alone(earshot, broker, bpid, prefix, n_enriched):
    """The aggregator alone: `earshot watch --exit-at-end` over an "off"
    run's enriched topic (the same events the in-run aggregator reads), as
    its own process, so its CPU is its own and not a difference of two noisy
    drains. Its CPU (the reaped child's rusage) includes start-up, the group
    join and the wait until every partition has reported its end: ~10 ms on
    real Kafka, but 4-5 s of mostly idle librdkafka threads on the embedded
    broker (0.1 s of CPU), so only a long drain's figure means anything. The
    broker's CPU over the same run. None when this earshot has no
    --exit-at-end."""
    help_ = subprocess.run([earshot, "watch", "--help"], capture_output=True, text=True).stdout
    if "--exit-at-end" not in help_:
        return None
    cmd = [earshot, "watch", "-b", broker.bootstrap, "-g", prefix + ".alone", "--input",
           prefix + ".enriched", "--stats", prefix + ".stats", "--alerts", prefix + ".alerts",
           "--exit-at-end"]
    log(f"aggregator alone: {' '.join(cmd)}")
    b0 = cpu_s(bpid) if bpid else None
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"ok": False, "error": "timed out after 300 s"}
    wall = time.perf_counter() - t0
    b1 = cpu_s(bpid) if bpid else None
    # communicate() reaped it: the children's rusage holds its CPU.
    r = {"ok": proc.returncode == 0, "seconds": round(wall, 3)}
    if proc.returncode:
        r["error"] = f"exit {proc.returncode}: " + err.decode(errors="replace")[-300:]
    m = re.findall(r"stopped \(clean\): .* (\d+) event\(s\) read",
                   err.decode(errors="replace"))
    r["events"] = int(m[-1]) if m else None
    if r["events"] is not None and r["events"] != n_enriched:
        r["ok"] = False
        r["error"] = f"read {r['events']} events, expected {n_enriched}"
    if b0 is not None:
        r["broker_cpu_s"] = round(b1 - b0, 3)
    return r


def agg_cost(args, res, earshot, label, rules, kept, broker, watch, inp, n_in, workdir):
    """The cost of the in-run care aggregator (issue 10: < 5% of end-to-end
    throughput): the same drain of the same preloaded posts by `earshot run`
    with watch.enabled=false and with it on (the default), in pairs on fresh
    topics and groups, the order alternated (off-on, on-off, ...) so that a
    machine that speeds up or slows down during the stage favours neither.

    Long drains: on real Kafka its own input of AGG_POSTS posts (--agg-posts;
    the corpus cycled, so the aggregator also meets redelivered ids), so a
    drain lasts ~10 s and the fixed parts (the aggregator's group join, its
    last fetch wait) are a small share of it; 2-3 s drains could not resolve
    5% on a shared 2-core machine.

    Fair to both: the clock starts at the pipeline's own assignment line in
    both runs, and the "on" run is done only when the pipeline's outputs are
    all acknowledged AND the aggregator (its own group on topic.enriched,
    asynchronous) has read every enriched event, which earshot reports on
    /api/watch; both runs have the HTTP endpoint on (metrics.listen), so its
    cost is in both. The "on" run's pipeline-only rate (outputs acknowledged,
    aggregator still reading) is reported too, as pipeline_posts_per_s.

    Measured both ways, per run: posts/s, and CPU per post over the same
    span: earshot's process (user + system) and the broker's process (the
    aggregator's fetches, produces and commits are broker work, and the
    broker shares the cores). Reported: per mode the median and range; per
    pair the ratios on/off (a pair's two runs are adjacent in time); cost_pct
    = 100 x (1 - median pair throughput ratio), cpu_pct = 100 x (median pair
    CPU ratio - 1), for earshot and earshot + broker.

    And the other way ("alone"): after each "off" run, `earshot watch
    --exit-at-end` reads that run's enriched topic as its own process
    (agg_alone); its CPU over the off run's CPU is the share the aggregator
    adds, without subtracting two drains that vary by +-10% on a shared
    machine."""
    quick = args.quick or broker.kind != "kafka"
    pairs = args.agg_pairs or (2 if args.quick else 3 if broker.kind != "kafka" else AGG_PAIRS)
    n_agg = args.agg_posts or (n_in if quick else AGG_POSTS)
    if n_agg != n_in:
        inp = "bench.agg.in"
        kept, n_in = preload(broker, broker.bootstrap, inp, args.corpus, n_agg, args.partitions,
                             workdir)
        log(f"aggregation cost: {n_in} posts retained on {inp}")
    bpid = agg_broker_pid(args, broker)
    exp = oracle(earshot, rules, kept, {"all_posts": False, "ticket_min_priority": 30})
    total = sum(exp.values())
    out = {"rules": label, "posts": n_in, "expected": exp, "pairs": pairs,
           "order": "alternated: off-on, on-off, ...", "runs": []}
    if bpid is None:
        out["note"] = "broker CPU not measured (--bootstrap without --broker-pid)"
    for i in range(pairs):
        for mode in (("off", "on") if i % 2 == 0 else ("on", "off")):
            prefix, topics = agg_topics(mode, i)
            broker.create(topics, args.partitions)
            cfg = os.path.join(workdir, f"agg-{mode}{i}.conf")
            earshot_config(cfg, prefix, inp, prefix)
            with open(cfg, "a") as f:
                f.write(f"topic.stats = {prefix}.stats\n"
                        f"topic.alerts = {prefix}.alerts\n"
                        f"watch.enabled = {'true' if mode == 'on' else 'false'}\n"
                        f"metrics.listen = 127.0.0.1:0\n")
            outs = topics[:3]
            watch.mark(*outs)
            port = []
            seen = {}

            def on_line(line, port=port, seen=seen):
                m = METRICS_PORT.search(line)
                if m and not port:
                    port.append(int(m.group(1)))
                # The broker's CPU counts from the same instant as earshot's.
                if "b0" not in seen and PIPELINE_ASSIGNED.search(line) and bpid:
                    seen["b0"] = cpu_s(bpid)

            def poll(outs=outs, port=port, mode=mode, seen=seen):
                c = watch.count(*outs)
                if c >= total:
                    seen.setdefault("pipeline_done", time.perf_counter())
                    if bpid and "b1" not in seen and mode == "off":
                        seen["b1"] = cpu_s(bpid)
                if c < total or mode == "off":
                    return c + (exp["enriched"] if c >= total else 0)
                n = watch_events_read(port[0]) if port else 0
                if n >= exp["enriched"] and bpid and "b1" not in seen:
                    seen["b1"] = cpu_s(bpid)
                return total + min(n, exp["enriched"])
            r = drain(f"earshot[{label}, aggregator {mode}, pair {i}]",
                      [earshot, "run", "-c", cfg, "-b", broker.bootstrap, "--rules", rules],
                      poll, total + exp["enriched"], n_in, 300, ready_re=PIPELINE_ASSIGNED,
                      on_line=on_line)
            got = {t.rsplit(".", 1)[1]: n for t, n in watch.counts(outs).items()}
            if r["ok"] and got != exp:
                r["ok"] = False
                r["error"] = f"counts differ: got {got}, expected {exp}"
            r["got"] = got
            r["mode"] = mode
            r["pair"] = i
            if "pipeline_done" in seen and r.get("seconds") and r.get("done_at"):
                span = r["seconds"] - (r["done_at"] - seen["pipeline_done"])
                r["pipeline_posts_per_s"] = round(n_in / span, 1) if span > 0 else None
                if mode == "on":
                    # How long the "on" run waited for the aggregator after
                    # the pipeline's outputs were all acknowledged.
                    r["aggregator_tail_s"] = round(r["done_at"] - seen["pipeline_done"], 3)
            r.pop("done_at", None)
            if r.get("cpu_s") is not None:
                r["cpu_us_per_post"] = round(1e6 * r["cpu_s"] / n_in, 3)
            if "b0" in seen and "b1" in seen:
                r["broker_cpu_s"] = round(seen["b1"] - seen["b0"], 3)
                r["broker_cpu_us_per_post"] = round(1e6 * r["broker_cpu_s"] / n_in, 3)
                if r.get("cpu_s") is not None:
                    r["total_cpu_us_per_post"] = round(r["cpu_us_per_post"] +
                                                      r["broker_cpu_us_per_post"], 3)
            if r.get("aggregator_tail_s") is not None:
                log(f"  the aggregator finished {r['aggregator_tail_s']} s after the pipeline")
            log(f"  CPU {r.get('cpu_us_per_post')} us/post (earshot), "
                f"{r.get('broker_cpu_us_per_post')} us/post (broker)")
            if mode == "off" and r["ok"]:
                ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                alone = agg_alone(earshot, broker, bpid, prefix, exp["enriched"])
                ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                if alone is not None:
                    alone["cpu_s"] = round(ru1.ru_utime + ru1.ru_stime - ru0.ru_utime -
                                           ru0.ru_stime, 3)
                    alone["cpu_us_per_event"] = round(1e6 * alone["cpu_s"] /
                                                      max(1, exp["enriched"]), 2)
                    if r.get("cpu_s"):
                        # The share of this off run's own CPU the aggregator
                        # would have added: the cost measured the other way.
                        alone["share_of_pipeline_cpu_pct"] = round(
                            100 * alone["cpu_s"] / r["cpu_s"], 2)
                        if alone.get("broker_cpu_s") is not None and \
                                r.get("broker_cpu_s") is not None:
                            alone["share_of_pipeline_and_broker_cpu_pct"] = round(
                                100 * (alone["cpu_s"] + alone["broker_cpu_s"]) /
                                (r["cpu_s"] + r["broker_cpu_s"]), 2)
                    log(f"  aggregator alone: {alone}")
                    r["aggregator_alone"] = alone
            out["runs"].append(r)
    good = [r for r in out["runs"] if r["ok"] and not r.get("partial")
            and r.get("cpu_s") is not None]
    for mode in ("off", "on"):
        rows = [r for r in good if r["mode"] == mode]
        if len(rows) < pairs:
            out["error"] = f"{pairs - len(rows)} {mode} run(s) failed or were not timed"
        if not rows:
            continue
        pps = agg_summary(rows, n_in, "posts_per_s")
        cpu = agg_summary(rows, n_in, "cpu_s")
        out[mode] = {"posts_per_s": pps["median"], "posts_per_s_all": pps["all"],
                     "cpu_s": cpu["median"], "cpu_s_all": cpu["all"],
                     "cpu_us_per_post": round(1e6 * cpu["median"] / n_in, 3)}
        for key in ("pipeline_posts_per_s", "broker_cpu_us_per_post", "total_cpu_us_per_post",
                    "seconds"):
            sm = agg_summary(rows, n_in, key)
            if sm:
                out[mode][key] = sm["median"]
                out[mode][key + "_all"] = sm["all"]
    # Per pair: the two runs next to each other in time.
    ratios = {"posts_per_s": [], "pipeline_posts_per_s": [], "cpu_s": [],
              "total_cpu_us_per_post": []}
    for i in range(pairs):
        pr = {r["mode"]: r for r in good if r["pair"] == i}
        if "on" not in pr or "off" not in pr:
            continue
        for key in ratios:
            a, b = pr["on"].get(key), pr["off"].get(key)
            if a and b:
                ratios[key].append(round(a / b, 4))
    out["pair_ratios_on_off"] = {k: sorted(v) for k, v in ratios.items()}
    alone = [r["aggregator_alone"] for r in good if r.get("aggregator_alone", {}).get("ok")]
    if alone:
        out["alone"] = {}
        for key in ("cpu_s", "cpu_us_per_event", "share_of_pipeline_cpu_pct",
                    "share_of_pipeline_and_broker_cpu_pct", "broker_cpu_s", "seconds"):
            sm = agg_summary(alone, n_in, key)
            if sm:
                out["alone"][key] = sm["median"]
                out["alone"][key + "_all"] = sm["all"]
    med = {k: (agg_summary([{"x": x} for x in v], n_in, "x") or {}).get("median")
           for k, v in ratios.items()}
    if med["posts_per_s"]:
        out["cost_pct"] = round(100 * (1 - med["posts_per_s"]), 1)
        out["cost_pct_range"] = [round(100 * (1 - max(ratios["posts_per_s"])), 1),
                                 round(100 * (1 - min(ratios["posts_per_s"])), 1)]
    if med["pipeline_posts_per_s"]:
        out["pipeline_cost_pct"] = round(100 * (1 - med["pipeline_posts_per_s"]), 1)
    if med["cpu_s"]:
        out["cpu_pct"] = round(100 * (med["cpu_s"] - 1), 1)
        out["cpu_pct_range"] = [round(100 * (min(ratios["cpu_s"]) - 1), 1),
                                round(100 * (max(ratios["cpu_s"]) - 1), 1)]
    if med["total_cpu_us_per_post"]:
        out["cpu_with_broker_pct"] = round(100 * (med["total_cpu_us_per_post"] - 1), 1)
    if out.get("off") and out.get("on"):
        out["cpu_us_per_enriched"] = round(
            1e6 * (out["on"]["cpu_s"] - out["off"]["cpu_s"]) / max(1, exp["enriched"]), 2)
    log(f"aggregation cost [{label}], {n_in} posts, {pairs} pairs: off {out.get('off')}, "
        f"on {out.get('on')}: throughput -{out.get('cost_pct')}% "
        f"(pairs {out.get('cost_pct_range')}), earshot CPU +{out.get('cpu_pct')}% "
        f"(pairs {out.get('cpu_pct_range')}), with the broker +{out.get('cpu_with_broker_pct')}%; "
        f"alone {out.get('alone')}")
    res["aggregation"] = out


def streams_jar():
    """Build the Streams peer once (mvn -q package); the classpath or None."""
    d = os.path.join(BENCH, "streams")
    target = os.path.join(d, "target")
    stamp = os.path.join(target, ".built")
    srcs = [os.path.join(r, f) for r, _, fs in os.walk(os.path.join(d, "src")) for f in fs]
    srcs.append(os.path.join(d, "pom.xml"))
    if not os.path.exists(stamp) or os.path.getmtime(stamp) < max(map(os.path.getmtime, srcs)):
        log("building the Kafka Streams peer (mvn -q package)")
        p = subprocess.run(["mvn", "-q", "-B", "package"], cwd=d, capture_output=True, text=True)
        if p.returncode != 0:
            log("mvn failed: " + p.stdout[-500:])
            return None
        open(stamp, "w").close()
    return os.path.join(target, "classes") + ":" + os.path.join(target, "lib", "*")


def latency_stage(args, res, earshot, passthrough, broker, sets, workdir):
    if args.rates:
        rates = [int(x) for x in args.rates.split(",")]
    else:
        rates = [2000] if args.broker == "embedded" else list(LAT_RATES)
    # The mock cluster answers a fetch that finds no data only after
    # fetch.wait.max.ms and does not wake when data arrives, unlike Kafka;
    # earshot's default (10 ms) keeps that short there too.
    extra = [a for x in args.earshot_x for a in ("-X", x)]
    lat_rules = dict(sets).get("10000") or sets[0][1]
    runs = []
    for i in range(max(1, args.latency_repeats)):
        log(f"latency: run {i + 1} of {args.latency_repeats}")
        runs.append(latency(earshot, passthrough if os.access(passthrough, os.X_OK)
                            else None, broker, lat_rules, args.corpus, rates,
                            args.latency_seconds, workdir, args.partitions, extra,
                            passthrough_first=i % 2 == 1, watch_off=args.latency_watch_off))
    res["latency_ms"] = latency_ranges(runs)
    res["latency_ms"]["rules"] = "10000" if dict(sets).get("10000") else sets[0][0]


def latency_ranges(runs):
    """Repeated latency runs as one result: the first run's row (the
    headline figures, as before) plus, per rate and system, each
    percentile's [lowest, highest] over the runs. One run of a few seconds
    is not a figure to quote: the same command gave p99s a factor of two
    apart (issue 14), so the README quotes the range."""
    res = dict(runs[0])
    res["repeats"] = len(runs)
    res["runs"] = [r["by_rate"] for r in runs]
    ranges = []
    for i, row in enumerate(runs[0]["by_rate"]):
        out = {"rate": row["rate"]}
        for who in ("earshot", "earshot_nowatch", "passthrough"):
            rows = [r["by_rate"][i].get(who) or {} for r in runs]
            if not any(rows):
                continue
            span = {}
            for q in ("p50", "p99", "p999", "max", "cpu_pct"):
                vals = [x[q] for x in rows if x.get(q) is not None]
                span[q] = [min(vals), max(vals)] if vals else None
            for q in ("before_p99", "after_p99"):
                vals = [x["split"][q] for x in rows if (x.get("split") or {}).get(q) is not None]
                span[q] = [min(vals), max(vals)] if vals else None
            for q in ("p99", "before_p99"):
                vals = [x["same_posts"][q] for x in rows
                        if (x.get("same_posts") or {}).get(q) is not None]
                if vals:
                    span[f"same_posts_{q}"] = [min(vals), max(vals)]
            # The target is per run (earshot within 10 ms of the passthrough
            # it ran beside), not range against range.
            if who == "earshot":
                gaps = [x["p99"] - (r["by_rate"][i].get("passthrough") or {})["p99"]
                        for x, r in zip(rows, runs)
                        if x.get("p99") is not None
                        and (r["by_rate"][i].get("passthrough") or {}).get("p99") is not None]
                if gaps:
                    span["p99_minus_passthrough"] = [round(min(gaps), 2), round(max(gaps), 2)]
            out[who] = span
        ranges.append(out)
    res["range_by_rate"] = ranges
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--broker", choices=["kafka", "embedded"], required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--rules", required=True, help="LABEL=DIR,...")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-streams", action="store_true")
    ap.add_argument("--partitions", type=int,
                    help="partitions of every topic (default 8)")
    ap.add_argument("--bootstrap", help="use this running broker instead of starting one")
    ap.add_argument("--no-agg", action="store_true",
                    help="skip the aggregation-cost drains (watch.enabled off vs on)")
    ap.add_argument("--agg-only", action="store_true",
                    help="only the preload and the aggregation-cost drains")
    ap.add_argument("--broker-pid", type=int,
                    help="with --bootstrap: the broker's process, whose CPU the "
                    "aggregation-cost drains report")
    ap.add_argument("--agg-pairs", type=int,
                    help=f"off/on pairs of the aggregation-cost drains (default {AGG_PAIRS} on "
                    "Kafka, 2 with --quick, 3 on the embedded broker)")
    ap.add_argument("--agg-posts", type=int,
                    help=f"posts per aggregation-cost drain, preloaded to their own topic "
                    f"(default {AGG_POSTS} on Kafka; the shared input with --quick or on the "
                    "embedded broker)")
    ap.add_argument("--latency-only", action="store_true",
                    help="only the latency stage (no preload, no drains)")
    ap.add_argument("--rates", help="offered posts/s of the latency stage, e.g. 1000,5000,20000 "
                    "(default: those on Kafka, 2000 on the embedded broker)")
    ap.add_argument("--latency-seconds", type=float, default=5,
                    help="timed seconds per rate, after the warm-up")
    ap.add_argument("--latency-repeats", type=int, default=3,
                    help="latency runs (fresh topics and processes each); percentiles are "
                    "reported as the range over them")
    ap.add_argument("--latency-watch-off", action="store_true",
                    help="also time earshot with watch.enabled=false (the in-run aggregator's "
                    "share of the latency)")
    ap.add_argument("--latency-dump", metavar="DIR",
                    help="write every timed post's send time, latency and before-produce "
                    "time (ms) to DIR, one file per system and rate")
    ap.add_argument("-X", dest="earshot_x", action="append", default=[],
                    help="prop=val passed to earshot run as -X in the latency stage")
    args = ap.parse_args()
    args.partitions = args.partitions or 8
    global LAT_DUMP
    LAT_DUMP = args.latency_dump

    earshot = os.path.join(args.build, "earshot")
    passthrough = os.path.join(args.build, "bench", "bench_passthrough")
    if not os.access(passthrough, os.X_OK):
        print(json.dumps({"skipped": f"{passthrough} is not built"}))
        return 0
    have_earshot = os.access(earshot, os.X_OK)
    if not have_earshot and args.broker == "embedded" and not args.bootstrap:
        print(json.dumps({"skipped": f"{earshot} is not built (it runs the embedded broker)"}))
        return 0
    sets = [tuple(x.split("=", 1)) for x in args.rules.split(",") if x]
    workdir = tempfile.mkdtemp(prefix="earshot-e2e-")
    res = {"broker": args.broker, "partitions": args.partitions, "notes": {}, "rss_mb": {},
           "by_rules": []}
    broker = watch = None
    try:
        topics = ["bench.in", "bench.pt.out", "bench.lat.in", "bench.lat0.in"] + [
            f"{p}.{k}" for p in ["bench.lat", "bench.lat0"] + [f"bench.{x}.{label}" for label, _ in sets
                                                 for x in ("es", "st", "py")]
            for k in ("enriched", "tickets", "rejected")] + [
            t for i in range(max(3, args.agg_pairs or 0)) for m in ("off", "on")
            for t in agg_topics(m, i)[1]]
        broker = Broker(args.broker, earshot, args.partitions, workdir, args.bootstrap, topics)
        res["bootstrap"] = broker.bootstrap
        if args.latency_only:
            latency_stage(args, res, earshot, passthrough, broker, sets, workdir)
            print(json.dumps(res))
            return 0
        watch = Watch(broker.bootstrap)
        # Embedded: the mock cluster keeps the newest 5 MB per partition
        # (librdkafka's rdkafka_mock.c): at most 6,000 of these 750-B posts
        # each; what it kept is read back and counted all the same.
        if args.broker == "embedded":
            max_posts = min(6000 * args.partitions, 50000)
        else:
            max_posts = 60000 if args.quick else 200000
            if args.agg_only and not args.quick:
                max_posts = args.agg_posts or AGG_POSTS  # agg_cost's own, not twice
        inp = "bench.in"
        kept, n_in = preload(broker, broker.bootstrap, inp, args.corpus, max_posts,
                             args.partitions, workdir)
        res["posts"] = n_in
        low = watch.low(inp)
        log(f"{n_in} posts retained on {inp}")
        threads = str(os.cpu_count() or 2)
        if args.agg_only:
            label = "10000" if "10000" in dict(sets) else sets[-1][0]
            agg_cost(args, res, earshot, label, dict(sets)[label], kept, broker, watch, inp,
                     n_in, workdir)
            print(json.dumps(res))
            return 0

        # Passthrough: the ceiling (rules do not matter).
        out = "bench.pt.out"
        broker.create([out], args.partitions)
        watch.mark(out)
        r = drain("passthrough", [passthrough, "-b", broker.bootstrap, "-i", inp, "-o", out,
                                  "-n", str(n_in), "-g", "bench.pt"],
                  lambda: watch.count(out), n_in, n_in, 120)
        res["passthrough"] = r
        res["passthrough_posts_per_s"] = r.get("posts_per_s") if r["ok"] else None
        res["rss_mb"]["passthrough"] = r.get("rss_mb")

        cp = None if args.no_streams or args.broker == "embedded" else streams_jar()
        if args.no_streams:
            res["notes"]["streams"] = "skipped (--no-streams)"
        elif args.broker == "embedded":
            # Checked by hand: the 4.x Java clients' AdminClient times out in
            # fetchMetadata against librdkafka 2.0.2's mock cluster (Kafka 4
            # clients need protocol versions the mock does not offer).
            res["notes"]["streams"] = ("not run: Kafka Streams 4.x cannot talk to the "
                                       "embedded mock cluster (AdminClient fetchMetadata "
                                       "times out); see e2e on real Kafka")
        elif not cp:
            res["notes"]["streams"] = "mvn package failed"
        for label, rules in sets:
            row = {"label": label}
            if not have_earshot:
                res["notes"]["earshot"] = f"{earshot} is not built"
            prefix = f"bench.es.{label}"
            topics = [f"{prefix}.enriched", f"{prefix}.tickets", f"{prefix}.rejected"]
            broker.create(topics, args.partitions)
            cfg = os.path.join(workdir, f"earshot-{label}.conf")
            conf = earshot_config(cfg, prefix, inp, f"bench.es.{label}")
            if not have_earshot:
                row["earshot"] = {"ok": False, "error": "not built"}
                row["earshot_posts_per_s"] = None
            else:
                run_earshot(args, res, row, earshot, label, rules, kept, conf, cfg, broker, watch,
                            topics, inp, n_in)

            if cp:
                sp = f"bench.st.{label}"
                st_topics = [f"{sp}.enriched", f"{sp}.tickets", f"{sp}.rejected"]
                broker.create(st_topics, args.partitions)
                watch.mark(*st_topics)
                app = f"bench-streams-{label}-{int(time.time())}"
                # Timed by its committed offsets (commit.interval.ms=100): it
                # classifies like the Python peer, not like earshot, so its
                # output counts are reported, not compared with earshot's.
                r = drain(f"streams[{label}]",
                          ["java", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                           "-cp", cp, "earshot.bench.ClassifyApp",
                           broker.bootstrap, inp, sp, rules, app, threads],
                          lambda: watch.committed(app, inp, low), n_in, n_in,
                          20 if args.quick else 40)
                r["got"] = {t.rsplit(".", 1)[1]: n for t, n in watch.counts(st_topics).items()}
                row["streams"] = r
                row["streams_posts_per_s"] = r.get("posts_per_s") if r["ok"] else None
                res["rss_mb"][f"streams[{label}]"] = r.get("rss_mb")

            pp = f"bench.py.{label}"
            py_topics = [f"{pp}.enriched", f"{pp}.tickets", f"{pp}.rejected"]
            broker.create(py_topics, args.partitions)
            watch.mark(*py_topics)
            p = subprocess.run([PY, os.path.join(BENCH, "e2e_python.py"), "--bootstrap",
                                broker.bootstrap, "--input", inp, "--prefix", pp, "--rules",
                                rules, "--group", f"bench.py.{label}", "--seconds",
                                "5" if args.quick else "10"], capture_output=True, text=True)
            try:
                pr = json.loads(p.stdout)
                got = {t.rsplit(".", 1)[1]: n for t, n in watch.counts(py_topics).items()}
                pr["ok"] = got == pr["produced"]
                pr["note"] = f"measured on the first {pr['consumed']} posts"
            except ValueError:
                pr = {"ok": False, "error": p.stderr.strip()[-300:]}
            row["python"] = pr
            row["python_posts_per_s"] = pr.get("posts_per_s") if pr.get("ok") else None
            res["rss_mb"][f"python[{label}]"] = pr.get("rss_mb")
            res["by_rules"].append(row)

        head = next((r for r in res["by_rules"] if r["label"] == "10000"), None) or \
            (res["by_rules"][-1] if res["by_rules"] else {})
        res["rules_label"] = head.get("label")
        for k in ("earshot", "python", "streams"):
            res[f"{k}_posts_per_s"] = head.get(f"{k}_posts_per_s")
            if (head.get(k) or {}).get("note"):
                res["notes"][k] = head[k]["note"]
            if (head.get(k) or {}).get("error"):
                res["notes"][k] = head[k]["error"]
        if have_earshot and head.get("label") and not args.no_agg:
            agg_cost(args, res, earshot, head["label"], dict(sets)[head["label"]], kept, broker,
                     watch, inp, n_in, workdir)
        if have_earshot and (not args.quick or args.broker == "embedded"):
            latency_stage(args, res, earshot, passthrough, broker, sets, workdir)
    except Exception as e:  # report what ran; bench/run prints the reason
        res["error"] = f"{type(e).__name__}: {e}"
    finally:
        if watch:
            watch.close()
        if broker:
            broker.stop()
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
