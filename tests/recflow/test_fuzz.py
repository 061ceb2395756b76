"""A RecFlow folder in the release's layout with one file mutated (tests/fuzzing.py): `labkit recflow train` trains
and evaluates, or refuses in one line naming a file of the folder before any run folder exists - never an
internal error. A trained run's checkpoint.pt, mutated, goes through `labkit recflow eval` the same way."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import Tally, examples, fuzz_command, mutations, run_cli, run_folders

from .release_fixture import write_release

BASE = write_release(Path(tempfile.mkdtemp(prefix="labkit-fuzz-recflow-")) / "release")
FILES = ["all_stage/2024-01-13.feather", "all_stage/2024-01-14.feather", "realshow/2024-01-14.feather",
         "seq_effective_50_dict/2024-01-13.pkl", "seq_effective_50_dict/2024-01-14.pkl",
         "request_id_dict/2024-01-13.pkl", "others/id_cnt.pkl", "others/coarse_rank_test.feather",
         "others/realshow_video_info.feather"]
TALLY: dict[str, Tally] = {f: Tally() for f in FILES}
OTHER_VERBS = {"validate": Tally(), "subsample": Tally()}


@st.composite
def one_file(draw: st.DrawFn) -> tuple[str, tuple[str, bytes]]:
    rel = draw(st.sampled_from(FILES))
    return rel, draw(mutations((BASE / rel).read_bytes()))


@given(one_file())
def test_fuzz_a_recflow_folder(case) -> None:
    rel, (_, data) = case
    runs = Path(os.environ["LABKIT_RUNS"])
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "release"
        shutil.copytree(BASE, folder)
        (folder / rel).write_bytes(data)
        before = run_folders(runs)
        options = ["--strategy", "aux"] if "request_id_dict" in rel else []
        code, err = run_cli(["recflow", "train", "--data", str(folder), "--set", "train.batch=4", *options])
        TALLY[rel].check(code, err, str(folder), run_folders(runs) - before)


@examples(15)
@given(one_file(), st.sampled_from(sorted(OTHER_VERBS)))
def test_fuzz_a_folder_through_validate_and_subsample(case, verb) -> None:
    """`recflow validate` lists the problems and exits 2 naming the folder; `recflow subsample` checks the layout
    and the test day before writing, and a day that fails later is one line naming it."""
    rel, (_, data) = case
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "release"
        shutil.copytree(BASE, folder)
        (folder / rel).write_bytes(data)
        argv = ["recflow", "validate", str(folder)] if verb == "validate" else \
            ["recflow", "subsample", "--data", str(folder), "--out", str(Path(tmp) / "half"), "--users", "0.5",
             "--workers", "1"]
        code, err = run_cli(argv)
        OTHER_VERBS[verb].check(code, err, str(folder), set())
        if code == 2 and "day(s) failed" not in err:
            assert not (Path(tmp) / "half").exists(), "subsample wrote before its input passed"


def _trained_run(task: str) -> Path:
    """A finished run of ``task`` (coarse ranking, retrieval) on BASE (config.yaml, checkpoint.pt, records)."""
    old = os.environ.get("LABKIT_RUNS")
    os.environ["LABKIT_RUNS"] = str(BASE.parent / "runs" / task)
    try:
        code, err = run_cli(["recflow", "train", "--data", str(BASE), "--set", "train.batch=4", "--set",
                             f"train.task={task}"])
    finally:
        os.environ.pop("LABKIT_RUNS") if old is None else os.environ.update(LABKIT_RUNS=old)
    assert code == 0, err
    return next((BASE.parent / "runs" / task / "recflow").glob("*"))


TRAINED = {task: _trained_run(task) for task in ("coarse", "retrieval")}
CHECKPOINT = {task: Tally() for task in TRAINED}


@examples(10)
@given(mutations((TRAINED["coarse"] / "checkpoint.pt").read_bytes()))
def test_fuzz_a_trained_runs_checkpoint(mutation) -> None:
    """`recflow eval RUN`: a checkpoint torn, flipped or re-encoded is refused naming it, before a run folder."""
    fuzz_command(CHECKPOINT["coarse"], "run/checkpoint.pt", mutation[1], lambda d: ["recflow", "eval", str(d / "run")],
                 others={"run/config.yaml": (TRAINED["coarse"] / "config.yaml").read_bytes()})


@examples(10)
@given(mutations((TRAINED["retrieval"] / "checkpoint.pt").read_bytes()))
def test_fuzz_a_retrieval_runs_checkpoint(mutation) -> None:
    fuzz_command(CHECKPOINT["retrieval"], "run/checkpoint.pt", mutation[1],
                 lambda d: ["recflow", "eval", str(d / "run")],
                 others={"run/config.yaml": (TRAINED["retrieval"] / "config.yaml").read_bytes()})


def teardown_module() -> None:
    for rel, tally in TALLY.items():
        if tally:
            print(tally.line(f"recflow train ({rel})"))
    for task, tally in CHECKPOINT.items():
        print(tally.line(f"recflow eval (a trained {task} run's checkpoint.pt)"))
    for verb, tally in OTHER_VERBS.items():
        print(tally.line(f"recflow {verb} (a folder with one file mutated)"))
    shutil.rmtree(BASE.parent, ignore_errors=True)
