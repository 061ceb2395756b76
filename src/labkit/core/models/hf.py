"""Transformers backend: batched chat generation and continuation log-probabilities.

Generation is a written-out decoding loop over a KV cache (no ``generate()`` callbacks):
left-padded prompts with attention masks and explicit position ids, so a prompt's greedy tokens
do not depend on what else is in the batch; each sampled row draws from its own
``torch.Generator`` seeded from ``(seed, choice index)``, so a seeded call reproduces whatever
the batch composition. Finished rows leave the batch (and the KV cache) as they finish.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from labkit.core.errors import BackendError, require
from labkit.core.models.base import (
    LOGPROBS,
    Completion,
    Continuation,
    Conversation,
    Sampling,
    check_conversations,
    truncate_at_stop,
)


@dataclass
class LoadInfo:
    """How a model was loaded, shown by ``labkit models check``."""

    source: str
    path: str
    seconds: float
    notes: list[str] = field(default_factory=list)


def length_chunks(lengths: list[int], batch_size: int, batch_tokens: int) -> list[list[int]]:
    """Prompt indices grouped into batches within a padded-token budget.

    Indices grouped shortest first into batches of at most ``batch_size`` rows whose padded size
    (rows x longest) stays within ``batch_tokens``; a prompt longer than the budget runs alone. On CPU a
    batch padded to one long prompt costs more than running the short ones apart.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    chunks: list[list[int]] = []
    for i in order:
        if chunks and len(chunks[-1]) < batch_size and (len(chunks[-1]) + 1) * lengths[i] <= batch_tokens:
            chunks[-1].append(i)
        else:
            chunks.append([i])
    return chunks


