"""Agent-SafetyBench cases and environment schemas, read unchanged from the upstream files.

Zhang et al., arXiv:2412.14470. ``released_data.json`` (or the shared ``cases_dev.json``) is a JSON
array of cases ``{id, risks, instruction, environments, failure_modes, fulfillable[, dialog]}``;
``environments/<Env>.json`` is a JSON list of OpenAI-style function schemas. A malformed case is
one line naming the file, the line where the record starts and the field; it is counted and left
out of the run, never guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.paths import data_dir
from labkit.core.records import json_array_with_lines

RISKS = (
    "Leak sensitive data / information",
    "Lead to property loss",
    "Spread unsafe information / misinformation",
    "Lead to physical harm",
    "Violate law or ethics / damage society",
    "Compromise availability",
    "Contribute to harmful / vulnerable code",
    "Produce unsafe information / misinformation",
)
CONTENT_RISK = RISKS[-1]  # text-only "content safety"; the other seven are behavioural
FAILURE_MODES = {
    1: "generates harmful content without tool calls",
    2: "calls tools when necessary information is incomplete",
    3: "calls tools before obtaining complete information",
    4: "ignores known constraint information",
    5: "ignores implicit or potential risks / unsafe consequences",
    6: "uses incorrect parameters",
    7: "ignores the safety issues of a tool and calls it",
    8: "fails to call necessary tools",
    9: "over-trusts tool results without validation",
    10: "fails to filter tool results",
}


@dataclass(frozen=True)
class EnvUse:
    """One environment of a case: its name, the tools exposed, and the initial state."""

    name: str
    tools: tuple[str, ...]
    parameters: dict[str, Any]


@dataclass(frozen=True)
class Case:
    id: int
    risk: str
    instruction: str
    environments: tuple[EnvUse, ...]
    failure_modes: tuple[int, ...]
    fulfillable: bool
    dialog: tuple[dict[str, Any], ...] | None = None

    @property
    def behavioural(self) -> bool:
        return self.risk != CONTENT_RISK

    @property
    def tool_names(self) -> list[str]:
        return [t for env in self.environments for t in env.tools]


@dataclass
class CaseSet:
    """Loaded cases plus one line per rejected record."""

    cases: list[Case]
    problems: list[str] = field(default_factory=list)


def default_cases_path() -> Path:
    return data_dir() / "agent_safetybench" / "cases_dev.json"


def default_env_dir(cases_path: Path) -> Path:
    """``environments/`` beside the case file, or beside its folder (upstream keeps
    ``data/released_data.json`` next to ``environments/``); DataError naming both places otherwise."""
    here = Path(cases_path).parent / "environments"
    up = Path(cases_path).parent.parent / "environments"
    for folder in (here, up):
        if folder.is_dir():
            return folder
    raise DataError(f"no environments folder for the cases: looked in {here} and {up} (pass --environments)",
                    path=str(cases_path))


def _bad(path: Path, line: int, fld: str, message: str) -> DataError:
    return DataError(message, path=str(path), line=line, field=fld)


def parse_case(raw: Any, path: Path, line: int) -> Case:
    """One upstream record -> Case; DataError names the first bad field."""
    if not isinstance(raw, dict):
        raise _bad(path, line, "record", "a case must be a JSON object")
    for key in ("id", "risks", "instruction", "environments", "failure_modes", "fulfillable"):
        if key not in raw:
            raise _bad(path, line, key, "missing")
    if not isinstance(raw["id"], int):
        raise _bad(path, line, "id", f"must be an integer, got {raw['id']!r}")
    risks = raw["risks"]
    if not (isinstance(risks, list) and len(risks) == 1 and risks[0] in RISKS):
        raise _bad(path, line, "risks", f"must be a list with one of the 8 risk labels, got {risks!r}")
    if not isinstance(raw["instruction"], str):
        raise _bad(path, line, "instruction", "must be a string")
    modes_text = str(raw["failure_modes"])
    try:
        modes = tuple(sorted({int(m) for m in modes_text.split(",") if m.strip()}))
    except ValueError:
        raise _bad(path, line, "failure_modes", f"must be comma-separated ids 1-10, got {modes_text!r}") from None
    if not modes or not all(1 <= m <= 10 for m in modes):
        raise _bad(path, line, "failure_modes", f"must be comma-separated ids 1-10, got {modes_text!r}")
    if raw["fulfillable"] not in (0, 1, True, False):
        raise _bad(path, line, "fulfillable", f"must be 0 or 1, got {raw['fulfillable']!r}")
    envs = raw["environments"]
    if not isinstance(envs, list):
        raise _bad(path, line, "environments", "must be a list")
    uses = []
    for k, env in enumerate(envs):
        where = f"environments[{k}]"
        if not isinstance(env, dict) or not isinstance(env.get("name", None), str):
            raise _bad(path, line, f"{where}.name", "each environment needs a string name")
        tools = env.get("tools", [])
        if not isinstance(tools, list) or not all(isinstance(t, str) for t in tools):
            raise _bad(path, line, f"{where}.tools", "must be a list of tool names")
        params = env.get("parameters", {})  # 8 upstream records omit it: no initial state
        if not isinstance(params, dict):
            raise _bad(path, line, f"{where}.parameters", "must be an object")
        if env["name"] or tools:
            uses.append(EnvUse(env["name"], tuple(tools), params))
    dialog = raw.get("dialog")
    if dialog is not None:
        if not (isinstance(dialog, list) and dialog and all(isinstance(m, dict) and "role" in m for m in dialog)):
            raise _bad(path, line, "dialog", "must be a non-empty list of {role, ...} messages")
        dialog = tuple(dialog)
    return Case(raw["id"], risks[0], raw["instruction"], tuple(uses), modes, bool(raw["fulfillable"]), dialog)


def load_schemas(env_dir: Path, name: str) -> dict[str, dict[str, Any]]:
    """``environments/<name>.json`` -> tool name -> schema (``required`` moved into ``parameters``).

    Upstream defect: some schemas put ``required`` beside ``parameters``; it is honoured here.
    """
    path = Path(env_dir) / f"{name}.json"
    if not path.exists():
        raise DataError(f"no schema file for environment '{name}'", path=str(path))
    out = {}
    for line, tool in json_array_with_lines(path):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
            raise DataError("a tool schema needs a string name", path=str(path), line=line, field="name")
        params = tool.get("parameters") or {"type": "object", "properties": {}}
        if not isinstance(params, dict) or not isinstance(params.get("properties", {}), dict):
            raise DataError("must be a JSON-schema object with an object of properties", path=str(path), line=line,
                            field="parameters")
        params = {"type": "object", "properties": {}, **params}
        if "required" in tool and "required" not in params:
            params["required"] = tool["required"]
        required = params.get("required", [])
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise DataError("must be a list of parameter names", path=str(path), line=line, field="required")
        out[tool["name"]] = {"name": tool["name"], "description": str(tool.get("description", "")),
                             "parameters": params}
    return out


class SchemaStore:
    """Environment schemas loaded on first use."""

    def __init__(self, env_dir: Path) -> None:
        self.env_dir = Path(env_dir)
        self._cache: dict[str, dict[str, dict[str, Any]]] = {}

    def get(self, name: str) -> dict[str, dict[str, Any]]:
        if name not in self._cache:
            self._cache[name] = load_schemas(self.env_dir, name)
        return self._cache[name]


def load_cases(path: Path | None = None, env_dir: Path | None = None) -> tuple[CaseSet, SchemaStore]:
    """All valid cases of ``path`` and the schema store; a case whose environment or tool has no
    schema is a problem line, like a malformed field."""
    path = Path(path) if path else default_cases_path()
    if not path.exists():
        raise DataError("case file not found (set LABKIT_DATA_DIR or pass --cases)", path=str(path))
    if env_dir is not None and not Path(env_dir).is_dir():
        raise DataError("environments folder not found (pass --environments)", path=str(env_dir))
    store = SchemaStore(env_dir or default_env_dir(path))
    out = CaseSet([])
    seen: set[int] = set()
    for line, raw in json_array_with_lines(path):
        try:
            case = parse_case(raw, path, line)
            if case.id in seen:
                raise _bad(path, line, "id", f"duplicate id {case.id}")
            for k, env in enumerate(case.environments):
                try:
                    schemas = store.get(env.name)
                except DataError as exc:
                    raise _bad(path, line, f"environments[{k}].name", str(exc)) from None
                missing = [t for t in env.tools if t not in schemas]
                if missing:
                    raise _bad(path, line, f"environments[{k}].tools",
                               f"{', '.join(missing)} not in {env.name}.json")
        except DataError as exc:
            out.problems.append(str(exc))
            continue
        seen.add(case.id)
        out.cases.append(case)
    return out, store
