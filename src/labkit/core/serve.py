"""An OpenAI-compatible HTTP server for any labkit model (``labkit serve``).

``/v1/models``, ``/v1/embeddings`` (MiniLM by default) and ``/v1/chat/completions`` (``n``,
``temperature``, ``top_p``, ``seed``, ``max_tokens``, ``stop``, ``tools`` where the backend has
them; ``stream`` sends each choice as one chunk). Requests that arrive together with the same
sampling parameters are decoded as one batch (``window`` seconds of collection, see
``labkit.core.models.batching``), so parallel clients share the model's batch throughput.
"""

import asyncio
import json
import time
import uuid
from typing import Any

from labkit.core.errors import LabkitError, require
from labkit.core.models.base import TOOLS, Completion, Sampling
from labkit.core.models.batching import Batcher


def _error(status: int, message: str, kind: str = "invalid_request_error") -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse(status_code=status, content={"error": {"message": message, "type": kind}})


def parse_request(body: dict[str, Any]) -> tuple[list[dict[str, Any]], Sampling]:
    """Validate an OpenAI chat request; ValueError names the bad field."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(
            isinstance(m, dict) and "role" in m for m in messages):
        raise ValueError("'messages' must be a non-empty list of {role, content} objects")
    stop = body.get("stop") or ()
    stop = (stop,) if isinstance(stop, str) else tuple(stop)
    max_tokens = body.get("max_tokens") or body.get("max_completion_tokens") or 256
    try:
        sampling = Sampling(max_tokens=int(max_tokens), temperature=float(body.get("temperature", 1.0)),
                            top_p=float(body.get("top_p", 1.0)), n=int(body.get("n", 1)),
                            seed=None if body.get("seed") is None else int(body["seed"]), stop=stop)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad sampling parameter: {exc}") from exc
    if sampling.n < 1 or sampling.max_tokens < 1 or not 0 < sampling.top_p <= 1 or sampling.temperature < 0:
        raise ValueError("need n >= 1, max_tokens >= 1, 0 < top_p <= 1, temperature >= 0")
    return messages, sampling


def completion_body(name: str, choices: list[Completion]) -> dict[str, Any]:
    """An OpenAI chat-completion response body."""
    prompt = choices[0].prompt_tokens if choices else 0
    generated = sum(c.completion_tokens for c in choices)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion",
        "created": int(time.time()), "model": name,
        "choices": [{"index": i, "finish_reason": c.finish_reason,
                     "message": {"role": "assistant", "content": c.text,
                                 **({"tool_calls": c.tool_calls} if c.tool_calls else {})}}
                    for i, c in enumerate(choices)],
        "usage": {"prompt_tokens": prompt, "completion_tokens": generated,
                  "total_tokens": prompt + generated},
    }


def stream_chunks(body: dict[str, Any]) -> Any:
    """Server-sent events: each choice's text as one delta chunk, then [DONE]."""
    base = {"id": body["id"], "object": "chat.completion.chunk", "created": body["created"],
            "model": body["model"]}
    for choice in body["choices"]:
        delta = {"role": "assistant", "content": choice["message"]["content"]}
        chunk = {**base, "choices": [{"index": choice["index"], "delta": delta, "finish_reason": None}]}
        yield f"data: {json.dumps(chunk)}\n\n"
        end = {**base, "choices": [{"index": choice["index"], "delta": {},
                                    "finish_reason": choice["finish_reason"]}]}
        yield f"data: {json.dumps(end)}\n\n"
    yield "data: [DONE]\n\n"


def build_app(model: Any, name: str, *, window: float = 0.02, max_batch: int = 16,
              embedder: str | None = "minilm") -> Any:
    """The FastAPI app serving ``model`` as ``name`` (and ``embedder`` at /v1/embeddings)."""
    fastapi = require("fastapi", "serve")
    from fastapi import Request  # annotations below are evaluated now: FastAPI reads them
    from fastapi.responses import StreamingResponse

    app = fastapi.FastAPI(title="labkit OpenAI-compatible server")
    batcher = Batcher(model, window=window, max_batch=max_batch)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "model": name}

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": name, "object": "model", "owned_by": "labkit"}]}

    @app.post("/v1/embeddings")
    async def embeddings(request: Request) -> Any:
        from labkit.core.models.embed import embed

        body = await request.json()
        texts = body.get("input") if isinstance(body, dict) else None
        texts = [texts] if isinstance(texts, str) else texts
        if embedder is None:
            return _error(404, "this server has no embedder", "not_found_error")
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            return _error(400, "'input' must be a string or a list of strings")
        vectors = await asyncio.to_thread(embed, texts, embedder)
        return {"object": "list", "model": body.get("model") or embedder,
                "data": [{"object": "embedding", "index": i, "embedding": v.tolist()}
                         for i, v in enumerate(vectors)],
                "usage": {"prompt_tokens": sum(len(t.split()) for t in texts), "total_tokens": 0}}

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Any:
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "body is not JSON")
        if not isinstance(body, dict):
            return _error(400, "body must be a JSON object")
        if body.get("model") not in (name, None):
            return _error(404, f"model '{body.get('model')}' not found; this server has '{name}'",
                          "not_found_error")
        try:
            messages, sampling = parse_request(body)
        except ValueError as exc:
            return _error(400, str(exc))
        tools = body.get("tools")
        if tools and TOOLS not in model.capabilities:
            return _error(400, f"model '{name}' has no tool calling")
        try:
            choices = await asyncio.wrap_future(batcher.submit(messages, sampling, tools))
        except LabkitError as exc:
            return _error(500, str(exc), "server_error")
        out = completion_body(name, choices)
        if body.get("stream"):
            return StreamingResponse(stream_chunks(out), media_type="text/event-stream")
        return out

    return app


def serve(model: Any, name: str, *, host: str = "127.0.0.1", port: int = 8000,
          window: float = 0.02, max_batch: int = 16, embedder: str | None = "minilm") -> None:
    """Serve ``model`` under ``name`` until interrupted."""
    uvicorn = require("uvicorn", "serve")
    app = build_app(model, name, window=window, max_batch=max_batch, embedder=embedder)
    uvicorn.run(app, host=host, port=port, log_level="warning")
