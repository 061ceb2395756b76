"""Every module imports (optional heavy deps are imported lazily inside functions)."""

import importlib
import pkgutil

import labkit


def all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(labkit.__path__, "labkit.")
                  if not m.name.endswith("__main__"))


def test_every_module_imports() -> None:
    names = all_modules()
    assert "labkit.core.models.hf" in names and "labkit.core.serve" in names
    for name in names:
        importlib.import_module(name)
