"""Scoring a whole corpus in resumable shards, and selecting from the scores in one streaming pass.

``score_corpus`` reads the JSONL corpus once, cuts it into shards of ``shard_size`` documents (in corpus order),
and scores each missing shard with the fitted scorer - in worker processes (``workers``), or with Ray Data's
``map_batches`` (``ray=True``: one shard per batch, ``workers`` scorer actors). Each shard's scores land in
``shard-<k>.npy`` through a temporary file and a rename, so a kill leaves whole shards only and a re-run scores
just the missing ones; ``manifest.json`` pins the corpus, its size and the shard size.

``select_corpus`` walks the shard files in order into the streaming Gumbel-top-k selector (O(k) memory) and
writes the kept documents, in corpus order, as JSONL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import ConfigError, DataError
from labkit.core.files import atomic_write
from labkit.core.parallel import parallel_map
from labkit.core.records import read_json, read_numpy
from labkit.pds.data import iter_corpus
from labkit.pds.select import keep_count, select_streaming


def _shards(corpus: Path, size: int) -> Iterator[tuple[int, list[str]]]:
    texts: list[str] = []
    k = 0
    for _, rec in iter_corpus(corpus):
        texts.append(rec["text"])
        if len(texts) == size:
            yield k, texts
            k, texts = k + 1, []
    if texts:
        yield k, texts


def shard_path(out: Path, k: int) -> Path:
    return out / f"shard-{k:05d}.npy"


def _write(out: Path, k: int, scores: np.ndarray) -> int:
    atomic_write(shard_path(out, k), lambda tmp: np.save(tmp, np.asarray(scores, dtype=np.float64)))
    return len(scores)


@lru_cache(maxsize=2)
def _scorer(folder: str) -> Any:
    from labkit.pds.scorer import load_scorer

    return load_scorer(Path(folder))


def _score_shard(job: tuple[str, str, int, list[str]]) -> int:
    """One shard in a worker process (the scorer loaded once per process)."""
    scorer_dir, out, k, texts = job
    return _write(Path(out), k, _scorer(scorer_dir).predict(texts))


class _RayScorer:
    """Ray Data actor: one loaded scorer, one shard per batch."""

    def __init__(self, scorer_dir: str, out: str) -> None:
        self.scorer, self.out = _scorer(scorer_dir), Path(out)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        done = [_write(self.out, int(k), self.scorer.predict(list(t))) for k, t in zip(batch["shard"],
                                                                                       batch["texts"], strict=True)]
        return {"shard": batch["shard"], "scored": np.array(done)}


def _manifest(corpus: Path, out: Path, shard_size: int, scorer: Path) -> dict[str, Any]:
    n = sum(1 for _ in iter_corpus(corpus))
    want = {"corpus": str(corpus.resolve()), "documents": n, "shard_size": shard_size, "scorer": str(scorer.resolve())}
    path = out / "manifest.json"
    if path.exists():
        have = read_manifest(out)
        if any(have[k] != want[k] for k in ("corpus", "documents", "shard_size")):
            raise DataError(f"{path}: written for {have['corpus']} ({have['documents']} documents, shards of "
                            f"{have['shard_size']}); score into a new folder")
    else:
        out.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(want, indent=1))
    return want


def score_corpus(corpus: Path, scorer: Path, out: Path, *, shard_size: int = 1000, workers: int = 1,
                 ray: bool = False, window: int = 64) -> dict[str, Any]:
    """Score every missing shard; returns counts (documents, shards, scored now, skipped as done, failed)."""
    from labkit.pds.scorer import check_scorer

    check_scorer(scorer)  # before the folder: a broken scorer fails here, not in every worker
    info = _manifest(corpus, out, shard_size, scorer)
    total = (info["documents"] + shard_size - 1) // shard_size
    done = {k for k in range(total) if shard_path(out, k).exists()}
    todo = ((k, t) for k, t in _shards(corpus, shard_size) if k not in done)
    scored, failed, first = 0, 0, None
    while True:  # windows of shards: the texts of at most ``window`` shards in memory at once
        batch = [x for _, x in zip(range(window), todo, strict=False)]
        if not batch:
            break
        if ray:
            _ray_score(batch, scorer, out, workers)
            scored += len(batch)
            continue
        for o in parallel_map(_score_shard, [(str(scorer), str(out), k, t) for k, t in batch], workers=workers,
                              backend="process" if workers > 1 else "thread", desc="shards"):
            scored += o.ok
            if not o.ok:
                failed += 1
                first = first or f"shard {o.item[2]}: {o.error}"
    return {**info, "shards": total, "scored": scored, "skipped": len(done), "failed": failed, "first_error": first}


def _ray_score(batch: list[tuple[int, list[str]]], scorer: Path, out: Path, workers: int) -> None:
    from labkit.core.parallel import ray_init

    ray = ray_init()
    ds = ray.data.from_items([{"shard": k, "texts": t} for k, t in batch])
    ds.map_batches(_RayScorer, fn_constructor_kwargs={"scorer_dir": str(scorer), "out": str(out)}, batch_size=1,
                   concurrency=max(1, workers)).materialize()


def read_manifest(out: Path) -> dict[str, Any]:
    """A score folder's manifest; a folder without one (or a broken one) is a DataError naming it."""
    path = out / "manifest.json"
    if not path.is_file():
        raise DataError(f"{out}: not a score folder (no manifest.json; run `labkit pds score` first)")
    info = read_json(path, dict)
    for key, kind in (("documents", int), ("shard_size", int), ("corpus", str)):
        if not isinstance(info.get(key), kind) or isinstance(info[key], bool):
            raise DataError(f"broken manifest: missing or not {kind.__name__}", path=str(path), field=key)
    for key in ("documents", "shard_size"):
        if info[key] < 1:
            raise DataError(f"broken manifest: must be >= 1, got {info[key]}", path=str(path), field=key)
    return info


