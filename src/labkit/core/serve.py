"""An OpenAI-compatible HTTP server for any labkit model (``labkit serve``).

``/v1/models`` and ``/v1/chat/completions`` (``n``, ``temperature``, ``top_p``, ``seed``,
``max_tokens``, ``stop``, ``tools`` where the backend has them; ``stream`` sends each choice as
one chunk). Requests that arrive together with the same sampling parameters are decoded as one
batch (``window`` seconds of collection), so parallel clients share the model's batch throughput.
"""

import asyncio
import json
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from typing import Any

from labkit.core.errors import LabkitError, require
from labkit.core.models.base import TOOLS, Completion, Sampling


class Batcher:
    """Collects concurrent requests and runs them through ``model.chat`` in batches."""

    def __init__(self, model: Any, *, window: float = 0.02, max_batch: int = 16) -> None:
        self.model, self.window, self.max_batch = model, window, max_batch
        self.requests: queue.Queue[tuple[list[dict[str, Any]], Sampling, Any, Future[Any]]] = queue.Queue()
        threading.Thread(target=self._loop, daemon=True, name="labkit-batcher").start()

    def submit(self, conv: list[dict[str, Any]], sampling: Sampling, tools: Any = None) -> Future[Any]:
        fut: Future[Any] = Future()
        self.requests.put((conv, sampling, tools, fut))
        return fut

    def _loop(self) -> None:
        while True:
            batch = [self.requests.get()]
            deadline = time.monotonic() + self.window
            while len(batch) < self.max_batch:
                try:
                    batch.append(self.requests.get(timeout=max(deadline - time.monotonic(), 0)))
                except queue.Empty:
                    break
            groups: dict[str, list[Any]] = {}
            for req in batch:  # only requests with identical parameters share a batch
                groups.setdefault(json.dumps([req[1].to_dict(), req[2]], sort_keys=True), []).append(req)
            for reqs in groups.values():
                try:
                    out = self.model.chat([r[0] for r in reqs], reqs[0][1], reqs[0][2])
                    for r, choices in zip(reqs, out, strict=True):
                        r[3].set_result(choices)
                except Exception as exc:  # handed to every waiting request
                    for r in reqs:
                        r[3].set_exception(exc)


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


def build_app(model: Any, name: str, *, window: float = 0.02, max_batch: int = 16) -> Any:
    """The FastAPI app serving ``model`` under the model name ``name``."""
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
          window: float = 0.02, max_batch: int = 16) -> None:
    uvicorn = require("uvicorn", "serve")
    uvicorn.run(build_app(model, name, window=window, max_batch=max_batch), host=host, port=port,
                log_level="warning")
