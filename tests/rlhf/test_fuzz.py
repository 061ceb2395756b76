"""Files of sweep points, mutated (tests/fuzzing.py): `labkit rlhf fit FILE` fits them, or refuses them in one line
naming the file - never an internal error, never a run folder (the output goes to --out). A file that still
parses costs a full fit with 1,000 bootstrap refits per curve (seconds), so CI tries 10 mutations per format;
`--hypothesis-profile=deep` runs many more."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given

from tests.fuzzing import Tally, examples, fuzz_command, mutations, run_cli

ROWS = [(n, seed, 0.1 + 0.05 * (n.bit_length() - 1) + 0.01 * seed) for n in (1, 2, 4, 8) for seed in range(3)]
JSONL = "".join(f'{{"n": {n}, "seed": {s}, "gain": {g:.4f}}}\n' for n, s, g in ROWS).encode()
CSV = ("n,seed,gain\n" + "".join(f"{n},{s},{g:.4f}\n" for n, s, g in ROWS)).encode()
TALLY = {"jsonl": Tally(), "csv": Tally()}


def _fuzz(kind: str, mutation: tuple[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"points.{kind}"
        path.write_bytes(mutation[1])
        code, err = run_cli(["rlhf", "fit", str(path), "--out", str(Path(tmp) / "out")])
        TALLY[kind].check(code, err, str(path), set())


@examples(10)
@given(mutations(JSONL))
def test_fuzz_points_jsonl(mutation) -> None:
    _fuzz("jsonl", mutation)


@examples(10)
@given(mutations(CSV))
def test_fuzz_points_csv(mutation) -> None:
    _fuzz("csv", mutation)


def _sweep_results() -> bytes:
    """results.jsonl as `rlhf sweep` writes it: the base point (axis null) and one record per point (n x seed)."""
    import json

    base = {"axis": None, "settings": {"n": 2, "seed": 0, "policy": "tiny-llama-s"}, "algorithm": "grpo",
            "accuracy_before": 0.4, "accuracy": 0.45, "gain": 0.05, "kl_to_ref": 0.02, "tokens": 2000}
    out = [json.dumps({"key": "base", "ok": True, "value": base}) + "\n"]
    for n, seed, gain in ROWS:
        value = {"axis": "n", "settings": {"n": n, "seed": seed, "policy": "tiny-llama-s"}, "algorithm":
                 "grpo" if n > 1 else "reinforce", "accuracy_before": 0.4, "accuracy": 0.4 + gain, "gain": gain,
                 "kl_to_ref": 0.01 * n, "tokens": 1000 * n}
        out.append(json.dumps({"key": f"n={n}/seed={seed}", "ok": True, "value": value}) + "\n")
    return "".join(out).encode()


RUN = _sweep_results()
TALLY["run"] = Tally()


@examples(10)
@given(mutations(RUN))
def test_fuzz_sweep_run_folder(mutation) -> None:
    fuzz_command(TALLY["run"], "run/results.jsonl", mutation[1],
                 lambda d: ["rlhf", "fit", str(d / "run"), "--out", str(d / "out")],
                 others={"run/config.yaml": b"{}\n"})


def teardown_module() -> None:
    for kind, tally in TALLY.items():
        print(tally.line("rlhf fit (a sweep run folder's results.jsonl)" if kind == "run" else
                         f"rlhf fit ({kind} points)"))
