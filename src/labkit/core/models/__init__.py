"""labkit's model layer: one batch-first chat interface over hf, openai-compatible and mock backends.

>>> from labkit.core.models import load_model, Sampling
>>> model = load_model("smollm2")
>>> model.chat([[{"role": "user", "content": "Hi"}]], Sampling(max_tokens=16))[0][0].text
"""

from labkit.core.models.base import (
    LOGPROBS,
    TOOLS,
    ChatModel,
    Completion,
    Continuation,
    Conversation,
    Message,
    Sampling,
)
from labkit.core.models.embed import embed
from labkit.core.models.registry import DEFAULT_SPEC, backends, load_model, parse_spec, register

__all__ = ["LOGPROBS", "TOOLS", "ChatModel", "Completion", "Continuation", "Conversation",
           "Message", "Sampling", "DEFAULT_SPEC", "backends", "embed", "load_model", "parse_spec",
           "register", "user"]


def user(text: str) -> list[dict[str, str]]:
    """A one-turn conversation."""
    return [{"role": "user", "content": text}]
