"""``labkit view``: every run under a runs folder in a local web page (FastAPI; plain HTML/JS from the package).

JSON API: ``/api/runs`` (list), ``/api/run?path=`` (config, metrics, rendered report, counts), ``/api/items``
(a page of ``results.jsonl`` with search and filters), ``/api/item`` (one whole record), ``/api/compare``
(metric differences and the items whose outcome changed), ``/files/<run path>/<file>`` (plots). Only files
under the runs folder are served; a path that leaves it is a 404.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from labkit.core.errors import require
from labkit.view.runs import (
    CONFIG,
    REPORT,
    NotARun,
    find_runs,
    flat_numbers,
    inside,
    read_config,
    read_metrics,
    results_index,
    run_summary,
)

STATIC = Path(__file__).with_name("static")
PAGE_MAX = 500


def render_markdown(text: str, run_path: str) -> str:
    """A report's markdown as HTML (markdown-it, tables on, raw HTML escaped); images point into ``/files``."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    default = md.renderer.rules.get("image")

    def image(_renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        token = tokens[idx]
        src = token.attrGet("src") or ""
        if "://" not in src and not src.startswith("/"):
            token.attrSet("src", f"/files/{run_path}/{src}")
        return default(tokens, idx, options, env) if default else md.renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("image", image)
    return md.render(text)


def _run(root: Path, path: str) -> Path:
    folder = inside(root, path)
    if not folder.is_dir() or not any((folder / m).is_file() for m in (CONFIG, "results.jsonl", "metrics.json",
                                                                       REPORT)):
        raise NotARun(f"{path!r} is not a run folder")
    return folder


def run_detail(root: Path, path: str) -> dict[str, Any]:
    """The run page's data: summary, config text, metrics, the report as HTML."""
    folder = _run(root, path)
    summary = run_summary(root, folder)
    problems: list[str] = list(summary["problems"])
    config = read_config(folder, problems)
    metrics = read_metrics(folder, [])
    report = ""
    if (folder / REPORT).exists():
        try:
            report = render_markdown((folder / REPORT).read_text(encoding="utf-8"), summary["path"])
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{REPORT}: {exc}")
    index = results_index(folder)
    names = sorted({k for i in range(min(len(index.entries), 200)) for k in index.numbers(i)})
    return {**summary, "problems": problems, "config": config, "metrics_all": metrics, "report": report,
            "numeric_fields": names, "size": index.end}


def items_page(root: Path, path: str, *, offset: int = 0, limit: int = 50, status: str = "all", q: str = "",
               metric: str = "", low: float | None = None, high: float | None = None) -> dict[str, Any]:
    """One page of the run's records after the filters; ``total`` is how many passed."""
    index = results_index(_run(root, path))
    picked = index.select(status=status, query=q, metric=metric, low=low, high=high)
    limit = max(1, min(limit, PAGE_MAX))
    rows = [{"index": i, "key": index.entries[i].key, "ok": index.entries[i].ok,
             "flagged": index.entries[i].flagged, "summary": index.summary(i),
             **({"metric": index.numbers(i).get(metric)} if metric else {})}
            for i in picked[offset:offset + limit]]
    return {"total": len(picked), "items": len(index.entries), "offset": offset, "rows": rows,
            "size": index.end}


def item_detail(root: Path, path: str, index_: int) -> dict[str, Any]:
    """One whole record, with the system's name so the page can lay it out the way that system reads."""
    folder = _run(root, path)
    index = results_index(folder)
    if not 0 <= index_ < len(index.entries):
        raise NotARun(f"item {index_} of {path!r} does not exist ({len(index.entries)} items)")
    return {"path": path, "system": path.split("/")[0], "index": index_, "count": len(index.entries),
            "record": index.record(index_)}


def compare(root: Path, a: str, b: str, *, limit: int = 200) -> dict[str, Any]:
    """Metric differences (b - a) and the items (matched by key) whose outcome changed.

    An outcome is ok vs failed, flagged or not, and every numeric field both records have.
    """
    runs = [_run(root, p) for p in (a, b)]
    ma, mb = (flat_numbers(read_metrics(r, [])) for r in runs)
    metrics = [{"name": k, "a": ma.get(k), "b": mb.get(k),
                "diff": (mb[k] - ma[k]) if k in ma and k in mb else None} for k in sorted(set(ma) | set(mb))]
    ia, ib = (results_index(r) for r in runs)
    by_key = {e.key: (i, e) for i, e in enumerate(ia.entries) if e.key}
    changed = []
    for j, e in enumerate(ib.entries):
        if e.key not in by_key:
            continue
        i, old = by_key[e.key]
        na, nb = ia.numbers(i), ib.numbers(j)
        moved = {k: (na[k], nb[k]) for k in na.keys() & nb.keys()
                 if na[k] != nb[k] and not (math.isnan(na[k]) and math.isnan(nb[k]))}
        if old.ok != e.ok or old.flagged != e.flagged or moved:
            changed.append({"key": e.key, "a_index": i, "b_index": j, "a_ok": old.ok, "b_ok": e.ok,
                            "a_flagged": old.flagged, "b_flagged": e.flagged,
                            "fields": {k: list(v) for k, v in list(moved.items())[:6]}})
    shared = len(by_key.keys() & {e.key for e in ib.entries})
    return {"a": a, "b": b, "metrics": metrics, "shared_items": shared, "changed": changed[:limit],
            "changed_total": len(changed)}


def make_app(root: Path) -> Any:
    """The FastAPI app serving ``root``."""
    fastapi = require("fastapi", "serve")
    from fastapi.responses import FileResponse, JSONResponse

    root = Path(root)
    app = fastapi.FastAPI(title="labkit view", docs_url=None, redoc_url=None)

    @app.exception_handler(NotARun)
    def not_found(_request: Any, exc: NotARun) -> Any:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.get("/api/runs")
    def runs() -> dict[str, Any]:
        return {"root": str(root), "runs": [run_summary(root, r) for r in find_runs(root)]}

    @app.get("/api/run")
    def run(path: str) -> dict[str, Any]:
        return run_detail(root, path)

    @app.get("/api/items")
    def items(path: str, offset: int = 0, limit: int = 50, status: str = "all", q: str = "", metric: str = "",
              low: float | None = None, high: float | None = None) -> dict[str, Any]:
        return items_page(root, path, offset=max(0, offset), limit=limit, status=status, q=q, metric=metric,
                          low=low, high=high)

    @app.get("/api/item")
    def item(path: str, index: int) -> dict[str, Any]:
        return item_detail(root, path, index)

    @app.get("/api/compare")
    def compare_runs(a: str, b: str) -> dict[str, Any]:
        return compare(root, a, b)

    def file_under(base: Path, rest: str, missing: str) -> Any:
        path = inside(base, rest)  # a path that leaves ``base`` is refused there
        if not path.is_file():
            raise NotARun(missing)
        return FileResponse(path)

    @app.get("/files/{rest:path}")
    def files(rest: str) -> Any:
        return file_under(root, rest, f"{rest!r} is not a file under the runs folder")

    @app.get("/static/{name}")
    def static(name: str) -> Any:
        return file_under(STATIC, name, f"no static file {name!r}")

    @app.get("/")
    def index() -> Any:
        return FileResponse(STATIC / "index.html")

    return app
