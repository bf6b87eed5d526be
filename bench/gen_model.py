#!/usr/bin/env python3
"""Pad a model that `earshot train` wrote to N n-grams, for the model-size
row of bench/run: a care team's model grows with its labelled history, and
what the bench must show is how serving cost grows with the number of
n-grams in the one Hyperscan database.

The padding n-grams are unigrams and bigrams of words the corpus really
uses (so some of them hit, as a larger model's would), with small weights
and the IDF of a rare feature; the trained n-grams are kept as they are.
The file is written the way model_file.c reads it: features sorted
bytewise, numbers that round-trip, and the version digest recomputed
(FNV-1a over tokenizer, normalizer, norm, classes, biases and features,
numbers as %.17g, every field NUL-terminated), so model_load accepts it.

usage: gen_model.py MODEL.json CORPUS.jsonl N OUT.json [--seed S]
"""
import argparse
import json
import random
import re

FNV_OFFSET = 1469598103934665603
FNV_PRIME = 1099511628211
MASK = (1 << 64) - 1


def fnv(h, data):
    for b in data:
        h = ((h ^ b) * FNV_PRIME) & MASK
    return h


def hash_str(h, s):
    return fnv(h, s.encode() + b"\0")


def hash_num(h, v):
    return fnv(h, ("%.17g" % v).encode() + b"\0")


def digest(m):
    h = FNV_OFFSET
    for k in ("tokenizer", "normalizer", "norm"):
        h = hash_str(h, m[k])
    for c, b in zip(m["classes"], m["bias"]):
        h = hash_num(hash_str(h, c), b)
    for row in m["features"]:
        h = hash_num(hash_str(h, row[0]), row[1])
        for w in row[2:]:
            h = hash_num(h, w)
    return "%016x" % h


def corpus_words(path, limit=200000):
    words, bigrams = {}, {}
    word = re.compile(r"[a-z0-9]+")
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= limit:
                break
            try:
                d = json.loads(line)
            except ValueError:
                continue
            text = (d.get("data") or {}).get("text") or d.get("text") or d.get("full_text") or ""
            toks = word.findall(text.lower())
            for a, b in zip(toks, toks[1:]):
                bigrams[a + " " + b] = 1
            for t in toks:
                words[t] = 1
    return list(words), list(bigrams)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("corpus")
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    m = json.load(open(a.model, encoding="utf-8"))
    have = {row[0] for row in m["features"]}
    rng = random.Random(a.seed)
    words, bigrams = corpus_words(a.corpus)
    rng.shuffle(words)
    rng.shuffle(bigrams)
    pool = [w for w in bigrams + words if w not in have]
    k = len(m["classes"])
    # Beyond the corpus's own n-grams: made-up words that never hit, which
    # still cost the database what a rare feature costs.
    i = 0
    while len(have) + len(pool) < a.n:
        pool.append("zq%07d" % i)
        i += 1
    for feat in pool[: max(0, a.n - len(have))]:
        m["features"].append([feat, 8.0] + [rng.uniform(-0.05, 0.05) for _ in range(k)])
    m["features"].sort(key=lambda r: r[0].encode())
    m["version"] = digest(m)
    m["training"] = dict(m.get("training") or {}, padded_to=a.n)
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(m, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
