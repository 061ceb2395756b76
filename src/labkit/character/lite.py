"""CharacterJudge-lite: MiniLM features + ridge regression per file, trained in seconds on CPU, and the
word-overlap floor it must beat.

Features of (profile, context, query, reference, reply): the reply's embedding, its elementwise product
with the query's, cosines of the reply with query / reference / profile / recent context, character-
trigram recall of the reference (or profile) in the reply, log length, and whether the reply has a
parenthesised action. Ridge with standardised features; the penalty is chosen by grouped K-fold over
characters inside the training split; predictions are clipped to the rubric scale. Splits are by
character, so no character is in both train and test.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.character.data import Sample

Embed = Callable[[list[str]], np.ndarray]
ALPHAS = (0.1, 1.0, 10.0, 100.0, 1000.0)


def char_ngrams(text: str, n: int = 3) -> set[str]:
    t = re.sub(r"\s+", " ", text.lower()).strip()
    return {t[i:i + n] for i in range(max(len(t) - n + 1, 0))}


def overlap_recall(reference: str, reply: str, n: int = 3) -> float:
    """Share of the reference's character n-grams found in the reply (the lexical floor uses n=3)."""
    ref = char_ngrams(reference, n)
    return len(ref & char_ngrams(reply, n)) / len(ref) if ref else 0.0


def baseline_score(sample: Sample, response: str) -> float:
    """Word-overlap baseline: trigram recall of the reference (or, without one, the profile) in the reply."""
    return overlap_recall(sample.reference or sample.profile[:500], response)


def character_fold(character: str, folds: int) -> int:
    """A stable fold per character (sha256, not Python's salted hash)."""
    return int(hashlib.sha256(character.encode()).hexdigest()[:8], 16) % folds


def split_by_character(samples: list[Sample], test_share: float = 0.2) -> tuple[list[int], list[int]]:
    """Indices of train and test samples; every character falls wholly on one side."""
    folds = round(1 / test_share)
    test = [i for i, s in enumerate(samples) if character_fold(s.character, folds) == 0]
    train = [i for i in range(len(samples)) if character_fold(samples[i].character, folds) != 0]
    return train, test


def features(samples: list[Sample], responses: list[str], embed: Embed) -> np.ndarray:
    """[N, 9] features: four cosines with the reply, three n-gram recalls, log length, action cue."""
    ctx = [" ".join(t.text for t in s.context[-3:]) or s.greeting for s in samples]
    texts = responses + [s.query for s in samples] + [s.reference or "" for s in samples] + \
        [s.profile[:500] for s in samples] + ctx
    vecs = embed(texts)
    n = len(samples)
    r, q, ref, prof, c = (vecs[k * n:(k + 1) * n] for k in range(5))
    has_ref = np.array([[1.0 if s.reference else 0.0] for s in samples])
    scal = np.column_stack([  # [N, 9]
        (r * q).sum(1), (r * ref).sum(1) * has_ref[:, 0], (r * prof).sum(1), (r * c).sum(1),
        [baseline_score(s, x) for s, x in zip(samples, responses, strict=True)],
        [overlap_recall(s.reference or s.profile[:500], x, 1) for s, x in zip(samples, responses, strict=True)],
        [overlap_recall(s.reference or s.profile[:500], x, 2) for s, x in zip(samples, responses, strict=True)],
        [math.log1p(len(x)) for x in responses],
        [1.0 if re.search(r"[(（].+?[)）]", x) else 0.0 for x in responses]])
    return scal


@dataclass
class RidgeModel:
    mean: np.ndarray
    std: np.ndarray
    coef: np.ndarray
    bias: float
    alpha: float
    scale: int

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.clip(((x - self.mean) / self.std) @ self.coef + self.bias, 1, self.scale)


def fit_ridge(x: np.ndarray, y: np.ndarray, groups: list[str], scale: int, folds: int = 5) -> RidgeModel:
    """Standardise, pick alpha by grouped K-fold over characters (scikit-learn's RidgeCV with
    GroupKFold splits, squared error), refit on everything."""
    from sklearn.linear_model import RidgeCV
    from sklearn.model_selection import GroupKFold
    from sklearn.preprocessing import StandardScaler

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    n_groups = len(set(groups))
    cv = list(GroupKFold(n_splits=min(folds, n_groups)).split(z, y, groups)) if n_groups >= 2 else None
    ridge = RidgeCV(alphas=ALPHAS, cv=cv, scoring="neg_mean_squared_error").fit(z, y)
    std = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return RidgeModel(scaler.mean_, std, ridge.coef_, float(ridge.intercept_), float(ridge.alpha_), scale)


def train_lite(samples: list[Sample], embed: Embed, *, folds: int = 5) -> dict[str, Any]:
    """Per file and language: grouped K-fold over characters (no character is in both the training and the
    held-out part of a fold), so every record gets an out-of-fold prediction; correlations of those with gold
    for the lite judge and the word-overlap baseline, and a final model fitted on everything."""
    from labkit.core.metrics import pearson, spearman

    out: dict[str, Any] = {}
    by_file: dict[str, list[Sample]] = {}
    for s in samples:
        if s.gold is not None:
            by_file.setdefault(f"{s.file}/{s.lang}", []).append(s)
    for key, group in by_file.items():
        x = features(group, [s.response for s in group], embed)
        y = np.array([s.gold for s in group], dtype=float)
        chars = [s.character for s in group]
        pred = np.full(len(group), np.nan)
        if len(set(chars)) >= 2:
            from sklearn.model_selection import GroupKFold

            for train, test in GroupKFold(n_splits=min(folds, len(set(chars)))).split(x, y, chars):
                if len(train) >= 2:
                    model = fit_ridge(x[train], y[train], [chars[i] for i in train], group[0].rubric.scale)
                    pred[test] = model.predict(x[test])
        done = ~np.isnan(pred)
        base = np.array([baseline_score(s, s.response) for s in group])
        out[key] = {"train": int(round(done.sum() * (folds - 1) / folds)), "test": int(done.sum()), "folds": folds,
                    "lite_pearson": pearson(y[done], pred[done]), "lite_spearman": spearman(y[done], pred[done]),
                    "overlap_pearson": pearson(y[done], base[done]), "overlap_spearman": spearman(y[done], base[done]),
                    "model": fit_ridge(x, y, chars, group[0].rubric.scale),
                    "test_ids": [s.id for s, d in zip(group, done, strict=True) if d],
                    "test_pred": pred[done].tolist()}
    return out
