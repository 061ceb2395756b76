"""A real search with the embedded judge through the CLI; a re-run makes zero new model calls."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def search(*extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit", "hpss", "search", "--config",
                           str(ROOT / "configs/hpss/tiny.yaml"), "--max-items", "4", *extra],
                          capture_output=True, text=True, timeout=1200)


def test_tiny_real_search_and_cached_rerun(hpss_data) -> None:
    first = search()
    assert first.returncode == 0, first.stderr
    run_dir = Path(re.search(r"run: (\S+)", first.stderr).group(1))
    assert (run_dir / "report.md").exists() and (run_dir / "best.yaml").exists()
    misses = int(re.search(r"cache: \d+ hits, (\d+) misses", first.stderr).group(1))
    assert misses > 0
    second = search()
    assert second.returncode == 0, second.stderr
    assert re.search(r"cache: \d+ hits, 0 misses", second.stderr), second.stderr
    first_traj = (run_dir / "trajectory.jsonl").read_text()
    second_dir = Path(re.search(r"run: (\S+)", second.stderr).group(1))
    assert (second_dir / "trajectory.jsonl").read_text() == first_traj


@pytest.mark.skipif(not __import__("os").environ.get("LABKIT_LONG_TESTS"),
                    reason="about 45 min on 2 CPU cores; set LABKIT_LONG_TESTS=1 to run")
def test_forty_topical_chat_items_budget_five(hpss_data) -> None:
    """The issue's check at full size: 40 validation items, budget 5, the embedded judge
    (rating-only answers; few-shot blocks up to 3 examples to stay inside 2-core time)."""
    args = ["--data", "topical_chat", "--aspect", "coherence", "--judge", "smollm2", "--max-items", "40",
            "--budget", "5", "--set", "factors.cot=[Free]", "--set", "factors.examples=[NoExample, Example3]"]
    run = [sys.executable, "-m", "labkit", "hpss", "search", *args]
    first = subprocess.run(run, capture_output=True, text=True, timeout=7200)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(run, capture_output=True, text=True, timeout=3600)
    assert second.returncode == 0 and re.search(r"cache: \d+ hits, 0 misses", second.stderr), second.stderr
