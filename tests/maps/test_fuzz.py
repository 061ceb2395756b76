"""SPICE decks, mutated (tests/fuzzing.py): `labkit maps simulate` reads each one right, refuses it in one line
naming the file, or reports a simulation that is not ok - never an internal error. A generated dataset's
circuits.jsonl and a perception model's predictions (JSON lines {id, netlist}) go through `maps eval-ppm` the
same way."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given

from tests.fuzzing import Tally, examples, fuzz_command, fuzz_loader, mutations, run_cli

DECKS = {
    "tran": b"rc low-pass\nV1 in 0 PULSE(0 5 0 1u 1u 1m 2m)\nR1 in out 4K7\nC1 out 0 10n\n.tran 10u 200u\n"
            b".control\nprint v(out) ; measurement of V\n.endc\n.end\n",
    "op, subcircuit and param": b"divider\n.param r=2k\n.subckt half a b m\nR1 a m {r}\nR2 m b {r*3}\n.ends\n"
                                b"V1 1 0 DC 9 AC 1\nX1 1 0 2 half\nE1 3 0 2 0 2\nR3 3 0 1k\n.op\n"
                                b".control\nprint v(3) ; measurement of U\nprint i(V1) ; measurement of I\n"
                                b".endc\n.end\n",
    "ac": b"rlc\nV1 1 0 AC 1\nR1 1 2 10\nL1 2 3 10m\nC1 3 0 1u\n.ac dec 10 100 10k\n.control\nprint v(3) ; "
          b"measurement of X\n.endc\n.end\n",
}
TALLY: dict[str, Tally] = {name: Tally() for name in DECKS}


def _fuzz(name: str, mutation: tuple[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "deck.cir"
        path.write_bytes(mutation[1])
        code, err = run_cli(["maps", "simulate", str(path), "--backend", "own"])
        TALLY[name].check(code, err, str(path), set())


@given(mutations(DECKS["tran"]))
def test_fuzz_transient_deck(mutation) -> None:
    _fuzz("tran", mutation)


@given(mutations(DECKS["op, subcircuit and param"]))
def test_fuzz_op_deck_with_subcircuit_and_param(mutation) -> None:
    _fuzz("op, subcircuit and param", mutation)


@given(mutations(DECKS["ac"]))
def test_fuzz_ac_deck(mutation) -> None:
    _fuzz("ac", mutation)




def _dataset() -> tuple[dict[str, bytes], bytes]:
    """A generated dataset (8 circuits; its files as bytes) and perfect predictions for its test split."""
    import json

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ds"
        code, err = run_cli(["maps", "generate", "--out", str(out), "--n", "8"])
        assert code == 0, err
        files = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    rows = [json.loads(x) for x in files["circuits.jsonl"].decode().splitlines()]
    preds = "".join(json.dumps({"id": r["id"], "netlist": r["spice"]}) + "\n" for r in rows if r["split"] == "test")
    return files, preds.encode()


DATASET, PREDICTIONS = _dataset()
TALLY.update({"predictions": Tally(), "dataset": Tally()})


def _eval_ppm(d: Path) -> list[str]:
    return ["maps", "eval-ppm", "--data", str(d / "ds"), "--predictions", str(d / "predictions.jsonl")]


@examples(15)
@given(mutations(PREDICTIONS))
def test_fuzz_eval_ppm_predictions(mutation) -> None:
    fuzz_command(TALLY["predictions"], "predictions.jsonl", mutation[1], _eval_ppm,
                 others={f"ds/{k}": v for k, v in DATASET.items()})


@examples(15)
@given(mutations(DATASET["circuits.jsonl"]))
def test_fuzz_eval_ppm_dataset(mutation) -> None:
    fuzz_command(TALLY["dataset"], "ds/circuits.jsonl", mutation[1], _eval_ppm,
                 others={"predictions.jsonl": PREDICTIONS,
                         **{f"ds/{k}": v for k, v in DATASET.items() if k != "circuits.jsonl"}})


QA = json.dumps([{"id": f"{i}-{i + 3}", "question": f"Find the voltage U{i} in the circuit of figure {i}.",
                  "golden_answer": {f"$U_{i}$": f"${i - 2} \\mathrm{{~V}}$"}, "solution": "KVL.", "is_forward": True}
                 for i in range(1, 5)], indent=2, ensure_ascii=False).encode()  # simple_circuit_eval's qa.json shape
TALLY.update({"qa.json": Tally(), "circuits.jsonl": Tally()})


def _loader(kind: str, name: str, data: bytes, load) -> None:
    problems = fuzz_loader(TALLY[kind], name, data, lambda path: load(path.parent), folder_named=True)
    assert problems is None or (problems and all(p.gold and isinstance(p.question, str) for p in problems))


@examples(100)  # milliseconds each: what `maps eval --data` reads before any work
@given(mutations(QA))
def test_fuzz_simple_circuit_eval_qa(mutation) -> None:
    from labkit.maps.data import load_simple_circuit_eval

    _loader("qa.json", "qa.json", mutation[1], load_simple_circuit_eval)


@examples(100)
@given(mutations(DATASET["circuits.jsonl"]))
def test_fuzz_generated_dataset_questions(mutation) -> None:
    from labkit.maps.data import load_generated

    _loader("circuits.jsonl", "circuits.jsonl", mutation[1], load_generated)


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"maps eval-ppm ({name})" if name in ("predictions", "dataset") else
                         f"maps eval ({name})" if name in ("qa.json", "circuits.jsonl") else
                         f"maps simulate ({name} deck)"))
