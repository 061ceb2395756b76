"""Numeric judge for circuit answers and accuracy tables (arXiv:2501.10768's evaluation).

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


# ---------------------------------------------------------------- perception (PPM) metrics


def circuit_graph(net: Any) -> Any:
    """Typed, polarity-aware graph of a netlist (networkx): a vertex per circuit node (ground marked) and
    per element (its kind), edges element->node labelled +/- (and c+/c- for E/G controls, ctrl for F/H)."""
    import networkx as nx

    g = nx.DiGraph()
    for node in ["0", *net.nodes]:
        g.add_node(f"n:{node}", kind="ground" if node == "0" else "node")
    for el in net.elements:
        v = f"e:{el.name.lower()}"
        g.add_node(v, kind=el.kind)
        g.add_edge(v, f"n:{el.nodes[0]}", role="+")
        g.add_edge(v, f"n:{el.nodes[1]}", role="-")
        if el.control_nodes:
            g.add_edge(v, f"n:{el.control_nodes[0]}", role="c+")
            g.add_edge(v, f"n:{el.control_nodes[1]}", role="c-")
    for el in net.elements:
        if el.control_source:
            g.add_edge(f"e:{el.name.lower()}", f"e:{el.control_source.lower()}", role="ctrl")
    return g


def same_topology(a: Any, b: Any) -> bool:
    import networkx as nx

    ga, gb = circuit_graph(a), circuit_graph(b)
    return nx.is_isomorphic(ga, gb, node_match=lambda x, y: x["kind"] == y["kind"],
                            edge_match=lambda x, y: x["role"] == y["role"])


def value_multisets(net: Any) -> dict[str, list[float]]:
    out: dict[str, list[float]] = defaultdict(list)
    for el in net.elements:
        out[el.kind].append(el.value)
    return {k: sorted(v, key=lambda x: (x is None, x or 0.0)) for k, v in out.items()}


def _values_equal(a: list[Any], b: list[Any], rtol: float) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if (x is None) != (y is None):
            return False
        if x is not None and abs(x - y) > rtol * max(abs(x), abs(y)) + 1e-12:
            return False
    return True


def ppm_metrics(prediction: str, label: str, *, rtol: float = 1e-4) -> dict[str, Any]:
    """MAPS's perception metrics for one (predicted, reference) netlist pair, signed, with relative tolerance:
    parses / simulates, exact match, per-type counts, per-type value multisets, measured results, topology."""
    from labkit.core.errors import DataError
    from labkit.maps.netlist import parse_netlist
    from labkit.maps.simulate import simulate

    ref = parse_netlist(label)
    out: dict[str, Any] = {"exact_match": " ".join(prediction.split()) == " ".join(label.split())}
    try:
        pred = parse_netlist(prediction)
        if not pred.elements:
            raise DataError("no circuit elements")
    except DataError as exc:
        return out | {"parses": False, "simulates": False, "counts_equal": False, "values_equal": False,
                      "results_equal": False, "topology_equal": False, "error": str(exc)}
    counts = {k: len(v) for k, v in value_multisets(pred).items()}
    ref_values = value_multisets(ref)
    out |= {"parses": True, "counts_equal": counts == {k: len(v) for k, v in ref_values.items()},
            "values_equal": set(ref_values) == set(value_multisets(pred)) and all(
                _values_equal(value_multisets(pred)[k], ref_values[k], rtol) for k in ref_values),
            "topology_equal": same_topology(pred, ref)}
    symbolic = bool(ref.symbolic)
    sim_pred = simulate(pred) if not symbolic else None
    sim_ref = simulate(ref) if not symbolic else None
    out["simulates"] = bool(sim_pred and sim_pred.ok) if not symbolic else None
    if symbolic or not (sim_pred and sim_ref and sim_pred.ok and sim_ref.ok):
        out["results_equal"] = None if symbolic else False
        return out
    by_label = {ms.label: sim_pred.measurements.get(k) for k, ms in
                zip(pred.measurement_keys(), pred.measurements, strict=True)}
    equal = True
    for key, ms in zip(ref.measurement_keys(), ref.measurements, strict=True):
        want, got = sim_ref.measurements[key], by_label.get(ms.label)
        if got is None or abs(got - want) > rtol * abs(want) + 1e-9:
            equal = False
    out["results_equal"] = equal
    return out


def ppm_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates of each metric (None values, e.g. results of symbolic labels, are left out and counted)."""
    keys = ["parses", "simulates", "exact_match", "counts_equal", "values_equal", "results_equal", "topology_equal"]
    out: dict[str, Any] = {"pairs": len(rows)}
    for k in keys:
        vals = [r[k] for r in rows if r.get(k) is not None]
        out[k] = {"rate": _mean(vals) if vals else None, "n": len(vals)}
    return out
