"""PRAG inputs, mutated (tests/fuzzing.py): passage corpora of `index` (JSON lines, DPR-style TSV) and QA files of
`eval` (2WQA/HotpotQA JSON array, plain JSON lines, PopQA TSV). `index` runs whole; the QA files go through
`load_questions`, which `eval` calls before its run folder exists (an eval with a real model per mutation would
cost minutes): each file is read right, or refused with one DataError naming the file (and line) - never an
internal error."""

from __future__ import annotations

import json

from hypothesis import given

from labkit.prag.data import load_questions
from tests.fuzzing import Tally, examples, fuzz_command, fuzz_loader, mutations

PASSAGES = [{"id": f"p{i}", "title": f"Town {i}", "text": f"Town {i} lies on river {i % 3} and has {i}000 people."}
            for i in range(6)]
CORPUS_JSONL = "".join(json.dumps(p) + "\n" for p in PASSAGES).encode()
CORPUS_TSV = ("id\ttext\ttitle\n" + "".join(f"{p['id']}\t{p['text']}\t{p['title']}\n" for p in PASSAGES)).encode()
QUESTIONS = [{"_id": f"q{i}", "question": f"Which river is Town {i} on?", "answer": f"river {i % 3}",
              "type": "comparison" if i % 2 else "inference"} for i in range(4)]
QA_JSON = json.dumps(QUESTIONS, indent=1).encode()
QA_JSONL = "".join(json.dumps({"question": q["question"], "answer": [q["answer"], "r"]}) + "\n"
                   for q in QUESTIONS).encode()
QA_TSV = ("id\tsubj\tprop\tobj\tquestion\tpossible_answers\n" + "".join(
    f"{i}\tTown {i}\triver\tr{i}\t{q['question']}\t{json.dumps([q['answer'], 'r'])}\n"
    for i, q in enumerate(QUESTIONS))).encode()
TALLY = {name: Tally() for name in ("index jsonl", "index tsv", "index parquet", "eval json", "eval jsonl",
                                    "eval popqa tsv")}


def _parquet() -> bytes:
    """The corpus as a Parquet file (pyarrow's writer, as a datasets/pandas export would be)."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(PASSAGES), buf)
    return buf.getvalue()


def _index(kind: str, name: str, data: bytes) -> None:
    fuzz_command(TALLY[kind], name, data, lambda d: ["prag", "index", "--corpus", str(d / name),
                                                    "--index", str(d / "index")])


@examples(20)
@given(mutations(CORPUS_JSONL))
def test_fuzz_index_corpus_jsonl(mutation) -> None:
    _index("index jsonl", "corpus.jsonl", mutation[1])


@examples(20)
@given(mutations(CORPUS_TSV))
def test_fuzz_index_corpus_tsv(mutation) -> None:
    _index("index tsv", "psgs.tsv", mutation[1])


@examples(30)
@given(mutations(_parquet()))
def test_fuzz_index_corpus_parquet(mutation) -> None:
    _index("index parquet", "corpus.parquet", mutation[1])


def _eval(kind: str, name: str, data: bytes) -> None:
    questions = fuzz_loader(TALLY[kind], name, data, load_questions)
    if questions is not None:
        assert questions and all(q.question.strip() and q.answers for q in questions)
        assert len({q.id for q in questions}) == len(questions)


@examples(100)  # milliseconds each
@given(mutations(QA_JSON))
def test_fuzz_eval_questions_json(mutation) -> None:
    _eval("eval json", "dev.json", mutation[1])


@examples(100)  # milliseconds each
@given(mutations(QA_JSONL))
def test_fuzz_eval_questions_jsonl(mutation) -> None:
    _eval("eval jsonl", "mine.jsonl", mutation[1])


@examples(100)  # milliseconds each
@given(mutations(QA_TSV))
def test_fuzz_eval_questions_popqa_tsv(mutation) -> None:
    _eval("eval popqa tsv", "popQA.tsv", mutation[1])


def test_a_model_that_cannot_merge_adapters_is_refused_before_a_run_folder(tmp_path, monkeypatch) -> None:
    from tests.fuzzing import run_cli, run_folders

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    (tmp_path / "dev.json").write_bytes(QA_JSON)
    code, err = run_cli(["prag", "eval", "--data", str(tmp_path / "dev.json"), "--model", "mock"])
    assert code == 2 and "model 'mock' must be smollm2 or hf:<path>" in err
    assert not run_folders(tmp_path / "runs")


AUGMENTED = "".join(json.dumps({"id": p["id"], "text": p["text"], "rewrite": p["text"].upper(),
                                "qa": [{"question": f"Where is {p['title']}?", "answer": "on a river"}]}) + "\n"
                    for p in PASSAGES).encode()
TALLY["augmented jsonl"] = Tally()


@examples(100)  # milliseconds each: what `encode`/`ask`/`eval --augmented` read before any work
@given(mutations(AUGMENTED))
def test_fuzz_augmented(mutation) -> None:
    from labkit.prag.data import load_augmented

    docs = fuzz_loader(TALLY["augmented jsonl"], "augmented.jsonl", mutation[1], load_augmented)
    assert all(isinstance(d.text, str) and all(isinstance(a, str) for qa in d.qa for a in qa)
               for d in (docs or {}).values())


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"prag {name}"))
