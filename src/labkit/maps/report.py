"""Reports for ``labkit maps eval``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.core.report import figure, markdown_table, save_figure
from labkit.maps.config import MapsConfig


def eval_report(cfg: MapsConfig, folder: Path, result: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    table = result["table"]
    fig, ax = figure(5, 3)
    methods = list(table)
    ax.bar(methods, [table[m]["problem_accuracy"] for m in methods], color=["C0", "C1", "C2"][: len(methods)])
    ax.set_ylim(0, 1)
    ax.set_ylabel("problem accuracy (all slots right)")
    plot = save_figure(fig, folder, "accuracy")
    rows = [[m, table[m]["problems"], table[m]["problem_accuracy"], table[m]["slots"], table[m]["slot_accuracy"],
             table[m]["failed_calls"]] for m in methods]
    units = sorted({u for m in methods for u in table[m]["per_unit"]})
    unit_rows = [[m] + [f"{table[m]['per_unit'][u]['accuracy']:.3f} ({table[m]['per_unit'][u]['n']})"
                        if u in table[m]["per_unit"] else "" for u in units] for m in methods]
    text = (f"# MAPS evaluation\n\nData `{cfg.data}`: {result['problems']} problems, {result['with_netlist']} with a "
            f"netlist for the oracle perception. Reasoner `{cfg.solve.reasoner}`, perception `{cfg.solve.ppm}`. "
            f"Judge: relative error <= {cfg.rtol:g} (absolute {cfg.atol:g} for a zero gold), units must agree, a "
            "problem counts only when all its slots are right.\n\n"
            + markdown_table(["method", "problems", "accuracy", "slots", "slot accuracy", "failed calls"], rows)
            + "\nSlot accuracy per unit:\n\n" + markdown_table(["method"] + units, unit_rows)
            + f"\n![accuracy]({plot})\n")
    if cfg.solve.reasoner == "smollm2":
        text += ("\nThe embedded SmolLM2-135M is a text-only 135M model: its own answers are near chance; MAPS's "
                 "accuracy here comes from reading simulated measurements.\n")
    return text, {"table": table, "problems": result["problems"], "with_netlist": result["with_netlist"]}
