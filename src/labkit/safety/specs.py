"""Per-environment YAML spec drafts: the heuristic's plan for every tool, written out for review.

``labkit safety specs --out specs/`` writes ``<Env>.yaml``; edit what is wrong and pass the folder
as ``engine.specs``: a spec entry overrides the heuristic for that tool in every case. With
``--fit RECORDS`` the specs are fitted to recorded upstream behaviour instead (``safety.fit``).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from labkit.safety.data import load_cases
from labkit.safety.engine import minilm_embedder
from labkit.safety.heuristics import plan_tool


def draft_specs(out: Path, cases_path: Path | None = None, env_dir: Path | None = None, *,
                embedder: bool = True) -> tuple[int, int, list[str]]:
    """Write one YAML per environment used by the cases; return (files written, tools to review, the
    problem lines of the cases left out)."""
    loaded, schemas = load_cases(cases_path, env_dir)
    states: dict[str, dict] = {}
    for case in loaded.cases:
        for env in case.environments:
            merged = states.setdefault(env.name, {})
            for key, value in env.parameters.items():
                merged.setdefault(key, value)
    embed = minilm_embedder() if embedder else None
    out.mkdir(parents=True, exist_ok=True)
    unsure = 0
    for name, state in sorted(states.items()):
        tools = {}
        for tool, schema in schemas.get(name).items():
            plan = plan_tool(schema, state, embed)
            spec = plan.to_spec()
            if not plan.confident:
                spec["why"] = "REVIEW (heuristic fallback): " + spec.get("why", "")
                unsure += 1
            tools[tool] = spec
        header = (f"# {name}: drafted by `labkit safety specs` from the tool schemas and the state keys\n"
                  f"# {sorted(state)} seen in the cases. Ops: const read filter update append remove not_found\n"
                  "# simulate; arguments are written $name.\n")
        (out / f"{name}.yaml").write_text(header + yaml.safe_dump({"tools": tools}, sort_keys=False,
                                                                     allow_unicode=True, width=110))
    return len(states), unsure, loaded.problems
