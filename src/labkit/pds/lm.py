"""Language-model proxies for the PMP solver and the pre-training comparison.

- ``tiny_lm``: a small Llama from ``transformers.LlamaConfig`` over byte tokens (eager attention, so that
  ``torch.func`` transforms go through it);
- ``lm_problem``: the solver's ``Problem`` for a causal LM: the flat vector of the trainable parameters (all, or
  those whose names match a regex - for SmolLM2, a few layers), per-document mean next-token losses as one
  batched ``functional_call``, the target J = mean token loss over the target documents;
- ``pretrain``: AdamW on packed blocks (equal blocks = equal tokens), the target loss every ``eval_every``
  steps, the area under that curve.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch.func import functional_call

from labkit.core.errors import ConfigError
from labkit.core.models.weights import local_weights
from labkit.pds.data import PAD, VOCAB
from labkit.pds.solver import Problem

SIZES = {  # CPU-sized; "xs" is the solver's proxy, "s" the pre-training model
    "xs": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2},
    "s": {"hidden_size": 64, "intermediate_size": 192, "num_hidden_layers": 3, "num_attention_heads": 4},
}


def tiny_lm(size: str = "xs", seed: int = 0, max_len: int = 128) -> Any:
    from transformers import LlamaConfig, LlamaForCausalLM

    if size not in SIZES:
        raise ConfigError(f"tiny LM size must be one of {', '.join(SIZES)} (got {size!r})")
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=VOCAB, max_position_embeddings=max_len, num_key_value_heads=SIZES[size][
        "num_attention_heads"], pad_token_id=PAD, tie_word_embeddings=True, attn_implementation="eager",
        **SIZES[size])
    return LlamaForCausalLM(cfg).eval()  # eval: no dropout; gradients still flow


@dataclass
class Flat:
    """Trainable parameters of a module as one flat vector, and the way back to named tensors."""

    names: list[str]
    shapes: list[torch.Size]
    theta0: torch.Tensor
    sizes: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.sizes = [int(torch.Size(s).numel()) for s in self.shapes]

    def unflatten(self, theta: torch.Tensor) -> dict[str, torch.Tensor]:
        return {n: t.view(s) for n, t, s in zip(self.names, torch.split(theta, self.sizes), self.shapes,
                                                 strict=True)}


def flat_params(model: Any, trainable: str | None = None, dtype: torch.dtype = torch.float32) -> Flat:
    named = [(n, p) for n, p in model.named_parameters() if trainable is None or re.search(trainable, n)]
    if not named:
        raise ConfigError(f"no parameter name matches {trainable!r}")
    return Flat([n for n, _ in named], [p.shape for _, p in named],
                torch.cat([p.detach().reshape(-1) for _, p in named]).to(dtype))


def token_losses(model: Any, params: dict[str, torch.Tensor], ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean next-token loss of every sequence (padding excluded), (N,). Padding is on the right, so under the
    causal mask no real token sees a pad: no attention mask is passed (building one is most of the cost of a
    tiny model's forward under torch.func transforms)."""
    logits = functional_call(model, params, (ids,), {"use_cache": False}).logits
    nll = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1), reduction="none")
    m = mask[:, 1:].to(nll.dtype)
    return (nll.view(m.shape) * m).sum(1) / m.sum(1).clamp_min(1)


