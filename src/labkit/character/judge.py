"""Judges behind one interface: ``judge(sample, response) -> verdict`` with ``score`` or an ``error``.

- ``generate``: the reply must start with an integer on the rubric's scale (``Score: 3`` accepted);
  anything else is recorded as invalid and counted, never defaulted (upstream turned failures into 3.0).
- ``expected``: where the backend gives log-probabilities, the expected score over the score tokens
  1..K (softmax of their log-probabilities after the prompt); the argmax is kept too.
- self-consistency: ``samples > 1`` draws n seeded replies at temperature 0.7 and averages the valid ones.
Greedy and seeded calls go through the shared response cache, so reruns at temperature 0 are identical.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from labkit.character.data import Sample
from labkit.character.prompts import judge_prompt
from labkit.core.errors import ConfigError
from labkit.core.models.base import LOGPROBS, Sampling

SYSTEM = "You are a careful, consistent evaluator of role-play replies."
SCORE = re.compile(r"^\s*(?:\**\s*(?:score|rating|评分|分数)\s*[:：]?\s*\**\s*)?([0-9]+)(?![0-9.])", re.I)

Judge = Callable[[Sample, str], dict[str, Any]]


def parse_score(text: str, scale: int) -> int | None:
    """The integer the reply starts with, if it is on the scale 1..scale."""
    match = SCORE.match(text.strip().splitlines()[0] if text.strip() else "")
    if not match:
        return None
    value = int(match.group(1))
    return value if 1 <= value <= scale else None


def make_judge(model: Any, *, mode: str = "auto", samples: int = 1, use_reference: bool = True,
               context: str = "auto", max_tokens: int = 8, max_profile_chars: int | None = None,
               max_turns: int | None = None) -> Judge:
    """A judge over any ChatModel. ``mode``: auto (expected where log-probs exist), generate, expected."""
    has_logprobs = LOGPROBS in getattr(model, "capabilities", frozenset())
    if mode == "auto":
        mode = "expected" if has_logprobs and samples == 1 else "generate"
    if mode == "expected" and not has_logprobs:
        raise ConfigError(f"{getattr(model, 'model_id', model)}: mode=expected needs a backend with log-probabilities")
    sampling = Sampling(max_tokens=max_tokens, temperature=0.0) if samples == 1 else \
        Sampling(max_tokens=max_tokens, temperature=0.7, n=samples, seed=0)

    def judge(sample: Sample, response: str) -> dict[str, Any]:
        rubric = sample.rubric
        conv = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": judge_prompt(sample, response, rubric, use_reference=use_reference,
                                                         context=context, max_profile_chars=max_profile_chars,
                                                         max_turns=max_turns)}]
        try:
            if mode == "expected":
                conts = model.continuation_logprobs([conv] * rubric.scale, [str(k) for k in range(1, rubric.scale + 1)])
                logps = [c.total for c in conts]
                top = max(logps)
                probs = [math.exp(lp - top) for lp in logps]
                total = sum(probs)
                probs = [p / total for p in probs]
                return {"score": sum(k * p for k, p in enumerate(probs, 1)), "argmax": 1 + probs.index(max(probs)),
                        "probs": [round(p, 6) for p in probs]}
            texts = [c.text for c in model.chat([conv], sampling)[0]]
        except Exception as exc:  # recorded on the item and counted
            return {"score": None, "error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        parsed = [parse_score(t, rubric.scale) for t in texts]
        valid = [p for p in parsed if p is not None]
        if not valid:
            return {"score": None, "error": "no score on the rubric scale in the judge's reply", "raw": texts}
        return {"score": sum(valid) / len(valid), "raw": texts, "valid_samples": len(valid)}

    return judge
