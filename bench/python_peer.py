#!/usr/bin/env python3
"""The peer a data team writes: json + re, one post at a time.

Reads the same rule files as earshot (brands and rules, phrases and regex
terms, all/any/not groups, "when" predicates), compiles every distinct term
once as a caseless Python regex (phrases get \\b at word-character ends, as in
the rule language), then for each post: json.loads, pick the text by shape,
try every brand and every rule (terms memoised per post, trees
short-circuit). Nothing is normalised: that only makes the peer cheaper.

Two modes:
  python_peer.py --rules DIR --corpus FILE.jsonl [--seconds T] [--max-posts N]
      time the loop over an in-memory corpus; prints one JSON object
      (posts_per_s, how many posts were measured: a subset when slow).
  python_peer.py --rules DIR --kafka BOOTSTRAP --expect N [...]
      the end-to-end peer: confluent-kafka consumer on the input topic and
      producer to posts.enriched / care.tickets / posts.rejected; see
      bench/e2e_python.py, which imports classify() from here.
"""
import argparse
import json
import os
import re
import resource
import sys
import time


def phrase_regex(s):
    out = re.escape(s)
    if s and (s[0].isalnum() or s[0] == "_"):
        out = r"\b" + out
    if s and (s[-1].isalnum() or s[-1] == "_"):
        out = out + r"\b"
    return out


class Rules:
    def __init__(self, rules_dir):
        t0 = time.perf_counter()
        self.terms = []          # compiled regexes
        self.index = {}          # source -> term index
        self.brands = []         # (id, [terms], [exclusions])
        self.rules = []          # (id, polarity, severity, tree, when)
        raw_rules = []
        for name in sorted(os.listdir(rules_dir)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(rules_dir, name), encoding="utf-8") as f:
                doc = json.load(f)
            for b in doc.get("brands", []):
                terms = [self.term(phrase_regex(t)) for k in
                         ("aliases", "handles", "hashtags", "misspellings") for t in b.get(k, [])]
                excl = [self.term(phrase_regex(t)) for t in b.get("exclude", [])]
                self.brands.append((b["id"], terms, excl))
            raw_rules.extend(doc.get("rules", []))
        brand_ids = {b[0]: i for i, b in enumerate(self.brands)}
        for r in raw_rules:
            when = dict(r.get("when", {}))
            if "brands" in when:
                when["brands"] = [brand_ids[b] for b in when["brands"] if b in brand_ids]
            if "lang" in when:
                when["lang"] = [lang.lower() for lang in when["lang"]]
            self.rules.append((r["id"], r.get("polarity", "neutral"), r.get("severity", 0),
                               self.tree(r), when))
        self.compile_s = time.perf_counter() - t0

    def term(self, src):
        i = self.index.get(src)
        if i is None:
            i = self.index[src] = len(self.terms)
            self.terms.append(re.compile(src, re.IGNORECASE))
        return i

    def tree(self, v):
        if isinstance(v, str):
            return self.term(phrase_regex(v))
        if "regex" in v:
            return self.term(v["regex"])
        return ([self.tree(x) for x in v.get("all", [])],
                [self.tree(x) for x in v.get("any", [])],
                [self.tree(x) for x in v.get("not", [])])


def post_fields(doc):
    """(text, lang, followers, is_retweet) for the three input shapes."""
    if "data" in doc:  # Twitter v2
        d = doc["data"]
        text = (d.get("note_tweet") or {}).get("text") or d.get("text")
        users = (doc.get("includes") or {}).get("users") or []
        author = next((u for u in users if u.get("id") == d.get("author_id")), {})
        followers = (author.get("public_metrics") or {}).get("followers_count", 0)
        rt = any(r.get("type") == "retweeted" for r in d.get("referenced_tweets") or [])
        return text, d.get("lang", ""), followers, rt
    if "user" in doc or "id_str" in doc:  # Twitter v1.1
        text = (doc.get("extended_tweet") or {}).get("full_text") or doc.get("full_text") \
            or doc.get("text")
        user = doc.get("user") or {}
        return text, doc.get("lang", ""), user.get("followers_count", 0), \
            "retweeted_status" in doc
    author = doc.get("author") or {}
    return doc.get("text"), doc.get("lang", ""), author.get("followers", 0), \
        bool(doc.get("is_retweet"))


def classify(rules, line):
    """None for input that cannot be classified, else (brand ids, fired rules)."""
    try:
        doc = json.loads(line)
        text, lang, followers, rt = post_fields(doc)
    except (ValueError, AttributeError, TypeError):
        return None
    if not isinstance(text, str) or not text:
        return None
    try:
        followers = max(0, int(followers or 0))
    except (ValueError, TypeError):
        followers = 0
    memo = {}
    terms = rules.terms

    def hit(t):
        h = memo.get(t)
        if h is None:
            h = memo[t] = terms[t].search(text) is not None
        return h

    def ev(node):
        if isinstance(node, int):
            return hit(node)
        all_, any_, not_ = node
        return all(ev(x) for x in all_) and (not any_ or any(ev(x) for x in any_)) \
            and not any(ev(x) for x in not_)

    brands = []
    for i, (bid, bterms, excl) in enumerate(rules.brands):
        n = sum(1 for t in bterms if hit(t))
        if n and n > sum(1 for t in excl if hit(t)):
            brands.append(i)
    fired = []
    lang = (lang or "").lower()
    for rid, pol, sev, tree, when in rules.rules:
        if when:
            if when.get("min_followers", -1) > followers:
                continue
            if "retweet" in when and when["retweet"] != rt:
                continue
            if "lang" in when and lang not in when["lang"]:
                continue
            if "brands" in when and not any(b in brands for b in when["brands"]):
                continue
        if ev(tree):
            fired.append((rid, pol, sev))
    return [rules.brands[b][0] for b in brands], fired


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rules", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--max-posts", type=int, default=0)
    args = ap.parse_args()

    rules = Rules(args.rules)
    with open(args.corpus, "rb") as f:
        lines = [ln for ln in f.read().split(b"\n") if ln]
    n = posts = with_brand = with_rule = rejected = 0
    t0 = time.perf_counter()
    while True:
        res = classify(rules, lines[n % len(lines)])
        n += 1
        if res is None:
            rejected += 1
        else:
            with_brand += bool(res[0])
            with_rule += bool(res[1])
        dt = time.perf_counter() - t0
        if dt >= args.seconds or (args.max_posts and n >= args.max_posts):
            break
    posts = n
    print(json.dumps({
        "rules_dir": args.rules, "rules": len(rules.rules), "brands": len(rules.brands),
        "terms": len(rules.terms), "compile_s": round(rules.compile_s, 3),
        "posts": posts, "corpus_posts": len(lines), "subset": posts < len(lines),
        "rejected": rejected, "with_brand": with_brand, "with_rule": with_rule,
        "seconds": round(dt, 3), "posts_per_s": round(posts / dt, 1),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0]}))


if __name__ == "__main__":
    main()
