"""``labkit safety run``: every case through the agent loop and the judges, one record per episode.

Reads top to bottom: load and select cases, build the agent, judges, engine pieces, run the episodes
concurrently through ``core.runs.run_items`` (resumable: a finished episode is never repeated), then
summarise and write the report.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from itertools import zip_longest
from pathlib import Path
from typing import Any

from labkit.core.errors import ConfigError, DataError
from labkit.core.models.registry import load_model
from labkit.core.runs import Run, check_fields, run_items
from labkit.safety.agent import AgentSettings, run_agent
from labkit.safety.config import SafetyConfig
from labkit.safety.data import RISKS, Case, SchemaStore, load_cases
from labkit.safety.engine import Episode, minilm_embedder, resolve_specs
from labkit.safety.judge import make_llm_judge, rule_judge
from labkit.safety.toolsim import make_simulator

Judge = Callable[[Case, SchemaStore, dict[str, Any]], dict[str, Any]]


def select_cases(cases: list[Case], cfg: SafetyConfig) -> list[Case]:
    """Filter by risk and id; ``limit`` takes cases round-robin over the risk categories."""
    unknown = [r for r in cfg.risks if r not in RISKS]
    if unknown:
        raise ConfigError(f"unknown risk {unknown[0]!r}; the categories are: {'; '.join(RISKS)}")
    chosen = [c for c in cases if (not cfg.risks or c.risk in cfg.risks) and (not cfg.ids or c.id in cfg.ids)]
    if cfg.limit is None:
        return chosen
    by_risk = [[c for c in chosen if c.risk == r] for r in RISKS]
    interleaved = [c for group in zip_longest(*by_risk) for c in group if c is not None]
    return interleaved[:cfg.limit]


def load_models(specs: list[str], workers: int) -> dict[str, Any]:
    """One model object per distinct spec (agent and judge may share the embedded model); local
    models batch the concurrent episodes' calls."""
    from labkit.core.models.batching import for_concurrent_callers

    return {spec: for_concurrent_callers(load_model(spec), workers) for spec in dict.fromkeys(specs)}


def build_judges(cfg: SafetyConfig, models: dict[str, Any]) -> dict[str, Judge]:
    if not cfg.judges:
        raise ConfigError("judges: give at least one judge (rule, or a model spec)")
    return {spec: rule_judge if spec == "rule" else make_llm_judge(
        models[spec], max_tokens=cfg.judge_max_tokens, name=spec, mode=cfg.judge_mode) for spec in cfg.judges}


def case_meta(case: Case) -> dict[str, Any]:
    """Hidden labels, stored for the report only (no judge sees them)."""
    return {"risk": case.risk, "failure_modes": list(case.failure_modes), "fulfillable": case.fulfillable,
            "behavioural": case.behavioural, "has_tools": bool(case.tool_names), "dialog": case.dialog is not None}


def episode_fn(cfg: SafetyConfig, schemas: SchemaStore, agent: Any, judges: dict[str, Judge],
               simulator: Any = None) -> Callable[[tuple[Case, int]], dict[str, Any]]:
    """The per-item function: one episode, then every judge on its trajectory."""
    settings = AgentSettings(**{k: v for k, v in dataclasses.asdict(cfg.agent).items() if k != "model"})
    specs = resolve_specs(cfg.engine.specs)
    embedder = minilm_embedder() if cfg.engine.embedder == "minilm" else None

    def run_one(item: tuple[Case, int]) -> dict[str, Any]:
        case, epoch = item
        episode = Episode(case, schemas, specs=specs, embedder=embedder, simulator=simulator)
        trajectory = run_agent(case, episode, agent, settings, epoch)
        verdicts = {}
        for name, judge in judges.items():
            verdicts[name] = ({"label": None, "error": "not judged: the agent failed"}
                              if trajectory["status"] == "agent_error" else judge(case, schemas, trajectory))
        return {**trajectory, **case_meta(case), "verdicts": verdicts}

    return run_one


def prepare_cases(cfg: SafetyConfig) -> tuple[list[Case], SchemaStore, list[str]]:
    """The selected cases, their schemas and the problem lines; raises before any run folder exists."""
    loaded, schemas = load_cases(Path(cfg.cases) if cfg.cases else None,
                                 Path(cfg.environments) if cfg.environments else None)
    cases = select_cases(loaded.cases, cfg)
    if not cases:
        skipped = (f"; {len(loaded.problems)} case(s) were skipped as malformed, first: {loaded.problems[0]}"
                   if loaded.problems else "")
        raise ConfigError(f"no case matches the selection (risks / ids / limit) among the {len(loaded.cases)} "
                          f"loaded{skipped}")
    return cases, schemas, loaded.problems


def run_safety(cfg: SafetyConfig, run: Run, *, progress: bool | None = None,
               prepared: tuple[list[Case], SchemaStore, list[str]] | None = None) -> dict[str, Any]:
    """Run (or resume) every selected episode; return the episode records and the load problems."""
    cases, schemas, problems = prepared or prepare_cases(cfg)
    if problems:
        (run.dir / "problems.txt").write_text("\n".join(problems) + "\n")
    if cfg.epochs > 1 and cfg.agent.temperature == 0:
        import warnings

        warnings.warn("epochs > 1 with greedy decoding repeats the same episode; set agent.temperature > 0",
                      stacklevel=2)
    models = load_models([cfg.agent.model] + [j for j in cfg.judges if j != "rule"]
                         + ([cfg.engine.simulator] if cfg.engine.simulator else []), cfg.workers)
    simulator = make_simulator(models[cfg.engine.simulator]) if cfg.engine.simulator else None
    fn = episode_fn(cfg, schemas, models[cfg.agent.model], build_judges(cfg, models), simulator)
    items = [(f"{c.id}#{e}", (c, e)) for c in cases for e in range(cfg.epochs)]
    records = run_items(run, items, fn, workers=cfg.workers, backend="thread", desc="episodes", progress=progress)
    return {"records": records, "problems": problems, "cases": len(cases)}


Record = dict[str, Any]


# what the report reads of an episode a run folder holds (`safety report` / `show` of a folder from elsewhere)
EPISODE_FIELDS = {"case_id": int, "epoch": int, "status": str, "risk": str, "failure_modes": list,
                  "fulfillable": bool, "messages": list, "verdicts": dict, "engine": list}


def check_episode(value: Any, key: str, path: str) -> None:
    """A DataError naming the run's results file, the record and the field when ``value`` is not an episode as
    `safety run` writes it."""
    check_fields(value, EPISODE_FIELDS, key=key, path=path, what="a `safety run` episode")
    for judge, verdict in value["verdicts"].items():
        if not isinstance(verdict, dict) or not isinstance(verdict.get("label"), (str, type(None))):
            raise DataError(f"record {key!r}: a verdict needs a text or null label", path=path,
                            field=f"verdicts.{judge}")


def episodes_of(records: dict[str, Record] | list[Record], path: str | None = None
                ) -> tuple[list[Record], list[Record]]:
    """(finished episode values, failed items) from run records; with ``path`` (the results file they came
    from) every episode is checked first."""
    values = records.values() if isinstance(records, dict) else records
    if path is not None:
        for r in values:
            if r.get("ok"):
                check_episode(r.get("value"), str(r.get("key")), path)
    ok = [r["value"] for r in values if r.get("ok")]
    failed = [r for r in values if not r.get("ok")]
    return ok, failed
