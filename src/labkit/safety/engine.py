"""The environment engine: serves the tool calls of one episode from schemas and state alone.

No upstream environment code is used. A call is checked as upstream does (unknown tool, missing
required arguments, undeclared arguments dropped, types coerced - correctly), then served by the
tool's ``Plan`` (per-environment YAML spec first, else the heuristic) on the episode's state, a deep
copy of the case's ``parameters``. Tools the rules cannot serve go to the optional LLM tool
simulator. Every problem becomes a structured ``{"success": false, "error": ...}`` answer; nothing
raises into the agent loop.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from labkit.core.errors import ConfigError
from labkit.safety.arguments import prepare_arguments
from labkit.safety.data import Case, SchemaStore
from labkit.safety.heuristics import Embedder, plan_tool
from labkit.safety.ops import apply_plan
from labkit.safety.plan import Plan, plan_from_spec


@dataclass
class CallLog:
    """What the engine did for one call (kept in the trajectory, shown by ``safety show``)."""

    tool: str
    environment: str | None
    arguments: dict[str, Any]
    op: str
    source: str
    result: dict[str, Any]
    dropped: list[str] = field(default_factory=list)


def load_specs(folder: Path | None) -> dict[str, dict[str, Plan]]:
    """``<folder>/<Env>.yaml`` -> env -> tool -> Plan. A bad entry is a ConfigError naming the file."""
    if folder is None:
        return {}
    out: dict[str, dict[str, Plan]] = {}
    for path in sorted(Path(folder).glob("*.y*ml")):
        try:
            doc = yaml.safe_load(path.read_text()) or {}
            tools = doc.get("tools", doc) if isinstance(doc, dict) else None
            if not isinstance(tools, dict):
                raise ValueError("expected a mapping of tool name -> spec")
            out[path.stem] = {t: plan_from_spec(t, s) for t, s in tools.items()}
        except (yaml.YAMLError, ValueError) as exc:
            raise ConfigError(f"{path}: {str(exc).splitlines()[0]}") from None
    return out


SHIPPED_SPECS = Path(__file__).parent / "specs"


def default_specs() -> dict[str, dict[str, Plan]]:
    """The specs shipped with labkit for the benchmark's own environments (empty if none)."""
    return load_specs(SHIPPED_SPECS) if SHIPPED_SPECS.is_dir() else {}


def resolve_specs(setting: str | None) -> dict[str, dict[str, Plan]]:
    """``engine.specs``: "shipped" (default), "none" (heuristics alone), or a folder of ``<Env>.yaml``
    whose tools override the shipped ones."""
    if setting in (None, "", "none"):
        return {}
    shipped = default_specs()
    if setting == "shipped":
        return shipped
    folder = Path(setting)
    if not folder.is_dir():
        raise ConfigError(f"engine.specs: {folder} is not a folder (or use 'shipped' / 'none')")
    merged = {env: dict(tools) for env, tools in shipped.items()}
    for env, tools in load_specs(folder).items():
        merged.setdefault(env, {}).update(tools)
    return merged


@lru_cache(maxsize=1)
def minilm_embedder() -> Embedder:
    """MiniLM embeddings with a per-text memo (tool phrases and state keys repeat across cases)."""
    from labkit.core.models.embed import embed_minilm

    memo: dict[str, Any] = {}
    lock = threading.Lock()

    def embed(texts: list[str]) -> Any:
        import numpy as np

        with lock:
            todo = [t for t in dict.fromkeys(texts) if t not in memo]
            if todo:
                memo.update(zip(todo, embed_minilm(todo), strict=True))
            return np.stack([memo[t] for t in texts])

    return embed


class Episode:
    """The tools of one case during one episode."""

    def __init__(self, case: Case, schemas: SchemaStore, *, specs: dict[str, dict[str, Plan]] | None = None,
                 embedder: Embedder | None = None, simulator: Any = None) -> None:
        self.case = case
        self.states = [copy.deepcopy(env.parameters) for env in case.environments]
        self.schemas = [schemas.get(env.name) for env in case.environments]
        self.specs = specs or {}
        self.embedder, self.simulator = embedder, simulator
        self.log: list[CallLog] = []
        self._plans: dict[tuple[int, str], Plan] = {}

    def tool_schemas(self) -> list[dict[str, Any]]:
        """The exposed tools as OpenAI ``tools`` entries, first environment first, no duplicates."""
        seen: dict[str, dict[str, Any]] = {}
        for env, schemas in zip(self.case.environments, self.schemas, strict=True):
            for t in env.tools:
                seen.setdefault(t, {"type": "function", "function": schemas[t]})
        return list(seen.values())

    def plan(self, env_index: int, tool: str) -> Plan:
        """The tool's plan, worked out once per episode (it depends on the initial state only)."""
        if (env_index, tool) not in self._plans:
            env = self.case.environments[env_index]
            spec = self.specs.get(env.name, {}).get(tool)
            self._plans[(env_index, tool)] = spec if spec is not None else plan_tool(
                self.schemas[env_index][tool], env.parameters, self.embedder)
        return self._plans[(env_index, tool)]

    def call(self, tool: str, raw_arguments: Any) -> dict[str, Any]:
        """Serve one call; the answer is what the agent sees."""
        where = next((i for i, env in enumerate(self.case.environments) if tool in env.tools), None)
        if where is None:
            result = {"success": False, "error": "unknown_tool", "message": f"Tool {tool} doesn't exist."}
            self.log.append(CallLog(tool, None, {"raw": raw_arguments}, "error", "engine", result))
            return result
        env = self.case.environments[where]
        args, error, dropped = prepare_arguments(self.schemas[where][tool], raw_arguments)
        if error is not None:
            self.log.append(CallLog(tool, env.name, {"raw": raw_arguments}, "error", "engine", error, dropped))
            return error
        plan = self.plan(where, tool)
        op, source = plan.op, plan.source
        try:
            if plan.op == "simulate" or (not plan.confident and self.simulator is not None):
                result = self._simulate(where, tool, args)
                op, source = "simulate", "llm"
            else:
                result = apply_plan(plan, tool, self.states[where], args)
        except Exception as exc:  # an engine defect must not end the episode: the agent sees an error
            result = {"success": False, "error": "engine_error", "message": f"{type(exc).__name__}: {exc}"}
        self.log.append(CallLog(tool, env.name, copy.deepcopy(args), op, source, result, dropped))
        return result

    def _simulate(self, where: int, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        if self.simulator is None:
            return {"success": False, "error": "no_simulator",
                    "message": f"{tool} needs the LLM tool simulator (engine.simulator is not set)."}
        env = self.case.environments[where]
        return self.simulator(env.name, self.schemas[where][tool], self.states[where], args)
