"""The refiner's two jobs (SPaR Sec. 3.1, written in labkit's words; the paper's texts are reference data in
``../shared/data/spar/spar_prompts.json``): judge whether a response follows every constraint of its prompt,
and rewrite a failing response with as few changes as possible.

Judgments end in ``Final Judgement: Yes|No``. Two parsers:

- ``strict`` (default): after the last "Final Judgement"/"Final Judgment", the whole words yes/no (any case),
  with the template's own "(Yes or No)" removed; exactly one of them -> its label, neither or both -> -1;
- ``original`` (the paper's rule): the text after the first "Final Judgement"; if it contains "Yes", No (0) when
  a "No" occurs before the first "Yes", else Yes (1); else "No" anywhere -> 0; else -1. Case-sensitive
  substrings, so "Not" and "None" count as No.

A label of -1 is an unparseable judgment: counted, never a vote. ``vote`` takes n judgments, the value is
V = #Yes / (#Yes + #No), a tie is resampled up to ``tie_retries`` times, and the critique kept is the first
judgment that agrees with the majority.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

JUDGE_TEMPLATE = """You check whether a response follows its prompt. Go through the prompt's requirements one \
by one (content, format, length, wording, style) and say for each whether the response meets it.

Prompt: "{prompt}"

Response: "{response}"

Answer in exactly this form:
Step-by-step verification: <each requirement and whether it is met>
Final Judgement (if the Response follows every requirement of the Prompt): <Yes or No>"""

REFINE_TEMPLATE = """Rewrite the response so that it meets every requirement of the prompt. Use the \
verification above: fix what it found wrong and change nothing else. Answer in exactly this form:
Reflection on how to refine the Response: <what has to change>
Final Refined Response: [[start]] <the full rewritten response> [[end]]"""

PLAIN_REFINE_TEMPLATE = """Here is a task and an answer to it that breaks some of the task's rules.

Task: "{prompt}"

Answer: "{response}"

What a check found:
{critique}

Write the answer again so that it follows every rule of the task. Keep everything else as it is. Reply with \
the new answer only."""

MARKER = re.compile(r"final\s+judge?ment", re.IGNORECASE)
TEMPLATE_ECHO = re.compile(r"\(\s*yes\s+or\s+no\s*\)", re.IGNORECASE)
WORDS = re.compile(r"\b(yes|no)\b", re.IGNORECASE)
REFINED = re.compile(r"\[\[start\]\](.*?)\[\[end\]\]", re.DOTALL)


def judge_conversation(prompt: str, response: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": JUDGE_TEMPLATE.format(prompt=prompt, response=response)}]


def refine_conversation(prompt: str, response: str, critique: str, fmt: str = "markers") -> list[dict[str, str]]:
    """The judge turn, the critique as the assistant's answer, then the refine request (one template for search
    and for the refiner's training data: the original code had two that differed in indentation). ``plain`` is
    one turn asking for the rewritten response alone - for small refiners that cannot keep to the markers."""
    if fmt == "plain":  # one turn: small models continue a judge conversation instead of rewriting
        return [{"role": "user", "content": PLAIN_REFINE_TEMPLATE.format(prompt=prompt, response=response,
                                                                          critique=critique)}]
    return [*judge_conversation(prompt, response), {"role": "assistant", "content": critique},
            {"role": "user", "content": REFINE_TEMPLATE}]


def parse_strict(text: str) -> int:
    found = list(MARKER.finditer(text))
    if not found:
        return -1
    tail = TEMPLATE_ECHO.sub(" ", text[found[-1].end():])
    labels = {w.lower() for w in WORDS.findall(tail)}
    return 1 if labels == {"yes"} else 0 if labels == {"no"} else -1


def parse_original(text: str) -> int:
    at = text.find("Final Judgement")
    if at < 0:
        return -1
    tail = text[at:]
    if "Yes" in tail:
        first_yes = tail.index("Yes")
        return 0 if "No" in tail[:first_yes] else 1
    return 0 if "No" in tail else -1


PARSERS: dict[str, Callable[[str], int]] = {"strict": parse_strict, "original": parse_original}


def parse_refinement(text: str, fmt: str = "markers") -> str | None:
    """The rewritten response between [[start]] and [[end]] (the last such block), or for ``plain`` the whole
    reply unless it echoes the judgment format; None if there is none."""
    if fmt == "plain":  # a reply that repeats the verification is not a response (small refiners do this)
        return None if not text.strip() or MARKER.search(text) or "verification:" in text.lower() else text.strip()
    blocks = REFINED.findall(text)
    return blocks[-1].strip() if blocks and blocks[-1].strip() else None


@dataclass
class Vote:
    """Votes on one response: counts, the value, the majority's first critique, and what it cost."""

    yes: int = 0
    no: int = 0
    invalid: int = 0
    critique: str | None = None
    calls: int = 0
    rounds: int = 0
    labels: list[int] = field(default_factory=list)

    @property
    def value(self) -> float:
        return self.yes / (self.yes + self.no) if self.yes + self.no else 0.0

    @property
    def usable(self) -> bool:
        return self.critique is not None

    @property
    def majority(self) -> int:
        return 1 if self.yes > self.no else 0 if self.no > self.yes else -1


def vote(sample: Callable[[int], list[str]], *, rule: str = "strict", tie_retries: int = 3) -> Vote:
    """Judge with ``sample(round)`` (n judgment texts per call) until the votes are not tied, at most
    ``1 + tie_retries`` rounds; the last round's votes count (a tie left after the last round gives V = 0.5)."""
    parse = PARSERS[rule]
    out = Vote()
    for round_ in range(1 + tie_retries):
        texts = sample(round_)
        labels = [parse(t) for t in texts]
        out = Vote(yes=labels.count(1), no=labels.count(0), invalid=out.invalid + labels.count(-1),
                   calls=out.calls + len(texts), rounds=round_ + 1, labels=labels)
        if out.yes != out.no:
            want = out.majority
            out.critique = next(t for t, lab in zip(texts, labels, strict=True) if lab == want)
            return out
        if out.yes:  # a tie with votes: the first Yes-or-No critique, in case no retry breaks it
            out.critique = next(t for t, lab in zip(texts, labels, strict=True) if lab != -1)
    return out
