#!/usr/bin/env python3
"""Markdown results table for the README, generated from bench/run's JSON.

  bench/table.py results.json > table.md

Reads only the stable field names of issue 4 (engine.*, e2e.*,
e2e_embedded.*, rules[], rss_mb, latency_ms, targets[], machine).
"""
import json
import sys


def fmt(v, unit=""):
    if v is None:
        return "n/m"
    if isinstance(v, float) and v < 10:
        return f"{v:.2f}{unit}"
    return f"{v:,.0f}{unit}"


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(sys.argv[1]) as f:
        r = json.load(f)
    m, e = r.get("machine", {}), r.get("engine", {})
    out = []
    out.append(f"Measured {m.get('date', '?')} on {m.get('cpu', '?')}, {m.get('cores', '?')} "
               f"cores, Linux {m.get('kernel', '?')} (git {m.get('git', '?')}, "
               f"{'quick' if r.get('quick') else 'full'} run, load average at start "
               f"{fmt(m.get('load_avg_1m_at_start'))}).")
    c = e.get("corpus") or {}
    out.append(f"Corpus: {c.get('posts')} generated Twitter v2 posts, {c.get('avg_bytes')} B "
               f"on average, {c.get('with_brand')} mention a brand.\n")
    out.append(f"**Engine**, {e.get('rules_count')} rules, posts/s:\n")
    out.append("| earshot 1 thread | earshot " + str(e.get("nthreads")) + " threads "
               "| raw floor (parse + hs_scan) | PCRE2-JIT loop | Python json + re |")
    out.append("| ---: | ---: | ---: | ---: | ---: |")
    out.append(f"| {fmt(e.get('posts_per_s_1thread'))} | {fmt(e.get('posts_per_s_nthreads'))} "
               f"| {fmt(e.get('raw_floor_posts_per_s'))} | {fmt(e.get('pcre2_posts_per_s'))} "
               f"| {fmt(e.get('python_posts_per_s'))} |\n")
    out.append("**Rules scale**:\n")
    out.append("| rules | compile s | cached load s | database | posts/s (1 thread) |")
    out.append("| ---: | ---: | ---: | ---: | ---: |")
    for row in r.get("rules", []):
        db = row.get("db_bytes")
        label = fmt(row.get("count"))
        if row.get("label") == "default":
            label = f"{label} (default rules)"
        out.append(f"| {label} | {fmt(row.get('compile_s'))} "
                   f"| {fmt(row.get('cached_load_s'))} "
                   f"| {fmt(db / 1e6 if db else None, ' MB')} | {fmt(row.get('posts_per_s'))} |")
    out.append("")
    out.append("**End to end** (input drained until every output is acknowledged), posts/s:\n")
    out.append("| broker | earshot | passthrough | Python (confluent-kafka) | Kafka Streams |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for key, name in (("e2e", "Apache Kafka (1 node, loopback)"),
                      ("e2e_embedded", "embedded (mock cluster)")):
        k = r.get(key) or {}
        out.append(f"| {name} | {fmt(k.get('earshot_posts_per_s'))} "
                   f"| {fmt(k.get('passthrough_posts_per_s'))} | {fmt(k.get('python_posts_per_s'))} "
                   f"| {fmt(k.get('streams_posts_per_s'))} |")
    lat = r.get("latency_ms") or {}
    out.append(f"\nLatency at {fmt(lat.get('offered_posts_per_s'))} posts/s offered: "
               f"p50 {fmt(lat.get('p50'))} ms, p99 {fmt(lat.get('p99'))} ms. "
               "Peak RSS (MB): " + ", ".join(f"{k} {fmt(v)}" for k, v in
                                              (r.get("rss_mb") or {}).items()) + ".\n")
    out.append("**Targets** (ratios from this run):\n")
    out.append("| target | measured | wanted | |")
    out.append("| --- | ---: | ---: | --- |")
    for t in r.get("targets", []):
        mark = {True: "met", False: "**missed**", None: "not measured"}[t.get("met")]
        out.append(f"| {t['name']} | {fmt(t.get('ratio'))} | {fmt(t.get('target'))} | {mark} |")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
