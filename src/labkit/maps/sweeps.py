"""Sweeps: AC phasors over frequency (``.ac``) and operating points over source values (``.dc``, one or two
sources; the matrix does not change with a source's value, so it is factored once)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from labkit.maps.circuit import Netlist
from labkit.maps.mna import (
    ILL_CONDITIONED,
    MAX_POINTS,
    SPARSE_ABOVE,
    Simulation,
    _append,
    _readout,
    _source_value,
    assemble,
    condition_status,
    index,
    measure,
    solve_system,
    structural_problem,
)


def frequencies(sweep: str, points: int, fstart: float, fstop: float) -> list[float]:
    if sweep == "lin":
        return np.linspace(fstart, fstop, points).tolist()
    base = 10.0 if sweep == "dec" else 2.0
    count = int(math.floor(points * math.log(fstop / fstart, base) + 1e-9)) + 1
    return [fstart * base ** (k / points) for k in range(count)]


def ac_sweep(net: Netlist, freqs: list[float], *, ill: float = ILL_CONDITIONED) -> Simulation:
    """Phasors at every frequency. The MNA matrix is G + j omega C' (read off two assemblies), so small systems
    are inverted for all frequencies at once (their condition numbers in the 1-norm, exact, from the inverses);
    large ones are solved one frequency at a time (sparse, with the 1-norm estimate)."""
    problem = structural_problem(net, "ac")
    if problem:
        return Simulation("singular", problem, analysis="ac")
    sys_ = index(net)
    if sys_.size > SPARSE_ABOVE or not freqs:
        return _ac_one_by_one(net, sys_, freqs, ill)
    g, b = assemble(net, sys_, mode="ac", omega=0.0)
    c = assemble(net, sys_, mode="ac", omega=1.0)[0] - g
    omega = 2 * math.pi * np.asarray(freqs, dtype=float)
    a = g[None] + omega[:, None, None] * c[None]
    inverse, cond = _inverses(a)
    for k, value in enumerate(cond):
        status = condition_status(float(value), ill)
        if status != "ok":
            return Simulation(status, f"condition number {value:.3g} at {freqs[k]:g} Hz", float(value), "ac")
    x = (inverse @ b).T
    volts, currents = _series(net, sys_, x, omega)
    meas = {key: list(np.asarray(measure(ms, volts, currents, net) + 0.0 * omega, dtype=complex))
            for key, ms in zip(net.measurement_keys(), net.measurements, strict=True)}
    return Simulation("ok", "", float(cond.max()), "ac", {k: [complex(z) for z in v] for k, v in meas.items()},
                      {k: [complex(z) for z in v] for k, v in volts.items()},
                      {k: [complex(z) for z in v] for k, v in currents.items()}, list(freqs))


def _inverses(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The inverses of a stack of matrices and their exact 1-norm condition numbers (||A||_1 ||A^-1||_1; inf for a
    singular one) - one batched inversion instead of an SVD per frequency."""
    n = a.shape[0]
    if a.shape[1] == 0:
        return np.zeros(a.shape, dtype=complex), np.ones(n)
    inverse = np.empty_like(a)
    cond = np.full(n, np.inf)
    ok = np.ones(n, dtype=bool)
    with np.errstate(all="ignore"):
        try:
            inverse[:] = np.linalg.inv(a)
        except np.linalg.LinAlgError:  # a singular one among them: invert one by one
            for k in range(n):
                try:
                    inverse[k] = np.linalg.inv(a[k])
                except np.linalg.LinAlgError:
                    ok[k] = False
        norm = np.abs(a).sum(1).max(1) * np.abs(inverse).sum(1).max(1)
    cond[ok] = np.where(np.isfinite(norm[ok]), norm[ok], np.inf)
    return inverse, cond


def _ac_one_by_one(net: Netlist, sys_: Any, freqs: list[float], ill: float) -> Simulation:
    series: dict[str, dict[str, list[Any]]] = {"m": {}, "v": {}, "i": {}}
    worst = 0.0
    for f in freqs:
        a, b = assemble(net, sys_, mode="ac", omega=2 * math.pi * f)
        status, cond, x = solve_system(a, b, ill)
        worst = max(worst, cond)
        if x is None:
            return Simulation(status, f"condition number {cond:.3g} at {f:g} Hz", cond, "ac")
        _append(series, _readout(net, sys_, x, 2 * math.pi * f))
    return Simulation("ok", "", worst, "ac", series["m"], series["v"], series["i"], list(freqs))


