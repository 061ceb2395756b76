"""Model specs as trainable local weights, and the shared LoRA set-up."""

from __future__ import annotations

import pytest

from labkit.core.errors import ConfigError
from labkit.core.models.weights import ATTENTION, local_weights, lora_config


def test_local_weights_takes_a_folder_with_config_and_names_the_role(tmp_path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert local_weights(f"hf:{tmp_path}") == tmp_path
    with pytest.raises(ConfigError, match=r"policy hf:.*no config.json"):
        local_weights(f"hf:{tmp_path / 'missing'}", "policy")
    with pytest.raises(ConfigError, match="the actor must be local weights"):
        local_weights("openai:gpt-4o@http://localhost:8000/v1", "actor")
    with pytest.raises(ConfigError):
        local_weights("mock")


def test_lora_config_defaults_to_attention_and_twice_the_rank() -> None:
    pytest.importorskip("peft")
    cfg = lora_config(8, task_type="CAUSAL_LM")
    assert cfg.r == 8 and cfg.lora_alpha == 16 and cfg.lora_dropout == 0.0
    assert set(cfg.target_modules) == set(ATTENTION)
    assert lora_config(4, 32, dropout=0.05).lora_alpha == 32
