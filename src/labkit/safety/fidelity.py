"""How closely the engine's tools behave like the benchmark's own environments.

The yardstick is ``upstream_behaviour_dev.jsonl`` (see the data README): for every (dev case, exposed
tool) one schema-valid call and what the upstream environment did with it - success flag, which
top-level state keys changed, what it returned. ``replay`` sends the same calls through the engine on
a fresh episode each and compares:

- state change: did the call change the state (any key) on both sides? missed = upstream wrote and
  the engine did not; spurious = the other way round; writes to other keys = both wrote, but not the
  same top-level keys (upstream's ``@key``, an attribute outside the case's parameters, counts as ``key``);
- success flag: where upstream answers a dict with a boolean ``success``;
- read overlap: where upstream's result contains state values (``returns_state``), the Jaccard
  overlap of the leaf values of the two results (the ``success`` flag left out).

Calls where upstream itself raised (its bug) are counted apart and not scored.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.records import jsonl_with_lines
from labkit.safety.data import Case, SchemaStore
from labkit.safety.engine import Episode
from labkit.safety.plan import Plan


@dataclass
class Replayed:
    """One upstream call and the engine's answer to it."""

    case: int
    env: str
    tool: str
    op: str
    source: str
    upstream_changed: bool
    engine_changed: bool
    upstream_keys: tuple[str, ...]
    engine_keys: tuple[str, ...]
    upstream_success: bool | None
    engine_success: bool | None
    overlap: float | None
    upstream_result: Any = None
    engine_result: Any = None


def read_records(path: Path) -> list[dict[str, Any]]:
    """The behaviour records; a bad line is a DataError naming file, line and field."""
    out = []
    for n, rec in jsonl_with_lines(path):
        if not isinstance(rec, dict):
            raise DataError(f"a record is an object, got {type(rec).__name__}", path=str(path), line=n)
        for key, kind in _RECORD_FIELDS.items():
            if key not in rec:
                raise DataError("missing", path=str(path), line=n, field=key)
            value = rec[key]
            if value is None and key == "changed" and rec.get("exception"):  # upstream raised: nothing observed
                continue
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
                raise DataError(f"want {kind.__name__}, got {type(value).__name__}", path=str(path), line=n,
                                field=key)
        if not all(isinstance(k, str) for k in rec["changed"] or ()):
            raise DataError("want a list of state keys (text)", path=str(path), line=n, field="changed")
        if rec.get("returns_state") not in (None, True, False):  # success may also be 'non-dict' / 'absent'
            raise DataError(f"want true, false or null, got {rec['returns_state']!r}", path=str(path), line=n,
                            field="returns_state")
        out.append(rec)
    return out


_RECORD_FIELDS: dict[str, type] = {"case": int, "env": str, "tool": str, "args": dict, "changed": list}


def leaves(value: Any, top: bool = True) -> set[str]:
    """Scalar leaf values as normalised strings (dict keys and the top-level ``success`` left out)."""
    if isinstance(value, dict):
        return set().union(*(leaves(v, False) for k, v in value.items() if not (top and k == "success")))
    if isinstance(value, list):
        return set().union(*(leaves(v, False) for v in value))
    if value is None or isinstance(value, bool):
        return set()
    if isinstance(value, float) and value == int(value):
        value = int(value)
    return {str(value).strip().lower()}


def jaccard(a: Any, b: Any) -> float:
    la, lb = leaves(a), leaves(b)
    if not la and not lb:
        return 1.0
    return len(la & lb) / len(la | lb)


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k for k in set(before) | set(after) if before.get(k, _MISSING) != after.get(k, _MISSING)))


_MISSING = object()


def _flag(result: Any) -> bool | None:
    if isinstance(result, dict) and isinstance(result.get("success"), bool):
        return result["success"]
    return None


def replay_one(rec: dict[str, Any], case: Case, schemas: SchemaStore,
               specs: dict[str, dict[str, Plan]], embedder: Any) -> Replayed:
    episode = Episode(case, schemas, specs=specs, embedder=embedder)
    where = next(i for i, env in enumerate(case.environments) if env.name == rec["env"] and rec["tool"] in env.tools)
    before = copy.deepcopy(episode.states[where])
    result = episode.call(rec["tool"], rec["args"])
    keys = changed_keys(before, episode.states[where])
    log = episode.log[-1]
    upstream = rec.get("result")
    overlap = jaccard(upstream, result) if rec.get("returns_state") else None
    return Replayed(rec["case"], rec["env"], rec["tool"], log.op, log.source, bool(rec["changed"]), bool(keys),
                    tuple(rec["changed"]), keys, _flag(upstream) if rec.get("success") in (True, False) else None,
                    _flag(result), overlap, upstream, result)


def replay(records: Iterable[dict[str, Any]], cases: dict[int, Case], schemas: SchemaStore, *,
           specs: dict[str, dict[str, Plan]] | None = None, embedder: Any = None) -> tuple[list[Replayed], dict]:
    """Every scoreable record through the engine; also the counts of records left out and why."""
    out, skipped = [], defaultdict(int)
    for rec in records:
        if rec.get("exception"):
            skipped["upstream raised"] += 1
            continue
        case = cases.get(rec["case"])
        if case is None or not any(e.name == rec["env"] and rec["tool"] in e.tools for e in case.environments):
            skipped["case or tool not loaded"] += 1
            continue
        out.append(replay_one(rec, case, schemas, specs or {}, embedder))
    return out, dict(skipped)


