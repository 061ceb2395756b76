"""What the merge does with k = 3: the weight each retrieved adapter gets, by retrieval rank, for every merge
(sum, mean, weighted, softmax at T = 1, 0.5, 0.25), on the fictional corpus with two-hop questions - retrieval
only, no model, seconds. For a two-hop question the second passage (the river's, which holds the answer) is
needed: the table says how often BM25 retrieves it in the top 3 and what weight its adapter gets then.

    .venv/bin/python benchmarks/bench_prag_weights.py [--docs 30] [--two-hop 10] [--k 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from labkit.prag.corpus import fictional_corpus
from labkit.prag.data import Passage
from labkit.prag.method import merge_weights
from labkit.prag.retrieve import build_index, load_index

MERGES = [("sum", 1.0), ("mean", 1.0), ("weighted", 1.0), ("softmax", 1.0), ("softmax", 0.5), ("softmax", 0.25)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=30)
    parser.add_argument("--two-hop", type=int, default=10)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    docs = fictional_corpus(args.docs, seed=0, two_hop=args.two_hop)
    folder = Path(tempfile.mkdtemp(prefix="bench-prag-weights-")) / "index"
    build_index([Passage(d.id, d.text) for d in docs], folder)
    index = load_index(folder)
    by_river = {d.facts["river"]: d.id for d in docs if "sea" in d.facts}
    asked = [(q, t, d) for d in docs for (q, _), t in zip(d.held_out, d.held_out_types, strict=True)]
    hits = {q: index.search(q, k=args.k) for q, _, _ in asked}
    print(f"{len(docs)} passages, {len(asked)} questions ({sum(t == 'two-hop' for _, t, _ in asked)} two-hop), "
          f"BM25 top {args.k}")
    print(f"\n{'merge':14} {'mean weight by rank':>24} {'median top':>10} {'top >= 0.99':>11}")
    for kind, temp in MERGES:
        weights = [merge_weights(kind, [s for _, s in hits[q]], temp) for q, _, _ in asked]
        ranks = " / ".join(f"{statistics.fmean(w[r] for w in weights if len(w) > r):.3f}" for r in range(args.k))
        name = f"{kind} T={temp:g}" if kind == "softmax" else kind
        share = f"{sum(w[0] >= 0.99 for w in weights) / len(weights):11.0%}" if kind in ("mean", "softmax") \
            else f"{'-':>11}"  # sum and weighted do not add up to 1
        print(f"{name:14} {ranks:>24} {statistics.median(w[0] for w in weights):10.3f} {share}")
    two_hop = [(q, d) for q, t, d in asked if t == "two-hop"]
    if not two_hop:
        return
    first = sum(hits[q][0][0].id == d.id for q, d in two_hop)
    second = [(q, [p.id for p, _ in hits[q]].index(by_river[d.facts["river"]]))
              for q, d in two_hop if by_river[d.facts["river"]] in [p.id for p, _ in hits[q]]]
    print(f"\ntwo-hop: the ferryman's passage ranks first for {first}/{len(two_hop)}; the river's passage (holding "
          f"the answer) is in the top {args.k} for {len(second)}/{len(two_hop)}")
    for kind, temp in MERGES[3:]:
        got = [merge_weights(kind, [s for _, s in hits[q]], temp)[r] for q, r in second]
        if got:
            print(f"  softmax T={temp:g}: the river adapter's weight " + ", ".join(f"{g:.4f}" for g in got)
                  + f" (at rank {', '.join(str(r + 1) for _, r in second)})")


if __name__ == "__main__":
    main()
