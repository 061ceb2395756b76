"""PDS's reports: the noisy-label toy (score histogram, areas by subset), the proxy LM's scores of a corpus
(``scores.jsonl``, histogram, per-style table) and the selected-vs-random pre-training comparison."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.report import figure, markdown_table, save_figure
from labkit.pds.config import PdsConfig


def toy_report(cfg: PdsConfig, folder: Path) -> tuple[str, dict[str, Any]]:
    from labkit.pds.method import solve_toy

    out = solve_toy(cfg)
    s, clean = np.array(out.pop("scores")), np.array(out.pop("clean"))
    fig, ax = figure()
    bins = np.linspace(s.min(), s.max(), 40)
    ax.hist(s[clean], bins=bins, alpha=0.6, label=f"clean ({clean.sum()})")
    ax.hist(s[~clean], bins=bins, alpha=0.6, label=f"flipped ({(~clean).sum()})")
    ax.set_xlabel("PMP score (-dA/dgamma_n)")
    ax.set_ylabel("examples")
    ax.legend()
    png = save_figure(fig, folder, "scores_clean_vs_flipped")
    pct = f"{cfg.r:.0%}"
    rows = [["all data", f"{out['area_all']:.1f}"], [f"top {pct} by score", f"{out['area_top']:.1f}"],
            [f"Gumbel-top {pct} (tau {cfg.tau:g})", f"{out['area_gumbel']:.1f}"],
            [f"random {pct} ({cfg.random_seeds} seeds)", f"{np.mean(out['area_random']):.1f} "
             f"(min {min(out['area_random']):.1f})"]]
    lines = [f"Mode {cfg.mode}; {out['n']} examples, {out['flipped']} labels flipped. Clean vs flipped AUROC of the "
             f"scores: {out['auroc']:.3f}; the top {pct} keeps {out['flipped_kept_top']} flipped examples.", "",
             "Area under the target loss over the T steps (lower is better):", "",
             markdown_table(["training data", "area"], rows), "", f"![scores]({png})", ""]
    if cfg.mode == "exact":
        lines.insert(2, "Outer loop areas: " + " -> ".join(f"{a:.1f}" for a in out["outer_areas"]) +
                     f" (gamma sums to {out['gamma_sum']:.12f}, min {out['gamma_min']:.2e}); scores shown and "
                     f"selected on: {out['score_source']}; AUROC of the final gamma {out['auroc_gamma']:.3f}.\n")
    return "\n".join(lines), out


def write_lm_scores(cfg: PdsConfig, corpus: Path, target: Path, run: Any, docs: list[dict[str, Any]],
             tgt: list[str]) -> str:
    from labkit.pds.method import solve_lm

    out = solve_lm(cfg, [d["text"] for d in docs], tgt)
    idx, s = out["indices"], np.array(out["scores"])
    gamma = out.get("gamma") or [None] * len(idx)
    (run.dir / "scores.jsonl").write_text("".join(
        json.dumps({"index": i, "score": float(v), **({"gamma": g} if g is not None else {})}) + "\n"
        for i, v, g in zip(idx, s, gamma, strict=True)))
    run.write_metrics({k: v for k, v in out.items() if k not in ("scores", "indices", "gamma")})
    fig, ax = figure()
    ax.hist(s, bins=40)
    ax.set_xlabel("PMP score")
    ax.set_ylabel("documents")
    png = save_figure(fig, run.dir, "scores")
    styles = [docs[i].get("style") for i in idx]
    text = "\n".join([
        f"PMP scores of {len(idx)} proxy documents of {corpus} ({len(docs)} in all): proxy {cfg.lm.proxy} "
        f"({out['parameters']} trained parameters), {cfg.lm.steps} steps at eta {cfg.lm.eta}, J = mean token loss "
        f"on {min(cfg.lm.target_n, len(tgt))} documents of {target}; the tiny proxy warmed up for "
        f"{out['warmup_steps']} plain steps first; mode {cfg.mode}{', cosine' if cfg.cosine else ''}. Scores: "
        f"{out['score_source']} (raw; `fit-scorer` z-scores and clips them to [-3, 3]).", "",
        style_table([str(x) for x in styles], s) if all(x is not None for x in styles) else "", "",
        f"![scores]({png})", "", f"Next: `labkit pds fit-scorer --scores {run.dir}`.", ""])
    run.write_report(f"# PDS proxy scores\n\n{text}")
    return text


def pretrain_report(res: dict[str, Any], folder: Path) -> str:
    fig, ax = figure()
    for r in res["runs"]:
        ax.plot(r["tokens"], r["losses"], color="#2a7" if r["subset"] == "selected" else "#999",
                label=f"{r['subset']} (seed {r['seed']})")
    ax.set_xlabel("training tokens")
    ax.set_ylabel("target loss (nats / token)")
    ax.set_ylim(top=min(max(max(r["losses"][1:]) for r in res["runs"]) * 1.2, res["runs"][0]["losses"][0]))
    ax.legend()
    png = save_figure(fig, folder, "target_loss")
    rows = [[r["subset"], r["seed"], r["blocks"], r["tokens"][-1], f"{r['losses'][-1]:.3f}", f"{r['area']:.3f}",
             ", ".join(f"{k} {v}" for k, v in sorted(r["styles"].items()))] for r in res["runs"]]
    speed = ", ".join("never reached" if s is None else f"x{s:.2f}" for s in res["speedup"])
    return "\n".join([
        f"Tiny LM trained from scratch on the selected {res['documents']} documents and on random subsets of the same "
        f"size, at equal tokens; target loss on {res['target']}.", "",
        markdown_table(["subset", "seed", "blocks available", "tokens trained", "final target loss",
                        "mean target loss (area)", "styles"], rows), "",
        f"Mean area: selected {res['area_selected']:.3f}, random {res['area_random']:.3f}. Tokens to reach random's "
        f"final loss, random / selected: {speed}.", "", f"![target loss]({png})", ""])


def style_table(styles: list[str], scores: np.ndarray) -> str:
    """Mean and median score per style, and the clean-vs-rest AUROC when a 'clean' style exists."""
    from sklearn.metrics import roc_auc_score

    st = np.array(styles)
    rows = [[s, int((st == s).sum()), f"{scores[st == s].mean():.4g}", f"{np.median(scores[st == s]):.4g}"]
            for s in sorted(set(styles))]
    text = markdown_table(["style", "documents", "mean score", "median score"], rows)
    if "clean" in st and len(set(styles)) > 1:
        text += f"\n\nClean vs the rest AUROC: {roc_auc_score(st == 'clean', scores):.3f}."
    return text