@dataclass
class Agreement:
    calls: int = 0
    agree: int = 0
    missed: int = 0
    spurious: int = 0
    wrong_keys: int = 0  # both changed state, but not the same top-level keys
    flags: int = 0
    flags_agree: int = 0
    reads: int = 0
    overlap_sum: float = 0.0
    worst: list[Replayed] = field(default_factory=list)

    def add(self, r: Replayed) -> None:
        self.calls += 1
        self.agree += r.upstream_changed == r.engine_changed
        self.missed += r.upstream_changed and not r.engine_changed
        self.spurious += r.engine_changed and not r.upstream_changed
        self.wrong_keys += r.upstream_changed and r.engine_changed and set(r.engine_keys) != {
            k.lstrip("@") for k in r.upstream_keys}
        if r.upstream_success is not None:
            self.flags += 1
            self.flags_agree += r.upstream_success == r.engine_success
        if r.overlap is not None:
            self.reads += 1
            self.overlap_sum += r.overlap

    def summary(self) -> dict[str, Any]:
        return {"calls": self.calls, "state_agreement": self.agree / self.calls if self.calls else None,
                "missed_writes": self.missed, "spurious_writes": self.spurious, "wrong_keys": self.wrong_keys,
                "flag_calls": self.flags,
                "success_agreement": self.flags_agree / self.flags if self.flags else None,
                "reads": self.reads, "read_overlap": self.overlap_sum / self.reads if self.reads else None}


def score(replayed: list[Replayed]) -> dict[str, Any]:
    """Overall, per engine operation and per environment."""
    overall, by_op, by_env = Agreement(), defaultdict(Agreement), defaultdict(Agreement)
    for r in replayed:
        overall.add(r)
        by_op[r.op].add(r)
        by_env[r.env].add(r)
    return {"overall": overall.summary(), "by_op": {k: v.summary() for k, v in sorted(by_op.items())},
            "by_env": {k: v.summary() for k, v in sorted(by_env.items())}}


def badness(r: Replayed) -> float:
    """How wrong one call is: a wrong write/no-write counts most, then the flag, then read overlap."""
    return (2.0 * (r.upstream_changed != r.engine_changed)
            + 1.0 * (r.upstream_success is not None and r.upstream_success != r.engine_success)
            + (1.0 - r.overlap if r.overlap is not None else 0.0))


def worst(replayed: list[Replayed], n: int = 20) -> list[Replayed]:
    return sorted((r for r in replayed if badness(r) > 0.05), key=lambda r: (-badness(r), r.env, r.tool))[:n]


def format_table(title: str, scores: dict[str, Any]) -> str:
    o = scores["overall"]

    def pct(x: float | None) -> str:
        return "   -  " if x is None else f"{100 * x:5.1f}%"

    lines = [f"{title}: {o['calls']} calls; state change agrees {pct(o['state_agreement'])} "
             f"({o['missed_writes']} missed, {o['spurious_writes']} spurious writes, {o['wrong_keys']} writes to other "
             f"keys); success flag agrees "
             f"{pct(o['success_agreement'])} of {o['flag_calls']}; read overlap {pct(o['read_overlap'])} "
             f"over {o['reads']} reads",
             f"  {'operation':<12}{'calls':>7}{'state':>8}{'missed':>8}{'spur.':>7}{'flag':>8}{'overlap':>9}"]
    for op, s in scores["by_op"].items():
        lines.append(f"  {op:<12}{s['calls']:>7}{pct(s['state_agreement']):>8}{s['missed_writes']:>8}"
                     f"{s['spurious_writes']:>7}{pct(s['success_agreement']):>8}{pct(s['read_overlap']):>9}")
    return "\n".join(lines)


def format_worst(rows: list[Replayed], width: int = 160) -> str:
    out = []
    for r in rows:
        what = []
        if r.upstream_changed != r.engine_changed:
            what.append(f"upstream changed {list(r.upstream_keys)}, engine {list(r.engine_keys)}")
        if r.upstream_success is not None and r.upstream_success != r.engine_success:
            what.append(f"success upstream {r.upstream_success}, engine {r.engine_success}")
        if r.overlap is not None and r.overlap < 0.95:
            what.append(f"read overlap {r.overlap:.2f}")
        line = f"  case {r.case} {r.env}.{r.tool} [{r.op}/{r.source}]: {'; '.join(what)}"
        out.append(line[:width])
        out.append(f"      upstream: {json.dumps(r.upstream_result, ensure_ascii=False)[:width - 16]}")
        out.append(f"      engine:   {json.dumps(r.engine_result, ensure_ascii=False)[:width - 16]}")
    return "\n".join(out)


def worst_envs(scores: dict[str, Any], n: int = 10) -> str:
    rows = sorted(scores["by_env"].items(), key=lambda kv: (kv[1]["state_agreement"] or 0, -kv[1]["calls"]))[:n]
    return "\n".join(f"  {env:<40} {s['calls']:>4} calls  state {100 * (s['state_agreement'] or 0):5.1f}%  "
                     f"missed {s['missed_writes']}  spurious {s['spurious_writes']}" for env, s in rows)
