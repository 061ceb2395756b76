"""The search pipeline end to end with a scripted judge: run files, budget accounting, resume,
halving, the unparsed policy, and the judge/metaeval commands."""

import json
import re

import pytest
import yaml

from labkit.core.config import to_dict
from labkit.core.models.mock import MockChatModel
from labkit.core.runs import resume_run, start_run
from labkit.hpss.config import HpssConfig
from labkit.hpss.demo import build_dataset
from labkit.hpss.method import estimate_cost, prepare, score_on_test, search
from labkit.hpss.report import write_report

SMALL = {"scale": [3, 5], "criteria": ["Human", "NoCriteria"], "cot": ["Free", "Prefix"], "autocot": ["NoAutoCoT"],
         "metrics": ["NoMetrics"], "examples": ["NoExample", "Example3"], "reference": ["NoReference"],
         "order": ["TEI", "ITE"]}


def scripted(conv, sampling, choice):
    """A judge whose rating depends on the answer quality and, a little, on the prompt layout."""
    text = conv[1]["content"]
    if conv[-1]["content"].startswith("Please give only"):
        return "[[2]]"
    answer = re.findall(r"\[The Start of the Output\]\n(.*?)\n\[The End", text, re.S)[-1]
    high = 5 if "scale of 1 to 5" in text else 3
    good = "capital" in answer and "swimming" not in answer
    if "Lyon" in answer and text.index("[Task]") > 50:
        return "I am not sure."  # unparsed on purpose for some layouts
    return f"Rating: [[{high if good else 1}]]"


@pytest.fixture
def cfg(tmp_path):
    data = build_dataset(tmp_path / "capitals.jsonl")
    return HpssConfig(data=str(data), aspect="correctness", budget=4, seed=3, factors=SMALL, n_boot=50,
                      criteria={"correctness": "Is the capital right?"})


def run_search(cfg, tmp_path, model, run=None):
    p = prepare(cfg, model=model)
    run = run or start_run("hpss", "t", to_dict(cfg), root=tmp_path / "runs")
    ledger, valid = search(p, run)
    test = score_on_test(p, run, [ledger.best().strategy, p.default])
    return p, run, ledger, write_report(p, run, ledger, valid, test, estimate_cost(p))


def test_search_writes_a_complete_run(cfg, tmp_path) -> None:
    model = MockChatModel(scripted)
    p, run, ledger, metrics = run_search(cfg, tmp_path, model)
    steps = [json.loads(line) for line in (run.dir / "trajectory.jsonl").read_text().splitlines()]
    assert len(steps) == len(ledger.steps) == 1 + 1 + 1 + 1 + 1 + 1 + 4  # initialization (6) + budget 4
    assert len({json.dumps(s["strategy"], sort_keys=True) for s in steps}) == len(steps)
    n_valid, n_test = len(p.valid.items), len(p.test.items)
    reasks = sum(s["calls"] for s in steps) - n_valid * len(steps)
    assert reasks >= 0 and steps[-1]["cumulative_calls"] == n_valid * len(steps) + reasks
    assert model.calls == metrics["judge_calls"]  # every judge call accounted for
    best = yaml.safe_load((run.dir / "best.yaml").read_text())
    assert best["strategy"] == metrics["best_strategy"] and best["aspect"] == "correctness"
    assert "{output}" in (run.dir / "best_prompt.md").read_text()
    report = (run.dir / "report.md").read_text()
    assert "Unparsed answers after one re-ask" in report and "paired bootstrap" in report
    assert (run.dir / "best_so_far.png").exists()
    assert metrics["valid_best_spearman"] >= metrics["valid_default_spearman"]
    assert n_test > 0


def test_unparsed_answers_are_reasked_once_and_counted(cfg, tmp_path) -> None:
    never = MockChatModel(lambda conv, s, j: "no rating here")
    _, run, ledger, metrics = run_search(cfg, tmp_path, never)
    record = run.latest()[f"valid:{'|'.join(map(str, ledger.steps[0].strategy))}"]["value"]
    assert record["unparsed"] == record["n"] == record["reasked"] and record["calls"] == 2 * record["n"]
    assert metrics["unparsed_fraction"] == 1.0 and metrics["constant_rating_strategies"] == len(ledger.steps)


def test_killed_search_resumes_to_the_identical_trajectory(cfg, tmp_path) -> None:
    _, _, clean, _ = run_search(cfg, tmp_path, MockChatModel(scripted))
    calls = {"n": 0}

    def dies(conv, s, j):
        calls["n"] += 1
        if calls["n"] == 70:
            raise KeyboardInterrupt  # like Ctrl-C in the middle of an evaluation
        return scripted(conv, s, j)

    run = start_run("hpss", "killed", to_dict(cfg), root=tmp_path / "runs")
    with pytest.raises(KeyboardInterrupt):
        run_search(cfg, tmp_path, MockChatModel(dies), run=run)
    done_before = len(run.records())
    assert 0 < done_before < len(clean.steps)
    model = MockChatModel(scripted)
    _, _, resumed, _ = run_search(cfg, tmp_path, model, run=resume_run(run.dir))
    assert [(s.strategy, s.score) for s in resumed.steps] == [(s.strategy, s.score) for s in clean.steps]
    keys = [r["key"] for r in run.records()]
    assert len(keys) == len(set(keys))  # no evaluation was repeated
    # a resumed finished run makes no call at all
    again = MockChatModel(scripted)
    run_search(cfg, tmp_path, again, run=resume_run(run.dir))
    assert again.calls == 0


