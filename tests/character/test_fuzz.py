"""CharacterBench files, mutated (tests/fuzzing.py): an upstream *_test.json (here the first records of the demo's
human_likeness file) read by `character generate` with the mock model. A malformed record is skipped and counted
(the command says how many and shows the first); a file that cannot be read is one line naming it - never an
internal error, never a run folder left by a failed start."""

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


def teardown_module() -> None:
    print(TALLY.line("character generate (CharacterBench file)"))
