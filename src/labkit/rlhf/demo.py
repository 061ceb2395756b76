"""RLHF quick demo: a tiny sweep over samples per prompt n (tiny Llama, 2-digit addition, rule reward; GRPO,
REINFORCE at n = 1), one seed (the seed-0 slice of configs/rlhf/study.yaml), its fitted curves and the concavity
check; about a minute on two cores."""

from __future__ import annotations

from pathlib import Path

from labkit.core.config import load_config, to_dict
from labkit.core.report import markdown_table
from labkit.core.runs import open_run
from labkit.rlhf.config import SweepConfig

DEMO = ["base.task_size=2", "base.prompts=256", "base.n=2", "grid={n: [1, 2, 4, 8]}", "seeds=[0]",
        "eval_prompts=200"]


def run_demo(folder: Path) -> str:
    from labkit.rlhf.analysis import analyse, findings, findings_markdown
    from labkit.rlhf.fit import plateau_text
    from labkit.rlhf.method import run_sweep

    cfg = load_config(SweepConfig, overrides=DEMO)
    run = open_run(folder, to_dict(cfg))
    done = run_sweep(cfg, run, progress=False)
    records = sorted((r["value"] for r in done.values() if r.get("ok")), key=lambda r: r["settings"]["n"])
    failed = sum(not r.get("ok") for r in done.values())
    text, axes = analyse(records, folder=folder, n_boot=200)
    found = findings(records)
    run.write_metrics({"points": len(records), "failed_points": failed, "axes": axes, "findings": found})
    run.write_report(f"# RLHF demo sweep\n\n{text}\n\n{findings_markdown(found)}\n")
    rows = [[r["settings"]["n"], r["algorithm"], f"{r['accuracy_before']:.2f}", f"{r['accuracy']:.2f}",
             f"{r['gain']:+.2f} [{r['gain_ci'][0]:+.2f}, {r['gain_ci'][1]:+.2f}]", f"{r['kl_to_ref']:.2f}",
             r["tokens"], f"{r['seconds']:.0f}"] for r in records]
    sat = axes.get("n", {}).get("fits", {}).get("saturating", {})
    p = sat.get("params", {})
    fitted = (f"Saturating fit gain = {p['y_inf']:.3g} - {p['c']:.3g} n^-{p['k']:.3g} (R^2 {sat['r2']:.2f}"
              + (f"; degenerate: {'; '.join(sat['degenerate'])}, so no plateau is read off it" if sat.get("degenerate")
                 else "") + "); " if p else "")
    on_fit = "none claimed" if sat.get("degenerate") else plateau_text(axes.get("n", {}).get("plateau_fit"))
    return "\n".join([
        "## RLHF scaling: accuracy gain against samples per prompt", "",
        f"A tiny Llama ({cfg.base.policy}, character tokenizer, supervised first) trained by RL with the exact-match "
        f"rule reward on 2-digit addition: {cfg.base.prompts} prompts, {cfg.base.epochs} epochs, one seed (a demo, "
        f"not the study: `labkit rlhf sweep --config configs/rlhf/study.yaml` runs 3 seeds and the RM and policy "
        f"axes). Greedy accuracy on {cfg.eval_prompts} held-out prompts; gain with a paired bootstrap 95% CI.", "",
        markdown_table(["n", "algorithm", "SFT acc.", "RL acc.", "gain [95% CI]", "KL to SFT", "gen. tokens", "s"],
                       rows), "",
        f"{fitted}plateau (first n from which a doubling gains < 0.01): "
        f"{on_fit} on the fitted curve, "
        f"{plateau_text(axes.get('n', {}).get('plateau'))} on the means. {failed} point(s) failed.", "",
        findings_markdown(found[:1]), "",
        f"![gain vs n]({folder.name}/gain_vs_n.png)", "",
    ])
