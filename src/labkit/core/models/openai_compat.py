"""Backend for any OpenAI-compatible server: vLLM, llama.cpp server, Ollama, hosted APIs.

Requests run concurrently (bounded by ``concurrency``); 429, 5xx and time-outs are retried with
exponential backoff; a wrong URL, model name or key ends in one clear line (BackendError).
"""

from __future__ import annotations

import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from labkit.core.errors import BackendError, require
from labkit.core.models.base import TOOLS, Completion, Conversation, Sampling, check_conversations

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class OpenAIClient:
    """Minimal JSON client with retries; shared by the chat and embedding backends."""

    def __init__(self, base_url: str, *, api_key: str | None = None, timeout: float = 120.0,
                 max_retries: int = 5, backoff: float = 1.0) -> None:
        httpx = require("httpx", "core")
        self.base_url = base_url.rstrip("/")
        key = api_key or os.environ.get("OPENAI_API_KEY") or "EMPTY"
        self.http = httpx.Client(timeout=timeout, headers={"Authorization": f"Bearer {key}"})
        self.max_retries, self.backoff = max_retries, backoff

    def request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        """One HTTP request with retries; an error names the server and the status."""
        httpx = require("httpx", "core")
        url = f"{self.base_url}{path}"
        for attempt in range(self.max_retries + 1):
            try:
                resp = self.http.request(method, url, json=payload)
            except httpx.ConnectError as exc:
                raise BackendError(f"cannot connect to {self.base_url} ({_first_line(exc)}); "
                                   "is the server running and the URL right?") from exc
            except (httpx.TimeoutException, httpx.RemoteProtocolError) as exc:
                error = BackendError(f"{url}: {type(exc).__name__}", retryable=True)
            else:
                if resp.status_code < 400:
                    try:
                        return resp.json()
                    except ValueError as exc:
                        raise BackendError(f"{url}: answer is not JSON") from exc
                error = _status_error(url, resp)
            if not error.retryable or attempt == self.max_retries:
                raise error
            time.sleep(self.backoff * 2**attempt * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the HTTP client."""
        self.http.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _status_error(url: str, resp: Any) -> BackendError:
    try:
        body = resp.json()
        detail = body.get("error", body) if isinstance(body, dict) else body
        detail = detail.get("message", detail) if isinstance(detail, dict) else detail
    except ValueError:
        detail = resp.text[:200]
    hint = {401: " (check OPENAI_API_KEY / --api-key)", 403: " (key lacks access)",
            404: " (wrong URL or model name?)"}.get(resp.status_code, "")
    message = f"{url}: HTTP {resp.status_code}{hint}: {str(detail).strip()[:300]}"
    return BackendError(message.replace("\n", " "), retryable=resp.status_code in RETRY_STATUS)


class OpenAIChatModel:
    """Chat completions over HTTP; one request per conversation, ``n`` choices each."""

    capabilities = frozenset({TOOLS})

    def __init__(self, model: str, base_url: str, *, api_key: str | None = None,
                 concurrency: int = 8, timeout: float = 120.0, max_retries: int = 5,
                 backoff: float = 1.0) -> None:
        self.model_id, self.revision = model, base_url
        self.client = OpenAIClient(base_url, api_key=api_key, timeout=timeout,
                                   max_retries=max_retries, backoff=backoff)
        self.concurrency = concurrency

    def _one(self, conv: Conversation, sampling: Sampling,
             tools: list[dict[str, Any]] | None) -> list[Completion]:
        payload: dict[str, Any] = {"model": self.model_id, "messages": conv,
                                   "max_tokens": sampling.max_tokens,
                                   "temperature": sampling.temperature, "top_p": sampling.top_p,
                                   "n": sampling.n}
        if sampling.seed is not None:
            payload["seed"] = sampling.seed
        if sampling.stop:
            payload["stop"] = list(sampling.stop)
        if tools:
            payload["tools"] = tools
        body = self.client.request("POST", "/chat/completions", payload)
        try:
            usage = body.get("usage") or {}
            choices = sorted(body["choices"], key=lambda c: c.get("index", 0))
            return [Completion(text=c["message"].get("content") or "",
                               finish_reason=c.get("finish_reason") or "stop",
                               prompt_tokens=int(usage.get("prompt_tokens", 0)),
                               completion_tokens=int(usage.get("completion_tokens", 0)) // max(len(choices), 1),
                               tool_calls=c["message"].get("tool_calls"))
                    for c in choices]
        except (KeyError, TypeError, AttributeError) as exc:
            raise BackendError(f"{self.client.base_url}: malformed chat completion ({exc!r})") from exc

    def chat(self, conversations: list[Conversation], sampling: Sampling,
             tools: list[dict[str, Any]] | None = None) -> list[list[Completion]]:
        """Completions for each conversation, requested concurrently."""
        check_conversations(conversations)
        if len(conversations) == 1:
            return [self._one(conversations[0], sampling, tools)]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda c: self._one(c, sampling, tools), conversations))

    def list_models(self) -> list[str]:
        """The model names the server lists."""
        return [m["id"] for m in self.client.request("GET", "/models").get("data", [])]
