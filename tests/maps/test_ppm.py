"""The PPM recipe end to end on CPU: a tiny random LLaVA, LoRA steps on generated pairs, save, reload, decode."""

import pytest

pytest.importorskip("peft")
pytest.importorskip("schemdraw")


@pytest.mark.slow
def test_tiny_vlm_lora_recipe(tmp_path) -> None:
    from labkit.maps.eval import ppm_metrics
    from labkit.maps.generate import generate_circuit
    from labkit.maps.ppm import TrainConfig, load_trained, predict, train_ppm
    from labkit.maps.render import render

    pairs = []
    for i in range(4):
        c = generate_circuit(i, seed=9)
        files = render(c, tmp_path / "img", formats=("png",))
        pairs.append((tmp_path / "img" / files["png"], c.netlist.to_spice()))
    cfg = TrainConfig(steps=25, batch_size=2, rank=8, alpha=16, lr=3e-3)
    result = train_ppm(cfg, pairs, tmp_path / "ppm")
    assert result["last_loss"] < result["first_loss"] - 0.1  # it learns (from ~ln(vocab))
    assert (tmp_path / "ppm" / "adapter" / "adapter_config.json").exists()
    fresh = predict(result["model"], result["encoder"], [pairs[0][0]], max_new_tokens=12)
    model, encoder = load_trained(tmp_path / "ppm")
    assert predict(model, encoder, [pairs[0][0]], max_new_tokens=12) == fresh  # the adapter round-trips
    metrics = ppm_metrics(fresh[0], pairs[0][1])
    assert metrics["exact_match"] is False and metrics["parses"] in (True, False)
