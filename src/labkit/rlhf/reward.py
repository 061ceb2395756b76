"""Learned reward models for the RLHF study (arXiv:2412.06000), trained on preference pairs the
rule reward labels, so their quality can be measured against the truth:

- ``rm-bt``: a Bradley-Terry linear head on frozen MiniLM embeddings of prompt + response. With a linear
  score w.phi(x), P(chosen > rejected) = sigmoid(w.(phi_c - phi_r)), which is logistic regression on the
  embedding differences without intercept - fitted by scikit-learn;
- ``rm-s`` / ``rm-m``: the two tiny Llamas with a scalar head (``LlamaForSequenceClassification``),
  initialised from that size's SFT policy and fine-tuned with TRL's ``RewardTrainer``.

Preference pairs: responses sampled from one fixed data policy (the small SFT policy), so every RM sees the
same pairs; chosen = a correct sample or, when none is, the reference answer; rejected = a wrong sample;
prompts whose samples are all correct give no pair and are counted. Every RM is an artifact keyed by the
hash of what it was trained on and built once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import ConfigError
from labkit.core.files import publish, temp_folder
from labkit.rlhf.eval import best_of_n_accuracy, pairwise_accuracy
from labkit.rlhf.policy import SftSettings, load_policy, render, sample, sft_policy
from labkit.rlhf.tasks import Prompt, make_prompts, rule_reward

RM_KINDS = {"rm-bt": None, "rm-s": "tiny-llama-s", "rm-m": "tiny-llama-m"}
DATA_POLICY = "tiny-llama-s"  # the policy whose samples make every RM's preference pairs
Scorer = Callable[[list[str], list[str]], np.ndarray]  # (prompts, responses) -> scores


@dataclass(frozen=True)
class RmSettings:
    kind: str
    task: str
    task_size: int
    prompts: int
    seed: int
    samples: int = 4  # responses sampled per preference prompt
    temperature: float = 1.0
    epochs: int = 5  # fine-tuned RMs
    lr: float = 1e-3

    def key(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def preference_pairs(model: Any, tok: Any, prompts: list[Prompt], *, samples: int, temperature: float,
                     seed: int) -> tuple[list[dict[str, str]], int]:
    """(pairs, prompts without a wrong sample): one pair per distinct wrong sample, in TRL's explicit-prompt
    format."""
    outs = sample(model, tok, render(tok, prompts), samples, temperature=temperature, seed=seed)
    pairs, skipped = [], 0
    for p, texts in zip(prompts, outs, strict=True):
        right = [t for t in texts if rule_reward(p, t) == 1.0]
        wrong = [t for t in texts if rule_reward(p, t) == 0.0]
        if not wrong:
            skipped += 1
            continue
        pairs += [{"prompt": p.compact, "chosen": right[i % len(right)] if right else p.answer, "rejected": w}
                  for i, w in enumerate(dict.fromkeys(wrong))]
    return pairs, skipped


def _train_bt(pairs: list[dict[str, str]], folder: Path) -> None:
    from sklearn.linear_model import LogisticRegression

    from labkit.core.models.embed import embed_minilm

    chosen = embed_minilm([p["prompt"] + p["chosen"] for p in pairs])
    rejected = embed_minilm([p["prompt"] + p["rejected"] for p in pairs])
    diff = chosen - rejected
    x, y = np.concatenate([diff, -diff]), np.r_[np.ones(len(diff)), np.zeros(len(diff))]
    head = LogisticRegression(fit_intercept=False, C=10.0, max_iter=2000).fit(x, y)
    folder.mkdir(parents=True)
    np.save(folder / "bt_weights.npy", head.coef_[0].astype(np.float32))


def _train_ft(pairs: list[dict[str, str]], base: Path, s: RmSettings, folder: Path) -> None:
    import datasets
    from datasets import Dataset
    from transformers import LlamaForSequenceClassification
    from transformers.trainer_callback import PrinterCallback
    from trl import RewardConfig, RewardTrainer

    datasets.disable_progress_bars()  # TRL tokenises the pairs; its bars are noise here
    _, tok = load_policy(base)
    model = LlamaForSequenceClassification.from_pretrained(str(base), num_labels=1)
    model.config.pad_token_id = tok.pad_token_id
    args = RewardConfig(output_dir=str(folder.with_suffix(".work")), num_train_epochs=s.epochs,
                        per_device_train_batch_size=16, learning_rate=s.lr, seed=s.seed, use_cpu=True, report_to=[],
                        save_strategy="no", logging_steps=10_000, disable_tqdm=True, max_length=64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("transformers").setLevel(logging.ERROR)
        trainer = RewardTrainer(model=model, args=args, train_dataset=Dataset.from_list(pairs), processing_class=tok)
        trainer.remove_callback(PrinterCallback)
        trainer.train()
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    shutil.rmtree(args.output_dir, ignore_errors=True)


def build_rm(s: RmSettings, root: Path) -> Path:
    """The reward model's folder, trained once per settings key (whole or nothing)."""
    if s.kind not in RM_KINDS:
        raise ConfigError(f"reward must be rule or one of {', '.join(RM_KINDS)} (got {s.kind!r})")
    folder = Path(root) / f"rm-{s.key()}"
    if (folder / "meta.json").exists():
        return folder
    data_policy = sft_policy(SftSettings.recipe(DATA_POLICY, s.task, s.task_size, s.seed), root)
    model, tok = load_policy(data_policy)
    prompts = make_prompts(s.task, "preference", s.prompts, size=s.task_size, seed=s.seed)
    pairs, skipped = preference_pairs(model, tok, prompts, samples=s.samples, temperature=s.temperature, seed=s.seed)
    if len(pairs) < 8:
        raise ConfigError(f"only {len(pairs)} preference pairs from {s.prompts} prompts: raise rm_prompts")
    tmp = temp_folder(folder)
    if s.kind == "rm-bt":
        _train_bt(pairs, tmp)
    else:
        _train_ft(pairs, sft_policy(SftSettings.recipe(RM_KINDS[s.kind], s.task, s.task_size, s.seed), root), s, tmp)
    meta = {"settings": asdict(s), "pairs": len(pairs), "prompts_without_pair": skipped}
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    return publish(tmp, folder)


