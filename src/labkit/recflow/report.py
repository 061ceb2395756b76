"""Markdown for RecFlow runs: which candidates and which metric form each number is, then the numbers.

Recall@K / NDCG@K "(released)" are the released code's form - hits and unnormalised DCG summed over requests,
divided by all positives; "per request" takes the same ratios per request and averages them; "norm." is the
per-request NDCG normalised by the ideal DCG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.core.report import markdown_table


def _f(x: float) -> str:
    return f"{x:.4f}"


def _ranking_block(m: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(where the candidates came from, the Ranking dict) of a ranking-stage evaluation."""
    if "test_table" in m:
        t = m["test_table"]
        return (f"the official test table {Path(t['file']).name} ({t['rows']} rows, "
                f"{t['candidates_per_request']:.0f} candidates per request)", t)
    return "all logged test-day rows (all_stage; labkit's variant, eval.candidates=logged)", m["logged"]["all_stage"]


def ranking_table(rows: list[tuple[str, int, dict[str, Any]]]) -> str:
    """One row per (arm or run, seed) of ranking-stage metrics."""
    where, _ = _ranking_block(rows[0][2])
    out = []
    for label, seed, m in rows:
        r = _ranking_block(m)[1]
        out.append([label, seed, _f(m["auc"]), _f(m["gauc"]), _f(m["logloss"]),
                    *(_f(r["recall"][k]) for k in ("50", "100", "200")), _f(r["ndcg"]["100"]),
                    _f(r["recall_per_request"]["100"]), _f(r["ndcg_normalised"]["100"]), r["requests"],
                    f"{r['skipped_no_positive']} / {r['skipped_all_positive']}"])
    table = markdown_table(["run", "seed", "AUC", "GAUC", "logloss", "R@50 (released)", "R@100 (released)",
                            "R@200 (released)", "NDCG@100 (released)", "R@100 (per request)", "NDCG@100 (norm.)",
                            "requests", "skipped (no / only positives)"], out)
    return (f"AUC, GAUC (by user) and log loss over the test day's exposures; Recall/NDCG@K within each request's "
            f"candidates of {where}.\n\n{table}")


def retrieval_table(m: dict[str, Any]) -> str:
    rows = [[k, _f(m["recall"][k]), _f(m["ndcg"][k]), _f(m["recall_per_request"][k]),
             _f(m["ndcg_normalised"][k])] for k in m["recall"]]
    text = (f"Exact top-K over the exposed corpus ({m['corpus']} videos) for the {m['requests']} requests of "
            f"{Path(m['file']).name} with an effective view ({m['positives']} positives).\n\n" +
            markdown_table(["K", "Recall@K (released)", "NDCG@K (released)", "Recall@K (per request)",
                            "NDCG@K (norm.)"], rows))
    if "truth_recall" in m:
        text += f"\n\nHidden-truth recall (true top-100 in the model's top-100): {m['truth_recall']:.4f}"
    return text


def cascade_table(c: dict[str, Any]) -> str:
    cols = [k for k in c["cascade"]]
    where = "the coarse test table" if c["candidates"] == "official" else "the logged rows that entered coarse ranking"
    return (f"Cascade Recall@k@m on {where} ({c['requests']} requests with an effective view, "
            f"{c['skipped_no_positive']} without one skipped, {c['candidates_per_request']:.0f} candidates each; "
            f"the first keeps {c['m1']}):\n\n" +
            markdown_table(["", *cols], [[n, *(_f(c[n][k]) for k in cols)]
                                         for n in ("cascade", "coarse_alone", "rank_alone")]))
