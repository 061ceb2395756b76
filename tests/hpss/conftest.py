import pytest

from labkit.core.paths import data_dir


@pytest.fixture
def hpss_data():
    root = data_dir() / "hpss"
    if not root.is_dir():
        pytest.skip(f"HPSS data not found at {root} (set LABKIT_DATA_DIR)")
    return root
