"""Document adapters: LoRA on the FFN projections, applied as a side path or merged into the weights
(arXiv:2501.15915 Eq. 6: the retrieved documents' deltas are summed, Delta W = sum_i (alpha/r) B_i A_i).

An adapter is a plain ``{"layers.{l}.mlp.{gate,up,down}_proj.{A,B}": tensor}`` dict (A: (r, in),
B: (out, r)), saved as safetensors. ``merge`` adds the (weighted) sum of deltas to the base weights as
one low-rank product per module, [B_1 .. B_k] diag(w) [A_1; ..; A_k] (k r columns, in a fixed order
sorted by adapter name, so the result does not depend on the retrieval order), rounded once into the
weight; ``unmerge`` restores the original weights, bit for bit, from one pristine copy kept per model
(made at the first merge), so a question costs no weight-sized allocation.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

FFN = ("gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LoraSpec:
    rank: int = 2  # paper: r = 2
    alpha: float = 32.0  # paper: lora_alpha = 32 (scaling 16)

    @property
    def scaling(self) -> float:
        return self.alpha / self.rank


def ffn_modules(model: Any) -> dict[str, Any]:
    """``layers.{l}.mlp.{name}`` -> the nn.Linear, for a LLaMA-style decoder (SmolLM2, Llama, Qwen2)."""
    base = getattr(model, "model", model)
    layers = getattr(base, "layers", None)
    if layers is None:
        raise ValueError("PRAG needs a decoder with model.layers[i].mlp.{gate,up,down}_proj")
    return {f"layers.{i}.mlp.{name}": getattr(layer.mlp, name) for i, layer in enumerate(layers) for name in FFN}


def parameter_count(model: Any, spec: LoraSpec) -> int:
    """3 * layers * r * (hidden + intermediate) for LLaMA-style FFNs (380,160 for SmolLM2-135M at r = 2)."""
    return sum(spec.rank * (m.in_features + m.out_features) for m in ffn_modules(model).values())


def init_adapter(model: Any, spec: LoraSpec, seed: int = 0) -> dict[str, Any]:
    """The shared initialisation: A ~ kaiming-uniform(a=sqrt(5)) as PEFT does, B = 0 (so the delta is 0)."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, module in ffn_modules(model).items():
        bound = 1.0 / math.sqrt(module.in_features)  # kaiming_uniform_(a=sqrt(5)) bound
        out[f"{key}.A"] = (torch.rand(spec.rank, module.in_features, generator=gen) * 2 - 1) * bound
        out[f"{key}.B"] = torch.zeros(module.out_features, spec.rank)
    return out


def delta(adapter: dict[str, Any], key: str, spec: LoraSpec) -> Any:
    return spec.scaling * adapter[f"{key}.B"].double() @ adapter[f"{key}.A"].double()


_PRISTINE: dict[int, tuple[Any, dict[str, Any]]] = {}  # id(model) -> (weak reference, FFN weights before merges)


def pristine(model: Any) -> dict[str, Any]:
    """The model's original FFN weights, copied once (PRAG never trains the base weights). Checked against a
    weak reference, so a new model that reuses a freed model's id never gets the old model's weights."""
    import weakref

    held = _PRISTINE.get(id(model))
    if held is None or held[0]() is not model:
        for key in [k for k, (ref, _) in _PRISTINE.items() if ref() is None]:
            del _PRISTINE[key]  # models that no longer exist
        _PRISTINE[id(model)] = (weakref.ref(model),
                                {k: m.weight.detach().clone() for k, m in ffn_modules(model).items()})
    return _PRISTINE[id(model)][1]


def combined_delta(adapters: list[dict[str, Any]], key: str, spec: LoraSpec, weights: list[float],
                   order: list[int]) -> Any:
    """sum_i w_i (alpha/r) B_i A_i as one (out, k r) @ (k r, in) product."""
    import torch

    b = torch.cat([adapters[i][f"{key}.B"] * (weights[i] * spec.scaling) for i in order], dim=1)
    a = torch.cat([adapters[i][f"{key}.A"] for i in order], dim=0)
    return b @ a


def merge(model: Any, adapters: list[dict[str, Any]], spec: LoraSpec, weights: list[float] | None = None,
          names: list[str] | None = None) -> dict[str, Any]:
    """Add sum_i w_i (alpha/r) B_i A_i to each FFN weight in place; return the originals for ``unmerge``."""
    import torch

    if not adapters:
        return {}
    weights = weights or [1.0] * len(adapters)
    order = sorted(range(len(adapters)), key=lambda i: (names or [str(i) for i in range(len(adapters))])[i])
    saved = pristine(model)
    with torch.no_grad():
        for key, module in ffn_modules(model).items():
            module.weight.add_(combined_delta(adapters, key, spec, weights, order).to(module.weight.dtype))
    return saved


def unmerge(model: Any, saved: dict[str, Any]) -> None:
    """Restore the weights ``merge`` changed (from its pristine copy), bit for bit."""
    import torch

    modules = ffn_modules(model)
    with torch.no_grad():
        for key, original in saved.items():
            modules[key].weight.copy_(original)


@contextmanager
def merged(model: Any, adapters: list[dict[str, Any]], spec: LoraSpec, weights: list[float] | None = None,
           names: list[str] | None = None) -> Iterator[None]:
    saved = merge(model, adapters, spec, weights, names)
    try:
        yield
    finally:
        unmerge(model, saved)


@contextmanager
def side_path(model: Any, adapters: list[dict[str, Any]], spec: LoraSpec) -> Iterator[None]:
    """Apply adapters without touching the weights: y = W x + sum_i (alpha/r) B_i A_i x (used in training,
    where A and B carry gradients, and as the reference the merged forward is checked against)."""
    hooks = []
    for key, module in ffn_modules(model).items():
        pairs = [(ad[f"{key}.A"], ad[f"{key}.B"]) for ad in adapters]

        def hook(mod: Any, args: tuple[Any, ...], out: Any, pairs: list[tuple[Any, Any]] = pairs) -> Any:
            x = args[0]
            for a, b in pairs:
                out = out + spec.scaling * ((x @ a.t()) @ b.t())
            return out

        hooks.append(module.register_forward_hook(hook))
    try:
        yield
    finally:
        for h in hooks:
            h.remove()


def save_adapter(adapter: dict[str, Any], path: Any, metadata: dict[str, str] | None = None) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().contiguous().float() for k, v in adapter.items()}, str(path), metadata=metadata)


def load_adapter(path: Any) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(path))
