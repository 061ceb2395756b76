"""Read a rating out of a judge's answer: ``[[x]]``, then ``[x]``, then ``Rating: x``, then the
first number. No default score: an answer with none, or one outside the scale, is unparsed."""

from __future__ import annotations

import re

_NUMBER = r"(-?\d+(?:\.\d+)?)"
PATTERNS = (re.compile(r"\[\[\s*" + _NUMBER + r"\s*\]\]"), re.compile(r"\[\s*" + _NUMBER + r"\s*\]"),
            re.compile(r"[Rr]ating\s*[:：]?\s*\**\s*" + _NUMBER), re.compile(_NUMBER))


def parse_rating(text: str, low: float, high: float) -> float | None:
    """The rating in ``text`` if one lies in [low, high]; None if the answer has no usable rating."""
    for pattern in PATTERNS:
        match = pattern.search(text or "")
        if match:
            value = float(match.group(1))
            return value if low <= value <= high else None
    return None
