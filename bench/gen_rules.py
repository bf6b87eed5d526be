#!/usr/bin/env python3
"""Generate a rules directory of N rules for benchmarks (bench/run).

The rules look like what a care team accumulates: brands with aliases,
handles and hashtags (N/20 of them), and per-brand or general phrase rules
built from product nouns and complaint/praise/question predicates, with
any/all/not structure and a few regex terms. Deterministic for a seed.

With --base DIR (bench/run passes the default rules/), DIR's rule files (not
a trained model) are copied in first and only N minus their rule count are
generated, so the set
holds N rules in all and the generated posts (which name the default brands)
still find their brands and complaints among the synthetic ones.

usage: gen_rules.py N OUT_DIR [--seed S] [--base DIR]
"""
import argparse
import json
import os
import random
import shutil

PRODUCTS = """internet wifi router modem cable tv bill invoice payment account app website
laptop battery screen keyboard charger phone plan data signal coverage tower flight
seat bag luggage gate crew pilot ticket booking refund order package delivery driver
pizza crust topping store checkout cashier manager pharmacy return exchange warranty
repair technician appointment install upgrade contract fee charge card login password
email support chat agent hold queue line call voicemail callback printer camera film
lens car dealer engine recall transmission tax return filing preparer office""".split()

PROBLEMS = """is down|keeps dropping|stopped working|is broken|never arrived|was cancelled
|is delayed|got lost|was damaged|is so slow|keeps crashing|charged twice|was overcharged
|is a scam|is a joke|is useless|is garbage|makes no sense|won't load|won't connect
|wasted hours|is missing|came late|was cold|was wrong|is terrible|is the worst
|has no signal|keeps rebooting|failed again""".replace("\n", "").split("|")

PRAISE = """is awesome|rocks|is amazing|was fast|saved my day|is the best|was perfect
|exceeded expectations|works great|was so helpful""".replace("\n", "").split("|")

QUESTIONS = """how do i|how can i|is there a way to|does anyone know if|why is my
|when will my|can someone help with|who do i call about""".replace("\n", "").split("|")

TOPICS = ["wait_time", "automated_phone", "billing", "outage", "delivery",
          "rude_staff", "refund", "cancel_threat", "bad_service", "product_defect"]

SYLLABLES = "ka lo mi ner vo tra zen qui pax dor bel fi ru sta gon lex mar tiv ora nu".split()


def brand_name(rng, used):
    while True:
        name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))).capitalize()
        if name.lower() not in used:
            used.add(name.lower())
            return name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--base", help="rules directory to include as-is")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    n_base = 0
    if args.base:
        for name in sorted(os.listdir(args.base)):
            if name.endswith(".json"):
                with open(os.path.join(args.base, name), encoding="utf-8") as f:
                    doc = json.load(f)
                # A trained model (rules/care-model.json) is left out: these
                # sets measure rules, and bench/run's model stage adds its
                # own (one model per rules directory).
                if "earshot_model" in doc:
                    continue
                n_base += len(doc.get("rules", []))
                # "0-" sorts before the generated files: load order as in rules/.
                shutil.copyfile(os.path.join(args.base, name),
                                os.path.join(args.out, "0-" + name))
    n_gen = max(0, args.n - n_base)

    used = set()
    brands = []
    for i in range(max(12, n_gen // 20)):
        name = brand_name(rng, used)
        low = name.lower()
        brands.append({
            "id": f"b{i}_{low}", "name": name,
            "aliases": [low, f"{low} {rng.choice(PRODUCTS)}"],
            "handles": [f"@{low}", f"@{low}help"],
            "hashtags": [f"#{low}"],
            "misspellings": [low[:-1] + low[-1] * 2],
        })

    rules = []
    seen = set()
    i = 0
    while len(rules) < n_gen:
        i += 1
        kind = rng.random()
        product = rng.choice(PRODUCTS)
        if kind < 0.6:
            pol, phrase = "complaint", f"{product} {rng.choice(PROBLEMS)}"
        elif kind < 0.8:
            pol, phrase = "praise", f"{product} {rng.choice(PRAISE)}"
        else:
            pol, phrase = "question", f"{rng.choice(QUESTIONS)} {product}"
        # Distinct rules need distinct structure: vary with a brand-specific
        # qualifier once the plain phrase space is used up.
        brand = rng.choice(brands)
        key = phrase
        if key in seen:
            key = f"{brand['aliases'][0]} {phrase}"
            if key in seen:
                continue
        seen.add(key)
        rule = {"id": f"gen.{len(rules)}", "tag": rng.choice(TOPICS) if pol == "complaint" else pol,
                "polarity": pol, "severity": rng.randint(5, 60), "any": [key]}
        r = rng.random()
        if r < 0.2:
            rule["not"] = [rng.choice(["just kidding", "not really", "jk"])]
        elif r < 0.3:
            rule["when"] = {"brands": [brand["id"]]}
        elif r < 0.33:
            rule["any"].append({"regex": r"\b" + product + r"\s+(is|was)\s+\w+"})
        rules.append(rule)

    with open(os.path.join(args.out, "brands.json"), "w") as f:
        json.dump({"brands": brands}, f, indent=1)
    with open(os.path.join(args.out, "rules.json"), "w") as f:
        json.dump({"rules": rules}, f, indent=1)


if __name__ == "__main__":
    main()
