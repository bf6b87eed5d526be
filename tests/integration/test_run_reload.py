#!/usr/bin/env python3
"""test_run_reload: rules change under a running `earshot run` (issue 5).

On the embedded broker, one earshot process with route.enriched.all (so every
post yields exactly one event) goes through four rule generations:

  1. the default rules: a post about "Globex" mentions no brand;
  2. brands.json gains a "globex" brand (written to a temp file and renamed,
     as an editor does): the inotify watch reloads it, and posts sent after
     the reload carry brands [globex] and the new rules_version;
  3. brands.json is broken (a JSON syntax error): the reload is refused, the
     error names brands.json and its line, the failure is counted, and posts
     are still classified by generation 2;
  4. with the watch off in a second process, SIGHUP reloads.

Every post id comes out exactly once (nothing lost, nothing doubled in a
clean run), every event's rules_version names the generation that was
serving when it was sent, and /metrics is accepted by prometheus_client's
own text-format parser and carries per-rule counters and reload counters.

usage: test_run_reload.py EARSHOT
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "lib"))
sys.path.append("/usr/lib/python3/dist-packages")

import kafka_helpers  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
EARSHOT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "earshot")

GLOBEX = {
    "id": "globex", "name": "Globex",
    "aliases": ["globex", "globex corp"],
    "handles": ["@globex"],
}


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def post(pid, text):
    return json.dumps({
        "id": pid, "platform": "forum", "text": text, "lang": "en",
        "created_at": "2026-11-23T09:00:00Z",
        "author": {"handle": "someone", "followers": 120, "verified": False},
    })


def start_broker(tmp):
    out = open(os.path.join(tmp, "broker.out"), "w+")
    # EARSHOT_BROKER: another build for the broker (a TSan build of librdkafka's
    # mock cluster crashes in uninstrumented code; test the run side with it)
    proc = subprocess.Popen([os.environ.get("EARSHOT_BROKER", EARSHOT), "broker", "--partitions", "2", "--brokers", "1"],
                            stdin=subprocess.DEVNULL, stdout=out,
                            stderr=open(os.path.join(tmp, "broker.err"), "w"))
    deadline = time.time() + 20
    while time.time() < deadline:
        out.seek(0)
        line = out.readline()
        if line.endswith("\n"):
            return proc, line.strip()
        if proc.poll() is not None:
            fail("earshot broker exited early")
        time.sleep(0.05)
    fail("earshot broker printed no bootstrap list")


class Run:
    """One `earshot run` with its stderr in a file and its HTTP port."""

    def __init__(self, tmp, name, bootstrap, rules, extra):
        self.err_path = os.path.join(tmp, f"{name}.err")
        self.proc = subprocess.Popen(
            [EARSHOT, "run", "-b", bootstrap, "-g", f"reload-{name}", "--rules", rules,
             "--threads", "2", "--http", "127.0.0.1:0",
             "--set", "route.enriched.all=true", "--set", "status.interval.ms=0",
             # input produced before the group joins; fixture dates are old
             "--set", "consumer.auto.offset.reset=earliest", "--set", "tickets.max_age=0",
             "--set", "rules.cache.dir=" + os.path.join(tmp, "cache")] + extra,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=open(self.err_path, "w"))
        self.port = None
        deadline = time.time() + 30
        while time.time() < deadline and self.port is None:
            m = re.search(r"\(port (\d+)\)", self.log())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                fail(f"earshot run exited {self.proc.returncode}: {self.log()}")
            else:
                time.sleep(0.05)
        if self.port is None:
            fail("earshot run never reported its metrics port")
        self.wait_ready()

    def log(self):
        with open(self.err_path) as f:
            return f.read()

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_ready(self):
        deadline = time.time() + 60
        while time.time() < deadline:
            code, _ = self.get("/readyz")
            if code == 200:
                return
            time.sleep(0.2)
        fail(f"/readyz never answered 200: {self.log()}")

    def metrics(self):
        code, text = self.get("/metrics")
        if code != 200:
            fail(f"/metrics answered {code}")
        fams = {f.name: f for f in text_string_to_metric_families(text)}
        return fams

    def sample(self, family, **labels):
        fam = self.metrics().get(family)
        if fam is None:
            return None
        for s in fam.samples:
            # a counter family "x" has samples "x_total" (and "x_created")
            if s.name.endswith("_created"):
                continue
            if all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        return None

    def wait_reloads(self, result, want, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            # prometheus_client names a counter family without "_total"
            v = self.sample("earshot_rules_reloads", result=result)
            if v is not None and v >= want:
                return
            time.sleep(0.1)
        fail(f"rules reloads {{result={result}}} never reached {want}: {self.log()}")

    def version(self):
        fam = self.metrics().get("earshot_rules_info")
        if fam is None or not fam.samples:
            return None
        return fam.samples[0].labels["version"]

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("earshot run did not exit within 40 s of SIGTERM")
        if rc != 0:
            fail(f"earshot run exited {rc} after SIGTERM: {self.log()}")


def write_brands(rules, brands_doc_text):
    path = os.path.join(rules, "brands.json")
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(brands_doc_text)
    os.rename(tmp, path)


def produce_and_collect(bootstrap, posts, seen, timeout=60):
    """Produce the posts, then read posts.enriched until each one's event came."""
    kafka_helpers.produce_lines(bootstrap, "posts", [p.encode() for _, p in posts])
    want = {pid for pid, _ in posts}
    consumer = kafka_helpers.KafkaConsumer(
        "posts.enriched", bootstrap_servers=bootstrap, group_id=None,
        auto_offset_reset="earliest", enable_auto_commit=False,
        consumer_timeout_ms=1000)
    deadline = time.time() + timeout
    got = {}
    try:
        while time.time() < deadline and not want <= set(got):
            for msg in consumer:
                ev = json.loads(msg.value)
                got.setdefault(ev["id"], []).append(ev)
                if want <= set(got):
                    break
    finally:
        consumer.close()
    missing = want - set(got)
    if missing:
        fail(f"{len(missing)} post(s) never reached posts.enriched, e.g. {sorted(missing)[:3]}")
    for pid in want:
        seen[pid] = got[pid]
    return got


