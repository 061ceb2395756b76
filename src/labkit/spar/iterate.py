"""One SPaR iteration (Sec. 3, Alg. 1) as resumable run steps, and chained iterations (M_{t+1} from M_t):

1. sample: the actor answers every training prompt ``samples`` times (paper: 5, T 0.9, top-p 0.9);
2. label: the verifier marks each response (code: the prompt's IFEval-style checks; llm: the refiner's votes);
3. search: for each prompt with a failing response, one failing response (seeded pick) is refined by the tree
   search - or, for the "w/o refinement" ablation, a passing and a failing sample are paired directly;
4. pairs: TRL-ready DPO pairs (``pairs.jsonl`` in the iteration's folder) with their string similarity, and the
   refiner's RFT data with the paper's caps (``rft.jsonl``, TRL SFT rows; see ``rft``);
5. train: TRL DPO (beta 0.1 + SFT term 0.1) on the actor, LoRA merged into a model folder for the next step;
   the refiner is fine-tuned on its RFT rows (TRL SFT) when another iteration will use it (``rft.train``), and
   R_{t+1} refines and judges in iteration t+1 (the judge follows the refiner when they were the same model);
6. evaluate: greedy answers of M_t and M_{t+1} on held-out generated prompts (pass rate by code) and on IFEval
   (strict and loose).

Every step writes its records to the run's ``results.jsonl`` as it goes, so a killed iteration continues where
it stopped; each record is keyed by iteration, step and prompt.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError
from labkit.core.models import Sampling, load_model
from labkit.core.models.batching import for_concurrent_callers
from labkit.core.runs import Run, run_items
from labkit.spar.config import SparConfig
from labkit.spar.data import IfevalItem
from labkit.spar.ifeval import score_item, summarize
from labkit.spar.method import check_constraints, model_judge, model_refiner, programmatic_judge
from labkit.spar.pairs import decided, independent_pair, refinement_pair
from labkit.spar.prompts import programmatic_prompts
from labkit.spar.rft import rft_rows
from labkit.spar.train import DpoSettings, RftSettings, merged_folder, model_path
from labkit.spar.train_job import run_training
from labkit.spar.tree import search


def _ok(records: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The finished records' values; failed ones (model errors) are counted and the first shown on stderr."""
    failed = [r for r in records.values() if not r.get("ok")]
    if failed:
        print(f"{len(failed)} of {len(records)} step(s) failed; first: {failed[0]['key']}: {failed[0].get('error')}",
              file=sys.stderr)
    return {k: r["value"] for k, r in records.items() if r.get("ok")}


def _pending(run: Run, keys: list[str]) -> bool:
    latest = run.latest()
    return any(not latest.get(k, {}).get("ok") for k in keys)


@contextlib.contextmanager
def served(cfg: SparConfig, specs: dict[str, str], needed: bool = True) -> Iterator[dict[str, str]]:
    """The specs to call for the block: with ``iterate.serve`` = vllm or labkit, each distinct local model (smollm2,
    hf:<dir>: the newest weights) behind an OpenAI-compatible server started for the block - endpoint specs and
    ``serve: none`` pass through, and nothing starts when the step has nothing left to do (``needed``)."""
    if cfg.iterate.serve == "none" or not needed:
        yield dict(specs)
        return
    from labkit.core.launch import launched

    out: dict[str, str] = {}
    by_spec: dict[str, str] = {}
    with contextlib.ExitStack() as stack:
        for role, spec in specs.items():
            if spec not in by_spec:
                try:
                    folder = model_path(spec)
                except ConfigError:  # already an endpoint
                    by_spec[spec] = spec
                else:
                    by_spec[spec] = stack.enter_context(launched(folder, cfg.iterate.serve, role))
            out[role] = by_spec[spec]
        yield out


def _tree_keys(items: list[IfevalItem], samples: dict[str, Any], t: int) -> list[str]:
    """The tree searches an iteration runs: one per prompt with a (decided) failing sample."""
    out = []
    for x in items:
        s = samples.get(f"it{t}-sample-{x.key}")
        if s and any(not s["passed"][i] for i in decided(s)[0]):
            out.append(f"it{t}-tree-{x.key}")
    return out


