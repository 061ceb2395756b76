"""`prag eval --resume RUN` as the README writes it: the run alone says what to score (QA file, flags, inputs'
checksums); a resume that would change any of it is refused before work. Generation is a stand-in (fast); the
index is a real bm25s index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.prag import method
from tests.fuzzing import run_cli

pytest.importorskip("bm25s")


class FakeChat:
    model_id, revision, model, tokenizer = "fake", "0", None, None


@pytest.fixture()
def setup(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": f"d{i}", "text": f"The river Zor{i} flows into the Sea {i}."}) + "\n"
                              for i in range(4)))
    qa = tmp_path / "questions.jsonl"
    qa.write_text("".join(json.dumps({"id": f"q{i}", "question": f"Where does the Zor{i} flow?",
                                      "answer": f"Sea {i}"}) + "\n" for i in range(4)))
    assert run_cli(["prag", "index", "--corpus", str(corpus), "--index", str(tmp_path / "index")])[0] == 0
    asked: list[tuple[str, str]] = []
    state = {"kill_after": None}

    def fake_ask(question, mode, cfg, gen, index, store, known):
        if state["kill_after"] is not None and len(asked) == state["kill_after"]:
            raise KeyboardInterrupt  # as Ctrl-C
        asked.append((mode, question))
        return {"answer": f"The answer is Sea {question[-7]}.", "prompt_tokens": 10, "seconds": {"load_merge": 0.0},
                "weights": []}

    monkeypatch.setattr(method, "ask", fake_ask)
    monkeypatch.setattr(method, "load_generator", lambda spec: method.Generator(FakeChat()))
    return tmp_path, qa, asked, state


def _eval(tmp: Path, *extra: str) -> tuple[int, str]:
    return run_cli(["prag", "eval", "--index", str(tmp / "index"), "--store", str(tmp / "store"), *extra])


def test_the_readme_resume_command_continues_from_the_run_alone(setup) -> None:
    tmp, qa, asked, state = setup
    state["kill_after"] = 5
    assert _eval(tmp, "--data", str(qa), "--modes", "none,rag", "--limit", "3", "--no-cot")[0] == 130
    run = next((tmp / "runs" / "prag").glob("*-eval"))
    state["kill_after"] = None
    code, err = run_cli(["prag", "eval", "--resume", str(run)])  # the README's command: nothing else given
    assert code == 0, err
    assert len(asked) == 6 and len(set(asked)) == 6  # 3 questions x 2 modes, none asked twice
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["none"]["questions"] == 3 and metrics["rag"]["contained"] == 1.0 and metrics["rag"]["em"] == 0.0
    config = (run / "config.yaml").read_text()
    assert f"data: {qa.resolve()}" in config and "cot: false" in config and "max_questions: 3" in config
    assert json.loads((run / "inputs.json").read_text())["data"]["path"] == str(qa.resolve())


def test_a_resume_with_other_inputs_is_refused(setup) -> None:
    tmp, qa, asked, state = setup
    state["kill_after"] = 2
    assert _eval(tmp, "--data", str(qa), "--modes", "none", "--limit", "3")[0] == 130
    run = next((tmp / "runs" / "prag").glob("*-eval"))
    state["kill_after"] = None
    before = (run / "results.jsonl").read_text()
    code, err = run_cli(["prag", "eval", "--resume", str(run), "--limit", "4"])
    assert code == 2 and "max_questions is 3 there, 4 given" in err
    other = tmp / "other.jsonl"
    other.write_text(qa.read_text())
    code, err = run_cli(["prag", "eval", "--resume", str(run), "--data", str(other)])
    assert code == 2 and "data is" in err
    code, err = run_cli(["prag", "eval", "--resume", str(run), "--no-cot"])
    assert code == 2 and "cot is True there, False given" in err
    qa.write_text(qa.read_text().replace("Sea 2", "Sea 9"))  # the QA file itself edited
    code, err = run_cli(["prag", "eval", "--resume", str(run)])
    assert code == 2 and str(qa.resolve()) in err and "changed since the run started" in err
    assert (run / "results.jsonl").read_text() == before and len(asked) == 2
    code, err = run_cli(["prag", "eval", "--resume", str(run), "--data", str(qa), "--limit", "3", "--cot"])
    assert code == 2  # the same options are accepted, the edited file still is not


def test_eval_without_data_says_what_to_give(setup) -> None:
    tmp, *_ = setup
    code, err = _eval(tmp)
    assert code == 2 and "give --data" in err and not (tmp / "runs" / "prag").exists()


def test_a_stale_augmentation_is_refused_before_the_run_folder(setup) -> None:
    """The corpus passage d1 was edited after its augmentation was written: eval names the file and the id."""
    tmp, qa, asked, _ = setup
    aug = tmp / "augmented.jsonl"
    aug.write_text("".join(json.dumps({"id": f"d{i}", "text": f"The river Zor{i} flows into the Sea {i}."
                                       if i != 1 else "The river Zor1 flows into the Old Sea.", "rewrite": "r",
                                       "qa": [{"question": "q", "answer": "a"}]}) + "\n" for i in range(4)))
    code, err = _eval(tmp, "--data", str(qa), "--augmented", str(aug), "--modes", "prag")
    assert code == 2 and str(aug.resolve()) in err and "'d1'" in err and "stale" in err
    assert not (tmp / "runs" / "prag").exists() and not asked
