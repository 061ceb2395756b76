"""Reports for ``labkit ugc``: markdown beside the plots the paper's figures show (Fig. 1, Algorithm 1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.report import figure, markdown_table, save_figure
from labkit.ugc.config import UgcConfig
from labkit.ugc.eval import mean_and_interval, monotonicity, relevance_statistics


def game_line(cfg: UgcConfig) -> str:
    g = cfg.game
    matching = "PPM (softmax over x_i e^{beta sigma_ij})" if g.matching == "ppm" else \
        f"slate of K={g.slate_k} drawn without replacement from x_i e^{{beta sigma_ij}}"
    return (f"Game: matching {matching}; cost c_i x^{g.cost_power:g}; user utility "
            f"{'expected relevance' if g.utility == 'relevance' else 'E[max sigma + Gumbel]'}. "
            "(The paper's exact forms were not published; these are labkit's reconstruction (README, UGC).)")


def histograms(folder: Path, name: str, series: list[tuple[str, np.ndarray]], xlabel: str) -> str:
    fig, ax = figure(6, 3.5)
    for label, values in series:
        ax.hist(values, bins=30, alpha=0.5, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    return save_figure(fig, folder, name)


def equilibrium_report(cfg: UgcConfig, folder: Path, env_source: str, summary: dict[str, Any],
                       x: np.ndarray, pi: np.ndarray) -> str:
    xs = histograms(folder, "creator_frequencies", [(f"beta={cfg.beta:g}", x)], "production frequency x*_i")
    ps = histograms(folder, "user_utilities", [(f"beta={cfg.beta:g}", pi)], "user utility pi*_j")
    rows = [[k, v] for k, v in summary.items()]
    return (f"# UGC equilibrium\n\n{env_source}, beta = {cfg.beta:g}.\n\n{game_line(cfg)}\n\n"
            f"{markdown_table(['quantity', 'value'], rows)}\n"
            "Exploitability is the largest gain any creator gets by deviating alone, found by a grid + "
            f"Brent search over its payoff (not the solver's own condition).\n\n![x]({xs})\n\n![pi]({ps})\n")


def sweep_report(cfg: UgcConfig, folder: Path, results: dict[int, list[dict[str, Any]]]) -> tuple[str, dict[str, Any]]:
    from labkit.ugc.method import sweep_arrays

    betas, u, v = sweep_arrays(results)
    um, uh = mean_and_interval(u)
    vm, vh = mean_and_interval(v)
    fig, (ax1, ax2) = figure(9, 3.5, ncols=2)
    ax1.errorbar(betas, um, yerr=uh, marker="o", capsize=3)
    ax1.set_xlabel("beta")
    ax1.set_ylabel("user satisfaction U")
    ax2.errorbar(betas, vm, yerr=vh, marker="o", capsize=3, color="C1")
    ax2.set_xlabel("beta")
    ax2.set_ylabel("content volume V")
    uv = save_figure(fig, folder, "u_v_vs_beta")
    first = next(iter(results.values()))
    shown = [r for r in first if "x" in r]
    picks = shown[:: max(1, len(shown) // 3)] if shown else []
    xs = histograms(folder, "creator_frequencies", [(f"beta={r['beta']:g}", np.array(r["x"])) for r in picks],
                    "production frequency x*_i") if picks else None
    ps = histograms(folder, "user_utilities", [(f"beta={r['beta']:g}", np.array(r["pi"])) for r in picks],
                    "user utility pi*_j") if picks and picks[0].get("pi") is not None else None
    mono = monotonicity(u, v)
    worst_gain = max((r["exploitability"] or 0.0) for rows in results.values() for r in rows)
    max_iters = max(r["iterations"] for rows in results.values() for r in rows)
    metrics = {"betas": betas.tolist(), "U_mean": um.tolist(), "U_ci95": uh.tolist(), "V_mean": vm.tolist(),
               "V_ci95": vh.tolist(), "environments": len(results),
               "U_increasing_all": all(mono.u_increasing), "V_decreasing_all": all(mono.v_decreasing),
               "U_increasing_count": sum(mono.u_increasing), "V_decreasing_count": sum(mono.v_decreasing),
               "max_exploitability": worst_gain, "max_iterations": max_iters}
    rows = [[f"{b:g}", um[k], uh[k], vm[k], vh[k]] for k, b in enumerate(betas)]
    text = (f"# UGC sweep: U and V against beta\n\n{len(results)} environments ({cfg.env.source}, "
            f"n={cfg.env.n}, m={cfg.env.m}, d={cfg.env.d} when synthetic).\n\n{game_line(cfg)}\n\n"
            + markdown_table(["beta", "U mean", "U ±95%", "V mean", "V ±95%"], rows)
            + f"\nTrade-off audit: U strictly increases in {sum(mono.u_increasing)}/{len(results)} environments, "
            f"V strictly decreases in {sum(mono.v_decreasing)}/{len(results)}. Largest exploitability of any "
            f"equilibrium: {worst_gain:.2g}; most best-response iterations: {max_iters}.\n\n"
            f"Error bars: 95% normal interval of the mean over environments.\n\n![U and V]({uv})\n")
    if xs:
        text += f"\nFirst environment, equilibria at several beta:\n\n![x]({xs})\n"
    if ps:
        text += f"\n![pi]({ps})\n"
    return text, metrics


def optimize_report(cfg: UgcConfig, folder: Path, result: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    lam = cfg.optim.lam
    best = result["best_grid"]
    fig, ax = figure(6, 3.5)
    for name in ("global", "per_user"):
        if name in result:
            hist = result[name]["history"]
            ax.plot([h["iteration"] for h in hist], [h["W"] for h in hist], marker=".",
                    label="one global beta" if name == "global" else "beta per user")
    ax.axhline(best["W"], color="grey", ls="--", label=f"best grid beta={best['beta']:g}")
    ax.set_xlabel("projected gradient iteration")
    ax.set_ylabel(f"W = U + {lam:g} V")
    ax.legend(fontsize=8)
    plots = [save_figure(fig, folder, "welfare_iterations")]
    metrics = {"lambda": lam, "grid_best_beta": best["beta"], "grid_best_W": best["W"],
               "global_beta": result["global"]["beta"], "global_W": result["global"]["W"]}
    rows = [["best grid beta", f"{best['beta']:g}", best["W"], best["U"], best["V"]],
            ["global beta, ascent", f"{result['global']['beta']:.4g}", result["global"]["W"],
             result["global"]["U"], result["global"]["V"]]]
    if "per_user" in result:
        betas = np.load(folder / "betas.npz")["beta"]
        mean, std = relevance_statistics(result["env"].relevance)
        fig, (a1, a2) = figure(9, 3.5, ncols=2)
        a1.scatter(mean, betas, s=6)
        a1.set_xlabel("user's mean relevance")
        a1.set_ylabel("optimal beta_j")
        a2.scatter(std, betas, s=6, color="C1")
        a2.set_xlabel("user's std of relevance")
        plots.append(save_figure(fig, folder, "beta_vs_relevance"))
        pu = result["per_user"]
        rows.append(["beta per user, ascent", f"mean {np.mean(betas):.3g} ± {np.std(betas):.3g}", pu["W"],
                     pu["U"], pu["V"]])
        gain = pu["W"] - best["W"]
        metrics |= {"per_user_W": pu["W"], "per_user_gain_over_grid": gain,
                    "per_user_gain_percent": 100 * gain / abs(best["W"]),
                    "per_user_gain_over_global": pu["W"] - result["global"]["W"],
                    "corr_beta_mean_relevance": float(np.corrcoef(mean, betas)[0, 1]) if np.std(betas) > 0 else None,
                    "corr_beta_std_relevance": float(np.corrcoef(std, betas)[0, 1]) if np.std(betas) > 0 else None}
    text = (f"# UGC optimisation of beta (lambda = {lam:g})\n\n{result['env'].source}.\n\n{game_line(cfg)}\n\n"
            + markdown_table(["policy", "beta", "W", "U", "V"], rows)
            + "\nGradients: implicit-function theorem on the active creators' first-order conditions "
            f"({cfg.optim.gradient}); beta in [{cfg.optim.beta_min:g}, {cfg.optim.beta_max:g}].\n\n"
            + "\n\n".join(f"![plot]({p})" for p in plots) + "\n")
    if "per_user_gain_percent" in metrics:
        text += (f"\nPer-user beta gains {metrics['per_user_gain_over_grid']:.4g} in W "
                 f"({metrics['per_user_gain_percent']:.3g}%) over the best grid beta and "
                 f"{metrics['per_user_gain_over_global']:.4g} over the best global beta found by ascent.\n")
    return text, metrics


def frontier_report(cfg: UgcConfig, folder: Path, result: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    curve, points = result["curve"], result["points"]
    fig, ax = figure(6, 4.5)
    sc = ax.scatter([c["V"] for c in curve], [c["U"] for c in curve], c=[c["beta"] for c in curve], s=12,
                    cmap="viridis")
    fig.colorbar(sc, ax=ax, label="global beta")
    ax.plot([p["V"] for p in points], [p["U"] for p in points], "r-o", ms=5, label="W-optimal global beta")
    labels: dict[tuple[float, float], list[str]] = {}
    for p in points:  # one label per distinct point: several lambdas often share the boundary optimum
        labels.setdefault((round(p["V"], 3), round(p["U"], 3)), []).append(f"{p['lambda']:g}")
    for (v, u), lams in labels.items():
        beta = next(p["beta"] for p in points if (round(p["V"], 3), round(p["U"], 3)) == (v, u))
        ax.annotate(f"λ={','.join(lams)}: β={beta:.3g}", (v, u), fontsize=7, xytext=(4, 4),
                    textcoords="offset points")
    if any("per_user" in p for p in points):
        ax.plot([p["per_user"]["V"] for p in points], [p["per_user"]["U"] for p in points], "k^--", ms=5,
                label="W-optimal beta per user")
    ax.set_xlabel("content volume V")
    ax.set_ylabel("user satisfaction U")
    ax.legend(fontsize=8)
    plot = save_figure(fig, folder, "frontier")
    rows = [[f"{p['lambda']:g}", p["beta"], p["U"], p["V"], p["W"]]
            + ([p["per_user"]["W"]] if "per_user" in p else []) for p in points]
    headers = ["lambda", "recommended beta", "U", "V", "W"] + (["W per-user beta"] if rows and len(rows[0]) > 5 else [])
    text = (f"# UGC U-V frontier\n\n{result['env'].source}.\n\n{game_line(cfg)}\n\n"
            + markdown_table(headers, rows) + f"\n![frontier]({plot})\n")
    return text, {"points": points}
