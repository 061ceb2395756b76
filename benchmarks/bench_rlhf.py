"""RLHF sweep costs on CPU, in one run: rollout tokens/s of batched sampling against one prompt at a time
(the naive loop), RL steps/s of GRPO (TRL) and of REINFORCE (n = 1), and sweep throughput with 1 against 2
grid points in parallel (processes), all on the tiny policy and 2-digit addition.

    .venv/bin/python benchmarks/bench_rlhf.py [--prompts 128] [--points 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from labkit.core.runs import start_run
from labkit.rlhf.config import PointSettings, SweepConfig
from labkit.rlhf.method import reward_for, run_sweep
from labkit.rlhf.policy import SftSettings, load_policy, sample, sft_policy
from labkit.rlhf.rl import answer_tokens, reinforce_train, trl_train
from labkit.rlhf.tasks import make_prompts


def rollout(model, tok, prompts: list[str], k: int) -> None:
    for name, batch in (("one sample at a time", 1), ("batched", 256 * k)):
        start = time.perf_counter()
        outs = sample(model, tok, prompts, k, temperature=0.7, seed=0, batch_size=batch)
        took = time.perf_counter() - start
        tokens = answer_tokens(tok, [t for o in outs for t in o])
        print(f"  {name:22s} {tokens / took:10,.0f} tokens/s ({len(prompts)} prompts x {k}, {took:.2f} s)")
        if batch == 1:
            naive = tokens / took
    print(f"  batched / one at a time: x{tokens / took / naive:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", type=int, default=128)
    ap.add_argument("--points", type=int, default=4, help="Grid points of the throughput sweep (n = 2, 4, 8, 16).")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-rlhf-"))
    s = PointSettings(task_size=2, prompts=args.prompts, epochs=1)
    start = time.perf_counter()
    folder = sft_policy(SftSettings.recipe(s.policy, s.task, s.task_size, s.sft_seed), tmp / "rlhf" / "artifacts")
    print(f"SFT policy {s.policy}: {time.perf_counter() - start:.1f} s (an artifact: built once per settings)")
    model, tok = load_policy(folder)
    prompts = make_prompts(s.task, "train", args.prompts, size=s.task_size, seed=1)
    print("rollout (sampling, temperature 0.7):")
    rollout(model, tok, [p.compact for p in prompts], 4)
    reward, _ = reward_for(s, tmp)
    print("RL steps:")
    for name, point in (("GRPO n=4 (TRL)", replace(s, n=4)), ("REINFORCE n=1", replace(s, n=1, algorithm="reinforce"))):
        model, tok = load_policy(folder)
        if point.algorithm == "reinforce":
            out = reinforce_train(model, tok, prompts, reward, point)
        else:
            out = trl_train(model, tok, prompts, reward, point, "grpo", tmp / "trl")
        print(f"  {name:22s} {out['steps'] / out['train_seconds']:6.1f} steps/s, "
              f"{out['tokens'] / out['train_seconds']:8,.0f} generated tokens/s ({out['steps']} steps)")
    print("sweep throughput (study-sized points of n = 2, 4, 8, 16; SFT artifact already built; each worker process "
          "imports torch/TRL once):")
    grid = [2, 4, 8, 16][:args.points]
    rates = {}
    for workers in (1, 2):
        cfg = SweepConfig(base=replace(s, n=grid[0], prompts=256, epochs=2), grid={"n": grid}, seeds=[0],
                          eval_prompts=200, workers=workers)  # the study's point size
        run = start_run("rlhf", f"bench-w{workers}", {}, root=tmp)
        start = time.perf_counter()
        done = run_sweep(cfg, run, progress=False)
        took = time.perf_counter() - start
        ok = sum(bool(r.get("ok")) for r in done.values())
        rates[workers] = ok / took * 60
        print(f"  {workers} worker(s): {ok} points in {took:.1f} s = {rates[workers]:.1f} points/min")
    print(f"  2 workers / 1: x{rates[2] / rates[1]:.2f}")


if __name__ == "__main__":
    main()
