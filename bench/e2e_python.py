#!/usr/bin/env python3
"""The end-to-end Python peer: confluent-kafka + json + re.

Consumes INPUT in a consumer group, classifies each post with the same code
as bench/python_peer.py (classify()), produces the event to PREFIX.enriched
when it mentions a brand (and to PREFIX.tickets when it is also a complaint
or a question), or the original bytes to PREFIX.rejected; commits after the
outputs are flushed. What a data team would deploy.

  e2e_python.py --bootstrap B --input T --prefix P --rules DIR --group G
                [--seconds S] [--max N]

Stops after S seconds of processing or N posts, flushes, commits, and prints
one JSON object: consumed, produced per route, seconds, posts_per_s.
confluent-kafka is Debian's python3-confluent-kafka (run with /usr/bin/python3).
"""
import argparse
import json
import os
import resource
import sys
import time

from confluent_kafka import Consumer, Producer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from python_peer import Rules, classify  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--rules", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--max", type=int, default=0)
    args = ap.parse_args()

    rules = Rules(args.rules)
    c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False})
    p = Producer({"bootstrap.servers": args.bootstrap, "enable.idempotence": True,
                  "linger.ms": 5})
    c.subscribe([args.input])
    produced = {"enriched": 0, "tickets": 0, "rejected": 0}
    consumed = 0
    t0 = None
    idle = time.time()
    while True:
        # Batches of ~0.25 s of work (at most 500): with 100k rules one post
        # takes ~0.1 s, and a batch must end near --seconds.
        batch = 20
        if t0 is not None and consumed:
            rate = consumed / max(time.perf_counter() - t0, 1e-3)
            batch = max(1, min(500, int(rate / 4)))
        msgs = c.consume(batch, 0.1)
        if not msgs:
            if time.time() - idle > 20:
                break
            continue
        idle = time.time()
        for m in msgs:
            if m.error():
                continue
            if t0 is None:
                t0 = time.perf_counter()
            consumed += 1
            res = classify(rules, m.value())
            if res is None:
                p.produce(f"{args.prefix}.rejected", m.value())
                produced["rejected"] += 1
            else:
                brands, fired = res
                if brands:
                    ev = json.dumps({"brands": brands, "rules": [r[0] for r in fired]})
                    p.produce(f"{args.prefix}.enriched", ev)
                    produced["enriched"] += 1
                    if any(r[1] in ("complaint", "question") for r in fired):
                        p.produce(f"{args.prefix}.tickets", ev)
                        produced["tickets"] += 1
            p.poll(0)
            if args.max and consumed >= args.max:
                break
        # at-least-once: outputs acknowledged before the offsets are committed
        p.flush(30)
        c.commit(asynchronous=False)
        if (args.max and consumed >= args.max) or \
                (t0 is not None and time.perf_counter() - t0 >= args.seconds):
            break
    dt = time.perf_counter() - t0 if t0 else 0.0
    c.close()
    print(json.dumps({"consumed": consumed, "produced": produced, "seconds": round(dt, 3),
                      "posts_per_s": round(consumed / dt, 1) if dt else 0,
                      "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                                      1)}))


if __name__ == "__main__":
    main()
