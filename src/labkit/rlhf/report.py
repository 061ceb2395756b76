"""An RLHF sweep run's report: each of the paper's findings with its verdict, then the fitted curves
(``report.md`` and ``metrics.json`` in the run folder)."""

from __future__ import annotations

from pathlib import Path

from labkit.core.runs import resume_run
from labkit.rlhf.analysis import analyse, findings, findings_markdown
from labkit.rlhf.data import read_run


def sweep_report(folder: Path) -> str:
    """Write the run's report and metrics from its records; return the curves and findings as text."""
    records, failed = read_run(folder)
    text, metrics = analyse(records, folder=folder)
    found = findings(records)
    said = findings_markdown(found)
    run = resume_run(folder)
    run.write_metrics({"points": len(records), "failed_points": failed, "axes": metrics, "findings": found})
    run.write_report(f"# RLHF sweep\n\n{len(records)} points ({failed} failed).\n\n## The paper's findings on this "
                     f"run\n\n{said}\n\n## Fitted curves\n\n{text}")
    return f"{text}\n{said}"
