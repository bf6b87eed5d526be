#!/usr/bin/env python3
"""Operations surface of `earshot run` on the embedded broker, scraped from
/metrics and parsed with prometheus_client's text parser (exact names,
types and labels):

  - metrics.rules = top:5: exactly 5 earshot_rule_matches series, the 5
    rules with the most matches (ties by id) with exactly the counts
    `earshot classify` gives on the same input; = off: none; = all (the
    default): one per rule of the rule set (check-rules' count).
  - per-brand series: mentions, complaints, praise, questions, tickets, one
    sample per brand of the rules in each; mentions and complaints exact.
  - earshot_build_info{version,hyperscan,librdkafka} 1, version = --version.
  - process_* (Prometheus client conventions) with sane values: this
    process's start time, its own fds, CPU and memory.
  - log.format = json: every stderr line one JSON object with exactly time,
    level, pid (the process's) and msg (plus suppressed after a quiet spell).
  - a bad metrics.rules is refused before start, naming the key.

usage: test_run_metrics_ops.py EARSHOT_BINARY
"""
import collections
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

PROCESS = {"process_cpu_seconds": "counter", "process_resident_memory_bytes": "gauge",
           "process_virtual_memory_bytes": "gauge", "process_open_fds": "gauge",
           "process_max_fds": "gauge", "process_start_time_seconds": "gauge"}
BRAND_FAMILIES = ["earshot_brand_mentions", "earshot_brand_complaints", "earshot_brand_praise",
                  "earshot_brand_questions", "earshot_brand_tickets"]


def start(earshot, bootstrap, wd, name, extra):
    r = rh.Earshot(earshot, bootstrap, "it-ops-" + name, wd, name=name,
                   args=list(rh.MOCK_GROUP_ARGS) + ["--http", "127.0.0.1:0"] + extra)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        m = re.search(r"\(port (\d+)\)", r.text())
        if m:
            r.port = int(m.group(1))
            return r
        if not r.alive():
            break
        time.sleep(0.05)
    raise RuntimeError("%s: no metrics port: %s" % (name, r.tail()))


