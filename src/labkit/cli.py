"""``labkit``: the command line. Systems plug in as ``labkit <system> <verb>``."""

from __future__ import annotations

import inspect
import os
import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from labkit.core.cli import ApiKeyOpt, main_with_errors, model_option
from labkit.systems import SYSTEMS, is_available, system_cli

app = typer.Typer(help="labkit: ten recent ML research systems as tested, fast tools.",
                  no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)
models_app = typer.Typer(help="Inspect and check chat-model backends.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.callback()
def root(debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
         no_cache: Annotated[bool, typer.Option("--no-cache", help=(
             "Bypass the response cache for this command."))] = False,
         ray: Annotated[bool, typer.Option("--ray", help=(
             "Run parallel work on Ray ($LABKIT_RAY_ADDRESS, or a local instance)."))] = False) -> None:
    """Global options go before the command: labkit --no-cache hpss search ..."""
    if debug:
        os.environ["LABKIT_DEBUG"] = "1"
    if ray:
        os.environ["LABKIT_RAY"] = "1"
    if no_cache:
        os.environ["LABKIT_NO_CACHE"] = "1"


def _planned(name: str) -> None:
    def command() -> None:
        typer.echo(f"labkit {name} is planned and not built yet; see `labkit --help` for the "
                   "available systems", err=True)
        raise typer.Exit(2)
    app.command(name, help=f"\\[planned] {SYSTEMS[name]}", rich_help_panel="Systems")(command)


SUMMARY = 64  # characters of a command's summary in its system's command list


def _one_line(sub: typer.Typer) -> typer.Typer:
    """Give each command of a system a one-line summary for ``labkit <system> --help``.

    The summary is the first clause of its help; ``--help`` on the command itself keeps the whole text.
    """
    for cmd in sub.registered_commands:
        text = cmd.help or inspect.getdoc(cmd.callback) or ""
        if cmd.short_help is None and text:
            first = " ".join(re.split(r"(?<=\.)\s|\n\n", text.strip(), maxsplit=1)[0].split())
            for mark in (": ", " (", "; ", " - "):  # a long sentence: its head, cut where its first clause ends
                head = first.split(mark, 1)[0]
                if len(first) > SUMMARY and len(head) >= 24:
                    first = head
            if first.count("(") > first.count(")"):  # a sentence that ended inside parentheses
                first = first.split(" (", 1)[0]
            cmd.short_help = first if len(first) <= SUMMARY else first[:SUMMARY].rsplit(" ", 1)[0] + " ..."
    return sub


for _name, _desc in SYSTEMS.items():
    if is_available(_name):  # the system's own help (its overview) on `labkit <system> --help`, one line here
        app.add_typer(_one_line(system_cli(_name).app), name=_name, short_help=f"\\[available] {_desc}",
                      rich_help_panel="Systems")
    else:
        _planned(_name)


@models_app.command("list")
def models_list() -> None:
    """Show the registered backends and the default spec."""
    from labkit.core.models import DEFAULT_SPEC, backends

    for name, (form, desc) in backends().items():
        mark = " (default)" if name == DEFAULT_SPEC else ""
        typer.echo(f"{name:8} {form:30} {desc}{mark}")
    typer.echo(f"default: {DEFAULT_SPEC}; embedder: minilm (all-MiniLM-L6-v2, offline)")


@models_app.command("check")
def models_check(
    spec: Annotated[str, typer.Argument(help="Model spec, e.g. smollm2, hf:DIR, openai:M@URL.")] = "smollm2",
    prompt: Annotated[str, typer.Option(help="The one chat turn to send.")] = "What is the capital of France?",
    max_tokens: Annotated[int, typer.Option(help="Tokens to generate at most.")] = 64,
    device: Annotated[str | None, typer.Option(help="cpu or cuda (hf backends; default: cuda if present).")] = None,
    api_key: ApiKeyOpt = None,
) -> None:
    """Load a model, run one short chat (uncached), and print load time and tokens/s."""
    from labkit.core.models import Sampling, load_model, user

    t0 = time.perf_counter()
    model = load_model(spec, cache=False, device=device, api_key=api_key)
    load_s = time.perf_counter() - t0
    info = getattr(model, "load_info", None)
    typer.echo(f"model:      {model.model_id} (revision {model.revision})")
    typer.echo(f"loaded in:  {load_s:.2f}s" + (f" from {info.source}: {info.path}" if info else ""))
    for note in getattr(info, "notes", []) or []:
        typer.echo(f"            {note}")
    t0 = time.perf_counter()
    model.chat([user("Hi")], Sampling(max_tokens=1))  # first call pays one-off set-up costs
    typer.echo(f"warm-up:    {time.perf_counter() - t0:.2f}s (one 1-token call)")
    t0 = time.perf_counter()
    out = model.chat([user(prompt)], Sampling(max_tokens=max_tokens))[0][0]
    gen_s = time.perf_counter() - t0
    typer.echo(f"prompt:     {prompt}")
    typer.echo(f"answer:     {out.text.strip()}")
    typer.echo(f"tokens:     {out.prompt_tokens} prompt, {out.completion_tokens} generated "
               f"({out.finish_reason})")
    typer.echo(f"speed:      {out.completion_tokens / gen_s:.1f} tokens/s ({gen_s:.2f}s)")


@app.command("serve")
def serve_cmd(
    model: model_option("--model", "Model to serve.", short="-m") = "smollm2",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")] = "127.0.0.1",
    name: Annotated[str | None, typer.Option(help="Model name clients use (default: the spec).")] = None,
    window_ms: Annotated[float, typer.Option(help="How long to gather concurrent requests into one batch.")] = 20.0,
    max_batch: Annotated[int, typer.Option(help="Largest batch decoded at once.")] = 16,
    embedder: Annotated[str, typer.Option(help="Embedder behind /v1/embeddings ('none' to turn off).")] = "minilm",
    api_key: ApiKeyOpt = None,
) -> None:
    """Serve MODEL as an OpenAI-compatible API (/v1/models, /v1/chat/completions)."""
    from labkit.core.models import load_model
    from labkit.core.serve import serve

    loaded = load_model(model, api_key=api_key)
    served = name or model
    typer.echo(f"serving {loaded.model_id} as '{served}' on http://{host}:{port}/v1", err=True)
    serve(loaded, served, host=host, port=port, window=window_ms / 1000, max_batch=max_batch,
          embedder=None if embedder == "none" else embedder)


@app.command("view")
def view_cmd(
    runs: Annotated[Path | None, typer.Argument(help="Runs folder (default: ./runs or $LABKIT_RUNS).")] = None,
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 7575,
    host: Annotated[str, typer.Option(help="Address to bind (127.0.0.1: this machine only).")] = "127.0.0.1",
) -> None:
    """Browse every run in a web page.

    The runs by system; a run's metrics, report and items (search, filters, paging); one item laid out for
    reading; two runs side by side; a run in progress updates as it grows.
    """
    from labkit.core.errors import ConfigError, require
    from labkit.core.paths import runs_dir
    from labkit.view.app import make_app

    root = runs if runs is not None else runs_dir()
    if not root.is_dir():
        raise ConfigError(f"{root}: no runs folder here (run a system first, or name one: labkit view RUNS_DIR)")
    uvicorn = require("uvicorn", "serve")
    typer.echo(f"labkit view: {root.resolve()} on http://{host}:{port}/", err=True)
    uvicorn.run(make_app(root), host=host, port=port, log_level="warning")


@app.command("demo")
def demo_cmd(
    out: Annotated[Path | None, typer.Option(help="Runs folder (default: ./runs or $LABKIT_RUNS).")] = None,
) -> None:
    """Run every available system's quick demo on the embedded defaults; write one report."""
    from labkit.demo import run_demo

    report = run_demo(out)
    typer.echo(f"report: {report}")


def main() -> None:
    """The ``labkit`` console script."""
    sys.exit(main_with_errors(app))


if __name__ == "__main__":
    main()
