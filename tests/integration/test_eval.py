#!/usr/bin/env python3
"""`earshot eval` on tests/data/labelled/care_small.jsonl with the checkout's
rules: every figure in --json must agree with what `earshot classify` says
about the same file, recomputed here from classify's events, so the test
checks the arithmetic and the plumbing, not how good the rules are today.
Also: --map (with an unmapped polarity), lines without a label or with one
--map does not know, an engine rejection, a bad --map and a missing file.

usage: test_eval.py EARSHOT_BINARY
"""
import json
import os
import subprocess
import sys
import tempfile

DEFAULT_MAP = {"complaint": {"complaint"},
               "not_complaint": {"praise", "question", "neutral"}}


def run(earshot, args, env):
    return subprocess.run([earshot] + args, capture_output=True, text=True, timeout=120,
                          env=env)


def classify(earshot, rules, path, env):
    proc = run(earshot, ["classify", "--rules", rules, path], env)
    if proc.returncode != 0 or proc.stderr.strip():
        raise SystemExit(f"classify failed ({proc.returncode}): {proc.stderr}")
    return [json.loads(l) for l in proc.stdout.splitlines()]


def expected(labels, events, label_map, classes):
    """Confusion, per-class figures and per-rule tallies from classify's events."""
    pol_class = {p: c for c, ps in label_map.items() for p in ps}
    cols = classes + ["(unmapped)"]
    conf = {g: {p: 0 for p in cols} for g in classes}
    rules = {}
    for gold, ev in zip(labels, events):
        pred = pol_class.get(ev["polarity"], "(unmapped)")
        conf[gold][pred] += 1
        for r in ev["matched_rules"]:
            t = rules.setdefault(r["id"], {c: 0 for c in classes})
            t[gold] += 1
    per = {}
    for c in classes:
        tp = conf[c][c]
        support = sum(conf[c].values())
        predicted = sum(conf[g][c] for g in classes)
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        per[c] = {"tp": tp, "support": support, "predicted": predicted, "precision": p,
                  "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}
    return conf, per, rules


def check(cond, what, failures):
    if not cond:
        failures.append(what)


def check_report(rep, labels, events, label_map, classes, failures, tag):
    conf, per, rules = expected(labels, events, label_map, classes)
    check(rep["classes"] == classes, f"{tag}: classes {rep['classes']}", failures)
    check(rep["posts"] == len(labels), f"{tag}: posts {rep['posts']} != {len(labels)}", failures)
    cols = classes + ["(unmapped)"]
    check(rep["confusion"]["columns"] == cols, f"{tag}: columns", failures)
    got = {g: dict(zip(cols, row)) for g, row in zip(rep["confusion"]["rows"],
                                                    rep["confusion"]["counts"])}
    check(got == conf, f"{tag}: confusion {got} != {conf}", failures)
    check(sum(map(sum, rep["confusion"]["counts"])) == len(labels),
          f"{tag}: confusion does not sum to the posts", failures)
    for c in classes:
        g = rep["per_class"][c]
        for k in ("tp", "support", "predicted"):
            check(g[k] == per[c][k], f"{tag}: {c} {k} {g[k]} != {per[c][k]}", failures)
        for k in ("precision", "recall", "f1"):
            check(abs(g[k] - per[c][k]) < 1e-9, f"{tag}: {c} {k} {g[k]} != {per[c][k]}", failures)
    acc = sum(conf[c][c] for c in classes) / len(labels)
    check(abs(rep["accuracy"] - acc) < 1e-9, f"{tag}: accuracy", failures)
    present = [c for c in classes if per[c]["support"] or per[c]["predicted"]]
    macro = sum(per[c]["f1"] for c in present) / len(present)
    check(abs(rep["macro_f1"] - macro) < 1e-9, f"{tag}: macro_f1", failures)
    got_rules = {r["id"]: r for r in rep["rules"]}
    check(set(got_rules) == set(rules), f"{tag}: fired rules {sorted(got_rules)} != "
          f"{sorted(rules)}", failures)
    for rid, gold in rules.items():
        r = got_rules.get(rid)
        if not r:
            continue
        check(r["gold"] == gold, f"{tag}: rule {rid} gold {r['gold']} != {gold}", failures)
        check(r["fired"] == sum(gold.values()), f"{tag}: rule {rid} fired", failures)
        if r["class"] in classes:
            check(r["agreed"] == gold[r["class"]], f"{tag}: rule {rid} agreed", failures)
    return conf


def main():
    earshot = sys.argv[1]
    src = os.environ.get("EARSHOT_SOURCE_DIR",
                         os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    rules = os.path.join(src, "rules")
    data = os.path.join(src, "tests", "data", "labelled", "care_small.jsonl")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        # A private compiled-rule cache: the test writes nothing under $HOME.
        env = dict(os.environ, EARSHOT_CACHE=tmp)
        lines = open(data, encoding="utf-8").read().splitlines()
        labels = [json.loads(l)["label"] for l in lines]
        events = classify(earshot, rules, data, env)
        check(len(events) == len(lines), "classify rejected lines of the data file", failures)
        classes = ["complaint", "not_complaint"]
        out = os.path.join(tmp, "report.json")

        # 1. Defaults.
        proc = run(earshot, ["eval", "--rules", rules, "--json", out, data], env)
        check(proc.returncode == 0, f"eval exited {proc.returncode}: {proc.stderr}", failures)
        rep = json.load(open(out))
        conf = check_report(rep, labels, events, DEFAULT_MAP, classes, failures, "defaults")
        for c in classes:
            check(rep["per_class"][c]["support"] == labels.count(c),
                  f"support {c} != lines labelled {c}", failures)
        check(rep["label_map"] == {"complaint": ["complaint"],
                                   "not_complaint": ["question", "praise", "neutral"]},
              f"label_map {rep['label_map']}", failures)
        check(rep["skipped"] == {}, f"skipped {rep['skipped']}", failures)
        # Two classes: misses only for complaint, each one a real miss on its line.
        fn = [m for m in rep["misses"] if m["kind"] == "false_negative"]
        fp = [m for m in rep["misses"] if m["kind"] == "false_positive"]
        check(all(m["class"] == "complaint" for m in rep["misses"]), "misses class", failures)
        check(len(fn) == min(10, conf["complaint"]["not_complaint"]), f"{len(fn)} FNs", failures)
        check(len(fp) == min(10, conf["not_complaint"]["complaint"]), f"{len(fp)} FPs", failures)
        for m in rep["misses"]:
            n = int(m["ref"].rsplit(":", 1)[1])
            ev = events[n - 1]
            check(m["gold"] == labels[n - 1], f"miss {m['ref']} gold", failures)
            check(m["text"] == ev["text"][:160], f"miss {m['ref']} text", failures)
            check(m["rules"] == [r["id"] for r in ev["matched_rules"]][:16],
                  f"miss {m['ref']} rules {m['rules']}", failures)
        check("posts/s" in proc.stdout, "no posts/s in the report", failures)
        check("false negatives: complaint" in proc.stdout, "no miss list", failures)

        # 2. --map: neutral predictions become "(unmapped)".
        mapping = "complaint=complaint,not_complaint=praise+question"
        proc = run(earshot, ["eval", "--rules", rules, "--map", mapping, "--json", out, data], env)
        check(proc.returncode == 0, f"--map eval exited {proc.returncode}", failures)
        rep = json.load(open(out))
        conf = check_report(rep, labels, events,
                            {"complaint": {"complaint"}, "not_complaint": {"praise", "question"}},
                            classes, failures, "--map")
        neutral = sum(1 for e in events if e["polarity"] == "neutral")
        check(conf["complaint"]["(unmapped)"] + conf["not_complaint"]["(unmapped)"] == neutral,
              "unmapped column != neutral predictions", failures)
        check(neutral > 0, "the data should hold posts no rule classifies", failures)

        # 3. A line without a label, one with a label --map does not know, one
        # the engine rejects: counted, reported, not fatal.
        extra = os.path.join(tmp, "extra.jsonl")
        with open(extra, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
            f.write(json.dumps({"id": "1", "text": "@NorthwindTel where is my refund"}) + "\n")
            f.write(json.dumps({"id": "2", "text": "@NorthwindTel hi", "label": "spam"}) + "\n")
            f.write('{"id": "3", "label": "complaint"}\n')
        proc = run(earshot, ["eval", "--rules", rules, "--map", "complaint=complaint,"
                             "not_complaint=praise+question+neutral", "--json", out, extra], env)
        check(proc.returncode == 0, f"extra eval exited {proc.returncode}", failures)
        rep = json.load(open(out))
        check(rep["posts"] == len(lines), f"extra: posts {rep['posts']}", failures)
        check(rep["skipped"] == {"no label": 1, "label not in --map": 1,
                                 "rejected by the engine": 1},
              f"extra: skipped {rep['skipped']}", failures)
        check("1 line skipped: no label" in proc.stdout, "no 'skipped: no label' line", failures)
        check(f"{os.path.basename(extra)}:{len(lines) + 3}: rejected: no text" in proc.stderr,
              f"rejection not reported: {proc.stderr!r}", failures)
        # Without --map the unknown label is a class of its own, never predicted.
        proc = run(earshot, ["eval", "--rules", rules, "--json", out, extra], env)
        rep = json.load(open(out))
        check(rep["classes"] == ["complaint", "not_complaint", "spam"],
              f"default classes {rep['classes']}", failures)
        check(rep["per_class"]["spam"]["support"] == 1, "spam support", failures)

        # 4. Usage errors say what to fix; a missing file is exit 1.
        proc = run(earshot, ["eval", "--rules", rules, "--map", "complaint=compliant", data], env)
        check(proc.returncode == 2, f"bad --map exited {proc.returncode}", failures)
        check(proc.stderr == "earshot eval: --map: 'compliant' is not a polarity "
                             "(complaint, praise, question, neutral)\n",
              f"bad --map said {proc.stderr!r}", failures)
        proc = run(earshot, ["eval", "--rules", rules, "--map",
                             "a=complaint,b=complaint+praise", data], env)
        check(proc.returncode == 2 and "both claim polarity 'complaint'" in proc.stderr,
              f"claim clash: {proc.returncode} {proc.stderr!r}", failures)
        proc = run(earshot, ["eval", "--rules", rules, os.path.join(tmp, "nope.jsonl")], env)
        check(proc.returncode == 1, f"missing file exited {proc.returncode}", failures)
        check("cannot open" in proc.stderr, f"missing file said {proc.stderr!r}", failures)
        proc = run(earshot, ["eval", "--rules", rules, "--label-field", "gold", data], env)
        check(proc.returncode == 2 and "--label-field" in proc.stderr,
              f"no labels: {proc.returncode} {proc.stderr!r}", failures)

    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
