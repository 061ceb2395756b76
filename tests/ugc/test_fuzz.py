"""Creator-game inputs, mutated (tests/fuzzing.py): a relevance matrix (CSV, .npy and .npz), a cost vector (CSV) and a
MovieLens ratings file, read by `ugc equilibrium`. The command solves the game, or refuses the file in one line
naming it (and line and field where they exist) - never an internal error, never a run folder left by a failed
start."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given

from tests.fuzzing import Tally, examples, fuzz_command, mutations

_rng = np.random.default_rng(0)
RELEVANCE = _rng.uniform(0.1, 1.0, size=(6, 3))  # users x creators
CSV = ("c0,c1,c2\n" + "".join(",".join(f"{v:.4f}" for v in row) + "\n" for row in RELEVANCE)).encode()
_buf = io.BytesIO()
np.save(_buf, RELEVANCE)
NPY = _buf.getvalue()
_buf = io.BytesIO()
np.savez(_buf, relevance=RELEVANCE, costs=np.array([1.0, 0.5, 2.0]))
NPZ = _buf.getvalue()
COSTS = b"1.0\n0.5\n2.0\n"
RATINGS = ("userId,movieId,rating,timestamp\n" + "".join(
    f"{u},{i},{1 + (u * 7 + i * 3) % 5}.0,9650{u}{i}\n" for u in range(1, 9) for i in range(1, 6) if (u + i) % 3)
).encode()
_TRIPLES = [(u, i, 1 + (u * 7 + i * 3) % 5) for u in range(1, 9) for i in range(1, 6) if (u + i) % 3]
DAT = "".join(f"{u}::{i}::{r}::9650{u}{i}\n" for u, i, r in _TRIPLES).encode()  # ml-1m/10m ratings.dat
UDATA = "".join(f"{u}\t{i}\t{r}\t9650{u}{i}\n" for u, i, r in _TRIPLES).encode()  # ml-100k u.data, no header
TALLY = {name: Tally() for name in ("relevance csv", "relevance npy", "relevance npz", "costs csv", "ratings csv",
                                    "ratings.dat", "u.data")}



def _argv(env: str, costs: str | None = None, *sets: str):
    def argv(d):
        return ["ugc", "equilibrium", "--env", str(d / env), "--beta", "0.5"] + \
            (["--costs", str(d / costs)] if costs else []) + [x for s in sets for x in ("--set", s)]
    return argv


@examples(20)
@given(mutations(CSV))
def test_fuzz_relevance_csv(mutation) -> None:
    fuzz_command(TALLY["relevance csv"], "relevance.csv", mutation[1], _argv("relevance.csv"))


@examples(20)
@given(mutations(NPY))
def test_fuzz_relevance_npy(mutation) -> None:
    fuzz_command(TALLY["relevance npy"], "relevance.npy", mutation[1], _argv("relevance.npy"))


@examples(20)
@given(mutations(NPZ))
def test_fuzz_relevance_npz(mutation) -> None:
    fuzz_command(TALLY["relevance npz"], "relevance.npz", mutation[1], _argv("relevance.npz"))


@examples(20)
@given(mutations(COSTS))
def test_fuzz_costs_csv(mutation) -> None:
    fuzz_command(TALLY["costs csv"], "costs.csv", mutation[1], _argv("relevance.csv", "costs.csv"),
                 others={"relevance.csv": CSV})


@examples(10)
@given(mutations(RATINGS))
def test_fuzz_movielens_ratings(mutation) -> None:
    fuzz_command(TALLY["ratings csv"], "ratings.csv", mutation[1],
                 _argv("ratings.csv", None, "env.creators=3", "env.rank=2"))


@examples(10)
@given(mutations(DAT))
def test_fuzz_movielens_ratings_dat(mutation) -> None:
    fuzz_command(TALLY["ratings.dat"], "ratings.dat", mutation[1],
                 _argv("ratings.dat", None, "env.creators=3", "env.rank=2"))


@examples(10)
@given(mutations(UDATA))
def test_fuzz_movielens_u_data(mutation) -> None:
    fuzz_command(TALLY["u.data"], "u.data", mutation[1], _argv("u.data", None, "env.creators=3", "env.rank=2"))


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"ugc equilibrium ({name})"))
