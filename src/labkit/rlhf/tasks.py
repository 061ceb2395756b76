"""Synthetic verifiable tasks for the CPU-scale RLHF study (README, RLHF): multi-digit
addition and string transforms, each prompt with one exact answer, so the reward is a rule (exact match)
and no judge is needed. Prompts come from one seeded RNG per (task, split, seed); the train, eval and
preference splits are disjoint by construction (a prompt is assigned to a split by the hash of its text).
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass

TASKS = ("addition", "reverse", "sort_letters")


@dataclass(frozen=True)
class Prompt:
    task: str
    text: str  # the instruction, for chat policies
    answer: str
    compact: str = ""  # the same question for character-level tiny policies: "12+34=", "rev abc=", "sort cab="


def _addition(rng: random.Random, digits: int) -> Prompt:
    a, b = rng.randrange(10 ** (digits - 1), 10 ** digits), rng.randrange(10 ** (digits - 1), 10 ** digits)
    return Prompt("addition", f"What is {a} + {b}? Answer with the number only.", str(a + b), f"{a}+{b}=")


def _word(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(length))


def _reverse(rng: random.Random, length: int) -> Prompt:
    w = _word(rng, length)
    return Prompt("reverse", f"Reverse the letters of '{w}'. Answer with the reversed word only.", w[::-1],
                  f"rev {w}=")


def _sort_letters(rng: random.Random, length: int) -> Prompt:
    w = _word(rng, length)
    return Prompt("sort_letters", f"Sort the letters of '{w}' alphabetically. Answer with the letters only.",
                  "".join(sorted(w)), f"sort {w}=")


MAKERS = {"addition": _addition, "reverse": _reverse, "sort_letters": _sort_letters}
SPLITS = ("train", "eval", "preference")


def split_of(text: str) -> str:
    """A prompt's split from its text alone (sha256): 70% train, 15% eval, 15% preference."""
    bucket = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 70 else "eval" if bucket < 85 else "preference"


def make_prompts(task: str, split: str, count: int, *, size: int = 3, seed: int = 0) -> list[Prompt]:
    """``count`` distinct prompts of ``task`` that fall in ``split`` (size: digits or letters)."""
    if task not in MAKERS:
        raise ValueError(f"task must be one of {', '.join(TASKS)}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}")
    rng = random.Random(f"labkit-rlhf-{task}-{size}-{seed}")
    out: dict[str, Prompt] = {}
    tries = 0
    while len(out) < count:
        p = MAKERS[task](rng, size)
        tries += 1
        if split_of(p.text) == split:
            out.setdefault(p.text, p)
        if tries > 200 * count + 1000:
            raise ValueError(f"only {len(out)} distinct {task} prompts of size {size} fall in {split}")
    return list(out.values())


def extract_answer(response: str) -> str:
    """The answer a response gives: its first line, without a leading 'The answer is', quotes, trailing
    punctuation or surrounding spaces; numbers keep only digits and a sign."""
    line = response.strip().splitlines()[0] if response.strip() else ""
    line = re.sub(r"^(the )?answer( is)?[:\s]*", "", line.strip(), flags=re.IGNORECASE)
    return line.strip().rstrip(".").strip().strip("'\"`").strip()


def rule_reward(prompt: Prompt, response: str) -> float:
    """1.0 for an exact answer, else 0.0 (numbers compared without separators)."""
    got = extract_answer(response)
    if prompt.task == "addition":
        got = got.replace(",", "").replace(" ", "")
    return float(got == prompt.answer)
