"""Local weights served through an OpenAI-compatible server for the length of a block.

Serve local weights through an OpenAI-compatible server for the length of a block: vLLM (``vllm serve``, the
scale-out path on GPUs) or ``labkit serve`` (the same API on CPU, standing in for vLLM in tests).

``launched(folder, engine, role)`` starts the server on a free loopback port, waits until ``/v1/models`` answers,
yields the model spec clients use (``openai:<name>@http://127.0.0.1:<port>/v1``) and stops the server after. The
served name carries a hash of the weights' path and modification time, so the response cache never serves
one checkpoint's samples for another's.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from labkit.core.errors import BackendError, ConfigError

ENGINES = ("vllm", "labkit")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def served_name(folder: Path, role: str) -> str:
    """``<role>-<hash>``: the hash of the folder's path and its newest file time (a new checkpoint, a new name)."""
    newest = max((p.stat().st_mtime_ns for p in folder.iterdir() if p.is_file()), default=0)
    return f"{role}-{hashlib.sha256(f'{folder.resolve()}:{newest}'.encode()).hexdigest()[:12]}"


def command(engine: str, folder: Path, name: str, port: int) -> list[str]:
    """The command line that serves ``folder`` as ``name`` on ``port`` with ``engine``."""
    if engine == "vllm":
        exe = shutil.which("vllm")
        if exe is None:
            raise ConfigError("serve engine vllm: the 'vllm' command is not installed here (pip install vllm on a "
                              "GPU machine), or use the labkit engine")
        return [exe, "serve", str(folder), "--served-model-name", name, "--host", "127.0.0.1", "--port", str(port)]
    if engine == "labkit":
        return [sys.executable, "-m", "labkit", "serve", "--model", f"hf:{folder}", "--name", name, "--host",
                "127.0.0.1", "--port", str(port), "--embedder", "none"]
    raise ConfigError(f"serve engine must be one of {', '.join(ENGINES)}, got {engine!r}")


def _ready(url: str, name: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/models", timeout=2) as r:  # noqa: S310 - loopback only
            return any(m.get("id") == name for m in json.load(r).get("data", []))
    except OSError:
        return False


@contextlib.contextmanager
def launched(folder: Path, engine: str, role: str, *, timeout: float = 900.0) -> Iterator[str]:
    """Serve ``folder`` with ``engine`` for the block and yield the ``openai:`` spec.

    Serve ``folder`` with ``engine`` for the block; yields the ``openai:`` spec; the server's log goes to a
    temporary file whose tail is in the error when it does not come up.
    """
    name, port = served_name(folder, role), free_port()
    cmd = command(engine, folder, name, port)
    url = f"http://127.0.0.1:{port}/v1"
    print(f"serving {folder} with {engine} as '{name}' on {url}", file=sys.stderr)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _ready(url, name):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read().decode(errors="replace").strip().splitlines()[-3:]
                    why = "exited" if proc.returncode is not None else f"did not answer in {timeout:.0f} s"
                    raise BackendError(f"{engine} server for {folder} {why}: {' | '.join(tail)}")
                time.sleep(0.5)
            yield f"openai:{name}@{url}"
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
