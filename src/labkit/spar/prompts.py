"""Constraint-bearing training prompts (SPaR Sec. 3.3), two ways:

- ``programmatic_prompts``: a writing task of labkit's own list plus 1-3 verifiable constraints of IFEval's
  kinds (length, keywords, format, case, punctuation, start/end), with kwargs drawn from a seeded RNG and the
  constraint sentences written by the official checkers themselves (``build_description``), so every prompt can
  be verified by code. Written in IFEval's input format (``key``, ``prompt``, ``instruction_id_list``,
  ``kwargs``), so the IFEval loader and the programmatic verifier read them unchanged.
- ``evolve_prompts``: the paper's route - an LLM adds one main constraint of a drawn category (14, as the
  paper) and 1-3 compatible others to a seed instruction; math/code seeds come back as "None" and are dropped.
  These can only be verified by an LLM judge.

No generated prompt equals one of IFEval's 541 (checked against the file when it is present, exact text after
whitespace normalisation); the count of any dropped ones is returned.
"""

from __future__ import annotations

import random
import re
from typing import Any

from labkit.spar.data import IfevalItem
from labkit.spar.ifeval import checker

TASKS = [
    "Write a short story about a lighthouse keeper who finds a message in a bottle.",
    "Describe a farmers' market on a rainy Saturday morning.",
    "Explain to a ten-year-old why the sky changes colour at sunset.",
    "Write a product description for a reusable water bottle made of glass.",
    "Give advice to someone starting their first job in a busy restaurant kitchen.",
    "Write a letter from a cat to its owner about the new sofa.",
    "Summarise the benefits of learning a second language as an adult.",
    "Describe the city of the future as imagined by a child in 1950.",
    "Write a speech for the opening of a small public library.",
    "Explain how to plan a weekend hiking trip on a small budget.",
    "Write a review of an imaginary restaurant that serves only soups.",
    "Describe a day in the life of a beekeeper.",
    "Write a poem about the last train of the night.",
    "Explain why sleep matters for students during exam weeks.",
    "Write an announcement for a neighbourhood clean-up day.",
    "Describe your ideal reading corner at home.",
    "Write a diary entry of an astronaut on her first day in orbit.",
    "Give tips for keeping houseplants alive through the winter.",
    "Write a short fable about a fox and a patient tortoise who open a bakery.",
    "Explain the difference between weather and climate to a new student.",
    "Write an invitation to a surprise birthday picnic in the park.",
    "Describe the sounds of a forest at dawn.",
    "Write a pitch for a board game about running a space station.",
    "Explain how a bicycle stays upright while it moves.",
    "Write a thank-you note to a teacher who made maths fun.",
    "Describe an old bookshop that only opens at night.",
    "Give reasons to visit a small seaside town out of season.",
    "Write a bedtime story about a dragon who is afraid of the dark.",
    "Explain how to make a simple vegetable soup.",
    "Write a short biography of an imaginary inventor of umbrellas.",
]
WORDS = ["light", "river", "window", "garden", "morning", "silver", "journey", "quiet", "bridge", "paper"]
ENDINGS = ["Is there anything else I can help with?", "Thank you for reading", "That is all for today"]


def _constraint(iid: str, rng: random.Random) -> dict[str, Any]:
    """Kwargs for one constraint kind (values in ranges a short answer can meet)."""
    relation = rng.choice(["less than", "at least"])
    return {
        "punctuation:no_comma": {},
        "change_case:english_lowercase": {},
        "change_case:english_capital": {},
        "detectable_format:title": {},
        "startend:quotation": {},
        "length_constraints:number_words": {"num_words": rng.choice([30, 50, 80, 120]), "relation": relation},
        "length_constraints:number_sentences": {"num_sentences": rng.randint(2, 6), "relation": relation},
        "detectable_format:number_bullet_lists": {"num_bullets": rng.randint(2, 5)},
        "detectable_format:number_highlighted_sections": {"num_highlights": rng.randint(1, 3)},
        "keywords:existence": {"keywords": rng.sample(WORDS, rng.randint(1, 2))},
        "keywords:forbidden_words": {"forbidden_words": rng.sample(WORDS, 2)},
        "startend:end_checker": {"end_phrase": rng.choice(ENDINGS)},
        "detectable_content:postscript": {"postscript_marker": rng.choice(["P.S.", "P.P.S"])},
    }[iid]


