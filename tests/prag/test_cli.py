"""`labkit prag` fiction -> index -> encode (twice: nothing retrained) -> ask in all four modes."""

import json
import subprocess
import sys

import pytest

pytest.importorskip("bm25s")


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit", "prag", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


@pytest.mark.slow
def test_fiction_index_encode_ask(tmp_path) -> None:
    fic, idx, store = tmp_path / "fic", tmp_path / "idx", tmp_path / "store"
    assert run("fiction", "--out", str(fic), "--count", "3").returncode == 0
    assert run("index", "--corpus", str(fic / "corpus.jsonl"), "--index", str(idx)).returncode == 0
    settings = ["--set", "train.lr=0.003", "--set", "train.epochs=2"]
    encode = ["encode", "--corpus", str(fic / "corpus.jsonl"), "--augmented", str(fic / "augmented.jsonl"),
              "--store", str(store), *settings]
    first = run(*encode)
    assert first.returncode == 0 and "trained 3, reused 0, failed 0" in first.stdout, first.stderr
    again = run(*encode)
    assert "trained 0, reused 3" in again.stdout
    question = json.loads((fic / "questions.jsonl").read_text().splitlines()[0])["question"]
    tokens = {}
    for mode in ("none", "rag", "prag", "combine", "unrelated"):
        out = run("ask", question, "--mode", mode, "--index", str(idx), "--store", str(store), "--augmented",
                  str(fic / "augmented.jsonl"), "--k", "1", *settings)
        assert out.returncode == 0, out.stderr
        line = next(x for x in out.stderr.splitlines() if x.startswith(f"[{mode}]"))
        assert "load+merge" in line and "generate" in line
        tokens[mode] = int(line.split("prompt ")[1].split()[0])
    assert tokens["none"] == tokens["prag"] == tokens["unrelated"] < tokens["rag"] == tokens["combine"]
    missing = run("ask", question, "--mode", "prag", "--index", str(idx), "--store", str(tmp_path / "empty"),
                  "--k", "1", "--set", "missing=report")
    assert "no adapter for ['fict-000']" in missing.stderr
