"""PRAG online and offline runs: encode a corpus, answer a question in one of four modes, evaluate.

Modes (arXiv:2501.15915 Sec. 3.3): ``none`` (no retrieval), ``rag`` (passages in the prompt), ``prag``
(retrieved adapters merged, no passages), ``combine`` (both). Each answer carries the time split into
retrieve / load+merge / generate and the prompt length in tokens.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError, DataError
from labkit.prag.adapters import merged
from labkit.prag.config import PragConfig
from labkit.prag.corpus import Document
from labkit.prag.data import Passage
from labkit.prag.encode import (
    ANSWER_PREFIX,
    AdapterStore,
    EncodeConfig,
    fingerprint,
    generation_prompt,
    normalise_text,
    train_document,
)

MODES = ("none", "rag", "prag", "combine", "unrelated")  # unrelated: a control, adapters of k non-retrieved docs


@dataclass
class Generator:
    """The base model and its tokenizer (the HF backend's torch model, used directly for merging)."""

    chat: Any  # HFChatModel

    @property
    def model(self) -> Any:
        return self.chat.model

    @property
    def tokenizer(self) -> Any:
        return self.chat.tokenizer


def check_local_model(spec: str) -> None:
    """Before any work: PRAG needs the weights in this process (an endpoint or the mock cannot merge adapters)."""
    from labkit.core.models.registry import parse_spec

    if parse_spec(spec)[0] not in ("smollm2", "hf"):
        raise ConfigError(f"PRAG merges adapters into local weights: model {spec!r} must be smollm2 or hf:<path>")


def load_generator(spec: str) -> Generator:
    from labkit.core.models import load_model

    chat = load_model(spec)  # cached: augmentation calls (seeded) are looked up; answers under merged weights
    # never go through chat(), so a cached answer can never come from different weights
    if not hasattr(chat, "model") or not hasattr(chat, "tokenizer"):
        raise ConfigError(f"PRAG merges adapters into local weights: {spec!r} must be smollm2 or hf:<path>")
    return Generator(chat)


def encode_config(cfg: PragConfig) -> EncodeConfig:
    t = cfg.train
    return EncodeConfig(t.rank, t.alpha, t.lr, t.epochs, t.loss, t.init_seed)


def open_store(cfg: PragConfig, gen: Generator) -> AdapterStore:
    return AdapterStore(Path(cfg.store), fingerprint(gen.chat.model_id, gen.chat.revision, cfg.augmenter,
                                                     encode_config(cfg)))


def _same_text(a: str, b: str) -> bool:
    return normalise_text(a) == normalise_text(b)  # as the adapter store keys passages


def known_document(passage: Passage, known: dict[str, Document], cfg: PragConfig) -> Document | None:
    """The ready augmentation of a passage, if one was given for this text. One written for other text is stale:
    with augmentations read from a file (template augmenter) that is a DataError naming the file and id, never
    an old adapter used silently; with a model augmenter the passage is augmented again (None)."""
    doc = known.get(passage.id)
    if doc is None or _same_text(doc.text, passage.text):
        return doc
    if cfg.augmenter == "template":
        raise StaleAugmentation(cfg.augmented, [passage.id])
    return None


class StaleAugmentation(DataError):
    def __init__(self, path: str | None, ids: list[str]) -> None:
        super().__init__(f"the augmentation of passage {ids[0]!r} holds other text than the corpus passage (stale"
                         + (f"; {len(ids)} passages are" if len(ids) > 1 else "") + "): write the augmentations "
                         "again from the corpus", path=path or "the --augmented file", field="text")


def check_augmentations(passages: list[Passage], known: dict[str, Document], cfg: PragConfig) -> int:
    """Before any work: every ready augmentation against its passage; returns how many a model will redo."""
    stale = [p.id for p in passages if p.id in known and not _same_text(known[p.id].text, p.text)]
    if stale and cfg.augmenter == "template":
        raise StaleAugmentation(cfg.augmented, stale)
    return len(stale)


def document_for(passage: Passage, cfg: PragConfig, gen: Generator, known: dict[str, Document]) -> Document:
    """The augmented document of a passage: the template one when given, else by the augmenter model."""
    from labkit.core.errors import LabkitError
    from labkit.core.models import load_model
    from labkit.prag.augment import augment

    doc = known_document(passage, known, cfg)
    if doc is not None:
        return doc
    if cfg.augmenter == "template":
        where = cfg.augmented or "the --augmented file"
        raise DataError(f"passage '{passage.id}' has no augmentation (template augmenter: every passage needs a "
                        "record there)", path=str(where), field=passage.id)
    model = gen.chat if cfg.augmenter == "same" else load_model(cfg.augmenter)
    result = augment(passage, model, retries=cfg.retries)
    if result.document is None:
        raise LabkitError(f"passage {passage.id}: augmentation failed ({result.error})")
    return result.document


def generate(gen: Generator, question: str, passages: list[str], max_new_tokens: int) -> tuple[str, int]:
    import torch

    tok = gen.tokenizer
    ids = tok(generation_prompt(tok, question, passages), return_tensors="pt").input_ids
    with torch.no_grad():
        out = gen.model.generate(ids, max_new_tokens=max_new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id or tok.eos_token_id)
    return ANSWER_PREFIX + tok.decode(out[0, ids.shape[1]:], skip_special_tokens=True), int(ids.shape[1])


def adapter_path(passage: Passage, store: AdapterStore, known: dict[str, Document], cfg: PragConfig) -> Path | None:
    """The passage's adapter: keyed by its augmentation when that is known here, else the latest one
    trained for its text (model augmenters)."""
    doc = known_document(passage, known, cfg)
    if doc is not None:
        path = store.path(doc)
        return path if path.exists() else None
    return store.find(passage.text)


_LOADED: dict[Path, Any] = {}


def load_cached(path: Path, size: int = 256) -> dict[str, Any]:
    """Adapters of frequently retrieved passages stay in memory (files are immutable: keyed by content)."""
    from labkit.prag.adapters import load_adapter

    if path not in _LOADED:
        if len(_LOADED) >= size:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[path] = load_adapter(path)
    return _LOADED[path]


def merge_weights(kind: str, scores: list[float], temperature: float = 1.0) -> list[float]:
    """Per-adapter weights: sum (paper Eq. 6), mean, weighted (by score, summing to k), or softmax of the
    retrieval scores / temperature (summing to 1: a confident top hit alone acts like k = 1)."""
    if kind == "sum":
        return [1.0] * len(scores)
    if kind == "mean":
        return [1.0 / len(scores)] * len(scores)
    if kind == "softmax":
        import math

        top = max(scores)
        e = [math.exp((s - top) / temperature) for s in scores]
        return [x / sum(e) for x in e]
    total = sum(max(s, 0.0) for s in scores) or 1.0
    return [len(scores) * max(s, 0.0) / total for s in scores]  # weighted, scaled so equal scores give the sum


def ask(question: str, mode: str, cfg: PragConfig, gen: Generator, index: Any, store: AdapterStore,
        known: dict[str, Document] | None = None) -> dict[str, Any]:
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {MODES}, got {mode!r}")
    known = known or {}
    timing = {"retrieve": 0.0, "load_merge": 0.0, "generate": 0.0, "encode": 0.0}
    hits: list[tuple[Passage, float]] = []
    if mode != "none":
        start = time.perf_counter()
        hits = index.search(question, k=cfg.top_k, dense=cfg.dense)
        timing["retrieve"] = time.perf_counter() - start
    if mode == "unrelated":  # the same number of adapters, from passages the retriever did not return
        taken = {p.id for p, _ in hits}
        others = [p for p in index.passages if p.id not in taken]
        offset = int(hashlib.sha256(question.encode()).hexdigest(), 16) % max(len(others), 1)
        hits = [(others[(offset + i) % len(others)], 1.0) for i in range(min(len(hits), len(others)))]
    adapters, names, scores, missing = [], [], [], []
    if mode in ("prag", "combine", "unrelated"):
        for passage, s in hits:
            path = adapter_path(passage, store, known, cfg)
            if path is None:
                if cfg.missing == "report":
                    missing.append(passage.id)
                    continue
                start = time.perf_counter()
                full = document_for(passage, cfg, gen, known)
                adapter, cost = train_document(gen.model, gen.tokenizer, full, encode_config(cfg))
                store.save(full, adapter, cost)
                path = store.path(full)
                timing["encode"] += time.perf_counter() - start
            start = time.perf_counter()
            adapters.append(load_cached(path))
            timing["load_merge"] += time.perf_counter() - start
            names.append(passage.id)
            scores.append(s)
    passages = [p.text for p, _ in hits] if mode in ("rag", "combine") else []
    start = time.perf_counter()
    spec = encode_config(cfg).spec
    weights = merge_weights(cfg.merge, scores, cfg.merge_temperature) if adapters else None
    with merged(gen.model, adapters, spec, weights, names):
        timing["load_merge"] += time.perf_counter() - start
        start = time.perf_counter()
        text, prompt_tokens = generate(gen, question, passages, cfg.max_new_tokens)
        timing["generate"] = time.perf_counter() - start
    return {"question": question, "mode": mode, "answer": text, "prompt_tokens": prompt_tokens,
            "retrieved": [p.id for p, _ in hits], "scores": [round(s, 4) for _, s in hits], "adapters": names,
            "weights": [round(w, 4) for w in weights or []], "missing_adapters": missing,
            "seconds": {k: round(v, 4) for k, v in timing.items()}}


# ---------------------------------------------------------------- offline encoding

_WORKER: dict[str, Any] = {}


def encode_passage(cfg: PragConfig, known: dict[str, Document], workers: int, passage: Passage) -> dict[str, Any]:
    """One passage in a worker (process, thread or Ray): augment, train, store. The model loads once per worker,
    with the machine's cores shared between workers (oversubscribed torch threads slow training ~25x)."""
    if cfg.model not in _WORKER:
        import os

        import torch

        if workers > 1:
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
        _WORKER[cfg.model] = load_generator(cfg.model)
    gen = _WORKER[cfg.model]
    store = open_store(cfg, gen)
    doc = document_for(passage, cfg, gen, known)  # model augmentation is seeded and cached: cheap when done
    if store.has(doc):  # the key covers the passage and its augmentation: edited inputs are trained again
        return {"id": passage.id, "trained": False}
    adapter, cost = train_document(gen.model, gen.tokenizer, doc, encode_config(cfg))
    store.save(doc, adapter, cost)
    return {"id": passage.id, "trained": True, **cost}


def encode_run(cfg: PragConfig, passages: list[Passage], known: dict[str, Document], workers: int = 1,
               backend: str | None = None) -> dict[str, Any]:
    """Encode every passage without an adapter; resumable (finished adapters are files); failures counted."""
    import functools
    import os

    from labkit.core.parallel import parallel_map

    check_augmentations(passages, known, cfg)  # stale ones: refused here (template), augmented again (model)
    ray = os.environ.get("LABKIT_RAY_ADDRESS") or os.environ.get("LABKIT_RAY", "") not in ("", "0")
    backend = backend or (None if ray else ("process" if workers > 1 else "thread"))  # None: parallel_map picks Ray
    outcomes = parallel_map(functools.partial(encode_passage, cfg, known, workers), passages, workers=workers,
                            desc="encode", backend=backend)
    done = [o.value for o in outcomes if o.ok]
    failed = [{"id": o.item.id, "error": o.error} for o in outcomes if not o.ok]
    trained = [d for d in done if d["trained"]]
    return {"passages": len(passages), "trained": len(trained), "reused": len(done) - len(trained),
            "failed": failed, "seconds_per_document": (sum(d["seconds"] for d in trained) / len(trained))
            if trained else None, "bytes_per_document": trained[0]["bytes"] if trained else None}


# ---------------------------------------------------------------- evaluation


def eval_run(cfg: PragConfig, questions: list[Any], run: Any, known: dict[str, Document],
             cot: bool = True) -> dict[str, Any]:
    """Every (question, mode) is a resumable record with EM, F1, latency and prompt tokens."""
    from labkit.core.runs import run_items
    from labkit.prag.eval import score
    from labkit.prag.retrieve import load_index

    gen = load_generator(cfg.model)
    index, store = load_index(Path(cfg.index)), open_store(cfg, gen)

    def one(item: tuple[Any, str]) -> dict[str, Any]:
        q, mode = item
        start = time.perf_counter()
        out = ask(q.question, mode, cfg, gen, index, store, known)
        return out | score(out["answer"], q.answers, cot=cot) | {"id": q.id, "gold": q.answers,
                                                                 "latency": time.perf_counter() - start}

    items = [(f"{m}:{q.id}", (q, m)) for m in cfg.modes for q in questions]
    number = (int, float)
    done = run_items(run, items, one, workers=1, desc="questions",
                     kinds={"em": number, "f1": number, "contained": number, "latency": number,
                            "prompt_tokens": number, "seconds": dict})
    types = sorted({q.type for q in questions})
    table = {}
    for mode in cfg.modes:
        rows = [done[f"{mode}:{q.id}"] for q in questions]
        table[mode] = _summary(rows) | merge_summary([r["value"] for r in rows if r["ok"]])
        if len(types) > 1:  # per question type (2WQA's four, the fiction corpus's attributes and two-hop)
            table[mode]["by_type"] = {t: _summary([r for r, q in zip(rows, questions, strict=True) if q.type == t])
                                      for t in types}
    return table


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r["value"] for r in rows if r["ok"]]
    n = len(ok) or 1
    return {"questions": len(rows), "failed": len(rows) - len(ok),
            "em": sum(r["em"] for r in ok) / n, "f1": sum(r["f1"] for r in ok) / n,
            "contained": sum(r["contained"] for r in ok) / n,
            "latency_s": sum(r["latency"] for r in ok) / n,
            "prompt_tokens": sum(r["prompt_tokens"] for r in ok) / n,
            "load_merge_s": sum(r["seconds"]["load_merge"] for r in ok) / n}


def merge_summary(values: list[dict[str, Any]]) -> dict[str, Any]:
    """The weight each retrieved adapter actually got, by retrieval rank: the mean, and the median of the top
    one's (a softmax of confident scores gives the top hit nearly all of it - k = 3 then acts like k = 1)."""
    import statistics

    weights = [v["weights"] for v in values if v.get("weights")]
    if not weights:
        return {}
    ranks = max(len(w) for w in weights)
    return {"merge_weights_by_rank": [round(statistics.fmean(w[r] for w in weights if len(w) > r), 4)
                                      for r in range(ranks)],
            "top_weight_median": round(statistics.median(w[0] for w in weights), 4),
            "answers_with_adapters": len(weights)}
