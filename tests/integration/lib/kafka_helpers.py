"""Helpers for earshot's integration tests that talk to a real Kafka broker
(scripts/kafka) or to earshot's embedded mock cluster.

Owns: topic creation that waits until every partition has a leader, producing
the lines of a file as messages, counting what a topic holds or what a consumer
reads, and end offsets. Built on kafka-python (Debian's python3-kafka 2.0.2),
which is a different client from the librdkafka inside earshot: a test that
produces with one and consumes with the other checks the wire, not one
library against itself.

Use as a module (``sys.path.insert(0, <this dir>)``, ``import kafka_helpers``)
or from shell:
    python3 kafka_helpers.py create-topic  --bootstrap B --topic T [--partitions N] [--replication R]
    python3 kafka_helpers.py produce       --bootstrap B --topic T --file F [--count N] [--key-field K]
    python3 kafka_helpers.py consume-count --bootstrap B --topic T --expect N [--timeout S] [--group G] [--out FILE]
    python3 kafka_helpers.py end-offsets   --bootstrap B --topic T
Every command prints one number or nothing on stdout; errors go to stderr
with exit status 1.

Not thread-safe across calls sharing a client; each function opens and closes
its own clients, which costs a metadata round trip (milliseconds) per call.
"""

import argparse
import json
import sys
import time


def _import_kafka():
    # The python3 on PATH may not be Debian's (pyenv, venv): kafka-python is
    # pure Python, so Debian's copy serves any Python 3 of a close version.
    try:
        import kafka  # noqa: F401
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import kafka  # noqa: F401
        except ImportError:
            raise ImportError(
                "kafka-python is not installed: install Debian's python3-kafka "
                "(scripts/install-deps) or `pip install kafka-python`"
            )
    return kafka


kafka = _import_kafka()
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402
from kafka.admin import NewTopic  # noqa: E402
from kafka.errors import TopicAlreadyExistsError  # noqa: E402


class KafkaHelperError(Exception):
    pass


def create_topic(bootstrap, topic, partitions=1, replication=1, configs=None,
                 timeout=30.0, exist_ok=False):
    """Create `topic` and wait until each partition has a leader and a full
    ISR, so that a produce with acks=all right after this call succeeds."""
    deadline = time.monotonic() + timeout
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="earshot-test-admin",
                             request_timeout_ms=int(timeout * 1000))
    try:
        try:
            resp = admin.create_topics(
                [NewTopic(topic, partitions, replication, topic_configs=configs or {})],
                timeout_ms=int(timeout * 1000))
            for te in getattr(resp, "topic_errors", []):
                name, code = te[0], te[1]
                msg = te[2] if len(te) > 2 else None
                if code != 0:
                    err = kafka.errors.for_code(code)
                    if err is TopicAlreadyExistsError and exist_ok:
                        continue
                    raise KafkaHelperError(
                        "creating topic %s failed: %s %s" % (name, err.__name__, msg or ""))
        except TopicAlreadyExistsError:
            if not exist_ok:
                raise
        last = None
        while time.monotonic() < deadline:
            meta = admin.describe_topics([topic])
            if meta and meta[0]["error_code"] == 0:
                parts = meta[0]["partitions"]
                ok = len(parts) == partitions and all(
                    p["error_code"] == 0 and p["leader"] >= 0
                    and len(p["isr"]) == len(p["replicas"]) == replication
                    for p in parts)
                if ok:
                    return
                last = parts
            else:
                last = meta
            time.sleep(0.1)
        raise KafkaHelperError("topic %s not ready after %.0f s: %r" % (topic, timeout, last))
    finally:
        admin.close()


def produce_lines(bootstrap, topic, lines, key_field=None, acks="all", timeout=60.0):
    """Produce each item of `lines` (bytes or str) as one message and wait for
    every acknowledgement. With key_field, each line is parsed as JSON and the
    string value of that field is the key. Returns how many were acknowledged;
    raises on the first failed send."""
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks=acks, linger_ms=5,
                             batch_size=256 * 1024, max_request_size=4 * 1024 * 1024,
                             retries=5, client_id="earshot-test-producer")
    futures = []
    try:
        for line in lines:
            if isinstance(line, str):
                line = line.encode("utf-8")
            key = None
            if key_field is not None:
                key = str(json.loads(line)[key_field]).encode("utf-8")
            futures.append(producer.send(topic, value=line, key=key))
        producer.flush(timeout=timeout)
        for f in futures:
            f.get(timeout=timeout)  # raises the send's error, if any
        return len(futures)
    finally:
        producer.close(timeout=5)


