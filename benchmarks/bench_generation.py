"""Generated tokens/s of the embedded model: batches of 1, 8 and 16 against one at a time.

Also: a cached re-run against the uncached run. Everything is measured in this one run.
    .venv/bin/python benchmarks/bench_generation.py [--max-tokens 64] [--prompts 16]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time

from labkit.core.cache import ResponseCache
from labkit.core.models import Sampling, load_model, user
from labkit.core.models.cached import CachedChatModel

TOPICS = ["a dragon", "the ocean", "a robot", "autumn", "a lighthouse", "the moon", "a city at night",
          "a forest", "a chess game", "a long train ride", "a lost key", "a snowstorm", "a market",
          "an old library", "a volcano", "a garden"]


class PeakRSS:
    """Samples this process's resident memory every 5 ms; ``peak`` in MiB."""

    def __enter__(self) -> PeakRSS:
        self.peak, self._stop = 0.0, threading.Event()
        page = os.sysconf("SC_PAGE_SIZE")

        def sample() -> None:
            while not self._stop.is_set():
                with open("/proc/self/statm") as fh:
                    self.peak = max(self.peak, int(fh.read().split()[1]) * page / 2**20)
                time.sleep(0.005)
        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def timed(model, convs, sampling, batch):
    tokens, start = 0, time.perf_counter()
    with PeakRSS() as mem:
        for i in range(0, len(convs), batch):
            tokens += sum(c[0].completion_tokens for c in model.chat(convs[i:i + batch], sampling))
    return tokens, time.perf_counter() - start, mem.peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--prompts", type=int, default=16)
    args = parser.parse_args()
    model = load_model("smollm2", cache=False)
    convs = [user(f"Write a long story about {TOPICS[i % len(TOPICS)]}.") for i in range(args.prompts)]
    sampling = Sampling(max_tokens=args.max_tokens)
    model.chat(convs[:1], Sampling(max_tokens=2))  # warm-up
    print(f"SmolLM2-135M-Instruct, {args.prompts} prompts, max_tokens={args.max_tokens}, "
          f"torch threads={__import__('torch').get_num_threads()}")
    base = None
    for batch in (1, 8, 16):
        tokens, secs, peak = timed(model, convs, sampling, batch)
        rate = tokens / secs
        base = base or rate
        label = "one at a time" if batch == 1 else f"batch {batch}"
        print(f"{label:14} {tokens:5d} tokens {secs:7.2f}s {rate:7.1f} tok/s  "
              f"x{rate / base:4.2f} vs one at a time  peak RSS {peak:6.0f} MiB")
    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedChatModel(model, ResponseCache(os.path.join(tmp, "bench.sqlite")))
        _, cold, _ = timed(cached, convs, sampling, 8)
        _, warm, _ = timed(cached, convs, sampling, 8)
        print(f"cache          uncached {cold:.2f}s, cached re-run {warm * 1000:.1f} ms: x{cold / warm:.0f} "
              f"({cached.cache.hits} hits, {cached.cache.misses} misses)")


if __name__ == "__main__":
    main()
