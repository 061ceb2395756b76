"""Tiny policies for the CPU-scale study: a character-level tokenizer and small Llamas built from
``transformers.LlamaConfig`` (two sizes), supervised on the task's compact prompts before RL. The SFT
policy is an artifact keyed by everything it was trained on (content hash) and built once."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError
from labkit.rlhf.tasks import make_prompts

CHARS = "0123456789+= abcdefghijklmnopqrstuvwxyz"
SIZES = {"tiny-llama-s": {"hidden_size": 64, "intermediate_size": 192, "num_hidden_layers": 2,
                          "num_attention_heads": 4},
         "tiny-llama-m": {"hidden_size": 128, "intermediate_size": 384, "num_hidden_layers": 4,
                          "num_attention_heads": 4}}


@dataclass(frozen=True)
class SftSettings:
    policy: str
    task: str
    task_size: int
    seed: int
    steps: int = 700  # 2-digit addition: ~28% greedy accuracy for tiny-llama-s, room for RL to improve
    lr: float = 3e-3
    batch: int = 64
    examples: int = 3000

    def key(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()[:16]


def char_tokenizer() -> Any:
    """A character-level fast tokenizer (pad 0, bos 1, eos 2, unk 3), left padding for generation."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 3}
    for ch in CHARS:
        vocab.setdefault(ch, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(pattern="", behavior="isolated")
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, bos_token="<bos>", eos_token="<eos>", pad_token="<pad>",
                                  unk_token="<unk>")
    tok.padding_side = "left"
    return tok


def tiny_llama(name: str, vocab_size: int, seed: int) -> Any:
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    if name not in SIZES:
        raise ConfigError(f"policy must be one of {', '.join(SIZES)} on CPU (got {name!r})")
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=vocab_size, max_position_embeddings=64, num_key_value_heads=4, bos_token_id=1,
                      eos_token_id=2, pad_token_id=0, tie_word_embeddings=True, **SIZES[name])
    return LlamaForCausalLM(cfg)


def sft_policy(settings: SftSettings, root: Path) -> Path:
    """The supervised starting policy: trained once per settings key, saved with its tokenizer."""
    import torch

    folder = Path(root) / f"sft-{settings.key()}"
    if (folder / "config.json").exists():
        return folder
    tok = char_tokenizer()
    model = tiny_llama(settings.policy, len(tok), settings.seed)
    data = make_prompts(settings.task, "train", settings.examples, size=settings.task_size, seed=settings.seed)
    rng = random.Random(settings.seed)
    optim = torch.optim.AdamW(model.parameters(), lr=settings.lr)
    model.train()
    for _ in range(settings.steps):  # batch of (prompt + answer + eos), loss on every non-pad token
        batch = rng.sample(data, min(settings.batch, len(data)))
        enc = tok([p.compact + p.answer + "<eos>" for p in batch], return_tensors="pt", padding=True)
        labels = enc.input_ids.clone()
        labels[enc.attention_mask == 0] = -100
        loss = model(**enc, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
    tmp = folder.with_suffix(".tmp")
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    tmp.replace(folder)  # whole or nothing: a killed build is rebuilt
    return folder


def load_policy(folder: Path) -> tuple[Any, Any]:
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast.from_pretrained(str(folder))
    tok.padding_side = "left"
    return LlamaForCausalLM.from_pretrained(str(folder)), tok
