"""CLI pieces every system's ``cli.py`` shares: common options, config loading, error handling."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, TypeVar

import click
import typer

from labkit.core.cache import STATS, stats_line
from labkit.core.config import load_config
from labkit.core.errors import ConfigError, LabkitError

T = TypeVar("T")

MODEL_SPECS = "smollm2 (embedded default), hf:<hub id or dir>, openai:<model>@<base_url>, mock"


def model_option(flag: str, what: str, *, short: str | None = None, specs: str = MODEL_SPECS) -> Any:
    """The type of a model-choosing option, listing the model specs it takes.

    The type of a model-choosing option (``--model``, ``--judge``, ``--agent``, ...): ``what`` says which model
    and its paper default, ``specs`` the specs it takes (by default every kind, listed the same everywhere).
    """
    decls = (flag, short) if short else (flag,)
    return Annotated[str | None, typer.Option(*decls, help=f"{what} Specs: {specs}.")]


NameOpt = Annotated[str | None, typer.Option("--name", help="Run name (folder suffix).")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="YAML config file.")]
SetOpt = Annotated[list[str] | None, typer.Option("--set", "-s", help=(
    "Override one config key, repeatable: --set SECTION.KEY=VALUE (YAML value; the keys, their defaults and "
    "the paper's are listed under Settings in this command's help)."))]
ResumeOpt = Annotated[Path | None, typer.Option("--resume", help=(
    "Continue the run in this folder: finished items are not repeated."))]
ApiKeyOpt = Annotated[str | None, typer.Option("--api-key", help=(
    "Key for openai: specs (default: $OPENAI_API_KEY)."), envvar="OPENAI_API_KEY")]


def system_app(overview: str) -> typer.Typer:
    """A system's typer app: ``overview`` (paper, pipeline, verbs) is its ``labkit <system> --help`` page."""
    return typer.Typer(help=overview, no_args_is_help=True)


def settings_epilog(cls: type, *sections: str) -> str:
    """A command's ``--help`` epilog: the config keys it reads, with their defaults and meanings.

    ``sections`` names the top-level keys the command reads; none means every key.
    """
    from labkit.core.config import describe

    rows = [(k, d, h) for k, d, h in describe(cls) if not sections or k.split(".")[0] in sections]
    return "Settings for --config / --set (default, meaning):\n\n" + "\n\n".join(
        f"{key} = {default!r}: {text}" for key, default, text in rows)


def resolve_config(cls: type[T], config: Path | None, overrides: list[str] | None,
                   resume: Path | None = None, flags: dict[str, str] | None = None) -> T:
    """Config for a fresh run (file + overrides) or the saved one of a resumed run.

    ``flags`` maps config keys to
    the CLI options that are their aliases, so a refused value names the option the user typed.
    """
    try:
        return load_config(cls, (resume / "config.yaml") if resume is not None else config, overrides)
    except ConfigError as exc:
        flag = next((f for key, f in (flags or {}).items() if f"'{key}'" in str(exc) or f"'{key}[" in str(exc)), None)
        if flag is None:
            raise
        raise ConfigError(f"{flag}: {exc}") from None


def overrides_from(given: dict[str, Any], keys: dict[str, str] | None = None,
                   lists: tuple[str, ...] = ()) -> list[str]:
    """CLI option values as dotted config overrides.

    CLI option values -> dotted overrides: None is skipped, booleans are JSON, options named in ``lists``
    (comma-separated text or a repeated option) become JSON lists; ``keys`` maps option names to config keys.
    """
    out = []
    for name, value in given.items():
        if value is None:
            continue
        if name in lists:
            items = value.split(",") if isinstance(value, str) else list(value)
            text = json.dumps([str(v).strip() for v in items if str(v).strip()])
        elif isinstance(value, bool):
            text = json.dumps(value)
        else:
            text = str(value)
        out.append(f"{(keys or {}).get(name, name)}={text}")
    return out


def _usage_errors() -> tuple[type[Exception], ...]:
    """Click's ClickException and the copy typer >= 0.29 vendors (which does not subclass click's)."""
    try:
        from typer._click.exceptions import ClickException as Vendored
    except ImportError:  # an older typer uses click itself
        return (click.ClickException,)
    return (click.ClickException, Vendored)


USAGE_ERRORS = _usage_errors()


def debug_enabled() -> bool:
    """Whether ``--debug`` (``LABKIT_DEBUG``) asked for tracebacks."""
    return os.environ.get("LABKIT_DEBUG", "") not in ("", "0")


def main_with_errors(app: typer.Typer, argv: list[str] | None = None) -> Any:
    """Run ``app``; a LabkitError (or any crash) is one line on stderr unless --debug."""
    args = list(sys.argv[1:] if argv is None else argv)
    end = args.index("--") if "--" in args else len(args)
    if "--debug" in args[:end]:  # accepted anywhere before "--", not only before the sub-command
        os.environ["LABKIT_DEBUG"] = "1"
        args = [a for a in args[:end] if a != "--debug"] + args[end:]
    code = 0
    before = Counter(STATS)  # this command's own cache traffic is what it reports
    try:
        result = app(args=args, prog_name="labkit", standalone_mode=False)
        code = result if isinstance(result, int) else 0
    except USAGE_ERRORS as exc:  # usage errors (a bad option value names the option): one line
        ctx = getattr(exc, "ctx", None)
        message = exc.format_message()  # type: ignore[attr-defined]  # click's or typer's ClickException
        typer.echo(f"error: {message}" + (f" (see '{ctx.command_path} --help')" if ctx else ""), err=True)
        code = exc.exit_code  # type: ignore[attr-defined]
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except (KeyboardInterrupt, click.exceptions.Abort):
        typer.echo("interrupted: finished items are saved; continue with --resume RUN_DIR", err=True)
        code = 130
    except LabkitError as exc:
        if debug_enabled():
            traceback.print_exc()
        typer.echo(f"error: {exc}", err=True)
        code = 2
    except Exception as exc:  # unexpected: still one line unless --debug
        if debug_enabled():
            traceback.print_exc()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        typer.echo(f"error: {type(exc).__name__}: {first} (rerun with --debug for the traceback)",
                   err=True)
        code = 1
    used = Counter(STATS)
    used.subtract(before)
    if used["hit"] or used["miss"]:
        typer.echo(stats_line(used), err=True)
    return code
