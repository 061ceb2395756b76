"""Word helpers shared by the tool heuristics, the operations and the record walkers: identifiers split
into words (``searchEmails`` -> search, emails) and reduced to stems (plural -> singular)."""

from __future__ import annotations

import re

IGNORED_WORDS = {"new", "updated", "target", "the", "a", "an", "of", "to", "for", "by", "in", "on", "and", "all",
                 "current", "specific", "given", "info", "details", "detail", "data", "list", "information"}


def words(name: str) -> list[str]:
    """``searchEmails`` / ``search_emails`` -> ``['search', 'emails']``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def stem(word: str) -> str:
    """Plural to singular, enough for names: policies -> policy, boxes -> box, valves -> valve, ids -> id;
    then allocation / allocated -> allocate (a field named for the act: ``allocated_resources``)."""
    word = _singular(word)
    if len(word) > 7 and word.endswith("ation"):
        return word[:-5] + "ate"
    if len(word) > 6 and word.endswith("ated"):
        return word[:-1]
    return word


def _singular(word: str) -> str:
    if word == "ids":
        return "id"
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stems(text: str) -> set[str]:
    return {stem(w) for w in words(text)} - IGNORED_WORDS
