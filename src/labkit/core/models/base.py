"""The chat-model interface every backend implements: batch-first, plain data in and out.

A conversation is a list of ``{"role": ..., "content": ...}`` dicts (OpenAI shape). A backend's
``chat`` takes a list of conversations and returns, for each, ``n`` completions.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, Any]
Conversation = list[Message]

TOOLS = "tools"  # capability: OpenAI-style tool/function calling
LOGPROBS = "logprobs"  # capability: log-probability of a given continuation


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters; all of them change the output, so all are part of the cache key."""

    max_tokens: int = 256
    temperature: float = 0.0
    top_p: float = 1.0
    n: int = 1
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "stop", tuple(self.stop))

    @property
    def greedy(self) -> bool:
        """Whether this sampling is greedy (temperature 0)."""
        return self.temperature <= 0.0

    @property
    def deterministic(self) -> bool:
        """Greedy calls and seeded sampled calls reproduce, so they may be cached."""
        return self.greedy or self.seed is not None

    def to_dict(self) -> dict[str, Any]:
        """The sampling as a plain dict (cache keys, run configs)."""
        d = asdict(self)
        d["stop"] = list(self.stop)
        return d


@dataclass
class Completion:
    """One generated answer."""

    text: str
    finish_reason: str  # "stop" | "length" | "tool_calls"
    prompt_tokens: int
    completion_tokens: int
    tool_calls: list[dict[str, Any]] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The completion as a plain dict (cache values)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Completion:
        """A completion from ``to_dict``'s output."""
        return cls(**d)


@dataclass
class Continuation:
    """Log-probabilities of a given continuation after a conversation (judges, DPO, RL)."""

    token_logprobs: list[float]
    tokens: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Prompt plus completion tokens."""
        return float(sum(self.token_logprobs))


@runtime_checkable
class ChatModel(Protocol):
    """What every backend provides. ``capabilities`` lists the optional methods it supports."""

    model_id: str
    revision: str
    capabilities: frozenset[str]

    def chat(self, conversations: list[Conversation], sampling: Sampling,
             tools: list[dict[str, Any]] | None = None) -> list[list[Completion]]:
        """Return ``sampling.n`` completions for each conversation, in input order."""
        ...


def check_conversations(conversations: list[Conversation]) -> None:
    """Raise ValueError early for shapes no backend can handle."""
    if not isinstance(conversations, list):
        raise TypeError("chat() takes a list of conversations")
    for i, conv in enumerate(conversations):
        if not conv or not all(isinstance(m, dict) and "role" in m for m in conv):
            raise ValueError(f"conversation {i} must be a non-empty list of role/content dicts")


def truncate_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Cut ``text`` at the earliest stop string; return the text and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)
