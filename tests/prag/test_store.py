"""The adapter store keys an adapter by everything it was trained on; encode and eval resume cleanly; every
mode gets the same answer instruction. Training and generation are replaced by stand-ins (fast)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from labkit.prag import method
from labkit.prag.config import PragConfig
from labkit.prag.corpus import Document
from labkit.prag.data import Passage
from labkit.prag.encode import ANSWER_PREFIX, INSTRUCTION, AdapterStore, generation_prompt, prompt_messages

torch = pytest.importorskip("torch")


class FakeChat:
    model_id, revision, model, tokenizer = "fake", "0", None, None


@pytest.fixture()
def fake_training(monkeypatch):
    trained: list[str] = []

    def train(model, tokenizer, doc, cfg):
        trained.append(doc.id)
        return {"w": torch.zeros(2)}, {"seconds": 0.0, "tokens": 1, "steps": 1, "bytes": 8}

    monkeypatch.setattr(method, "load_generator", lambda spec: method.Generator(FakeChat()))
    monkeypatch.setattr(method, "train_document", train)
    method._WORKER.clear()
    yield trained
    method._WORKER.clear()


def documents(answer: str = "Fenar Sea", text_suffix: str = "") -> dict[str, Document]:
    return {f"d{i}": Document(f"d{i}", f"Passage {i} about the river Zor.{text_suffix}", f"Rewrite {i}.",
                              [(f"Q{i}a?", answer), (f"Q{i}b?", "Calnix"), (f"Q{i}c?", "Mount Vel")])
            for i in range(3)}


def test_key_covers_augmentation_not_whitespace() -> None:
    a = documents()["d0"]
    assert AdapterStore.key(a) == AdapterStore.key(Document("d0", "  Passage 0   about the river Zor.\n",
                                                            "Rewrite 0. ", a.qa))
    assert AdapterStore.key(a) != AdapterStore.key(documents(answer="Red Sea")["d0"])
    assert AdapterStore.key(a) != AdapterStore.key(Document("d0", a.text, "Another rewrite.", a.qa))


def test_edited_augmentation_retrains_and_whitespace_reuses(tmp_path: Path, fake_training) -> None:
    cfg = PragConfig(store=str(tmp_path / "store"), augmenter="template")
    corpus = [Passage(f"d{i}", f"Passage {i} about the river Zor. ") for i in range(3)]  # trailing space
    first = method.encode_run(cfg, corpus, documents())
    assert (first["trained"], first["reused"]) == (3, 0)
    again = method.encode_run(cfg, corpus, documents(text_suffix="\n"))  # whitespace only: the same inputs
    assert (again["trained"], again["reused"]) == (0, 3)
    edited = method.encode_run(cfg, corpus, documents(answer="Red Sea"))  # every answer changed
    assert (edited["trained"], edited["reused"]) == (3, 0) and fake_training == ["d0", "d1", "d2"] * 2
    store = method.open_store(cfg, method.load_generator("x"))
    assert method.adapter_path(corpus[0], store, documents(answer="Red Sea"), cfg) == store.path(
        documents(answer="Red Sea")["d0"])
    assert store.find(corpus[0].text) == store.path(documents(answer="Red Sea")["d0"])  # latest for the text


def test_a_passage_edited_in_the_corpus_never_keeps_its_old_adapter(tmp_path: Path, fake_training) -> None:
    """The corpus passage changed but the augmentation file still holds the old text: with augmentations from a
    file that is refused naming the file and id (before any training, and at question time); with a model
    augmenter the passage is augmented and trained again."""
    cfg = PragConfig(store=str(tmp_path / "store"), augmenter="template", augmented="data/aug.jsonl")
    corpus = [Passage(f"d{i}", f"Passage {i} about the river Zor.") for i in range(3)]
    assert method.encode_run(cfg, corpus, documents())["trained"] == 3
    edited = [corpus[0], Passage("d1", "Passage 1 about the river Blat."), corpus[2]]
    with pytest.raises(method.StaleAugmentation, match=r"data/aug.jsonl.*'d1'"):
        method.encode_run(cfg, edited, documents())
    assert fake_training == ["d0", "d1", "d2"]  # nothing trained for the refused run
    store = method.open_store(cfg, method.load_generator("x"))
    with pytest.raises(method.StaleAugmentation, match="'d1'"):
        method.adapter_path(edited[1], store, documents(), cfg)
    assert method.adapter_path(edited[0], store, documents(), cfg) == store.path(documents()["d0"])
    model = PragConfig(store=str(tmp_path / "store"), augmenter="same")
    assert method.known_document(edited[1], documents(), model) is None  # augmented again by the model
    assert method.known_document(edited[0], documents(), model) == documents()["d0"]
    assert method.check_augmentations(edited, documents(), model) == 1


def test_missing_augmentation_names_the_file_and_id(tmp_path: Path, fake_training) -> None:
    cfg = PragConfig(store=str(tmp_path / "store"), augmenter="template", augmented="data/aug.jsonl")
    out = method.encode_run(cfg, [Passage("d0", "Passage 0 about the river Zor."), Passage("x9", "Unknown passage.")],
                            {"d0": documents()["d0"]})
    assert out["trained"] == 1 and len(out["failed"]) == 1
    error = out["failed"][0]["error"]
    assert "data/aug.jsonl" in error and "'x9'" in error and "fictional corpus" not in error
    assert "\n" not in error


def test_every_mode_gets_the_same_answer_format() -> None:
    class Tok:  # a chat template stand-in: what matters is what comes after it
        def apply_chat_template(self, messages, tokenize, add_generation_prompt):
            return "<user>" + messages[0]["content"] + "<assistant>"

    bare = generation_prompt(Tok(), "Where does the Zor rise?", [])
    with_passages = generation_prompt(Tok(), "Where does the Zor rise?", ["p1", "p2"])
    assert bare == f"<user>{INSTRUCTION}\nQuestion: Where does the Zor rise?<assistant>The answer is"
    assert with_passages.endswith("Question: Where does the Zor rise?<assistant>" + ANSWER_PREFIX)
    assert "Passage 1: p1\nPassage 2: p2\n" in with_passages
    assert prompt_messages("q", [])[0]["content"] == f"{INSTRUCTION}\nQuestion: q"  # the training prompt, too


def test_eval_killed_and_resumed_repeats_no_question(tmp_path: Path, monkeypatch) -> None:
    from labkit.core.runs import resume_run, start_run
    from labkit.prag.data import Question

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    calls: list[tuple[str, str]] = []

    def fake_ask(question, mode, cfg, gen, index, store, known):
        if len(calls) == 5 and not resumed:
            raise KeyboardInterrupt  # as Ctrl-C after five answers
        calls.append((mode, question))
        return {"answer": "The answer is Fenar Sea.", "prompt_tokens": 10, "seconds": {"load_merge": 0.0}}

    monkeypatch.setattr(method, "ask", fake_ask)
    monkeypatch.setattr(method, "load_generator", lambda spec: method.Generator(FakeChat()))
    monkeypatch.setattr("labkit.prag.retrieve.load_index", lambda folder: None)
    questions = [Question(f"q{i}", f"Question {i}?", ["Fenar Sea"]) for i in range(4)]
    cfg = PragConfig(modes=["none", "prag", "combine"])
    run = start_run("prag", "eval", {})
    resumed = False
    with pytest.raises(KeyboardInterrupt):
        method.eval_run(cfg, questions, run, {})
    assert len(calls) == 5
    resumed = True
    table = method.eval_run(cfg, questions, resume_run(run.dir), {})
    assert len(calls) == 12 and len(set(calls)) == 12  # 5 before the kill + 7 after, none twice
    assert table["prag"]["contained"] == 1.0 and table["none"]["em"] == 1.0
    lines = (run.dir / "results.jsonl").read_text().splitlines()
    assert len({json.loads(x)["key"] for x in lines}) == 12


def test_merge_weights_are_reported_by_rank_and_types_apart(tmp_path: Path) -> None:
    """eval's table says what weight each retrieved adapter got (softmax at T = 0.5 of BM25 scores 10, 9, 5: the
    top one takes 1 / (1 + e^-2 + e^-10) = 0.881) and scores each question type on its own."""
    import math

    from labkit.prag.report import eval_report

    w = method.merge_weights("softmax", [10.0, 9.0, 5.0], 0.5)
    z = 1 + math.exp(-2) + math.exp(-10)
    assert w == pytest.approx([1 / z, math.exp(-2) / z, math.exp(-10) / z], rel=1e-12) and w[0] > 0.88
    values = [{"weights": [0.9, 0.1]}, {"weights": [0.5, 0.3, 0.2]}, {"weights": [1.0]}, {}]
    summary = method.merge_summary(values)
    assert summary == {"merge_weights_by_rank": [0.8, 0.2, 0.2], "top_weight_median": 0.9,
                       "answers_with_adapters": 3}

    def row(f1):
        return {"ok": True, "value": {"em": f1, "f1": f1, "contained": f1, "latency": 1.0, "prompt_tokens": 5,
                                      "seconds": {"load_merge": 0.0}}}
    table = {"prag": method._summary([row(1.0), row(0.0)]) | summary}
    table["prag"]["by_type"] = {"two-hop": method._summary([row(0.0)]), "river: sea": method._summary([row(1.0)])}
    text = eval_report(table, tmp_path, "t")
    assert "| prag | 3 | 0.800 / 0.200 / 0.200 | 0.9 |" in text
    assert "| two-hop | 1 | 0.000 (0.000) |" in text and "| river: sea | 1 | 1.000 (1.000) |" in text
