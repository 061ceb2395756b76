"""The meta-evaluation tasks HPSS searches on: what is judged, its input sections, human scales.

A task says how an item is shown to the judge (bracketed sections, as in HPSS) and which
aspects humans rated on which scale. ``generic`` serves users' own JSONL/CSV data.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Task:
    name: str
    description: str            # what the judged text is, for the task instruction
    thing: str                  # the judged object: "response", "summary", ...
    sections: tuple[tuple[str, str], ...]  # (section title, item field) shown before the output
    aspects: tuple[str, ...]
    level: str = "dataset"      # "dataset" or "summary" (correlate within each group, then average)
    default_scale: int = 5


TASKS: dict[str, Task] = {
    "topical_chat": Task(
        "topical_chat", "the next turn of a knowledge-grounded conversation", "response",
        (("Conversation History", "source"), ("Corresponding Fact", "context")),
        ("coherence", "engagingness", "groundedness", "naturalness"), default_scale=3),
    "sfhot": Task(
        "sfhot", "a natural-language sentence generated from a structured dialogue act (hotels)",
        "sentence", (("Structured Data Expression", "source"),), ("informativeness", "naturalness")),
    "sfres": Task(
        "sfres", "a natural-language sentence generated from a structured dialogue act (restaurants)",
        "sentence", (("Structured Data Expression", "source"),), ("informativeness", "naturalness")),
    "hanna": Task(
        "hanna", "a short story written for a writing prompt", "story", (("Story Prompt", "source"),),
        ("relevance", "coherence", "empathy", "surprise", "engagement", "complexity")),
    "summeval": Task(
        "summeval", "a summary of a news article", "summary", (("Article", "source"),),
        ("coherence", "consistency", "fluency", "relevance"), level="summary"),
    "generic": Task(
        "generic", "a generated text for the given source", "output", (("Source", "source"),), ()),
}


def task_for(name: str) -> Task:
    return TASKS.get(name, TASKS["generic"])
