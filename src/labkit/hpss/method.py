"""HPSS end to end (arXiv:2502.13031): search a judge's prompting strategy on validation items,
score the best and the MT-Bench default on test, write the run.

``run_search`` reads top to bottom: load the splits, set up the judge and side information,
estimate the cost, search (every evaluation recorded in ``results.jsonl`` so a resumed run replays
the identical trajectory without a model call), score on test, save the strategy and the report.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labkit.core.errors import DataError, LabkitError
from labkit.core.models import load_model
from labkit.core.runs import Run, check_fields
from labkit.hpss.config import HpssConfig
from labkit.hpss.data import Dataset, Item, load_splits
from labkit.hpss.eval import correlate
from labkit.hpss.halving import race
from labkit.hpss.judge import JudgeSetup, judge_items, summarize
from labkit.hpss.prompts import render_prompt, scale_range
from labkit.hpss.searchers import SEARCHERS, Ledger, initialization_count
from labkit.hpss.sideinfo import SideInfo
from labkit.hpss.space import Strategy, StrategySpace
from labkit.hpss.tasks import Task, task_for


def sample_items(items: list[Item], limit: int | None, seed: int) -> list[Item]:
    """A seeded sample of at most ``limit`` items, kept in file order."""
    if limit is None or limit >= len(items):
        return items
    keep = sorted(random.Random(seed).sample(range(len(items)), limit))
    return [items[i] for i in keep]


def strategy_id(strategy: Strategy) -> str:
    return "|".join(str(v) for v in strategy)


@dataclass
class Evaluator:
    """evaluate(strategy) -> validation Spearman, recorded in the run; optional successive halving."""

    cfg: HpssConfig
    run: Run
    space: StrategySpace
    setup: JudgeSetup
    items: list[Item]
    split: str = "valid"
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_evaluations: int = 0
    progress: Any = None  # a tqdm bar, advanced once per evaluated strategy

    def __post_init__(self) -> None:
        self.records = {k: r["value"] for k, r in self.run.latest().items() if r.get("ok")}
        for key, value in self.records.items():  # a resumed run's evaluations, checked before any work
            mine = key.startswith(f"{self.split}:")
            check_evaluation(value, key, str(self.run.results_path), len(self.items) if mine else None)
        self.order = np.random.default_rng(self.cfg.seed).permutation(len(self.items))
        self.init_count = initialization_count(self.space)

    def key(self, strategy: Strategy) -> str:
        return f"{self.split}:{strategy_id(strategy)}"

    def _full(self) -> list[dict[str, Any]]:
        return [r for k, r in self.records.items() if k.startswith(f"{self.split}:") and not r.get("pruned")]

    def _partial_threshold(self, subset: list[int]) -> float:
        """The population's k-th best Spearman on the same items."""
        scores = sorted((self._subset_spearman(r["ratings"], subset, r["strategy"]["scale"],
                                               frozenset(r.get("failed_items", []))) for r in self._full()),
                        reverse=True)
        return scores[min(self.cfg.population, len(scores)) - 1]

    def scored(self, ratings: list[float | None], subset: list[int], scale: int,
               failed: frozenset[int] = frozenset()) -> tuple[list[float], list[float], list[Any] | None]:
        """(human, judge, groups) on ``subset`` under the run's unparsed policy; failed calls left out."""
        task = self.setup.side.task
        low, high = scale_range(task, self.cfg.aspect, scale)
        keep = [i for i in subset if i not in failed and (ratings[i] is not None or self.cfg.unparsed == "midpoint")]
        human = [self.items[i].scores[self.cfg.aspect] for i in keep]
        pred = [r if (r := ratings[i]) is not None else (low + high) / 2 for i in keep]
        groups = [self.items[i].group or self.items[i].id for i in keep] if task.level == "summary" else None
        return human, pred, groups

    def _subset_spearman(self, ratings: list[float | None], subset: list[int], scale: int,
                         failed: frozenset[int] = frozenset()) -> float:
        value = correlate(*self.scored(ratings, subset, scale, failed))
        return -1.0 if math.isnan(value) else value

    def __call__(self, strategy: Strategy) -> float:
        key = self.key(strategy)
        if key not in self.records:
            self.records[key] = self._evaluate(strategy)
            self.run.append({"key": key, "ok": True, "value": self.records[key]})
            self.new_evaluations += 1
        if self.progress is not None:
            self.progress.update(1)
            self.progress.set_postfix(best=f"{max(search_value(r) for r in self._full()):.3f}")
        return search_value(self.records[key])

    def _evaluate(self, strategy: Strategy) -> dict[str, Any]:
        values = self.space.as_dict(strategy)
        task, aspect = self.setup.side.task, self.cfg.aspect
        low, high = scale_range(task, aspect, values["scale"])
        grouped = task.level == "summary"
        ratings: list[float | None] = [None] * len(self.items)
        verdicts: dict[int, Any] = {}
        # halving starts once a population of full evaluations exists (during initialization too, by default)
        start = self.cfg.population if self.cfg.halving_init else self.init_count
        fractions = self.cfg.halving_fractions if self.cfg.halving and len(self._full()) >= start else []

        def judge(todo: list[int]) -> None:
            for i, v in zip(todo, judge_items(self.setup, values, [self.items[i] for i in todo], self.split),
                            strict=True):
                verdicts[i], ratings[i] = v, v.rating

        def partial(items: list[int]) -> float:
            failed = frozenset(i for i, v in verdicts.items() if v.error is not None)
            return self._subset_spearman(ratings, items, values["scale"], failed)

        done = race(judge, partial, self._partial_threshold, self.order, fractions, self.cfg.halving_z)
        cap = None
        if len(done) < len(self.items):  # pruned: may never outrank the population it trailed
            full = sorted((search_value(r) for r in self._full()), reverse=True)
            cap = full[min(self.cfg.population, len(full)) - 1] - 1e-6
        used = [self.items[i] for i in sorted(done)]
        summary = summarize([verdicts[i] for i in sorted(done)], used, aspect, low, high, self.cfg.unparsed, grouped)
        if summary["failed"] > self.cfg.max_error_rate * max(summary["n"], 1):
            raise LabkitError(f"{summary['failed']} of {summary['n']} judge calls failed for strategy "
                              f"{strategy_id(strategy)}; see {self.run.results_path}")
        if cap is not None:
            summary["search_value"] = min(search_value(summary), cap)
        summary.update(strategy=values, ratings=ratings, pruned=len(done) < len(self.items),
                       failed_items=sorted(i for i in done if verdicts[i].error is not None),
                       items_judged=len(done), unparsed_examples=[
                           verdicts[i].answer[:300] for i in sorted(done) if verdicts[i].rating is None][:3])
        return summary


