"""The ten labkit systems; a system is available once ``labkit.<name>.cli`` exists.

Each available system's ``cli`` module provides ``app`` (a typer.Typer) and may provide
``demo(folder: Path) -> str``, a quick run on the embedded defaults that writes its plots in
``folder`` and returns a markdown section for ``labkit demo``'s combined report.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

SYSTEMS: dict[str, str] = {
    "hpss": "HPSS: prompting-strategy search for LLM evaluators (arXiv:2502.13031)",
    "prag": "Parametric RAG: documents as LoRA adapters (arXiv:2501.15915)",
    "maps": "MAPS: circuit diagram -> netlist -> simulation -> answer (arXiv:2501.10768)",
    "safety": "Agent-SafetyBench: safety of tool-using agents (arXiv:2412.14470)",
    "character": "CharacterBench: role-play generation and judges (arXiv:2412.11912)",
    "spar": "SPaR: self-play tree-search refinement -> DPO (arXiv:2412.11605)",
    "rlhf": "RLHF scaling study: sweeps and fitted curves (arXiv:2412.06000)",
    "ugc": "Creator competition: equilibrium, U-V trade-off, exploration (arXiv:2410.23683)",
    "recflow": "RecFlow: multi-stage recommendation funnel (arXiv:2410.20868)",
    "pds": "PDS: PMP-based pre-training data selection (arXiv:2410.07064)",
}


def is_available(name: str) -> bool:
    """Whether ``labkit.<name>.cli`` exists."""
    try:
        return importlib.util.find_spec(f"labkit.{name}.cli") is not None
    except ModuleNotFoundError:  # the subpackage itself does not exist yet
        return False


def system_cli(name: str) -> Any:
    """The system's ``cli`` module (its typer ``app`` and ``demo``)."""
    return importlib.import_module(f"labkit.{name}.cli")
