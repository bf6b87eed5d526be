#!/usr/bin/env python3
"""Markdown results for the README, generated from bench/run's JSON.

  bench/table.py results.json                 print the markdown
  bench/table.py results.json --readme README.md [--notes NOTES.md]
      replace what lies between <!-- bench:begin --> and <!-- bench:end -->
      in README.md with it (nothing else in the file changes)

Reads only the stable field names of issue 4 (engine.*, e2e.*,
e2e_embedded.*, rules[], rss_mb, latency_ms, targets[], machine) plus the
per-rule-set rows bench/run writes beside them. --notes appends a
hand-written file (why a target is missed) under the tables: a number comes
from the JSON, never from the notes.
"""
import argparse
import json
import re
import sys

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"


def fmt(v, unit=""):
    if v is None:
        return "n/m"
    if isinstance(v, float) and v < 10:
        return f"{v:.2f}{unit}"
    return f"{v:,.0f}{unit}"


def span(v):
    """A [lowest, highest] range over repeated runs (or one value) as text."""
    if isinstance(v, list):
        return fmt(v[0]) if v[0] == v[1] else f"{fmt(v[0])}-{fmt(v[1])}"
    return fmt(v)


def secs(v):
    return "n/m" if v is None else f"{v:.3f}" if v < 1 else f"{v:.2f}"


def ratio(a, b):
    return f"{a / b:,.1f}x" if a and b else "n/m"


def label_of(row):
    if row.get("label") == "default":
        return f"{fmt(row.get('count'))} (default rules)"
    return fmt(row.get("count"))


