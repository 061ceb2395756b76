"""Physical Perception Model: LoRA fine-tuning of a vision-language model on (diagram, netlist) pairs
(arXiv:2501.10768 Sec. 3.1: CogAgent + LoRA rank 50 on language layers and the ViT, cosine decay, 2% warm-up,
prompt "Convert the circuit diagram to SPICE code: ", greedy decoding).

Two model sources share one written-out training loop:
- ``tiny``: a randomly initialised LLaVA (CLIP vision tower + Llama text model) built from transformers
  configs with SmolLM2's tokenizer: runs on CPU in seconds, for tests and smoke runs;
- a local Hugging Face VLM folder (SmolVLM, Qwen2-VL, ...) through AutoProcessor and its chat template:
  the real recipe, a GPU job (accelerate/DeepSpeed launch the same script at scale).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError, require
from labkit.core.models.weights import local_weights, lora_config

PROMPT = "Convert the circuit diagram to SPICE code: "
IMAGE_TOKEN = "<image>"


@dataclass
class TrainConfig:
    base: str = "tiny"  # "tiny" or a local HF VLM folder
    rank: int = 50  # paper: LoRA rank 50
    alpha: int = 100
    lr: float = 1e-4
    steps: int = 2000  # paper: 2,000 iterations
    batch_size: int = 4
    warmup: float = 0.02  # paper: 2% warm-up, cosine decay
    max_length: int = 2000  # paper: max_length 2000
    seed: int = 2023  # paper: 2023
    image_size: int = 64  # tiny model only
    device: str | None = None  # default: cuda when available, else cpu


class TinyEncoder:
    """Tokenises (image, prompt, target) for the tiny LLaVA: image -> fixed number of <image> tokens."""

    def __init__(self, tokenizer: Any, image_size: int, image_tokens: int) -> None:
        self.tokenizer, self.image_size, self.image_tokens = tokenizer, image_size, image_tokens
        self.image_token_id = tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)

    def pixels(self, image: Path) -> Any:
        import numpy as np
        import torch
        from PIL import Image

        img = Image.open(image).convert("RGB").resize((self.image_size, self.image_size))
        arr = (np.asarray(img, dtype=np.float32) / 255.0 - 0.5) / 0.5
        return torch.from_numpy(arr).permute(2, 0, 1)

    def prompt_ids(self) -> list[int]:
        return [self.image_token_id] * self.image_tokens + self.tokenizer.encode(PROMPT, add_special_tokens=False)

    def encode(self, image: Path, target: str | None) -> dict[str, Any]:
        import torch

        prompt = self.prompt_ids()
        tail = [] if target is None else self.tokenizer.encode(target, add_special_tokens=False) + \
            [self.tokenizer.eos_token_id]
        ids = prompt + tail
        labels = [-100] * len(prompt) + tail
        return {"input_ids": torch.tensor(ids), "labels": torch.tensor(labels), "pixel_values": self.pixels(image)}

    def decode(self, ids: Any) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=True)


class HFEncoder:
    """Any chat VLM with an AutoProcessor: the prompt is the chat template with one image and PROMPT."""

    def __init__(self, processor: Any) -> None:
        self.processor = processor
        messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": PROMPT}]}]
        self.prompt_text = processor.apply_chat_template(messages, add_generation_prompt=True)

    def encode(self, image: Path, target: str | None) -> dict[str, Any]:
        from PIL import Image

        img = Image.open(image).convert("RGB")
        eos = self.processor.tokenizer.eos_token or ""
        text = self.prompt_text + ("" if target is None else target + eos)
        batch = self.processor(text=[text], images=[[img]], return_tensors="pt")
        out = {k: v[0] for k, v in batch.items()}
        if target is not None:
            prompt = self.processor(text=[self.prompt_text], images=[[img]], return_tensors="pt")
            prompt_len = len(prompt["input_ids"][0])
            labels = out["input_ids"].clone()
            labels[:prompt_len] = -100
            out["labels"] = labels
        return out

    def decode(self, ids: Any) -> str:
        return self.processor.tokenizer.decode(ids, skip_special_tokens=True)


def build_tiny(cfg: TrainConfig) -> tuple[Any, TinyEncoder]:
    """A randomly initialised LLaVA with SmolLM2's tokenizer (plus an <image> token)."""
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    torch.manual_seed(cfg.seed)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(local_weights("smollm2")))
    tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    patch = 16
    vision = transformers.CLIPVisionConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                           num_attention_heads=2, image_size=cfg.image_size, patch_size=patch)
    text = transformers.LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128,
                                    num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                    max_position_embeddings=cfg.max_length + 64,
                                    eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.eos_token_id)
    config = transformers.LlavaConfig(vision_config=vision, text_config=text,
                                      image_token_index=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
                                      vision_feature_select_strategy="default", vision_feature_layer=-1,
                                      projector_hidden_act="gelu")
    model = transformers.LlavaForConditionalGeneration(config)
    tokens = (cfg.image_size // patch) ** 2
    return model, TinyEncoder(tokenizer, cfg.image_size, tokens)


def load_base(cfg: TrainConfig) -> tuple[Any, Any]:
    if cfg.base == "tiny":
        return build_tiny(cfg)
    transformers = require("transformers", "hf")
    path = Path(cfg.base)
    if not path.exists():
        raise ConfigError(f"--base {cfg.base}: not a local folder (labkit downloads nothing; fetch the VLM first)")
    processor = transformers.AutoProcessor.from_pretrained(str(path))
    model = transformers.AutoModelForImageTextToText.from_pretrained(str(path))
    return model, HFEncoder(processor)


def collate(examples: list[dict[str, Any]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(e["input_ids"]) for e in examples)
    batch: dict[str, Any] = {"input_ids": [], "labels": [], "attention_mask": []}
    for e in examples:
        gap = width - len(e["input_ids"])
        batch["input_ids"].append(torch.cat([e["input_ids"], torch.full((gap,), pad_id)]))
        batch["labels"].append(torch.cat([e["labels"], torch.full((gap,), -100)]))
        batch["attention_mask"].append(torch.cat([torch.ones(len(e["input_ids"]), dtype=torch.long),
                                                  torch.zeros(gap, dtype=torch.long)]))
    out = {k: torch.stack(v) for k, v in batch.items()}
    for key in examples[0]:
        if key not in out:
            out[key] = torch.stack([e[key] for e in examples])
    return out


def add_lora(model: Any, cfg: TrainConfig) -> Any:
    peft = require("peft", "train")
    lora = lora_config(cfg.rank, cfg.alpha, dropout=0.05,  # attention of the language layers and the ViT
                       modules_to_save=["multi_modal_projector"])
    return peft.get_peft_model(model, lora)


def train_ppm(cfg: TrainConfig, pairs: list[tuple[Path, str]], out: Path,
              log: Any = None) -> dict[str, Any]:
    """Fine-tune on (image, netlist) pairs; writes the LoRA adapter, encoder settings and a loss log."""
    torch = require("torch", "hf")
    if not pairs:
        raise ConfigError("no training pairs")
    model, encoder = load_base(cfg)
    device = cfg.device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = add_lora(model, cfg).to(device)
    examples = [encoder.encode(img, target) for img, target in pairs]
    examples = [{k: (v[: cfg.max_length] if k in ("input_ids", "labels") else v) for k, v in e.items()}
                for e in examples]
    pad = getattr(getattr(encoder, "tokenizer", None), "eos_token_id", None) or 0
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    warm = max(1, int(cfg.warmup * cfg.steps))

    def schedule(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, cfg.steps - warm)))

    sched = torch.optim.lr_scheduler.LambdaLR(optim, schedule)
    gen = torch.Generator().manual_seed(cfg.seed)
    model.train()
    losses, start = [], time.perf_counter()
    for step in range(cfg.steps):
        idx = torch.randint(len(examples), (min(cfg.batch_size, len(examples)),), generator=gen).tolist()
        batch = {k: v.to(device) for k, v in collate([examples[i] for i in idx], pad).items()}
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        optim.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if log:
            log(step, float(loss))
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out / "adapter"))
    (out / "ppm.json").write_text(json.dumps(asdict(cfg), indent=2))
    (out / "losses.json").write_text(json.dumps(losses))
    return {"steps": cfg.steps, "first_loss": losses[0], "last_loss": losses[-1],
            "seconds": round(time.perf_counter() - start, 2), "trainable_params": sum(p.numel() for p in params),
            "device": device,
            "model": model, "encoder": encoder}


