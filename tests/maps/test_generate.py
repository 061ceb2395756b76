"""Generator invariants over 1,000 seeds, v11 marginals, rendering and the dataset command."""

import json
import random
import re

import numpy as np
import pytest

from labkit.maps.generate import GAIN_UNIT, UNIT, connect_controls, draw_layout, generate_circuit, merge_nodes
from labkit.maps.netlist import format_value, parse_netlist, parse_value
from labkit.maps.simulate import simulate


@pytest.fixture(scope="module")
def circuits():
    return [generate_circuit(i, seed=11) for i in range(1000)]


def test_every_circuit_is_valid(circuits) -> None:
    for c in circuits:
        net = parse_netlist(c.netlist.to_spice())
        names = [el.name for el in net.elements]
        assert len(names) == len(set(names)), c.id
        assert net.measurements and any(el.kind in "VI" and not el.name.startswith("VI") for el in net.elements)
        filled = net if not c.symbolic else net.with_values({e.name: e.value for e in c.edges if e.name})
        result = simulate(filled, ill=1e8)
        assert result.ok and result.condition < 1e8, c.id
        labels = [m.label for m in net.measurements]
        assert len(labels) == len(set(labels))
        for q in c.questions:  # answers are the simulation's own numbers
            got = result.measurements[q["label"]]
            assert q["value_si"] == pytest.approx(got, rel=1e-12, abs=1e-15)


def test_figure_labels_equal_netlist_values(circuits) -> None:
    for c in circuits[:300]:
        values = {el.name: el.value for el in c.netlist.elements}
        for e in c.edges:
            if not e.name:
                continue
            if c.symbolic:
                assert values[e.name] is None
                continue
            text = e.text(False)  # "R3 47 kΩ", "E1 48·U3" (gains never carry a prefix)
            number = re.match(rf"{e.name} (\d+)(?: ?([km]?))", text)
            shown = int(number.group(1)) * {"": 1, "k": 1e3, "m": 1e-3}[number.group(2) or ""]
            if e.kind in "CL":
                shown = e.value
            assert values[e.name] == pytest.approx(shown, rel=1e-12), (c.id, text)
            if e.kind in GAIN_UNIT:
                assert e.prefix == "" and e.control in text
        if c.symbolic:  # the question states the values the answers were computed with
            for e in c.edges:
                if e.name:
                    assert f"{e.text(True)} = {format_value(e.value)}" in c.questions[0]["question"]


def test_same_seed_same_bytes_and_different_seeds_differ() -> None:
    a, b = generate_circuit(5, seed=3), generate_circuit(5, seed=3)
    assert a.netlist.to_spice() == b.netlist.to_spice() and a.questions == b.questions
    assert generate_circuit(6, seed=3).netlist.to_spice() != a.netlist.to_spice()
    assert generate_circuit(5, seed=4).netlist.to_spice() != a.netlist.to_spice()


def test_v11_marginals_before_filtering() -> None:
    nodes, branches = [], []
    for i in range(3000):
        rng = random.Random(i)
        rows, cols, _, edges = draw_layout(rng, False)
        connect_controls(rng, edges)
        nodes.append(len(set(merge_nodes(rows, cols, edges).values())))
        branches.append(sum(e.kind not in ("short", "open") for e in edges))
    assert np.mean(nodes) == pytest.approx(7.703, rel=0.10)
    assert np.mean(branches) == pytest.approx(10.771, rel=0.10)


def test_reactive_circuits_have_ac_or_transient_questions() -> None:
    found = [generate_circuit(i, seed=1, reactive=True) for i in range(60)]
    kinds = {c.analysis for c in found}
    assert {"ac", "tran"} <= kinds
    c = next(c for c in found if c.analysis == "ac")
    assert any(el.kind in "CL" for el in c.netlist.elements) and c.netlist.analyses[0].kind == "ac"


def test_render_writes_png_and_svg_with_the_netlist_labels(tmp_path) -> None:
    pytest.importorskip("schemdraw")
    from labkit.maps.render import render

    c = next(generate_circuit(i) for i in range(50) if not generate_circuit(i).symbolic)
    files = render(c, tmp_path)
    assert (tmp_path / files["png"]).stat().st_size > 2000
    svg = (tmp_path / files["svg"]).read_text()
    for e in c.edges:
        if e.name:
            assert e.text(False) in svg.replace("&#183;", "·")
    for m in c.netlist.measurements:
        assert m.label in svg


def test_generate_command_resumes(tmp_path) -> None:
    from labkit.core.runs import Run
    from labkit.maps.config import GenerateConfig
    from labkit.maps.method import generate_run

    cfg = GenerateConfig(n=6, render=False, workers=1)
    (tmp_path / "config.yaml").write_text("{}")
    first = generate_run(cfg, Run(tmp_path))
    assert first["circuits"] == 6
    cfg.n = 9
    again = generate_run(cfg, Run(tmp_path))
    assert again["throughput"]["circuits_this_call"] == 3
    lines = [json.loads(x) for x in (tmp_path / "circuits.jsonl").read_text().splitlines()]
    assert [r["index"] for r in lines] == list(range(9))
    assert json.loads((tmp_path / "labels.json").read_text())[lines[0]["id"]] == lines[0]["spice"]
    assert parse_value("1k") == 1000.0 and UNIT["R"] == "Ω"
