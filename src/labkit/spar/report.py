"""SPaR's reports: IFEval (the four accuracies, what was not scored, per-type accuracies with a plot, the first
failing instructions) and the iterations (M_t vs M_{t+1}, the pairs, DPO and the refiner's RFT)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.core.report import figure, markdown_table, save_figure
from labkit.spar.ifeval import Matched


def ifeval_report(metrics: dict[str, Any], matched: Matched, folder: Path, decoding: str) -> str:
    """Markdown: the table, what was not scored, per-type accuracies (plot) and the first failures."""
    head = markdown_table(["prompt strict", "inst. strict", "prompt loose", "inst. loose", "average",
                           "strict mean"], [[f"{metrics[k]:.1f}" for k in ("prompt_strict", "inst_strict",
                                                                            "prompt_loose", "inst_loose",
                                                                            "average", "strict_mean")]])
    unscored = [f"{len(matched.unknown)} response(s) whose prompt is not in IFEval" +
                (f" (first: line {matched.unknown[0][0]}: {matched.unknown[0][1][:60]!r})" if matched.unknown else ""),
                f"{len(matched.duplicates)} second response(s) to a prompt (the first one is scored)",
                f"{matched.missing} IFEval prompt(s) without a response",
                f"{len(metrics.get('score_failed', []))} response(s) whose scoring raised" +
                (f" (first: {metrics['score_failed'][0][:120]})" if metrics.get("score_failed") else "")]
    per = metrics["per_type"]
    fig, ax = figure(height=max(3.0, 0.28 * len(per)))
    names = list(per)
    ax.barh(names, [per[n]["strict"] for n in names], label="strict")
    ax.barh(names, [per[n]["loose"] - per[n]["strict"] for n in names], left=[per[n]["strict"] for n in names],
            label="loose only", alpha=0.5)
    ax.set_xlabel("accuracy (%)")
    ax.legend()
    png = save_figure(fig, folder, "ifeval_per_type")
    rows = [[n, per[n]["n"], f"{per[n]['strict']:.1f}", f"{per[n]['loose']:.1f}"] for n in names]
    fails = [[f["key"], f["instruction"], "yes" if f["loose_ok"] else "no"] for f in metrics["failing"][:30]]
    return "\n".join([
        "# IFEval", "", f"{metrics['prompts']} prompts, {metrics['instructions']} instructions; {decoding}.", "",
        head, "", "Not scored: " + "; ".join(unscored) + ".", "", "## Per instruction type", "",
        markdown_table(["instruction", "n", "strict", "loose"], rows), "", f"![per type]({png})", "",
        f"## Failing instructions (strict; first 30 of {len(metrics['failing'])})", "",
        markdown_table(["key", "instruction", "loose ok"], fails) if fails else "none", ""])


def iterate_report(summaries: list[dict[str, Any]]) -> str:
    def acc(e: dict[str, Any], k: str) -> str:
        v = e.get("ifeval", {}).get(k)
        return "-" if v is None else f"{v:.1f}"

    rows = []
    for s in summaries:
        for tag in ("before", "after"):
            e = s[tag]
            rows.append([s["iteration"], tag, e["model"][-40:], "-" if e["held_out_pass"] is None else
                         f"{e['held_out_pass']:.1f}", acc(e, "prompt_strict"), acc(e, "inst_strict"),
                         acc(e, "average")])
    lines = ["# SPaR iterations", "",
             markdown_table(["iteration", "", "model", "held-out pass %", "IFEval P(S)", "IFEval I(S)", "IFEval avg"],
                            rows), ""]
    for s in summaries:
        if s.get("note"):
            lines.append(f"- iteration {s['iteration']}: {s['note']}")
            continue
        tr = s["train"]
        lines.append(f"- iteration {s['iteration']}: {s['prompts']} prompts, {s['responses']} labelled samples "
                     f"({s['sample_pass']:.1f}% pass; {s.get('undecided', 0)} dropped: tied or unparseable votes), "
                     f"{s['prompts_with_failure']} prompts with a failure, "
                     f"{s['pairs']} {s['pair_source']} pairs (similarity {s['pair_similarity']:.2f}); DPO loss "
                     f"{tr['before']['loss']:.3f} -> {tr['after']['loss']:.3f}, margin {tr['before']['margin']:.3f} "
                     f"-> {tr['after']['margin']:.3f} ({tr['seconds']:.0f} s); refiner RFT rows "
                     f"{s.get('rft_rows') or 'none'}" + _refiner_line(s.get("refiner_train")))
    return "\n".join(lines) + "\n"


def _refiner_line(rec: dict | None) -> str:
    if not rec:
        return " (refiner not trained: no later iteration uses it)"
    if "note" in rec:
        return f" ({rec['note']})"
    return (f"; refiner RFT on {rec['rows']} rows, completion loss {rec['loss_before']:.3f} -> "
            f"{rec['loss_after']:.3f} ({rec['seconds']:.0f} s)")
