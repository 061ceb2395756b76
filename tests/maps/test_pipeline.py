"""Chain-of-Simulation: oracle netlists answer shipped problems; repair, filling, fallbacks and eval."""

import json
from pathlib import Path

import pytest

from labkit.core.models import load_model
from labkit.core.models.mock import MockChatModel
from labkit.maps.data import load_simple_circuit_eval
from labkit.maps.eval import judge_problem
from labkit.maps.pipeline import parse_json_answer, quantities_in, solve_maps, values_in_question

FIXTURES = Path(__file__).parent / "fixtures" / "simple_circuit_eval"


def refuse(*_):  # a reasoner that must not be needed
    raise AssertionError("the reasoner was called although the simulation holds every answer")


def test_hand_transcribed_problems_are_answered_from_the_simulation(maps_data) -> None:
    """Seven SimpleCircuitEval problems (VCCS 2-19, CCVS+VCCS 3-14, CCCS 4-8 among them), netlists written
    by hand from the figures; the gold answers come from the textbook, not from this simulator."""
    problems = {p.id: p for p in load_simple_circuit_eval(maps_data / "simple_circuit_eval")}
    files = sorted(FIXTURES.glob("*.cir"))
    assert len(files) >= 5
    for path in files:
        problem = problems[path.stem]
        answer = solve_maps(problem.question, reasoner=MockChatModel(refuse), netlist=path.read_text(),
                            quantities=list(problem.gold))
        verdicts = judge_problem(answer.answers, problem.gold)
        assert all(v.right for v in verdicts), (path.stem, answer.answers, problem.gold)
        assert [s["step"] for s in answer.trace] == ["perceive", "validate", "simulate", "answer"]


NET = "V1 1 0 10\nR1 1 2 2k\nR2 2 0 3k\n.control\nop\nprint v(2) ; measurement of U0\n.endc\n"


def test_quantities_named_in_the_question_are_read_directly() -> None:
    from labkit.maps.netlist import parse_netlist

    assert quantities_in("Find $U_{0}$ in the circuit.", parse_netlist(NET)) == ["U0"]
    answer = solve_maps("Find the voltage U0.", reasoner=MockChatModel(refuse), netlist=NET)
    assert answer.answers == {"U0": "6 V"}


def test_other_quantities_go_to_the_reasoner_with_the_simulation() -> None:
    seen = []

    def reasoner(conv, *_):
        seen.append(conv[-1]["content"])
        return 'The power is\n```json\n{"P": "12 mW"}\n```'

    answer = solve_maps("Find the power P absorbed by R2.", reasoner=MockChatModel(reasoner), netlist=NET,
                        quantities=["P"])
    assert answer.answers == {"P": "12 mW"} and answer.trace[-1]["source"] == "reasoner"
    assert "## Simulation results" in seen[0] and '"U0": 6.0' in seen[0]
    unparsed = solve_maps("Find P.", reasoner=MockChatModel(["I think it is large."]), netlist=NET, quantities=["P"])
    assert unparsed.error == "unparsed reasoner answer" and unparsed.answers == {}


def test_repair_fill_and_no_simulation_fallback() -> None:
    broken = "V1 1 0 10\nR1 1 2 2k\nR2 2 0 3q q\n.control\nop\nprint v(2) ; measurement of U0\n.endc\n"
    repaired = solve_maps("Find U0.", reasoner=MockChatModel([f"```spice\n{NET}```"]), netlist=broken)
    assert repaired.answers == {"U0": "6 V"}
    validate = [s for s in repaired.trace if s["step"] == "validate"]
    assert validate[0]["ok"] is False and validate[1] == {"step": "validate", "ok": True, "repairs": 1}
    symbolic = NET.replace("R1 1 2 2k", "R1 1 2 <Empty>").replace("V1 1 0 10", "V1 1 0 <Empty>")
    filled = solve_maps("Given $R_{1}=2 \\mathrm{k}\\Omega$ and $U_{1}=10 V$, find U0.", reasoner=MockChatModel(refuse),
                        netlist=symbolic)
    assert filled.answers == {"U0": "6 V"}
    assert values_in_question("U_{\\mathrm{S} 1}=232 \\mathrm{V}, R_{2}=0.06 \\Omega") == {"VS1": 232.0, "R2": 0.06}
    floating = "V1 1 0 5\nR1 1 0 1k\nI1 2 3 1m\nR2 2 3 1k\n.control\nop\nprint v(2, 3) ; measurement of U1\n.endc\n"
    nosim = solve_maps("Find U1.", reasoner=MockChatModel(['```json\n{"U1": "1 V"}\n```']), netlist=floating)
    assert nosim.trace[-2]["status"] == "singular" and nosim.trace[-1]["source"] == "reasoner-nosim"


def test_json_answers_are_read_from_fences_or_braces() -> None:
    assert parse_json_answer('x ```json\n{"I": "2 A"}\n``` y') == {"I": "2 A"}
    assert parse_json_answer('answer: {"U": -5} done') == {"U": "-5"}
    assert parse_json_answer("no json here") is None


def test_eval_on_a_generated_dataset_maps_beats_direct(tmp_path, monkeypatch) -> None:
    from labkit.core.config import load_config
    from labkit.core.runs import Run, start_run
    from labkit.maps.config import GenerateConfig, MapsConfig
    from labkit.maps.method import eval_run, generate_run

    data = tmp_path / "data"
    data.mkdir()
    (data / "config.yaml").write_text("{}")
    generate_run(GenerateConfig(n=6, render=False, workers=1, symbolic_rate=0.0), Run(data))
    cfg = load_config(MapsConfig, overrides=[f"data={data}", "solve.reasoner=mock", "workers=1"])
    run = start_run("maps", "eval", {}, root=tmp_path)
    result = eval_run(cfg, run)
    assert result["table"]["maps"]["problem_accuracy"] == 1.0  # every asked label is measured
    assert result["table"]["direct"]["problem_accuracy"] == 0.0  # the mock echoes the prompt
    assert len(run.records()) == 3 * result["problems"]


def test_cli_solve(tmp_path) -> None:
    import subprocess
    import sys

    (tmp_path / "c.cir").write_text(NET)
    out = subprocess.run([sys.executable, "-m", "labkit", "maps", "solve", "--netlist", str(tmp_path / "c.cir"),
                          "--question", "Find U0.", "--reasoner", "mock"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["answers"] == {"U0": "6 V"}


@pytest.mark.slow
def test_embedded_reasoner_runs_the_no_sim_path() -> None:
    """SmolLM2 as reasoner: the call happens and its answer is parsed or counted as unparsed, never invented."""
    answer = solve_maps("Find the power P absorbed by R2.", reasoner=load_model("smollm2"), netlist=NET,
                        quantities=["P"], max_tokens=96)
    assert answer.trace[-1]["source"] == "reasoner" and (answer.answers or answer.error)


def test_vlm_perception_gets_the_image_and_its_netlist_is_used(tmp_path) -> None:
    image = tmp_path / "fig.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    seen = []

    def vlm(conv, *_):
        seen.append(conv[-1]["content"])
        return f"Here it is:\n```spice\n{NET}```"

    answer = solve_maps("Find U0.", reasoner=MockChatModel(refuse), image=image, ppm=MockChatModel(vlm))
    assert answer.answers == {"U0": "6 V"} and answer.trace[0] == {"step": "perceive", "source": "ppm",
                                                                   "raw": f"Here it is:\n```spice\n{NET}```"}
    parts = seen[0]
    assert parts[0]["text"].startswith("Convert the circuit diagram to SPICE code: ")
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
