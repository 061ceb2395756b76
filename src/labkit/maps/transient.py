"""Fixed-step transient analysis of a linear circuit with one factorisation per matrix.

At a fixed step h the MNA matrix of a linear circuit does not change: trapezoidal (or backward
Euler) companion models give A x_n = B u(t_n) + H s_{n-1}, where u holds the independent sources'
values and s = [v_C, i_C, v_L, i_L] the reactive elements' state. A is factored once (its condition
number checked once); the state obeys the linear recurrence

    s_n = Phi s_{n-1} + Gamma u_n,   Phi = E A^-1 H + F,   Gamma = E A^-1 B,

which is run as a parallel prefix scan (log2 N batched matrix products; a plain loop when the state
is large), and every unknown at every time point is then one matrix product:
x_n = A^-1 B u_n + A^-1 H s_{n-1}. Sources are evaluated for all time points at once. The first step
is backward Euler (its own matrix), as SPICE does to start a trapezoidal run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.maps.circuit import Netlist
from labkit.maps.waveforms import breakpoints, waveform_values

FACTORISATIONS = {"count": 0}  # matrices factored by ``_factor`` (a test pins one per matrix, not per step)
SCAN_MAX_STATE = 48  # above this many state variables the recurrence runs as a loop (scan costs d^2 log N)


@dataclass
class Factored:
    """One factored matrix and its condition number."""

    solve: Any  # rhs (m,) or (m, k) -> A^-1 rhs
    condition: float


def _factor(a: np.ndarray) -> Factored:
    """LU of ``a`` (dense below ``SPARSE_ABOVE`` unknowns, sparse above) and its condition number, as
    ``mna.solve_system`` measures it; a singular matrix is not factored."""
    from scipy.linalg import lu_factor, lu_solve

    from labkit.maps.mna import SPARSE_ABOVE, condition_status, dense_condition, sparse_factor

    FACTORISATIONS["count"] += 1
    if a.shape[0] > SPARSE_ABOVE:
        cond, solve = sparse_factor(a)
        return Factored(solve or (lambda r: None), cond)
    cond = dense_condition(a)
    if condition_status(cond) == "singular":  # reported as singular; nothing to factor
        return Factored(lambda r: None, cond)
    lu = lu_factor(a, check_finite=False)
    return Factored(lambda r: lu_solve(lu, r, check_finite=False), cond)


@dataclass
class Linear:
    """A x = B u + H s and s_new = E x + F s for one integration method."""

    a: np.ndarray  # (m, m)
    b: np.ndarray  # (m, k) sources -> right-hand side
    h: np.ndarray  # (m, d) state -> right-hand side
    e: np.ndarray  # (d, m)
    f: np.ndarray  # (d, d)


def stamps(net: Netlist, sys_: Any, step: float, method: str) -> tuple[Linear, list[Any]]:
    """The matrices of one method (``trap`` or ``be``) and the list of independent sources (V, I)."""
    from labkit.maps.mna import assemble

    a, _ = assemble(net, sys_, mode="tran", t=0.0, h=step, method=method, prev={})  # the matrix only
    m = sys_.size
    sources = [el for el in net.elements if el.kind in "VI"]
    caps = [el for el in net.elements if el.kind == "C"]
    inds = [el for el in net.elements if el.kind == "L"]
    nc, nl = len(caps), len(inds)
    d = 2 * nc + 2 * nl
    b = np.zeros((m, len(sources)))
    for j, el in enumerate(sources):
        p, n = sys_.nodes.get(el.nodes[0]), sys_.nodes.get(el.nodes[1])
        if el.kind == "V":
            b[sys_.branches[el.name.lower()], j] = 1.0
        else:  # current pushed from n+ through the source to n-
            if p is not None:
                b[p, j] -= 1.0
            if n is not None:
                b[n, j] += 1.0
    h = np.zeros((m, d))
    e = np.zeros((d, m))
    f = np.zeros((d, d))
    trap = method == "trap"
    for j, el in enumerate(caps):  # state rows: v_C = j, i_C = nc + j
        g = (2.0 if trap else 1.0) * float(el.value) / step  # type: ignore[arg-type]
        p, n = sys_.nodes.get(el.nodes[0]), sys_.nodes.get(el.nodes[1])
        for row, sign in ((p, 1.0), (n, -1.0)):
            if row is not None:
                h[row, j] += sign * g
                if trap:
                    h[row, nc + j] += sign
                e[j, row] += sign  # v_C = v(p) - v(n)
                e[nc + j, row] += sign * g  # i_C = g (v - v_prev) - i_prev (trap)
        f[nc + j, j] = -g
        if trap:
            f[nc + j, nc + j] = -1.0
    for j, el in enumerate(inds):  # state rows: v_L = 2nc + j, i_L = 2nc + nl + j
        factor = (2.0 if trap else 1.0) * float(el.value) / step  # type: ignore[arg-type]
        k = sys_.branches[el.name.lower()]
        h[k, 2 * nc + nl + j] = -factor
        if trap:
            h[k, 2 * nc + j] = -1.0
        p, n = sys_.nodes.get(el.nodes[0]), sys_.nodes.get(el.nodes[1])
        for row, sign in ((p, 1.0), (n, -1.0)):
            if row is not None:
                e[2 * nc + j, row] += sign
        e[2 * nc + nl + j, k] = 1.0
    return Linear(a, b, h, e, f), sources


def initial_state(net: Netlist, op: Any | None) -> np.ndarray:
    """s_0: capacitor voltages/currents and inductor voltages/currents at t=0 (IC= with uic, else the
    operating point)."""
    caps = [el for el in net.elements if el.kind == "C"]
    inds = [el for el in net.elements if el.kind == "L"]
    vc, ic, vl, il = [], [], [], []
    for el in caps:
        if op is None:
            vc.append(el.initial or 0.0)
            ic.append(0.0)
        else:
            vc.append(op.node_voltages.get(el.nodes[0], 0.0) - op.node_voltages.get(el.nodes[1], 0.0))
            ic.append(op.branch_currents[el.name])
    for el in inds:
        if op is None:
            vl.append(0.0)
            il.append(el.initial or 0.0)
        else:
            vl.append(op.node_voltages.get(el.nodes[0], 0.0) - op.node_voltages.get(el.nodes[1], 0.0))
            il.append(op.branch_currents[el.name])
    return np.array(vc + ic + vl + il, dtype=float)


def linear_recurrence(phi: np.ndarray, w: np.ndarray, s0: np.ndarray, block: int | None = None) -> np.ndarray:
    """s_n = phi s_{n-1} + w_n for n = 1..N (rows of ``w``); returns (N, d).

    Blocked parallel prefix: inside every block of ``block`` rows at once, a Hillis-Steele scan
    (after level k each row holds the sum of its last 2^k terms, each carried by the right power of
    phi: log2(block) batched products); then the state entering each block is carried across blocks
    (one d x d product per block) and added to the block's rows through phi^1..phi^block. A loop
    when d is large, where d^2 log N per step would exceed the loop's d^2.
    """
    n, d = w.shape
    if n == 0:
        return np.zeros((0, d))
    if d > SCAN_MAX_STATE:
        y = w.copy()
        y[0] += phi @ s0
        for k in range(1, n):
            y[k] += phi @ y[k - 1]
        return y
    if block is None:  # about sqrt(N): as many blocks as rows per block, 16 to 1024
        block = int(min(1024, max(16, 2 ** math.ceil(math.log2(math.sqrt(n))))))
    block = max(1, min(block, n))
    nb = -(-n // block)
    y = np.zeros((nb * block, d))
    y[:n] = w
    y = y.reshape(nb, block, d)
    power, shift = phi.copy(), 1
    while shift < block and power.any():  # a power that decayed to zero adds nothing at a later level
        y[:, shift:] += y[:, :-shift] @ power.T  # the right side is evaluated before the update
        power = power @ power
        power[np.abs(power) < 1e-250] = 0.0  # no subnormal numbers: they make every product slow
        shift *= 2
    powers = np.empty((block, d, d))  # phi^1 .. phi^block
    powers[0] = phi
    for k in range(1, block):
        powers[k] = phi @ powers[k - 1]
        powers[k][np.abs(powers[k]) < 1e-250] = 0.0
    entering = np.empty((nb, d))  # the state before each block
    state = s0
    for b in range(nb):
        entering[b] = state
        state = y[b, -1] + powers[-1] @ state
    y += np.einsum("jed,bd->bje", powers, entering)
    return y.reshape(nb * block, d)[:n]


def source_values(sources: list[Any], times: np.ndarray) -> np.ndarray:
    """(N, k): every independent source's value at every time point."""
    out = np.empty((len(times), len(sources)))
    for j, el in enumerate(sources):
        dc = float(el.value or 0.0)
        out[:, j] = waveform_values(el.waveform, times, dc) if el.waveform is not None else dc
    return out


