"""The declarative operation set a tool is served by: const, read, filter, update, append, remove,
not_found (and simulate, which the engine hands to the LLM tool simulator).

A ``Plan`` says which operation serves a tool, on which state key, and how the call's arguments map
to record fields (``match``/``set``: field -> argument). Plans come from a per-environment YAML spec
or from ``heuristics.plan_tool``; ``apply_plan`` runs one on the episode's state (a deep copy of the
case's ``parameters``) and returns the tool's answer, upstream-style ``{"success": ..., ...}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

OPS = ("const", "read", "filter", "update", "append", "remove", "not_found", "simulate")
WRITES = ("update", "append", "remove")


@dataclass(frozen=True)
class Plan:
    op: str
    key: str | None = None  # state key the tool works on (None: the whole state)
    match: dict[str, str] = field(default_factory=dict)  # record field -> argument name
    text_args: tuple[str, ...] = ()  # free-text arguments matched against whole records
    set: dict[str, str] = field(default_factory=dict)  # record field -> argument (update/append)
    result: dict[str, Any] | None = None  # const answer
    message: str | None = None
    confident: bool = True  # False: a fallback the LLM simulator may serve instead
    source: str = "heuristic"
    why: str = ""

    def to_spec(self) -> dict[str, Any]:
        """The YAML form (arguments written as ``$name``)."""
        out: dict[str, Any] = {"op": self.op}
        if self.key is not None:
            out["key"] = self.key
        for name in ("match", "set"):
            if getattr(self, name):
                out[name] = {f: f"${a}" for f, a in getattr(self, name).items()}
        if self.text_args:
            out["text"] = [f"${a}" for a in self.text_args]
        for name in ("result", "message"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.why:
            out["why"] = self.why
        return out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ok(**kw: Any) -> dict[str, Any]:
    return {"success": True, **kw}


def not_found(message: str) -> dict[str, Any]:
    return {"success": False, "message": message}


def _norm(value: Any) -> str:
    return str(value).strip().lower()


def value_matches(wanted: Any, have: Any) -> bool:
    """Lenient equality used for lookups: case-insensitive, substring either way for text."""
    if isinstance(have, list):
        return any(value_matches(wanted, h) for h in have)
    if isinstance(wanted, list):
        return any(value_matches(w, have) for w in wanted)
    if isinstance(have, (int, float)) and not isinstance(have, bool):
        try:
            return float(wanted) == float(have)
        except (TypeError, ValueError):
            return False
    a, b = _norm(wanted), _norm(have)
    return bool(a) and (a == b or (len(a) >= 3 and a in b) or (len(b) >= 3 and b in a))


def value_equals(wanted: Any, have: Any) -> bool:
    """Stricter identity used to pick the record a write acts on."""
    if isinstance(have, (int, float)) and not isinstance(have, bool):
        try:
            return float(wanted) == float(have)
        except (TypeError, ValueError):
            return False
    return _norm(wanted) == _norm(have)


WORD = re.compile(r"[a-z0-9]{3,}")
STOP = {"the", "and", "for", "with", "from", "that", "this", "all", "any", "are", "you", "your", "please", "about"}


def text_matches(query: Any, record: Any) -> bool:
    words = set(WORD.findall(_norm(query))) - STOP
    hay = _norm(json.dumps(record, ensure_ascii=False))
    return not words or any(w in hay for w in words)


def _records(value: Any) -> list[dict[str, Any]] | None:
    return value if isinstance(value, list) and value and all(isinstance(r, dict) for r in value) else None


def apply_plan(plan: Plan, tool: str, state: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Run ``plan`` for a call of ``tool`` with validated ``args``; may change ``state`` in place."""
    op = plan.op
    if op == "const":
        return dict(plan.result) if plan.result is not None else _ok(message=plan.message or f"{tool} succeeded.")
    if op == "not_found":
        return not_found(plan.message or f"{tool}: nothing found.")
    if plan.key is not None and plan.key not in state and op != "append":
        return not_found(plan.message or f"{tool}: no {plan.key} available.")
    value = state if plan.key is None else state[plan.key]
    if op == "read":
        return _ok(data=value)
    if op == "filter":
        return _ok(data=_filter(plan, value, args))
    if op == "append":
        record = {f: args[a] for f, a in plan.set.items() if a in args} if plan.set else dict(args)
        target = state.setdefault(plan.key or tool, [])
        if isinstance(target, list):
            target.append(record)
        return _ok(message=plan.message or f"{tool} succeeded.")
    if op in ("update", "remove"):
        return _write(plan, tool, state, value, args)
    raise ValueError(f"operation '{op}' is not applied here")


