from dataclasses import dataclass, field
from typing import Literal

import pytest

from labkit.core.config import describe, load_config, option, parse_overrides, to_dict
from labkit.core.errors import ConfigError


@dataclass
class Search:
    budget: int = option(50, "judge calls")
    searcher: Literal["hpss", "random"] = option("hpss", "search algorithm")


@dataclass
class Cfg:
    judge: str = option("smollm2", "judge model spec")
    temperature: float = option(0.0, "sampling temperature")
    seeds: list[int] = option([1, 2], "seeds")
    search: Search = field(default_factory=Search)
    note: str | None = option(None, "free text")


def test_defaults_yaml_and_overrides(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("judge: hf:foo\nsearch:\n  budget: 10\n")
    cfg = load_config(Cfg, path, ["search.searcher=random", "temperature=1", "seeds=3,4,5"])
    assert cfg.judge == "hf:foo" and cfg.search.budget == 10 and cfg.search.searcher == "random"
    assert cfg.temperature == 1.0 and isinstance(cfg.temperature, float)
    assert cfg.seeds == [3, 4, 5]
    assert to_dict(cfg)["search"] == {"budget": 10, "searcher": "random"}


def test_unknown_key_is_an_error_naming_key_and_file(tmp_path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("search:\n  budgett: 10\n")
    with pytest.raises(ConfigError, match=r"c.yaml: unknown key 'search.budgett'"):
        load_config(Cfg, path)
    with pytest.raises(ConfigError, match="unknown key 'jduge'"):
        load_config(Cfg, None, ["jduge=x"])


def test_wrong_types_and_choices() -> None:
    with pytest.raises(ConfigError, match="'search.budget' must be int"):
        load_config(Cfg, None, ["search.budget=many"])
    with pytest.raises(ConfigError, match="must be one of"):
        load_config(Cfg, None, ["search.searcher=grid"])
    with pytest.raises(ConfigError, match="must be int"):
        load_config(Cfg, None, ["search.budget=true"])


def test_bad_yaml_names_line(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("judge: x\nsearch: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: invalid YAML"):
        load_config(Cfg, path)


def test_parse_overrides_and_describe() -> None:
    assert parse_overrides(["a.b=1", "a.c=x", "d=[1, 2]"]) == {"a": {"b": 1, "c": "x"}, "d": [1, 2]}
    with pytest.raises(ConfigError):
        parse_overrides(["novalue"])
    rows = {k: (d, h) for k, d, h in describe(Cfg)}
    assert rows["search.budget"] == (50, "judge calls")


def test_overrides_from_cli_options() -> None:
    from labkit.core.cli import overrides_from

    given = {"judge": "rule, smollm2", "risk": ["Lead to property loss"], "flag": False, "n": 3, "skip": None}
    assert overrides_from(given, {"judge": "judges", "n": "env.n"}, lists=("judge", "risk")) == [
        'judges=["rule", "smollm2"]', 'risk=["Lead to property loss"]', "flag=false", "env.n=3"]


def test_settings_epilog_lists_only_the_sections_a_command_reads() -> None:
    from labkit.core.cli import settings_epilog
    from labkit.spar.config import SparConfig

    every = settings_epilog(SparConfig)
    ifeval = settings_epilog(SparConfig, "ifeval")
    assert "ifeval.limit" in ifeval and "dpo." not in ifeval and "search." not in ifeval
    assert "dpo.beta" in every and len(ifeval) < len(every) / 3
