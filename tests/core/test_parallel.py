import pytest

from labkit.core.parallel import parallel_map


def flaky(x: int) -> int:
    if x % 4 == 0:
        raise ValueError(f"bad item {x}")
    return x * x


@pytest.mark.parametrize("workers", [1, 4])
def test_failures_are_captured_on_their_items(workers: int) -> None:
    seen = []
    out = parallel_map(flaky, range(10), workers=workers, progress=False, on_result=seen.append)
    assert [o.index for o in out] == list(range(10))
    assert [o.value for o in out if o.ok] == [x * x for x in range(10) if x % 4]
    assert [o.error for o in out if not o.ok] == [f"ValueError: bad item {x}" for x in (0, 4, 8)]
    assert sorted(o.index for o in seen) == list(range(10))


@pytest.mark.slow
def test_ray_map_equals_local_map() -> None:
    pytest.importorskip("ray")
    local = parallel_map(flaky, range(12), workers=3, progress=False)
    remote = parallel_map(flaky, range(12), workers=3, progress=False, backend="ray")
    assert [(o.index, o.value, o.error) for o in remote] == [(o.index, o.value, o.error) for o in local]
