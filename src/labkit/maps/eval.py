"""Numeric judge for circuit answers and accuracy tables (brief Sec. 5, "Evaluation").

A slot is right when the predicted value parses, its unit agrees with the gold unit (when both
have one), and |pred - gold| <= rtol * |gold| (or <= atol when the gold value is 0). A problem is
right only when all its slots are. No judging rule was published upstream; rtol 1% / atol 1e-3 is
the README's default and both are settings.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from labkit.maps.answers import normalise_name, parse_quantity


@dataclass
class SlotVerdict:
    quantity: str
    gold: str
    predicted: str | None
    right: bool
    reason: str  # "ok", "missing", "unparsed", "unit", "value"
    unit: str | None


def judge_slot(predicted: Any, gold: str, *, rtol: float = 0.01, atol: float = 1e-3) -> tuple[bool, str]:
    want = parse_quantity(gold)
    if want is None:
        return False, "gold unparsed"
    if predicted is None:
        return False, "missing"
    got = parse_quantity(str(predicted)) if not isinstance(predicted, int | float) else (float(predicted), None)
    if got is None:
        return False, "unparsed"
    if want[1] and got[1] and want[1] != got[1]:
        return False, "unit"
    if want[0] == 0:
        return abs(got[0]) <= atol, "ok" if abs(got[0]) <= atol else "value"
    right = abs(got[0] - want[0]) <= rtol * abs(want[0]) * (1 + 1e-9)  # exactly rtol counts as right
    return right, "ok" if right else "value"


def judge_problem(predicted: dict[str, Any], gold: dict[str, str], *, rtol: float = 0.01,
                  atol: float = 1e-3) -> list[SlotVerdict]:
    """One verdict per gold slot; predicted keys are matched to gold quantities loosely (normalise_name)."""
    by_name = {normalise_name(k): v for k, v in (predicted or {}).items()}
    verdicts = []
    for quantity, answer in gold.items():
        pred = by_name.get(normalise_name(quantity))
        if pred is None and len(gold) == 1 and len(by_name) == 1:
            pred = next(iter(by_name.values()))  # one slot, one answer: the name does not matter
        right, reason = judge_slot(pred, answer, rtol=rtol, atol=atol)
        unit = (parse_quantity(answer) or (0.0, None))[1]
        verdicts.append(SlotVerdict(quantity, answer, None if pred is None else str(pred), right, reason, unit))
    return verdicts


def accuracy_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """rows: ``{"id", "method", "verdicts": [SlotVerdict as dict]}`` -> problem/slot accuracy per method,
    per unit (slot level) and per textbook chapter (problem level, the id's leading number)."""
    out: dict[str, Any] = {}
    by_method: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_method[row["method"]].append(row)
    for method, items in by_method.items():
        slots = [v for r in items for v in r["verdicts"]]
        per_unit: dict[str, list[bool]] = defaultdict(list)
        for v in slots:
            per_unit[v["unit"] or "none"].append(v["right"])
        per_chapter: dict[str, list[bool]] = defaultdict(list)
        for r in items:
            per_chapter[str(r["id"]).split("-")[0]].append(all(v["right"] for v in r["verdicts"]))
        failed = sum(1 for r in items if r.get("error"))
        out[method] = {
            "problems": len(items), "problem_accuracy": _mean([all(v["right"] for v in r["verdicts"]) for r in items]),
            "slots": len(slots), "slot_accuracy": _mean([v["right"] for v in slots]),
            "failed_calls": failed,
            "per_unit": {u: {"n": len(x), "accuracy": _mean(x)} for u, x in sorted(per_unit.items())},
            "per_chapter": {c: {"n": len(x), "accuracy": _mean(x)} for c, x in sorted(per_chapter.items())},
        }
    return out


def _mean(values: list[bool]) -> float:
    return sum(values) / len(values) if values else 0.0
