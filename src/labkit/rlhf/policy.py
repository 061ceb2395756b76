"""Policies for the CPU-scale study: a character-level tokenizer and small Llamas built from
``transformers.LlamaConfig`` (two sizes), supervised on the task's compact prompts before RL - the SFT
policy is an artifact keyed by everything it was trained on (content hash) and built once - or the converted
embedded SmolLM2 / a local HF model, prompted through its chat template."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError
from labkit.core.files import publish, temp_folder
from labkit.core.models.weights import local_weights
from labkit.rlhf.export import MAX_COMPLETION_TOKENS
from labkit.rlhf.tasks import Prompt, make_prompts

CHARS = "0123456789+= abcdefghijklmnopqrstuvwxyz"
SIZES = {"tiny-llama-s": {"hidden_size": 64, "intermediate_size": 192, "num_hidden_layers": 2,
                          "num_attention_heads": 4},
         "tiny-llama-m": {"hidden_size": 128, "intermediate_size": 384, "num_hidden_layers": 4,
                          "num_attention_heads": 4}}


# SFT recipe per size (2-digit addition, 200 held-out prompts): tiny-llama-s 32.5% greedy accuracy, tiny-llama-m
# 66% - both leave room for RL; the larger model needs a lower rate (at 3e-3 it stays under 10%)
SFT_RECIPES = {"tiny-llama-s": {"steps": 700, "lr": 3e-3}, "tiny-llama-m": {"steps": 1000, "lr": 1e-3}}


@dataclass(frozen=True)
class SftSettings:
    policy: str
    task: str
    task_size: int
    seed: int
    steps: int = 700
    lr: float = 3e-3
    batch: int = 64
    examples: int = 3000

    @classmethod
    def recipe(cls, policy: str, task: str, task_size: int, seed: int) -> SftSettings:
        """The settings a policy size is supervised with (SFT_RECIPES), part of the artifact's key."""
        return cls(policy, task, task_size, seed, **SFT_RECIPES.get(policy, {}))

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
    tmp = temp_folder(folder)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    return publish(tmp, folder)


def policy_folder(settings: SftSettings, root: Path) -> Path:
    """The starting policy: a tiny Llama after SFT (built once), the converted embedded SmolLM2-135M-Instruct
    (``smollm2``: instruct-tuned already, no SFT), or a local Hugging Face folder (``hf:<path>``)."""
    if settings.policy == "smollm2" or settings.policy.startswith("hf:"):
        return local_weights(settings.policy, "policy")
    return sft_policy(settings, root)


def load_policy(folder: Path) -> tuple[Any, Any]:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return AutoModelForCausalLM.from_pretrained(str(folder)), tok


def is_chat(tok: Any) -> bool:
    return bool(getattr(tok, "chat_template", None))


def render(tok: Any, prompts: list[Prompt]) -> list[str]:
    """What the policy reads: the compact question for character-level policies, the instruction in the chat
    template (generation prompt added) for chat models."""
    if not is_chat(tok):
        return [p.compact for p in prompts]
    return [tok.apply_chat_template([{"role": "user", "content": p.text}], tokenize=False, add_generation_prompt=True)
            for p in prompts]


def max_answer_tokens(tok: Any) -> int:
    """Answer budget: a character per token for the tiny policies, a few subword tokens for chat models."""
    return 16 if is_chat(tok) else MAX_COMPLETION_TOKENS


def sample(model: Any, tok: Any, prompts: list[str], k: int = 1, *, temperature: float = 1.0, seed: int = 0,
           max_new_tokens: int | None = None, batch_size: int = 256) -> list[list[str]]:
    """``k`` sampled completions per prompt (greedy when ``temperature`` is 0), batched across prompts;
    generation stops at the policy's eos."""
    import torch

    torch.manual_seed(seed)
    out: list[list[str]] = []
    rows = [p for p in prompts for _ in range(k)]
    texts: list[str] = []
    for i in range(0, len(rows), batch_size):
        enc = tok(rows[i:i + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            gen = model.generate(**enc, max_new_tokens=max_new_tokens or max_answer_tokens(tok),
                                 **({"do_sample": True, "temperature": temperature, "top_k": 0, "top_p": 1.0}
                                    if temperature > 0 else {"do_sample": False}),
                                 pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id)
        texts += tok.batch_decode(gen[:, enc.input_ids.shape[1]:], skip_special_tokens=True)
    for j in range(len(prompts)):
        out.append(texts[j * k:(j + 1) * k])
    return out
