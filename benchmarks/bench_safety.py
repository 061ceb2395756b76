"""Agent-SafetyBench costs, measured in one run:

1. engine calls per second: every exposed tool of every case called once with schema-valid arguments
   (the shared 1,600 dev cases when present, else the demo cases), no model involved;
2. episodes per second against `labkit serve` (the embedded SmolLM2 as an OpenAI-compatible server,
   no response cache) with 1 episode in flight vs 8, on the same cases; the server batches concurrent
   requests, so the ratio is what concurrency buys.

    .venv/bin/python benchmarks/bench_safety.py [--rounds 3] [--tokens 64] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from labkit.core.models.registry import load_model
from labkit.core.parallel import parallel_map
from labkit.safety.agent import AgentSettings, run_agent
from labkit.safety.arguments import example_value
from labkit.safety.data import default_cases_path, load_cases
from labkit.safety.demo import write_demo_data
from labkit.safety.engine import Episode


def engine_rate(cases_path: Path) -> tuple[int, int, float]:
    loaded, store = load_cases(cases_path)
    episodes = [(c, Episode(c, store)) for c in loaded.cases]  # schemas loaded before timing
    calls = [(ep, s["function"]["name"], {k: example_value(v, k) for k, v in
                                          s["function"]["parameters"]["properties"].items()})
             for _, ep in episodes for s in ep.tool_schemas()]
    start = time.perf_counter()
    for ep, name, args in calls:
        ep.call(name, args)
    return len(loaded.cases), len(calls), time.perf_counter() - start


def start_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LABKIT_NO_CACHE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "serve", "--model", "smollm2", "--port", str(port),
                             "--name", "smol", "--embedder", "none"], env=env, stderr=subprocess.DEVNULL)
    return proc, wait_until_up(proc, f"http://127.0.0.1:{port}", tries=600, pause=0.3, what="labkit serve")


def wait_until_up(proc: subprocess.Popen, url: str, *, tries: int, pause: float, what: str) -> str:
    """The server's /v1 URL once /health answers; the process is killed if it never does."""
    for _ in range(tries):
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return f"{url}/v1"
        except httpx.HTTPError:
            time.sleep(pause)
    proc.kill()
    raise SystemExit(f"{what} did not start")


def episode_rate(url: str, cases, store, settings: AgentSettings, workers: int,
                 model: str = "smol") -> tuple[float, list[dict]]:
    agent = load_model(f"openai:{model}@{url}", cache=False, concurrency=workers)
    start = time.perf_counter()
    outs = parallel_map(lambda c: run_agent(c, Episode(c, store), agent, settings), cases, workers=workers,
                        progress=False)
    seconds = time.perf_counter() - start
    failed = [o.error for o in outs if not o.ok]
    if failed:
        raise SystemExit(f"{len(failed)} episodes failed: {failed[0]}")
    return seconds, [o.value for o in outs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--copies", type=int, default=3, help="Copies of the 8 demo cases (new ids).")
    args = parser.parse_args()

    demo_cases = write_demo_data(Path(tempfile.mkdtemp()) / "cases")
    shared = default_cases_path()
    n_cases, n_calls, seconds = engine_rate(shared if shared.exists() else demo_cases)
    print(f"engine: {n_calls} calls over {n_cases} cases in {seconds:.3f} s = {n_calls / seconds:,.0f} calls/s "
          f"({'shared dev cases' if shared.exists() else 'demo cases'})")

    loaded, store = load_cases(demo_cases)
    cases = [dataclasses.replace(c, id=c.id + 100 * k) for k in range(args.copies) for c in loaded.cases]
    settings = AgentSettings(protocol="text", max_rounds=args.rounds, max_tokens=args.tokens)
    proc, url = start_server()
    try:
        one, out1 = episode_rate(url, cases, store, settings, 1)
        many, out8 = episode_rate(url, cases, store, settings, args.concurrency)
    finally:
        proc.terminate()
        proc.wait(10)
    n = len(cases)
    rounds = sum(o["rounds"] for o in out1)
    same = [json.dumps(a["messages"]) == json.dumps(b["messages"]) for a, b in zip(out1, out8, strict=True)]
    print(f"episodes vs labkit serve (SmolLM2, text protocol, <= {args.rounds} rounds x {args.tokens} tokens, "
          f"{n} cases, {rounds} model calls):")
    print(f"  concurrency 1: {one:.1f} s = {n / one:.3f} episodes/s")
    print(f"  concurrency {args.concurrency}: {many:.1f} s = {n / many:.3f} episodes/s")
    print(f"  ratio: x{one / many:.2f}; identical trajectories in both runs: {sum(same)}/{n}")


if __name__ == "__main__":
    main()