def read_scores(out: Path) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(corpus indices, scores) per shard, in order; a missing shard stops with its name."""
    info = read_manifest(out)
    size, total = info["shard_size"], (info["documents"] + info["shard_size"] - 1) // info["shard_size"]
    for k in range(total):
        path = shard_path(out, k)
        if not path.exists():
            raise DataError(f"{path}: missing (re-run `labkit pds score` with the same --out to finish)")
        want = min(size, info["documents"] - k * size)
        try:
            s = read_numpy(path)
        except DataError as exc:
            raise DataError(f"{exc}; delete it and re-run `labkit pds score`") from None
        if not isinstance(s, np.ndarray):
            raise DataError(f"{path}: an archive of arrays, not a score shard; delete it and re-run `labkit pds score`")
        if s.shape != (want,) or not np.issubdtype(s.dtype, np.floating) or not np.isfinite(s).all():
            raise DataError(f"{path}: expected {want} finite scores, got shape {s.shape} of {s.dtype}"
                            f"{'' if s.dtype.kind != 'f' or np.isfinite(s).all() else ' with NaN/inf'}; delete it "
                            "and re-run `labkit pds score`")
        yield np.arange(k * size, k * size + want), s


def select_corpus(scores_dir: Path, out: Path, *, r: float = 0.4, tau: float = 0.1, seed: int = 0
                  ) -> dict[str, Any]:
    """Keep floor(r N) documents by streaming Gumbel-top-k; write them (corpus order) to ``out``."""
    info = read_manifest(scores_dir)
    if keep_count(r, info["documents"]) == 0:
        raise ConfigError(f"r {r} of {info['documents']} documents keeps none (floor(r N) = 0)")
    keep = select_streaming(read_scores(scores_dir), info["documents"], r=r, tau=tau, seed=seed)
    kept = set(keep.tolist())

    def write(tmp: Path) -> None:  # a corpus defect leaves no half-written output
        with open(tmp, "w", encoding="utf-8") as f:
            for i, (_, rec) in enumerate(iter_corpus(Path(info["corpus"]))):
                if i in kept:
                    f.write(json.dumps(rec) + "\n")

    atomic_write(out, write)
    return {"documents": info["documents"], "kept": len(keep), "r": r, "tau": tau, "seed": seed}
