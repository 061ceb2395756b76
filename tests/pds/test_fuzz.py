"""PDS inputs, mutated (tests/fuzzing.py): the corpus and target of `solve --corpus --target` (JSON lines; .txt or
.jsonl), a score folder's manifest.json and .npy shard read by `select`, and a solve run's scores.jsonl as
`fit-scorer` reads it (before any embedding). Each command reads them right or refuses
them in one line naming the file - never an internal error, never a run folder or output left by a failed start."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
from hypothesis import given

from tests.fuzzing import Tally, examples, fuzz_command, fuzz_loader, mutations

DOCS = [f"the cat sat on mat number {i}. it was warm." if i % 2 else f"qz xv {i} {i} {i} lorem kk" for i in range(24)]
CORPUS = "".join(json.dumps({"text": d, "id": i}) + "\n" for i, d in enumerate(DOCS)).encode()
TARGET_TXT = "\n\n".join(f"a dog sat on rug {i}. it was calm." for i in range(4)).encode()
TARGET_JSONL = "".join(json.dumps({"conversations": [f"hi {i}", f"the dog sat {i}."]}) + "\n"
                       for i in range(4)).encode()
SOLVE = ["--set", "lm.proxy_n=8", "--set", "lm.target_n=4", "--set", "lm.seq_len=16", "--set", "lm.steps=2",
         "--set", "lm.warmup=0", "--set", "lm.chunk=8"]
TALLY = {name: Tally() for name in ("solve corpus", "solve target txt", "solve target jsonl", "select manifest",
                                    "select shard", "fit-scorer scores", "scorer meta.json")}


def _solve(kind: str, name: str, data: bytes, others: dict[str, bytes], target: str) -> None:
    fuzz_command(TALLY[kind], name, data, lambda d: [
        "pds", "solve", "--corpus", str(d / "corpus.jsonl"), "--target", str(d / target), *SOLVE], others=others)


@examples(12)
@given(mutations(CORPUS))
def test_fuzz_solve_corpus(mutation) -> None:
    _solve("solve corpus", "corpus.jsonl", mutation[1], {"target.txt": TARGET_TXT}, "target.txt")


@examples(12)
@given(mutations(TARGET_TXT))
def test_fuzz_solve_target_txt(mutation) -> None:
    _solve("solve target txt", "target.txt", mutation[1], {"corpus.jsonl": CORPUS}, "target.txt")


@examples(12)
@given(mutations(TARGET_JSONL))
def test_fuzz_solve_target_jsonl(mutation) -> None:
    _solve("solve target jsonl", "target.jsonl", mutation[1], {"corpus.jsonl": CORPUS}, "target.jsonl")


def _npy(values: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, values)
    return buf.getvalue()


def _select(kind: str, name: str, data: bytes, others: dict[str, bytes]) -> None:
    def argv(d):
        manifest = d / "scores" / "manifest.json"
        if name != "scores/manifest.json":  # the corpus path is absolute: point it at this folder's corpus
            manifest.write_text(manifest.read_text().replace("CORPUS", str(d / "corpus.jsonl")))
        else:
            manifest.write_bytes(manifest.read_bytes().replace(b"CORPUS", str(d / "corpus.jsonl").encode()))
        return ["pds", "select", "--scores", str(d / "scores"), "--out", str(d / "out" / "kept.jsonl"), "--r", "0.5"]
    fuzz_command(TALLY[kind], name, data, argv, others={"corpus.jsonl": CORPUS, **others})


MANIFEST = json.dumps({"corpus": "CORPUS", "documents": 24, "shard_size": 16, "scorer": "x"}).encode()
SHARDS = {"scores/shard-00000.npy": _npy(np.linspace(-1, 1, 16)), "scores/shard-00001.npy": _npy(np.ones(8))}


@given(mutations(MANIFEST))
def test_fuzz_select_manifest(mutation) -> None:
    _select("select manifest", "scores/manifest.json", mutation[1], SHARDS)


@given(mutations(SHARDS["scores/shard-00000.npy"]))
def test_fuzz_select_shard(mutation) -> None:
    _select("select shard", "scores/shard-00000.npy", mutation[1],
            {"scores/manifest.json": MANIFEST, "scores/shard-00001.npy": SHARDS["scores/shard-00001.npy"]})


SCORES = "".join(json.dumps({"index": i, "score": (-1) ** i * i / 10}) + "\n" for i in range(0, 24, 2)).encode()


@examples(100)  # milliseconds each: the reading `fit-scorer` does before any embedding
@given(mutations(SCORES))
def test_fuzz_solver_scores_for_fit_scorer(mutation) -> None:
    from labkit.pds.data import read_solver_scores

    def load(path):
        (path.parent / "config.yaml").write_text(f"corpus: {path.parent / 'corpus.jsonl'}\n")  # an absolute path
        return read_solver_scores(path.parent)

    read = fuzz_loader(TALLY["fit-scorer scores"], "scores.jsonl", mutation[1], load, others={"corpus.jsonl": CORPUS})
    assert read is None or len(read[0]) == len(read[1]) >= 2


def _ridge() -> bytes:
    """A fitted scorer's ridge.joblib (sklearn), as `pds fit-scorer --head ridge` saves it."""
    import io

    import joblib
    import numpy as np
    from sklearn.linear_model import Ridge

    buf = io.BytesIO()
    joblib.dump(Ridge().fit(np.eye(384)[:4], np.arange(4.0)), buf)  # MiniLM embeddings: 384 wide
    return buf.getvalue()


META = json.dumps({"head": "ridge", "mean": 0.25, "std": 1.5}).encode()


@examples(20)
@given(mutations(META))
def test_fuzz_scorer_meta(mutation) -> None:
    """A scorer folder's meta.json, read by `pds score --scorer` before its score folder exists."""
    fuzz_command(TALLY["scorer meta.json"], "scorer/meta.json", mutation[1], lambda d: [
        "pds", "score", "--corpus", str(d / "corpus.jsonl"), "--scorer", str(d / "scorer"), "--out",
        str(Path(os.environ["LABKIT_RUNS"]) / "scores" / d.name), "--shard-size", "16"],
        others={"scorer/ridge.joblib": _ridge(), "corpus.jsonl": CORPUS})


def teardown_module() -> None:
    for name, tally in TALLY.items():
        print(tally.line(f"pds {name}"))