def _filter(plan: Plan, value: Any, args: dict[str, Any]) -> Any:
    records = _records(value)
    if records is None:
        return value
    given = {f: args[a] for f, a in plan.match.items() if args.get(a) not in (None, "", [])}
    texts = [args[a] for a in plan.text_args if args.get(a) not in (None, "", [])]
    if not given and not texts:
        return records
    hits = [r for r in records
            if all(value_matches(v, r.get(f)) for f, v in given.items() if f in r)
            and all(text_matches(t, r) for t in texts)]
    return hits or records  # permissive, as upstream: an unmatched search returns everything


def _write(plan: Plan, tool: str, state: dict[str, Any], value: Any, args: dict[str, Any]) -> dict[str, Any]:
    fields = {**plan.match, **plan.set}
    given = {f: args[a] for f, a in fields.items() if a in args}
    records = _records(value)
    if isinstance(value, dict) and records is None:  # a settings-like object: set the named keys
        if plan.op == "update":
            value.update({f: v for f, v in given.items() if f in value or f in plan.set})
        return _ok(message=plan.message or f"{tool} succeeded.")
    if records is None or not given:
        return _ok(message=plan.message or f"{tool} succeeded.")
    # the target: the records agreeing with the given identifiers (id, name, path...), then with the most
    # other given values; the given non-identifier values are the new values
    ids = [f for f in given if is_identifier(f)]
    scores = [sum((10 if f in ids else 1) * value_equals(v, r.get(f)) for f, v in given.items() if f in r)
              for r in records]
    best = max(scores)
    if best == 0 or (ids and best < 10):
        shown = ", ".join(f"{f}={given[f]!r}" for f in (ids or given))
        return not_found(f"{tool}: no record in {plan.key} with {shown}.")
    targets = [r for r, s in zip(records, scores, strict=True) if s == best]
    if plan.op == "remove":
        state[plan.key] = [r for r in records if not any(r is t for t in targets)]  # type: ignore[index]
    else:
        for r in targets:
            r.update({f: v for f, v in given.items() if f not in ids and (f in r or f in plan.set)})
    return _ok(message=plan.message or f"{tool} succeeded.")


IDENTIFIER_WORDS = {"id", "name", "title", "path", "email", "number", "url", "key", "code", "username", "uid",
                    "identifier", "account", "filename", "sku"}


def is_identifier(field_name: str) -> bool:
    """Fields that name a record rather than describe it: ``device_id``, ``file_path``, ``title``..."""
    last = re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", field_name).lower())[-1]
    return last in IDENTIFIER_WORDS


def plan_from_spec(tool: str, spec: dict[str, Any]) -> Plan:
    """A YAML spec entry -> Plan; ValueError names what is wrong."""
    if not isinstance(spec, dict) or spec.get("op") not in OPS:
        raise ValueError(f"tool '{tool}': 'op' must be one of {', '.join(OPS)}")
    unknown = set(spec) - {"op", "key", "match", "set", "text", "result", "message", "why"}
    if unknown:
        raise ValueError(f"tool '{tool}': unknown field(s) {', '.join(sorted(unknown))}")

    def args_of(mapping: Any, name: str) -> dict[str, str]:
        if mapping is None:
            return {}
        if not isinstance(mapping, dict) or not all(isinstance(v, str) and v.startswith("$") for v in mapping.values()):
            raise ValueError(f"tool '{tool}': '{name}' maps record fields to $argument names")
        return {str(f): v[1:] for f, v in mapping.items()}

    text = spec.get("text") or []
    if not isinstance(text, list) or not all(isinstance(t, str) and t.startswith("$") for t in text):
        raise ValueError(f"tool '{tool}': 'text' is a list of $argument names")
    result = spec.get("result")
    if result is not None and not isinstance(result, dict):
        raise ValueError(f"tool '{tool}': 'result' must be a mapping")
    return Plan(op=spec["op"], key=spec.get("key"), match=args_of(spec.get("match"), "match"),
                set=args_of(spec.get("set"), "set"), text_args=tuple(t[1:] for t in text), result=result,
                message=spec.get("message"), source="spec", why=str(spec.get("why", "")))
