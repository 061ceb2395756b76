"""Perception metrics: invariant to node renumbering and line order, signed (reversed sources are wrong)."""

import random

import pytest

from labkit.maps.eval import ppm_metrics, ppm_summary
from labkit.maps.generate import generate_circuit
from labkit.maps.netlist import parse_netlist

pytest.importorskip("networkx")


def renumber(text: str, seed: int) -> str:
    net = parse_netlist(text)
    nodes = net.nodes
    rng = random.Random(seed)
    new = [str(k + 50) for k in range(len(nodes))]
    rng.shuffle(new)
    mapping = dict(zip(nodes, new, strict=True)) | {"0": "0"}
    lines = []
    for raw in text.splitlines():
        words = raw.split()
        if words and words[0][0].upper() in "RCLVIEGFH" and not raw.startswith("."):
            k = 5 if words[0][0].upper() in "EG" else 3
            words = [words[0]] + [mapping.get(w, w) for w in words[1:k]] + words[k:]
        elif raw.startswith("print v("):
            expr, label = raw.split(";")
            inner = expr[expr.index("(") + 1:expr.index(")")]
            mapped = ", ".join(mapping[n.strip()] for n in inner.split(","))
            words = [f"print v({mapped}) ;{label}"]
        lines.append(" ".join(words))
    elements = [x for x in lines if x and x[0].upper() in "RCLVIEGFH" and not x.startswith(".")]
    rng.shuffle(elements)
    rest = [x for x in lines if x not in elements]
    return "\n".join(rest[:1] + elements + rest[1:])


def test_renumbered_and_reordered_netlists_score_one() -> None:
    for i in range(30):
        label = generate_circuit(i, seed=5, symbolic_rate=0.0).netlist.to_spice()
        pred = renumber(label, i)
        m = ppm_metrics(pred, label)
        assert m["parses"] and m["simulates"] and m["counts_equal"] and m["values_equal"], i
        assert m["results_equal"] and m["topology_equal"], (i, pred)
        assert not m["exact_match"] or pred == label


def test_reversed_sources_lower_result_equality() -> None:
    hits = 0
    for i in range(30):
        label = generate_circuit(i, seed=5, symbolic_rate=0.0).netlist.to_spice()
        flipped = []
        for line in label.splitlines():
            w = line.split()
            if w and w[0][0] in "VI" and not w[0].startswith("VI") and len(w) > 3:
                w[1], w[2] = w[2], w[1]
            flipped.append(" ".join(w))
        m = ppm_metrics("\n".join(flipped), label)
        hits += bool(m["results_equal"])
        assert m["parses"] and m["counts_equal"] and m["values_equal"]  # same parts, opposite polarity
    assert hits <= 3  # sign-blind equality (the original metric) would accept most of them


def test_unparseable_prediction_and_summary() -> None:
    label = generate_circuit(0, seed=5, symbolic_rate=0.0).netlist.to_spice()
    bad = ppm_metrics("R1 1 0 <nonsense>\n", label)
    assert bad["parses"] is False and bad["results_equal"] is False
    good = ppm_metrics(label, label)
    assert good["exact_match"] and all(good[k] for k in ("parses", "simulates", "results_equal", "topology_equal"))
    summary = ppm_summary([bad, good])
    assert summary["parses"]["rate"] == 0.5 and summary["exact_match"]["rate"] == 0.5
