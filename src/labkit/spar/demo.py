"""SPaR quick demo on the embedded SmolLM2-135M-Instruct: a few generated prompts with verifiable constraints,
sampled answers labelled by code, the tree-search refinement of failing answers (one tree drawn), the DPO pairs
it produced next to independently sampled pairs, and IFEval on its first prompts. Under two minutes on two cores;
the numbers are a 135M model's, on a handful of prompts."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from labkit.core.models import Sampling, load_model
from labkit.core.models.batching import for_concurrent_callers
from labkit.core.report import markdown_table
from labkit.core.runs import Run, run_items
from labkit.spar.config import IfevalConfig, SearchConfig

PROMPTS, SAMPLES, IFEVAL = 3, 4, 6
SEARCH = SearchConfig(format="plain", depth=2, max_tokens=96)


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return (text[:n] + "...") if len(text) > n else text


def _ifeval_table(run: Run) -> str:
    from labkit.spar.data import ifeval_path, load_ifeval
    from labkit.spar.eval import generate_responses
    from labkit.spar.ifeval import score_item, summarize

    if not ifeval_path().exists():
        return f"IFEval not found at {ifeval_path()}: its table is skipped."
    items = load_ifeval()[:IFEVAL]
    done = generate_responses(IfevalConfig(max_tokens=160, workers=IFEVAL), run, items, progress=False)
    answered = [(x, done[f"gen-{x.key}"]) for x in items if done.get(f"gen-{x.key}", {}).get("ok")]
    s = summarize([score_item(x, r["value"]["response"]) for x, r in answered])
    if not s["prompts"]:
        return "IFEval: no prompt was answered (model errors in the run's results.jsonl)."
    return "\n".join([
        f"IFEval, first {len(answered)} of 541 prompts ({len(items) - len(answered)} failed), greedy, 160 new "
        "tokens (`labkit spar ifeval --model smollm2` runs all 541: strict mean 24.5):", "",
        markdown_table(["prompt strict", "inst. strict", "prompt loose", "inst. loose", "average"],
                       [[f"{s[k]:.1f}" for k in ("prompt_strict", "inst_strict", "prompt_loose", "inst_loose",
                                                 "average")]])])


def run_demo(folder: Path) -> str:
    from labkit.spar.data import ifeval_path, load_ifeval
    from labkit.spar.method import model_refiner, programmatic_judge
    from labkit.spar.pairs import independent_pair, refinement_pair
    from labkit.spar.prompts import programmatic_prompts
    from labkit.spar.tree import Tree, render_tree, search

    folder.mkdir(parents=True, exist_ok=True)
    run = Run(folder)
    exclude = {x.prompt for x in load_ifeval()} if ifeval_path().exists() else set()
    items, _ = programmatic_prompts(PROMPTS, seed=7, exclude=exclude, max_constraints=2)
    model = for_concurrent_callers(load_model("smollm2"), PROMPTS)
    judge = programmatic_judge({x.prompt: x for x in items})
    sampling = Sampling(max_tokens=96, temperature=0.9, top_p=0.9, n=SAMPLES, seed=0)

    def answer(item: Any) -> dict[str, Any]:
        texts = [c.text for c in model.chat([[{"role": "user", "content": item.prompt}]], sampling)[0]]
        votes = judge([(item.prompt, t) for t in texts])
        return {"responses": texts, "passed": [v.value > 0.5 for v in votes], "critiques": [v.critique for v in votes]}

    samples = run_items(run, [(f"sample-{x.key}", x) for x in items], answer, workers=PROMPTS, backend="thread",
                        progress=False)
    ok = [(x, samples[f"sample-{x.key}"]["value"]) for x in items if samples[f"sample-{x.key}"].get("ok")]
    refine = model_refiner(for_concurrent_callers(load_model("smollm2"), PROMPTS), SEARCH)

    def tree_for(pair: tuple[Any, dict[str, Any]]) -> dict[str, Any]:
        item, s = pair
        i = s["passed"].index(False)
        return search(item.prompt, s["responses"][i], s["critiques"][i], refine, judge, SEARCH).to_dict()

    failing = [(x, s) for x, s in ok if not all(s["passed"])][:1]  # one tree, to keep the demo short
    trees = run_items(run, [(f"tree-{x.key}", (x, s)) for x, s in failing], tree_for, workers=PROMPTS,
                      backend="thread", progress=False)
    rng = random.Random(0)
    rows, pairs = [], []
    for x, s in ok:
        rows.append([_short(x.prompt, 90), ", ".join(x.instruction_ids), f"{sum(s['passed'])}/{len(s['passed'])}"])
        tree = trees.get(f"tree-{x.key}", {})
        for p in (refinement_pair(x.prompt, tree["value"]) if tree.get("ok") else None,
                  independent_pair(x.prompt, s["responses"], s["passed"], rng)):
            if p is not None:
                pairs.append([p["source"], _short(p["chosen"], 50), _short(p["rejected"], 50),
                              f"{p['similarity']:.2f}"])
    drawn = next((t["value"] for t in trees.values() if t.get("ok") and t["value"]["success"]),
                 next((t["value"] for t in trees.values() if t.get("ok")), None))
    drawing = "no sampled answer failed: nothing to refine" if drawn is None else \
        f"Prompt: {_short(drawn['prompt'], 200)}\n" + render_tree(Tree.from_dict(drawn))
    failed = sum(not r.get("ok") for r in [*samples.values(), *trees.values()])
    return "\n".join([
        "## SPaR: tree-search refinement on SmolLM2-135M-Instruct", "",
        f"{PROMPTS} generated prompts with verifiable constraints (checked by IFEval's own code), {SAMPLES} sampled "
        f"answers each (T 0.9), the first prompt's failing answer refined by BFS (branch 3, keep 2, depth "
        f"{SEARCH.depth}, plain rewrites). {failed} step(s) failed.", "",
        markdown_table(["prompt", "constraints", "answers passing"], rows), "",
        "One tree (V = 1 when every constraint of the prompt holds, else 0; the result marked):", "",
        "```", drawing, "```", "",
        "DPO pairs (refinement: the tree's passing result vs the answer it refined; independent: a passing and a "
        "failing sample, the paper's 'w/o refinement' ablation); similarity = rapidfuzz ratio:", "",
        markdown_table(["source", "chosen", "rejected", "similarity"], pairs) if pairs else "no pair this time.", "",
        _ifeval_table(run), ""])
