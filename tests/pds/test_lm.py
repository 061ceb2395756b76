"""The tiny-LM proxy: batched JVP inner products equal explicit per-example gradient dot products, PMP scores
equal -dA/dgamma by finite differences (float64), padding never enters a loss, packed blocks are equal tokens."""

from __future__ import annotations

import pytest
import torch
from torch.func import grad

from labkit.pds.data import BOS, PAD, byte_tokens, make_text_toy, packed_blocks
from labkit.pds.lm import lm_problem, tiny_lm, token_losses
from labkit.pds.solver import area, example_directional, scores


@pytest.fixture
def float64_norms(monkeypatch):
    """HF's RMSNorm and eager softmax compute in float32 whatever the dtype; keep float64 so that finite
    differences are meaningful (the same formulas otherwise)."""
    from transformers.models.llama import modeling_llama

    def norm(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.variance_epsilon))

    def attention(module, query, key, value, attention_mask, scaling, dropout=0.0, **kwargs):
        key = modeling_llama.repeat_kv(key, module.num_key_value_groups)
        value = modeling_llama.repeat_kv(value, module.num_key_value_groups)
        w = query @ key.transpose(2, 3) * scaling
        w = torch.softmax(w if attention_mask is None else w + attention_mask, dim=-1)
        return (w @ value).transpose(1, 2).contiguous(), w

    monkeypatch.setattr(modeling_llama.LlamaRMSNorm, "forward", norm)
    monkeypatch.setattr(modeling_llama, "eager_attention_forward", attention)


def _problem(n: int = 6, steps: int = 4):
    toy = make_text_toy(40, 8, seed=1)
    model = tiny_lm("xs", 0, 32).double()
    p, flat = lm_problem(model, byte_tokens([d["text"] for d in toy.corpus[:n]], 24), byte_tokens(toy.target, 24),
                         eta=0.5, steps=steps, chunk=None)
    p.theta0 = p.theta0.double()
    return p


def test_batched_jvp_equals_explicit_gradients(float64_norms) -> None:
    p = _problem()
    v = torch.randn_like(p.theta0)
    ids, mask = p.data
    explicit = torch.stack([grad(p.example_loss)(p.theta0, (ids[i], mask[i])) @ v for i in range(p.n)])
    assert torch.allclose(example_directional(p, p.theta0, v), explicit, rtol=1e-9, atol=1e-12)


def test_scores_equal_minus_dA_dgamma_on_the_lm(float64_norms) -> None:
    p = _problem()
    gamma = torch.full((p.n,), 1.0 / p.n, dtype=torch.float64)
    s = scores(p, gamma).scores
    h = 1e-5
    for i in range(3):
        e = torch.zeros_like(gamma)
        e[i] = h
        fd = -(area(p, gamma + e) - area(p, gamma - e)) / (2 * h)
        assert abs(float(s[i]) - fd) <= 1e-4 * abs(fd) + 1e-9, (i, float(s[i]), fd)


def test_padding_does_not_change_a_documents_loss() -> None:
    model = tiny_lm("xs", 0, 64)
    params = dict(model.named_parameters())
    short = byte_tokens(["the cat sees the dog."], 22)
    long = byte_tokens(["the cat sees the dog."], 60)
    assert int(short[1].sum()) == int(long[1].sum()) == 22 and long[0][0, 30] == PAD and long[0][0, 0] == BOS
    with torch.no_grad():
        assert torch.allclose(token_losses(model, params, *short), token_losses(model, params, *long), atol=1e-6)


def test_packed_blocks_are_all_real_tokens() -> None:
    blocks = packed_blocks(["ab", "cde", "fghij"], 4)
    assert blocks.shape == (3, 4) and blocks[0].tolist() == [BOS, 97, 98, BOS]  # 13 tokens -> 3 whole blocks


def test_chunking_changes_nothing() -> None:
    p = _problem(n=7)
    whole = scores(p).scores
    p.chunk = 3  # chunks of 3, 3 and 1 documents
    assert len(p.chunks()) == 3 and torch.allclose(scores(p).scores, whole, rtol=1e-9, atol=1e-12)
