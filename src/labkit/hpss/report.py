"""Write an HPSS run's outputs: trajectory, best strategy (YAML + rendered template), correlations
with bootstrap CIs against the MT-Bench default, a best-so-far plot, metrics and report."""

from __future__ import annotations

import json
from typing import Any

import yaml

from labkit.core.cache import STATS
from labkit.core.metrics import Interval
from labkit.core.report import figure, markdown_table, save_figure
from labkit.core.runs import Run
from labkit.hpss.data import Item
from labkit.hpss.eval import correlation_table, paired_bootstrap
from labkit.hpss.method import Evaluator, Prepared, strategy_id
from labkit.hpss.prompts import PROMPT_VERSION, render_prompt, scale_range
from labkit.hpss.searchers import Ledger
from labkit.hpss.space import Strategy

PLACEHOLDER = Item("template", {"source": "{source}", "context": "{context}", "output": "{output}"}, {})


def _vectors(ev: Evaluator, strategy: Strategy) -> tuple[list[float], list[float], list[Any] | None]:
    """Human and judge scores of one strategy under the run's unparsed policy (failed calls out)."""
    record = ev.records[ev.key(strategy)]
    return ev.scored(record["ratings"], list(range(len(ev.items))), record["strategy"]["scale"],
                     frozenset(record.get("failed_items", [])))


def table(ev: Evaluator, strategy: Strategy, n_boot: int, seed: int) -> dict[str, Interval]:
    human, pred, groups = _vectors(ev, strategy)
    return correlation_table(human, pred, groups, n_boot=n_boot, seed=seed)


def trajectory(ledger: Ledger, ev: Evaluator) -> list[dict[str, Any]]:
    rows, calls, best = [], 0, float("-inf")
    for step in ledger.steps:
        rec = ev.records[ev.key(step.strategy)]
        calls += rec["calls"]
        best = max(best, step.score)
        rows.append({"evaluation": step.evaluation, "how": step.how, "strategy": rec["strategy"],
                     "spearman": rec["spearman"], "pearson": rec["pearson"], "kendall": rec["kendall"],
                     "unparsed": rec["unparsed"], "failed": rec["failed"], "pruned": rec["pruned"],
                     "calls": rec["calls"], "cumulative_calls": calls, "best_so_far": best})
    return rows


def export_strategy(p: Prepared, strategy: Strategy) -> dict[str, Any]:
    """A self-contained judge: the strategy plus its fixed side information."""
    values = p.space.as_dict(strategy)
    fixed = p.setup.side.pieces(values, p.test.items[0], "test")
    low, high = scale_range(p.task, p.cfg.aspect, values["scale"])
    return {"prompt_version": PROMPT_VERSION, "task": p.task.name, "aspect": p.cfg.aspect,
            "judge": p.cfg.judge, "data": p.cfg.data, "strategy": values, "scale_range": [low, high],
            "criterion": fixed.criterion, "autocot": fixed.autocot, "examples": fixed.examples,
            "side_info_sources": dict(p.setup.side.sources)}


