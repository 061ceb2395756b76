"""Serving local weights for a block: names that change with the checkpoint, the engines' commands, a server that
does not come up is one error with its log's tail, and vLLM missing is refused before any run folder."""

from __future__ import annotations

import os

import pytest

from labkit.core import launch
from labkit.core.errors import BackendError, ConfigError


def test_the_served_name_changes_with_the_checkpoint(tmp_path) -> None:
    (tmp_path / "model.safetensors").write_bytes(b"x")
    first = launch.served_name(tmp_path, "actor")
    assert first.startswith("actor-") and launch.served_name(tmp_path, "actor") == first
    os.utime(tmp_path / "model.safetensors", ns=(1, 10**18))  # new weights written
    assert launch.served_name(tmp_path, "actor") != first


def test_engine_commands(tmp_path, monkeypatch) -> None:
    cmd = launch.command("labkit", tmp_path, "actor-1", 8123)
    assert cmd[1:4] == ["-m", "labkit", "serve"] and f"hf:{tmp_path}" in cmd and "8123" in cmd
    monkeypatch.setattr(launch.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert launch.command("vllm", tmp_path, "actor-1", 8123)[:3] == ["/usr/bin/vllm", "serve", str(tmp_path)]
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)
    with pytest.raises(ConfigError, match="'vllm' command is not installed"):
        launch.command("vllm", tmp_path, "actor-1", 8123)
    with pytest.raises(ConfigError, match="engine must be one of"):
        launch.command("tgi", tmp_path, "x", 1)


def test_a_server_that_does_not_come_up_is_one_error_with_its_log(tmp_path) -> None:
    (tmp_path / "weights.bin").write_bytes(b"")  # no config.json: labkit serve exits at once
    with pytest.raises(BackendError, match="labkit server for .* exited"), launch.launched(tmp_path, "labkit", "x"):
        pass


def test_vllm_missing_is_refused_before_a_run_folder(tmp_path, monkeypatch, capsys) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    monkeypatch.setattr(launch.shutil, "which", lambda name: None)
    assert main_with_errors(app, ["spar", "iterate", "--set", "iterate.serve=vllm"]) == 2
    assert "'vllm' command is not installed" in capsys.readouterr().err and not (tmp_path / "runs").exists()
