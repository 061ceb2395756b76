"""Per-axis curves of a sweep run: gain over the SFT policy against each numeric axis (seeds as separate
points, the base points at the base value), fitted in both forms with bootstrap CIs, the plateau on the
per-x means, a table and a plot per axis."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.report import figure, markdown_table, save_figure
from labkit.rlhf.data import AXES as NUMERIC_AXES
from labkit.rlhf.fit import fit_curve, plateau, plateau_text


def axis_series(records: list[dict[str, Any]], axis: str, metric: str = "gain") -> tuple[np.ndarray, np.ndarray]:
    """(x, y) points of the records that vary ``axis`` or are the base point."""
    rows = [r for r in records if r["axis"] in (axis, None)]
    return (np.array([float(r["settings"][axis]) for r in rows]), np.array([float(r[metric]) for r in rows]))


def analyse(records: list[dict[str, Any]], *, epsilon: float = 0.01, n_boot: int = 1000,
            folder: Path | None = None) -> tuple[str, dict[str, Any]]:
    """Markdown and metrics for every numeric axis the sweep varied."""
    axes = sorted({r["axis"] for r in records if r["axis"] and r["axis"] in NUMERIC_AXES})
    text, out = [], {}
    for axis in axes:
        x, y = axis_series(records, axis)
        means: dict[float, list[float]] = defaultdict(list)
        for xi, yi in zip(x, y, strict=True):
            means[float(xi)].append(float(yi))
        mean = {k: float(np.mean(v)) for k, v in sorted(means.items())}
        row: dict[str, Any] = {"points": len(x), "means": mean, "seeds_per_x": {k: len(v) for k, v in means.items()},
                               "plateau": plateau(list(mean), epsilon, means=mean), "plateau_fit": None, "fits": {}}
        for form in ("log", "saturating"):
            try:
                fit = fit_curve(x, y, form, n_boot=n_boot)
            except (ValueError, RuntimeError) as exc:  # too few distinct x, or no convergence: said, not hidden
                row["fits"][form] = {"error": str(exc)}
                continue
            row["fits"][form] = {"params": fit.params, "ci": fit.ci, "r2": fit.r2, "failed_refits": fit.failed_refits,
                                 "degenerate": fit.degenerate}
            if form == "saturating" and not fit.degenerate:  # the fitted curve smooths the seeds' noise out
                row["plateau_fit"] = plateau(list(mean), epsilon, fit=fit)
        out[axis] = row
        lines = [[f"{k:g}", f"{v:+.3f}", row["seeds_per_x"][k]] for k, v in mean.items()]
        sat = row["fits"].get("saturating", {})
        on_fit = (f"none claimed (the saturating fit is degenerate: {'; '.join(sat['degenerate'])})"
                  if sat.get("degenerate") else f"{plateau_text(row['plateau_fit'])} on the fitted saturating curve")
        text += [f"### Gain over SFT vs {axis}", "", markdown_table([axis, "mean gain", "seeds"], lines), "",
                 f"Plateau (first {axis} from which a doubling gains < {epsilon}): {on_fit}, "
                 f"{plateau_text(row['plateau'])} on the means", ""]
        for form, fit in row["fits"].items():
            if "error" in fit:
                text.append(f"- {form}: not fitted ({fit['error']})")
                continue
            params = ", ".join(f"{k} {v:.4g} [{fit['ci'].get(k, (math.nan, math.nan))[0]:.3g}, "
                               f"{fit['ci'].get(k, (math.nan, math.nan))[1]:.3g}]" for k, v in fit["params"].items())
            flag = f" - **degenerate** ({'; '.join(fit['degenerate'])})" if fit["degenerate"] else ""
            text.append(f"- {form}: {params}; R^2 {fit['r2']:.3f}{flag}")
        text.append("")
        if folder is not None:
            text.append(f"![gain vs {axis}]({plot_axis(folder, axis, x, y, row)})")
            text.append("")
    for axis in sorted({r["axis"] for r in records if r["axis"] and r["axis"] not in NUMERIC_AXES}):
        out[axis], table = level_table(records, axis)
        text += [f"### {axis}", "", table, ""]
    return "\n".join(text), out


def level_table(records: list[dict[str, Any]], axis: str) -> tuple[dict[str, Any], str]:
    """A categorical axis (reward model, policy, algorithm, task): per level the mean accuracy before and after,
    the gain (mean and SD over seeds), the KL to the SFT policy and, for learned RMs, their held-out quality."""
    levels: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for r in records:
        if r["axis"] in (axis, None):
            levels[r["settings"][axis]].append(r)
    out, rows = {}, []
    for level, rs in levels.items():
        gains = [float(r["gain"]) for r in rs]
        row = {"seeds": len(rs), "accuracy_before": float(np.mean([r["accuracy_before"] for r in rs])),
               "accuracy": float(np.mean([r["accuracy"] for r in rs])), "gain": float(np.mean(gains)),
               "gain_sd": float(np.std(gains, ddof=1)) if len(gains) > 1 else math.nan,
               "kl_to_ref": float(np.mean([r.get("kl_to_ref", math.nan) for r in rs])),
               **{k: rs[0][k] for k in ("rm_pairwise", "rm_best_of_n", "best_of_n_random", "best_of_n_oracle")
                  if k in rs[0]}}
        out[str(level)] = row
        rm = (f"{row['rm_pairwise']:.2f} / {row['rm_best_of_n']:.2f} (random {row['best_of_n_random']:.2f}, oracle "
              f"{row['best_of_n_oracle']:.2f})" if "rm_pairwise" in row else "-")
        rows.append([level, row["seeds"], f"{row['accuracy_before']:.3f}", f"{row['accuracy']:.3f}",
                     f"{row['gain']:+.3f} +- {row['gain_sd']:.3f}", f"{row['kl_to_ref']:.2f}", rm])
    return out, markdown_table([axis, "seeds", "SFT acc.", "RL acc.", "gain +- SD", "KL to SFT",
                                "RM pairwise / best-of-8"], rows)


def plot_axis(folder: Path, axis: str, x: np.ndarray, y: np.ndarray, row: dict[str, Any]) -> str:
    from labkit.rlhf.fit import CURVES

    fig, ax = figure()
    ax.scatter(x, y, s=12, alpha=0.6, label="points (seeds)")
    grid = np.geomspace(max(float(x.min()), 1e-9), float(x.max()), 100)
    for form, fit in row["fits"].items():
        if "params" in fit:
            ax.plot(grid, CURVES[form](grid, *fit["params"].values()), label=form)
    ax.set_xscale("log", base=2)
    ax.set_xlabel(axis)
    ax.set_ylabel("accuracy gain over SFT")
    ax.legend()
    return save_figure(fig, folder, f"gain_vs_{axis}")


def level_gains(records: list[dict[str, Any]], axis: str) -> dict[Any, list[float]]:
    """Gains per value of ``axis`` (the points that vary it and the base points)."""
    out: dict[Any, list[float]] = defaultdict(list)
    for r in records:
        if r["axis"] in (axis, None):
            out[r["settings"][axis]].append(float(r["gain"]))
    return out


def finding(text: str, consistent: bool | None, evidence: str, *, tested: bool = True, **extra: Any) -> dict[str, Any]:
    """One finding's row: ``verdict`` is consistent / inconsistent / inconclusive (tested, the data cannot tell) /
    not tested (the run lacks the points)."""
    verdict = ("not tested" if not tested else "inconclusive" if consistent is None else
               "consistent" if consistent else "inconsistent")
    return {"finding": text, "consistent": consistent, "verdict": verdict, "evidence": evidence, **extra}


MARGIN = 0.02  # accuracy: a difference smaller than this is "no worse" (non-inferiority margin)


def _compare(better: list[float], worse: list[float]) -> tuple[bool | None, str]:
    """'``better`` is no worse than ``worse``' (non-inferiority with MARGIN) from the seeds: consistent when the
    95% interval of the mean difference (normal, Welch SE) lies above -MARGIN, inconsistent when it lies below
    -MARGIN, inconclusive otherwise or with fewer than two seeds on a side (no spread to judge by)."""
    diff = float(np.mean(better) - np.mean(worse))
    seeds = f"{len(better)} vs {len(worse)} seeds"
    if min(len(better), len(worse)) < 2:
        return None, f"difference {diff:+.3f} ({seeds}: needs >= 2 seeds each)"
    half = 1.96 * math.sqrt(sum(float(np.var(v, ddof=1)) / len(v) for v in (better, worse)))
    verdict = True if diff - half > -MARGIN else False if diff + half < -MARGIN else None
    return verdict, f"difference {diff:+.3f} [{diff - half:+.3f}, {diff + half:+.3f}] ({seeds}; margin {MARGIN})"


def concavity(records: list[dict[str, Any]], *, n_boot: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Does the gain per doubling of n fall? Within the algorithm most n >= 2 points use (n = 1 runs REINFORCE, so
    it is left out): the slope per doubling over the first grid interval minus that over the last, with a
    percentile bootstrap over seeds (resampled within each n). Consistent when the 95% interval is above 0,
    inconsistent when below, inconclusive otherwise. A pure log curve has a difference of 0."""
    text = "the gain per doubling of samples per prompt n falls (faster than log)"
    rows = [r for r in records if r["axis"] in ("n", None)]
    algorithms = [r.get("algorithm", "") for r in rows if r["settings"]["n"] >= 2]
    algorithm = max(set(algorithms), key=algorithms.count) if algorithms else None
    by_n: dict[float, list[float]] = defaultdict(list)
    for r in rows:
        if r.get("algorithm", "") == algorithm and r["settings"]["n"] >= 2:
            by_n[float(r["settings"]["n"])].append(float(r["gain"]))
    ns = sorted(by_n)
    if len(ns) < 3:
        return finding(text, None, f"needs >= 3 values of n >= 2 with one algorithm (run has {ns})", tested=False)
    if min(len(by_n[x]) for x in ns) < 2:
        return finding(text, None, f"needs >= 2 seeds at every n (run has {[len(by_n[x]) for x in ns]})")
    (a, b), (c, d) = (ns[0], ns[1]), (ns[-2], ns[-1])

    def statistic(m: dict[float, Any]) -> Any:
        return (m[b] - m[a]) / math.log2(b / a) - (m[d] - m[c]) / math.log2(d / c)

    rng = np.random.default_rng(seed)
    point = float(statistic({x: float(np.mean(v)) for x, v in by_n.items()}))
    draws = statistic({x: np.asarray(v)[rng.integers(0, len(v), (n_boot, len(v)))].mean(axis=1)
                       for x, v in by_n.items()})  # every resample at once: (n_boot,) per n
    lo, hi = (float(q) for q in np.quantile(draws, [0.025, 0.975]))
    verdict = True if lo > 0 else False if hi < 0 else None
    return finding(text, verdict, f"{algorithm}: slope per doubling {a:g}->{b:g} minus {c:g}->{d:g} = {point:+.3f} "
                   f"[{lo:+.3f}, {hi:+.3f}] (bootstrap over seeds)", statistic=point, ci=[lo, hi], algorithm=algorithm)


def findings(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The paper's qualitative findings (arXiv:2412.06000), each consistent / inconsistent / inconclusive / not tested
    on this run: never "consistent" unless the seeds' spread allows it."""
    out = [concavity(records)]
    for axis, small, big, text in (("reward", "rm-s", "rm-m", "a bigger reward model does not hurt"),
                                   ("policy", "tiny-llama-s", "tiny-llama-m",
                                    "the larger policy gains no more than the smaller one")):
        g = level_gains(records, axis)
        if small not in g or big not in g:
            out.append(finding(text, None, f"needs {axis} {small} and {big}", tested=False))
            continue
        first, second = (big, small) if axis == "reward" else (small, big)
        ok, evidence = _compare(g[first], g[second])
        out.append(finding(text, ok, f"{first} vs {second}: {evidence}"))
    return out


def findings_markdown(rows: list[dict[str, Any]]) -> str:
    return markdown_table(["paper's finding", "this run", "evidence"],
                          [[r["finding"], r["verdict"], r["evidence"]] for r in rows])
