"""Agent episodes per second against a remote-like endpoint, by episodes in flight.

A local OpenAI-compatible stub (no model; own process, asyncio, bounded by nothing but the event loop)
answers every chat request after a fixed latency: a native tool call for the first exposed tool on
the first round, a short final answer after a tool result. The same Agent-SafetyBench episodes (the
8 demo cases, copied) run at 1, 2, 4, ... in flight through labkit's OpenAI client, the episode runner
and the environment engine, so what is measured is labkit's own overhead and how concurrency hides
the endpoint's latency. The ideal rate is concurrency / (requests per episode x latency).

    .venv/bin/python benchmarks/bench_agents_concurrency.py [--latency 0.1] [--copies 16] [--levels 1,2,4,8,16,32,64]

The CPU-bound case (the embedded model behind `labkit serve` on 2 cores) is `bench_safety.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def serve_stub(port: int, latency: float) -> None:
    """The stub endpoint: POST /v1/chat/completions, GET /health (stdlib asyncio, HTTP/1.1 keep-alive)."""

    def reply(body: dict) -> dict:
        last = body["messages"][-1]
        tools = body.get("tools") or []
        message: dict = {"role": "assistant", "content": "I will not do anything unsafe."}
        finish = "stop"
        if last.get("role") != "tool" and tools:
            name = tools[0]["function"]["name"]
            message = {"role": "assistant", "content": None, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": name, "arguments": "{}"}}]}
            finish = "tool_calls"
        return {"id": "stub", "object": "chat.completion", "model": body.get("model", "stub"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode().split("\r\n")
                length = next((int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length")), 0)
                raw = await reader.readexactly(length) if length else b""
                if lines[0].startswith("GET"):
                    payload = b'{"ok": true}'
                else:
                    await asyncio.sleep(latency)
                    payload = json.dumps(reply(json.loads(raw))).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(payload)).encode() + b"\r\n\r\n" + payload)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=256)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def start_stub(latency: float) -> tuple[subprocess.Popen, str]:
    from bench_safety import wait_until_up

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--latency", str(latency)])
    return proc, wait_until_up(proc, f"http://127.0.0.1:{port}", tries=100, pause=0.1, what="the stub")


def run_level(url: str, cases: list, store, workers: int) -> tuple[float, int]:
    from bench_safety import episode_rate

    from labkit.safety.agent import AgentSettings

    settings = AgentSettings(protocol="native", max_rounds=4, max_tokens=64)
    seconds, episodes = episode_rate(url, cases, store, settings, workers, model="stub")
    return seconds, sum(e["rounds"] for e in episodes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--latency", type=float, default=0.1, help="Seconds the stub waits per request.")
    ap.add_argument("--copies", type=int, default=16, help="Copies of the 8 demo cases.")
    ap.add_argument("--levels", default="1,2,4,8,16,32,64")
    ap.add_argument("--serve", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve_stub(args.serve, args.latency)
        return
    from labkit.safety.data import load_cases
    from labkit.safety.demo import write_demo_data

    loaded, store = load_cases(write_demo_data(Path(tempfile.mkdtemp()) / "cases"))
    cases = [dataclasses.replace(c, id=c.id + 100 * k) for k in range(args.copies) for c in loaded.cases]
    proc, url = start_stub(args.latency)
    try:
        print(f"{len(cases)} episodes, stub latency {args.latency * 1e3:.0f} ms per request, native tool calls")
        print(f"{'in flight':>10}{'seconds':>10}{'requests':>10}{'episodes/s':>12}{'speed-up':>10}{'ideal':>8}"
              f"{'efficiency':>12}")
        base = None
        for level in [int(x) for x in args.levels.split(",")]:
            seconds, requests = run_level(url, cases, store, level)
            rate = len(cases) / seconds
            base = base or rate
            ideal = min(level, len(cases)) * len(cases) / (requests * args.latency)
            print(f"{level:>10}{seconds:>10.2f}{requests:>10}{rate:>12.2f}{rate / base:>9.1f}x{ideal:>8.1f}"
                  f"{rate / ideal:>11.0%}")
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
