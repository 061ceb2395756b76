"""The openai backend against small local HTTP servers that misbehave on purpose."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from labkit.core.errors import BackendError, ConfigError
from labkit.core.models import Sampling, load_model, user
from tests.conftest import free_port


def fake_server(replies: list[tuple[int, dict]]):
    """Answers POSTs with the scripted (status, body) replies in order; records requests."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            seen.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            status, body = replies[min(len(seen) - 1, len(replies) - 1)]
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


OK = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"},
                   "finish_reason": "stop"}], "usage": {"prompt_tokens": 3, "completion_tokens": 1}}


def test_500_then_200_is_retried() -> None:
    server, seen = fake_server([(500, {"error": {"message": "boom"}}), (429, {}), (200, OK)])
    url = f"http://127.0.0.1:{server.server_port}/v1"
    model = load_model(f"openai:m@{url}", cache=False, backoff=0.01)
    out = model.chat([user("hi")], Sampling(max_tokens=5, seed=1, stop=("x",)))
    assert out[0][0].text == "hello" and out[0][0].prompt_tokens == 3
    assert len(seen) == 3
    assert seen[-1] == {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5,
                        "temperature": 0.0, "top_p": 1.0, "n": 1, "seed": 1, "stop": ["x"]}
    server.shutdown()


def test_retries_give_up_with_one_line() -> None:
    server, seen = fake_server([(503, {"error": {"message": "overloaded"}})])
    model = load_model(f"openai:m@http://127.0.0.1:{server.server_port}/v1", cache=False,
                       backoff=0.01, max_retries=2)
    with pytest.raises(BackendError, match="HTTP 503.*overloaded") as err:
        model.chat([user("hi")], Sampling())
    assert len(seen) == 3 and "\n" not in str(err.value) and err.value.retryable
    server.shutdown()


@pytest.mark.parametrize("status,hint", [(404, "wrong URL or model name"), (401, "OPENAI_API_KEY")])
def test_client_errors_are_not_retried(status: int, hint: str) -> None:
    server, seen = fake_server([(status, {"error": {"message": "nope"}})])
    model = load_model(f"openai:m@http://127.0.0.1:{server.server_port}/v1", cache=False, backoff=0.01)
    with pytest.raises(BackendError, match=hint):
        model.chat([user("hi")], Sampling())
    assert len(seen) == 1
    server.shutdown()


def test_wrong_url_is_one_clear_line() -> None:
    model = load_model(f"openai:m@http://127.0.0.1:{free_port()}/v1", cache=False)
    with pytest.raises(BackendError, match=r"cannot connect to http://127.0.0.1:\d+/v1") as err:
        model.chat([user("hi")], Sampling())
    assert "\n" not in str(err.value)


def test_spec_parsing() -> None:
    model = load_model("openai:Qwen/Qwen2.5-7B@http://localhost:8000/v1", cache=False)
    assert model.model_id == "Qwen/Qwen2.5-7B" and model.client.base_url == "http://localhost:8000/v1"
    with pytest.raises(ConfigError, match="unknown model spec"):
        load_model("gpt4")
    with pytest.raises(ConfigError, match="no such model directory"):
        load_model("hf:./no/such/dir")