def _calling(cfg: SparConfig, specs: dict[str, str]) -> SparConfig:
    """``cfg`` with the judge and refiner replaced by what ``served`` gave for them."""
    judge = dataclasses.replace(cfg.judge, model=specs.get("judge", cfg.judge.model))
    return dataclasses.replace(cfg, judge=judge, refiner=specs.get("refiner", cfg.refiner))


def sample_step(cfg: SparConfig, run: Run, actor: str, items: list[IfevalItem], t: int) -> dict[str, Any]:
    it = cfg.iterate
    model = for_concurrent_callers(load_model(actor), it.workers)
    sampling = Sampling(max_tokens=it.max_tokens, temperature=it.temperature, top_p=it.top_p, n=it.samples,
                        seed=it.seed + t)
    judge = programmatic_judge({x.prompt: x for x in items}) if it.verifier == "code" else \
        model_judge(load_model(cfg.judge.model), cfg.judge)

    def answer(item: IfevalItem) -> dict[str, Any]:
        texts = [c.text for c in model.chat([[{"role": "user", "content": item.prompt}]], sampling)[0]]
        votes = judge([(item.prompt, r) for r in texts])
        return {"key": item.key, "prompt": item.prompt, "instruction_ids": list(item.instruction_ids),
                "kwargs": list(item.kwargs), "responses": texts,
                "passed": [v.value > cfg.search.end_gate for v in votes], "values": [v.value for v in votes],
                "undecided": [v.yes == v.no for v in votes],  # a tie, or no parseable vote: not labelled
                "critiques": [v.critique for v in votes]}

    return _ok(run_items(run, [(f"it{t}-sample-{x.key}", x) for x in items], answer, workers=it.workers,
                         backend="thread", desc=f"iteration {t}: samples"))


