"""PRAG costs on the embedded model, in one run: online latency and prompt tokens of `prag` against `rag`
at k = 3 (paper, LLaMA-3-8B on an A100: P-RAG 1.29-1.36x faster than standard RAG), offline seconds and
bytes per document, and adapter load+merge time.

    .venv/bin/python benchmarks/bench_prag.py [--docs 10] [--questions 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from labkit.core.config import load_config
from labkit.prag.config import PragConfig
from labkit.prag.corpus import fictional_corpus
from labkit.prag.data import Passage
from labkit.prag.method import ask, encode_run, load_generator, open_store
from labkit.prag.retrieve import build_index, load_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=10)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--k", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-prag-"))
    cfg = load_config(PragConfig, None, [f"index={tmp / 'index'}", f"store={tmp / 'adapters'}", "augmenter=template",
                                         f"top_k={args.k}", "max_new_tokens=20"])
    docs = fictional_corpus(args.docs, seed=0)
    passages, known = [Passage(d.id, d.text) for d in docs], {d.id: d for d in docs}
    build_index(passages, Path(cfg.index))
    start = time.perf_counter()
    enc = encode_run(cfg, passages, known)
    print(f"offline: {enc['trained']} documents, {enc['seconds_per_document']:.2f} s per document (5 sequences, "
          f"1 epoch, paper settings), {enc['bytes_per_document']:,} bytes per adapter (fp32); "
          f"wall {time.perf_counter() - start:.1f} s")
    gen = load_generator(cfg.model)
    index, store = load_index(Path(cfg.index)), open_store(cfg, gen)
    questions = [q for d in docs for q, _ in d.held_out][: args.questions]
    ask(questions[0], "rag", cfg, gen, index, store, known)  # warm-up
    rows = {}
    for mode in ("rag", "prag", "combine"):
        outs = [ask(q, mode, cfg, gen, index, store, known) for q in questions]
        total = [sum(o["seconds"].values()) for o in outs]
        rows[mode] = {"total": statistics.mean(total),
                      "merge": statistics.mean(o["seconds"]["load_merge"] for o in outs),
                      "generate": statistics.mean(o["seconds"]["generate"] for o in outs),
                      "tokens": statistics.mean(o["prompt_tokens"] for o in outs)}
    print(f"\nonline, k={args.k}, {len(questions)} questions, max_new_tokens {cfg.max_new_tokens} (greedy)")
    print(f"{'mode':8} {'s/question':>10} {'load+merge':>10} {'generate':>9} {'prompt tokens':>13}")
    for mode, r in rows.items():
        print(f"{mode:8} {r['total']:10.3f} {r['merge']:10.3f} {r['generate']:9.3f} {r['tokens']:13.1f}")
    print(f"\nrag / prag time ratio: x{rows['rag']['total'] / rows['prag']['total']:.2f} "
          f"(generation only: x{rows['rag']['generate'] / rows['prag']['generate']:.2f}); prompt tokens "
          f"{rows['rag']['tokens']:.0f} vs {rows['prag']['tokens']:.0f}")
    print(f"prag is {'faster' if rows['prag']['total'] < rows['rag']['total'] else 'SLOWER'} than rag at k={args.k} "
          "(paper: 1.29-1.36x on LLaMA-3-8B, its 0.32 s load/merge reported apart)")
    merge_costs(gen, [store.load(d) for d in docs[: args.k]], [d.id for d in docs[: args.k]])


def merge_costs(gen, adapters, names, repeats: int = 5) -> None:
    """Merge + restore of k adapters: labkit's low-rank product with a pristine copy vs the naive way (one
    float64 delta per adapter summed, a fresh copy of every weight to restore from)."""
    import torch

    from labkit.prag.adapters import LoraSpec, delta, ffn_modules, merged

    spec = LoraSpec()

    def naive() -> None:
        with torch.no_grad():
            saved = {}
            for key, module in ffn_modules(gen.model).items():
                total = sum(delta(a, key, spec) for a in adapters)
                saved[key] = module.weight.detach().clone()
                module.weight.add_(total.to(module.weight.dtype))
            for key, original in saved.items():
                ffn_modules(gen.model)[key].weight.copy_(original)

    def ours() -> None:
        with merged(gen.model, adapters, spec, None, names):
            pass

    times = {}
    for name, fn in (("naive float64 + copies", naive), ("low-rank + pristine copy", ours)):
        fn()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        times[name] = (time.perf_counter() - start) / repeats
    a, b = times.values()
    print(f"merge + restore of {len(adapters)} adapters: naive {a:.3f} s, labkit {b:.3f} s (x{a / b:.1f})")


if __name__ == "__main__":
    main()
