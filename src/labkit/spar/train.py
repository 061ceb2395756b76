"""Actor training on SPaR's pairs with TRL's DPO: beta 0.1 plus the SFT term on the chosen response with weight
0.1 (the paper's ``pref_ftx``, Appendix C) - TRL's ``loss_type=["sigmoid", "sft"]``, ``loss_weights=[1, 0.1]``.
LoRA (default; peft) or full fine-tuning, on the converted embedded SmolLM2 or any local HF model. The pairs
are TRL's conversational preference format: ``{"prompt": [user turn], "chosen": [assistant turn], "rejected":
[assistant turn]}``. ``pair_metrics`` measures the DPO loss and the chosen-vs-rejected reward margin on given
pairs (before training both are at their reference values: loss log 2 + SFT term, margin 0). The refiner's
RFT (``rft_train``) is TRL's SFT on the RFT rows as prompt-completion pairs (loss on the refiner's answer)."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError, require
from labkit.core.files import publish, temp_folder
from labkit.core.models.weights import local_weights, lora_config


@dataclass(frozen=True)
class DpoSettings:
    beta: float = 0.1  # paper
    sft_weight: float = 0.1  # paper pref_ftx
    lr: float = 5e-6  # paper 2e-7 for 8B full fine-tuning; small models need more (measured here: 5e-7 to 5e-6)
    epochs: int = 1  # paper
    batch: int = 4  # paper: 2 per device x 2 accumulation x 8 GPUs
    lora_rank: int = 16  # 0 = full fine-tuning (paper: full)
    max_length: int = 1024
    seed: int = 0


def model_path(spec: str) -> Path:
    """A trainable local folder for a model spec: ``smollm2`` (converted once) or ``hf:<dir>``; endpoint actors are
    trained with the GPU recipe in the README."""
    return local_weights(spec, "actor")


def as_trl(pairs: list[dict[str, str]]) -> list[dict[str, Any]]:
    """``{"prompt", "chosen", "rejected"}`` texts -> TRL's conversational preference rows."""
    return [{"prompt": [{"role": "user", "content": p["prompt"]}],
             "chosen": [{"role": "assistant", "content": p["chosen"]}],
             "rejected": [{"role": "assistant", "content": p["rejected"]}]} for p in pairs]


def on_gpu() -> bool:
    """Train on CUDA where there is one (bf16, the paper's GPUs), else on the CPU in float32."""
    return bool(require("torch", "hf").cuda.is_available())


def _model(folder: Path, lora_rank: int, seed: int) -> tuple[Any, Any, Any]:
    """Tokenizer, model (bf16 on a GPU, float32 on the CPU) and the LoRA config (None: full fine-tuning) for a
    local model folder."""
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    torch.manual_seed(seed)
    tok = transformers.AutoTokenizer.from_pretrained(str(folder))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    model = transformers.AutoModelForCausalLM.from_pretrained(
        str(folder), dtype=torch.bfloat16 if on_gpu() else torch.float32)
    peft_config = None
    if lora_rank:
        peft_config = lora_config(lora_rank, task_type="CAUSAL_LM")
    return tok, model, peft_config


def _work_dir(out: Path) -> Path:
    return out.with_name(out.name + ".work")


def _save(trainer: Any, out: Path) -> None:
    """The adapter (LoRA) or model and the tokenizer in ``out``; TRL's scratch folder removed."""
    import shutil

    trainer.save_model(str(out))
    trainer.processing_class.save_pretrained(str(out))
    shutil.rmtree(_work_dir(out), ignore_errors=True)


def _quiet(trainer: Any) -> Any:
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    return trainer


