"""The command line as a user meets it: help, one-line errors, exit codes."""

import subprocess
import sys

import pytest

from labkit.core.cli import main_with_errors
from labkit.systems import SYSTEMS


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True, timeout=timeout)


def test_help_lists_all_ten_systems_with_status() -> None:
    out = run_cli("--help")
    assert out.returncode == 0
    for name in SYSTEMS:
        assert name in out.stdout
    assert "[planned]" in out.stdout or "[available]" in out.stdout
    assert len(SYSTEMS) == 10


def test_system_help_shows_its_overview_and_one_line_per_command(capsys) -> None:
    """`labkit <system> --help` is the system's own overview (not the one-line listing of `labkit --help`), and
    each command's summary there is one short line; the command's own --help keeps the whole text."""
    from labkit.cli import SUMMARY, app
    from labkit.systems import is_available, system_cli

    for name in [n for n in SYSTEMS if is_available(n)]:
        sub = system_cli(name).app
        assert main_with_errors(app, [name, "--help"]) == 0
        out = " ".join(capsys.readouterr().out.replace("│", " ").split())
        assert " ".join(sub.info.help.split())[:60] in out, name
        for cmd in sub.registered_commands:
            assert cmd.short_help and len(cmd.short_help) <= SUMMARY + 4, (name, cmd.short_help)
            assert "\n" not in cmd.short_help
    assert main_with_errors(app, ["spar", "refine", "--help"]) == 0
    assert "tree.json" in capsys.readouterr().out  # past the summary's first clause


def test_planned_system_says_so(capsys) -> None:
    from labkit.cli import app
    from labkit.systems import is_available

    planned = [n for n in SYSTEMS if not is_available(n)]
    if not planned:
        pytest.skip("every system is available")
    assert main_with_errors(app, [planned[0]]) == 2
    assert "planned" in capsys.readouterr().err


def test_models_list_names_backends_and_default(capsys) -> None:
    from labkit.cli import app

    assert main_with_errors(app, ["models", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("smollm2", "hf:", "openai:", "mock"):
        assert name in out
    assert "default: smollm2" in out


def test_errors_are_one_line_without_traceback() -> None:
    out = run_cli("models", "check", "openai:m@http://127.0.0.1:9/v1")
    assert out.returncode == 2
    assert out.stderr.strip().startswith("error: cannot connect to http://127.0.0.1:9/v1")
    assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    debug = run_cli("--debug", "models", "check", "openai:m@http://127.0.0.1:9/v1")
    assert "Traceback" in debug.stderr
    after = run_cli("models", "check", "openai:m@http://127.0.0.1:9/v1", "--debug")  # after the sub-command too
    assert "Traceback" in after.stderr and "No such option" not in after.stderr and after.returncode == 2


def test_models_check_mock(capsys) -> None:
    from labkit.cli import app

    assert main_with_errors(app, ["models", "check", "mock", "--prompt", "ping"]) == 0
    out = capsys.readouterr().out
    assert "answer:     ping" in out and "tokens/s" in out


@pytest.mark.slow
def test_models_check_smollm2_prints_speed() -> None:
    out = run_cli("models", "check", "smollm2")
    assert out.returncode == 0, out.stderr
    assert "Paris" in out.stdout and "tokens/s" in out.stdout and "safetensors" in out.stdout


@pytest.mark.slow
def test_demo_writes_a_report(tmp_path) -> None:
    out = run_cli("demo", "--out", str(tmp_path), timeout=2700)  # every system's demo: 10-20 min on 2 cores
    assert out.returncode == 0, out.stderr
    report = next(tmp_path.glob("demo/*/report.md"))
    text = report.read_text()
    assert "| hpss |" in text and "Embedded defaults" in text and "## RLHF scaling" in text and "## PDS" in text
    assert "## RecFlow" in text and "## SPaR" in text
    assert any(s in text for s in ("success;", "no node above the gate", "nothing to refine"))
    assert (report.parent / "generation_speed.png").stat().st_size > 1000
    assert (report.parent / "metrics.json").exists()
