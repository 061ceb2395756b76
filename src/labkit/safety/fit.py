"""Per-environment specs fitted to recorded upstream behaviour (``labkit safety specs --fit``).

For each (environment, tool) in ``upstream_behaviour_*.jsonl``, a small set of candidate plans is
scored on that tool's recorded calls (state change agrees, success flag agrees, read overlap): the
heuristic's own plan, a fixed message, and read / filter / update / remove / append on each state key
the tool's cases hold or upstream changed. A candidate replaces the heuristic only when it is
strictly better on those calls; it is written as a YAML spec whose ``why`` says what was observed.
The behaviour records are black-box observations of the benchmark's environments; no upstream code
is read. The result ships as ``labkit/safety/specs/`` and is checked by ``bench_safety_fidelity.py``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from labkit.safety.data import Case, SchemaStore
from labkit.safety.fidelity import Replayed, leaves, replay
from labkit.safety.heuristics import VERB_STATUS, map_arguments, plan_tool, tool_verb
from labkit.safety.ops import WRITES
from labkit.safety.plan import Plan
from labkit.safety.records import is_identifier


def _score(rows: list[Replayed]) -> tuple[int, int, float]:
    """(calls changing exactly upstream's keys, calls with upstream's success flag, read overlap)."""
    state = sum(set(r.engine_keys) == {k.lstrip("@") for k in r.upstream_keys} for r in rows)
    flags = sum(r.upstream_success is None or r.upstream_success == r.engine_success for r in rows)
    overlap = sum(r.overlap for r in rows if r.overlap is not None)
    return state, flags, round(overlap, 6)


CHANGE = re.compile(r"^@?(?P<key>[^.\[:]+)(?P<nested>[.\[])?(?:.*: (?P<a>\d+) -> (?P<b>\d+) items$)?")


def observed_writes(deltas: list[str]) -> dict[str, set[str]]:
    """State key -> the operations that can explain its recorded changes: a list that grew (append), shrank
    (remove), a record or setting inside it that changed (update, or a nested append/remove), a scalar
    that changed (update, transfer)."""
    out: dict[str, set[str]] = defaultdict(set)
    for delta in deltas:
        for part in filter(None, (delta or "").split("; ")):
            m = CHANGE.match(part)
            if m is None:
                continue
            key = m["key"].strip()
            if m["nested"] and m["a"] is not None:  # a list inside a record grew or shrank
                out[key] |= {"update", "append"} if int(m["b"]) > int(m["a"]) else {"update", "remove"}
            elif m["nested"]:  # a field inside a record changed, appeared or went
                out[key] |= {"update", "remove"} if part.endswith(" removed") else {"update"}
            elif m["a"] is not None:
                out[key].add("append" if int(m["b"]) > int(m["a"]) else "remove")
            else:
                out[key] |= {"update", "transfer"}
    return out


def _explains(plan: Plan, writes: dict[str, set[str]]) -> bool:
    """A write plan must act the way upstream's recorded changes did, on a key upstream changed; a fixed
    answer must not be a failure (those depend on the arguments of the one recorded call)."""
    if plan.op in WRITES:
        return plan.key in writes and plan.op in writes[plan.key]
    return not (plan.op == "const" and plan.result is not None and plan.result.get("success") is False)


def fixed_fields(results: list[Any], states: list[dict[str, Any]]) -> dict[str, Any]:
    """Answer fields every recorded call returned identically and that are not state values (a
    login's site rules, a notice): what a read adds to the state it returns."""
    dicts = [r.get("data") if isinstance(r, dict) and isinstance(r.get("data"), dict) else r for r in results]
    if not dicts or not all(isinstance(d, dict) for d in dicts):
        return {}
    state_leaves = leaves(states)
    return {k: v for k, v in dicts[0].items() if k != "success" and all(d.get(k) == v for d in dicts[1:])
            and not (leaves(v) & state_leaves)}


def candidates(schema: dict[str, Any], states: list[dict[str, Any]], changed: set[str],
               embedder: Any, results: list[Any] | None = None) -> list[Plan]:
    """Plausible plans for one tool, over the states its recorded cases start from."""
    props = schema["parameters"].get("properties", {})
    _, verb = tool_verb(schema["name"], embedder)
    status = VERB_STATUS.get(verb or "")
    plans = [Plan("const", why="fixed success message")]
    results = results or []
    if results and all(r == results[0] for r in results) and isinstance(results[0], dict) and not (
            leaves(results[0]) & leaves(states)):  # a fixed answer, never one that quotes the case's state
        plans.append(Plan("const", result=results[0]))
    extra = fixed_fields(results, states) or None
    keys = list(dict.fromkeys(k for st in states for k in st)) + [k.lstrip("@") for k in sorted(changed)]
    values = [a for a in props if not is_identifier(a)]
    for key in dict.fromkeys(keys):
        sample = next((st[key] for st in states if key in st), None)
        records = sample if isinstance(sample, list) and sample and all(isinstance(r, dict) for r in sample) else None
        mapping, text_args = map_arguments(schema, records) if records else ({}, ())
        plans += [Plan("read", key), Plan("filter", key, match=mapping, text_args=text_args),
                  Plan("filter", key, match=mapping, text_args=text_args, strict=True),
                  Plan("read", key, result=extra), Plan("filter", key, match=mapping, text_args=text_args,
                                                        result=extra),
                  Plan("update", key, match=mapping, status=status),
                  Plan("remove", key, match=mapping), Plan("append", key)]
        if records and values:  # values stored on the record even where it has no such field yet
            plans.append(Plan("update", key, match=mapping, set={v: v for v in values}, status=status))
        if values and (sample is None or not isinstance(sample, (list, dict))):  # one setting, kept at the top
            plans += [Plan("update", key, set={key: a}) for a in values]
    return plans


def fit_specs(records: list[dict[str, Any]], cases: dict[int, Case], schemas: SchemaStore,
              embedder: Any = None) -> tuple[dict[str, dict[str, Plan]], dict[str, Any]]:
    """env -> tool -> fitted plan (only where it beats the heuristic), and counts of what was done and of the
    records left out, by reason."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    left_out = {"upstream raised": 0, "case not loaded": 0, "failed call": 0}
    for rec in records:  # a failed call says the probe's arguments were wrong, not how the tool behaves
        reason = "upstream raised" if rec.get("exception") else "case not loaded" if rec["case"] not in cases \
            else "failed call" if rec.get("success") is False else None
        if reason:
            left_out[reason] += 1
        else:
            groups[(rec["env"], rec["tool"])].append(rec)
    out: dict[str, dict[str, Plan]] = defaultdict(dict)
    counts = {"tools": len(groups), "fitted": 0, "left_out": left_out}
    for (env, tool), recs in sorted(groups.items()):
        states = [e.parameters for r in recs for e in cases[r["case"]].environments if e.name == env]
        schema = schemas.get(env)[tool]
        base_rows, _ = replay(recs, cases, schemas, embedder=embedder)
        best, best_score = None, _score(base_rows)
        heuristic = plan_tool(schema, states[0], embedder) if states else None
        results = [r.get("result") for r in recs]
        writes = observed_writes([r.get("delta") or "" for r in recs])
        for plan in candidates(schema, states, {k for r in recs for k in r["changed"]}, embedder, results):
            if not _explains(plan, writes):
                continue
            rows, _ = replay(recs, cases, schemas, specs={env: {tool: plan}}, embedder=embedder)
            score = _score(rows)
            if score[:2] > best_score[:2] or (score[:2] == best_score[:2] and score[2] > best_score[2] + 0.05):
                best, best_score = plan, score
        if best is not None and (heuristic is None or best.to_spec() != heuristic.to_spec()):
            changed = sorted({k for r in recs for k in r["changed"]})
            seen = f"changed {', '.join(changed)}" if changed else "no state change"
            out[env][tool] = Plan(**{**best.as_dict(), "source": "spec",
                                     "why": f"observed on {len(recs)} recorded call(s): {seen}"})
            counts["fitted"] += 1
    return dict(out), counts


def write_specs(specs: dict[str, dict[str, Plan]], folder: Path) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    for env, tools in sorted(specs.items()):
        header = (f"# {env}: tools whose behaviour in the benchmark's recorded calls differs from what the\n"
                  "# heuristics infer from the schema; fitted by `labkit safety specs --fit` and checked by\n"
                  "# benchmarks/bench_safety_fidelity.py. Tools not listed are served by the heuristics.\n")
        body = {"tools": {t: p.to_spec() for t, p in sorted(tools.items())}}
        (folder / f"{env}.yaml").write_text(header + yaml.safe_dump(body, sort_keys=False, allow_unicode=True,
                                                                    width=110))
    return len(specs)