def sweep_values(start: float, stop: float, step: float) -> np.ndarray:
    """A .dc sweep's values, START to STOP inclusive (within rounding), in steps of STEP; a step that does not go
    from START towards STOP is refused (ngspice writes no data for it)."""
    if step == 0 or (stop - start) * step < 0:
        raise ValueError(f".dc step {step:g} does not go from {start:g} to {stop:g}")
    if not math.isfinite((stop - start) / step) or (stop - start) / step > MAX_POINTS:
        raise ValueError(f".dc {start:g} to {stop:g} in steps of {step:g}: too many points (at most {MAX_POINTS:.0e})")
    return start + step * np.arange(int(math.floor((stop - start) / step + 1e-9)) + 1)


def dc_sweep(net: Netlist, params: tuple[Any, ...], *, ill: float = ILL_CONDITIONED) -> Simulation:
    """``.dc SRC START STOP STEP [SRC2 ...]``: the operating point at every value (the second source outer, as
    ngspice). Only right-hand sides change, so the matrix is factored once and every point is one solve."""
    names = [str(p) for p in params[0::4]]
    for name in names:
        el = net.element(name)
        if el is None or el.kind not in "VI":
            raise ValueError(f".dc sweeps {name!r}, which is not an independent V or I source")
    grids = [sweep_values(*(float(x) for x in params[4 * k + 1:4 * k + 4])) for k in range(len(names))]
    outer = grids[1] if len(grids) > 1 else np.array([np.nan])
    points = [(v1, v2) for v2 in outer for v1 in grids[0]]
    problem = structural_problem(net, "dc")
    if problem:
        return Simulation("singular", problem, analysis="dc")
    sys_ = index(net)
    a, b0 = assemble(net, sys_, mode="dc")
    swept = np.array(points, dtype=float)[:, :len(names)]  # (N, sources)
    base = np.array([float(net.element(n).value or 0.0) for n in names])  # type: ignore[union-attr]
    # the right-hand side is linear in each source's value: b(v) = b0 + sum_j d_j (v_j - base_j)
    d = np.stack([assemble(net.with_values({n: base[j] + 1.0}), sys_, mode="dc")[1] - b0
                  for j, n in enumerate(names)], 1)
    status, cond, x = solve_system(a, b0[:, None] + d @ (swept - base).T, ill)
    if x is None:
        return Simulation(status, f"condition number {cond:.3g}", cond, "dc")
    volts, currents = _series(net, sys_, x, swept=dict(zip((n.lower() for n in names), swept.T, strict=True)))
    meas = {key: (measure(ms, volts, currents, net) + 0.0 * swept[:, 0]).tolist()
            for key, ms in zip(net.measurement_keys(), net.measurements, strict=True)}
    return Simulation("ok", "", cond, "dc", meas, {k: v.tolist() for k, v in volts.items()},
                      {k: v.tolist() for k, v in currents.items()}, [float(p[0]) for p in points])


def _series(net: Netlist, sys_: Any, x: np.ndarray, omega: np.ndarray | None = None,
            swept: dict[str, np.ndarray] | None = None) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Node voltages and element currents at every sweep point (columns of ``x``), as ``mna._readout``:
    ``omega`` for AC points (a capacitor carries j omega C v, a current source its AC phasor), ``swept`` for the
    values of swept DC sources."""
    zero = np.zeros(x.shape[1], dtype=x.dtype)

    def v(nd: str) -> np.ndarray:
        return x[sys_.nodes[nd]] if nd in sys_.nodes else zero

    volts = {nd: x[k] + 0.0 for nd, k in sys_.nodes.items()}
    currents = {}
    for el in net.elements:
        k = sys_.branches.get(el.name.lower())
        if k is not None:
            cur = x[k]
        elif el.kind == "R":
            cur = (v(el.nodes[0]) - v(el.nodes[1])) / el.value  # type: ignore[operator]
        elif el.kind == "I":
            cur = zero + (_source_value(el, "ac", 0.0) if omega is not None else
                          (swept or {}).get(el.name.lower(), float(el.value or 0.0)))
        elif el.kind == "G":
            cur = el.value * (v(el.control_nodes[0]) - v(el.control_nodes[1]))  # type: ignore[index,operator]
        elif el.kind == "F":
            cur = el.value * x[sys_.branches[el.control_source.lower()]]  # type: ignore[union-attr,operator]
        elif omega is not None:  # C in AC
            cur = 1j * omega * el.value * (v(el.nodes[0]) - v(el.nodes[1]))  # type: ignore[operator]
        else:  # C at DC: open
            cur = zero
        currents[el.name] = cur + 0.0
    return volts, currents
