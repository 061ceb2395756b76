"""PRAG settings with the paper's defaults (arXiv:2501.15915 Sec. 4 and the released configs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from labkit.core.config import option


@dataclass
class TrainSettings:
    rank: int = option(2, "LoRA rank on gate/up/down_proj (paper: 2)")
    alpha: float = option(32.0, "LoRA alpha (paper: 32, scaling 16)")
    lr: float = option(3e-4, "AdamW learning rate (paper: 3e-4; the embedded 135M model needs ~3e-3, see README)")
    epochs: int = option(1, "Epochs over the 5 augmented sequences (paper: 1; 2 for PopQA)")
    loss: Literal["full", "answer"] = option("full", "Loss on the full sequence (paper Eq. 5) or the answer only")
    init_seed: int = option(0, "Seed of the one shared LoRA initialisation")


@dataclass
class PragConfig:
    model: str = option("smollm2", "Generator: smollm2 (embedded) or hf:<local path> (paper: LLaMA-3.2-1B, "
                        "Qwen2.5-1.5B, LLaMA-3-8B)")
    augmenter: str = option("same", "Augmentation model: same (the generator), template (fictional corpus only), "
                            "or a spec such as openai:M@URL (JSON-reliable)")
    augmented: str | None = option(None, "JSONL of ready augmentations {id, text, rewrite, qa} (with augmenter "
                                   "template); a passage missing from it is an error naming the file and id")
    train: TrainSettings = field(default_factory=TrainSettings)
    index: str = option("runs/prag/index", "Index folder written by `labkit prag index`")
    store: str = option("runs/prag/adapters", "Adapter store folder")
    top_k: int = option(3, "Passages retrieved per question (paper: 3)", ge=1)
    dense: bool = option(False, "Dense MiniLM retrieval instead of BM25 (paper: BM25)")
    merge: Literal["sum", "mean", "weighted", "softmax"] = option(
        "sum", "Combine retrieved adapters: sum (paper Eq. 6), mean, weighted by normalised retrieval scores, or "
        "softmax of the scores (weights sum to 1)")
    merge_temperature: float = option(1.0, "Temperature of the softmax merge, in retrieval-score units", gt=0)
    missing: Literal["encode", "report"] = option("encode", "A retrieved document without an adapter: encode it "
                                                  "now, or answer without it and report it")
    max_new_tokens: int = option(20, "Answer length (paper: 20 direct, 128 CoT)", ge=1)
    modes: list[str] = option(["none", "rag", "prag", "combine"], "Modes compared by eval")
    max_questions: int | None = option(None, "Evaluate the first N questions (paper: 300 per sub-type)", ge=1)
    data: str | None = option(None, "QA file `prag eval` scores (2WQA dev.json, HotpotQA, popQA.tsv, CWQ, or "
                              "{question, answer} JSON/JSONL)")
    cot: bool = option(True, "Take the answer after 'the answer is' before the original cut at . , newline (every "
                       "mode is told to answer that way)")
    retries: int = option(5, "Augmentation retries per passage", ge=0)
