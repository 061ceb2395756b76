"""RecFlow quick demo: a small synthetic funnel in the official layout, validated, its funnel drawn (items per
request at each stage), and DSSM coarse ranking trained on exposures only (bce) against the same with one
unexposed rank_neg per request (sampling), scored on all logged test candidates. About a minute on two cores."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from labkit.core.report import figure, markdown_table, save_figure
from labkit.recflow.data import Funnel
from labkit.recflow.eval import evaluate_ranker
from labkit.recflow.generate import generate
from labkit.recflow.schema import STAGE_FLAGS
from labkit.recflow.train import TrainSettings, train_ranker
from labkit.recflow.validate import validate

USERS, DAYS = 400, 3


def run_demo(folder: Path) -> str:
    root = folder / "funnel"
    counts = generate(root, users=USERS, days=DAYS, seed=0)
    problems = validate(root)
    funnel = Funnel(root)
    t = funnel.day(funnel.days[0])
    n_req = len(np.unique(t["request_id"]))
    per = {f: float(t[f].sum()) / n_req for f in STAGE_FLAGS}
    order = ["prerank_neg", "coarse_neg", "rank_neg", "rank_pos", "rerank_neg", "rerank_pos", "realshow"]
    fig, ax = figure(7, 3.2)
    ax.barh(order[::-1], [per[f] for f in order[::-1]], color="#2a7")
    ax.set_xlabel("items per request (first day)")
    ax.set_title("the logged funnel: where each stage's items end up")
    save_figure(fig, folder, "funnel")
    rows = []
    for strategy in ("bce", "sampling"):
        model = train_ranker(funnel, TrainSettings(strategy=strategy), folder / f"dssm-{strategy}")
        m, logged = (evaluate_ranker(funnel, model, "coarse", candidates=c) for c in ("official", "logged"))
        r = m["test_table"]
        rows.append([strategy, f"{m['auc']:.3f}", f"{m['gauc']:.3f}", f"{r['recall']['50']:.3f}",
                     f"{r['ndcg']['50']:.3f}", f"{logged['logged']['all_stage']['recall']['100']:.3f}"])
    shutil.rmtree(root)  # ~150 MB of pickles (the official format); `labkit recflow generate` writes one to keep
    return "\n".join([
        "## RecFlow: stage samples for coarse ranking", "",
        f"A generated funnel in the official layout: {USERS} users, {DAYS} days (the last one for testing), "
        f"{counts['requests']} requests, {counts['rows']} logged stage rows, {counts['exposures']} exposures; the "
        f"validator finds {len(problems)} problem(s) (the folder is removed after the demo: `labkit recflow generate "
        "--out DIR` writes one to keep).", "", f"![funnel]({folder.name}/funnel.png)", "",
        "DSSM (dim 8, one epoch in day order, one seed) on exposures only against the same plus one unexposed "
        "rank_neg per request; effective views as positives. Recall/NDCG@50 in the released form (sums over "
        "requests / all positives) on the coarse test table (coarse_rank_test.feather: the candidates that "
        "entered coarse ranking plus as many never-logged videos), and Recall@100 over all logged test-day rows "
        "(labkit's variant):", "",
        markdown_table(["strategy", "AUC (exposures)", "GAUC", "Recall@50 coarse table", "NDCG@50 coarse table",
                        "Recall@100 all logged rows"], rows),
        "", "`labkit recflow experiment distribution-shift --data DIR` runs the family with 3 seeds.", ""])
