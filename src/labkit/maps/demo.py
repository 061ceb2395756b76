"""MAPS quick demo: generate a few circuits, show one diagram, simulate it, answer questions about it
(measured labels straight from the simulation; a derived quantity by the embedded SmolLM2 reasoner)."""

from __future__ import annotations

import json
from pathlib import Path

from labkit.core.runs import open_run


def run_demo(folder: Path) -> str:
    from labkit.core.models import load_model
    from labkit.maps.answers import format_quantity
    from labkit.maps.config import GenerateConfig
    from labkit.maps.eval import judge_slot
    from labkit.maps.method import generate_run
    from labkit.maps.netlist import parse_netlist
    from labkit.maps.pipeline import solve_maps
    from labkit.maps.simulate import simulate

    data = folder / "data"
    cfg = GenerateConfig(n=4, seed=7, workers=1, symbolic_rate=0.0)
    stats = generate_run(cfg, open_run(data, cfg.__dict__))
    record = json.loads((data / "circuits.jsonl").read_text().splitlines()[0])
    net = parse_netlist(record["spice"])
    sim = simulate(net)
    question = record["questions"][0]
    direct = solve_maps(question["question"], reasoner=load_model("smollm2"), netlist=record["spice"])
    resistor = next(el for el in net.elements if el.kind == "R")
    truth = sim.branch_currents[resistor.name] ** 2 * resistor.value
    ask = f"In the circuit shown, find the power P absorbed by resistor {resistor.name}."
    reasoned = solve_maps(ask, reasoner=load_model("smollm2"), netlist=record["spice"], quantities=["P"],
                          max_tokens=160)
    got = reasoned.answers.get("P")
    right, why = judge_slot(got, format_quantity(truth, "W"))
    why = reasoned.error or why
    lines = [
        "## MAPS: circuit diagram -> netlist -> simulation -> answer", "",
        f"Generated {stats['circuits']} grid circuits (v11 distribution, only solvable ones; "
        f"{stats['rejected_draws']['total']} rejected draws). The first one:", "",
        f"![circuit](maps/data/{record['image']})", "",
        "```spice\n" + record["spice"].strip() + "\n```", "",
        f"Own simulator: status {sim.status}, condition number {sim.condition:.3g}; measured "
        + ", ".join(f"{k} = {v:.4g}" for k, v in sim.measurements.items()) + ".", "",
        f"Q: {question['question']} -> MAPS answers {direct.answers} straight from the simulation "
        f"(gold {question['answer']}).", "",
        f"Q: {ask} -> the embedded SmolLM2-135M reasoner, given netlist and simulation JSON, "
        + (f"answered {got!r}" if got is not None else "gave no answer that parses")
        + f" ({'right' if right else 'wrong: ' + why}; simulated truth {format_quantity(truth, 'W')}). "
        "A 135M text model is not a circuit reasoner; point `--reasoner` at a strong model for real numbers.", "",
    ]
    return "\n".join(lines)
