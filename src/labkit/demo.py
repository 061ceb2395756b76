"""``labkit demo``: every available system's quick demo plus a check of the embedded defaults.

All of it is written as one report under ``runs/demo/<timestamp>-demo/``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from labkit.core.models import Sampling, embed, load_model, user
from labkit.core.report import figure, markdown_table, save_figure
from labkit.core.runs import Run, start_run
from labkit.systems import SYSTEMS, is_available, system_cli

QUESTIONS = ["What is the capital of France?", "Name three primary colours.",
             "What is 12 times 12?", "Give one word that rhymes with 'cat'."]
SENTENCES = ["The cat sat on the mat.", "A kitten rested on the rug.",
             "Stock markets fell sharply today.", "Shares dropped at the close of trading."]


def model_section(run: Run) -> tuple[str, dict[str, float | bool]]:
    """The embedded chat model and embedder at work: answers, throughput, similarities."""
    model = load_model("smollm2", cache=False)
    info = model.load_info
    sampling = Sampling(max_tokens=48)
    t0 = time.perf_counter()
    single = [model.chat([user(q)], sampling)[0][0] for q in QUESTIONS]
    single_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch = [c[0] for c in model.chat([user(q) for q in QUESTIONS], sampling)]
    batch_s = time.perf_counter() - t0
    speeds = [sum(c.completion_tokens for c in single) / single_s,
              sum(c.completion_tokens for c in batch) / batch_s]
    fig, ax = figure(5, 3)
    ax.bar(["one at a time", f"batch of {len(QUESTIONS)}"], speeds, color=["#999", "#2a7"])
    ax.set_ylabel("generated tokens / s")
    ax.set_title("SmolLM2-135M-Instruct on this machine")
    speed_png = save_figure(fig, run.dir, "generation_speed")

    vectors = embed(SENTENCES)
    sims = vectors @ vectors.T
    fig, ax = figure(6.5, 4)
    im = ax.imshow(sims, vmin=0, vmax=1, cmap="viridis")
    ax.set_xticks(range(len(SENTENCES)), [f"s{i}" for i in range(len(SENTENCES))])
    ax.set_yticks(range(len(SENTENCES)), [f"s{i}: {s[:24]}" for i, s in enumerate(SENTENCES)])
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title("cosine similarity (MiniLM)")
    sim_png = save_figure(fig, run.dir, "embedding_similarity")

    same = all(a.text == b.text for a, b in zip(single, batch, strict=True))
    rows = [(q, c.text.strip(), c.completion_tokens, c.finish_reason) for q, c in zip(QUESTIONS, batch, strict=True)]
    return "\n".join([
        "## Embedded defaults",
        f"Chat model `{model.model_id}` loaded in {info.seconds:.1f}s from {info.source}.",
        "",
        markdown_table(["question", "answer (greedy)", "tokens", "finish"], rows),
        f"Greedy answers one at a time and batched are {'identical' if same else 'DIFFERENT'}. "
        f"Throughput: {speeds[0]:.1f} tokens/s one at a time, {speeds[1]:.1f} tokens/s batched "
        f"({speeds[1] / speeds[0]:.2f}x).",
        "",
        f"![generation speed]({speed_png})",
        "",
        "Embedder: similar sentences (s0/s1, s2/s3) should score higher than unrelated pairs: "
        f"s0-s1 {sims[0, 1]:.2f}, s2-s3 {sims[2, 3]:.2f}, s0-s2 {sims[0, 2]:.2f}.",
        "",
        f"![embedding similarity]({sim_png})",
        "",
    ]), {"tokens_per_s_single": speeds[0], "tokens_per_s_batch": speeds[1],
         "batch_equals_single": same, "sim_related": float(np.mean([sims[0, 1], sims[2, 3]])),
         "sim_unrelated": float(sims[0, 2])}


def run_demo(root: Path | None = None) -> Path:
    """Run every available system's demo after the model section; return the report's path."""
    run = start_run("demo", "demo", {"systems": list(SYSTEMS)}, root=None if root is None else root)
    available = [name for name in SYSTEMS if is_available(name)]
    parts = ["# labkit demo", "",
             markdown_table(["system", "status", "what"],
                            [(n, "available" if n in available else "planned", SYSTEMS[n])
                             for n in SYSTEMS])]
    section, metrics = model_section(run)
    parts.append(section)
    for name in available:
        demo = getattr(system_cli(name), "demo", None)
        if demo is None:
            parts.append(f"## {name}\n\n{name} has no quick demo yet.\n")
            continue
        folder = run.dir / name
        folder.mkdir(exist_ok=True)
        parts.append(demo(folder))
    run.write_metrics({"available": available, **metrics})
    return run.write_report("\n".join(parts))
