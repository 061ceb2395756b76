"""Data augmentation (arXiv:2501.15915 Sec. 3.2.1): one rewrite and three QA pairs per passage.

The original decodes without setting ``do_sample`` and repairs JSON by bracket fixing with up to 100
retries. Here sampling is explicit and seeded (temperature 0.7, a new seed per retry, so every call is
cacheable), the QA output must be a JSON list of objects with string ``question`` and ``answer`` (and
optional ``full_answer``), and a passage whose augmentation fails after the retries is reported as
failed, never trained on a placeholder.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from labkit.core.models import Sampling
from labkit.prag.corpus import Document
from labkit.prag.data import Passage

REWRITE = ("Rewrite the following passage in different words. Keep every entity, name, location, number and "
           "term.\n\nPassage: {passage}\n\nRewritten passage:")
QA = ("Read the passage and write three questions that it answers, with short answers. Output only a JSON list "
      'such as [{{"question": "What is the capital of France?", "answer": "Paris", "full_answer": "The capital '
      'of France is Paris."}}].\n\nPassage: {passage}')


@dataclass
class Augmentation:
    document: Document | None
    attempts: int
    error: str | None = None


def parse_qa(text: str) -> list[tuple[str, str]] | None:
    """The first JSON list in ``text`` whose items all have string question and answer; None otherwise."""
    match = re.search(r"\[.*\]", text, re.DOTALL)
    if not match:
        return None
    try:
        items = json.loads(match.group(0))
    except json.JSONDecodeError:
        return None
    if not isinstance(items, list):
        return None
    pairs = []
    for item in items:
        if not (isinstance(item, dict) and isinstance(item.get("question"), str)
                and isinstance(item.get("answer"), str) and item["question"].strip() and item["answer"].strip()):
            return None
        pairs.append((item["question"].strip(), item["answer"].strip()))
    return pairs if len(pairs) >= 3 else None


def augment(passage: Passage, model: Any, *, retries: int = 5, seed: int = 0, max_tokens: int = 512) -> Augmentation:
    """Rewrite + 3 QA pairs for one passage by ``model`` (an endpoint in JSON mode is the reliable choice)."""
    rewrite = model.chat([[{"role": "user", "content": REWRITE.format(passage=passage.text)}]],
                         Sampling(max_tokens=max_tokens, temperature=0.7, seed=seed))[0][0].text.strip()
    for attempt in range(1, retries + 1):
        reply = model.chat([[{"role": "user", "content": QA.format(passage=passage.text)}]],
                           Sampling(max_tokens=max_tokens, temperature=0.7, seed=seed + attempt))[0][0].text
        pairs = parse_qa(reply)
        if pairs:
            return Augmentation(Document(passage.id, passage.text, rewrite or passage.text, pairs[:3]), attempt)
    return Augmentation(None, retries, f"no valid QA JSON after {retries} attempts")
