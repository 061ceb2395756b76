"""Retrieval: in-process BM25 (bm25s) persisted in a folder, and an optional dense MiniLM index.

The original used Elasticsearch BM25 over title + text with the query left-truncated to 256 tokens; here
title and text are indexed together and queries are cut to their last 256 whitespace tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import DataError, require
from labkit.prag.data import Passage


@dataclass
class Index:
    folder: Path
    passages: list[Passage]
    bm25: Any
    dense: np.ndarray | None = None  # (passages, 384) unit vectors

    def search(self, query: str, k: int = 3, dense: bool = False) -> list[tuple[Passage, float]]:
        query = " ".join(query.split()[-256:])
        if dense:
            if self.dense is None:
                raise DataError("no dense index here (build with --dense)", path=str(self.folder))
            from labkit.core.models.embed import embed

            q = embed([query])[0]
            scores = self.dense @ (q / np.linalg.norm(q))
            top = np.argsort(-scores)[:k]
            return [(self.passages[i], float(scores[i])) for i in top]
        bm25s = require("bm25s", "prag")
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False)
        ids, scores = self.bm25.retrieve(tokens, k=min(k, len(self.passages)), show_progress=False)
        return [(self.passages[int(i)], float(s)) for i, s in zip(ids[0], scores[0], strict=True)]


def _joined(p: Passage) -> str:
    return f"{p.title}\n{p.text}" if p.title else p.text


def build_index(passages: list[Passage], folder: Path, dense: bool = False) -> Index:
    bm25s = require("bm25s", "prag")
    folder.mkdir(parents=True, exist_ok=True)
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([_joined(p) for p in passages], stopwords="en", show_progress=False),
                    show_progress=False)
    retriever.save(str(folder / "bm25"))
    with open(folder / "passages.jsonl", "w") as fh:
        fh.writelines(json.dumps(p.__dict__, ensure_ascii=False) + "\n" for p in passages)
    vectors = None
    if dense:
        from labkit.core.models.embed import embed

        vectors = np.asarray(embed([_joined(p) for p in passages]), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        np.save(folder / "dense.npy", vectors)
    return Index(folder, passages, retriever, vectors)


def read_passages(folder: Path) -> list[Passage]:
    """The passages an index folder was built from (what `prag index` wrote), checked like a corpus."""
    from labkit.prag.data import load_corpus

    if not (folder / "passages.jsonl").exists():
        raise DataError("not an index folder (run `labkit prag index` first)", path=str(folder))
    return load_corpus(folder / "passages.jsonl")


def load_index(folder: Path) -> Index:
    bm25s = require("bm25s", "prag")
    passages = read_passages(folder)
    dense = np.load(folder / "dense.npy") if (folder / "dense.npy").exists() else None
    return Index(folder, passages, bm25s.BM25.load(str(folder / "bm25")), dense)