def _trainer(folder: Path, pairs: list[dict[str, str]], s: DpoSettings, out: Path) -> Any:
    datasets = require("datasets", "rlhf")
    trl = require("trl", "rlhf")
    datasets.disable_progress_bars()  # TRL tokenises the pairs; its bars are noise here
    tok, model, peft_config = _model(folder, s.lora_rank, s.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("transformers").setLevel(logging.ERROR)
        args = trl.DPOConfig(output_dir=str(out), beta=s.beta, loss_type=["sigmoid", "sft"],
                             loss_weights=[1.0, s.sft_weight], learning_rate=s.lr, num_train_epochs=s.epochs,
                             per_device_train_batch_size=s.batch, per_device_eval_batch_size=s.batch,
                             max_length=s.max_length, seed=s.seed, use_cpu=not on_gpu(), bf16=on_gpu(), report_to=[],
                             save_strategy="no", logging_steps=10_000, disable_tqdm=True, lr_scheduler_type="linear",
                             warmup_steps=0.1)
        data = datasets.Dataset.from_list(as_trl(pairs))
        trainer = trl.DPOTrainer(model=model, args=args, train_dataset=data, eval_dataset=data,
                                 processing_class=tok, peft_config=peft_config)
    return _quiet(trainer)


def pair_metrics(trainer: Any, pairs: list[dict[str, str]]) -> dict[str, float]:
    datasets = require("datasets", "rlhf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = trainer.evaluate(eval_dataset=datasets.Dataset.from_list(as_trl(pairs)))
    return {"loss": float(out["eval_loss"]), "margin": float(out["eval_rewards/margins"]),
            "accuracy": float(out["eval_rewards/accuracies"])}


def dpo_train(spec: str, pairs: list[dict[str, str]], out: Path, s: DpoSettings | None = None) -> dict[str, Any]:
    """Train the actor on ``pairs``; save the adapter (LoRA) or the model (full) and the tokenizer in ``out``.
    Returns the loss and margin on the training pairs before and after, and the training time."""
    if not pairs:
        raise ConfigError("no preference pairs to train on")
    s = s or DpoSettings()
    trainer = _trainer(model_path(spec), pairs, s, _work_dir(out))
    before = pair_metrics(trainer, pairs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = trainer.train()
    after = pair_metrics(trainer, pairs)
    greedy = greedy_answers(trainer.model, trainer.processing_class, [p["prompt"] for p in pairs[:8]])  # a look
    _save(trainer, out)
    return {"pairs": len(pairs), "before": before, "after": after, "seconds": float(result.metrics["train_runtime"]),
            "lora_rank": s.lora_rank, "base": str(model_path(spec)), "greedy_after": greedy}


@dataclass(frozen=True)
class RftSettings:
    """The refiner's rejection-sampling fine-tuning (paper: LLaMA-Factory SFT, full, lr 2e-6, 5 epochs,
    constant schedule after 10% warm-up, batch 2 x 4 accumulation x 8 GPUs)."""

    lr: float = 2e-6
    epochs: int = 5
    batch: int = 8
    lora_rank: int = 16  # 0 = full fine-tuning (paper: full)
    max_length: int = 2048
    seed: int = 0


def as_completion_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """RFT ``{"messages"}`` rows -> TRL's conversational prompt-completion rows, so the loss covers the refiner's
    answer only (the judge/refine instructions are the prompt)."""
    return [{"prompt": r["messages"][:-1], "completion": r["messages"][-1:]} for r in rows]


def _sft_trainer(folder: Path, rows: list[dict[str, Any]], s: RftSettings, out: Path) -> Any:
    datasets = require("datasets", "rlhf")
    trl = require("trl", "rlhf")
    datasets.disable_progress_bars()
    tok, model, peft_config = _model(folder, s.lora_rank, s.seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("transformers").setLevel(logging.ERROR)
        args = trl.SFTConfig(output_dir=str(out), learning_rate=s.lr, num_train_epochs=s.epochs,
                             per_device_train_batch_size=s.batch, per_device_eval_batch_size=s.batch,
                             max_length=s.max_length, completion_only_loss=True, seed=s.seed, use_cpu=not on_gpu(),
                             bf16=on_gpu(), report_to=[], save_strategy="no", logging_steps=10_000, disable_tqdm=True,
                             lr_scheduler_type="constant_with_warmup", warmup_steps=0.1)
        data = datasets.Dataset.from_list(as_completion_rows(rows))
        trainer = trl.SFTTrainer(model=model, args=args, train_dataset=data, eval_dataset=data,
                                 processing_class=tok, peft_config=peft_config)
    return _quiet(trainer)


def rft_train(spec: str, rows: list[dict[str, Any]], out: Path, s: RftSettings | None = None) -> dict[str, Any]:
    """Fine-tune the refiner on its RFT rows (R_{t+1} from R_t); save the adapter or model and tokenizer in
    ``out``. Returns the completion loss on the rows before and after and the training time."""
    if not rows:
        raise ConfigError("no RFT rows to train the refiner on")
    s = s or RftSettings()
    trainer = _sft_trainer(model_path(spec), rows, s, _work_dir(out))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        before = float(trainer.evaluate()["eval_loss"])
        result = trainer.train()
        after = float(trainer.evaluate()["eval_loss"])
    _save(trainer, out)
    return {"rows": len(rows), "loss_before": before, "loss_after": after,
            "seconds": float(result.metrics["train_runtime"]), "lora_rank": s.lora_rank, "base": str(model_path(spec))}


def greedy_answers(model: Any, tok: Any, prompts: list[str], max_new_tokens: int = 24) -> list[str]:
    """Greedy answers of a (trained) model to user turns, one at a time (no padding effects)."""
    torch = require("torch", "hf")
    out = []
    model.eval()
    for p in prompts:
        ids = tok.apply_chat_template([{"role": "user", "content": p}], add_generation_prompt=True,
                                      return_tensors="pt", return_dict=True)
        ids = {k: v.to(model.device) for k, v in ids.items()}
        with torch.no_grad():
            gen = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        out.append(tok.decode(gen[0, ids["input_ids"].shape[1]:], skip_special_tokens=True))
    return out


def load_trained(out: Path, base: Path) -> tuple[Any, Any]:
    """The trained actor: base + adapter (LoRA) or the saved model (full), with its tokenizer."""
    transformers = require("transformers", "hf")
    tok = transformers.AutoTokenizer.from_pretrained(str(out))
    if (out / "adapter_config.json").exists():
        peft = require("peft", "train")
        model = transformers.AutoModelForCausalLM.from_pretrained(str(base))
        return peft.PeftModel.from_pretrained(model, str(out)).eval(), tok
    return transformers.AutoModelForCausalLM.from_pretrained(str(out)).eval(), tok


def merged_folder(out: Path, base: Path, dest: Path) -> Path:
    """The trained actor as a plain model folder (LoRA merged), so the next iteration (M_{t+1} from M_t) and
    every labkit tool load it as ``hf:<dest>``."""
    if (dest / "config.json").exists():
        return dest
    model, tok = load_trained(out, base)
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    tmp = temp_folder(dest)
    model.save_pretrained(tmp)
    tok.save_pretrained(tmp)
    return publish(tmp, dest)
