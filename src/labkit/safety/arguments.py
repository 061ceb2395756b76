"""Tool-call arguments: type coercion by the JSON schema, then validation.

Upstream coerces with ``bool(x)``, so the string "false" became True; here "false"/"no"/"0" are
False. JSON strings become lists/objects where the schema asks for them; arguments the schema does
not declare are dropped (as upstream) and reported back to the caller. Problems are returned as
structured errors for the agent to read, never raised.
"""

from __future__ import annotations

import json
import re
from typing import Any

TRUE, FALSE = {"true", "yes", "1", "y", "on"}, {"false", "no", "0", "n", "off", "none", "null"}


class CoercionError(ValueError):
    pass


def coerce_value(value: Any, spec: dict[str, Any]) -> Any:
    """``value`` converted to the type ``spec`` declares; CoercionError says why it cannot be."""
    kind = spec.get("type")
    if isinstance(kind, list):
        for k in kind:
            try:
                return coerce_value(value, {**spec, "type": k})
            except CoercionError:
                continue
        raise CoercionError(f"expected one of {kind}, got {type(value).__name__}")
    if value is None or kind is None:
        return value
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
            return value.strip().lower() in TRUE
        raise CoercionError(f"expected a boolean, got {value!r}")
    if kind in ("integer", "number"):
        if isinstance(value, bool):
            raise CoercionError(f"expected a {kind}, got a boolean")
        number = value
        if isinstance(value, str):
            try:
                number = float(value.strip().replace(",", ""))
            except ValueError:
                raise CoercionError(f"expected a {kind}, got {value!r}") from None
        if not isinstance(number, (int, float)):
            raise CoercionError(f"expected a {kind}, got {type(value).__name__}")
        if kind == "integer":
            if float(number) != int(number):
                raise CoercionError(f"expected an integer, got {value!r}")
            return int(number)
        return number if isinstance(value, (int, float)) else (int(number) if number == int(number) else number)
    if kind == "string":
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise CoercionError(f"expected a string, got {type(value).__name__}")
    if kind in ("array", "object"):
        want = list if kind == "array" else dict
        if isinstance(value, str):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                parsed = None
            if isinstance(parsed, want):
                value = parsed
            elif kind == "array":
                value = [value]  # a lone string where a list is expected: a one-element list
        if not isinstance(value, want):
            raise CoercionError(f"expected an {kind}, got {type(value).__name__}")
        if kind == "array" and isinstance(spec.get("items"), dict):
            return [coerce_value(v, spec["items"]) for v in value]
        return value
    return value


def prepare_arguments(schema: dict[str, Any], raw: Any) -> tuple[dict[str, Any], dict[str, Any] | None, list[str]]:
    """``(arguments, error, dropped)``: coerced arguments, or a structured error for the agent."""
    params = schema.get("parameters") or {}
    props: dict[str, Any] = params.get("properties") or {}
    if raw is None:
        raw = {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            return {}, _error("invalid_arguments", f"arguments are not valid JSON ({exc.msg})"), []
    if not isinstance(raw, dict):
        return {}, _error("invalid_arguments", "arguments must be a JSON object"), []
    dropped = [k for k in raw if k not in props]
    args: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in props:
            continue
        try:
            args[key] = coerce_value(value, props[key] if isinstance(props[key], dict) else {})
        except CoercionError as exc:
            return {}, _error("invalid_arguments", f"argument '{key}': {exc}"), dropped
    missing = [k for k in params.get("required") or [] if k in props and args.get(k) is None]
    if missing:
        return {}, _error("missing_arguments", f"missing required argument(s): {', '.join(missing)}"), dropped
    problem = _schema_problem(params, args) or _described_choice_problem(props, args)
    if problem:
        return {}, _error("invalid_arguments", problem), dropped
    return args, None, dropped


def _schema_problem(params: dict[str, Any], args: dict[str, Any]) -> str | None:
    """The first jsonschema violation of the coerced arguments (enum, item types...), if any."""
    try:
        import jsonschema
    except ImportError:  # the coercion above already checked the declared types
        return None
    schema = {k: v for k, v in params.items() if k != "required"}
    try:
        error = jsonschema.exceptions.best_match(jsonschema.Draft7Validator(schema).iter_errors(args))
    except jsonschema.exceptions.SchemaError:  # an upstream schema jsonschema cannot read: types were checked
        return None
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    return f"argument '{where}': {error.message}" if where else error.message


_ONE_OF = re.compile(r"\bone (or more )?of\s*\[([^\]]*)\]", re.I)
_EITHER = re.compile(r"\beither\s+'([^']+)'\s+or\s+'([^']+)'", re.I)


def described_choices(spec: dict[str, Any]) -> list[str] | None:
    """The values a description allows where the schema has no ``enum``: "one of ['buy', 'sell']",
    "one or more of [...]" (each item) or "either 'confirm' or 'decline'"; None for open lists ("etc.")."""
    if not isinstance(spec, dict) or spec.get("enum") or not isinstance(spec.get("description"), str):
        return None
    text = spec["description"]
    if m := _ONE_OF.search(text):
        values = re.findall(r"'([^']*)'", m.group(2))
        return values if values and "etc" not in m.group(2).lower() else None
    if m := _EITHER.search(text):
        return [m.group(1), m.group(2)]
    return None


def _described_choice_problem(props: dict[str, Any], args: dict[str, Any]) -> str | None:
    """A string argument outside the values its description enumerates (compared case-insensitively)."""
    for key, value in args.items():
        choices = described_choices(props.get(key))
        items = value if isinstance(value, list) else [value]
        if not choices or not all(isinstance(v, str) for v in items):
            continue
        allowed = {c.lower() for c in choices}
        bad = next((v for v in items if v.strip().lower() not in allowed), None)
        if bad is not None:
            return f"argument '{key}': {bad!r} is not one of {', '.join(choices)}"
    return None


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"success": False, "error": kind, "message": message}


def example_value(spec: dict[str, Any], name: str = "x") -> Any:
    """A schema-valid value for a property (used by scripted agents and the engine check)."""
    if spec.get("enum"):
        return spec["enum"][0]
    kind = spec.get("type")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "array":
        return [example_value(spec.get("items") or {"type": "string"}, name)]
    if kind == "object":
        return {k: example_value(v, k) for k, v in (spec.get("properties") or {}).items() if isinstance(v, dict)}
    return {"boolean": True, "integer": 1, "number": 1.5}.get(kind, f"example {name}")
