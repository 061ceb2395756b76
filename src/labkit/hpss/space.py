"""The prompting-strategy space: 8 discrete factors, one value each (HPSS, arXiv:2502.13031, Table 1).

A strategy is a tuple of values in factor order. The paper space has 5*3*3*2*2*4*3*6 = 12,960
strategies. Users narrow or extend it declaratively (YAML ``factors: {scale: [3, 5, 7]}``): scale
takes any integer >= 2, examples any ``Example<K>``, and the other factors the paper's values.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from labkit.core.errors import ConfigError

Strategy = tuple[Any, ...]

PAPER_FACTORS: dict[str, tuple[Any, ...]] = {
    "scale": (3, 5, 10, 50, 100),
    "criteria": ("Human", "NoCriteria", "LLM"),
    "cot": ("Prefix", "Suffix", "Free"),
    "autocot": ("NoAutoCoT", "AutoCoT"),
    "metrics": ("NoMetrics", "Metrics"),
    "examples": ("NoExample", "Example3", "Example5", "Example10"),
    "reference": ("NoReference", "Reference", "Dialectic"),
    "order": ("TEI", "TIE", "ITE", "IET", "EIT", "ETI"),
}

# the MT-Bench single-answer judge (scale 3 for Topical-Chat, set per task)
DEFAULT = {"scale": 5, "criteria": "Human", "cot": "Prefix", "autocot": "NoAutoCoT",
           "metrics": "NoMetrics", "examples": "NoExample", "reference": "NoReference", "order": "TEI"}


def check_value(factor: str, value: Any) -> Any:
    if factor == "scale":
        if not isinstance(value, int) or isinstance(value, bool) or value < 2:
            raise ConfigError(f"factor 'scale': values are integers >= 2, got {value!r}")
        return value
    if factor == "examples":
        if value != "NoExample" and not re.fullmatch(r"Example[1-9][0-9]*", str(value)):
            raise ConfigError(f"factor 'examples': values are NoExample or Example<K>, got {value!r}")
        return value
    if value not in PAPER_FACTORS[factor]:
        raise ConfigError(f"factor '{factor}': unknown value {value!r} (known: {list(PAPER_FACTORS[factor])})")
    return value


@dataclass(frozen=True)
class StrategySpace:
    """Factors in a fixed order, each with its tuple of values."""

    factors: tuple[tuple[str, tuple[Any, ...]], ...]

    @classmethod
    def paper(cls) -> StrategySpace:
        return cls(tuple(PAPER_FACTORS.items()))

    @classmethod
    def from_dict(cls, spec: dict[str, list[Any]] | None) -> StrategySpace:
        """The paper space with some factors' values replaced; every factor must keep >= 1 value."""
        factors = dict(PAPER_FACTORS)
        for name, values in (spec or {}).items():
            if name not in PAPER_FACTORS:
                raise ConfigError(f"unknown factor '{name}' (factors: {list(PAPER_FACTORS)})")
            if not values:
                raise ConfigError(f"factor '{name}' needs at least one value")
            factors[name] = tuple(dict.fromkeys(check_value(name, v) for v in values))
        return cls(tuple(factors.items()))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.factors)

    @property
    def size(self) -> int:
        return math.prod(len(values) for _, values in self.factors)

    def values(self, factor: str) -> tuple[Any, ...]:
        return dict(self.factors)[factor]

    def as_dict(self, strategy: Strategy) -> dict[str, Any]:
        return dict(zip(self.names, strategy, strict=True))

    def from_values(self, values: dict[str, Any]) -> Strategy:
        unknown = set(values) - set(self.names)
        if unknown:
            raise ConfigError(f"unknown factors {sorted(unknown)}")
        out = []
        for name, allowed in self.factors:
            if name not in values:
                raise ConfigError(f"strategy lacks factor '{name}'")
            if values[name] not in allowed:
                raise ConfigError(f"factor '{name}': {values[name]!r} is not in this space ({list(allowed)})")
            out.append(values[name])
        return tuple(out)

    def default(self, default_scale: int = 5) -> Strategy:
        """The MT-Bench default, moved to the nearest allowed value where the space lacks it."""
        wanted = {**DEFAULT, "scale": default_scale}
        return tuple(wanted[n] if wanted[n] in vals else vals[0] for n, vals in self.factors)

    def neighbours(self, strategy: Strategy) -> list[tuple[int, Any, Strategy]]:
        """Every one-factor change: (factor index, new value, strategy)."""
        out = []
        for f, (_, values) in enumerate(self.factors):
            for v in values:
                if v != strategy[f]:
                    out.append((f, v, strategy[:f] + (v,) + strategy[f + 1:]))
        return out

    def all(self) -> Iterator[Strategy]:
        return itertools.product(*(values for _, values in self.factors))

    def random(self, rng: Any) -> Strategy:
        return tuple(values[int(rng.integers(len(values)))] for _, values in self.factors)

    def index_vector(self, strategy: Strategy) -> list[int]:
        return [values.index(v) for (_, values), v in zip(self.factors, strategy, strict=True)]

    def from_index_vector(self, indices: list[int]) -> Strategy:
        return tuple(values[i] for (_, values), i in zip(self.factors, indices, strict=True))


def example_count(value: str) -> int:
    return 0 if value == "NoExample" else int(value[len("Example"):])
