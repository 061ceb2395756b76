"""Corpora and QA sets, read unchanged from their upstream files.

Corpus: JSONL or Parquet rows with ``id``, ``text`` and optional ``title`` (DPR's ``psgs_w100.tsv`` also reads:
``id<TAB>text<TAB>title``). QA formats (local files; Hugging Face names for users with network:
``framolfese/2WikiMultihopQA``, ``hotpotqa/hotpot_qa`` (distractor), ``akariasai/PopQA``,
``drt/complex_web_questions``):
- 2WikiMultihopQA ``dev.json`` and HotpotQA ``hotpot_dev_distractor_v1.json``: a JSON list with ``_id``,
  ``question``, ``answer``, ``type`` (2WQA aliases from an optional ``id_aliases.json`` beside it);
- PopQA ``popQA.tsv``: ``id, subj, prop, obj, question, possible_answers`` (a JSON list of aliases);
- ComplexWebQuestions ``ComplexWebQuestions_dev.json``: ``ID``, ``question``, ``answers: [{answer, aliases}]``;
- your own: JSON list or JSONL of ``{"question", "answer"}`` (answer a string or a list of aliases).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from labkit.core.errors import DataError
from labkit.core.records import csv_records_with_lines, json_array_with_lines, jsonl_with_lines


@dataclass
class Passage:
    id: str
    text: str
    title: str = ""


@dataclass
class Question:
    id: str
    question: str
    answers: list[str]
    type: str = ""
    meta: dict[str, object] = field(default_factory=dict)


def _parquet_rows(path: Path) -> list[tuple[int, object]]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        from labkit.core.errors import MissingDependency

        raise MissingDependency("pyarrow", "prag") from exc
    try:
        rows = pq.read_table(path).to_pylist()
    except (pa.ArrowException, OSError) as exc:
        raise DataError(f"not a Parquet file ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})",
                        path=str(path)) from None
    return list(enumerate(rows, 1))


def load_corpus(path: str | Path) -> list[Passage]:
    """Passages of a JSONL, Parquet (row numbers as lines) or TSV corpus; ids must be unique."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.suffix == ".parquet":
        numbered = _parquet_rows(path)
    else:
        numbered = csv_records_with_lines(path, "\t") if path.suffix == ".tsv" else jsonl_with_lines(path)
    passages, seen = [], set()
    for lineno, row in numbered:
        if not isinstance(row, dict):
            raise DataError("record is not an object", path=str(path), line=lineno)
        for key in ("id", "text"):
            if row.get(key) in (None, "") or isinstance(row[key], (dict, list)):
                raise DataError("missing, empty or not a scalar", path=str(path), line=lineno, field=key)
        pid = str(row["id"])
        if pid in seen:
            raise DataError(f"duplicate id {pid!r}", path=str(path), line=lineno, field="id")
        seen.add(pid)
        passages.append(Passage(pid, str(row["text"]), str(row.get("title") or "")))
    if not passages:
        raise DataError("no passages", path=str(path))
    return passages


