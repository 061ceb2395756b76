"""The data scorer (PDS Sec. 3.2): a model that predicts the solver's PMP scores from a document's text, so the
whole corpus can be scored without running the solver on it.

- ``ridge`` (default): frozen MiniLM embeddings (the embedded all-MiniLM-L6-v2) and scikit-learn's ``RidgeCV``;
- ``finetune``: MiniLM with a linear regression head on mean-pooled states, fine-tuned end to end on the
  standardised scores (the paper fine-tunes a 125M LM the same way);
- ``auto``: both, keeping the better validation Spearman (scipy.stats).

Both are fitted on a seeded train split, judged by Spearman's rho on the held-out split, then refitted on all
scored documents for use. A scorer is a folder: ``meta.json`` plus ``ridge.joblib`` or ``minilm/`` + ``head.pt``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import DataError
from labkit.core.models import embed
from labkit.core.records import read_json
from labkit.pds.config import ScorerConfig


def _fit_ridge(texts: list[str], y: np.ndarray) -> Any:
    from sklearn.linear_model import RidgeCV

    return RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(embed(texts), y)


def _finetune(texts: list[str], y: np.ndarray, seed: int, epochs: int = 4, batch: int = 16, lr: float = 5e-5
              ) -> tuple[Any, Any, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from labkit.core.models.embed import minilm_dir

    torch.manual_seed(seed)
    tok = AutoTokenizer.from_pretrained(str(minilm_dir()))
    enc = AutoModel.from_pretrained(str(minilm_dir()))
    head = torch.nn.Linear(enc.config.hidden_size, 1)
    opt = torch.optim.AdamW([*enc.parameters(), *head.parameters()], lr=lr)
    target = torch.tensor(y, dtype=torch.float32)
    g = torch.Generator().manual_seed(seed)
    enc.train()
    for _ in range(epochs):
        for b in torch.randperm(len(texts), generator=g).split(batch):
            pred = _forward(tok, enc, head, [texts[i] for i in b])
            loss = torch.nn.functional.mse_loss(pred, target[b])
            opt.zero_grad()
            loss.backward()
            opt.step()
    enc.eval()
    return tok, enc, head


def _forward(tok: Any, enc: Any, head: Any, texts: list[str]) -> Any:
    batch = tok(texts, padding=True, truncation=True, max_length=256, return_tensors="pt")
    hidden = enc(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return head((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)).squeeze(-1)


class Scorer:
    """A fitted scorer: ``predict(texts)`` in the solver's score units."""

    def __init__(self, head: str, model: Any, mean: float, std: float) -> None:
        self.head, self.model, self.mean, self.std = head, model, mean, std

    def predict(self, texts: list[str], batch: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        if self.head == "ridge":
            z = self.model.predict(embed(texts))
        else:
            import torch

            tok, enc, head = self.model
            with torch.inference_mode():
                z = np.concatenate([_forward(tok, enc, head, texts[i:i + batch]).numpy()
                                    for i in range(0, len(texts), batch)])
        return np.asarray(z, dtype=np.float64) * self.std + self.mean

    def save(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        if self.head == "ridge":
            import joblib

            joblib.dump(self.model, folder / "ridge.joblib")
        else:
            import torch

            tok, enc, head = self.model
            enc.save_pretrained(folder / "minilm")
            tok.save_pretrained(folder / "minilm")
            torch.save(head.state_dict(), folder / "head.pt")
        (folder / "meta.json").write_text(json.dumps({"head": self.head, "mean": self.mean, "std": self.std}))
        return folder


def check_scorer(folder: Path) -> dict[str, Any]:
    """A scorer folder's meta.json, checked with the files its head needs (cheap: nothing is loaded)."""
    meta_path = Path(folder) / "meta.json"
    if not meta_path.exists():
        raise DataError(f"{folder}: not a scorer folder (no meta.json; make one with `labkit pds fit-scorer`)")
    meta = read_json(meta_path, dict)
    if meta.get("head") not in ("ridge", "finetune"):
        raise DataError(f"head {meta.get('head')!r} is not one of ridge, finetune", path=str(meta_path), field="head")
    for key in ("mean", "std"):
        v = meta.get(key)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not np.isfinite(v):
            raise DataError("want a finite number", path=str(meta_path), field=key)
    needed = ["ridge.joblib"] if meta["head"] == "ridge" else ["minilm", "head.pt"]
    missing = [name for name in needed if not (Path(folder) / name).exists()]
    if missing:
        raise DataError(f"not a complete scorer folder (no {missing[0]})", path=str(folder))
    return meta


def load_scorer(folder: Path) -> Scorer:
    meta = check_scorer(folder)
    if meta["head"] == "ridge":
        import joblib

        return Scorer("ridge", joblib.load(Path(folder) / "ridge.joblib"), meta["mean"], meta["std"])
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(Path(folder) / "minilm"))
    enc = AutoModel.from_pretrained(str(Path(folder) / "minilm")).eval()
    head = torch.nn.Linear(enc.config.hidden_size, 1)
    head.load_state_dict(torch.load(Path(folder) / "head.pt"))
    return Scorer("finetune", (tok, enc, head), meta["mean"], meta["std"])


def zclip(y: np.ndarray, bound: float = 3.0) -> np.ndarray:
    """The released pipeline's post-processing of the solver's scores: z-score, then clip to [-bound, bound]
    (constant scores map to 0)."""
    std = float(y.std())
    return np.clip((y - y.mean()) / std, -bound, bound) if std > 0 else np.zeros_like(y)


def _fit(head: str, texts: list[str], z: np.ndarray, seed: int) -> Any:
    return _fit_ridge(texts, z) if head == "ridge" else _finetune(texts, z, seed)


def fit_scorer(texts: list[str], scores: np.ndarray, cfg: ScorerConfig) -> tuple[Scorer, dict[str, Any]]:
    """Validation Spearman of each head asked for, then the chosen head refitted on all documents."""
    from scipy.stats import spearmanr

    y = np.asarray(scores, dtype=np.float64)
    if len(y) < 10:
        raise DataError(f"{len(y)} scored documents: the scorer needs at least 10")
    if not np.all(np.isfinite(y)):
        raise DataError(f"{int((~np.isfinite(y)).sum())} score(s) are not finite numbers")
    if cfg.normalise == "zclip":
        y = zclip(y)
    mean, std = float(y.mean()), float(y.std()) or 1.0
    z = (y - mean) / std
    order = np.random.default_rng(cfg.seed).permutation(len(y))
    n_val = max(2, round(cfg.val_share * len(y)))
    val, train = order[:n_val], order[n_val:]
    heads = ["ridge", "finetune"] if cfg.head == "auto" else [cfg.head]
    report: dict[str, Any] = {"train": len(train), "validation": len(val), "spearman": {},
                              "targets": cfg.normalise}
    for head in heads:
        s = Scorer(head, _fit(head, [texts[i] for i in train], z[train], cfg.seed), mean, std)
        rho = spearmanr(s.predict([texts[i] for i in val]), y[val]).statistic
        report["spearman"][head] = float(rho)
    best = max(heads, key=lambda h: report["spearman"][h])
    report["head"] = best
    return Scorer(best, _fit(best, texts, z, cfg.seed), mean, std), report
