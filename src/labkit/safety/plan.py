"""A ``Plan`` says which operation serves a tool, on which state key, and how the call's arguments map to
record fields; ``plan_from_spec`` reads one from a per-environment YAML spec entry and ``Plan.to_spec``
writes it back."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

OPS = ("const", "read", "filter", "update", "append", "remove", "transfer", "not_found", "simulate")


@dataclass(frozen=True)
class Plan:
    op: str
    key: str | None = None  # state key the tool works on (None: the whole state)
    match: dict[str, str] = field(default_factory=dict)  # record field -> argument name
    text_args: tuple[str, ...] = ()  # free-text arguments matched against whole records
    set: dict[str, str] = field(default_factory=dict)  # record field -> argument (update/append)
    status: str | None = None  # update: the state the verb puts a record in (disable -> "disabled")
    amount: str | None = None  # transfer: the argument holding the amount
    to: str | None = None  # transfer: the argument naming the credited record (else only a debit)
    log: str | None = None  # append the call's arguments to this list too (sent messages, transactions)
    strict: bool = False  # filter: a named record that does not exist is "not found" (else: everything)
    result: dict[str, Any] | None = None  # const: the answer; read/filter: fixed fields added to it
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
        if self.strict:
            out["strict"] = True
        for name in ("status", "log"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        for name in ("amount", "to"):  # arguments, written $name
            if getattr(self, name) is not None:
                out[name] = f"${getattr(self, name)}"
        for name in ("result", "message"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        if self.why:
            out["why"] = self.why
        return out

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_from_spec(tool: str, spec: dict[str, Any]) -> Plan:
    """A YAML spec entry -> Plan; ValueError names what is wrong."""
    if not isinstance(spec, dict) or spec.get("op") not in OPS:
        raise ValueError(f"tool '{tool}': 'op' must be one of {', '.join(OPS)}")
    unknown = set(spec) - {"op", "key", "match", "set", "text", "result", "message", "why", "status", "amount", "to",
                           "log", "strict"}
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
    def arg_of(name: str) -> str | None:
        v = spec.get(name)
        if v is None:
            return None
        if not (isinstance(v, str) and v.startswith("$")):
            raise ValueError(f"tool '{tool}': '{name}' is an $argument name")
        return v[1:]

    return Plan(op=spec["op"], key=spec.get("key"), match=args_of(spec.get("match"), "match"),
                set=args_of(spec.get("set"), "set"), text_args=tuple(t[1:] for t in text), result=result,
                message=spec.get("message"), status=spec.get("status"), amount=arg_of("amount"), to=arg_of("to"),
                log=spec.get("log"), strict=bool(spec.get("strict", False)), source="spec",
                why=str(spec.get("why", "")))
