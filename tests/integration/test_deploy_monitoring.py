#!/usr/bin/env python3
"""The monitoring files in deploy/ (issue 11, item 6) against a live earshot:
  - deploy/prometheus/earshot.rules.yml passes `promtool check rules`, and
    its alerts fire (and stay quiet) as earshot.rules.test.yml says
    (`promtool test rules`); deploy/prometheus/prometheus.yml passes
    `promtool check config`; every alert has a severity and a summary;
  - every metric named by a query of deploy/grafana/earshot.json (panels,
    template variables, annotations) and by an alert expression is one that
    a live earshot exposes: `earshot run` on the embedded broker with the
    HTTP endpoint on and librdkafka statistics every second, fed generated
    posts (some malformed, so rejects exist), scraped once everything is
    consumed; the page is parsed with prometheus_client's own parser. Only
    `up`, which Prometheus itself writes, is allowed beyond that.
The name extractor is checked on known expressions first, so a broken
extractor cannot pass everything by finding nothing.

usage: test_deploy_monitoring.py EARSHOT_BINARY
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import run_helpers as rh  # noqa: E402
import yaml  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

N = 600
DEPLOY = os.path.join(rh.SRC, "deploy")
RULES_YML = os.path.join(DEPLOY, "prometheus", "earshot.rules.yml")
RULES_TEST = os.path.join(DEPLOY, "prometheus", "earshot.rules.test.yml")
PROM_YML = os.path.join(DEPLOY, "prometheus", "prometheus.yml")
DASHBOARD = os.path.join(DEPLOY, "grafana", "earshot.json")
PROMETHEUS_OWN = {"up"}  # written by Prometheus per target, not by earshot

KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "Inf", "NaN"}


def metric_names(expr):
    """Metric names in a PromQL expression (or a Grafana label_values()
    query): identifiers that are not functions, keywords, label names,
    strings, durations or $variables."""
    e = re.sub(r"label_values\(\s*(.*?)\s*,\s*\w+\s*\)\s*$", r"\1", expr.strip())
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', e)
    e = re.sub(r"'(?:[^'\\]|\\.)*'", "''", e)
    e = re.sub(r"\{[^}]*\}", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\$\{?\w+\}?", " ", e)
    e = re.sub(r"\boffset\s+\d+[a-z]+", " ", e)
    names = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", e):
        if m.group(2) or m.group(1) in KEYWORDS:
            continue
        names.add(m.group(1))
    return names


def dashboard_queries(dash):
    """Every PromQL string of a Grafana dashboard: targets' and annotations'
    expr, query variables' query."""
    out = []

    def walk(node, where):
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str):
                out.append((where + "/" + str(node.get("refId", node.get("name", "?"))),
                            node["expr"]))
            for k, v in node.items():
                walk(v, where + "/" + (str(node.get("title")) if k == "targets" else k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, "%s[%d]" % (where, i))
    walk(dash.get("panels", []), "panels")
    walk(dash.get("annotations", {}), "annotations")
    for var in dash.get("templating", {}).get("list", []):
        if var.get("type") == "query":
            q = var["query"]["query"] if isinstance(var["query"], dict) else var["query"]
            out.append(("templating/" + var["name"], q))
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def scrape(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def live_metrics(ck, earshot, wd):
    """(sample names, family names) of a live earshot's /metrics, taken once
    it has consumed every post and librdkafka's statistics are in."""
    lines = rh.generate(earshot, N, seed=31, malformed_rate=0.05, mention_rate=0.4)
    broker = rh.MockBroker(earshot, partitions=2, brokers=1, workdir=wd)
    port = free_port()
    run = None
    try:
        prod = rh.Producer(broker.bootstrap)
        prod.send(lines)
        prod.positions()
        prod.close()
        run = rh.Earshot(earshot, broker.bootstrap, "it-monitoring", wd,
                         args=("--http", "127.0.0.1:%d" % port,
                               "-X", "statistics.interval.ms=1000") + rh.MOCK_GROUP_ARGS)
        deadline, page = time.monotonic() + 120, ""
        while time.monotonic() < deadline and run.alive():
            try:
                page = scrape(port)
            except OSError:
                page = ""
            m = re.search(r"^earshot_consumed_total (\d+)", page, re.M)
            if (m and int(m.group(1)) == N and "earshot_kafka_cgrp_assignment_size{" in page
                    and "earshot_consumer_lag{" in page
                    and "earshot_kafka_broker_rtt_p99_seconds{" in page):
                break
            time.sleep(0.5)
        ck.check("earshot consumed all %d posts and reported Kafka statistics" % N,
                 re.search(r"^earshot_consumed_total %d$" % N, page, re.M) is not None
                 and "earshot_kafka_cgrp_assignment_size{" in page,
                 run.tail() if run else "")
    finally:
        if run:
            run.signal_and_wait(15, 30)
            run.ensure_dead()
        broker.stop()
    samples, families = set(), set()
    for fam in text_string_to_metric_families(page):
        families.add(fam.name)
        for s in fam.samples:
            samples.add(s.name)
    return samples, families


def main():
    earshot = sys.argv[1]
    ck = rh.Checker("test_deploy_monitoring")
    wd = rh.workdir("deploy-monitoring")
    try:
        return run(ck, earshot, wd)
    finally:
        shutil.rmtree(wd, ignore_errors=True)


def run(ck, earshot, wd):
    # The extractor itself, on expressions whose answer is known.
    ck.eq("extractor: rate by",
          {"earshot_consumed_total"},
          metric_names('sum by (instance) (rate(earshot_consumed_total{job=~"$job"}[$__rate_interval]))'))
    ck.eq("extractor: binary op, offset, histogram",
          {"a_total", "b_bucket", "c"},
          metric_names('histogram_quantile(0.99, sum by (le) (rate(b_bucket[5m]))) > 4 * '
                       'sum without (x) (rate(a_total[6h] offset 15m)) and on (job) c == bool 1e3'))
    ck.eq("extractor: label_values", {"earshot_consumed_total"},
          metric_names('label_values(earshot_consumed_total{job=~"$job"}, instance)'))
    ck.eq("extractor: a name that does not exist is still found", {"earshot_nope_total"},
          metric_names("increase(earshot_nope_total[5m]) > 0"))

    # promtool: syntax, the alerts' own unit tests, the example config.
    promtool = shutil.which("promtool")
    if not ck.check("promtool found (Debian package prometheus; scripts/install-deps)",
                    promtool is not None):
        return ck.finish()
    for args, what in (([promtool, "check", "rules", RULES_YML], "promtool check rules"),
                       ([promtool, "test", "rules", RULES_TEST], "promtool test rules"),
                       ([promtool, "check", "config", PROM_YML], "promtool check config")):
        r = subprocess.run(args, capture_output=True, timeout=120,
                           cwd=os.path.dirname(args[-1]))
        ck.check(what + " " + os.path.basename(args[-1]), r.returncode == 0,
                 (r.stdout + r.stderr).decode()[-2000:])

    with open(RULES_YML) as f:
        rules_doc = yaml.safe_load(f)
    alerts = [r for g in rules_doc["groups"] for r in g["rules"] if "alert" in r]
    ck.check("at least 10 alerts", len(alerts) >= 10, str(len(alerts)))
    for a in alerts:
        ck.check("%s has a severity and a summary" % a["alert"],
                 a.get("labels", {}).get("severity") in ("critical", "warning", "info")
                 and a.get("annotations", {}).get("summary"))

    with open(DASHBOARD) as f:
        dash = json.load(f)
    queries = dashboard_queries(dash)
    panels = [p for p in dash["panels"] if p["type"] != "row"]
    ck.check("every dashboard panel has a query",
             all(p.get("targets") and all(t.get("expr") for t in p["targets"]) for p in panels),
             repr([p["title"] for p in panels if not p.get("targets")]))
    wanted = {}
    for where, q in queries:
        for n in metric_names(q):
            wanted.setdefault(n, []).append("grafana " + where)
    for a in alerts:
        for n in metric_names(a["expr"]):
            wanted.setdefault(n, []).append("alert " + a["alert"])
    rh.log("%d dashboard queries, %d alerts, %d metric names" % (len(queries), len(alerts),
                                                                  len(wanted)))
    ck.check("the files name at least 15 metrics", len(wanted) >= 15, repr(sorted(wanted)))

    samples, families = live_metrics(ck, earshot, wd)
    ck.check("the live page has earshot metrics", len(samples) > 15, repr(sorted(samples)))
    for name in sorted(wanted):
        # A labelled counter has no series before its first event (no care
        # alert fires in this run): its HELP/TYPE on the page count, since
        # a misspelt name has neither. The parser names a counter's family
        # without _total.
        declared = name.endswith("_total") and name[:-len("_total")] in families
        exposed = name in samples or name in PROMETHEUS_OWN or declared
        ck.check("%s exposed by earshot" % name, exposed,
                 "used by %s; not in the live /metrics" % ", ".join(sorted(set(wanted[name]))))
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
