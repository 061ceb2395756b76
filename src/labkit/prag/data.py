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

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

from labkit.core.errors import DataError
from labkit.core.records import jsonl_with_lines, read_text, text_stream


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


def load_corpus(path: str | Path) -> list[Passage]:
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    rows: list[dict] = []
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError as exc:
            from labkit.core.errors import MissingDependency

            raise MissingDependency("pyarrow", "prag") from exc
        rows = pq.read_table(path).to_pylist()
        lines = list(range(1, len(rows) + 1))
    elif path.suffix == ".tsv":
        reader = csv.DictReader(text_stream(path), delimiter="\t")
        rows, lines = list(reader), list(range(2, 2 + 10**9))
    else:
        numbered = jsonl_with_lines(path)
        rows, lines = [rec for _, rec in numbered], [n for n, _ in numbered]
    passages, seen = [], set()
    for row, lineno in zip(rows, lines, strict=False):
        for key in ("id", "text"):
            if key not in row or row[key] in (None, ""):
                raise DataError("missing or empty", path=str(path), line=lineno, field=key)
        pid = str(row["id"])
        if pid in seen:
            raise DataError(f"duplicate id {pid!r}", path=str(path), line=lineno, field="id")
        seen.add(pid)
        passages.append(Passage(pid, str(row["text"]), str(row.get("title") or "")))
    if not passages:
        raise DataError("no passages", path=str(path))
    return passages


def load_questions(path: str | Path, limit: int | None = None) -> list[Question]:
    """Any of the four upstream formats, or the plain {question, answer} one (detected by fields)."""
    path = Path(path)
    if not path.exists():
        raise DataError("file not found", path=str(path))
    if path.suffix == ".tsv":
        out = _popqa(path)
    else:
        text = read_text(path)
        try:
            data = [json.loads(x) for x in text.splitlines() if x.strip()] if path.suffix == ".jsonl" \
                else json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"not JSON ({exc.msg})", path=str(path), line=exc.lineno) from None
        if not isinstance(data, list):
            raise DataError("expected a JSON list of questions", path=str(path))
        aliases = _aliases_2wqa(path.parent / "id_aliases.json")
        out = [_question(row, k, path, aliases) for k, row in enumerate(data)]
    return out[:limit] if limit else out


def _question(row: dict, k: int, path: Path, aliases: dict[str, list[str]]) -> Question:
    if "question" not in row:
        raise DataError("missing", path=str(path), field=f"[{k}].question")
    qid = str(row.get("_id", row.get("ID", row.get("id", k))))
    if "answers" in row and isinstance(row["answers"], list):  # ComplexWebQuestions
        answers = []
        for a in row["answers"]:
            if isinstance(a, dict):
                answers += [a.get("answer", "")] + list(a.get("aliases", []))
            else:
                answers.append(str(a))
    elif "answer" in row:
        answers = row["answer"] if isinstance(row["answer"], list) else [str(row["answer"])]
        answers += aliases.get(str(row.get("answer_id", "")), [])
    else:
        raise DataError("missing", path=str(path), field=f"[{k}].answer")
    answers = [a for a in answers if a]
    if not answers:
        raise DataError("no answer", path=str(path), field=f"[{k}].answer")
    return Question(qid, row["question"], answers, str(row.get("type", "")))


def _aliases_2wqa(path: Path) -> dict[str, list[str]]:
    if not path.exists():
        return {}
    out = {}
    for line in read_text(path).splitlines():
        if line.strip():
            row = json.loads(line)
            out[str(row["Q_id"])] = list(row.get("aliases", []))
    return out


def _popqa(path: Path) -> list[Question]:
    out = []
    for lineno, row in enumerate(csv.DictReader(text_stream(path), delimiter="\t"), 2):
        try:
            answers = json.loads(row["possible_answers"])
        except (KeyError, json.JSONDecodeError) as exc:
            raise DataError(f"not a JSON list ({exc})", path=str(path), line=lineno,
                            field="possible_answers") from None
        out.append(Question(str(row.get("id", lineno)), row["question"], [str(a) for a in answers],
                            str(row.get("prop", ""))))
    return out