def check_evaluation(value: Any, key: str, path: str, items: int | None) -> None:
    """A finished evaluation as a resume reads it: its Spearman (a number or null), one rating (or null) per item
    of this run's split, the strategy; a DataError naming the results file, the record and the field."""
    check_fields(value, {"spearman": (int, float, type(None)), "ratings": list, "strategy": dict}, key=key, path=path,
                 what="an HPSS evaluation")
    ratings = value["ratings"]
    if items is not None and len(ratings) != items:
        raise DataError(f"record {key!r} has {len(ratings)} ratings for {items} items (a run of other data?)",
                        path=path, field="ratings")
    if not all(r is None or (isinstance(r, (int, float)) and not isinstance(r, bool) and math.isfinite(r))
               for r in ratings):
        raise DataError(f"record {key!r}: a rating is not a finite number or null", path=path, field="ratings")
    if not isinstance(value["strategy"].get("scale"), int):
        raise DataError(f"record {key!r}: the strategy has no integer scale", path=path, field="strategy.scale")
    if "search_value" in value and not isinstance(value["search_value"], (int, float)):
        raise DataError(f"record {key!r}: search_value is not a number", path=path, field="search_value")


def search_value(record: dict[str, Any]) -> float:
    """The search objective: validation Spearman; an undefined one (constant ratings) counts as 0;
    a candidate stopped by halving keeps its partial Spearman, capped below the population."""
    if "search_value" in record:
        return float(record["search_value"])
    value = record["spearman"]
    return 0.0 if value is None or math.isnan(value) else float(value)


@dataclass
class Prepared:
    cfg: HpssConfig
    task: Task
    valid: Dataset
    test: Dataset
    space: StrategySpace
    default: Strategy
    setup: JudgeSetup


