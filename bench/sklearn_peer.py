#!/usr/bin/env python3
"""The scikit-learn peer for the model row of bench/run: the same kind of
model earshot train builds (word 1-2 grams, binary TF x IDF, L2 norm,
logistic regression) trained on the same labelled posts, and its predict
timed on the same posts earshot classifies: what a team would run without
earshot.

Prints one JSON object: {"posts", "features", "fit_s", "posts_per_s"
(one post per predict call, as a stream consumer handles each message),
"batch_posts_per_s" (batches of 1000: the best case for scikit-learn, and
latency a care team would not accept)}. predict =
TfidfVectorizer.transform + LogisticRegression.predict, single process.

usage: sklearn_peer.py LABELLED.jsonl [--max-features N] [--posts N]
"""
import argparse
import json
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression


def text_of(d):
    return (d.get("data") or {}).get("text") or d.get("text") or d.get("full_text") or ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("labelled")
    ap.add_argument("--max-features", type=int, default=50000)
    ap.add_argument("--posts", type=int, default=20000)
    a = ap.parse_args()
    texts, labels = [], []
    with open(a.labelled, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            texts.append(text_of(d))
            labels.append(str(d.get("label")))
    t0 = time.perf_counter()
    vec = TfidfVectorizer(ngram_range=(1, 2), binary=True, max_features=a.max_features,
                          token_pattern=r"(?u)\b\w+\b")
    x = vec.fit_transform(texts)
    clf = LogisticRegression(max_iter=200).fit(x, labels)
    fit_s = time.perf_counter() - t0
    sample = texts[: a.posts]
    t0 = time.perf_counter()
    for i in range(0, len(sample), 1000):
        clf.predict(vec.transform(sample[i:i + 1000]))
    batch_s = time.perf_counter() - t0
    one = sample[: max(1, a.posts // 10)]
    t0 = time.perf_counter()
    for t in one:
        clf.predict(vec.transform([t]))
    one_s = time.perf_counter() - t0
    print(json.dumps({"posts": len(sample), "features": len(vec.vocabulary_),
                      "fit_s": round(fit_s, 3),
                      "posts_per_s": round(len(one) / one_s, 1),
                      "batch_posts_per_s": round(len(sample) / batch_s, 1)}))


if __name__ == "__main__":
    main()
