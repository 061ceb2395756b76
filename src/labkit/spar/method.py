"""SPaR's roles on real models, as the batch functions the tree search takes:

- ``model_judge``: the refiner judging (prompt, response) pairs - ``samples`` judgments per pair in one batched
  call (seeded, so cached), ties resampled with the next seed, votes as in ``judge.vote``;
- ``model_refiner``: rewrites of (prompt, response, critique); identical asks are one call with ``n`` samples,
  an output without ``[[start]]...[[end]]`` is retried with a new seed up to ``retries`` times, then None;
- ``programmatic_judge``: the verifier for prompts whose constraints are IFEval-style checks (the official
  checkers): V = 1 when every constraint holds, else 0, and the critique names the failing constraints -
  what makes a 135M model's loop meaningful, since its own judgments are near chance.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from labkit.core.models import Sampling
from labkit.spar.config import JudgeConfig, SearchConfig
from labkit.spar.data import IfevalItem
from labkit.spar.ifeval import checker, follows
from labkit.spar.judge import Vote, judge_conversation, parse_refinement, refine_conversation, vote
from labkit.spar.tree import JudgeBatch, RefineBatch, Refined


def model_judge(model: Any, cfg: JudgeConfig) -> JudgeBatch:
    def sampling(round_: int) -> Sampling:
        return Sampling(max_tokens=cfg.max_tokens, temperature=cfg.temperature, n=cfg.samples, seed=round_)

    def judge(pairs: list[tuple[str, str]]) -> list[Vote]:
        if not pairs:
            return []
        first = model.chat([judge_conversation(p, r) for p, r in pairs], sampling(0))

        def sample_for(i: int):  # round 0 from the batch; a tie's further rounds one call each
            def sample(round_: int) -> list[str]:
                done = first[i] if round_ == 0 else model.chat([judge_conversation(*pairs[i])], sampling(round_))[0]
                return [c.text for c in done]
            return sample

        return [vote(sample_for(i), rule=cfg.parser, tie_retries=cfg.tie_retries) for i in range(len(pairs))]

    return judge


def model_refiner(model: Any, cfg: SearchConfig) -> RefineBatch:
    def refine(asks: list[tuple[str, str, str]]) -> list[str | Refined | None]:
        slots: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for i, ask in enumerate(asks):
            slots[ask].append(i)
        out: list[str | Refined | None] = [None] * len(asks)
        todo = dict(slots)
        for attempt in range(cfg.retries):
            if not todo:
                break
            keys = list(todo)
            groups: dict[int, list[tuple[str, str, str]]] = defaultdict(list)  # one call per distinct n
            for key in keys:
                groups[len(todo[key])].append(key)
            left: dict[tuple[str, str, str], list[int]] = {}
            for n, group in groups.items():
                done = model.chat([refine_conversation(*k, fmt=cfg.format) for k in group],
                                  Sampling(max_tokens=cfg.max_tokens, temperature=cfg.temperature, n=n,
                                           seed=attempt))
                for key, completions in zip(group, done, strict=True):
                    still = []
                    for slot, c in zip(todo[key], completions, strict=True):
                        text = parse_refinement(c.text, cfg.format)
                        if text is None:
                            still.append(slot)
                        else:
                            out[slot] = Refined(text, c.text)
                    if still:
                        left[key] = still
            todo = left
        return out

    return refine


def check_constraints(item: IfevalItem, response: str) -> list[bool]:
    """The official IFEval checker's verdict (strict) for every constraint of a prompt."""
    return [follows(checker(iid, kw, item.prompt), response) for iid, kw in zip(item.instruction_ids, item.kwargs,
                                                                                 strict=True)]


def critique_of(item: IfevalItem, verdicts: list[bool]) -> str:
    lines = []
    for iid, kw, ok in zip(item.instruction_ids, item.kwargs, verdicts, strict=True):
        text = checker(iid, kw, item.prompt).build_description(**{k: v for k, v in kw.items() if v})
        lines.append(f"- {text} {'Met.' if ok else 'Not met.'}")
    final = "Yes" if all(verdicts) else "No"
    return "Step-by-step verification:\n" + "\n".join(lines) + f"\nFinal Judgement: {final}"


def programmatic_judge(items: dict[str, IfevalItem]) -> JudgeBatch:
    """Judge by code: prompts are looked up in ``items`` (text -> constraints)."""
    def judge(pairs: list[tuple[str, str]]) -> list[Vote]:
        out = []
        for prompt, response in pairs:
            verdicts = check_constraints(items[prompt], response)
            ok = all(verdicts)
            out.append(Vote(yes=int(ok), no=int(not ok), critique=critique_of(items[prompt], verdicts), calls=0,
                            rounds=1, labels=[int(ok)]))
        return out

    return judge
