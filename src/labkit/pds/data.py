"""PDS data: corpus and target files as people have them, byte-level token arrays, and the text toy.

- corpus: JSON lines with a ``text`` field (the usual pre-training layout: RedPajama, the Pile, FineWeb), other
  fields kept; read in a streaming pass;
- target set J: ``.jsonl`` with ``text`` or LIMA's ``conversations`` (a list of turns, joined by blank lines),
  or a plain ``.txt`` file whose documents are separated by blank lines;
- the text toy: a clean style (short grammatical sentences about animals) as the target, mixed in the corpus
  with three junk styles - letter noise, word salad of the same words, one word repeated - in known shares, so
  a selection's quality can be read off the styles it keeps.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from labkit.core.errors import ConfigError, DataError
from labkit.core.records import iter_jsonl, read_text

BOS, PAD, VOCAB = 256, 257, 258  # byte-level ids: 0..255 the UTF-8 bytes


def iter_corpus(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for every line of a JSONL corpus; a bad line stops with file, line and field."""
    for line_no, rec in iter_jsonl(path):
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
            raise DataError(f"{path}:{line_no}: field 'text' missing or not a string")
        yield line_no, rec


def read_corpus(path: Path) -> list[dict[str, Any]]:
    """Every record of a corpus; an empty one is a DataError naming it."""
    out = [rec for _, rec in iter_corpus(path)]
    if not out:
        raise DataError("no documents", path=str(path))
    return out


def read_target(path: Path) -> list[str]:
    """Target documents from ``.txt`` (blank-line separated) or ``.jsonl`` (``text`` or LIMA ``conversations``)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: target file not found")
    if path.suffix != ".jsonl":
        docs = [d.strip() for d in read_text(path).split("\n\n")]
        if not any(docs):
            raise DataError("no target documents", path=str(path))
        return [d for d in docs if d]
    out = []
    for line_no, rec in iter_jsonl(path):
        turns = rec.get("conversations") if isinstance(rec, dict) else None
        if isinstance(turns, list) and all(isinstance(t, str) for t in turns):
            out.append("\n\n".join(turns))
        elif isinstance(rec, dict) and isinstance(rec.get("text"), str):
            out.append(rec["text"])
        else:
            raise DataError(f"{path}:{line_no}: needs 'text' (a string) or 'conversations' (a list of strings)")
    if not out:
        raise DataError("no target documents", path=str(path))
    return out


def byte_tokens(texts: list[str], length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids, mask) of shape (N, length): BOS then the UTF-8 bytes, cut at ``length``, padded (mask 0)."""
    ids = torch.full((len(texts), length), PAD, dtype=torch.long)
    mask = torch.zeros((len(texts), length), dtype=torch.long)
    for i, t in enumerate(texts):
        row = [BOS, *t.encode("utf-8")][:length]
        ids[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = 1
    return ids, mask


def packed_blocks(texts: list[str], length: int) -> torch.Tensor:
    """Pre-training blocks: the documents' bytes (each after a BOS) in one stream, cut into (B, length) blocks -
    every block is ``length`` real tokens, so equal blocks mean equal tokens."""
    stream = [b for t in texts for b in (BOS, *t.encode("utf-8"))]
    n = len(stream) // length
    return torch.tensor(stream[:n * length], dtype=torch.long).view(n, length)


NOUNS = ["cat", "dog", "bird", "fox", "cow", "hen", "owl", "bee", "frog", "goat"]
ADJS = ["big", "small", "red", "old", "shy", "fast", "calm", "wild"]
VERBS = ["sees", "likes", "chases", "finds", "helps", "follows", "watches"]
STYLES = ("clean", "noise", "salad", "repeat")


def _clean(rng: random.Random) -> str:
    def sentence() -> str:
        return f"the {rng.choice(ADJS)} {rng.choice(NOUNS)} {rng.choice(VERBS)} the {rng.choice(NOUNS)}."
    return " ".join(sentence() for _ in range(rng.randint(1, 2)))


def _junk(style: str, rng: random.Random) -> str:
    text = _clean(rng)
    if style == "noise":
        return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz     ") for _ in text)
    if style == "salad":
        words = text.replace(".", "").split()
        rng.shuffle(words)
        return " ".join(words)
    word = rng.choice(NOUNS + VERBS)
    return " ".join([word] * max(2, len(text) // (len(word) + 1)))


@dataclass
class TextToy:
    corpus: list[dict[str, Any]]  # {"text", "style"}
    target: list[str]  # clean documents never in the corpus


def make_text_toy(n: int = 2000, target: int = 200, clean_share: float = 0.3, seed: int = 0) -> TextToy:
    """``n`` corpus documents, ``clean_share`` of them clean and the rest split evenly over the junk styles (in a
    seeded order), and ``target`` clean documents as J."""
    if n < 1 or target < 1:
        raise ConfigError(f"the toy needs at least one document and one target document (got {n} and {target})")
    if not 0 <= clean_share <= 1:
        raise ConfigError(f"clean share must be in [0, 1], got {clean_share!r}")
    rng = random.Random(seed)
    n_clean = round(clean_share * n)
    styles = ["clean"] * n_clean + [STYLES[1 + i % 3] for i in range(n - n_clean)]
    rng.shuffle(styles)
    corpus = [{"text": _clean(rng) if s == "clean" else _junk(s, rng), "style": s} for s in styles]
    seen = {c["text"] for c in corpus}
    docs: list[str] = []
    while len(docs) < target:
        d = _clean(rng)
        if d not in seen:
            seen.add(d)
            docs.append(d)
    return TextToy(corpus, docs)


def write_text_toy(toy: TextToy, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    corpus, target = out / "corpus.jsonl", out / "target.txt"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in toy.corpus))
    target.write_text("\n\n".join(toy.target) + "\n")
    return corpus, target


def read_solver_scores(folder: Path) -> tuple[list[str], list[float]]:
    """(texts, PMP scores) of a `solve --corpus` run folder: its scores.jsonl rows ``{index, score}`` joined with
    the corpus its config.yaml names. A missing or broken file, a row of the wrong shape, an index outside the
    corpus, a repeated index or a score that is not a finite number is a DataError naming file and line."""
    import math

    from labkit.core.config import read_yaml
    from labkit.core.errors import ConfigError
    from labkit.core.records import jsonl_with_lines

    path = Path(folder) / "scores.jsonl"
    if not path.is_file():
        raise DataError(f"{path}: not found (run `labkit pds solve --corpus ... --target ...` first)")
    try:
        corpus = read_yaml(Path(folder) / "config.yaml").get("corpus")
    except ConfigError as exc:
        raise DataError(str(exc)) from None
    if not isinstance(corpus, str):
        raise DataError("no corpus path (not a `solve --corpus` run)", path=str(Path(folder) / "config.yaml"),
                        field="corpus")
    docs = read_corpus(Path(corpus))
    texts, scores, seen = [], [], set()
    for line, row in jsonl_with_lines(path):
        index, score = (row.get("index"), row.get("score")) if isinstance(row, dict) else (None, None)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(docs) or index in seen:
            raise DataError(f"must be a new corpus index in 0..{len(docs) - 1}, got {index!r}", path=str(path),
                            line=line, field="index")
        if not isinstance(score, (int, float)) or isinstance(score, bool) or not math.isfinite(score):
            raise DataError(f"must be a finite number, got {score!r}", path=str(path), line=line, field="score")
        seen.add(index)
        texts.append(docs[index]["text"])
        scores.append(float(score))
    if len(texts) < 2:
        raise DataError("fewer than 2 scored documents", path=str(path))
    return texts, scores
