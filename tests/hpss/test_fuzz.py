"""HPSS inputs, mutated (tests/fuzzing.py): human-score files for `metaeval` (JSON lines, CSV, JSON array), the
outputs file and the exported strategy (best.yaml) of `judge` (also SummEval's release layout and G-Eval's JSON),
and the data file of `search` (with the mock judge).
Each command reads the file right, or refuses it in one line naming the file - never an internal error, never a
run folder left by a failed start."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import yaml
from hypothesis import given

from labkit.hpss.space import DEFAULT
from tests.fuzzing import Tally, examples, fuzz_command, fuzz_loader, mutations

RECORDS = [{"id": f"s{i}", "source": f"article {i // 3}", "output": f"summary {i} of the article",
            "score": {"coherence": 1 + (i * 7) % 5}, "pred": round(0.5 + (i * 3) % 5, 2), "group": f"d{i // 3}"}
           for i in range(9)]
JSONL = "".join(json.dumps(r) + "\n" for r in RECORDS).encode()
SEARCH = "".join(json.dumps({**r, "id": f"s{i}", "group": f"d{i // 3}", "source": f"article {i // 3}"}) + "\n"
                 for i, r in enumerate(RECORDS * 3)).encode()  # 27 items: Example10 needs 11 in validation
ARRAY = json.dumps(RECORDS, indent=1).encode()
_rows = io.StringIO()
_writer = csv.DictWriter(_rows, ["id", "source", "output", "score", "pred", "group"])
_writer.writeheader()
_writer.writerows({**r, "score": r["score"]["coherence"]} for r in RECORDS)
CSV = _rows.getvalue().encode()
STRATEGY = yaml.safe_dump({"task": "generic", "aspect": "coherence", "judge": "mock", "strategy": DEFAULT,
                           "criterion": None, "autocot": None, "examples": None}).encode()
FIXTURES = Path(__file__).with_name("fixtures")
RELEASE = b"".join((FIXTURES / "summeval_release_paired.jsonl").read_bytes().splitlines(keepends=True)[:6])
GEVAL = json.dumps(json.loads((FIXTURES / "summeval_geval.json").read_text())[:6], indent=1).encode()
SUMMEVAL = yaml.safe_dump({"task": "summeval", "aspect": "coherence", "judge": "mock", "strategy": DEFAULT}).encode()
TALLY = {name: Tally() for name in ("metaeval jsonl", "metaeval csv", "metaeval json", "judge outputs",
                                    "judge strategy", "search data", "SummEval release jsonl",
                                    "SummEval G-Eval json", "release split (search)",
                                    "initialization results", "shipped criteria (search)")}


def _metaeval(kind: str, name: str, data: bytes) -> None:
    fuzz_command(TALLY[kind], name, data, lambda d: [
        "hpss", "metaeval", "--data", str(d / name), "--aspect", "coherence", "--pred-field", "pred",
        "--n-boot", "20"])


@given(mutations(JSONL))
def test_fuzz_metaeval_jsonl(mutation) -> None:
    _metaeval("metaeval jsonl", "scores.jsonl", mutation[1])


@given(mutations(CSV))
def test_fuzz_metaeval_csv(mutation) -> None:
    _metaeval("metaeval csv", "scores.csv", mutation[1])


@given(mutations(ARRAY))
def test_fuzz_metaeval_json_array(mutation) -> None:
    _metaeval("metaeval json", "scores.json", mutation[1])


@examples(15)
@given(mutations(JSONL))
def test_fuzz_judge_outputs(mutation) -> None:
    fuzz_command(TALLY["judge outputs"], "outputs.jsonl", mutation[1], lambda d: [
        "hpss", "judge", "--strategy", str(d / "best.yaml"), "--input", str(d / "outputs.jsonl"),
        "--out", str(d / "scored.jsonl")], others={"best.yaml": STRATEGY})


@examples(15)
@given(mutations(STRATEGY))
def test_fuzz_judge_strategy(mutation) -> None:
    fuzz_command(TALLY["judge strategy"], "best.yaml", mutation[1], lambda d: [
        "hpss", "judge", "--strategy", str(d / "best.yaml"), "--input", str(d / "outputs.jsonl"),
        "--judge", "mock", "--out", str(d / "scored.jsonl")], others={"outputs.jsonl": JSONL})


@examples(10)
@given(mutations(SEARCH))
def test_fuzz_search_data(mutation) -> None:
    fuzz_command(TALLY["search data"], "data.jsonl", mutation[1], lambda d: [
        "hpss", "search", "--data", str(d / "data.jsonl"), "--aspect", "coherence", "--judge", "mock",
        "--budget", "1", "--max-items", "12", "--set", "n_boot=10"])


def _summeval(kind: str, name: str, data: bytes) -> None:
    fuzz_command(TALLY[kind], name, data, lambda d: [
        "hpss", "judge", "--strategy", str(d / "best.yaml"), "--input", str(d / name), "--out",
        str(d / "scored.jsonl")], others={"best.yaml": SUMMEVAL})


@examples(15)
@given(mutations(RELEASE))
def test_fuzz_summeval_release_layout(mutation) -> None:
    _summeval("SummEval release jsonl", "paired.jsonl", mutation[1])


@examples(15)
@given(mutations(GEVAL))
def test_fuzz_summeval_geval_layout(mutation) -> None:
    _summeval("SummEval G-Eval json", "summeval.json", mutation[1])


def test_a_space_needing_more_examples_than_the_data_has_is_refused_before_work(tmp_path, monkeypatch) -> None:
    from tests.fuzzing import run_cli, run_folders

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "d.jsonl").write_bytes(JSONL)
    code, err = run_cli(["hpss", "search", "--data", str(tmp_path / "d.jsonl"), "--aspect", "coherence",
                         "--judge", "mock", "--budget", "1"])
    assert code == 2 and "d.jsonl: factor 'examples' has Example10, which needs 10 other validation items" in err
    assert not run_folders(tmp_path / "runs")


# HPSS's release files, written here in their layout: a SF-HOT split (JSON array), an initialization result
# (per-aspect correlations, hpss_initiation_metrics) and a shipped criterion (aspect -> text, hpss_auxiliary)
SPLIT = json.dumps([{"doc_id": 500 + i // 2, "source": f"inform(name='hotel {i // 2}',phone='41598{i}')",
                     "reference": f"hotel {i // 2} has phone 41598{i}", "system_output": f"call hotel {i // 2}",
                     "scores": {"informativeness": 1.0 + i % 6, "naturalness": 6.0 - i % 5, "overall": 3.0},
                     "id": i} for i in range(8)], indent=4).encode()
ASPECTS = ("informativeness", "naturalness", "overall")
INITIATION = json.dumps({a: {"correlation": {"Pearson": 0.3, "Spearman": 0.25 + k / 10, "Kendall": 0.2},
                             "human_scores": {"5.0": 3}, "auto_scores": {"4.0": 3}}
                         for k, a in enumerate(ASPECTS)}, indent=4).encode()
CRITERIA = json.dumps({a: f"How {a} is the utterance, from 1 to 10?" for a in ASPECTS}, indent=4).encode()


def _with_data_dir(root: Path, load):
    import os

    old = os.environ.get("LABKIT_DATA_DIR")
    os.environ["LABKIT_DATA_DIR"] = str(root)
    try:
        return load()
    finally:
        os.environ.pop("LABKIT_DATA_DIR") if old is None else os.environ.update(LABKIT_DATA_DIR=old)


@examples(20)
@given(mutations(SPLIT))
def test_fuzz_release_split(mutation) -> None:
    """`hpss search --set data=sfhot` reads HPSS's split files from the data folder before its run folder."""
    from labkit.hpss.data import load_splits

    split = "hpss/hpss_splits/sfhot/sfhot_{}_qwen_2_5_14b.json"
    fuzz_loader(TALLY["release split (search)"], split.format("valid"), mutation[1],
                lambda p: _with_data_dir(p.parents[3], lambda: load_splits("sfhot", aspect="naturalness")),
                others={split.format("test"): SPLIT})


@examples(20)
@given(mutations(INITIATION))
def test_fuzz_initialization_results(mutation) -> None:
    from labkit.hpss.data import load_initiation

    fuzz_loader(TALLY["initialization results"], "sfhot/qwen_2_5_14b/baseline.json", mutation[1],
                lambda p: load_initiation("sfhot", root=p.parents[2]),
                others={"sfhot/qwen_2_5_14b/tie.json": INITIATION})


@examples(20)
@given(mutations(CRITERIA))
def test_fuzz_shipped_criteria(mutation) -> None:
    """A shipped criterion file (hpss_auxiliary), read when a search strategy asks for human criteria."""
    from labkit.hpss.sideinfo import SideInfo
    from labkit.hpss.tasks import TASKS

    def load(path: Path):
        info = SideInfo(TASKS["sfhot"], "naturalness", model=None, valid_items=[])
        return _with_data_dir(path.parents[4], lambda: info._shipped("criteria/criteria_human.json"))

    fuzz_loader(TALLY["shipped criteria (search)"], "hpss/hpss_auxiliary/sfhot/criteria/criteria_human.json",
                mutation[1], load)


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"hpss {name}"))
