"""`labkit serve` as a real subprocess, checked with the official openai client and our backend."""

import os
import subprocess
import sys
import time

import httpx
import pytest

from labkit.core.models import Sampling, load_model, user
from tests.conftest import free_port

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server():
    port = free_port()
    env = {**os.environ, "LABKIT_NO_CACHE": "1"}  # answers must come from the model itself
    proc = subprocess.Popen([sys.executable, "-m", "labkit", "serve", "--model", "smollm2", "--port",
                             str(port), "--name", "smol"], env=env, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 180
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stderr.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("server did not start")
    yield f"{url}/v1"
    proc.terminate()
    proc.wait(10)


def test_openai_client_talks_to_labkit_serve(server) -> None:
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=server, api_key="unused")
    assert [m.id for m in client.models.list().data] == ["smol"]
    resp = client.chat.completions.create(model="smol", max_tokens=24, temperature=0,
                                          messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert "Paris" in resp.choices[0].message.content
    assert resp.usage.completion_tokens > 0 and resp.choices[0].finish_reason == "stop"
    many = client.chat.completions.create(model="smol", max_tokens=8, temperature=1.0, seed=5, n=2,
                                          messages=[{"role": "user", "content": "Say something."}])
    assert len(many.choices) == 2
    stream = client.chat.completions.create(model="smol", max_tokens=24, temperature=0, stream=True,
                                            messages=[{"role": "user", "content": "What is the capital of France?"}])
    assert "".join(c.choices[0].delta.content or "" for c in stream) == resp.choices[0].message.content
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="smol", messages=[])


def test_openai_backend_matches_hf_backend(server, smollm2) -> None:
    remote = load_model(f"openai:smol@{server}", cache=False, concurrency=4)
    prompts = [user("What is the capital of France?"), user("Name a colour."), user("What is 3+4?"),
               user("Write one word.")]
    sampling = Sampling(max_tokens=24, stop=("\n\n",))
    local = [c[0].text for c in smollm2.chat(prompts, sampling)]
    assert [c[0].text for c in remote.chat(prompts, sampling)] == local  # concurrent, batched server-side
    seeded = Sampling(max_tokens=12, temperature=0.9, seed=3)
    assert remote.chat(prompts[:1], seeded)[0][0].text == smollm2.chat(prompts[:1], seeded)[0][0].text


def test_openai_embeddings_backend_against_labkit_serve(server) -> None:
    import numpy as np

    from labkit.core.models import embed

    texts = ["The cat sat on the mat.", "Stocks fell."]
    remote = embed(texts, spec=f"openai:minilm@{server}")
    assert remote.shape == (2, 384)
    assert np.allclose(remote, embed(texts), atol=1e-5)