def test_halving_saves_calls(cfg, tmp_path) -> None:
    full = MockChatModel(scripted)
    run_search(cfg, tmp_path, full)
    halved = MockChatModel(scripted)
    cfg.halving, cfg.halving_fractions = True, [0.5]
    _, _, ledger, metrics = run_search(cfg, tmp_path, halved)
    assert halved.calls <= full.calls
    assert metrics["items_judged"] <= len(ledger.steps) * 20


def test_judge_command_scores_new_outputs(cfg, tmp_path) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    _, run, _, _ = run_search(cfg, tmp_path, MockChatModel(scripted))
    best = yaml.safe_load((run.dir / "best.yaml").read_text())
    best["judge"] = "mock"
    (tmp_path / "best.yaml").write_text(yaml.safe_dump(best))
    outputs = tmp_path / "new.jsonl"
    outputs.write_text('{"source": "What is the capital of Peru?", "output": "Rating: [[1]]"}\n')
    assert main_with_errors(app, ["hpss", "judge", "--strategy", str(tmp_path / "best.yaml"),
                                  "--input", str(outputs)]) == 0
    row = json.loads((tmp_path / "new.scored.jsonl").read_text())
    assert row["rating"] is not None and row["error"] is None


def test_metaeval_command_prints_unieval_spearman(capsys) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors
    from labkit.core.paths import data_dir

    path = data_dir() / "hpss" / "unieval_predict" / "topical_chat_result.json"
    if not path.exists():
        pytest.skip("HPSS data not found")
    assert main_with_errors(app, ["hpss", "metaeval", "--data", str(path), "--aspect", "coherence",
                                  "--pred-field", "predict_scores", "--n-boot", "100"]) == 0
    assert "spearman  0.6129" in capsys.readouterr().out


def inverted_when_input_first(conv, sampling, choice):
    """Good ratings when the task block leads the prompt and no examples are shown, else inverted."""
    rating = scripted(conv, sampling, choice)
    text = conv[1]["content"]
    if (text.startswith("[Task]") and "[Examples]" not in text) or "[[" not in rating:
        return rating
    return "Rating: [[1]]" if "[[1]]" not in rating else "Rating: [[3]]"


def test_pruned_candidates_never_become_the_best(cfg, tmp_path) -> None:
    cfg.halving, cfg.halving_fractions, cfg.budget = True, [0.3], 8
    _, run, ledger, metrics = run_search(cfg, tmp_path, MockChatModel(inverted_when_input_first))
    assert metrics["pruned"] > 0
    records = {r["key"]: r["value"] for r in run.records() if r["key"].startswith("valid:")}
    best = records["valid:" + "|".join(map(str, ledger.best().strategy))]
    assert not best["pruned"]
    for r in records.values():
        if r["pruned"]:
            assert r["search_value"] < ledger.best().score


def test_failed_calls_are_counted_and_left_out_not_scored(cfg, tmp_path) -> None:
    def fails_on_lyon(conv, s, j):
        if "is Lyon." in conv[1]["content"]:
            raise RuntimeError("model crashed")
        return scripted(conv, s, j)

    p, run, ledger, _ = run_search(cfg, tmp_path, MockChatModel(fails_on_lyon))
    lyon = [i for i, it in enumerate(p.valid.items) if "is Lyon." in it.fields["output"]]
    assert lyon  # France is in the validation split of this seed
    record = run.latest()["valid:" + "|".join(map(str, ledger.steps[0].strategy))]["value"]
    assert record["failed"] == len(lyon) and record["failed_items"] == lyon
    assert record["n_used"] == record["n"] - len(lyon)


def test_resume_checks_finished_evaluations_before_any_call(cfg, tmp_path) -> None:
    from labkit.core.errors import DataError

    _, run, _, _ = run_search(cfg, tmp_path, MockChatModel(scripted))
    lines = (run.dir / "results.jsonl").read_text().splitlines()
    for field, bad in (("ratings", "x"), ("ratings", [1.0]), ("spearman", "high"), ("ratings", None)):
        record = json.loads(lines[0])
        record["value"][field] = bad
        (run.dir / "results.jsonl").write_text("\n".join([json.dumps(record), *lines[1:]]) + "\n")
        model = MockChatModel(scripted)
        with pytest.raises(DataError) as err:
            run_search(cfg, tmp_path, model, run=resume_run(run.dir))
        assert "results.jsonl" in str(err.value) and field in str(err.value) and model.calls == 0, str(err.value)
