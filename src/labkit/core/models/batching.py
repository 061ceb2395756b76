"""Request batching: many threads each asking for one conversation, one batched ``chat`` call.

``Batcher`` gathers requests that arrive within ``window`` seconds (at most ``max_batch``) and
runs those with identical sampling parameters and tools through the model together, in one
worker thread. ``labkit serve`` uses it for concurrent HTTP clients; ``BatchingChatModel`` gives
in-process callers (``parallel_map`` over items, one LLM call each) the same batch throughput.
"""

from __future__ import annotations

import json
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any

from labkit.core.models.base import Completion, Conversation, Sampling

Request = tuple[Conversation, Sampling, Any, "Future[list[Completion]]"]


class Batcher:
    """Collects concurrent requests and runs them through ``model.chat`` in batches."""

    def __init__(self, model: Any, *, window: float = 0.02, max_batch: int = 16) -> None:
        self.model, self.window, self.max_batch = model, window, max_batch
        self.requests: queue.Queue[Request] = queue.Queue()
        threading.Thread(target=self._loop, daemon=True, name="labkit-batcher").start()

    def submit(self, conv: Conversation, sampling: Sampling, tools: Any = None) -> Future[list[Completion]]:
        """Queue one conversation; the future holds its completions once its batch ran."""
        fut: Future[list[Completion]] = Future()
        self.requests.put((conv, sampling, tools, fut))
        return fut

    def _gather(self) -> list[Request]:
        batch = [self.requests.get()]
        deadline = time.monotonic() + self.window
        while len(batch) < self.max_batch:
            try:
                batch.append(self.requests.get(timeout=max(deadline - time.monotonic(), 0)))
            except queue.Empty:
                break
        return batch

    def _loop(self) -> None:
        while True:
            groups: dict[str, list[Request]] = {}
            for req in self._gather():  # only requests with identical parameters share a batch
                groups.setdefault(json.dumps([req[1].to_dict(), req[2]], sort_keys=True), []).append(req)
            for reqs in groups.values():
                try:
                    out = self.model.chat([r[0] for r in reqs], reqs[0][1], reqs[0][2])
                    for r, choices in zip(reqs, out, strict=True):
                        r[3].set_result(choices)
                except Exception as exc:  # handed to every waiting request, none is lost
                    for r in reqs:
                        if not r[3].done():
                            r[3].set_exception(exc)


class BatchingChatModel:
    """A chat model whose concurrent single-conversation calls are decoded as batches."""

    def __init__(self, inner: Any, *, window: float = 0.02, max_batch: int = 16) -> None:
        self.inner = inner
        self.model_id, self.revision, self.capabilities = inner.model_id, inner.revision, inner.capabilities
        self.batcher = Batcher(inner, window=window, max_batch=max_batch)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def chat(self, conversations: list[Conversation], sampling: Sampling,
             tools: list[dict[str, Any]] | None = None) -> list[list[Completion]]:
        """Answer conversations through the batcher (each call joins the running batch)."""
        futures = [self.batcher.submit(c, sampling, tools) for c in conversations]
        return [f.result() for f in futures]


def for_concurrent_callers(model: Any, max_batch: int = 16) -> Any:
    """``model`` made ready for many threads that each ask one conversation.

    ``model`` ready for many threads each asking one conversation: local backends get a
    BatchingChatModel (their calls decode as batches), HTTP backends stay as they are (the server
    batches; the client already sends requests concurrently).
    """
    if hasattr(model, "client"):  # OpenAIChatModel, also behind CachedChatModel's attribute forwarding
        return model
    return BatchingChatModel(model, max_batch=max(max_batch, 1))
