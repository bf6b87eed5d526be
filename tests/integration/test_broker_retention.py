#!/usr/bin/env python3
"""`earshot broker` says at start that it deletes acknowledged messages past
5 MiB per partition, and that warning is true (issue 12, item 9).

librdkafka's mock cluster keeps only the newest 5 MiB of a partition and has
no way to refuse a produce request it will not keep, so the honest thing is
to say so: a WARN line at start and in --help. This test checks the line,
then checks the claim: 8 MiB produced to one partition, every request
acknowledged, and the log start has moved past offset 0 (acknowledged
messages gone, never read). Should a later librdkafka keep more, the second
half fails and the warning must be revised.

usage: test_broker_retention.py EARSHOT_BINARY
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from kafka import KafkaConsumer, KafkaProducer, TopicPartition  # noqa: E402

MIB = 1024 * 1024
MSG = 100 * 1024           # one message per produce request (flushed singly)
N = 8 * MIB // MSG         # 81 messages, 8.1 MiB


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_broker_retention")
    wd = rh.workdir("broker-retention")

    helptext = subprocess.run([earshot, "broker", "--help"], capture_output=True,
                              text=True, timeout=10).stdout
    ck.check("--help says unread messages are deleted past 5 MiB",
             "newest 5 MiB" in helptext and "deleted even when" in helptext, helptext)

    broker = rh.MockBroker(earshot, partitions=1, brokers=1, workdir=wd)
    try:
        deadline = time.monotonic() + 10
        text = ""
        while time.monotonic() < deadline and "WARN" not in text:
            time.sleep(0.1)
            with open(broker.log_path, errors="replace") as f:
                text = f.read()
        warn = [ln for ln in text.splitlines() if "WARN" in ln]
        ck.check("one WARN at start names the limit and the loss",
                 len(warn) == 1 and "newest 5 MiB" in warn[0]
                 and "deleted even if no consumer has read them" in warn[0]
                 and "use a real Kafka cluster" in warn[0], text)

        prod = KafkaProducer(bootstrap_servers=broker.bootstrap, acks="all",
                             max_request_size=2 * MSG, linger_ms=0)
        acked = 0
        for i in range(N):
            md = prod.send("posts", value=(b"%08d" % i) + b"x" * (MSG - 8),
                           partition=0).get(timeout=30)
            acked += md.offset == i
        prod.close()
        ck.eq("produce requests acknowledged at their offsets", N, acked)

        tp = TopicPartition("posts", 0)
        c = KafkaConsumer(bootstrap_servers=broker.bootstrap)
        start = c.beginning_offsets([tp])[tp]
        end = c.end_offsets([tp])[tp]
        c.close()
        rh.log("log now [%d, %d) after %d x %d bytes" % (start, end, N, MSG))
        ck.eq("log end", N, end)
        # What the warning claims: the oldest acknowledged messages are gone,
        # and what is left fits the stated limit.
        ck.check("acknowledged messages deleted unread (log start %d > 0)" % start,
                 start > 0, "")
        ck.check("what is kept is at most 5 MiB (%d messages of %d bytes)"
                 % (end - start, MSG), (end - start) * MSG <= 5 * MIB, "")
    finally:
        broker.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