def lm_problem(model: Any, data: tuple[torch.Tensor, torch.Tensor], target: tuple[torch.Tensor, torch.Tensor],
               *, eta: float, steps: int, trainable: str | None = None, chunk: int | None = 64
               ) -> tuple[Problem, Flat]:
    flat = flat_params(model, trainable)
    model.requires_grad_(False)  # torch.func differentiates theta only; frozen weights need no autograd graph

    def batch_loss(theta: torch.Tensor, d: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return token_losses(model, flat.unflatten(theta), *d)

    def example_loss(theta: torch.Tensor, x: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        return batch_loss(theta, (x[0][None], x[1][None]))[0]

    def target_loss(theta: torch.Tensor) -> torch.Tensor:
        return batch_loss(theta, target).mean()

    return Problem(example_loss, target_loss, data, flat.theta0, eta, steps, batch_loss=batch_loss,
                   chunk=chunk), flat


@dataclass
class Curve:
    steps: list[int]
    tokens: list[int]
    losses: list[float]

    @property
    def area(self) -> float:
        """Mean target loss over the evaluation points (the area under the curve per point)."""
        return float(sum(self.losses) / len(self.losses))


def target_loss(model: Any, target: tuple[torch.Tensor, torch.Tensor]) -> float:
    with torch.no_grad():
        return float(token_losses(model, dict(model.named_parameters()), *target).mean())


def train_blocks(model: Any, blocks: torch.Tensor, *, steps: int, batch: int, lr: float, seed: int,
                 every: int = 0, on_eval: Any = None) -> None:
    """AdamW on ``steps`` batches of packed blocks (cycling, seeded order); ``on_eval(step)`` every ``every`` steps
    and after the last."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    g = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(blocks), generator=g)
    ones = torch.ones_like(blocks[:1])
    at = 0
    for step in range(1, steps + 1):
        if at + batch > len(order):
            order, at = torch.randperm(len(blocks), generator=g), 0
        x = blocks[order[at:at + batch]]
        at += batch
        loss = token_losses(model, dict(model.named_parameters()), x, ones.expand_as(x)).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if on_eval is not None and (step % every == 0 or step == steps):
            on_eval(step)


def pretrain(blocks: torch.Tensor, target: tuple[torch.Tensor, torch.Tensor], *, size: str = "s", steps: int = 300,
             batch: int = 16, lr: float = 3e-3, eval_every: int = 25, seed: int = 0) -> Curve:
    """Train a fresh ``tiny_lm(size, seed)`` on ``steps`` batches of packed blocks (cycling, seeded order)."""
    model = tiny_lm(size, seed, max_len=max(blocks.shape[1], target[0].shape[1]))
    curve = Curve([0], [0], [target_loss(model, target)])

    def record(step: int) -> None:
        curve.steps.append(step)
        curve.tokens.append(step * batch * blocks.shape[1])
        curve.losses.append(target_loss(model, target))

    train_blocks(model, blocks, steps=steps, batch=batch, lr=lr, seed=seed, every=eval_every, on_eval=record)
    return curve


def warm_start(model: Any, texts: list[str], *, steps: int, seq_len: int, batch: int = 16, lr: float = 3e-3,
               seed: int = 0) -> int:
    """A few hundred plain steps on corpus text before the PMP window (the paper's proxy is its baseline LM
    part-way through pre-training, not a random network); returns the steps taken (0 if the text is too short)."""
    from labkit.pds.data import packed_blocks

    blocks = packed_blocks(texts, seq_len)
    if steps <= 0 or len(blocks) == 0:
        return 0
    model.train()
    train_blocks(model, blocks, steps=steps, batch=min(batch, len(blocks)), lr=lr, seed=seed)
    model.eval()
    return steps


def tokens_to_reach(curve: Curve, level: float) -> int | None:
    """Tokens at the first evaluation whose target loss is at or below ``level`` (None if never)."""
    return next((t for t, loss in zip(curve.tokens, curve.losses, strict=True) if loss <= level), None)


Encode = Any  # (texts, length) -> (ids, mask)


def proxy_model(spec: str, seed: int = 0, max_len: int = 128) -> tuple[Any, Encode]:
    """The proxy LM and its encoder: ``xs``/``s`` (tiny Llama over bytes), ``smollm2``, ``hf:<dir>``."""
    from labkit.pds.data import byte_tokens

    if spec in SIZES:
        return tiny_lm(spec, seed, max_len), byte_tokens
    if not spec.startswith(("smollm2", "hf:")):
        raise ConfigError(f"proxy must be one of {', '.join(SIZES)}, smollm2 or hf:<dir> (got {spec!r})")
    folder = local_weights(spec, "proxy")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    tok.padding_side = "right"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32, attn_implementation="eager").eval()

    def encode(texts: list[str], length: int) -> tuple[torch.Tensor, torch.Tensor]:
        enc = tok(texts, max_length=length, truncation=True, padding="max_length", return_tensors="pt")
        return enc["input_ids"], enc["attention_mask"]

    return model, encode