def render(r, json_path):
    m, e = r.get("machine", {}), r.get("engine", {})
    out = []
    out.append(f"Measured {m.get('date', '?')} on **{m.get('cpu', '?')}, {m.get('cores', '?')} "
               f"cores**, Linux {m.get('kernel', '?')}, git {m.get('git', '?')}, "
               f"{'quick' if r.get('quick') else 'full'} run of {fmt(r.get('wall_s'))} s; "
               f"load average {fmt(m.get('load_avg_1m_at_start'))} at the start (the machine "
               f"is shared: other work ran beside it). Command:\n")
    out.append("```sh\nbench/run --json bench/results/latest.json --plot bench/results/latest.png"
               "\nbench/table.py bench/results/latest.json --readme README.md "
               "--notes bench/results/notes.md\n```\n")
    out.append(f"Raw numbers: [`{json_path}`]({json_path}); chart: "
               "[`bench/results/latest.png`](bench/results/latest.png).\n")
    c = e.get("corpus") or {}
    out.append(f"Corpus: {fmt(c.get('posts'))} generated Twitter v2 posts (fixed seed), "
               f"{c.get('avg_bytes')} B on average, {fmt(c.get('with_brand'))} mention a brand, "
               f"{fmt(c.get('complaints'))} complaints.\n")

    out.append(f"**Engine** (parse, normalise, match, enrich, serialise; in memory), "
               f"{fmt(e.get('rules_count'))} rules, posts/s:\n")
    out.append("| earshot 1 thread | earshot " + str(e.get("nthreads")) + " threads "
               "| raw floor (parse + hs_scan) | PCRE2-JIT loop | Python json + re |")
    out.append("| ---: | ---: | ---: | ---: | ---: |")
    out.append(f"| {fmt(e.get('posts_per_s_1thread'))} | {fmt(e.get('posts_per_s_nthreads'))} "
               f"| {fmt(e.get('raw_floor_posts_per_s'))} | {fmt(e.get('pcre2_posts_per_s'))} "
               f"| {fmt(e.get('python_posts_per_s'))} |\n")

    out.append("**Rules scale** (1 thread, posts/s; cached load: a restart's whole ruleset "
               "load from the compiled-rule cache):\n")
    out.append("| rules | compile s | cached load s | database | earshot | raw floor "
               "| PCRE2-JIT | Python | peak RSS |")
    out.append("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in r.get("rules", []):
        db = row.get("db_bytes")
        out.append(f"| {label_of(row)} | {secs(row.get('compile_s'))} "
                   f"| {secs(row.get('cached_load_s'))} "
                   f"| {fmt(db / 1e6 if db else None, ' MB')} | {fmt(row.get('posts_per_s'))} "
                   f"| {fmt(row.get('raw_floor_posts_per_s'))} "
                   f"| {fmt(row.get('pcre2_posts_per_s'))} | {fmt(row.get('python_posts_per_s'))} "
                   f"| {fmt(row.get('rss_mb'), ' MB')} |")
    out.append("")

    mr = (r.get("model") or {}).get("rows") or []
    if mr:
        out.append("**Trained model** (issue 9): `earshot train` on the corpus (labelled by the "
                   "default rules), padded to N n-grams by `bench/gen_model.py`, served beside "
                   "the 10,000 rules, 1 thread; scikit-learn's predict of the same kind of model "
                   "(TF-IDF 1-2 grams + logistic regression) on the same posts, posts/s:\n")
        out.append("| n-grams | earshot | scikit-learn, one post a call | earshot / it "
                   "| scikit-learn, batches of 1000 |")
        out.append("| ---: | ---: | ---: | ---: | ---: |")
        for row in mr:
            me, sk = row.get("engine") or {}, row.get("sklearn") or {}
            out.append(f"| {fmt(row.get('ngrams'))} | {fmt(me.get('posts_per_s_1thread'))} "
                       f"| {fmt(sk.get('posts_per_s'))} "
                       f"| {ratio(me.get('posts_per_s_1thread'), sk.get('posts_per_s'))} "
                       f"| {fmt(sk.get('batch_posts_per_s'))} |")
        out.append("")

    out.append("**End to end** (preloaded input topic drained until every output is "
               "acknowledged; output counts checked), posts/s:\n")
    for key, name in (("e2e", "Apache Kafka 4.1.1, 1 node on loopback"),
                      ("e2e_embedded", "embedded broker (librdkafka mock cluster)")):
        k = r.get(key) or {}
        if not isinstance(k.get("by_rules"), list):
            out.append(f"*{name}*: {k.get('skipped') or k.get('error') or 'not run'}\n")
            continue
        out.append(f"*{name}*, {fmt(k.get('posts'))} posts, {k.get('partitions')} partitions; "
                   f"passthrough (consume + produce the same bytes, earshot's librdkafka "
                   f"settings): **{fmt(k.get('passthrough_posts_per_s'))}**\n")
        out.append("| rules | earshot | Python (confluent-kafka) | Kafka Streams "
                   "| earshot / Streams |")
        out.append("| ---: | ---: | ---: | ---: | ---: |")
        for row in k["by_rules"]:
            py = row.get("python") or {}
            st = row.get("streams") or {}
            py_s = fmt(row.get("python_posts_per_s"))
            if py.get("consumed") and row.get("python_posts_per_s"):
                py_s += f" (first {fmt(py['consumed'])})"
            st_s = fmt(row.get("streams_posts_per_s"))
            if st.get("partial") and row.get("streams_posts_per_s"):
                st_s += f" (first {fmt(st.get('progress'))})"
            out.append(f"| {row.get('label')} | {fmt(row.get('earshot_posts_per_s'))} | {py_s} "
                       f"| {st_s} | {ratio(row.get('earshot_posts_per_s'), row.get('streams_posts_per_s'))} |")
        if (k.get("notes") or {}).get("streams") and not any(
                row.get("streams_posts_per_s") for row in k["by_rules"]):
            out.append(f"\nKafka Streams: {k['notes']['streams']}.")
        ag = k.get("aggregation") or {}
        if ag.get("off") and ag.get("on"):
            pairs = ag.get("pairs") or ag.get("repeats")
            out.append(f"\nAggregation cost ({ag.get('rules')} rules; the same drain with "
                       f"watch.enabled false / true, median of {pairs} pairs, done when "
                       f"the aggregator has read every enriched event): "
                       f"{fmt(ag['off']['posts_per_s'])} / {fmt(ag['on']['posts_per_s'])} "
                       f"posts/s (**-{ag.get('cost_pct')}%**), CPU {ag['off']['cpu_s']} / "
                       f"{ag['on']['cpu_s']} s (**+{ag.get('cpu_pct')}%**, "
                       f"{ag.get('cpu_us_per_enriched')} us per enriched event).")
        elif ag:
            out.append(f"\nAggregation cost: {ag.get('error') or 'not measured'}.")
        out.append("")

    lat = r.get("latency_ms") or {}
    out.append(f"**Latency**, post produced to event received, {fmt(lat.get('offered_posts_per_s'))}"
               f" posts/s offered for {lat.get('seconds')} s after {lat.get('warm_up_s')} s of "
               f"warm-up, {lat.get('rules')} rules, {fmt(lat.get('samples'))} events: "
               f"p50 **{fmt(lat.get('p50'))} ms**, p99 **{fmt(lat.get('p99'))} ms**"
               f" (max {fmt(lat.get('max'))} ms), on {lat.get('broker') or '?'}"
               + (f" with `{' '.join(lat['extra_args'])}`" if lat.get("extra_args") else "")
               + ".")
    rows = lat.get("range_by_rate")
    if rows:
        out.append("")
        out.append(f"By offered rate, each figure the range over {lat.get('repeats')} runs "
                   "(fresh topics and processes each); before/after: the p99 from offered to "
                   "the system's own produce() and from there to the reader, split at the "
                   "output's CreateTime:\n")
        out.append("| posts/s | system | p50 ms | p99 ms | p99.9 ms | max ms | p99 before / after "
                   "produce ms | CPU % |")
        out.append("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        names = {"earshot_nowatch": "earshot, watch.enabled=false"}
        for row in rows:
            for who in ("earshot", "earshot_nowatch", "passthrough"):
                x = row.get(who)
                if x:
                    out.append(f"| {fmt(row['rate'])} | {names.get(who, who)} | {span(x.get('p50'))} "
                               f"| {span(x.get('p99'))} | {span(x.get('p999'))} "
                               f"| {span(x.get('max'))} | {span(x.get('before_p99'))} / "
                               f"{span(x.get('after_p99'))} | {span(x.get('cpu_pct'))} |")
        # earshot times only the posts it routes; the passthrough over those
        # same posts, and earshot's p99 minus the passthrough's run by run.
        fair = [(row["rate"], row["passthrough"].get("same_posts_p99"),
                 (row.get("earshot") or {}).get("p99_minus_passthrough"))
                for row in rows if row.get("passthrough")]
        if any(f[1] or f[2] for f in fair):
            out.append("")
            out.append("Passthrough p99 over only the posts earshot timed (its routed ones), "
                       "and earshot's p99 minus the passthrough's in the same run: "
                       + "; ".join(f"{fmt(r)}/s {span(sp)} ms, "
                                   + (f"{g[0]:+.1f} to {g[1]:+.1f} ms" if g else "n/m")
                                   for r, sp, g in fair) + ".")
    l0 = r.get("latency_ms_linger0")
    if l0:
        out.append(f"The same with `-X producer.linger.ms=0`: p50 {fmt(l0.get('p50'))} ms, "
                   f"p99 {fmt(l0.get('p99'))} ms ({fmt(l0.get('samples'))} events).")
    out.append("")
    out.append("**Peak RSS** (MB): " + ", ".join(
        f"{k} {fmt(v)}" for k, v in (r.get("rss_mb") or {}).items() if v is not None) + ".\n")

    out.append("**Targets** (issues 4, 8, 9), as measured in this run:\n")
    out.append("| target | measured | wanted | | note |")
    out.append("| --- | ---: | ---: | --- | --- |")
    for t in r.get("targets", []):
        mark = {True: "met", False: "**missed**", None: "not measured"}[t.get("met")]
        out.append(f"| {t['name']} | {fmt(t.get('ratio'))} | {fmt(t.get('target'))} | {mark} "
                   f"| {t.get('note') or ''} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="README results from bench/run's JSON")
    ap.add_argument("json")
    ap.add_argument("--readme", help="splice between the bench markers of this file")
    ap.add_argument("--notes", help="markdown appended under the tables")
    args = ap.parse_args()
    with open(args.json) as f:
        r = json.load(f)
    md = render(r, args.json)
    if args.notes:
        with open(args.notes) as f:
            md += "\n\n" + f.read().strip()
    if not args.readme:
        print(md)
        return 0
    with open(args.readme) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        print(f"{args.readme}: no {BEGIN} ... {END} markers", file=sys.stderr)
        return 1
    new = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END),
                 lambda _: f"{BEGIN}\n{md}\n{END}", text, count=1, flags=re.S)
    with open(args.readme, "w") as f:
        f.write(new)
    return 0


if __name__ == "__main__":
    sys.exit(main())