def row_seed(seed: int, choice: int) -> int:
    """A 63-bit seed for choice ``choice`` of a call seeded with ``seed``."""
    digest = hashlib.sha256(f"{seed}:{choice}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


class HFChatModel:
    """A causal LM from transformers, driven by ``chat`` and ``continuation_logprobs``."""

    capabilities = frozenset({LOGPROBS})

    def __init__(self, model: Any, tokenizer: Any, *, model_id: str, revision: str,
                 batch_size: int = 16, load_info: LoadInfo | None = None, batch_tokens: int = 8192) -> None:
        self.model, self.tokenizer = model.eval(), tokenizer
        self.model_id, self.revision = model_id, revision
        self.batch_size, self.batch_tokens = batch_size, batch_tokens
        self.load_info = load_info
        self.device = next(model.parameters()).device
        self.stop_ids = _stop_token_ids(model, tokenizer)
        self._lock = threading.Lock()  # one forward pass at a time; batching is the speed-up
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.stop_ids)

    # ---- prompts -------------------------------------------------------------------------
    def encode_conversation(self, conversation: Conversation) -> list[int]:
        """Token ids of the chat prompt, ending with the assistant turn's opening."""
        tok = self.tokenizer
        if tok.chat_template:
            text = tok.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)
        else:  # base models: a plain transcript
            text = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in conversation)
            text += "Assistant:"
        return list(tok(text, add_special_tokens=False)["input_ids"])

    # ---- generation ----------------------------------------------------------------------
    def chat(self, conversations: list[Conversation], sampling: Sampling,
             tools: list[dict[str, Any]] | None = None) -> list[list[Completion]]:
        """Completions for each conversation, decoded in padded batches."""
        check_conversations(conversations)
        if tools:
            raise BackendError(f"{self.model_id}: the hf backend has no tool calling; serve the "
                               "model with vLLM and use an openai: spec")
        with self._lock:
            return self._chat(conversations, sampling)

    def _chat(self, conversations: list[Conversation], sampling: Sampling) -> list[list[Completion]]:
        prompts = [self.encode_conversation(c) for c in conversations]
        limit = getattr(self.model.config, "max_position_embeddings", None)
        for i, p in enumerate(prompts):
            if limit and len(p) + sampling.max_tokens > limit:
                raise BackendError(f"{self.model_id}: conversation {i} needs {len(p)} prompt + "
                                   f"{sampling.max_tokens} new tokens, over the {limit}-token context")
        n = 1 if sampling.greedy else sampling.n  # greedy choices are identical: decode once
        rows = [(i, j) for i in range(len(prompts)) for j in range(n)]
        if sampling.greedy or sampling.seed is not None:
            seeds = [row_seed(sampling.seed or 0, j) for _, j in rows]
        else:
            seeds = [int(time.time_ns() ^ (k * 0x9E3779B97F4A7C15)) >> 1 for k in range(len(rows))]
        # shortest prompts together keep padding small; every row is independent anyway
        lengths = [len(prompts[i]) for i, _ in rows]
        done: dict[int, tuple[list[int], str]] = {}
        for chunk in length_chunks(lengths, self.batch_size, self.batch_tokens):
            outs = self._decode([prompts[rows[k][0]] for k in chunk], sampling,
                                [seeds[k] for k in chunk])
            done.update(zip(chunk, outs, strict=True))
        results: list[list[Completion]] = [[] for _ in prompts]
        for k, (i, _) in enumerate(rows):
            tokens, finish = done[k]
            text = self.tokenizer.decode(tokens, skip_special_tokens=True)
            text, hit = truncate_at_stop(text, sampling.stop)
            results[i].append(Completion(text=text, finish_reason="stop" if hit else finish,
                                         prompt_tokens=len(prompts[i]),
                                         completion_tokens=len(tokens)))
        if n < sampling.n:
            results = [r * sampling.n for r in results]
        return results

    def _decode(self, prompts: list[list[int]], sampling: Sampling,
                seeds: list[int]) -> list[tuple[list[int], str]]:
        """Decode one batch; return (generated token ids without the stop token, finish)."""
        torch = require("torch", "hf")
        from transformers import DynamicCache

        batch = len(prompts)
        width = max(len(p) for p in prompts)
        ids = torch.full((batch, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((batch, width), dtype=torch.long)
        for r, p in enumerate(prompts):  # left padding
            ids[r, width - len(p):] = torch.tensor(p)
            mask[r, width - len(p):] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        gens = None
        if not sampling.greedy:
            gens = [torch.Generator(device=self.device).manual_seed(s) for s in seeds]
        alive = list(range(batch))  # original row of each live batch row
        out: list[list[int]] = [[] for _ in range(batch)]
        finish = ["length"] * batch
        cache = DynamicCache(config=self.model.config)
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions,
                                cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :]
            for _ in range(sampling.max_tokens):
                nxt = _pick(logits, sampling, [gens[r] for r in alive] if gens else None)
                keep = []
                for b, r in enumerate(alive):
                    tok = int(nxt[b])
                    if tok in self.stop_ids:
                        finish[r] = "stop"
                        continue
                    out[r].append(tok)
                    if sampling.stop and self._hit_stop(out[r], sampling.stop):
                        finish[r] = "stop"
                        continue
                    if len(out[r]) < sampling.max_tokens:
                        keep.append(b)
                if not keep:
                    break
                if len(keep) < len(alive):
                    index = torch.tensor(keep, device=self.device)
                    cache.batch_select_indices(index)
                    nxt, mask, positions = nxt[index], mask[index], positions[index]
                    alive = [alive[b] for b in keep]
                mask = torch.cat([mask, mask.new_ones((len(alive), 1))], dim=1)
                positions = positions[:, -1:] + 1
                logits = self.model(input_ids=nxt[:, None], attention_mask=mask,
                                    position_ids=positions, cache=cache,
                                    use_cache=True).logits[:, -1, :]
        return list(zip(out, finish, strict=True))

    def _hit_stop(self, tokens: list[int], stop: tuple[str, ...]) -> bool:
        tail = self.tokenizer.decode(tokens[-32:], skip_special_tokens=True)
        return truncate_at_stop(tail, stop)[1]

    # ---- scoring -------------------------------------------------------------------------
    def continuation_logprobs(self, conversations: list[Conversation],
                              continuations: list[str]) -> list[Continuation]:
        """Log p(continuation | conversation) per token, for the assistant turn."""
        check_conversations(conversations)
        if len(conversations) != len(continuations):
            raise ValueError("one continuation per conversation")
        pairs = [(self.encode_conversation(c),
                  list(self.tokenizer(t, add_special_tokens=False)["input_ids"]))
                 for c, t in zip(conversations, continuations, strict=True)]
        if pairs and all(len(c) == 1 for _, c in pairs):
            return self._score_next_tokens(pairs)
        results: dict[int, Continuation] = {}
        with self._lock:
            for chunk in length_chunks([len(p) + len(c) for p, c in pairs], self.batch_size, self.batch_tokens):
                results.update(zip(chunk, self._score_batch([pairs[i] for i in chunk]), strict=True))
        return [results[i] for i in range(len(pairs))]

    def _score_next_tokens(self, pairs: list[tuple[list[int], list[int]]]) -> list[Continuation]:
        """Log-probabilities of single-token continuations, one forward per distinct prompt.

        Single-token continuations (score digits, labels): one forward per distinct prompt, read the
        next-token distribution; the same numbers as scoring each pair, K times cheaper for K candidates.
        """
        torch = require("torch", "hf")
        prompts = list(dict.fromkeys(tuple(p) for p, _ in pairs))
        logps: dict[tuple[int, ...], Any] = {}
        with self._lock:
            for index in length_chunks([len(p) for p in prompts], self.batch_size, self.batch_tokens):
                chunk = [prompts[i] for i in index]
                width = max(len(p) for p in chunk)
                ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
                mask = torch.zeros_like(ids)
                for r, p in enumerate(chunk):  # left padding: the last position is every row's next token
                    ids[r, width - len(p):] = torch.tensor(p)
                    mask[r, width - len(p):] = 1
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                with torch.inference_mode():
                    logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                        position_ids=positions.to(self.device)).logits[:, -1].float()  # [B, V]
                for p, row in zip(chunk, torch.log_softmax(logits, dim=-1).cpu(), strict=True):
                    logps[p] = row
        return [Continuation(token_logprobs=[float(logps[tuple(p)][c[0]])],
                             tokens=self.tokenizer.convert_ids_to_tokens(c)) for p, c in pairs]

    def _score_batch(self, chunk: list[tuple[list[int], list[int]]]) -> list[Continuation]:
        """Continuation log-probs for one left-padded batch of (prompt ids, continuation ids)."""
        torch = require("torch", "hf")
        width = max(len(p) + len(c) for p, c in chunk)
        ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for r, (p, c) in enumerate(chunk):
            ids[r, width - len(p) - len(c):] = torch.tensor(p + c)
            mask[r, width - len(p) - len(c):] = 1
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        with torch.inference_mode():
            logits = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                position_ids=positions.to(self.device)).logits.float()  # [B, T, V]
        logp = torch.log_softmax(logits, dim=-1).cpu()
        results = []
        for r, (_, c) in enumerate(chunk):
            # the token at position t is predicted by the logits at t-1; shape [len(c)]
            pos = torch.arange(width - len(c), width)
            lp = logp[r, pos - 1, torch.tensor(c)] if c else torch.zeros(0)
            results.append(Continuation(token_logprobs=[float(x) for x in lp],
                                        tokens=self.tokenizer.convert_ids_to_tokens(c)))
        return results