def write_report(p: Prepared, run: Run, ledger: Ledger, valid: Evaluator, test: Evaluator,
                 cost: dict[str, Any]) -> dict[str, Any]:
    cfg = p.cfg
    best = ledger.best().strategy
    rows = trajectory(ledger, valid)
    with open(run.dir / "trajectory.jsonl", "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    exported = export_strategy(p, best)
    (run.dir / "best.yaml").write_text(yaml.safe_dump(exported, sort_keys=False, allow_unicode=True))
    template = render_prompt(p.task, cfg.aspect, exported["strategy"], PLACEHOLDER,
                             p.setup.side.pieces(exported["strategy"], p.test.items[0], "test"))
    (run.dir / "best_prompt.md").write_text(
        f"# Best strategy `{strategy_id(best)}`\n\n## system\n\n{template[0]['content']}\n\n## user\n\n"
        "(`{source}`, `{context}`, `{output}` stand for an item's fields; per-item metric questions and "
        "references are filled per item.)\n\n```text\n" + template[1]["content"] + "\n```\n")

    pairs = (("best", best), ("default", p.default))
    tables = {(split, name): table(ev, s, cfg.n_boot, cfg.seed)
              for split, ev in (("valid", valid), ("test", test)) for name, s in pairs}
    h, best_pred, groups = _vectors(test, best)
    _, default_pred, _ = _vectors(test, p.default)
    same_items = len(best_pred) == len(default_pred)
    diff = (paired_bootstrap(h, best_pred, default_pred, groups, n_boot=cfg.n_boot, seed=cfg.seed)
            if same_items else None)

    fig, ax = figure(6, 3.5)
    ax.plot([r["cumulative_calls"] for r in rows], [r["best_so_far"] for r in rows], drawstyle="steps-post")
    ax.axhline(valid.records[valid.key(p.default)]["spearman"], color="grey", ls="--", label="MT-Bench default")
    ax.set_xlabel("judge calls")
    ax.set_ylabel("best validation Spearman")
    ax.set_title(f"{cfg.searcher} on {p.task.name}/{cfg.aspect}, judge {cfg.judge}")
    ax.legend()
    plot = save_figure(fig, run.dir, "best_so_far")

    all_records = [valid.records[valid.key(s.strategy)] for s in ledger.steps]
    judged = sum(r["items_judged"] for r in all_records)
    unparsed = sum(r["unparsed"] for r in all_records)
    metrics = {
        "best_strategy": exported["strategy"],
        **{f"{split}_{name}_{m}": t[m].value for (split, name), t in tables.items() for m in t},
        "test_best_minus_default_spearman": None if diff is None else [diff.value, diff.low, diff.high],
        "evaluations": len(ledger.steps), "new_evaluations_this_process": valid.new_evaluations + test.new_evaluations,
        "judge_calls": sum(r["calls"] for r in all_records) + sum(
            test.records[test.key(s)]["calls"] for s in dict.fromkeys([best, p.default])),
        "side_info_calls": p.setup.side.calls, "unparsed_fraction": unparsed / max(judged, 1),
        "pruned": sum(r["pruned"] for r in all_records), "items_judged": judged,
        "cost_estimate": cost, "cache": {"hits": STATS["hit"], "misses": STATS["miss"]},
        "constant_rating_strategies": sum(r["spearman"] != r["spearman"] for r in all_records),
    }
    corr_rows = [(split, name, *(str(tables[(split, name)][m]) for m in ("spearman", "pearson", "kendall")))
                 for split in ("valid", "test") for name in ("best", "default")]
    lines = [
        f"# HPSS search: {p.task.name} / {cfg.aspect}", "",
        f"Judge `{p.setup.model.model_id}`, searcher `{cfg.searcher}`, {len(ledger.steps)} evaluations "
        f"(initialization + budget {cfg.budget}), seed {cfg.seed}, {len(valid.items)} validation and "
        f"{len(test.items)} test items.", "",
        f"Best strategy: `{strategy_id(best)}`; default: `{strategy_id(p.default)}`.", "",
        markdown_table(["split", "prompt", "Spearman [95% CI]", "Pearson", "Kendall tau-b"], corr_rows),
        "Test Spearman, best minus default (paired bootstrap): "
        + ("n/a (different items after exclusions)" if diff is None else str(diff)), "",
        f"![best so far]({plot})", "",
        f"Judge calls: {metrics['judge_calls']} (estimated {cost['judge_calls']}); side-information calls: "
        f"{p.setup.side.calls}; cache hits/misses this process: {STATS['hit']}/{STATS['miss']}.",
        f"Unparsed answers after one re-ask: {unparsed} of {judged} ({metrics['unparsed_fraction']:.1%}), "
        f"policy `{cfg.unparsed}`. Strategies whose ratings were constant (Spearman undefined, searched as 0): "
        f"{metrics['constant_rating_strategies']}. Candidates stopped early by halving: {metrics['pruned']}.",
        "", "Side information: " + (", ".join(f"{k}: {v}" for k, v in p.setup.side.sources.items()) or "none used"),
        "", "Files: `trajectory.jsonl` (every evaluated strategy), `best.yaml` (use with `labkit hpss judge`), "
        "`best_prompt.md` (the rendered template).", "",
    ]
    run.write_metrics(metrics)
    run.write_report("\n".join(lines))
    return metrics
