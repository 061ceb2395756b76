"""Run many independent jobs with bounded concurrency and a progress bar.

Every failure is captured on its item (error type and message) and counted, never dropped.
``backend="process"`` runs ``fn`` (picklable: a module-level function or a partial of one) in a pool
of worker processes, for CPU-bound Python work (rendering, simulation). The Ray backend
(``backend="ray"``, ``labkit --ray``, or LABKIT_RAY_ADDRESS set) runs the same function on a Ray
cluster, or on a local Ray instance started on demand.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from labkit.core.errors import require


@dataclass
class Outcome:
    """What happened to one item: its value, or the error that stopped it."""

    index: int
    item: Any
    value: Any = None
    error: str | None = None  # "ErrorType: message"

    @property
    def ok(self) -> bool:
        """Whether the item's call returned instead of raising."""
        return self.error is None


def describe_error(exc: BaseException) -> str:
    """One line for an exception: its type and message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _call(fn: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    try:
        return True, fn(item)
    except Exception as exc:  # captured on the item, reported by the caller
        if os.environ.get("LABKIT_DEBUG"):
            traceback.print_exc()
        return False, describe_error(exc)


def parallel_map(fn: Callable[[Any], Any], items: Iterable[Any], *, workers: int = 4,
                 desc: str | None = None, progress: bool | None = None, backend: str | None = None,
                 on_result: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Apply ``fn`` to every item; return one Outcome per item, in input order.

    ``on_result`` is called in the caller's thread as each item finishes (e.g. to append it to
    a run's results). ``backend`` is ``"thread"`` (default) or ``"ray"``.
    """
    items = list(items)
    backend = backend or ("ray" if ray_requested() else "thread")
    from tqdm.auto import tqdm

    bar = tqdm(total=len(items), desc=desc, disable=(not progress) if progress is not None else None,
               dynamic_ncols=True)
    outcomes: list[Outcome | None] = [None] * len(items)
    errors = 0

    def finish(index: int, ok: bool, value: Any) -> None:
        nonlocal errors
        out = Outcome(index, items[index], value if ok else None, None if ok else value)
        outcomes[index] = out
        errors += not ok
        bar.update(1)
        if errors:
            bar.set_postfix(errors=errors)
        if on_result:
            on_result(out)

    try:
        if backend == "ray":
            _ray_map(fn, items, workers, finish)
        elif backend == "thread":
            _thread_map(fn, items, workers, finish)
        elif backend == "process":
            _process_map(fn, items, workers, finish)
        else:
            raise ValueError(f"unknown parallel backend '{backend}' (thread, process or ray)")
    finally:
        bar.close()
    return [o for o in outcomes if o is not None]


def _thread_map(fn: Callable[[Any], Any], items: list[Any], workers: int,
                finish: Callable[[int, bool, Any], None]) -> None:
    if workers <= 1:
        for i, item in enumerate(items):
            finish(i, *_call(fn, item))
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        _pool_map(pool, fn, items, 2 * workers, finish)


def _process_map(fn: Callable[[Any], Any], items: list[Any], workers: int,
                 finish: Callable[[int, bool, Any], None]) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if workers <= 1:
        _thread_map(fn, items, 1, finish)
        return
    context = multiprocessing.get_context("spawn")  # no fork of a process that may hold threads or locks
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        _pool_map(pool, fn, items, 4 * workers, finish)


def _pool_map(pool: Any, fn: Callable[[Any], Any], items: list[Any], window: int,
              finish: Callable[[int, bool, Any], None]) -> None:
    """Submit to an executor keeping at most ``window`` items in flight; report each as it finishes."""
    pending: dict[Future[tuple[bool, Any]], int] = {}
    queue = iter(enumerate(items))
    for i, item in queue:
        pending[pool.submit(_call, fn, item)] = i
        if len(pending) >= window:
            break
    while pending:
        done, _ = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            finish(pending.pop(fut), *fut.result())
            nxt = next(queue, None)
            if nxt is not None:
                pending[pool.submit(_call, fn, nxt[1])] = nxt[0]


def ray_requested() -> bool:
    """Whether the user asked for Ray: ``labkit --ray`` (LABKIT_RAY) or a cluster address (LABKIT_RAY_ADDRESS)."""
    return bool(os.environ.get("LABKIT_RAY_ADDRESS")) or os.environ.get("LABKIT_RAY", "") not in ("", "0")


def ray_init(address: str | None = None) -> Any:
    """Connect to ``address`` (or LABKIT_RAY_ADDRESS), else start a local Ray instance."""
    ray = require("ray", "ray")
    if not ray.is_initialized():
        ray.init(address=address or os.environ.get("LABKIT_RAY_ADDRESS") or None,
                 include_dashboard=False, ignore_reinit_error=True, log_to_driver=False,
                 configure_logging=False)
    return ray


def _ray_map(fn: Callable[[Any], Any], items: list[Any], workers: int,
             finish: Callable[[int, bool, Any], None]) -> None:
    ray = ray_init()
    remote = ray.remote(_call)
    fn_ref = ray.put(fn)
    pending: dict[Any, int] = {}
    queue = iter(enumerate(items))
    while True:
        while len(pending) < max(workers, 1):
            nxt = next(queue, None)
            if nxt is None:
                break
            pending[remote.remote(fn_ref, nxt[1])] = nxt[0]
        if not pending:
            return
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            index = pending.pop(ref)
            try:
                ok, value = ray.get(ref)
            except Exception as exc:  # the worker itself died
                ok, value = False, describe_error(exc)
            finish(index, ok, value)
