"""Corpus and QA loaders (upstream formats) and the persistent BM25 / dense indexes."""

import json

import pytest

from labkit.core.errors import DataError
from labkit.prag.data import Passage, load_corpus, load_questions

pytest.importorskip("bm25s")


def test_corpus_formats_and_errors(tmp_path) -> None:
    rows = [{"id": 1, "text": "Paris is in France.", "title": "Paris"}, {"id": "2", "text": "Rome is in Italy."}]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [p.id for p in load_corpus(tmp_path / "c.jsonl")] == ["1", "2"]
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([{"id": "a", "text": "x", "title": None}]), tmp_path / "c.parquet")
    assert load_corpus(tmp_path / "c.parquet") == [Passage("a", "x", "")]
    (tmp_path / "bad.jsonl").write_text('{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}\n')
    with pytest.raises(DataError, match=r"bad.jsonl:2, field 'id': duplicate id '1'"):
        load_corpus(tmp_path / "bad.jsonl")
    (tmp_path / "empty.jsonl").write_text('{"id": 1, "text": ""}\n')
    with pytest.raises(DataError, match=r"empty.jsonl:1, field 'text'"):
        load_corpus(tmp_path / "empty.jsonl")


def test_question_formats(tmp_path) -> None:
    (tmp_path / "dev.json").write_text(json.dumps([{"_id": "q1", "question": "Who?", "answer": "Ann", "type": "bridge",
                                                    "answer_id": "Q5"}]))
    (tmp_path / "id_aliases.json").write_text(json.dumps({"Q_id": "Q5", "aliases": ["Anne"]}) + "\n")
    q = load_questions(tmp_path / "dev.json")[0]
    assert q.answers == ["Ann", "Anne"] and q.type == "bridge"
    (tmp_path / "cwq.json").write_text(json.dumps([{"ID": "c1", "question": "What?",
                                                    "answers": [{"answer": "Oslo", "aliases": ["Christiania"]}]}]))
    assert load_questions(tmp_path / "cwq.json")[0].answers == ["Oslo", "Christiania"]
    (tmp_path / "popQA.tsv").write_text("id\tsubj\tprop\tobj\tquestion\tpossible_answers\n"
                                        '7\tX\toccupation\tpoet\tWhat is X\'s occupation?\t["poet", "writer"]\n')
    popqa = load_questions(tmp_path / "popQA.tsv")[0]
    assert popqa.answers == ["poet", "writer"] and popqa.type == "occupation"
    (tmp_path / "mine.jsonl").write_text('{"question": "Q?", "answer": ["a", "b"]}\n')
    assert load_questions(tmp_path / "mine.jsonl")[0].answers == ["a", "b"]
    (tmp_path / "noans.json").write_text(json.dumps([{"question": "Q?"}]))
    with pytest.raises(DataError, match=r"noans.json:1, field 'answer': missing"):
        load_questions(tmp_path / "noans.json")


def test_bm25_index_persists_and_ranks(tmp_path) -> None:
    from labkit.prag.corpus import fictional_corpus
    from labkit.prag.retrieve import build_index, load_index

    docs = fictional_corpus(12, seed=0)
    passages = [Passage(d.id, d.text) for d in docs]
    build_index(passages, tmp_path / "idx")
    index = load_index(tmp_path / "idx")
    for d in docs:
        question, _ = d.held_out[0]
        top = index.search(question, k=3)
        assert len(top) == 3 and d.id in [p.id for p, _ in top[:3]], question
    with pytest.raises(DataError, match="not an index folder"):
        load_index(tmp_path)


def test_two_hop_fiction_adds_bridges_without_changing_the_corpus() -> None:
    """`prag fiction --two-hop N`: the first passages are those of a plain corpus; each ferryman names a river of
    the corpus, and the two-hop answer is that river's sea (found only in the river's passage)."""
    from labkit.prag.corpus import fictional_corpus

    plain, extended = fictional_corpus(9, seed=0), fictional_corpus(9, seed=0, two_hop=4)
    assert extended[:9] == plain and len(extended) == 13
    rivers = {d.facts["river"]: d for d in plain if "sea" in d.facts}
    for bridge in extended[9:]:
        (question, answer), = bridge.held_out
        river = rivers[bridge.facts["river"]]
        assert bridge.held_out_types == ["two-hop"] and answer == river.facts["sea"]
        assert bridge.facts["river"] in bridge.text and answer not in bridge.text and answer in river.text
        assert bridge.facts["person"] in question and bridge.facts["river"] not in question
    assert {t for d in plain for t in d.held_out_types} == {"river: sea", "river: country", "inventor: device",
                                                           "inventor: city", "company: founder", "company: town"}
