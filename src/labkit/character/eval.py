"""CharacterBench scoring (arXiv:2412.11912 Sec. 4-5): judge meta-evaluation and model scores.

Meta-evaluation: per file and language, Pearson / Spearman / Kendall tau-b, exact match and
quadratic-weighted kappa between judge scores and the human ``gold``, with percentile-bootstrap CIs.
Scores: a record's score normalised by the **rubric** maximum (x5, the paper's 5-point presentation),
averaged per file, then per dimension (attribute and behaviour consistency have two files each), per
aspect, sparse vs dense, and overall with equal weight per dimension; the upstream formula
(mean / largest gold observed in the file x 5, equal weight per file) is reported beside it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from labkit.character.rubrics import ASPECTS, RUBRICS
from labkit.core.metrics import CORRELATIONS, bootstrap_ci


def quadratic_weighted_kappa(gold: Sequence[float], pred: Sequence[float], low: int, high: int) -> float:
    """Cohen's kappa with quadratic weights over the integer scale low..high (predictions rounded and
    clipped to it): scikit-learn's cohen_kappa_score; NaN where it is undefined (one category only)."""
    import warnings

    from sklearn.metrics import cohen_kappa_score

    a = np.clip(np.rint(np.asarray(gold, dtype=float)), low, high).astype(int)
    b = np.clip(np.rint(np.asarray(pred, dtype=float)), low, high).astype(int)
    if len(a) == 0:
        return float("nan")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(a, b, labels=list(range(low, high + 1)), weights="quadratic"))


def agreement_row(gold: Sequence[float], pred: Sequence[float], scale: int, *, n_boot: int = 1000,
                  seed: int = 0) -> dict[str, Any]:
    """Every agreement statistic of one (file, language, judge) cell, with bootstrap CIs."""
    g, p = np.asarray(gold, dtype=float), np.asarray(pred, dtype=float)
    row: dict[str, Any] = {"n": len(g)}
    for name, fn in CORRELATIONS.items():
        if n_boot:
            ci = bootstrap_ci(fn, g, p, n_boot=n_boot, seed=seed)
            row[name], row[f"{name}_ci"] = ci.value, [ci.low, ci.high]
        else:
            row[name] = fn(g, p)
    row["exact"] = float(np.mean(np.rint(p) == g)) if len(g) else math.nan
    row["qwk"] = quadratic_weighted_kappa(g, p, 1, scale)
    row["mean_gold"] = float(g.mean()) if len(g) else math.nan
    row["mean_pred"] = float(p.mean()) if len(p) else math.nan
    return row


def normalised(score: float, scale: int) -> float:
    """A score on 1..scale shown on the paper's 5-point presentation: score / scale x 5."""
    return score / scale * 5


def model_scores(records: list[dict[str, Any]], file_max: dict[str, float] | None = None) -> dict[str, Any]:
    """Scores of one system from ``[{file, score, gold?}]`` (valid scores only).

    Returns per-file rubric-normalised means, per dimension, aspect, sparse/dense, overall (equal weight
    per dimension), and the upstream formula (mean / max gold seen in the file x 5, equal weight per file).
    """
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_file[r["file"]].append(r)
    files = {f: float(np.mean([normalised(r["score"], RUBRICS[f].scale) for r in rs])) for f, rs in by_file.items()}
    by_dim: dict[str, list[float]] = defaultdict(list)
    for f, v in files.items():
        by_dim[RUBRICS[f].dimension].append(v)
    dims = {d: float(np.mean(v)) for d, v in by_dim.items()}
    dim_rubric = {RUBRICS[f].dimension: RUBRICS[f] for f in files}
    aspects = {a: float(np.mean([v for d, v in dims.items() if dim_rubric[d].aspect == a]))
               for a in ASPECTS if any(dim_rubric[d].aspect == a for d in dims)}
    kinds = {k: float(np.mean([v for d, v in dims.items() if dim_rubric[d].sparse == (k == "sparse")]))
             for k in ("sparse", "dense") if any(dim_rubric[d].sparse == (k == "sparse") for d in dims)}
    file_max = file_max or gold_max(records)
    upstream = {f: float(np.mean([r["score"] for r in rs])) / file_max.get(f, RUBRICS[f].scale) * 5
                for f, rs in by_file.items()}
    return {"files": files, "dimensions": dims, "aspects": aspects, "kinds": kinds,
            "overall": float(np.mean(list(dims.values()))) if dims else math.nan,
            "upstream_files": upstream,
            "upstream_overall": float(np.mean(list(upstream.values()))) if upstream else math.nan,
            "records": len(records)}


def gold_max(records: list[dict[str, Any]]) -> dict[str, float]:
    """The largest human score seen per file (upstream's normaliser), over every system's records."""
    out: dict[str, float] = {}
    for r in records:
        if r.get("gold") is not None:
            out[r["file"]] = max(out.get(r["file"], 0.0), float(r["gold"]))
    return out


def leaderboard(records: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Systems ranked by overall score (ties by name); ``records`` carry ``model``. The upstream formula's
    normaliser is the largest gold of the file over all records, as upstream."""
    by_model: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        by_model[r["model"]].append(r)
    top = gold_max(records)
    table = [(m, model_scores(rs, top)) for m, rs in by_model.items()]
    return sorted(table, key=lambda t: (-t[1]["overall"], t[0]))
