"""Model specs as trainable local weights, and the shared LoRA set-up.

Model specs as local weights a trainer can change, and the LoRA set-up the trainers share (SPaR's DPO/RFT,
CharacterBench's LoRA judge, MAPS's perception model).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError, require

ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")  # Llama-style attention projections


def local_weights(spec: str, role: str = "model") -> Path:
    """The local Hugging Face folder of a trainable model spec.

    ``smollm2`` (the embedded GGUF, converted once) or
    ``hf:<dir>`` (a folder with ``config.json``). An endpoint or the mock is a ConfigError naming ``role``.
    """
    kind, _, arg = spec.partition(":")
    if spec == "smollm2":
        from labkit.core.models.smollm2 import ensure_converted

        return ensure_converted()
    if kind == "hf" and arg:
        folder = Path(arg).expanduser()
        if (folder / "config.json").exists():
            return folder
        raise ConfigError(f"{role} {spec}: no config.json in {folder} (local Hugging Face weights are needed here)")
    raise ConfigError(f"the {role} must be local weights (smollm2 or hf:<dir>), got {spec!r}")


def lora_config(rank: int, alpha: float | None = None, *, dropout: float = 0.0, targets: Sequence[str] = ATTENTION,
                **extra: Any) -> Any:
    """``peft.LoraConfig`` on ``targets`` (attention by default), alpha = 2 x rank unless given."""
    peft = require("peft", "train")
    return peft.LoraConfig(r=rank, lora_alpha=2 * rank if alpha is None else alpha, lora_dropout=dropout,
                           target_modules=list(targets), **extra)
