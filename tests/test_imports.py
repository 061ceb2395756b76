"""Every module imports (optional heavy deps are imported lazily inside functions), and every module is found:
a folder without ``__init__.py`` hides its modules from ``walk_packages``."""

import importlib
import pkgutil
from pathlib import Path

import labkit


def all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(labkit.__path__, "labkit.")
                  if not m.name.endswith("__main__"))


def test_every_module_imports() -> None:
    names = all_modules()
    assert "labkit.core.models.hf" in names and "labkit.core.serve" in names
    root = Path(labkit.__file__).parent
    files = {".".join(("labkit", *p.relative_to(root).with_suffix("").parts)).removesuffix(".__init__")
             for p in root.rglob("*.py") if p.name != "__main__.py"}
    assert files - {"labkit"} == set(names), f"modules not walked (a folder without __init__.py?): " \
                                              f"{sorted(files - {'labkit'} - set(names))}"
    for name in names:
        importlib.import_module(name)