def produce_file(bootstrap, topic, path, key_field=None, acks="all", timeout=60.0,
                 count=None):
    """Produce the non-empty lines of the file at `path` (newline stripped):
    each once, or with `count`, exactly that many, going round the file again
    if it is shorter. kafka-python sent ~8k 750-B messages/s here (reads ~40k/s); for larger
    loads produce with kcat (kafka.sh: kafka_produce_kcat)."""
    with open(path, "rb") as f:
        lines = [ln.rstrip(b"\r\n") for ln in f]
    lines = [ln for ln in lines if ln]
    if count is not None:
        if not lines:
            raise KafkaHelperError("%s has no lines to produce" % path)
        lines = [lines[i % len(lines)] for i in range(count)]
    return produce_lines(bootstrap, topic, lines, key_field, acks, timeout)


def _partitions(consumer, topic, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        parts = consumer.partitions_for_topic(topic)
        if parts:
            return [TopicPartition(topic, p) for p in sorted(parts)]
        time.sleep(0.1)
    raise KafkaHelperError("topic %s does not exist (no metadata after %.0f s)" % (topic, timeout))


def end_offsets(bootstrap, topic, timeout=30.0):
    """Sum over partitions of the high watermark: how many messages the topic
    holds if nothing was deleted and no transaction markers were written."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             client_id="earshot-test-offsets")
    try:
        tps = _partitions(consumer, topic, timeout)
        return sum(consumer.end_offsets(tps).values())
    finally:
        consumer.close()


def consume(bootstrap, topic, expect, timeout=60.0, group=None, settle=0.0):
    """Read `topic` from the beginning until `expect` messages arrived or
    `timeout` seconds passed; returns the list of message values (bytes).
    Without a group the partitions are assigned directly (no rebalance
    wait); with one, the group's committed offsets are used and committed.
    With settle > 0, keep reading that long after reaching `expect`, so a
    test can see duplicates or extras."""
    common = dict(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                  enable_auto_commit=False, client_id="earshot-test-consumer",
                  max_partition_fetch_bytes=4 * 1024 * 1024)
    if group is None:
        consumer = KafkaConsumer(**common)
        consumer.assign(_partitions(consumer, topic, timeout))
        consumer.seek_to_beginning()
    else:
        consumer = KafkaConsumer(topic, group_id=group, **common)
    values = []
    try:
        deadline = time.monotonic() + timeout
        settle_end = None
        while True:
            now = time.monotonic()
            if settle_end is None and len(values) >= expect:
                settle_end = now + settle
            if settle_end is not None and now >= settle_end:
                break
            if now >= deadline:
                break
            batch = consumer.poll(timeout_ms=200, max_records=10000)
            for records in batch.values():
                values.extend(r.value for r in records)
        if group is not None:
            consumer.commit()
        return values
    finally:
        consumer.close()


def consume_count(bootstrap, topic, expect, timeout=60.0, group=None, settle=0.0):
    """How many messages `consume` read (see there)."""
    return len(consume(bootstrap, topic, expect, timeout, group, settle))


def _main(argv):
    ap = argparse.ArgumentParser(prog="kafka_helpers.py")
    sub = ap.add_subparsers(dest="cmd", required=True)

    def common(p):
        p.add_argument("--bootstrap", required=True)
        p.add_argument("--topic", required=True)
        p.add_argument("--timeout", type=float, default=60.0)

    p = sub.add_parser("create-topic")
    common(p)
    p.add_argument("--partitions", type=int, default=1)
    p.add_argument("--replication", type=int, default=1)
    p.add_argument("--config", action="append", default=[], help="key=value, repeatable")
    p.add_argument("--exist-ok", action="store_true")
    p = sub.add_parser("produce")
    common(p)
    p.add_argument("--file", required=True)
    p.add_argument("--key-field")
    p.add_argument("--acks", default="all")
    p.add_argument("--count", type=int, help="exactly this many messages, cycling the file")
    p = sub.add_parser("consume-count")
    common(p)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--group")
    p.add_argument("--settle", type=float, default=0.0)
    p.add_argument("--out", help="write the values, one per line, to this file")
    p = sub.add_parser("end-offsets")
    common(p)
    a = ap.parse_args(argv)

    acks = None
    if a.cmd == "produce":
        acks = a.acks if a.acks == "all" else int(a.acks)
    try:
        if a.cmd == "create-topic":
            configs = dict(kv.split("=", 1) for kv in a.config)
            create_topic(a.bootstrap, a.topic, a.partitions, a.replication, configs,
                         a.timeout, a.exist_ok)
        elif a.cmd == "produce":
            print(produce_file(a.bootstrap, a.topic, a.file, a.key_field, acks, a.timeout,
                               a.count))
        elif a.cmd == "consume-count":
            values = consume(a.bootstrap, a.topic, a.expect, a.timeout, a.group, a.settle)
            if a.out:
                with open(a.out, "wb") as f:
                    for v in values:
                        f.write(v + b"\n")
            print(len(values))
        elif a.cmd == "end-offsets":
            print(end_offsets(a.bootstrap, a.topic, a.timeout))
    except Exception as e:  # one line a person can read, not a traceback
        print("kafka_helpers %s: %s: %s" % (a.cmd, type(e).__name__, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
