"""Grid expansion: one axis at a time around the base (attributable), or every combination."""

import pytest

from labkit.core.config import load_config
from labkit.core.errors import ConfigError
from labkit.rlhf.config import SweepConfig
from labkit.rlhf.grid import expand, point_id


def test_one_axis_at_a_time_records_the_held_fixed_values() -> None:
    cfg = load_config(SweepConfig, None, ['grid={"n": [1, 2, 4, 8, 16], "reward": ["rule", "rm-bt"]}',
                                          "seeds=[0, 1, 2]"])
    points = expand(cfg)
    assert len(points) == (1 + 4 + 1) * 3  # base, n != 4 (four values), reward != rule (one value); x 3 seeds
    assert len({p.id for p in points}) == len(points)
    n_axis = [p for p in points if p.axis == "n"]
    assert sorted({p.settings.n for p in n_axis}) == [1, 2, 8, 16]
    assert all(p.settings.reward == "rule" and p.settings.task == "addition" for p in n_axis)
    assert sorted({p.settings.n for p in points if p.axis in ("n", None)}) == [1, 2, 4, 8, 16]  # with the base
    assert expand(cfg) == points  # stable ids and order


def test_product_and_errors() -> None:
    cfg = load_config(SweepConfig, None, ['grid={"n": [2, 4], "kl": [0.0, 0.05, 0.1]}', "seeds=[0]",
                                          "mode=product"])
    points = expand(cfg)
    assert len(points) == 6 and {p.axis for p in points} == {"kl+n"}
    with pytest.raises(ConfigError, match="unknown axis temperature"):
        expand(load_config(SweepConfig, None, ['grid={"temperature": [1]}']))
    base = expand(load_config(SweepConfig, None, ["seeds=[0]"]))[0]
    assert base.axis is None and base.id == point_id(base.settings) and len(base.id) == 16


@pytest.mark.parametrize(("grid", "said"), [
    ('{"n": [2, -1]}', "grid.n[1]: 'n' must be >= 1, got -1"),
    ('{"n": [0]}', "grid.n[0]: 'n' must be >= 1, got 0"),
    ('{"lr": [0.001, 0]}', "grid.lr[1]: 'lr' must be > 0, got 0"),
    ('{"kl": ["lots"]}', "grid.kl[0]: 'kl' must be float"),
    ('{"task": ["additon"]}', "grid.task[0]: 'task' must be one of"),
    ('{"n": []}', "grid.n: must be a non-empty list"),
])
def test_every_grid_value_is_checked_before_any_point(grid: str, said: str) -> None:
    with pytest.raises(ConfigError) as err:
        expand(load_config(SweepConfig, None, [f"grid={grid}"]))
    assert said in str(err.value)


def test_base_settings_are_checked_when_the_config_is_built() -> None:
    with pytest.raises(ConfigError, match="'base.task' must be one of"):
        load_config(SweepConfig, None, ["base.task=additon"])
    with pytest.raises(ConfigError, match=r"'base.n' must be >= 1, got -1"):
        load_config(SweepConfig, None, ["base.n=-1"])
