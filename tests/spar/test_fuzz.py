"""SPaR inputs, mutated (tests/fuzzing.py): IFEval's input_data.jsonl and a response file, read by `spar ifeval`.
The command scores them, or refuses them in one line naming the file - never an internal error (an unknown
instruction id or a kwargs value of the wrong type included), never a run folder left by a failed start."""

from __future__ import annotations

import json

from hypothesis import given

from tests.fuzzing import Tally, fuzz_command, mutations

ITEMS = [
    {"key": 1, "prompt": "Write a short poem about rain. Do not use any commas.",
     "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]},
    {"key": 2, "prompt": "Describe a cat in at least 12 words, with exactly 2 bullet points.",
     "instruction_id_list": ["length_constraints:number_words", "detectable_format:number_bullet_lists"],
     "kwargs": [{"relation": "at least", "num_words": 12}, {"num_bullets": 2}]},
    {"key": 3, "prompt": "Answer in all lowercase letters: what is tea?",
     "instruction_id_list": ["change_case:english_lowercase"], "kwargs": [{}]},
]
RESPONSES = [
    "rain falls soft and slow\nthe street shines silver",
    "* A cat is a small furry animal that purrs.\n* It sleeps most of the day in the sun.",
    "tea is a drink made from leaves.",
]
DATA = "".join(json.dumps(r) + "\n" for r in ITEMS).encode()
ANSWERS = "".join(json.dumps({"prompt": r["prompt"], "response": a}) + "\n"
                  for r, a in zip(ITEMS, RESPONSES, strict=True)).encode()
TALLY = {"input_data": Tally(), "responses": Tally()}


def _argv(folder) -> list[str]:
    return ["spar", "ifeval", "--data", str(folder / "input_data.jsonl"), "--responses",
            str(folder / "responses.jsonl")]


@given(mutations(DATA))
def test_fuzz_ifeval_input_data(mutation) -> None:
    fuzz_command(TALLY["input_data"], "input_data.jsonl", mutation[1], _argv, others={"responses.jsonl": ANSWERS})


@given(mutations(ANSWERS))
def test_fuzz_ifeval_responses(mutation) -> None:
    fuzz_command(TALLY["responses"], "responses.jsonl", mutation[1], _argv, others={"input_data.jsonl": DATA})


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"spar ifeval ({name})"))


def test_out_of_range_options_are_one_line_before_a_run_folder(tmp_path, monkeypatch) -> None:
    from tests.fuzzing import run_cli, run_folders

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "d.jsonl").write_bytes(DATA)
    (tmp_path / "r.jsonl").write_bytes(ANSWERS)
    for argv, named in ((["spar", "ifeval", "--data", str(tmp_path / "d.jsonl"), "--responses",
                          str(tmp_path / "r.jsonl"), "--limit", "-1"], "ifeval.limit"),
                        (["spar", "iterate", "--iterations", "0"], "iterate.iterations"),
                        (["spar", "ifeval", "--responses", str(tmp_path / "r.jsonl"), "--data",
                          str(tmp_path / "d.jsonl"), "--set", "ifeval.seed=-3"], "ifeval.seed")):
        code, err = run_cli(argv)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        assert code == 2 and len(errors) == 1 and named in errors[0], err
    assert not run_folders(tmp_path / "runs")