def scrape(r):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % r.port, timeout=10) as resp:
        text = resp.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def values(fam, label):
    return {s.labels[label]: s.value for s in fam.samples if not s.name.endswith("_created")}


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_run_metrics_ops")
    wd = rh.workdir("metrics-ops")
    version = subprocess.run([earshot, "--version"], capture_output=True, text=True,
                             timeout=30).stdout.split()[-1]
    cr = subprocess.run([earshot, "check-rules", rh.RULES], capture_output=True, text=True,
                        timeout=120).stdout
    n_rules = int(re.search(r"rules:\s+(\d+)", cr).group(1))
    n_brands = int(re.search(r"brands:\s+(\d+)", cr).group(1))

    bad = subprocess.run([earshot, "run", "-b", "x:1", "--set", "metrics.rules=top:x",
                          "--check"], capture_output=True, text=True, timeout=30)
    ck.eq("bad metrics.rules: exit status", 2, bad.returncode)
    ck.eq("bad metrics.rules: error", "earshot run: --set: 'metrics.rules' must be all, off or "
          "top:N with N 1..1000000, got 'top:x'\n", bad.stderr)

    lines = rh.generate(earshot, 800, seed=41, malformed_rate=0.03, mention_rate=0.5)
    exp = rh.Expected(earshot, lines)
    rule_counts = collections.Counter(r["id"] for ev in exp.events.values()
                                      for r in ev["matched_rules"])
    mentions = collections.Counter(b["id"] for ev in exp.events.values() for b in ev["brands"])
    complaints = collections.Counter(b["id"] for ev in exp.events.values() for b in ev["brands"]
                                     if ev["polarity"] == "complaint")
    def per_brand(pred):
        return collections.Counter(b["id"] for ev in exp.events.values() for b in ev["brands"]
                                   if pred(ev))
    praise = per_brand(lambda ev: ev["polarity"] == "praise")
    questions = per_brand(lambda ev: ev["polarity"] == "question")
    tickets = per_brand(lambda ev: ev["id"] in exp.ticket_ids)
    top5 = sorted(rule_counts.items(), key=lambda x: (-x[1], x[0]))[:5]
    rh.log("top 5 rules: %r" % top5)

    broker = rh.MockBroker(earshot, partitions=2, brokers=1, workdir=wd)
    runs = []
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        prod.positions()
        prod.close()
        t0 = time.time()
        a = start(earshot, broker.bootstrap, wd, "top5",
                  ["--set", "metrics.rules=top:5", "--set", "log.format=json"])
        runs.append(a)
        rh.wait_for_outputs(broker.bootstrap, dict(zip(rh.OUT_TOPICS, exp.counts())),
                            timeout=120, proc_alive=a.alive)
        # the counters are bumped after the produce: wait for the last ones
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            fams = scrape(a)
            if sum(values(fams["earshot_brand_mentions"], "brand").values()) >= \
                    sum(mentions.values()):
                break
            time.sleep(0.2)
        got = [(s.labels["rule"], s.value) for s in fams["earshot_rule_matches"].samples
               if s.name == "earshot_rule_matches_total"]
        ck.eq("top:5: the 5 rules with most matches, classify's counts, in order",
              [(r, float(n)) for r, n in top5], got)
        for name in BRAND_FAMILIES:
            fam = fams.get(name)
            ck.check("%s: a counter" % name, fam is not None and fam.type == "counter", "")
            if fam is not None:
                v = values(fam, "brand")
                ck.eq("%s: one sample per brand" % name, n_brands, len(v))
        ck.eq("brand mentions = classify's", {b: float(n) for b, n in mentions.items()},
              {b: v for b, v in values(fams["earshot_brand_mentions"], "brand").items() if v})
        for name, want in (("complaints", complaints), ("praise", praise),
                           ("questions", questions), ("tickets", tickets)):
            ck.eq("brand %s = classify's" % name, {b: float(n) for b, n in want.items()},
                  {b: v for b, v in values(fams["earshot_brand_" + name], "brand").items()
                   if v})
        bi = fams.get("earshot_build_info")
        ck.check("earshot_build_info: one gauge sample",
                 bi is not None and bi.type == "gauge" and len(bi.samples) == 1, "")
        if bi is not None and bi.samples:
            s = bi.samples[0]
            ck.eq("earshot_build_info labels", ["hyperscan", "librdkafka", "version"],
                  sorted(s.labels))
            ck.eq("earshot_build_info version = --version", version, s.labels.get("version"))
            ck.check("earshot_build_info hyperscan %r, librdkafka %r look like versions"
                     % (s.labels.get("hyperscan"), s.labels.get("librdkafka")),
                     re.fullmatch(r"\d+\.\d+\.\d+", s.labels.get("hyperscan", ""))
                     and re.fullmatch(r"\d+\.\d+\.\d+.*", s.labels.get("librdkafka", "")), "")
            ck.eq("earshot_build_info value", 1.0, s.value)
        for name, typ in PROCESS.items():
            fam = fams.get(name)
            ck.check("%s: a %s with one sample" % (name, typ),
                     fam is not None and fam.type == typ and
                     len([s for s in fam.samples if not s.name.endswith("_created")]) == 1, "")
        pv = {n: fams[n].samples[0].value for n in PROCESS if n in fams}
        ck.check("process_start_time_seconds is this process's (%.1f, started %.1f)"
                 % (pv.get("process_start_time_seconds", 0), t0),
                 abs(pv.get("process_start_time_seconds", 0) - t0) < 5, "")
        n_fd = len(os.listdir("/proc/%d/fd" % a.proc.pid))
        ck.check("process_open_fds %.0f ~ /proc/PID/fd %d" % (pv.get("process_open_fds", -1), n_fd),
                 abs(pv.get("process_open_fds", -1) - n_fd) <= 3, "")
        with open("/proc/%d/limits" % a.proc.pid) as f:
            soft = int(re.search(r"Max open files\s+(\d+)", f.read()).group(1))
        ck.eq("process_max_fds = its soft limit", float(soft), pv.get("process_max_fds"))
        ck.check("process_resident_memory_bytes > 1 MB and < virtual",
                 1e6 < pv.get("process_resident_memory_bytes", 0) <
                 pv.get("process_virtual_memory_bytes", 0), repr(pv))
        ck.check("process_cpu_seconds_total > 0", pv.get("process_cpu_seconds", 0) > 0, "")

        b = start(earshot, broker.bootstrap, wd, "off", ["--set", "metrics.rules=off"])
        runs.append(b)
        c = start(earshot, broker.bootstrap, wd, "all", [])
        runs.append(c)
        time.sleep(1.0)
        fb, fc = scrape(b), scrape(c)
        ck.eq("off: no rule series", 0, len(fb["earshot_rule_matches"].samples)
              if "earshot_rule_matches" in fb else 0)
        ck.eq("off: brand series stay", n_brands, len(values(fb["earshot_brand_mentions"], "brand")))
        ck.eq("all (default): one series per rule", n_rules,
              len([s for s in fc["earshot_rule_matches"].samples
                   if s.name == "earshot_rule_matches_total"]))

        for r in runs:
            ck.eq("%s: SIGTERM exit status" % r.name, 0, r.signal_and_wait(signal.SIGTERM, 15)[0])
        text = a.text()
        bad_lines, n_lines = [], 0
        for ln in text.splitlines():
            n_lines += 1
            try:
                o = json.loads(ln)
            except ValueError:
                bad_lines.append(ln)
                continue
            keys = set(o) - {"suppressed"}
            if keys != {"time", "level", "pid", "msg"} or o["pid"] != a.proc.pid or \
                    o["level"] not in ("error", "warn", "info", "debug") or \
                    not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]):
                bad_lines.append(ln)
        ck.check("log.format=json: every one of %d lines is a log object" % n_lines,
                 n_lines >= 5 and not bad_lines, repr(bad_lines[:3]))
        ck.check("log.format=json: the status and stop lines are there",
                 '"msg":"status: consumed' in text and "stopped (clean)" in text, a.tail(5))
        ck.check("the text format stays the default",
                 re.search(r"^\d{4}-\d\d-\d\dT\S+Z earshot\[%d\] INFO: " % c.proc.pid, c.text(),
                           re.M) is not None, c.tail(3))
    finally:
        for r in runs:
            r.ensure_dead()
        broker.stop()
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
