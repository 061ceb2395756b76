"""SPICE decks, mutated (tests/fuzzing.py): `labkit maps simulate` reads each one right, refuses it in one line
naming the file, or reports a simulation that is not ok - never an internal error."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given

from tests.fuzzing import Tally, mutations, run_cli

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


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"maps simulate ({name} deck)"))
