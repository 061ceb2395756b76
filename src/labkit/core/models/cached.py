"""A chat model wrapped with the response cache: hits skip the model, misses go in one batch."""

from __future__ import annotations

from typing import Any

from labkit.core.cache import ResponseCache, cache_key
from labkit.core.models.base import Completion, Continuation, Conversation, Sampling


class CachedChatModel:
    """Same interface as the wrapped model; deterministic calls are looked up first."""

    def __init__(self, inner: Any, cache: ResponseCache) -> None:
        self.inner, self.cache = inner, cache
        self.model_id, self.revision = inner.model_id, inner.revision
        self.capabilities = inner.capabilities

    def __getattr__(self, name: str) -> Any:  # load_info, batch_size, tokenizer, ...
        return getattr(self.inner, name)

    def key(self, conv: Conversation, sampling: Sampling, tools: list[dict[str, Any]] | None) -> str:
        """Everything that changes the output, and nothing else (no timeouts, retries, ...)."""
        return cache_key({"model": self.model_id, "revision": self.revision, "messages": conv,
                          "sampling": sampling.to_dict(), "tools": tools})

    def chat(self, conversations: list[Conversation], sampling: Sampling,
             tools: list[dict[str, Any]] | None = None) -> list[list[Completion]]:
        """Completions from the cache where present, the backend's otherwise (then cached)."""
        if not sampling.deterministic:  # unseeded sampling must stay random
            return self.inner.chat(conversations, sampling, tools)
        keys = [self.key(c, sampling, tools) for c in conversations]
        found = [self.cache.get(k) for k in keys]
        results: list[list[Completion] | None] = [
            [Completion.from_dict(d) for d in f] if f is not None else None for f in found]
        todo = [i for i, r in enumerate(results) if r is None]
        if todo:
            fresh = self.inner.chat([conversations[i] for i in todo], sampling, tools)
            for i, choices in zip(todo, fresh, strict=True):
                self.cache.put(keys[i], [c.to_dict() for c in choices], tag=self.model_id)
                results[i] = choices
        return results  # type: ignore[return-value]  # every slot is filled above

    def continuation_logprobs(self, conversations: list[Conversation],
                              continuations: list[str]) -> list[Continuation]:
        """Continuation log-probabilities, cached like completions."""
        keys = [cache_key({"model": self.model_id, "revision": self.revision, "messages": c,
                           "continuation": t}) for c, t in zip(conversations, continuations, strict=True)]
        found = [self.cache.get(k) for k in keys]
        todo = [i for i, f in enumerate(found) if f is None]
        if todo:
            fresh = self.inner.continuation_logprobs([conversations[i] for i in todo],
                                                     [continuations[i] for i in todo])
            for i, cont in zip(todo, fresh, strict=True):
                found[i] = {"token_logprobs": cont.token_logprobs, "tokens": cont.tokens}
                self.cache.put(keys[i], found[i], tag=self.model_id)
        return [Continuation(**f) for f in found]  # type: ignore[arg-type]  # all filled
