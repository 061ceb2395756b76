"""SPaR roles on models: programmatic prompts (verifiable, distinct, never IFEval's), the code verifier, the
model-backed judge and refiner on a scripted mock (batched calls, retries, votes), and `labkit spar refine`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.cli import app
from labkit.core.cli import main_with_errors
from labkit.core.models.mock import MockChatModel
from labkit.spar.config import JudgeConfig, SearchConfig
from labkit.spar.data import ifeval_path, load_ifeval
from labkit.spar.method import check_constraints, model_judge, model_refiner, programmatic_judge
from labkit.spar.prompts import normalise, programmatic_prompts
from labkit.spar.tree import search

pytest.importorskip("lm_eval")


def test_programmatic_prompts_are_distinct_verifiable_and_seeded() -> None:
    items, dropped = programmatic_prompts(300, seed=0)
    again, _ = programmatic_prompts(300, seed=0)
    assert len(items) == 300 and len({i.prompt for i in items}) == 300 and items == again and dropped == 0
    assert all(1 <= len(i.instruction_ids) <= 3 for i in items)
    assert not ({"change_case:english_lowercase", "change_case:english_capital"} <= set(items[0].instruction_ids))
    for it in items[:50]:  # every constraint has a working checker: a verdict for any response
        assert len(check_constraints(it, "Some answer. Another sentence.")) == len(it.instruction_ids)
    exclude = {normalise(items[0].prompt)}
    redo, dropped = programmatic_prompts(300, seed=0, exclude=exclude)
    assert dropped >= 1 and items[0].prompt not in {i.prompt for i in redo}


@pytest.mark.skipif(not ifeval_path().exists(), reason=f"IFEval data not found at {ifeval_path()}")
def test_generated_prompts_never_equal_ifeval() -> None:
    ifeval = {normalise(it.prompt) for it in load_ifeval()}
    items, _ = programmatic_prompts(1000, seed=3, exclude=ifeval)
    assert not ({normalise(i.prompt) for i in items} & ifeval)


def test_code_verifier_votes_and_names_what_failed() -> None:
    (item,) = [i for i in programmatic_prompts(400, seed=1)[0] if i.instruction_ids == ("punctuation:no_comma",)][:1]
    judge = programmatic_judge({item.prompt: item})
    good, bad = judge([(item.prompt, "No commas here at all."), (item.prompt, "One, two.")])
    assert (good.value, bad.value, good.calls) == (1.0, 0.0, 0)
    assert "Not met." in bad.critique and bad.critique.endswith("Final Judgement: No")


def scripted(conv, sampling, choice):
    """Judge: Yes iff the judged response says 'fixed'. Refiner: the first sample of the first attempt lacks the
    markers (a retry with the next seed is needed), the others are rewrites."""
    text = conv[0]["content"]
    if len(conv) == 1:
        response = text.split('Response: "', 1)[1]
        return "Final Judgement: Yes" if response.startswith("fixed") else "Final Judgement: No"
    if choice == 0 and sampling.seed == 0:
        return "no markers here"
    return f"[[start]] fixed {choice} (seed {sampling.seed}) [[end]]"


def test_model_judge_and_refiner_on_a_scripted_model() -> None:
    model = MockChatModel(scripted)
    judge, refine = model_judge(model, JudgeConfig()), model_refiner(model, SearchConfig())
    votes = judge([("p", "broken"), ("p", "fixed it")])
    assert [(v.yes, v.no, v.value) for v in votes] == [(0, 5, 0.0), (5, 0, 1.0)] and model.calls == 2  # one batch
    model.calls = 0
    tree = search("p", "broken", votes[0].critique, refine, judge, SearchConfig())
    assert tree.success and tree.best_node.depth == 1 and tree.best_node.response.startswith("fixed")
    assert tree.failed_refinements == 0 and tree.refinements == 3  # the unmarked sample was retried, not lost
    assert tree.judge_calls == 15 and model.calls == 1 + 1 + 3  # one refine ask (n = 3), its retry, 3 texts judged


def test_refine_cli_with_the_code_verifier(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    items, _ = programmatic_prompts(400, seed=1)
    (item,) = [i for i in items if i.instruction_ids == ("punctuation:no_comma",)][:1]
    path = tmp_path / "prompts.jsonl"
    path.write_text(json.dumps({"key": 1, "prompt": item.prompt, "instruction_id_list": ["punctuation:no_comma"],
                                "kwargs": [{}]}) + "\n")
    # the echoing mock refiner answers with the refine request itself: its [[start]]...[[end]] holds a
    # placeholder without commas, which the code verifier accepts
    code = main_with_errors(app, ["spar", "refine", "--prompt", item.prompt, "--response", "a, b", "--verifier",
                                  "code", "--prompts", str(path), "--set", "refiner=mock"])
    out = capsys.readouterr().out
    assert code == 0 and "<- result" in out and "success" in out
    tree = json.loads(Path(out.split("tree: ")[1].strip()).read_text())
    assert tree["success"] and tree["nodes"][tree["best"]]["depth"] == 1
    assert main_with_errors(app, ["spar", "refine", "--prompt", "p", "--response", "r", "--verifier", "code"]) == 2


def test_tied_or_unparseable_votes_are_dropped_from_labelling_not_failures() -> None:
    """The paper drops a sample whose votes tie (or that got no parseable vote) from labelling: it is neither a
    passing nor a failing sample, so it is never refined or paired - and it is counted."""
    import random

    from labkit.spar.pairs import decided, independent_pair

    sample = {"responses": ["a", "b", "c", "d"], "passed": [True, False, False, False],
              "undecided": [False, True, False, True]}
    keep, dropped = decided(sample)
    assert keep == [0, 2] and dropped == 2
    pair = independent_pair("p", [sample["responses"][i] for i in keep], [sample["passed"][i] for i in keep],
                            random.Random(0))
    assert pair["chosen"] == "a" and pair["rejected"] == "c"  # never the undecided b or d
    assert decided({"responses": ["x"], "passed": [False]}) == ([0], 0)  # code verification: always decided
