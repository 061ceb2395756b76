"""A LoRA judge on the embedded SmolLM2 with score-constrained output (CharacterJudge recipe, scaled down).

CharacterJudge is a pointwise SFT of a 7B model on prompt -> bare score. Here: LoRA (r 8) on the attention
projections of SmolLM2-135M, one adapter for every file (the rubric is in the prompt), trained on the
training characters with the loss restricted to the score tokens: log-softmax over the logits of "1".."K"
at the answer position, negative log-likelihood of the human score. Prediction = expected score over the
same K tokens. Written out: AdamW, linear warm-up, gradient clipping.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from labkit.character.data import Sample
from labkit.character.lite import split_by_character
from labkit.character.prompts import judge_prompt
from labkit.core.errors import require
from labkit.core.models.weights import local_weights, lora_config

SYSTEM = "You are a careful, consistent evaluator of role-play replies."


def load_trainable(rank: int = 8, alpha: int = 16, seed: int = 0) -> tuple[Any, Any]:
    """A fresh SmolLM2 (own copy, not the shared chat model) with LoRA on q/k/v/o."""
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    peft = require("peft", "train")

    torch.manual_seed(seed)
    path = str(local_weights("smollm2"))
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    return peft.get_peft_model(model, lora_config(rank, alpha, task_type="CAUSAL_LM")), tokenizer


def encode(tokenizer: Any, sample: Sample, *, max_profile_chars: int = 600, max_turns: int = 4) -> list[int]:
    conv = [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": judge_prompt(sample, sample.response, sample.rubric,
                                                     max_profile_chars=max_profile_chars, max_turns=max_turns)}]
    text = tokenizer.apply_chat_template(conv, add_generation_prompt=True, tokenize=False)
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def score_token_ids(tokenizer: Any, scale: int) -> list[int]:
    ids = [tokenizer(str(k), add_special_tokens=False)["input_ids"] for k in range(1, scale + 1)]
    if any(len(i) != 1 for i in ids):
        raise ValueError("score digits must be single tokens")
    return [i[0] for i in ids]


def score_logits(model: Any, ids: list[int], digits: list[int]) -> Any:
    """Logits of the K score tokens at the answer position: shape [K]."""
    torch = require("torch", "hf")
    out = model(input_ids=torch.tensor([ids]))
    return out.logits[0, -1, digits]


def expected_scores(model: Any, tokenizer: Any, samples: list[Sample]) -> list[float]:
    torch = require("torch", "hf")
    model.eval()
    preds = []
    with torch.inference_mode():
        for s in samples:
            probs = torch.softmax(score_logits(model, encode(tokenizer, s), score_token_ids(tokenizer, s.rubric.scale))
                                  .float(), dim=-1)
            preds.append(float((probs * torch.arange(1, len(probs) + 1)).sum()))
    return preds


def train_steps(model: Any, tokenizer: Any, train: list[Sample], *, steps: int, lr: float = 2e-4,
                seed: int = 0) -> list[float]:
    """``steps`` AdamW updates, one record each (shuffled, cycled); returns the losses."""
    torch = require("torch", "hf")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min(1.0, (step + 1) / warmup))
    order = list(range(len(train)))
    random.Random(seed).shuffle(order)
    encoded: dict[int, list[int]] = {}
    losses = []
    model.train()
    for step in range(steps):
        i = order[step % len(order)]
        sample = train[i]
        ids = encoded.setdefault(i, encode(tokenizer, sample))
        logits = score_logits(model, ids, score_token_ids(tokenizer, sample.rubric.scale))
        loss = torch.nn.functional.cross_entropy(logits[None].float(), torch.tensor([sample.gold - 1]))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    return losses


def train_lora_judge(samples: list[Sample], *, steps: int = 200, folder: Path | None = None,
                     test_share_folds: int = 5) -> dict[str, Any]:
    """One adapter for all files; held-out characters (fold 0) scored per file and language."""
    scored = [s for s in samples if s.gold is not None]
    train_ix, test_ix = split_by_character(scored, 1 / test_share_folds)
    train, test = [scored[i] for i in train_ix], [scored[i] for i in test_ix]
    model, tokenizer = load_trainable()
    losses = train_steps(model, tokenizer, train, steps=steps)
    if folder is not None:
        model.save_pretrained(str(Path(folder) / "lora_judge"))
    preds = expected_scores(model, tokenizer, test)
    out: dict[str, Any] = {}
    for s, p in zip(test, preds, strict=True):
        cell = out.setdefault(f"{s.file}/{s.lang}", {"train": sum(t.file == s.file and t.lang == s.lang for t in train),
                                                    "test": 0, "test_ids": [], "test_pred": []})
        cell["test"] += 1
        cell["test_ids"].append(s.id)
        cell["test_pred"].append(p)
    for cell in out.values():
        cell["losses_first_last"] = [losses[0], losses[-1]] if losses else []
    return out