def load_scorer(folder: Path) -> Scorer:
    """The RM as a function of (prompts, responses) -> scores."""
    if (folder / "bt_weights.npy").exists():
        from labkit.core.models.embed import embed_minilm

        w = np.load(folder / "bt_weights.npy")
        return lambda prompts, responses: embed_minilm([p + r for p, r in zip(prompts, responses, strict=True)]) @ w
    import torch
    from transformers import LlamaForSequenceClassification, PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast.from_pretrained(str(folder))
    tok.padding_side = "left"
    model = LlamaForSequenceClassification.from_pretrained(str(folder)).eval()

    def score(prompts: list[str], responses: list[str]) -> np.ndarray:  # as RewardTrainer saw them: eos at the end
        texts = [p + r.strip() + tok.eos_token for p, r in zip(prompts, responses, strict=True)]
        enc = tok(texts, return_tensors="pt", padding=True)
        with torch.no_grad():
            return model(**enc).logits[:, 0].float().numpy()

    return score


def rm_metrics(scorer: Scorer, model: Any, tok: Any, prompts: list[Prompt], *, n: int = 8,
               seed: int = 0) -> dict[str, float]:
    """Held-out RM quality: pairwise accuracy on rule-labelled pairs, best-of-n accuracy over n samples of
    the policy (with the oracle's and a random pick's for scale)."""
    pairs, _ = preference_pairs(model, tok, prompts, samples=4, temperature=1.0, seed=seed)
    chosen = scorer([p["prompt"] for p in pairs], [p["chosen"] for p in pairs])
    rejected = scorer([p["prompt"] for p in pairs], [p["rejected"] for p in pairs])
    outs = sample(model, tok, render(tok, prompts), n, temperature=1.0, seed=seed + 1)
    flat_p = [p.compact for p, texts in zip(prompts, outs, strict=True) for _ in texts]
    scores = scorer(flat_p, [t for texts in outs for t in texts]).reshape(len(prompts), n)
    correct = [[rule_reward(p, t) == 1.0 for t in texts] for p, texts in zip(prompts, outs, strict=True)]
    return {"rm_pairwise": pairwise_accuracy(chosen, rejected), "rm_pairs": len(pairs),
            "rm_best_of_n": best_of_n_accuracy(scores, correct), "best_of_n_n": n,
            "best_of_n_oracle": float(np.mean([any(c) for c in correct])),
            "best_of_n_random": float(np.mean([np.mean(c) for c in correct]))}
