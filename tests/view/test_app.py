"""``labkit view``'s API on run folders written here by hand in the format every system writes (config.yaml,
append-only results.jsonl, metrics.json, report.md with a plot), including broken and growing ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from labkit.view.app import make_app  # noqa: E402

PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360"
                    "000002000154a24f5d0000000049454e44ae426082")


def write_run(folder: Path, records: list[dict], metrics: dict | None = None, report: str | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.yaml").write_text("judge: smollm2\nbudget: 2\n")
    (folder / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    if metrics is not None:
        (folder / "metrics.json").write_text(json.dumps(metrics))
    if report is not None:
        (folder / "report.md").write_text(report)
        (folder / "plot.png").write_bytes(PNG)
    return folder


def item(i: int, **value) -> dict:
    return {"key": f"q{i}", "ok": True, "value": {"spearman": i / 10, "unparsed": 0, **value}}


@pytest.fixture
def root(tmp_path) -> Path:
    runs = tmp_path / "runs"
    records = [item(i) for i in range(8)]
    records[3] = {"key": "q3", "ok": False, "error": "BackendError: time-out"}
    records[5]["value"]["unparsed"] = 2
    write_run(runs / "hpss" / "20261207-101500-search", records, {"test": {"spearman": 0.41}, "calls": 30},
              "# HPSS\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![plot](plot.png)\n\n<script>alert(1)</script>\n")
    b = [item(i) for i in range(8)]
    b[3] = item(3)
    b[6] = {"key": "q6", "ok": False, "error": "model error"}
    write_run(runs / "hpss" / "20261207-111500-search", b, {"test": {"spearman": 0.45}, "calls": 31})
    broken = write_run(runs / "safety" / "20261207-120000-run", [item(0)])
    (broken / "config.yaml").write_text("a: [unclosed\n")
    (broken / "metrics.json").write_text("[1, 2]")
    with open(broken / "results.jsonl", "a") as fh:
        fh.write("not json at all\n" + json.dumps(item(2)) + "\n" + '{"key": "torn", "ok": tr')
    return runs


@pytest.fixture
def client(root) -> TestClient:
    return TestClient(make_app(root))


def test_runs_are_listed_by_system_with_status_counts_and_problems(client, root) -> None:
    write_run(root / "spar" / "20261207-130000-iterate", [item(0)])  # killed: records, no metrics or report yet
    runs = {r["path"]: r for r in client.get("/api/runs").json()["runs"]}
    assert runs["spar/20261207-130000-iterate"]["status"] == "interrupted"
    a = runs["hpss/20261207-101500-search"]
    assert (a["system"], a["status"], a["items"], a["failed"], a["flagged"]) == ("hpss", "finished", 8, 1, 2)
    assert a["date"] == "2026-12-07 10:15" and a["metrics"]["test.spearman"] == 0.41
    broken = runs["safety/20261207-120000-run"]
    assert broken["items"] == 3  # the torn last line waits for its newline
    assert any("not JSON" in p for p in broken["problems"]) and any("metrics.json" in p for p in broken["problems"])


def test_a_run_page_shows_config_metrics_report_and_what_is_wrong(client) -> None:
    run = client.get("/api/run", params={"path": "hpss/20261207-101500-search"}).json()
    assert "budget: 2" in run["config"] and run["metrics_all"]["calls"] == 30
    assert "<table>" in run["report"] and 'src="/files/hpss/20261207-101500-search/plot.png"' in run["report"]
    assert "<script>" not in run["report"]  # raw HTML in a report is shown as text
    assert "spearman" in run["numeric_fields"]
    broken = client.get("/api/run", params={"path": "safety/20261207-120000-run"}).json()
    assert any(p.startswith("config.yaml") for p in broken["problems"])
    assert any(p.startswith("metrics.json") for p in broken["problems"])
    assert client.get("/files/hpss/20261207-101500-search/plot.png").content == PNG


def test_items_page_search_filter_and_range(client) -> None:
    def page(**params):
        return client.get("/api/items", params={"path": "hpss/20261207-101500-search", **params}).json()

    first = page(limit=3)
    assert first["total"] == 8 and [r["key"] for r in first["rows"]] == ["q0", "q1", "q2"]
    assert [r["key"] for r in page(offset=6, limit=3)["rows"]] == ["q6", "q7"]
    assert [r["key"] for r in page(status="failed")["rows"]] == ["q3"]
    assert [r["key"] for r in page(status="flagged")["rows"]] == ["q3", "q5"]
    assert [r["key"] for r in page(q="TIME-OUT")["rows"]] == ["q3"]
    ranged = page(metric="spearman", low=0.4, high=0.6)
    assert [r["key"] for r in ranged["rows"]] == ["q4", "q5", "q6"] and ranged["rows"][0]["metric"] == 0.4
    record = client.get("/api/item", params={"path": "hpss/20261207-101500-search", "index": 3}).json()["record"]
    assert record == {"key": "q3", "ok": False, "error": "BackendError: time-out"}
    assert client.get("/api/item", params={"path": "hpss/20261207-101500-search", "index": 8}).status_code == 404


def test_paths_outside_the_runs_folder_are_refused(client, root) -> None:
    (root.parent / "secret.txt").write_text("no")
    for path in ("/files/../secret.txt", "/files/%2e%2e/secret.txt", "/files/hpss/../../secret.txt"):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/run", params={"path": "../"}).status_code == 404
    assert client.get("/api/items", params={"path": "/etc"}).status_code == 404
    assert client.get("/static/../runs.py").status_code == 404


def test_two_runs_side_by_side(client) -> None:
    d = client.get("/api/compare", params={"a": "hpss/20261207-101500-search",
                                           "b": "hpss/20261207-111500-search"}).json()
    diff = {m["name"]: m["diff"] for m in d["metrics"]}
    assert diff["test.spearman"] == pytest.approx(0.04) and diff["calls"] == 1
    changed = {c["key"]: c for c in d["changed"]}
    assert set(changed) == {"q3", "q5", "q6"} and d["shared_items"] == 8
    assert changed["q3"]["a_ok"] is False and changed["q3"]["b_ok"] is True
    assert changed["q6"]["b_ok"] is False


def test_a_growing_run_shows_new_items(client, root) -> None:
    folder = root / "hpss" / "20261207-101500-search"
    assert client.get("/api/items", params={"path": "hpss/20261207-101500-search"}).json()["total"] == 8
    with open(folder / "results.jsonl", "a") as fh:
        fh.write(json.dumps(item(8)) + "\n" + '{"key": "q9", "ok": true, "va')  # the writer is mid-line
    page = client.get("/api/items", params={"path": "hpss/20261207-101500-search", "offset": 5}).json()
    assert page["total"] == 9 and page["rows"][-1]["key"] == "q8"
    with open(folder / "results.jsonl", "a") as fh:
        fh.write('lue": {"spearman": 0.9}}\n')
    assert client.get("/api/items", params={"path": "hpss/20261207-101500-search"}).json()["total"] == 10


def test_the_page_and_its_scripts_are_served(client) -> None:
    assert "labkit view" in client.get("/").text
    assert "showRuns" in client.get("/static/app.js").text


def test_view_without_a_runs_folder_is_one_line(tmp_path, capsys) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    assert main_with_errors(app, ["view", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no runs folder" in err[0]
    assert main_with_errors(app, ["view", "--help"]) == 0
    assert "127.0.0.1" in capsys.readouterr().out  # binds this machine only by default


def test_a_demo_runs_steps_are_listed_under_their_systems(tmp_path) -> None:
    root = tmp_path / "runs"
    demo = root / "demo" / "20261208-010000-demo"
    write_run(demo, [], {"available": ["hpss"]}, "# labkit demo\n")
    write_run(demo / "hpss" / "run", [item(0)], {"test": {"spearman": 0.2}})
    runs = {r["path"]: r for r in TestClient(make_app(root)).get("/api/runs").json()["runs"]}
    assert runs["demo/20261208-010000-demo"]["system"] == "demo"
    assert runs["demo/20261208-010000-demo/hpss/run"]["system"] == "hpss"


def test_more_bad_lines_than_are_listed_are_counted(tmp_path) -> None:
    root = tmp_path / "runs"
    run = write_run(root / "hpss" / "20261208-010000-x", [item(0)])
    with open(run / "results.jsonl", "a") as fh:
        fh.write("not json\n" * 25)
    problems = TestClient(make_app(root)).get("/api/runs").json()["runs"][0]["problems"]
    assert len(problems) == 21 and problems[-1] == "results.jsonl: 25 lines that are not JSON in all"