def main():
    tmp = tempfile.mkdtemp(prefix="earshot-reload-")
    procs = []
    try:
        broker, bootstrap = start_broker(tmp)
        procs.append(broker)
        rules = os.path.join(tmp, "rules")
        shutil.copytree(os.path.join(ROOT, "rules"), rules)
        with open(os.path.join(rules, "brands.json")) as f:
            brands_text = f.read()
        brands_doc = json.loads(brands_text)

        run = Run(tmp, "watch", bootstrap, rules, ["-X", "statistics.interval.ms=300"])
        procs.append(run.proc)
        v1 = run.version()
        if not v1:
            fail("/metrics has no earshot_rules_info")
        seen = {}

        # 1. default rules: Globex is nobody's brand.
        batch1 = [(f"r1-{i}", post(f"r1-{i}", f"globex support kept me on hold for an hour #{i}"))
                  for i in range(40)]
        got = produce_and_collect(bootstrap, batch1, seen)
        for pid, _ in batch1:
            ev = got[pid][0]
            if ev["brands"] != [] or ev["rules_version"] != v1:
                fail(f"generation 1: {pid} gave brands {ev['brands']} version {ev['rules_version']}")

        # 2. add the brand; the watch reloads.
        brands_doc["brands"].append(GLOBEX)
        write_brands(rules, json.dumps(brands_doc, indent=2))
        run.wait_reloads("success", 1)
        v2 = run.version()
        if not v2 or v2 == v1:
            fail(f"rules version did not change after the reload ({v1} -> {v2})")
        batch2 = [(f"r2-{i}", post(f"r2-{i}", f"globex support kept me on hold for an hour #{i}"))
                  for i in range(40)]
        got = produce_and_collect(bootstrap, batch2, seen)
        for pid, _ in batch2:
            ev = got[pid][0]
            if [b["id"] for b in ev["brands"]] != ["globex"] or ev["rules_version"] != v2:
                fail(f"generation 2: {pid} gave brands {ev['brands']} version {ev['rules_version']}")

        # 3. a broken file is refused; generation 2 keeps serving.
        broken = json.dumps(brands_doc, indent=2).replace('"globex corp"', '"globex corp",,', 1)
        write_brands(rules, broken)
        run.wait_reloads("failure", 1)
        bad_line = broken[: broken.index(",,")].count("\n") + 1
        if not re.search(rf"brands\.json:{bad_line}:\d+", run.log()):
            fail(f"the refused reload does not name brands.json:{bad_line}: {run.log()[-600:]}")
        if run.version() != v2:
            fail("a refused reload changed the serving version")
        batch3 = [(f"r3-{i}", post(f"r3-{i}", f"globex lost my parcel again #{i}"))
                  for i in range(40)]
        got = produce_and_collect(bootstrap, batch3, seen)
        for pid, _ in batch3:
            ev = got[pid][0]
            if [b["id"] for b in ev["brands"]] != ["globex"] or ev["rules_version"] != v2:
                fail(f"after the refused reload: {pid} gave {ev['brands']} {ev['rules_version']}")

        # Per-rule counters and reload counters, through Prometheus's parser.
        fams = run.metrics()
        rule_fam = fams.get("earshot_rule_matches")
        if rule_fam is None or not any(s.labels.get("rule") == "wait.on_hold" and s.value >= 80
                                       for s in rule_fam.samples):
            fail("earshot_rule_matches_total{rule=\"wait.on_hold\"} < 80 (or missing)")
        if run.sample("earshot_brand_mentions", brand="globex") != 80.0:
            fail(f"globex mentions: {run.sample('earshot_brand_mentions', brand='globex')}, want 80")
        if run.sample("earshot_consumed") != 120.0:
            fail(f"consumed {run.sample('earshot_consumed')}, want 120")
        # librdkafka's statistics, mapped: the consumer received the 120 posts.
        # The documents come every 300 ms: wait for one taken after the last post.
        deadline = time.time() + 10
        while True:
            rx = [s.value for s in run.metrics()["earshot_kafka_rx_messages"].samples
                  if s.name.endswith("_total") and "consumer" in s.labels.get("client", "")]
            if rx == [120.0] or time.time() > deadline:
                break
            time.sleep(0.2)
        if rx != [120.0]:
            fail(f"earshot_kafka_rx_messages_total of the consumer: {rx}, want [120.0]")
        run.stop()

        # Exactly once each in a clean run.
        for pid, evs in seen.items():
            if len(evs) != 1:
                fail(f"{pid} produced {len(evs)} events")

        # 4. watch off: SIGHUP reloads (the file is fixed first).
        write_brands(rules, brands_text)  # back to generation 1's content
        run2 = Run(tmp, "hup", bootstrap, rules, ["--set", "rules.watch=false"])
        procs.append(run2.proc)
        if run2.version() != v1:
            fail(f"restart did not load generation 1's rules ({run2.version()} != {v1})")
        brands_doc["brands"][-1]["aliases"].append("initech")
        write_brands(rules, json.dumps(brands_doc))
        time.sleep(1.0)  # would be enough for the watch; it is off
        if run2.sample("earshot_rules_reloads", result="success") != 0.0:
            fail("rules.watch=false still reloaded on a file change")
        run2.proc.send_signal(signal.SIGHUP)
        run2.wait_reloads("success", 1)
        if run2.version() in (v1, v2, None):
            fail(f"SIGHUP reload did not serve a new version ({run2.version()})")
        run2.stop()
        print("ok: watch reload, refused broken rules, SIGHUP reload; "
              f"{len(seen)} posts, each exactly once; versions {v1} -> {v2}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if os.environ.get("KEEP_TMP"):
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
