"""Searchers over a StrategySpace behind one signature: ``search(space, evaluate, budget, seed)``.

``evaluate(strategy) -> float`` returns the validation Spearman. Every searcher spends the same
number of evaluations (the 21 of HPSS's initialization plus ``budget``) and never evaluates a
strategy twice (``Ledger`` enforces it). HPSS is Algorithm 1 of arXiv:2502.13031.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labkit.hpss.space import Strategy, StrategySpace

Evaluate = Callable[[Strategy], float]


@dataclass
class Step:
    strategy: Strategy
    score: float
    how: str          # init, explore, exploit, random, mutate, tpe, opro, ...
    evaluation: int   # 1-based count of evaluations so far


@dataclass
class Ledger:
    """Evaluates through ``evaluate`` at most ``limit`` times and never the same strategy twice."""

    evaluate: Evaluate
    limit: int
    steps: list[Step] = field(default_factory=list)
    seen: dict[Strategy, float] = field(default_factory=dict)

    @property
    def left(self) -> int:
        return self.limit - len(self.steps)

    def __call__(self, strategy: Strategy, how: str) -> float:
        if strategy in self.seen:
            raise RuntimeError(f"strategy evaluated twice: {strategy}")
        if self.left <= 0:
            raise RuntimeError("evaluation budget exhausted")
        score = float(self.evaluate(strategy))
        self.seen[strategy] = score
        self.steps.append(Step(strategy, score, how, len(self.steps) + 1))
        return score

    def best(self) -> Step:
        return max(self.steps, key=lambda s: (s.score, -s.evaluation))


def initialization_count(space: StrategySpace) -> int:
    """The default plus its one-factor variants: 21 in the paper space."""
    return 1 + sum(len(values) - 1 for _, values in space.factors)


def _stage1(space: StrategySpace, ledger: Ledger, default: Strategy) -> None:
    ledger(default, "init")
    for _, _, s in space.neighbours(default):
        if ledger.left > 0:
            ledger(s, "init")


# ---- HPSS -----------------------------------------------------------------------------------
def hpss(space: StrategySpace, evaluate: Evaluate, budget: int, seed: int, *, default: Strategy | None = None,
         population: int = 5, g: int = 2, temperature: float = 5.0, lam: float = 4.0, rho: float = 0.2,
         original_bookkeeping: bool = False) -> Ledger:
    """HPSS: advantage-guided, UCB-softmax mutation with elitist selection.

    ``original_bookkeeping=True`` reproduces the released code's defects: a duplicate draw uses up
    its slot, exploitation moves never update advantages, and the UCB clock starts at 1 in stage 2
    (ln 1 = 0). The default fixes them (redraw; exploitation updates the values it changed,
    attributing the residual of the additive model; one clock over all evaluations).
    """
    rng = np.random.default_rng(seed)
    default = default or space.default()
    ledger = Ledger(evaluate, initialization_count(space) + budget)
    _stage1(space, ledger, default)
    base = ledger.seen[default]
    # A(v) = 100 * rho(s0 with v) - mean over the factor's values (Sec. 3.2, Eq. 2)
    adv: list[dict[Any, float]] = []
    for f, (_, values) in enumerate(space.factors):
        raw = {v: 100 * ledger.seen.get(default[:f] + (v,) + default[f + 1:], base) for v in values}
        mean = sum(raw.values()) / len(raw)
        adv.append({v: r - mean for v, r in raw.items()})
    counts: list[dict[Any, float]] = [{v: 1.0 for v in values} for _, values in space.factors]
    stage2_start = len(ledger.steps)
    pop = [st.strategy for st in sorted(ledger.steps, key=lambda st: -st.score)[:population]]

    def recentre(f: int) -> None:
        mean = sum(adv[f].values()) / len(adv[f])
        for v in adv[f]:
            adv[f][v] -= mean

    def update(f: int, v_new: Any, target: float) -> None:
        n = counts[f][v_new]
        adv[f][v_new] = (adv[f][v_new] * n + target) / (n + 1)
        recentre(f)

    def exploit() -> Strategy | None:
        best, best_val = None, -math.inf
        for s in space.all():
            if s not in ledger.seen:
                val = sum(adv[f][v] for f, v in enumerate(s))
                if val > best_val:
                    best, best_val = s, val
        return best

    def propose(parent: Strategy) -> tuple[int, Any, Strategy]:
        t = (len(ledger.steps) - stage2_start + 1) if original_bookkeeping else len(ledger.steps) + 1
        moves = space.neighbours(parent)
        scores = np.array([adv[f][v] - adv[f][parent[f]] + lam * math.sqrt(math.log(t) / counts[f][v])
                           for f, v, _ in moves])
        probs = np.exp((scores - scores.max()) / temperature)
        probs /= probs.sum()
        return moves[int(rng.choice(len(moves), p=probs))]

    while ledger.left > 0:
        children = []
        for parent in pop:
            for _ in range(g):
                if ledger.left <= 0:
                    break
                f, v, child = propose(parent)
                if child in ledger.seen and not original_bookkeeping:
                    for _ in range(20):  # fixed: redraw instead of wasting the slot
                        f, v, child = propose(parent)
                        if child not in ledger.seen:
                            break
                if child in ledger.seen:
                    continue  # dropped attempt: costs nothing
                how = "explore"
                if rng.random() < rho:
                    candidate = exploit()
                    if candidate is not None:
                        child, how = candidate, "exploit"
                score = ledger(child, how)
                gain = 100 * (score - ledger.seen[parent])
                if how == "explore":
                    update(f, v, gain + adv[f][parent[f]])
                elif not original_bookkeeping:
                    changed = [h for h in range(len(child)) if child[h] != parent[h]]
                    predicted = sum(adv[h][child[h]] - adv[h][parent[h]] for h in changed)
                    for h in changed:
                        own = adv[h][child[h]] - adv[h][parent[h]]
                        update(h, child[h], gain - (predicted - own) + adv[h][parent[h]])
                for h, value in enumerate(child):
                    counts[h][value] += 1
                children.append(child)
        if not children and ledger.left > 0:
            # every draw was a duplicate: fall back to the best unevaluated exploitation point
            candidate = exploit()
            if candidate is None:
                break
            ledger(candidate, "exploit")
            children.append(candidate)
        pool = dict.fromkeys(pop + children)
        pop = sorted(pool, key=lambda s: -ledger.seen[s])[:population]
    ledger.advantages = adv  # type: ignore[attr-defined]  # for reports and tests
    return ledger


# ---- baselines ------------------------------------------------------------------------------
def random_search(space: StrategySpace, evaluate: Evaluate, budget: int, seed: int, *,
                  default: Strategy | None = None, **_: Any) -> Ledger:
    """The default, then uniformly random unevaluated strategies."""
    rng = np.random.default_rng(seed)
    ledger = Ledger(evaluate, initialization_count(space) + budget)
    ledger(default or space.default(), "init")
    while ledger.left > 0 and len(ledger.seen) < space.size:
        s = space.random(rng)
        if s not in ledger.seen:
            ledger(s, "random")
    return ledger


def greedy(space: StrategySpace, evaluate: Evaluate, budget: int, seed: int, *,
           default: Strategy | None = None, tries: int = 5, **_: Any) -> Ledger:
    """Beam-1 hill climbing: the 20 one-factor variants, then rounds of ``tries`` random
    single-factor mutations of the best so far."""
    rng = np.random.default_rng(seed)
    default = default or space.default()
    ledger = Ledger(evaluate, initialization_count(space) + budget)
    _stage1(space, ledger, default)
    while ledger.left > 0:
        best = ledger.best().strategy
        fresh = [s for _, _, s in space.neighbours(best) if s not in ledger.seen]
        if not fresh:  # local optimum fully explored: restart from a random point
            fresh = [space.random(rng)]
            if fresh[0] in ledger.seen:
                continue
        for i in rng.permutation(len(fresh))[:tries]:
            if ledger.left > 0:
                ledger(fresh[int(i)], "mutate")
    return ledger


def tpe(space: StrategySpace, evaluate: Evaluate, budget: int, seed: int, *,
        default: Strategy | None = None, **_: Any) -> Ledger:
    """Optuna's TPE over the categorical factors (the MIPROv2-style baseline), default first."""
    from labkit.core.errors import require

    optuna = require("optuna", "hpss")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ledger = Ledger(evaluate, initialization_count(space) + budget)
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=10)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    default = default or space.default()
    study.enqueue_trial({name: values.index(v) for (name, values), v in zip(space.factors, default, strict=True)})
    stale = 0
    while ledger.left > 0 and stale < 200:
        trial = study.ask()
        idx = [trial.suggest_categorical(name, list(range(len(values)))) for name, values in space.factors]
        s = space.from_index_vector(idx)
        if s in ledger.seen:  # TPE re-proposed a point: tell it the known value, spend nothing
            study.tell(trial, ledger.seen[s])
            stale += 1
            continue
        stale = 0
        study.tell(trial, ledger(s, "tpe"))
    while ledger.left > 0 and len(ledger.seen) < space.size:  # TPE converged: spend the rest randomly
        s = space.random(np.random.default_rng(seed + len(ledger.steps)))
        if s not in ledger.seen:
            ledger(s, "random")
    return ledger


