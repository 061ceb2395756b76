import pytest

from labkit.core.errors import BackendError, DataError, MissingDependency, require


def test_data_error_names_file_line_and_field() -> None:
    err = DataError("expected a number, got 'abc'", path="data.jsonl", line=7, field="score")
    assert str(err) == "data.jsonl:7, field 'score': expected a number, got 'abc'"
    assert str(DataError("empty file", path="x.csv")) == "x.csv: empty file"


def test_backend_error_retryable_flag() -> None:
    assert BackendError("busy", retryable=True).retryable
    assert not BackendError("bad key").retryable


def test_require_names_the_extra() -> None:
    with pytest.raises(MissingDependency, match=r"pip install 'labkit\[ray\]'"):
        require("surely_not_a_module_xyz", "ray")
