"""Offline parameterisation of documents (arXiv:2501.15915 Sec. 3.2, Eq. 5): five training sequences per
document (QA1 and QA2 each with the passage and with the rewrite, QA3 alone), next-token loss, one LoRA per
document from the shared initialisation, stored once per (document content, fingerprint).

The fingerprint (the store's folder) hashes the base model id and revision, the augmenter, the prompt
template version and every training setting; inside it an adapter's key hashes everything it was
trained on from the document: the passage (whitespace-normalised) and the augmentation's rewrite and QA
pairs. So changed inputs retrain and equal inputs reuse, whichever question retrieves the passage.
``AdapterStore.key`` is the one place the key is computed; an index maps passage text to the latest key
for passages whose augmentation is only known after augmenting (model augmenters).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labkit.core.files import atomic_write
from labkit.prag.adapters import LoraSpec, init_adapter, load_adapter, save_adapter, side_path
from labkit.prag.corpus import Document

INSTRUCTION = ("You should answer the question by referring to the knowledge provided below and integrating your "
               "own knowledge.")
ANSWER_PREFIX = "The answer is"  # every mode's answer starts here (as the training answers do)
TEMPLATE_VERSION = 2  # bumps the fingerprint when the training/inference template changes


@dataclass(frozen=True)
class EncodeConfig:
    rank: int = 2  # paper: r = 2
    alpha: float = 32.0  # paper: lora_alpha = 32
    lr: float = 3e-4  # paper: 3e-4 (measured here: too small to inject facts into the 135M model; see README)
    epochs: int = 1  # paper: 1 (2 for PopQA)
    loss: str = "full"  # full sequence (paper Eq. 5) or "answer" (assistant turn only)
    init_seed: int = 0  # the one shared initialisation

    @property
    def spec(self) -> LoraSpec:
        return LoraSpec(self.rank, self.alpha)


def prompt_messages(question: str, passages: list[str]) -> list[dict[str, str]]:
    """The inference template; P-RAG uses it with an empty passage block."""
    block = "".join(f"Passage {i + 1}: {p}\n" for i, p in enumerate(passages))
    return [{"role": "user", "content": f"{INSTRUCTION}\n{block}Question: {question}"}]


def generation_prompt(tokenizer: Any, question: str, passages: list[str]) -> str:
    """The text every mode generates from: the chat prompt, then the assistant turn opened with
    ``ANSWER_PREFIX``, so no mode is scored on a format the others were not asked for (a 135M model told
    to start its answer that way repeats the phrase instead; forcing the prefix does not)."""
    return tokenizer.apply_chat_template(prompt_messages(question, passages), tokenize=False,
                                         add_generation_prompt=True) + ANSWER_PREFIX


def training_texts(doc: Document, tokenizer: Any) -> list[str]:
    (q1, a1), (q2, a2), (q3, a3) = doc.qa[:3]
    pairs = [(q1, a1, doc.text), (q1, a1, doc.rewrite), (q2, a2, doc.text), (q2, a2, doc.rewrite), (q3, a3, None)]
    return [tokenizer.apply_chat_template(
        prompt_messages(q, [p] if p else []) + [{"role": "assistant", "content": f"{ANSWER_PREFIX} {a}."}],
        tokenize=False) for q, a, p in pairs]


def normalise_text(text: str) -> str:
    return " ".join(text.split())


def text_key(text: str) -> str:
    """A passage's identity: its whitespace-normalised text."""
    return hashlib.sha256(normalise_text(text).encode()).hexdigest()[:20]