def prepare(cfg: HpssConfig, model: Any = None) -> Prepared:
    """Load data and the judge; build the space and the side information."""
    valid, test = load_splits(cfg.data, aspect=cfg.aspect, valid_fraction=cfg.valid_fraction, seed=cfg.seed)
    valid.items = sample_items(valid.items, cfg.max_items, cfg.seed)
    test.items = sample_items(test.items, cfg.max_items, cfg.seed + 1)
    if len(valid.items) < 3 or len(test.items) < 3:
        raise LabkitError(f"{cfg.data}: need at least 3 validation and 3 test items, have "
                          f"{len(valid.items)}/{len(test.items)}")
    space = StrategySpace.from_dict(cfg.factors)
    most = max((int(v[len("Example"):]) for v in dict(space.factors).get("examples", ()) if v != "NoExample"),
               default=0)
    if most >= len(valid.items):  # each item's K examples come from the other validation items
        raise LabkitError(f"{cfg.data}: factor 'examples' has Example{most}, which needs {most} other validation "
                          f"items; the validation split has {len(valid.items)} (narrow factors.examples or use "
                          "more data)")
    task = task_for(valid.name)
    model = model or load_model(cfg.judge, batch_size=cfg.batch_size)
    side = SideInfo(task, cfg.aspect, model, valid.items, mode=cfg.side_info, aux_judge=cfg.aux_judge,
                    human_criteria=cfg.criteria, seed=cfg.seed)
    setup = JudgeSetup(model, side, max_tokens=cfg.max_tokens, free_max_tokens=cfg.free_max_tokens,
                       batch_size=cfg.batch_size, workers=cfg.workers)
    return Prepared(cfg, task, valid, test, space, space.default(task.default_scale), setup)


def estimate_cost(p: Prepared) -> dict[str, Any]:
    """Judge calls and prompt tokens before any call (4 characters ~ 1 token)."""
    evaluations = initialization_count(p.space) + p.cfg.budget
    values = p.space.as_dict(p.default)
    item = p.valid.items[0]
    chars = sum(len(m["content"]) for m in render_prompt(p.task, p.cfg.aspect, values, item,
                                                         p.setup.side.pieces(values, item, "valid")))
    calls = evaluations * len(p.valid.items) + 2 * len(p.test.items)
    return {"evaluations": evaluations, "judge_calls": calls, "prompt_tokens_per_call": chars // 4,
            "prompt_tokens": calls * (chars // 4)}


def search(p: Prepared, run: Run, progress: bool | None = None) -> tuple[Ledger, Evaluator]:
    from tqdm.auto import tqdm

    evaluate = Evaluator(p.cfg, run, p.space, p.setup, p.valid.items)
    total = min(initialization_count(p.space) + p.cfg.budget, p.space.size)
    evaluate.progress = tqdm(total=total, desc=f"{p.cfg.searcher} search", unit="strategy",
                             disable=(not progress) if progress is not None else None)
    options: dict[str, Any] = {"default": p.default}
    if p.cfg.searcher == "hpss":
        options.update(population=p.cfg.population, g=p.cfg.g, temperature=p.cfg.temperature, lam=p.cfg.lam,
                       rho=p.cfg.rho, original_bookkeeping=p.cfg.original_bookkeeping)
    if p.cfg.searcher == "opro":
        options["proposer"] = load_model(p.cfg.proposer) if p.cfg.proposer else p.setup.model
    ledger = SEARCHERS[p.cfg.searcher](p.space, evaluate, p.cfg.budget, p.cfg.seed, **options)
    evaluate.progress.close()
    return ledger, evaluate


def score_on_test(p: Prepared, run: Run, strategies: list[Strategy]) -> Evaluator:
    test = Evaluator(p.cfg, run, p.space, p.setup, p.test.items, split="test")
    test.cfg = HpssConfig(**{**p.cfg.__dict__, "halving": False})
    for s in dict.fromkeys(strategies):
        test(s)
    return test


def judge_file(exported: dict[str, Any], model: Any, items: list[Item], *, batch_size: int = 16,
               workers: int = 4, max_tokens: int = 1024) -> list[dict[str, Any]]:
    """Score new outputs with an exported strategy (``best.yaml``); one row per item."""
    from labkit.hpss.judge import verdict_dicts

    task = task_for(exported["task"])
    side = SideInfo(task, exported["aspect"], model, [], fixed={
        k: exported.get(k) for k in ("criterion", "autocot", "examples")})
    setup = JudgeSetup(model, side, max_tokens=max_tokens, batch_size=batch_size, workers=workers)
    verdicts = judge_items(setup, exported["strategy"], items, "test")
    return [{"id": it.id, **{k: v for k, v in d.items() if k != "id"}}
            for it, d in zip(items, verdict_dicts(verdicts), strict=True)]
