"""CharacterBench files, mutated (tests/fuzzing.py): an upstream *_test.json (here the first records of the demo's
human_likeness file) read by `character generate` with the mock model. A malformed record is skipped and counted
(the command says how many and shows the first); a file that cannot be read is one line naming it - never an
internal error, never a run folder left by a failed start. A generate run's records read back by `character judge
--responses RUN` go through the same check."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given

from tests.fuzzing import Tally, examples, fuzz_command, mutations


def _start() -> bytes:
    from labkit.character.demo import write_demo_data

    with tempfile.TemporaryDirectory() as tmp:
        records = json.loads((write_demo_data(Path(tmp)) / "human_likeness_test.json").read_text())
    return json.dumps(records[:3], ensure_ascii=False, indent=1).encode()


FILE = _start()
TALLY = Tally()


@examples(20)
@given(mutations(FILE))
def test_fuzz_characterbench_file(mutation) -> None:
    fuzz_command(TALLY, "cb/human_likeness_test.json", mutation[1], lambda d: [
        "character", "generate", "--data", str(d / "cb"), "--model", "mock", "--limit", "3"])


def _with_released_column() -> bytes:
    """The same records with a released judge column (pred_zh), as the release ships them for metaeval."""
    records = json.loads(FILE)
    for i, r in enumerate(records):
        r["pred_zh"] = 1 + (i * 2) % 5
    return json.dumps(records, ensure_ascii=False, indent=1).encode()


METAEVAL = Tally()


@examples(20)
@given(mutations(_with_released_column()))
def test_fuzz_metaeval_of_a_released_column(mutation) -> None:
    fuzz_command(METAEVAL, "cb/human_likeness_test.json", mutation[1], lambda d: [
        "character", "metaeval", "--pred-field", "pred_zh", "--data", str(d / "cb"), "--set", "n_boot=20"])


GENERATED = "".join(json.dumps({"key": f"human_likeness/{i}#zh", "ok": True,
                                "value": {"response": f"Reply {i}, in character.", "model": "mock"}}) + "\n"
                    for i in range(3)).encode()  # a `character generate` run's records
REPLIES = Tally()


@examples(15)
@given(mutations(GENERATED))
def test_fuzz_generate_run_as_responses(mutation) -> None:
    fuzz_command(REPLIES, "gen/results.jsonl", mutation[1], lambda d: [
        "character", "judge", "--responses", str(d / "gen"), "--judge", "mock", "--data", str(d / "cb"), "--limit",
        "3"], others={"gen/config.yaml": b"{}\n", "cb/human_likeness_test.json": FILE})


JUDGED = "".join(json.dumps({"key": f"human_likeness/{i}#zh", "ok": True, "value": {
    "id": f"human_likeness/{i}", "file": "human_likeness", "lang": "zh", "model": f"m{i % 2}", "character": "Mira",
    "gold": 1 + i % 5, "score": 1 + (i * 2) % 5}}) + "\n" for i in range(8)).encode()  # a `character judge` run
REPORT = Tally()


@examples(15)
@given(mutations(JUDGED))
def test_fuzz_report_of_a_judge_run(mutation) -> None:
    fuzz_command(REPORT, "run/results.jsonl", mutation[1], lambda d: ["character", "report", str(d / "run")],
                 others={"run/config.yaml": b"n_boot: 50\n"})


def teardown_module() -> None:
    print(TALLY.line("character generate (CharacterBench file)"))
    print(REPLIES.line("character judge --responses (a generate run's results.jsonl)"))
    print(REPORT.line("character report (a judge run's results.jsonl)"))
    print(METAEVAL.line("character metaeval --pred-field (a released column)"))