def load_questions(path: str | Path, limit: int | None = None) -> list[Question]:
    """Any of the four upstream formats, or the plain {question, answer} one (detected by fields); errors name
    the line a question starts on; ids must be unique (results are keyed by them)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.suffix == ".tsv":
        numbered = [(line, _popqa(row, line, path)) for line, row in csv_records_with_lines(path, "\t")]
    else:
        rows = jsonl_with_lines(path) if path.suffix == ".jsonl" else json_array_with_lines(path)
        aliases = _aliases_2wqa(path.parent / "id_aliases.json")
        numbered = [(line, _question(row, k, line, path, aliases)) for k, (line, row) in enumerate(rows)]
    if not numbered:
        raise DataError("no questions", path=str(path))
    seen: set[str] = set()
    for line, q in numbered:
        if q.id in seen:
            raise DataError(f"duplicate id {q.id!r}", path=str(path), line=line, field="id")
        seen.add(q.id)
    out = [q for _, q in numbered]
    return out[:limit] if limit else out


def _texts(value: object, path: Path, line: int, name: str) -> list[str]:
    """Answer aliases: a scalar or a list of scalars, as text."""
    items = value if isinstance(value, list) else [value]
    if any(isinstance(a, (dict, list)) for a in items):
        raise DataError("expected text or a list of texts", path=str(path), line=line, field=name)
    return [str(a) for a in items if a not in (None, "")]


def _question(row: object, k: int, line: int, path: Path, aliases: dict[str, list[str]]) -> Question:
    if not isinstance(row, dict):
        raise DataError("record is not an object", path=str(path), line=line)
    if not isinstance(row.get("question"), str) or not row["question"].strip():
        raise DataError("missing or not text", path=str(path), line=line, field="question")
    qid = row.get("_id", row.get("ID", row.get("id", k)))
    if isinstance(qid, (dict, list)) or qid is None:
        raise DataError("not a scalar", path=str(path), line=line, field="id")
    if "answers" in row and isinstance(row["answers"], list):  # ComplexWebQuestions
        answers = []
        for a in row["answers"]:
            if isinstance(a, dict):
                answers += _texts(a.get("answer", ""), path, line, "answers.answer")
                answers += _texts(a.get("aliases", []), path, line, "answers.aliases")
            else:
                answers += _texts(a, path, line, "answers")
    elif "answer" in row:
        answers = _texts(row["answer"], path, line, "answer") + aliases.get(str(row.get("answer_id", "")), [])
    else:
        raise DataError("missing", path=str(path), line=line, field="answer")
    if not answers:
        raise DataError("no answer", path=str(path), line=line, field="answer")
    return Question(str(qid), row["question"], answers, str(row.get("type", "")))


def _aliases_2wqa(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    out = {}
    for line, row in jsonl_with_lines(path):
        if not isinstance(row, dict) or "Q_id" not in row:
            raise DataError("missing", path=str(path), line=line, field="Q_id")
        out[str(row["Q_id"])] = _texts(row.get("aliases", []), path, line, "aliases")
    return out


def _popqa(row: dict[str, str | None], line: int, path: Path) -> Question:
    if not (row.get("question") or "").strip():
        raise DataError("missing or empty", path=str(path), line=line, field="question")
    try:
        answers = json.loads(row.get("possible_answers") or "")
    except json.JSONDecodeError as exc:
        raise DataError(f"not a JSON list ({exc.msg})", path=str(path), line=line, field="possible_answers") from None
    if not isinstance(answers, list):
        raise DataError("not a JSON list", path=str(path), line=line, field="possible_answers")
    texts = _texts(answers, path, line, "possible_answers")
    if not texts:
        raise DataError("no answer", path=str(path), line=line, field="possible_answers")
    return Question(str(row.get("id") or line), str(row["question"]), texts, str(row.get("prop") or ""))


def load_augmented(path: Path) -> dict[str, object]:
    """id -> Document of a ready-augmentations file (``--augmented``: JSON lines ``{id, text, rewrite, qa:
    [{question, answer}, ...]}``, the first 3 QA pairs used); a record of another shape or an id given twice is a
    DataError naming file, line and field."""
    from labkit.prag.corpus import Document

    out: dict[str, object] = {}
    for line, row in jsonl_with_lines(path):
        if not isinstance(row, dict) or row.get("id") in (None, "") or isinstance(row["id"], (dict, list)):
            raise DataError("needs an 'id' (text or number)", path=str(path), line=line, field="id")
        for key in ("text", "rewrite"):
            if not isinstance(row.get(key), str):
                raise DataError("missing or not text", path=str(path), line=line, field=key)
        qa = row.get("qa")
        if not isinstance(qa, list) or not all(isinstance(q, dict) and isinstance(q.get("question"), str)
                                               and isinstance(q.get("answer"), str) for q in qa):
            raise DataError("must be a list of {question, answer} texts", path=str(path), line=line, field="qa")
        if str(row["id"]) in out:
            raise DataError(f"id {row['id']!r} given twice", path=str(path), line=line, field="id")
        out[str(row["id"])] = Document(str(row["id"]), row["text"], row["rewrite"],
                                       [(q["question"], q["answer"]) for q in qa][:3])
    return out
