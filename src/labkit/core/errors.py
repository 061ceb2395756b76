"""Typed errors shared by every labkit system.

The CLI prints ``str(err)`` as one line and exits non-zero; ``--debug`` shows the traceback.
"""

from __future__ import annotations


class LabkitError(Exception):
    """Base of every error labkit raises on purpose."""


class ConfigError(LabkitError):
    """A config file or override is invalid (unknown key, wrong type, bad value)."""


class DataError(LabkitError):
    """Input data is malformed; the message names the file, record/line and field."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        where = ":".join(str(p) for p in (path, line) if p is not None)
        parts = [where] if where else []
        if field is not None:
            parts.append(f"field '{field}'")
        prefix = ", ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.message, self.path, self.line, self.field = message, path, line, field


class BackendError(LabkitError):
    """A model backend failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class MissingDependency(LabkitError):
    """An optional dependency is not installed; the message names the extra to install."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(f"{package} is not installed: pip install 'labkit[{extra}]'")
        self.package, self.extra = package, extra


def require(module: str, extra: str):  # noqa: ANN201 - returns a module
    """Import ``module`` or raise MissingDependency naming the labkit extra that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependency(module.split(".")[0], extra) from exc
