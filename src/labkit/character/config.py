"""CharacterBench settings with the paper's defaults (arXiv:2412.11912 Sec. 4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class JudgeConfig:
    model: str = option("smollm2", "Judge spec (faithful: openai:thu-coai/CharacterJudge@<vLLM url>; the paper "
                        "compares GPT-4)")
    mode: Literal["auto", "generate", "expected"] = option(
        "auto", "auto: expected score over score-token probabilities where the backend has log-probs, else parse "
        "the generated integer")
    samples: int = option(1, "Self-consistency: mean of n sampled scores (temperature 0.7, seeded); 1 = greedy", ge=1)
    use_reference: bool = option(True, "Show the rubric's reference to the judge (paper: yes)")
    context: Literal["auto", "keep", "drop"] = option(
        "auto", "Dialogue in the judge prompt: as the original judge per file (auto), always, never")
    max_tokens: int = option(8, "New tokens per judge reply (the answer is one integer; paper: 512)", ge=1)
    max_profile_chars: int | None = option(None, "Cut profiles to N characters (None: whole; small local models "
                                           "need ~1500)", ge=1)
    max_turns: int | None = option(None, "Keep only the last N dialogue turns (None: all)", ge=1)


@dataclass
class GenerateConfig:
    model: str = option("smollm2", "Role-play model spec (paper: 13+ systems through their APIs)")
    max_tokens: int = option(96, "New tokens per reply", ge=1)
    format: Literal["json", "text"] = option(
        "json", "Reply format: json {\"response\": ...} (paper), or text (the first line, for small models that "
        "cannot keep to JSON)")
    retries: int = option(2, "Extra seeded attempts (temperature 0.7) after a reply that is not valid JSON", ge=0)
    max_profile_chars: int | None = option(None, "Cut profiles to N characters (None: whole)", ge=1)
    max_turns: int | None = option(None, "Keep only the last N dialogue turns (None: all)", ge=1)


@dataclass
class CharacterConfig:
    data: str | None = option(None, "Folder with the upstream *_test.json files (default: "
                              "$LABKIT_DATA_DIR/characterbench)")
    files: list[str] = option([], "Only these files / dimensions (empty: every file present)")
    langs: list[str] = option(["zh"], "Languages: zh (original), en (translation_en)")
    limit: int | None = option(None, "At most N records per file and language (first N)", ge=1)
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    generate: GenerateConfig = field(default_factory=GenerateConfig)
    workers: int = option(8, "Records in flight at once (batched on local models)", ge=1)
    n_boot: int = option(1000, "Bootstrap resamples for the correlation CIs (0: no intervals)", ge=0)