def fingerprint(model_id: str, revision: str, augmenter: str, cfg: EncodeConfig) -> str:
    blob = json.dumps({"model": model_id, "revision": revision, "augmenter": augmenter,
                       "template": TEMPLATE_VERSION, **asdict(cfg)}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


@dataclass
class AdapterStore:
    """``<root>/<fingerprint>/<key>.safetensors``, ``index.jsonl`` (passage text -> key) and a cost log."""

    root: Path
    fingerprint: str
    _latest: dict[str, str] | None = field(default=None, init=False, repr=False)  # text key -> adapter key

    @property
    def folder(self) -> Path:
        return self.root / self.fingerprint

    @staticmethod
    def key(doc: Document) -> str:
        """Everything the adapter is trained on from the document (the folder covers model and settings)."""
        blob = json.dumps({"text": normalise_text(doc.text), "rewrite": normalise_text(doc.rewrite),
                           "qa": [[normalise_text(q), normalise_text(a)] for q, a in doc.qa[:3]]}, ensure_ascii=False)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def path(self, doc: Document) -> Path:
        return self.folder / f"{self.key(doc)}.safetensors"

    def has(self, doc: Document) -> bool:
        return self.path(doc).exists()

    def load(self, doc: Document) -> dict[str, Any]:
        return load_adapter(self.path(doc))

    def find(self, text: str) -> Path | None:
        """The latest adapter trained for a passage text, when its augmentation is not known here. The index
        is read once per store (not per question) and kept current by ``save``."""
        if self._latest is None:
            self._latest = {}
            index = self.folder / "index.jsonl"
            for line in index.read_text().splitlines() if index.exists() else []:
                if line.strip():
                    row = json.loads(line)
                    self._latest[row["text"]] = row["key"]  # later lines win: the latest adapter
        key = self._latest.get(text_key(text))
        path = self.folder / f"{key}.safetensors" if key else None
        return path if path is not None and path.exists() else None

    def save(self, doc: Document, adapter: dict[str, Any], cost: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        key = self.key(doc)
        # a kill leaves either nothing or the whole adapter
        atomic_write(self.path(doc), lambda tmp: save_adapter(adapter, tmp, metadata={"doc_id": doc.id, "key": key}))
        with open(self.folder / "index.jsonl", "a") as fh:
            fh.write(json.dumps({"doc_id": doc.id, "text": text_key(doc.text), "key": key}) + "\n")
        if self._latest is not None:
            self._latest[text_key(doc.text)] = key
        with open(self.folder / "costs.jsonl", "a") as fh:
            fh.write(json.dumps({"doc_id": doc.id, "key": key, **cost}) + "\n")


def train_document(model: Any, tokenizer: Any, doc: Document, cfg: EncodeConfig) -> tuple[dict[str, Any], dict]:
    """One LoRA for one document; the base weights stay frozen and untouched (side path)."""
    import torch

    spec = cfg.spec
    adapter = {k: v.clone().requires_grad_(True) for k, v in init_adapter(model, spec, cfg.init_seed).items()}
    optim = torch.optim.AdamW(list(adapter.values()), lr=cfg.lr)  # torch defaults otherwise, as the original
    texts = training_texts(doc, tokenizer)
    start, tokens, losses = time.perf_counter(), 0, []
    was_training = model.training
    model.train(False)
    for p in model.parameters():
        p.requires_grad_(False)
    with side_path(model, [adapter], spec):
        for _ in range(cfg.epochs):
            for text in texts:  # batch 1, no scheduler, as the original
                ids = tokenizer(text, return_tensors="pt").input_ids
                labels = ids.clone()
                if cfg.loss == "answer":
                    prefix = tokenizer(text.rsplit("The answer is", 1)[0], return_tensors="pt").input_ids.shape[1]
                    labels[:, :prefix] = -100
                loss = model(ids, labels=labels).loss
                loss.backward()
                optim.step()
                optim.zero_grad(set_to_none=True)
                tokens += ids.shape[1]
                losses.append(float(loss.detach()))
    model.train(was_training)
    trained = {k: v.detach().clone() for k, v in adapter.items()}
    cost = {"seconds": round(time.perf_counter() - start, 3), "tokens": tokens, "steps": len(losses),
            "first_loss": losses[0], "last_loss": losses[-1],
            "bytes": sum(v.numel() * 4 for v in trained.values())}
    return trained, cost


def encode_corpus(model: Any, tokenizer: Any, docs: list[Document], cfg: EncodeConfig,
                  store: AdapterStore, progress: bool | None = None) -> dict[str, int]:
    """Train every document without an adapter in the store; finished ones are never trained again."""
    from tqdm.auto import tqdm

    todo = [d for d in docs if not store.has(d)]
    for doc in tqdm(todo, desc="encode", disable=(not progress) if progress is not None else None):
        adapter, cost = train_document(model, tokenizer, doc, cfg)
        store.save(doc, adapter, cost)
    return {"documents": len(docs), "trained": len(todo), "reused": len(docs) - len(todo)}
