"""Render a judge prompt for one strategy and one item (HPSS, arXiv:2502.13031, Sec. 3.1).

The prompt has three blocks, placed in the strategy's ``order``: **T** task instruction (with the
scale, the CoT/output format and, for Dialectic, the write-your-own step), **E** evaluation rules
(criterion, AutoCoT steps), **I** input (examples, source sections, metric questions, reference,
the judged output). A ``No...`` value adds nothing; rendering is a pure function of its inputs.
The wording is labkit's own (version ``PROMPT_VERSION``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from labkit.hpss.data import Item
from labkit.hpss.tasks import Task

PROMPT_VERSION = "labkit-hpss-judge-v1"
SYSTEM = "You are a helpful assistant."


@dataclass(frozen=True)
class Pieces:
    """Side information already chosen for this strategy and item (None = left out)."""

    criterion: str | None = None
    autocot: str | None = None
    metric_questions: str | None = None
    reference: str | None = None
    examples: str | None = None


def scale_range(task: Task, aspect: str, scale: int) -> tuple[int, int]:
    """1..N, except Topical-Chat groundedness on the 3-point scale, which HPSS rates 0..1."""
    if task.name == "topical_chat" and aspect == "groundedness" and scale == 3:
        return 0, 1
    return 1, scale


def rating_format(low: int, high: int) -> str:
    example = (low + high + 1) // 2
    return f'strictly in this format: "[[rating]]", for example: "Rating: [[{example}]]"'


def task_block(task: Task, aspect: str, values: dict[str, Any], low: int, high: int) -> str:
    thing = task.thing
    lines = [f"Please act as an impartial judge and evaluate the {aspect} of the {thing} shown below. "
             f"The {thing} is {task.description}."]
    if values["reference"] == "Reference":
        lines.append(f"A reference {thing} is given; use it to inform your judgement.")
    elif values["reference"] == "Dialectic":
        lines.append(f"Before judging, write your own {thing} for the same input, then compare the "
                     f"{thing} under evaluation with yours.")
    lines.append(f"Rate the {thing} on a scale of {low} to {high}, where {low} is the worst and {high} "
                 "is the best.")
    fmt = rating_format(low, high)
    lines.append({
        "Prefix": f"Begin with a brief explanation of your judgement, then give your rating {fmt}.",
        "Suffix": f"First give your rating {fmt}, then briefly explain it.",
        "Free": f"Give only your rating, {fmt}, with no explanation.",
    }[values["cot"]])
    return "[Task]\n" + " ".join(lines)


def rules_block(pieces: Pieces) -> str:
    parts = []
    if pieces.criterion:
        parts.append(f"[Evaluation Criteria]\n{pieces.criterion.strip()}")
    if pieces.autocot:
        steps = pieces.autocot.strip()
        steps = steps[len("Evaluation Steps:"):].strip() if steps.startswith("Evaluation Steps:") else steps
        parts.append(f"[Evaluation Steps]\n{steps}")
    return "\n\n".join(parts)


def input_sections(task: Task, item: Item) -> list[str]:
    return [f"[{title}]\n{item.fields[key].strip()}" for title, key in task.sections
            if item.fields.get(key, "").strip()]


def judged_output(task: Task, text: str, label: str = "") -> str:
    name = f"{label} {task.thing.capitalize()}".strip()
    return f"[The Start of the {name}]\n{text.strip()}\n[The End of the {name}]"


def input_block(task: Task, item: Item, pieces: Pieces) -> str:
    parts = []
    if pieces.examples:
        parts.append(f"[Examples]\n{pieces.examples.strip()}")
    parts += input_sections(task, item)
    if pieces.metric_questions:
        parts.append(f"[Questions to Consider]\n{pieces.metric_questions.strip()}")
    if pieces.reference:
        parts.append(judged_output(task, pieces.reference, "Reference"))
    parts.append(judged_output(task, item.fields["output"]))
    return "\n\n".join(parts)


def render_prompt(task: Task, aspect: str, values: dict[str, Any], item: Item,
                  pieces: Pieces) -> list[dict[str, str]]:
    """Chat messages for one judge call."""
    low, high = scale_range(task, aspect, values["scale"])
    blocks = {"T": task_block(task, aspect, values, low, high), "E": rules_block(pieces),
              "I": input_block(task, item, pieces)}
    text = "\n\n".join(blocks[b] for b in values["order"] if blocks[b])
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]


def format_example(task: Task, item: Item, rating: int | float) -> str:
    """One rated example for a few-shot block, in the input's own layout."""
    return "\n\n".join([*input_sections(task, item), judged_output(task, item.fields["output"]),
                        f"[Rating]\n{rating}"])