def pair_step(cfg: SparConfig, run: Run, items: list[IfevalItem], samples: dict[str, Any], t: int
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """DPO pairs: refinement pairs from tree searches (resumable per prompt), or independent pairs; and the
    finished trees (none for independent pairs)."""
    it = cfg.iterate
    by_key = {f"it{t}-sample-{x.key}": x for x in items}
    rng = random.Random(it.seed + t)
    if it.pairs == "independent":
        pairs = [independent_pair(by_key[k].prompt, [s["responses"][i] for i in keep], [s["passed"][i] for i in keep],
                                  rng) for k, s in samples.items() for keep in [decided(s)[0]]]
        return [p for p in pairs if p is not None], []
    judge = programmatic_judge({x.prompt: x for x in items}) if it.verifier == "code" else \
        model_judge(load_model(cfg.judge.model), cfg.judge)
    refine = model_refiner(for_concurrent_callers(load_model(cfg.refiner), it.workers), cfg.search)
    roots = []
    for k, s in samples.items():
        failing = [i for i in decided(s)[0] if not s["passed"][i]]
        if failing:
            i = rng.choice(failing)
            roots.append((by_key[k], s["responses"][i], s["critiques"][i]))

    def tree_for(root: tuple[IfevalItem, str, str]) -> dict[str, Any]:
        item, response, critique = root
        tree = search(item.prompt, response, critique or "Final Judgement: No", refine, judge, cfg.search)
        return {"key": item.key, "prompt": item.prompt, "tree": tree.to_dict()}

    trees = _ok(run_items(run, [(f"it{t}-tree-{r[0].key}", r) for r in roots], tree_for, workers=it.workers,
                          backend="thread", desc=f"iteration {t}: tree searches"))
    pairs = [refinement_pair(v["prompt"], v["tree"]) for v in trees.values()]
    return [p for p in pairs if p is not None], list(trees.values())


def evaluate(cfg: SparConfig, run: Run, spec: str, tag: str, held_out: list[IfevalItem],
             ifeval: list[IfevalItem]) -> dict[str, Any]:
    """Greedy answers of ``spec``: pass rate on the held-out generated prompts, IFEval strict and loose."""
    keys = [f"eval-{tag}-held-{x.key}" for x in held_out] + [f"eval-{tag}-ifeval-{x.key}" for x in ifeval]
    with served(cfg, {"actor": spec}, _pending(run, keys)) as calls:
        return {**_evaluate(cfg, run, calls["actor"], tag, held_out, ifeval), "model": spec}


def _evaluate(cfg: SparConfig, run: Run, spec: str, tag: str, held_out: list[IfevalItem],
              ifeval: list[IfevalItem]) -> dict[str, Any]:
    it = cfg.iterate
    model = for_concurrent_callers(load_model(spec), it.workers)
    sampling = Sampling(max_tokens=it.eval_max_tokens, temperature=0.0)

    def answer(item: IfevalItem) -> str:
        return model.chat([[{"role": "user", "content": item.prompt}]], sampling)[0][0].text

    both = [("held", x) for x in held_out] + [("ifeval", x) for x in ifeval]
    done = _ok(run_items(run, [(f"eval-{tag}-{kind}-{x.key}", x) for kind, x in both], answer, workers=it.workers,
                         backend="thread", desc=f"evaluate {tag}"))
    held = [all(check_constraints(x, done[f"eval-{tag}-held-{x.key}"])) for x in held_out
            if f"eval-{tag}-held-{x.key}" in done]
    verdicts = [score_item(x, done[f"eval-{tag}-ifeval-{x.key}"]) for x in ifeval
                if f"eval-{tag}-ifeval-{x.key}" in done]
    s = summarize(verdicts) if verdicts else {}
    return {"model": spec, "held_out_pass": 100 * sum(held) / len(held) if held else None, "held_out": len(held),
            "ifeval": {k: s[k] for k in ("prompts", "prompt_strict", "inst_strict", "prompt_loose", "inst_loose",
                                         "average", "strict_mean") if k in s},
            "failed_answers": len(both) - len(done)}


def refiner_step(cfg: SparConfig, run: Run, rows: list[dict[str, Any]], folder: Path, t: int
                 ) -> tuple[str | None, dict[str, Any] | None]:
    """R_{t+1} from R_t on the RFT rows (resumable step ``it<t>-rft``): the new refiner spec and the training
    record, or (None, why not) when it is not trained."""
    r, last = cfg.rft, t == cfg.iterate.iterations - 1
    if r.train == "never" or (r.train == "auto" and last):
        return None, None
    if not rows:
        return None, {"note": "no RFT rows: refiner unchanged"}
    try:
        model_path(cfg.refiner)
    except ConfigError as exc:  # an endpoint refiner: trained with the GPU recipe, not here
        if r.train == "always":
            raise
        return None, {"note": f"refiner not trained: {exc}"}
    settings = RftSettings(lr=r.lr, epochs=r.epochs, batch=r.batch, lora_rank=r.lora_rank, seed=cfg.iterate.seed + t)
    done = _ok(run_items(run, [(f"it{t}-rft", rows)], functools.partial(
        run_training, "rft", cfg.refiner, out=folder / "refiner_adapter", settings=settings,
        launcher=cfg.iterate.launcher, accelerate_config=cfg.iterate.accelerate_config), workers=1,
        desc=f"iteration {t}: refiner RFT"))
    if f"it{t}-rft" not in done:
        raise RuntimeError(f"iteration {t}: refiner training failed (see {run.dir / 'results.jsonl'})")
    rec = done[f"it{t}-rft"]
    merged = merged_folder(folder / "refiner_adapter", Path(rec["base"]), folder / "refiner")
    return f"hf:{merged}", {k: rec[k] for k in ("rows", "loss_before", "loss_after", "seconds")}


def iterate(cfg: SparConfig, run: Run, ifeval: list[IfevalItem]) -> list[dict[str, Any]]:
    """``cfg.iterate.iterations`` chained iterations; returns one summary per iteration."""
    it = cfg.iterate
    exclude = {x.prompt for x in ifeval}
    held_out, _ = programmatic_prompts(it.held_out, seed=10_000 + it.seed, exclude=exclude, start_key=900_000)
    actor, summaries = cfg.actor, []
    before = evaluate(cfg, run, actor, "m0", held_out, ifeval)
    for t in range(it.iterations):
        folder = run.dir / f"iter{t}"
        folder.mkdir(exist_ok=True)
        items, _ = programmatic_prompts(it.prompts, seed=it.seed + 100 * t, exclude=exclude | {x.prompt for x in
                                                                                                held_out})
        llm = {"judge": cfg.judge.model} if it.verifier == "llm" else {}
        with served(cfg, {"actor": actor, **llm}, _pending(run, [f"it{t}-sample-{x.key}" for x in items])) as calls:
            samples = sample_step(_calling(cfg, calls), run, calls["actor"], items, t)
        trees_left = it.pairs == "refine" and _pending(run, _tree_keys(items, samples, t))
        with served(cfg, {"refiner": cfg.refiner, **llm}, trees_left) as calls:
            pairs, trees = pair_step(_calling(cfg, calls), run, items, samples, t)
        if it.max_pairs is not None and len(pairs) > it.max_pairs:
            pairs = random.Random(it.seed + t).sample(pairs, it.max_pairs)
        (folder / "pairs.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pairs))
        rft = rft_rows(trees, list(samples.values()), cfg.search.format)  # the refiner's RFT data (TRL SFT rows)
        (folder / "rft.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rft))
        rft_counts = dict(Counter(r["kind"] for r in rft))
        new_refiner, refiner_train = refiner_step(cfg, run, rft, folder, t)
        if new_refiner is not None:  # R_{t+1} refines (and judges, when it was the judge) from the next iteration
            judge = dataclasses.replace(cfg.judge, model=new_refiner) if cfg.judge.model == cfg.refiner else cfg.judge
            cfg = dataclasses.replace(cfg, refiner=new_refiner, judge=judge)
        if not pairs:  # nothing to learn from: said in the summary, the actor stays as it is
            summaries.append({"iteration": t, "prompts": len(items), "pairs": 0, "pair_source": it.pairs,
                              "rft_rows": rft_counts, "refiner_train": refiner_train,
                              "note": "no pairs (no failing prompt, or no refinement passed): actor unchanged",
                              "before": before, "after": before})
            continue
        d = cfg.dpo
        settings = DpoSettings(beta=d.beta, sft_weight=d.sft_weight, lr=d.lr, epochs=d.epochs, batch=d.batch,
                               lora_rank=d.lora_rank, seed=it.seed + t)
        trained = _ok(run_items(run, [(f"it{t}-train", pairs)],
                                functools.partial(run_training, "dpo", actor, out=folder / "adapter",
                                                  settings=settings, launcher=it.launcher,
                                                  accelerate_config=it.accelerate_config), workers=1,
                                desc=f"iteration {t}: DPO"))
        if f"it{t}-train" not in trained:
            raise RuntimeError(f"iteration {t}: training failed (see {run.dir / 'results.jsonl'})")
        train = trained[f"it{t}-train"]
        actor = f"hf:{merged_folder(folder / 'adapter', Path(train['base']), folder / 'model')}"
        after = evaluate(cfg, run, actor, f"m{t + 1}", held_out, ifeval)
        passed = [s["passed"][i] for s in samples.values() for i in decided(s)[0]]
        summaries.append({"iteration": t, "prompts": len(items), "responses": len(passed),
                          "undecided": sum(decided(s)[1] for s in samples.values()),
                          "sample_pass": 100 * sum(passed) / len(passed) if passed else None,
                          "prompts_with_failure": sum(any(not s["passed"][i] for i in decided(s)[0])
                                                      for s in samples.values()),
                          "sampling_failed": len(items) - len(samples),
                          "pairs": len(pairs), "pair_source": it.pairs, "rft_rows": rft_counts,
                          "refiner_train": refiner_train, "next_refiner": cfg.refiner,
                          "pair_similarity": sum(p["similarity"] for p in pairs) / len(pairs) if pairs else None,
                          "train": {k: train[k] for k in ("before", "after", "seconds", "lora_rank")},
                          "before": before, "after": after})
        before = after
    return summaries
