"""Every system's YAML config, mutated (tests/fuzzing.py): ``load_config`` - what every ``--config`` and every
``--resume`` (the run's saved config.yaml) goes through - builds the config or raises one ConfigError naming the
file; never another exception. Each starting file is the system's full default config as ``to_dict`` writes it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from labkit.core.config import load_config, to_dict
from labkit.core.errors import ConfigError
from tests.fuzzing import Tally, examples, fuzz_loader, mutations

CONFIGS = {"hpss": "HpssConfig", "prag": "PragConfig", "maps": "MapsConfig", "safety": "SafetyConfig",
           "character": "CharacterConfig", "ugc": "UgcConfig", "spar": "SparConfig", "pds": "PdsConfig",
           "recflow": "RecflowConfig", "rlhf": "SweepConfig"}
TALLY: dict[str, Tally] = {name: Tally() for name in CONFIGS}


def _cls(system: str) -> type:
    return getattr(importlib.import_module(f"labkit.{system}.config"), CONFIGS[system])


def _default_yaml(system: str) -> bytes:
    return yaml.safe_dump(to_dict(_cls(system)()), sort_keys=False).encode()


@pytest.mark.parametrize("system", CONFIGS)
def test_the_default_config_round_trips(system: str, tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(_default_yaml(system))
    assert load_config(_cls(system), path) == _cls(system)()


@examples(200)  # milliseconds each
@given(st.sampled_from(sorted(CONFIGS)).flatmap(lambda s: st.tuples(st.just(s), mutations(_default_yaml(s)))))
def test_fuzz_configs(case: tuple[str, tuple[str, bytes]]) -> None:
    system, (_, data) = case
    fuzz_loader(TALLY[system], "config.yaml", data, lambda path: load_config(_cls(system), path), (ConfigError,))


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("judge: mock\nseed: 1\nseed: 2\n")
    with pytest.raises(ConfigError, match=r"c\.yaml:3: invalid YAML \(key 'seed' given twice\)"):
        load_config(_cls("hpss"), path)


def test_a_utf16_config_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_bytes("seed: 1\n".encode("utf-16"))
    with pytest.raises(ConfigError, match=r"c\.yaml: config file not UTF-8 text"):
        load_config(_cls("hpss"), path)


def teardown_module() -> None:
    for system, tally in TALLY.items():
        print(tally.line(f"{system} config (YAML)"))
