"""Report helpers."""

from __future__ import annotations


def test_mean_sd_is_the_sample_sd_over_seeds() -> None:
    from labkit.core.report import mean_sd

    assert mean_sd([1.0, 2.0, 3.0]) == "2.0 ± 1.0"  # statistics.stdev: ddof 1
    assert mean_sd([-1.25], "{:+.2f}") == "-1.25 ± 0.00"
    assert mean_sd([0.5, 1.5], "{:+.1f}") == "+1.0 ± 0.7"
    assert mean_sd([]) == "-"