OPRO_PROMPT = """You are optimizing the prompt of an automatic evaluator. A prompt is described by {k} \
discrete parts; each part takes an integer index:
{parts}
Here are earlier prompts and their scores (higher is better), in ascending order of score:
{history}
Write a new prompt that is different from all of the above and has a higher score. Answer with \
JSON only, for example: {example}"""


def opro(space: StrategySpace, evaluate: Evaluate, budget: int, seed: int, *,
         default: Strategy | None = None, proposer: Any = None, per_call: int = 4, top: int = 20,
         **_: Any) -> Ledger:
    """OPRO over factor-index vectors: an LLM proposes ``{"Part 0": i, ...}`` from the best
    ``top`` (strategy, score) pairs, ascending, sampled at temperature 1.0. Proposals that are
    unparseable or already evaluated are replaced by random unevaluated strategies, counted in
    ``ledger.opro_fallbacks``."""
    from labkit.core.models import Sampling, user

    if proposer is None:
        raise ValueError("opro needs a proposer model")
    rng = np.random.default_rng(seed)
    ledger = Ledger(evaluate, initialization_count(space) + budget)
    ledger(default or space.default(), "init")
    fallbacks = 0
    parts = "\n".join(f"Part {i} ({name}): " + ", ".join(f"{j}={v}" for j, v in enumerate(values))
                      for i, (name, values) in enumerate(space.factors))
    call = 0
    while ledger.left > 0:
        best = sorted(ledger.steps, key=lambda st: st.score)[-top:]
        history = "\n".join(json.dumps({f"Part {i}": j for i, j in enumerate(space.index_vector(st.strategy))})
                            + f" score: {100 * st.score:.1f}" for st in best)
        example = json.dumps({f"Part {i}": 0 for i in range(len(space.factors))})
        prompt = OPRO_PROMPT.format(k=len(space.factors), parts=parts, history=history, example=example)
        sampling = Sampling(max_tokens=160, temperature=1.0, n=per_call, seed=seed * 100_003 + call)
        call += 1
        for choice in proposer.chat([user(prompt)], sampling)[0]:
            if ledger.left <= 0:
                break
            s = parse_index_vector(choice.text, space)
            how = "opro"
            if s is None or s in ledger.seen:
                fallbacks += 1
                how = "opro-fallback"
                s = next(x for x in iter(lambda: space.random(rng), None) if x not in ledger.seen)
            ledger(s, how)
    ledger.opro_fallbacks = fallbacks  # type: ignore[attr-defined]
    return ledger


def parse_index_vector(text: str, space: StrategySpace) -> Strategy | None:
    """``{"Part 0": 1, ...}`` in an LLM answer -> strategy, or None if absent or out of range."""
    match = re.search(r"\{[^{}]*\}", text or "")
    if not match:
        return None
    try:
        data = json.loads(match.group(0))
        idx = [int(data[f"Part {i}"]) for i in range(len(space.factors))]
    except (ValueError, KeyError, TypeError):
        return None
    if any(not 0 <= j < len(values) for j, (_, values) in zip(idx, space.factors, strict=True)):
        return None
    return space.from_index_vector(idx)


SEARCHERS: dict[str, Callable[..., Ledger]] = {
    "hpss": hpss, "random": random_search, "greedy": greedy, "tpe": tpe, "opro": opro}
