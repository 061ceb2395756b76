"""CharacterBench runs: generate in-character replies, judge replies, meta-evaluate judges.

Each run is a ``core.runs`` folder (resumable: a finished record is never repeated); records are
keyed ``<file>/<id>#<lang>``. A reply that is not valid JSON after the retries, and a judge reply
with no score on the scale, are recorded and counted, never defaulted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labkit.character.config import CharacterConfig
from labkit.character.data import Sample, load_all
from labkit.character.judge import make_judge
from labkit.character.prompts import roleplay_prompt
from labkit.core.errors import BackendError, ConfigError, DataError, LabkitError
from labkit.core.jsontext import first_json_object
from labkit.core.models.base import Sampling
from labkit.core.models.batching import for_concurrent_callers
from labkit.core.models.registry import load_model
from labkit.core.runs import Run, check_fields, resume_run, run_items


def sample_key(sample: Sample) -> str:
    return f"{sample.id}#{sample.lang}"


def select_samples(cfg: CharacterConfig) -> tuple[list[Sample], list[str]]:
    """Samples of the chosen files and languages (first ``limit`` per file and language)."""
    samples, problems = load_all(Path(cfg.data) if cfg.data else None, tuple(cfg.langs), cfg.files or None)
    if cfg.limit is not None:
        kept: dict[tuple[str, str], int] = {}
        chosen = []
        for s in samples:
            if kept.get((s.file, s.lang), 0) < cfg.limit:
                kept[(s.file, s.lang)] = kept.get((s.file, s.lang), 0) + 1
                chosen.append(s)
        samples = chosen
    if not samples and problems:  # every record of the selection was malformed: say which, not "no match"
        raise DataError(f"no usable record: {len(problems)} left out as malformed; first: {problems[0]}")
    if not samples:
        raise ConfigError(f"no record of {cfg.data or 'the data folder'} matches the selection (files / langs / "
                          "limit)")
    return samples, problems


PLACEHOLDERS = {"<the reply>", "<回复>", "..."}


def parse_reply(text: str, fmt: str = "json", character: str = "") -> str | None:
    """The reply, strictly: ``json`` takes the ``response`` string of the first JSON object (never ``eval``);
    ``text`` takes the first non-empty line without a leading ``Name:``. The prompt's placeholder is no reply."""
    if fmt == "text":
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        for prefix in (f"{character}:", f"{character}："):
            if character and line.startswith(prefix):
                line = line[len(prefix):].strip()
        return line if line and line not in PLACEHOLDERS else None
    obj = first_json_object(text)
    value = obj.get("response") if obj else None
    value = value.strip() if isinstance(value, str) else ""
    return value if value and value not in PLACEHOLDERS else None


class GenerationError(LabkitError):
    """No valid ``{"response": ...}`` after every attempt."""


def generate_one(model: Any, cfg: CharacterConfig, sample: Sample) -> dict[str, Any]:
    prompt = roleplay_prompt(sample, max_profile_chars=cfg.generate.max_profile_chars,
                             max_turns=cfg.generate.max_turns, fmt=cfg.generate.format)
    conv = [{"role": "user", "content": prompt}]
    raws = []
    for attempt in range(cfg.generate.retries + 1):
        sampling = Sampling(max_tokens=cfg.generate.max_tokens, temperature=0.0) if attempt == 0 else \
            Sampling(max_tokens=cfg.generate.max_tokens, temperature=0.7, seed=attempt)
        text = model.chat([conv], sampling)[0][0].text
        raws.append(text)
        reply = parse_reply(text, cfg.generate.format, sample.character)
        if reply is not None:
            return {"id": sample.id, "file": sample.file, "lang": sample.lang, "model": cfg.generate.model,
                    "response": reply, "attempts": attempt + 1, "raw": text}
    raise GenerationError(f"no valid reply ({cfg.generate.format}) after {len(raws)} attempts; "
                          f"last: {raws[-1][:120]!r}")


def generate_run(cfg: CharacterConfig, run: Run, samples: list[Sample], *, progress: bool | None = None) -> dict:
    model = for_concurrent_callers(load_model(cfg.generate.model), cfg.workers)
    items = [(sample_key(s), s) for s in samples]
    return run_items(run, items, lambda s: generate_one(model, cfg, s), workers=cfg.workers, backend="thread",
                     desc="replies", progress=progress)


def responses_from(source: str, samples: list[Sample]) -> dict[str, tuple[str, str]]:
    """key -> (reply, model): the records' own replies (``original``) or a generate run's."""
    if source == "original":
        return {sample_key(s): (s.response, s.model) for s in samples}
    folder = Path(source)
    if not (folder / "results.jsonl").exists():
        raise ConfigError(f"--responses must be 'original' or a generate run folder; {folder} has no results.jsonl")
    out = {}
    run = resume_run(folder)
    for key, rec in run.latest().items():
        if rec.get("ok"):
            value = rec.get("value")
            check_fields(value, {"response": str, "model": str}, key=key, path=str(run.results_path),
                         what="a `character generate` reply")
            out[key] = (value["response"], value["model"])
    return out


def judge_run(cfg: CharacterConfig, run: Run, samples: list[Sample], source: str = "original", *,
              progress: bool | None = None, replies: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """Score every reply with the configured judge; ``gold`` is kept only for the records' own replies."""
    replies = replies if replies is not None else responses_from(source, samples)
    missing = [sample_key(s) for s in samples if sample_key(s) not in replies]
    model = for_concurrent_callers(load_model(cfg.judge.model), cfg.workers)
    j = cfg.judge
    judge = make_judge(model, mode=j.mode, samples=j.samples, use_reference=j.use_reference, context=j.context,
                       max_tokens=j.max_tokens, max_profile_chars=j.max_profile_chars, max_turns=j.max_turns)

    def score(sample: Sample) -> dict[str, Any]:
        reply, who = replies[sample_key(sample)]
        verdict = judge(sample, reply)
        return {"id": sample.id, "file": sample.file, "lang": sample.lang, "model": who, "character": sample.character,
                "gold": sample.gold if source == "original" else None, **verdict}

    items = [(sample_key(s), s) for s in samples if sample_key(s) in replies]
    if not items:
        raise BackendError("no replies to judge")
    records = run_items(run, items, score, workers=cfg.workers, backend="thread", desc="judged", progress=progress)
    return {"records": records, "missing_replies": missing}
