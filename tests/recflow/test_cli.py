"""`labkit recflow generate` then `validate`: a clean folder passes; a broken one prints its problems and exits
with a one-line error (no traceback)."""

from __future__ import annotations

from labkit.cli import app
from labkit.core.cli import main_with_errors


def test_generate_then_validate(tmp_path, capsys) -> None:
    out = tmp_path / "funnel"
    assert main_with_errors(app, ["recflow", "generate", "--out", str(out), "--users", "40", "--days", "2",
                                  "--set", "generate.videos=400"]) == 0
    assert main_with_errors(app, ["recflow", "validate", str(out)]) == 0
    assert "matches the RecFlow layout" in capsys.readouterr().out
    (out / "others" / "id_cnt.pkl").unlink()
    assert main_with_errors(app, ["recflow", "validate", str(out)]) != 0
    captured = capsys.readouterr()
    assert "id_cnt.pkl: missing" in captured.out and "Traceback" not in captured.err
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]  # (a cache summary may follow)
    assert errors == [f"error: 1 problem(s) in {out}"]
