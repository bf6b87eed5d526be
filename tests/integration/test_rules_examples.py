#!/usr/bin/env python3
"""Rule examples: `earshot check-rules` runs every rule's "examples" after
compiling and fails (exit 2) with one exact FILE:LINE:COL line per example
that goes the wrong way, in both directions; `earshot test-rules` runs only
the examples and shows what fired (exit 1 on failures, 2 for bad rules or
usage). Bad "examples" keys are refused by the loader with their position.
The fixtures are tests/data/rules_examples_* and rules_bad_examples_*;
positions were counted by hand.

usage: test_rules_examples.py EARSHOT_BINARY
"""
import json
import os
import subprocess
import sys


def main():
    earshot = sys.argv[1]
    src = os.environ.get("EARSHOT_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
    data = os.path.join(src, "tests", "data")
    ok_dir = os.path.join(data, "rules_examples_ok")
    fail_dir = os.path.join(data, "rules_examples_fail")
    fail_file = os.path.join(fail_dir, "rules.json")
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name}: {detail}")

    def run(*args):
        proc = subprocess.run([earshot] + list(args), capture_output=True, timeout=120)
        return proc.returncode, proc.stdout.decode(), proc.stderr.decode()

    # Passing set: exit 0, the usual report, then the count. It holds string
    # examples, a `when.brands` rule, and a `when` lang/min_followers rule
    # whose examples are whole posts in the generic and Twitter v2 shapes.
    rc, out, err = run("check-rules", ok_dir)
    check("ok set: exit 0", rc == 0, f"rc={rc} {err!r}")
    check("ok set: rules ok", out.startswith(f"rules ok: {ok_dir}\n"), out)
    check("ok set: count", out.endswith("\n14 examples ok\n"), out)
    check("ok set: nothing on stderr", err == "", err)

    # Failing set: both directions, an object example, a rejected post, and
    # a text whose quote and tab are escaped.
    want = [
        f"{fail_file}:5:52: rule 'wait.on_hold' example should match but did not: "
        '"I held on for an hour"; rules that fired: none',
        f"{fail_file}:6:32: rule 'wait.on_hold' example should not match but did: "
        '"hold on, on hold music is great"; rules that fired: wait.on_hold',
        f"{fail_file}:8:57: rule 'outage' example should match but did not: "
        '"internet down, on hold"; rules that fired: wait.on_hold',
        f"{fail_file}:9:32: rule 'outage' example should not match but did: "
        '{"id":"x","text":"comcast is down","lang":"en"}; rules that fired: outage',
        f"{fail_file}:11:29: rule 'odd' example could not be classified: no text; "
        'make it a post earshot accepts: {"id":"no-text"}',
        f"{fail_file}:12:32: rule 'odd' example should not match but did: "
        '"say \\"odd\\"\\tnow"; rules that fired: odd',
    ]
    rc, out, err = run("check-rules", fail_dir)
    check("fail set: exit 2", rc == 2, f"rc={rc}")
    check("fail set: no report on stdout", out == "", out)
    lines = err.splitlines()
    check("fail set: exact lines", lines[:-1] == ["earshot check-rules: " + w for w in want],
          "\n".join(lines))
    check("fail set: summary", lines[-1:] == [
        "earshot check-rules: 6 of 9 examples went the wrong way; fix the rules or the "
        f"examples (`earshot test-rules {fail_dir}` shows details)"], lines[-1:])

    # A bad key in "examples": the loader's error, exit 2.
    bad = os.path.join(data, "rules_bad_examples_key")
    rc, out, err = run("check-rules", bad)
    check("bad key: exit 2", rc == 2, f"rc={rc}")
    check("bad key: exact error", err == (
        f"earshot check-rules: {bad}/rules.json:4:17: unknown key 'matches' in the "
        "\"examples\" of rule 'wait.on_hold' (did you mean 'match'?); expected one of "
        "match, no_match\n"), err)
    bad = os.path.join(data, "rules_bad_examples_item")
    rc, out, err = run("test-rules", bad)
    check("bad item (test-rules): exit 2", rc == 2, f"rc={rc}")
    check("bad item (test-rules): exact error", err == (
        f"earshot test-rules: {bad}/rules.json:3:46: rule 'wait.on_hold': "
        "\"examples.no_match\" item 2 must be a post's text (a string) or a whole post "
        "(an object)\n"), err)

    # test-rules: every failure with what fired, then the summary; exit 1.
    rc, out, err = run("test-rules", "--rules", fail_dir)
    check("test-rules fail: exit 1", rc == 1, f"rc={rc} {err!r}")
    check("test-rules fail: exact output", out == f"""\
FAIL {fail_file}:5:52: rule 'wait.on_hold' should match
  example:      "I held on for an hour"
  fired:        none
  did not fire: wait.on_hold
  brands:       none
FAIL {fail_file}:6:32: rule 'wait.on_hold' should not match
  example:      "hold on, on hold music is great"
  fired:        wait.on_hold
  brands:       none
FAIL {fail_file}:8:57: rule 'outage' should match
  example:      "internet down, on hold"
  fired:        wait.on_hold
  did not fire: outage
  brands:       none
FAIL {fail_file}:9:32: rule 'outage' should not match
  example:      {{"id":"x","text":"comcast is down","lang":"en"}}
  fired:        outage
  brands:       comcast
FAIL {fail_file}:11:29: rule 'odd' example could not be classified: no text
  example:      {{"id":"no-text"}}
FAIL {fail_file}:12:32: rule 'odd' should not match
  example:      "say \\"odd\\"\\tnow"
  fired:        odd
  brands:       none
examples: 3 passed, 6 failed
""", out)

    rc, out, err = run("test-rules", ok_dir)
    check("test-rules ok: exit 0 and summary", rc == 0 and out == "examples: 14 passed, 0 failed\n",
          f"rc={rc} {out!r} {err!r}")

    # --verbose lists the passing ones too: the `when` rule's object examples
    # (lang + min_followers) in two input shapes.
    rc, out, err = run("test-rules", "--verbose", ok_dir)
    ok_file = os.path.join(ok_dir, "rules.json")
    vip = [l for l in out.splitlines() if "'vip.spanish'" in l]
    check("test-rules --verbose: when-rule examples", vip == [
        f"ok   {ok_file}:19:18: rule 'vip.spanish' example matches as it should: "
        '{"id":"p1","platform":"blog","text":"necesito ayuda","lang":"es",'
        '"author":{"handle":"ana","followers":5000}}',
        f"ok   {ok_file}:21:21: rule 'vip.spanish' example does not match, as it should: "
        '"necesito ayuda"',
        f"ok   {ok_file}:22:21: rule 'vip.spanish' example does not match, as it should: "
        '{"id":"p2","platform":"blog","text":"necesito ayuda","lang":"es",'
        '"author":{"handle":"bo","followers":10}}',
        f"ok   {ok_file}:24:21: rule 'vip.spanish' example does not match, as it should: "
        '{"data":{"id":"3","text":"necesito ayuda","lang":"en","author_id":"9"},'
        '"includes":{"users":[{"id":"9","username":"c","public_metrics":'
        '{"followers_count":9000}}]}}',
    ], "\n".join(vip))
    check("test-rules --verbose: 14 lines + summary", rc == 0 and len(out.splitlines()) == 15, out)

    # Usage errors: exit 2.
    rc, out, err = run("test-rules", "--rules", ok_dir, fail_dir)
    check("two directories: exit 2", rc == 2 and "give one rules directory" in err, f"rc={rc} {err!r}")
    rc, out, err = run("test-rules", os.path.join(data, "rules_does_not_exist"))
    check("missing directory: exit 2", rc == 2 and "cannot open rules directory" in err,
          f"rc={rc} {err!r}")
    rc, out, err = run("test-rules", "--bogus")
    check("unknown option: exit 2", rc == 2 and "usage: earshot test-rules" in err, f"rc={rc}")
    rc, out, err = run("test-rules", "--help")
    check("--help: exit 0", rc == 0 and out.startswith("usage: earshot test-rules"), f"rc={rc}")

    # The default rules: every rule says what it is for with at least one
    # `match` example, and check-rules runs all of them (count checked here,
    # so a file the loader skipped or an example it dropped shows up).
    rules_dir = os.path.join(src, "rules")
    total = 0
    without = []
    for name in sorted(os.listdir(rules_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(rules_dir, name), encoding="utf-8") as f:
            doc = json.load(f)
        for rule in doc.get("rules", []):
            examples = rule.get("examples", {})
            if not examples.get("match"):
                without.append(f"{name}: {rule['id']}")
            total += len(examples.get("match", [])) + len(examples.get("no_match", []))
    check("default rules: every rule has a match example", without == [], ", ".join(without))
    rc, out, err = run("check-rules", rules_dir)
    check("default rules: check-rules exit 0", rc == 0, f"rc={rc} {err!r}")
    check(f"default rules: {total} examples ok", f"\n{total} examples ok\n" in out, out)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
