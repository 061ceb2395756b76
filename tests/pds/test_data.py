"""Corpus and target files as people have them (JSONL 'text', LIMA 'conversations', blank-line separated text),
one-line errors naming file and line, and the text toy's shares."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from labkit.core.errors import DataError
from labkit.pds.data import make_text_toy, read_corpus, read_target


def test_lima_and_plain_targets(tmp_path) -> None:
    lima = tmp_path / "lima.jsonl"
    lima.write_text(json.dumps({"conversations": ["Hi?", "Hello."], "source": "stackexchange"}) + "\n\n" +
                    json.dumps({"text": "plain"}) + "\n")
    assert read_target(lima) == ["Hi?\n\nHello.", "plain"]
    txt = tmp_path / "target.txt"
    txt.write_text("first doc\nline two\n\n\nsecond doc\n")
    assert read_target(txt) == ["first doc\nline two", "second doc"]


def test_bad_lines_name_file_line_and_field(tmp_path) -> None:
    bad = tmp_path / "corpus.jsonl"
    bad.write_text('{"text": "ok"}\n{"content": "no text"}\n')
    with pytest.raises(DataError, match=r"corpus.jsonl:2: field 'text'"):
        read_corpus(bad)
    bad.write_text('{"text": "ok"}\n{oops\n')
    with pytest.raises(DataError, match=r"corpus.jsonl:2: not JSON"):
        read_corpus(bad)
    lima = tmp_path / "t.jsonl"
    lima.write_text('{"conversations": "not a list"}\n')
    with pytest.raises(DataError, match=r"t.jsonl:1: needs 'text'"):
        read_target(lima)


def test_text_toy_shares_and_no_target_in_corpus() -> None:
    toy = make_text_toy(1000, 50, clean_share=0.3, seed=3)
    counts = Counter(d["style"] for d in toy.corpus)
    assert counts["clean"] == 300 and sorted(counts.values())[:3] == [233, 233, 234]
    assert not set(toy.target) & {d["text"] for d in toy.corpus} and len(set(toy.target)) == 50