def load_trained(folder: Path) -> tuple[Any, Any]:
    """Base model (rebuilt with the saved seed for ``tiny``) + the saved adapter."""
    peft = require("peft", "train")
    cfg = TrainConfig(**json.loads((folder / "ppm.json").read_text()))
    model, encoder = load_base(cfg)
    device = cfg.device or ("cuda" if require("torch", "hf").cuda.is_available() else "cpu")
    return peft.PeftModel.from_pretrained(model, str(folder / "adapter")).to(device), encoder


def predict(model: Any, encoder: Any, images: list[Path], max_new_tokens: int = 1000) -> list[str]:
    """Greedy decoding of a netlist per image (paper: greedy, max_length 1000)."""
    torch = require("torch", "hf")
    model.eval()
    device = next(model.parameters()).device
    out = []
    with torch.no_grad():
        for image in images:
            inputs = {k: v.unsqueeze(0).to(device) for k, v in encoder.encode(image, None).items() if k != "labels"}
            ids = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
            out.append(encoder.decode(ids[0, inputs["input_ids"].shape[1]:]))
    return out


def dataset_pairs(folder: Path, split: str) -> list[tuple[str, Path, str]]:
    """(id, image, netlist) of one split of a ``labkit maps generate`` dataset."""
    from labkit.core.errors import DataError
    from labkit.maps.data import generated_circuits

    path, numbered = generated_circuits(folder, "split")
    rows = [r for _, r in numbered]
    missing = [r["id"] for r in rows if not r.get("image")]
    if missing:
        raise DataError(f"{len(missing)} circuits have no image (generated with --no-render)", path=str(path))
    pairs = [(r["id"], path.parent / r["image"], r["spice"]) for r in rows if r["split"] == split]
    if not pairs:
        raise DataError(f"no circuits in the '{split}' split", path=str(path))
    return pairs
