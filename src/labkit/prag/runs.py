"""What defines a `prag eval` run, so `--resume RUN` continues it from the run alone: the resolved config (QA
file, flags, model, index, store, merge) in ``config.yaml`` and the inputs' checksums in ``inputs.json``. A resume
that would change either is refused, so two runs never mix in one results file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError, DataError
from labkit.prag.config import PragConfig

INPUTS = "inputs.json"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inputs_of(cfg: PragConfig) -> dict[str, Any]:
    """Path and SHA-256 of each file the answers depend on: the QA file, the augmentations, the indexed passages."""
    files = {"data": cfg.data, "augmented": cfg.augmented,
             "index passages": str(Path(cfg.index) / "passages.jsonl")}
    return {name: {"path": str(Path(p).resolve()), "sha256": _sha256(Path(p))} for name, p in files.items() if p}


def check_inputs(cfg: PragConfig, known: dict[str, Any], resumed: Path | None) -> dict[str, Any]:
    """Before a run folder exists: the index is readable, no ready augmentation is stale against the indexed
    passages, and a resumed run's inputs are the ones it started with. Returns the inputs' checksums."""
    from labkit.prag.method import check_augmentations
    from labkit.prag.retrieve import read_passages

    check_augmentations(read_passages(Path(cfg.index)), known, cfg)
    inputs = inputs_of(cfg)
    if resumed is not None and (resumed / INPUTS).exists():
        from labkit.core.records import read_json

        started = read_json(resumed / INPUTS, dict)
        for name, now in inputs.items():
            then = started.get(name)
            if isinstance(then, dict) and then.get("sha256") != now["sha256"]:
                raise DataError(f"changed since the run started ({name}; sha256 {str(then.get('sha256'))[:12]} "
                                f"then, {now['sha256'][:12]} now): resuming would mix two runs - start a new one",
                                path=now["path"])
    return inputs


def resume_eval(folder: Path, config: Path | None, overrides: list[str] | None,
                given: dict[str, Any]) -> tuple[PragConfig, Any]:
    """The run's own config; options given with --resume must agree with it (one that differs is refused)."""
    from labkit.core.cli import overrides_from
    from labkit.core.config import load_config, to_dict
    from labkit.core.runs import CONFIG, resume_run
    from labkit.prag.method import check_local_model

    if not (folder / CONFIG).exists():
        raise DataError(f"not a run folder (no {CONFIG})", path=str(folder))
    cfg = load_config(PragConfig, folder / CONFIG)
    if cfg.data is None and given.get("data"):  # a run started before eval stored its QA file
        cfg.data = given["data"]
    sets = overrides_from(given) + list(overrides or [])
    if config is not None or sets:
        wanted = to_dict(load_config(PragConfig, config, sets, base=to_dict(cfg)))
        have = to_dict(cfg)
        for key in have:
            if wanted[key] != have[key]:
                raise ConfigError(f"--resume continues {folder} as it started: {key} is {have[key]!r} there, "
                                  f"{wanted[key]!r} given - start a new run for other settings")
    if cfg.data is None:
        raise ConfigError(f"{folder} does not say which QA file it scored (started before runs stored it): "
                          "give --data with --resume")
    check_local_model(cfg.model)
    return cfg, resume_run(folder)


def write_inputs(run_dir: Path, inputs: dict[str, Any]) -> None:
    (run_dir / INPUTS).write_text(json.dumps(inputs, indent=1) + "\n")
