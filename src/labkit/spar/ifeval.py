"""Offline IFEval (Zhou et al., 2023): prompt- and instruction-level accuracy, strict and loose.

The 25 instruction checkers are the official ones, from the pinned ``lm-eval[ifeval]`` package (its
``instructions_registry``); labkit adds what makes them usable offline and reproducible:

- sentence counting with NLTK's Punkt and the published English parameters, no download (``spar.punkt``);
- fixed seeds: ``langdetect``'s detector seed 0 and ``random.seed(0)`` before each prompt
  (``keywords:letter_frequency`` draws a letter at random when its kwargs leave it out or give a non-letter;
  the loose pass builds fresh checkers after the strict pass, as the reference does, so it draws again);
- loose scoring as IFEval defines it: an instruction counts as followed if any of eight variants of the
  response follows it (as is, without ``*``, without its first line, its last line or both, and those
  without ``*``);
- per-instruction-type accuracy and the list of failing (prompt, instruction) pairs.

Responses are matched to IFEval's prompts by exact prompt text; a response for a prompt that is not in
IFEval is counted and reported, never scored against something else.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from labkit.core.errors import require
from labkit.spar.data import IfevalItem

_registry: Any = None


def registry() -> dict[str, Any]:
    """Instruction id -> checker class (the official checkers), with offline Punkt installed first."""
    global _registry
    if _registry is None:
        from labkit.spar.punkt import install_offline_punkt

        install_offline_punkt()  # before lm-eval's import, which would otherwise try to download punkt_tab
        langdetect = require("langdetect", "spar")
        langdetect.DetectorFactory.seed = 0
        _registry = require("lm_eval.tasks.ifeval.instructions_registry", "spar").INSTRUCTION_DICT
    return _registry


def loose_variants(response: str) -> list[str]:
    """The eight texts loose scoring tries, in IFEval's order."""
    lines = response.split("\n")
    first, last, both = ("\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(),
                         "\n".join(lines[1:-1]).strip())
    return [response, response.replace("*", ""), first, last, both, first.replace("*", ""),
            last.replace("*", ""), both.replace("*", "")]


def checker(instruction_id: str, kwargs: dict[str, Any], prompt: str) -> Any:
    """The official checker for one instruction, built with the prompt's kwargs (IFEval drops empty ones)."""
    cls = registry()[instruction_id]
    inst = cls(instruction_id)
    inst.build_description(**{k: v for k, v in kwargs.items() if v})
    args = inst.get_instruction_args()
    if args and "prompt" in args:
        inst.build_description(prompt=prompt)
    return inst


@dataclass
class Verdict:
    key: int
    prompt: str
    response: str
    instruction_ids: tuple[str, ...]
    strict: list[bool]
    loose: list[bool]

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "prompt": self.prompt, "response": self.response,
                "instruction_ids": list(self.instruction_ids), "strict": self.strict, "loose": self.loose}


def follows(inst: Any, text: str) -> bool:
    return bool(text.strip()) and bool(inst.check_following(text))


def score_item(item: IfevalItem, response: str) -> Verdict:
    """Strict and loose verdicts for every instruction of one prompt, exactly as the reference
    (``lm_eval.tasks.ifeval.utils.process_results``) computes them: the strict pass builds a checker per
    instruction and checks it, then the loose pass builds fresh checkers (a checker that draws at random, such
    as ``letter_frequency`` without a letter, draws again) and tries the eight variants. Seeded per prompt
    (``random.seed(0)`` before the strict pass), so every run gives the same verdicts."""
    random.seed(0)
    pairs = list(zip(item.instruction_ids, item.kwargs, strict=True))
    strict = [follows(checker(iid, kwargs, item.prompt), response) for iid, kwargs in pairs]
    variants = loose_variants(response)
    loose = []
    for iid, kwargs in pairs:
        inst = checker(iid, kwargs, item.prompt)
        loose.append(any(follows(inst, v) for v in variants))
    return Verdict(item.key, item.prompt, response, item.instruction_ids, strict, loose)


@dataclass
class Matched:
    """Responses matched to IFEval items, and what could not be matched (counted, first shown)."""

    pairs: list[tuple[IfevalItem, str]] = field(default_factory=list)
    unknown: list[tuple[int, str]] = field(default_factory=list)  # (line, prompt) not in IFEval
    duplicates: list[tuple[int, str]] = field(default_factory=list)  # a second response to the same prompt
    missing: int = 0  # IFEval prompts without a response


def match(items: list[IfevalItem], responses: Iterable[tuple[int, str, str]]) -> Matched:
    by_prompt = {it.prompt: it for it in items}
    out, seen = Matched(), set()
    for line, prompt, response in responses:
        item = by_prompt.get(prompt)
        if item is None:
            out.unknown.append((line, prompt))
        elif item.key in seen:
            out.duplicates.append((line, prompt))
        else:
            seen.add(item.key)
            out.pairs.append((item, response))
    out.missing = len(items) - len(seen)
    return out


def summarize(verdicts: list[Verdict]) -> dict[str, Any]:
    """IFEval's four accuracies (percent), their mean, per-instruction-type accuracies and the failures."""
    if not verdicts:
        return {"prompts": 0}
    flat_s = [v for x in verdicts for v in x.strict]
    flat_l = [v for x in verdicts for v in x.loose]
    out = {"prompts": len(verdicts), "instructions": len(flat_s),
           "prompt_strict": 100 * sum(all(x.strict) for x in verdicts) / len(verdicts),
           "inst_strict": 100 * sum(flat_s) / len(flat_s),
           "prompt_loose": 100 * sum(all(x.loose) for x in verdicts) / len(verdicts),
           "inst_loose": 100 * sum(flat_l) / len(flat_l)}
    out["average"] = (out["prompt_strict"] + out["inst_strict"] + out["prompt_loose"] + out["inst_loose"]) / 4
    out["strict_mean"] = (out["prompt_strict"] + out["inst_strict"]) / 2  # what SmolLM2's model card reports
    per: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for x in verdicts:
        for iid, s, lo in zip(x.instruction_ids, x.strict, x.loose, strict=True):
            per[iid].append((s, lo))
    out["per_type"] = {iid: {"n": len(v), "strict": 100 * sum(s for s, _ in v) / len(v),
                             "loose": 100 * sum(lo for _, lo in v) / len(v)} for iid, v in sorted(per.items())}
    out["failing"] = [{"key": x.key, "instruction": iid, "loose_ok": lo}
                      for x in verdicts for iid, s, lo in zip(x.instruction_ids, x.strict, x.loose, strict=True)
                      if not s]
    return out