KINDS = ["punctuation:no_comma", "change_case:english_lowercase", "change_case:english_capital",
         "detectable_format:title", "startend:quotation", "length_constraints:number_words",
         "length_constraints:number_sentences", "detectable_format:number_bullet_lists",
         "detectable_format:number_highlighted_sections", "keywords:existence", "keywords:forbidden_words",
         "startend:end_checker", "detectable_content:postscript"]
CONFLICTS = [{"change_case:english_lowercase", "change_case:english_capital"},
             {"startend:quotation", "startend:end_checker"}, {"startend:quotation", "detectable_content:postscript"},
             {"startend:end_checker", "detectable_content:postscript"},
             {"keywords:existence", "keywords:forbidden_words"}]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def programmatic_prompts(count: int, *, seed: int = 0, exclude: set[str] | None = None,
                         max_constraints: int = 3, start_key: int = 100_000) -> tuple[list[IfevalItem], int]:
    """``count`` distinct prompts with 1..max_constraints compatible constraints; (prompts, dropped as
    duplicates of ``exclude`` - normalised texts, e.g. IFEval's)."""
    rng = random.Random(seed)
    exclude = exclude or set()
    out: dict[str, IfevalItem] = {}
    dropped = tries = 0
    while len(out) < count:
        tries += 1
        if tries > 100 * count + 1000:
            raise ValueError(f"only {len(out)} distinct prompts after {tries} draws: lower count or raise "
                             "max_constraints")
        task = rng.choice(TASKS)
        kinds: list[str] = []
        target = rng.randint(1, max_constraints)
        for iid in rng.sample(KINDS, len(KINDS)):
            if len(kinds) == target:
                break
            if not any({iid, k} <= c for k in kinds for c in CONFLICTS):
                kinds.append(iid)
        kwargs = [_constraint(iid, rng) for iid in kinds]
        sentences = [checker(iid, kw, task).build_description(**kw) for iid, kw in zip(kinds, kwargs, strict=True)]
        text = " ".join([task, *sentences])
        if normalise(text) in exclude:
            dropped += 1
            continue
        if text not in out:
            out[text] = IfevalItem(start_key + len(out), text, tuple(kinds), tuple(kwargs))
    return list(out.values()), dropped


CATEGORIES = ["length", "text format", "character format", "template", "punctuation", "numeric format",
              "keyword", "symbol", "sentence", "genre", "language", "situation", "language style", "sentiment"]
EVOLVE_TEMPLATE = """Make the following instruction harder to follow exactly by adding constraints to it.
Add one main constraint of the kind "{main}" and one to three other constraints that fit with it and with the
task. Prefer constraints on the answer's form and wording over its length, and keep the task itself. If the
instruction is a maths or programming task, answer only: None.

Instruction: {seed}

Write the new instruction between [[start]] and [[end]]."""


def evolve_prompts(model: Any, seeds: list[str], *, seed: int = 0, temperature: float = 0.7,
                   max_tokens: int = 256, exclude: set[str] | None = None) -> tuple[list[str], dict[str, int]]:
    """One evolved prompt per seed instruction (paper: gpt-4o-mini, T 0.7); returns (prompts, drop counts)."""
    from labkit.core.models import Sampling
    from labkit.spar.judge import parse_refinement

    rng = random.Random(seed)
    convs = [[{"role": "user", "content": EVOLVE_TEMPLATE.format(main=rng.choice(CATEGORIES), seed=s)}]
             for s in seeds]
    done = model.chat(convs, Sampling(max_tokens=max_tokens, temperature=temperature, seed=seed))
    out, counts = [], {"none": 0, "unparseable": 0, "duplicate": 0}
    seen = set(exclude or set())
    for completions in done:
        text = completions[0].text
        if text.strip().rstrip(".").lower() == "none":
            counts["none"] += 1
            continue
        prompt = parse_refinement(text)
        if prompt is None:
            counts["unparseable"] += 1
        elif normalise(prompt) in seen:
            counts["duplicate"] += 1
        else:
            seen.add(normalise(prompt))
            out.append(prompt)
    return out, counts
