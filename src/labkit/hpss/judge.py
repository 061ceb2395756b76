"""Score items with one prompting strategy: render, call the judge in batches, parse, re-ask once.

Nothing is defaulted silently: an answer without a usable rating is re-asked once; if it still
has none it is ``unparsed`` and handled by the explicit policy (``midpoint``: the scale's
midpoint, flagged; ``exclude``: left out of the correlation). A failed model call is recorded on
its items with the error and counted. Calls and tokens are counted exactly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from labkit.core.models import Sampling
from labkit.core.parallel import parallel_map
from labkit.hpss.data import Item
from labkit.hpss.eval import correlate
from labkit.hpss.parse import parse_rating
from labkit.hpss.prompts import render_prompt, scale_range
from labkit.hpss.sideinfo import SideInfo

REASK = 'Please give only your rating now, strictly in this format: "[[rating]]".'


@dataclass
class Verdict:
    id: str
    rating: float | None        # parsed rating (None: unparsed or failed)
    answer: str = ""
    reasked: bool = False
    error: str | None = None    # model call failed
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class JudgeSetup:
    model: Any
    side: SideInfo
    max_tokens: int = 1024       # Prefix/Suffix CoT answers
    free_max_tokens: int = 16    # rating-only answers
    batch_size: int = 16
    workers: int = 4


def _call(setup: JudgeSetup, convs: list[list[dict[str, str]]], max_tokens: int) -> list[Any]:
    """Batched judge calls through the shared parallel map: a Completion per conversation, or the
    error string of its failed call (a failed batch is retried item by item to isolate failures)."""
    chunks = [convs[i:i + setup.batch_size] for i in range(0, len(convs), setup.batch_size)]
    sampling = Sampling(max_tokens=max_tokens)
    outcomes = parallel_map(lambda chunk: setup.model.chat(chunk, sampling), chunks,
                            workers=setup.workers, progress=False)
    out: list[Any] = []
    for outcome, chunk in zip(outcomes, chunks, strict=True):
        if outcome.ok:
            out += [c[0] for c in outcome.value]
        elif len(chunk) == 1:
            out.append(outcome.error)
        else:
            singles = parallel_map(lambda conv: setup.model.chat([conv], sampling)[0][0], chunk,
                                   workers=setup.workers, progress=False)
            out += [o.value if o.ok else o.error for o in singles]
    return out


def judge_items(setup: JudgeSetup, values: dict[str, Any], items: list[Item], split: str) -> list[Verdict]:
    """One verdict per item, in order."""
    task, aspect = setup.side.task, setup.side.aspect
    low, high = scale_range(task, aspect, values["scale"])
    setup.side.prefetch(values, items)
    convs = [render_prompt(task, aspect, values, it, setup.side.pieces(values, it, split)) for it in items]
    max_tokens = setup.free_max_tokens if values["cot"] == "Free" else setup.max_tokens
    verdicts = []
    for item, answer in zip(items, _call(setup, convs, max_tokens), strict=True):
        if isinstance(answer, str):  # the error of a failed call
            verdicts.append(Verdict(item.id, None, error=answer, calls=1))
            continue
        verdicts.append(Verdict(item.id, parse_rating(answer.text, low, high), answer.text, calls=1,
                                prompt_tokens=answer.prompt_tokens, completion_tokens=answer.completion_tokens))
    again = [i for i, v in enumerate(verdicts) if v.rating is None and v.error is None]
    if again:
        follow = [convs[i] + [{"role": "assistant", "content": verdicts[i].answer}, {"role": "user", "content": REASK}]
                  for i in again]
        for i, answer in zip(again, _call(setup, follow, setup.free_max_tokens), strict=True):
            v = verdicts[i]
            v.reasked, v.calls = True, v.calls + 1
            if isinstance(answer, str):
                continue  # the first answer stands as unparsed; the re-ask's failure is not hidden
            v.rating = parse_rating(answer.text, low, high)
            v.answer += "\n[re-asked] " + answer.text
            v.prompt_tokens += answer.prompt_tokens
            v.completion_tokens += answer.completion_tokens
    return verdicts


def summarize(verdicts: list[Verdict], items: list[Item], aspect: str, low: float, high: float,
              policy: str = "midpoint", grouped: bool = False) -> dict[str, Any]:
    """Correlations of the verdicts with the human scores, plus counts of everything that went wrong."""
    human, pred, groups = [], [], []
    unparsed = failed = 0
    for v, item in zip(verdicts, items, strict=True):
        rating = v.rating
        if v.error is not None:
            failed += 1
            continue
        if rating is None:
            unparsed += 1
            if policy == "exclude":
                continue
            rating = (low + high) / 2
        human.append(item.scores[aspect])
        pred.append(rating)
        groups.append(item.group or item.id)
    g = groups if grouped else None
    return {
        "spearman": correlate(human, pred, g, "spearman"), "pearson": correlate(human, pred, g, "pearson"),
        "kendall": correlate(human, pred, g, "kendall"), "n": len(items), "n_used": len(pred),
        "unparsed": unparsed, "failed": failed, "reasked": sum(v.reasked for v in verdicts),
        "calls": sum(v.calls for v in verdicts), "prompt_tokens": sum(v.prompt_tokens for v in verdicts),
        "completion_tokens": sum(v.completion_tokens for v in verdicts),
    }


def verdict_dicts(verdicts: list[Verdict]) -> list[dict[str, Any]]:
    return [asdict(v) for v in verdicts]