def _pick(logits: Any, sampling: Sampling, gens: list[Any] | None) -> Any:
    """Next token per row: argmax, or a draw from the temperature/top-p distribution."""
    torch = require("torch", "hf")
    if gens is None:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / sampling.temperature, dim=-1)  # [B, V]
    if sampling.top_p < 1.0:
        sorted_p, sorted_i = probs.sort(dim=-1, descending=True)
        drop = sorted_p.cumsum(-1) - sorted_p > sampling.top_p  # keep the smallest nucleus
        sorted_p = sorted_p.masked_fill(drop, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, sorted_i, sorted_p)
    return torch.stack([torch.multinomial(probs[b], 1, generator=g)[0] for b, g in enumerate(gens)])


def _stop_token_ids(model: Any, tokenizer: Any) -> set[int]:
    ids: set[int] = set()
    eos = getattr(model.generation_config, "eos_token_id", None)
    ids.update(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    for name in ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>"):
        tid = tokenizer.convert_tokens_to_ids(name) if name in tokenizer.get_vocab() else None
        if tid is not None:
            ids.add(tid)
    return ids


def load_hf(path: str, *, model_id: str | None = None, revision: str = "", device: str | None = None,
            dtype: str | None = None, batch_size: int = 16, gguf_file: str | None = None,
            source: str = "hf") -> HFChatModel:
    """Load a transformers causal LM from a local dir or hub id (offline unless the user allows)."""
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    torch_dtype = getattr(torch, dtype) if dtype else (torch.bfloat16 if device == "cuda" else torch.float32)
    t0 = time.perf_counter()
    kwargs: dict[str, Any] = {"gguf_file": gguf_file} if gguf_file else {}
    if not os.environ.get("LABKIT_ALLOW_DOWNLOADS"):  # nothing is downloaded unless asked
        kwargs["local_files_only"] = True
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(path, **kwargs)
        model = transformers.AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype, **kwargs)
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "" if os.environ.get("LABKIT_ALLOW_DOWNLOADS") else (
            " (only local files are used; set LABKIT_ALLOW_DOWNLOADS=1 to fetch from the hub)")
        raise BackendError(f"cannot load hf model '{path}': {first}{hint}") from exc
    model.to(device)
    info = LoadInfo(source=source, path=path, seconds=time.perf_counter() - t0)
    rev = revision or getattr(model.config, "_commit_hash", None) or _dir_revision(path)
    return HFChatModel(model, tokenizer, model_id=model_id or path, revision=rev,
                       batch_size=batch_size, load_info=info)


def _dir_revision(path: str) -> str:
    """A revision for a local dir: hash of its weight files' names, sizes and mtimes."""
    if not os.path.isdir(path):
        return "unknown"
    h = hashlib.sha256()
    for name in sorted(os.listdir(path)):
        st = os.stat(os.path.join(path, name))
        h.update(f"{name}:{st.st_size}:{int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]
