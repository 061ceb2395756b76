"""Scripted mock backend for unit tests (no model, no network).

``script`` may be a list (answers in call order, cycled), a dict (last user message -> answer),
or a callable ``(conversation, sampling, choice) -> str | Completion``. Without a script the
mock echoes the last user message. ``calls`` counts conversations answered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from labkit.core.models.base import (
    LOGPROBS,
    TOOLS,
    Completion,
    Continuation,
    Conversation,
    Sampling,
    check_conversations,
    truncate_at_stop,
)

Script = list[Any] | dict[str, Any] | Callable[..., Any] | None


class MockChatModel:
    """Returns scripted answers; counts how often it was asked."""

    capabilities = frozenset({TOOLS, LOGPROBS})

    def __init__(self, script: Script = None, *, model_id: str = "mock", revision: str = "0",
                 logprob: Callable[[Conversation, str], list[float]] | None = None) -> None:
        self.script, self.model_id, self.revision = script, model_id, revision
        self.logprob = logprob
        self.calls = 0
        self._lock = threading.Lock()

    def _answer(self, conv: Conversation, sampling: Sampling, choice: int) -> Any:
        last_user = next((m.get("content") or "" for m in reversed(conv) if m["role"] == "user"), "")
        if self.script is None:
            return str(last_user)
        if callable(self.script):
            return self.script(conv, sampling, choice)
        if isinstance(self.script, dict):
            if last_user not in self.script:
                raise KeyError(f"mock has no scripted answer for {last_user!r}")
            return self.script[last_user]
        with self._lock:
            return self.script[(self.calls - 1) % len(self.script)]

    def chat(self, conversations: list[Conversation], sampling: Sampling,
             tools: list[dict[str, Any]] | None = None) -> list[list[Completion]]:
        """The scripted completions for each conversation."""
        check_conversations(conversations)
        results = []
        for conv in conversations:
            with self._lock:
                self.calls += 1
            prompt_tokens = sum(len(str(m.get("content") or "").split()) for m in conv)
            choices = []
            for j in range(sampling.n):
                ans = self._answer(conv, sampling, j)
                if isinstance(ans, Completion):
                    choices.append(ans)
                    continue
                text, hit = truncate_at_stop(str(ans), sampling.stop)
                words = text.split()
                finish = "stop" if hit or len(words) <= sampling.max_tokens else "length"
                text = text if finish == "stop" else " ".join(words[:sampling.max_tokens])
                choices.append(Completion(text=text, finish_reason=finish,
                                          prompt_tokens=prompt_tokens,
                                          completion_tokens=min(len(words), sampling.max_tokens)))
            results.append(choices)
        return results

    def continuation_logprobs(self, conversations: list[Conversation],
                              continuations: list[str]) -> list[Continuation]:
        """Scripted log-probabilities for each candidate continuation."""
        fn = self.logprob or (lambda _c, text: [-1.0] * len(text.split()))
        return [Continuation(token_logprobs=fn(c, t), tokens=t.split())
                for c, t in zip(conversations, continuations, strict=True)]
