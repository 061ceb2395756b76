"""``labkit spar ifeval``: score a response file, or have a model answer IFEval's prompts first (resumable:
one record per prompt), then write the four accuracies, per-type accuracies, the failing instructions and a
per-type plot into the run folder."""

from __future__ import annotations

from typing import Any

from labkit.core.models import Sampling, load_model
from labkit.core.models.batching import for_concurrent_callers
from labkit.core.runs import Run, run_items
from labkit.spar.config import IfevalConfig
from labkit.spar.data import IfevalItem
from labkit.spar.ifeval import Matched, Verdict, score_item


def generate_responses(cfg: IfevalConfig, run: Run, items: list[IfevalItem], *,
                       progress: bool | None = None) -> dict[str, dict[str, Any]]:
    """One response per prompt from ``cfg.model`` (cached, batched on local models), recorded as it finishes."""
    model = for_concurrent_callers(load_model(cfg.model), cfg.workers)
    sampling = Sampling(max_tokens=cfg.max_tokens, temperature=cfg.temperature,
                        seed=cfg.seed if cfg.temperature > 0 else None)

    def answer(item: IfevalItem) -> dict[str, Any]:
        done = model.chat([[{"role": "user", "content": item.prompt}]], sampling)[0][0]
        return {"key": item.key, "prompt": item.prompt, "response": done.text, "finish_reason": done.finish_reason,
                "completion_tokens": done.completion_tokens}

    return run_items(run, [(f"gen-{it.key}", it) for it in items], answer, workers=cfg.workers, backend="thread",
                     desc="responses", progress=progress, kinds={"prompt": str, "response": str})


def score_matched(matched: Matched, run: Run, *, progress: bool | None = None
                  ) -> tuple[list[Verdict], list[str]]:
    """Verdicts for every matched response, each recorded in the run (a scored prompt is not re-scored), and one
    line per response whose scoring raised (counted and shown, never dropped silently)."""
    done = run_items(run, [(f"score-{item.key}", (item, response)) for item, response in matched.pairs],
                     lambda pair: score_item(*pair).to_dict(), workers=1, desc="scored", progress=progress,
                     kinds={"key": (int, str), "prompt": str, "response": str, "instruction_ids": list, "strict": list,
                            "loose": list})
    out, failed = [], []
    for item, _ in matched.pairs:
        rec = done[f"score-{item.key}"]
        if rec.get("ok"):
            v = rec["value"]
            out.append(Verdict(v["key"], v["prompt"], v["response"], tuple(v["instruction_ids"]), v["strict"],
                               v["loose"]))
        else:
            failed.append(f"prompt {item.key}: {rec.get('error')}")
    return out, failed


