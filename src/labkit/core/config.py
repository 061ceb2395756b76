"""Typed configs: a dataclass with the paper's defaults, a YAML file, and dotted overrides.

``load_config(MyConfig, "configs/x.yaml", ["search.budget=50", "judge=hf:foo"])`` builds the
dataclass; an unknown key or a value of the wrong type is a ConfigError naming the key and file.
Each field documents itself with ``field(metadata={"help": ...})``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from labkit.core.errors import ConfigError, DataError
from labkit.core.records import read_text

T = TypeVar("T")


BOUNDS = {"ge": (">=", lambda v, b: v >= b), "gt": (">", lambda v, b: v > b),
          "le": ("<=", lambda v, b: v <= b), "lt": ("<", lambda v, b: v < b)}


def option(default: Any, help: str, *, ge: float | None = None, gt: float | None = None,  # noqa: A002
           le: float | None = None, lt: float | None = None, **kwargs: Any) -> Any:
    """A config field: its default, its help text and the range ``build`` checks.

    A dataclass field with a default, a help string (shown by ``--help`` and docs) and an optional range
    (``ge``/``gt``/``le``/``lt``; for a list, every item) that ``build`` checks before any work.
    """
    bounds = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}
    metadata = {"help": help, "bounds": bounds}
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata, **kwargs)
    return dataclasses.field(default=default, metadata=metadata, **kwargs)


def range_text(bounds: dict[str, float]) -> str:
    """``{"gt": 0, "le": 1}`` -> ``"> 0 and <= 1"``."""
    return " and ".join(f"{BOUNDS[k][0]} {v:g}" for k, v in bounds.items())


def check_bounds(value: Any, bounds: dict[str, float], where: str, name: str) -> None:
    """A ConfigError naming the key when ``value`` (or an item of it) is outside ``bounds``; NaN is outside."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for i, v in enumerate(items):
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
            continue
        if v != v or not all(BOUNDS[k][1](v, b) for k, b in bounds.items()):
            key = f"{name}[{i}]" if isinstance(value, (list, tuple)) else name
            raise ConfigError(f"{where}: '{key}' must be {range_text(bounds)}, got {v!r}")


def parse_overrides(overrides: list[str]) -> dict[str, Any]:
    """``["a.b=1", "c=x"]`` -> ``{"a": {"b": 1}, "c": "x"}``; values are parsed as YAML scalars."""
    tree: dict[str, Any] = {}
    for item in overrides:
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"override '{item}' must look like key.sub=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        node = tree
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override '{item}' conflicts with another override")
        node[parts[-1]] = value
    return tree


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Recursive dict merge; ``extra`` wins."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)  # type: ignore[no-untyped-call]
            if isinstance(key, typing.Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} given twice",
                                                        key_node.start_mark)
            if isinstance(key, typing.Hashable):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """A YAML config file's top-level mapping, read strictly.

    A YAML config file's top-level mapping; a missing, binary, non-UTF-8 or invalid file, a key given twice or
    a top level that is not a mapping is a ConfigError naming the file (and line where YAML knows it).
    """
    try:
        text = read_text(path)
    except DataError as exc:
        raise ConfigError(f"{path}: config file {exc.message}") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader) or {}  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}{line}: invalid YAML ({getattr(exc, 'problem', exc)})") from exc
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def build(cls: type[T], data: dict[str, Any], *, where: str = "config", prefix: str = "") -> T:
    """Make ``cls`` from a nested dict, checking keys and types."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if key not in fields:
            close = ", ".join(sorted(fields))
            raise ConfigError(f"{where}: unknown key '{name}' (known: {close})")
        kwargs[key] = _coerce(value, hints[key], where, name)
        check_bounds(kwargs[key], fields[key].metadata.get("bounds", {}), where, name)
    return cls(**kwargs)


def _coerce(value: Any, hint: Any, where: str, name: str) -> Any:
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{name}' must be a mapping")
        return build(hint, value, where=where, prefix=f"{name}.")
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg, where, name)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: bad value for '{name}'")
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise ConfigError(f"{where}: '{name}' must be one of {list(typing.get_args(hint))}, got {value!r}")
        return value
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [yaml.safe_load(v) for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: '{name}' must be a list, got {value!r}")
        args = typing.get_args(hint)
        inner = args[0] if args else Any
        items = [_coerce(v, inner, where, f"{name}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict or hint is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: '{name}' must be a mapping")
        return value
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(hint, type) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{where}: '{name}' must be {getattr(hint, '__name__', hint)}, got {value!r}")
    return value


def load_config(cls: type[T], path: str | Path | None = None, overrides: list[str] | None = None,
                base: dict[str, Any] | None = None) -> T:
    """Defaults <- ``base`` <- YAML file <- dotted overrides, checked against ``cls``."""
    data = dict(base or {})
    where = "config"
    if path:
        data = merge(data, read_yaml(path))
        where = str(path)
    if overrides:
        data = merge(data, parse_overrides(overrides))
        where = f"{where} + overrides" if path else "overrides"
    return build(cls, data, where=where)


def to_dict(config: Any) -> dict[str, Any]:
    """Plain dict for saving the resolved config as YAML."""
    def plain(v: Any) -> Any:
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, list):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, Path):
            return str(v)
        return v
    return plain(dataclasses.asdict(config))


def describe(cls: type[Any], prefix: str = "") -> list[tuple[str, Any, str]]:
    """``(dotted key, default, help)`` for every field, for ``--help`` texts and docs."""
    rows = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        if dataclasses.is_dataclass(default):
            rows += describe(type(default), f"{prefix}{f.name}.")
        else:
            bounds = f.metadata.get("bounds")
            text = f.metadata.get("help", "") + (f" (must be {range_text(bounds)})" if bounds else "")
            rows.append((f"{prefix}{f.name}", default, text))
    return rows
