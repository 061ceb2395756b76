"""Merge algebra on the real embedded model (brief check 1)."""

import pytest

from labkit.prag.adapters import LoraSpec, ffn_modules, init_adapter, merge, merged, parameter_count, side_path, unmerge

torch = pytest.importorskip("torch")

SPEC = LoraSpec()


def random_adapter(model, seed):
    ad = init_adapter(model, SPEC, seed)
    gen = torch.Generator().manual_seed(seed + 100)
    for key in ad:
        if key.endswith(".B"):
            ad[key] = torch.randn(ad[key].shape, generator=gen) * 1e-3
    return ad


@pytest.fixture(scope="module")
def model_and_input(smollm2):
    ids = smollm2.tokenizer("The capital of Zorblat is", return_tensors="pt").input_ids
    return smollm2.model, ids


def logits(model, ids):
    with torch.no_grad():
        return model(ids).logits


@pytest.mark.slow
def test_parameter_count_matches_the_formula(model_and_input) -> None:
    model, _ = model_and_input
    assert parameter_count(model, SPEC) == 380_160
    assert sum(v.numel() for v in init_adapter(model, SPEC).values()) == 380_160


@pytest.mark.slow
def test_zero_b_adapter_is_bit_identical(model_and_input) -> None:
    model, ids = model_and_input
    base = logits(model, ids)
    with merged(model, [init_adapter(model, SPEC, seed=3)], SPEC):
        assert torch.equal(logits(model, ids), base)


@pytest.mark.slow
def test_merged_equals_base_plus_summed_deltas_order_invariant_and_unmerge_exact(model_and_input) -> None:
    model, ids = model_and_input
    originals = {k: m.weight.detach().clone() for k, m in ffn_modules(model).items()}
    base = logits(model, ids)
    adapters = [random_adapter(model, s) for s in (1, 2, 3)]
    names = ["doc-a", "doc-b", "doc-c"]
    with side_path(model, adapters, SPEC):
        reference = logits(model, ids)
    assert (reference - base).abs().max() > 1e-3  # the deltas do something
    with merged(model, adapters, SPEC, names=names):
        first = logits(model, ids)
    assert (first - reference).abs().max() < 1e-5 * reference.abs().max()  # float32 through 30 layers
    saved = merge(model, adapters[::-1], SPEC, names=names[::-1])
    assert torch.equal(logits(model, ids), first)  # retrieval order does not matter
    unmerge(model, saved)
    for key, module in ffn_modules(model).items():
        assert torch.equal(module.weight, originals[key])
    assert torch.equal(logits(model, ids), base)


@pytest.mark.slow
def test_merge_is_exact_in_float64(model_and_input) -> None:
    """In float64 the merged forward equals base + summed deltas (side path) within 1e-5 absolute."""
    import copy

    model, ids = model_and_input
    wide = copy.deepcopy(model).double()
    adapters = [{k: v.double() for k, v in random_adapter(model, s).items()} for s in (4, 5, 6)]
    with side_path(wide, adapters, SPEC):
        reference = logits(wide, ids)
    with merged(wide, adapters, SPEC):
        got = logits(wide, ids)
    assert (got - reference).abs().max() < 1e-5


def test_pristine_copy_belongs_to_its_model() -> None:
    """A new model that reuses a freed model's id never gets the old model's weights back."""
    import gc

    import torch

    from labkit.prag.adapters import _PRISTINE, pristine

    class Mlp(torch.nn.Module):
        def __init__(self, fill: float) -> None:
            super().__init__()
            self.gate_proj, self.up_proj, self.down_proj = (torch.nn.Linear(2, 2) for _ in range(3))
            for lin in (self.gate_proj, self.up_proj, self.down_proj):
                torch.nn.init.constant_(lin.weight, fill)

    class Tiny(torch.nn.Module):
        def __init__(self, fill: float) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList([torch.nn.Module()])
            self.layers[0].mlp = Mlp(fill)

    first = Tiny(1.0)
    assert float(pristine(first)["layers.0.mlp.gate_proj"][0, 0]) == 1.0
    stale_id = id(first)
    del first
    gc.collect()
    second = Tiny(2.0)
    _PRISTINE[id(second)] = _PRISTINE.get(stale_id, _PRISTINE.get(id(second)))  # as if the id were reused
    assert float(pristine(second)["layers.0.mlp.gate_proj"][0, 0]) == 2.0