STEP_TARGET = 0.05  # |lambda| h per mode: the trapezoidal rule's error ~ (lambda h)^2 / 12 per time constant
QUASI_STATIC = 100.0  # modes faster than this many times 1/h are left to the A-stable rule (settled within a step)
MAX_SUBSTEPS = 1000


def substeps(net: Netlist, sys_: Any, h: float, tstop: float | None = None) -> int:
    """How many internal steps per output step keep every circuit mode resolved: the natural frequencies are the
    finite generalised eigenvalues of the MNA pencil (G + s C), with C and G read off the backward-Euler matrices
    at two step sizes; the step shrinks until |lambda| h_int <= STEP_TARGET / sqrt(cycles) for every mode slower
    than QUASI_STATIC / h, where cycles is how many periods an oscillating mode rings within the run (its phase
    error adds up cycle by cycle). At most MAX_SUBSTEPS; large circuits (over SPARSE_ABOVE unknowns) keep the
    deck's step."""
    from scipy.linalg import eigvals

    from labkit.maps.mna import SPARSE_ABOVE, assemble

    if sys_.size > SPARSE_ABOVE or not any(el.kind in "CL" for el in net.elements):
        return 1
    a1, _ = assemble(net, sys_, mode="tran", t=0.0, h=h, method="be", prev={})
    a2, _ = assemble(net, sys_, mode="tran", t=0.0, h=2 * h, method="be", prev={})
    c = (a1 - a2) * (2 * h)  # A(h) = G + C / h
    g = a1 - c / h
    with np.errstate(all="ignore"):
        lam = eigvals(-g, c)
    lam = lam[np.isfinite(lam)]
    lam = lam[np.abs(lam) * h <= QUASI_STATIC]
    if not lam.size:
        return 1
    span = np.minimum(tstop or h, 5 / np.maximum(np.abs(lam.real), 1e-300))  # how long each mode lasts
    cycles = np.maximum(1.0, np.abs(lam.imag) * span / (2 * math.pi))
    need = np.abs(lam) * h * np.sqrt(cycles) / STEP_TARGET
    return int(min(MAX_SUBSTEPS, max(1, math.ceil(need.max()))))


