"""Corpus scoring in shards: an interrupted run resumes from its shard files with identical output, a folder
for another corpus is refused, failures are counted; streaming selection equals the in-memory selector and keeps
exactly floor(rN) documents in corpus order; the scorer's save/load round trip and a held-out Spearman > 0."""

from __future__ import annotations

import json

import numpy as np
import pytest

from labkit.core.errors import DataError
from labkit.pds.config import ScorerConfig
from labkit.pds.corpus import score_corpus, select_corpus, shard_path
from labkit.pds.data import make_text_toy, write_text_toy
from labkit.pds.scorer import fit_scorer, load_scorer
from labkit.pds.select import select


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """A ridge scorer fitted to a known signal (clean documents score high) on 120 toy documents."""
    folder = tmp_path_factory.mktemp("pds")
    toy = make_text_toy(300, 10, seed=4)
    corpus, _ = write_text_toy(toy, folder)
    rng = np.random.default_rng(0)
    y = np.array([2.0 if d["style"] == "clean" else 0.0 for d in toy.corpus[:120]]) + rng.normal(0, 0.3, 120)
    scorer, report = fit_scorer([d["text"] for d in toy.corpus[:120]], y, ScorerConfig())
    return folder, corpus, scorer.save(folder / "scorer"), report, toy


def test_scorer_learns_and_round_trips(fitted) -> None:
    folder, _, scorer_dir, report, toy = fitted
    assert report["spearman"]["ridge"] > 0.5 and report["validation"] == 24
    texts = [d["text"] for d in toy.corpus[200:230]]
    again = load_scorer(scorer_dir).predict(texts)
    assert np.array_equal(again, load_scorer(scorer_dir).predict(texts))
    clean = np.array([d["style"] == "clean" for d in toy.corpus[200:230]])
    assert again[clean].mean() > again[~clean].mean() + 1.0


def test_interrupted_scoring_resumes_identically(fitted, tmp_path) -> None:
    _, corpus, scorer_dir, _, _ = fitted
    full = tmp_path / "full"
    info = score_corpus(corpus, scorer_dir, full, shard_size=64)
    assert (info["documents"], info["shards"], info["scored"], info["failed"]) == (300, 5, 5, 0)
    part = tmp_path / "part"
    score_corpus(corpus, scorer_dir, part, shard_size=64)
    for k in (1, 3, 4):  # as if killed: some shards never written, a torn temporary file left behind
        shard_path(part, k).unlink()
    (part / ".shard-00001.999.npy").write_bytes(b"torn")
    again = score_corpus(corpus, scorer_dir, part, shard_size=64)
    assert (again["scored"], again["skipped"]) == (3, 2)
    for k in range(5):
        assert np.array_equal(np.load(shard_path(part, k)), np.load(shard_path(full, k)))
    with pytest.raises(DataError, match="shards of 64"):
        score_corpus(corpus, scorer_dir, part, shard_size=50)


def test_pds_score_killed_mid_run_resumes_to_the_same_shards(fitted, tmp_path) -> None:
    """`labkit pds score` killed with SIGKILL after some shards, then run again: every shard scored exactly as
    in an uninterrupted run, the finished shards not redone (their files untouched)."""
    from labkit.cli import app
    from labkit.core.cli import main_with_errors
    from tests.killing import kill_when

    _, corpus, scorer_dir, _, _ = fitted
    full = tmp_path / "full"
    score_corpus(corpus, scorer_dir, full, shard_size=4)
    part = tmp_path / "part"
    argv = ["pds", "score", "--corpus", str(corpus), "--scorer", str(scorer_dir), "--out", str(part),
            "--shard-size", "4"]
    kill_when(argv, lambda: len(list(part.glob("shard-*.npy"))) >= 3, tmp_path / "killed.log")
    done = {p.name: p.stat().st_mtime_ns for p in part.glob("shard-*.npy")}
    assert 3 <= len(done) < 75
    assert main_with_errors(app, argv) == 0
    assert {p.name: p.stat().st_mtime_ns for p in part.glob("shard-*.npy") if p.name in done} == done
    assert sorted(p.name for p in part.glob("shard-*.npy")) == [shard_path(full, k).name for k in range(75)]
    for k in range(75):
        assert np.array_equal(np.load(shard_path(part, k)), np.load(shard_path(full, k)))


def test_streaming_selection_equals_in_memory(fitted, tmp_path) -> None:
    _, corpus, scorer_dir, _, toy = fitted
    out = tmp_path / "scores"
    score_corpus(corpus, scorer_dir, out, shard_size=64)
    info = select_corpus(out, tmp_path / "kept.jsonl", r=0.4, tau=0.1, seed=5)
    kept = [json.loads(line)["text"] for line in (tmp_path / "kept.jsonl").read_text().splitlines()]
    allscores = np.concatenate([np.load(shard_path(out, k)) for k in range(5)])
    expect = select(allscores, 0.4, 0.1, 5)
    assert info["kept"] == len(kept) == 120 and kept == [toy.corpus[i]["text"] for i in expect]