def time_grid(h_out: float, tstop: float, corners: np.ndarray, per: int) -> tuple[np.ndarray, np.ndarray]:
    """(internal times, which of them are output points): the output points are the multiples of the deck's step
    and every source corner; each interval between output points is cut into equal internal steps no longer
    than h_out / per."""
    out_steps = int(math.ceil(tstop / h_out - 1e-9))
    grid = np.minimum(np.arange(1, out_steps + 1) * h_out, tstop)
    edges = np.unique(np.concatenate([grid, corners]))
    edges = edges[np.r_[True, np.diff(edges) > 1e-9 * h_out]]  # a corner on a grid point is that point
    lengths = np.diff(np.r_[0.0, edges])
    n = np.maximum(1, np.ceil(lengths / (h_out / per) - 1e-9)).astype(np.int64)
    start = np.repeat(np.r_[0.0, edges[:-1]], n)
    k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n) + 1
    times = start + k * np.repeat(lengths / n, n)
    is_out = np.zeros(len(times), dtype=bool)
    is_out[np.cumsum(n) - 1] = True
    times[is_out] = edges
    return times, is_out


def run_transient(net: Netlist, sys_: Any, h: float, tstop: float, *, tstart: float, method: str, ill: float,
                  op: Any | None) -> Any:
    """Every time point of a run at the deck's step ``h`` (see the module docstring): the output points are the
    multiples of ``h`` and every source corner (``breakpoints``), each interval taken in equal internal steps
    (``substeps`` per ``h``); runs of equal steps share one factored matrix and one scan. ``op`` is the t=0
    operating point, or None with ``uic`` - then, and only then, the first step is backward Euler (the initial
    state need not be consistent)."""
    from labkit.maps.mna import Simulation, condition_status

    out_steps = math.ceil(tstop / h - 1e-9)
    per = min(substeps(net, sys_, h, tstop), max(1, int(2e7 // out_steps)))  # at most ~2e7 internal steps
    times, is_out = time_grid(h, tstop, breakpoints(net, tstop), per)
    steps = np.diff(np.r_[0.0, times])
    cuts = np.flatnonzero(np.r_[True, np.abs(np.diff(steps)) > 1e-9 * steps[1:]])  # runs of one step size
    sources = [el for el in net.elements if el.kind in "VI"]
    u = source_values(sources, times)
    s = initial_state(net, op)
    x = np.empty((len(times), sys_.size))
    states = np.empty((len(times), len(s)))
    cache: dict[tuple[float, str], tuple[np.ndarray, ...]] = {}  # step, method -> phi, gamma, A^-1 B, A^-1 H
    worst = 0.0
    for a, b in zip(cuts, np.r_[cuts[1:], len(times)], strict=True):
        for m, lo, hi in ((("be", a, a + 1), (method, a + 1, b)) if a == 0 and op is None and method == "trap"
                          else ((method, a, b),)):
            if lo >= hi:
                continue
            key = (round(float(steps[lo]), 18), m)
            if key not in cache:
                lin = stamps(net, sys_, float(steps[lo]), m)[0]
                fac = _factor(lin.a)
                worst = max(worst, fac.condition)
                status = condition_status(fac.condition, ill)
                if status != "ok":
                    return Simulation(status, f"condition number {fac.condition:.3g} at t={times[lo]:g}",
                                      fac.condition, "tran")
                a_inv_b = fac.solve(lin.b) if lin.b.size else np.zeros((sys_.size, 0))
                a_inv_h = fac.solve(lin.h) if lin.h.size else np.zeros((sys_.size, 0))
                cache[key] = (lin.e @ a_inv_h + lin.f, lin.e @ a_inv_b, a_inv_b, a_inv_h)
            phi, gamma, a_inv_b, a_inv_h = cache[key]
            states[lo:hi] = linear_recurrence(phi, u[lo:hi] @ gamma.T, s)
            x[lo:hi] = u[lo:hi] @ a_inv_b.T + np.vstack([s[None, :], states[lo:hi - 1]]) @ a_inv_h.T
            s = states[hi - 1]
    volts, currents = _series(net, sys_, x, u, sources, states)
    keep = is_out & (times >= tstart - 1e-15)
    axis = times[keep]
    series_v = {nd: col[keep] for nd, col in volts.items()}
    series_i = {name: col[keep] for name, col in currents.items()}
    if op is not None and tstart <= 0:
        axis = np.concatenate(([0.0], axis))
        series_v = {nd: np.concatenate(([op.node_voltages[nd]], col)) for nd, col in series_v.items()}
        series_i = {name: np.concatenate(([op.branch_currents[name]], col)) for name, col in series_i.items()}
    plain = {key: (ms.sign * (series_v.get(ms.nodes[0], 0.0) - series_v.get(ms.nodes[1], 0.0)) if ms.kind == "v"
                   else ms.sign * series_i[net.element(ms.source or "").name]) + 0.0  # type: ignore[union-attr]
             for key, ms in zip(net.measurement_keys(), net.measurements, strict=True)}
    plain = {k: (v if isinstance(v, np.ndarray) else np.full(len(axis), float(v))) for k, v in plain.items()}
    return Simulation("ok", "", worst, "tran", plain, series_v, series_i, axis)  # arrays: no per-point objects


def _series(net: Netlist, sys_: Any, x: np.ndarray, u: np.ndarray, sources: list[Any],
            states: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Node voltages and element currents over time, as ``mna._readout`` gives them per point."""
    zero = np.zeros(len(x))

    def v(nd: str) -> np.ndarray:
        return x[:, sys_.nodes[nd]] if nd in sys_.nodes else zero

    volts = {nd: x[:, k] + 0.0 for nd, k in sys_.nodes.items()}
    source_col = {el.name: j for j, el in enumerate(sources)}
    caps = [el.name for el in net.elements if el.kind == "C"]
    nc = len(caps)
    currents = {}
    for el in net.elements:
        k = sys_.branches.get(el.name.lower())
        if k is not None:
            cur = x[:, k]
        elif el.kind == "R":
            cur = (v(el.nodes[0]) - v(el.nodes[1])) / el.value  # type: ignore[operator]
        elif el.kind == "I":
            cur = u[:, source_col[el.name]]
        elif el.kind == "G":
            cur = el.value * (v(el.control_nodes[0]) - v(el.control_nodes[1]))  # type: ignore[index,operator]
        elif el.kind == "F":
            cur = el.value * x[:, sys_.branches[el.control_source.lower()]]  # type: ignore[union-attr,operator]
        else:  # C: its current from the companion model (the state)
            cur = states[:, nc + caps.index(el.name)]
        currents[el.name] = cur + 0.0
    return volts, currents
