"""Modified nodal analysis: the system's index, its stamps, the solve with its condition check, the readout, and
the DC operating point (the sweeps and the transient build on these).

Unknowns: the voltages of the non-ground nodes, then one branch current for every element whose
voltage is prescribed (V, E, H, and L so that DC sees a short). SPICE sign conventions throughout:
an I/G/F source pushes its current from n+ through itself to n-; i(Vx) is the current entering
Vx at n+. Before solving, a structural check names floating sub-networks (nodes with no DC path to
ground except through current sources or capacitors) and loops of voltage-defined branches; after
building the matrix its 2-norm condition number decides ``ill_conditioned`` (default above 1e12) or
``singular`` (above 1e15). A failed status carries no numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from labkit.maps.circuit import Element, Measurement, Netlist
from labkit.maps.waveforms import waveform_value

ILL_CONDITIONED = 1e12
SINGULAR = 1e15
WARN_CONDITION = 1e8  # above this, last digits may differ between simulators (sim_reference 28_1: 1.6e8)
VOLTAGE_DEFINED = "VEHL"


@dataclass
class Simulation:
    """One analysis of one netlist."""

    status: str  # ok | singular | ill_conditioned | symbolic
    detail: str = ""
    condition: float | None = None
    analysis: str = "op"
    measurements: dict[str, Any] = field(default_factory=dict)  # label (or expr) -> value
    node_voltages: dict[str, Any] = field(default_factory=dict)
    branch_currents: dict[str, Any] = field(default_factory=dict)
    axis: Any = None  # frequencies (ac, a list) or times (tran, an array); series are lists (ac) / arrays (tran)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        def plain(v: Any) -> Any:
            if isinstance(v, complex):
                return {"re": v.real, "im": v.imag, "mag": abs(v),
                        "phase_deg": math.degrees(math.atan2(v.imag, v.real))}
            if isinstance(v, np.ndarray):
                return [plain(x) for x in v.tolist()]
            if isinstance(v, list):
                return [plain(x) for x in v]
            return v
        return {"status": self.status, "detail": self.detail, "condition": self.condition, "analysis": self.analysis,
                "measurements": {k: plain(v) for k, v in self.measurements.items()},
                "node_voltages": {k: plain(v) for k, v in self.node_voltages.items()},
                "branch_currents": {k: plain(v) for k, v in self.branch_currents.items()},
                **({"axis": plain(self.axis)} if self.axis is not None else {})}


@dataclass
class System:
    """Index maps of an MNA system."""

    nodes: dict[str, int]  # node -> row (ground absent)
    branches: dict[str, int]  # element name (lower) -> row of its current
    size: int


def index(net: Netlist) -> System:
    nodes = {n: k for k, n in enumerate(net.nodes)}
    branches = {}
    for el in net.elements:
        if el.kind in VOLTAGE_DEFINED:
            branches[el.name.lower()] = len(nodes) + len(branches)
    return System(nodes, branches, len(nodes) + len(branches))


# ---------------------------------------------------------------- structure


def structural_problem(net: Netlist, mode: str = "dc") -> str | None:
    """Name a floating sub-network or a loop of voltage-defined branches, if any."""
    conductive = set("RVEHLGF") | ({"C"} if mode != "dc" else set())  # dependent sources may couple: numeric check
    parent: dict[str, str] = {}

    def find(a: str) -> str:
        while parent.setdefault(a, a) != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for el in net.elements:
        if el.kind in conductive:
            parent[find(el.nodes[0])] = find(el.nodes[1])
    floating = [n for n in net.nodes if find(n) != find("0")]
    if floating:
        return (f"floating: node(s) {', '.join(floating)} have no path to ground except through current "
                "sources" + (" or capacitors" if mode == "dc" else ""))
    loop = voltage_loop(net, mode)
    if loop:
        return f"conflicting: voltage-defined branches {', '.join(loop)} form a loop"
    return None


def voltage_loop(net: Netlist, mode: str) -> list[str] | None:
    """Elements of the first cycle made only of V/E/H (and L at DC) branches, else None."""
    kinds = "VEHL" if mode == "dc" else "VEH"
    adjacency: dict[str, list[tuple[str, str]]] = {}
    for el in net.elements:
        if el.kind not in kinds:
            continue
        a, b = el.nodes
        if a == b:
            return [el.name]
        path = _path(adjacency, a, b)
        if path is not None:
            return path + [el.name]
        adjacency.setdefault(a, []).append((b, el.name))
        adjacency.setdefault(b, []).append((a, el.name))
    return None


def _path(adjacency: dict[str, list[tuple[str, str]]], start: str, goal: str) -> list[str] | None:
    stack, seen = [(start, [])], {start}
    while stack:
        node, names = stack.pop()
        if node == goal:
            return names
        for nxt, name in adjacency.get(node, []):
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, names + [name]))
    return None


# ---------------------------------------------------------------- stamps


def assemble(net: Netlist, sys_: System, *, mode: str, omega: float = 0.0, t: float = 0.0, h: float = 0.0,
             method: str = "trap", prev: dict[str, tuple[float, float]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """MNA matrix and right-hand side. ``prev``: element -> (voltage, current) at the last time point."""
    dtype = complex if mode == "ac" else float
    # Python lists while stamping (an element write into a numpy array costs ~5x a list's), one array at the end
    a: Any = [[0.0] * sys_.size for _ in range(sys_.size)]
    b: Any = [0.0] * sys_.size
    node = sys_.nodes

    def add(r: int | None, c: int | None, v: complex) -> None:
        if r is not None and c is not None:
            a[r][c] += v

    def inject(r: int | None, v: complex) -> None:  # current into the node
        if r is not None:
            b[r] += v

    for el in net.elements:
        p, n = node.get(el.nodes[0]), node.get(el.nodes[1])
        k = sys_.branches.get(el.name.lower())
        value = float(el.value)  # type: ignore[arg-type] - symbolic netlists are refused earlier
        if el.kind == "R" or (el.kind == "C" and mode != "dc"):
            if el.kind == "R":
                g: complex = 1.0 / value
            elif mode == "ac":
                g = 1j * omega * value
            else:
                g = (2.0 if method == "trap" else 1.0) * value / h
                v_prev, i_prev = (prev or {}).get(el.name, (0.0, 0.0))
                hist = g * v_prev + (i_prev if method == "trap" else 0.0)
                inject(p, hist)
                inject(n, -hist)
            add(p, p, g)
            add(n, n, g)
            add(p, n, -g)
            add(n, p, -g)
        elif el.kind in "VEHL":
            add(p, k, 1.0)
            add(n, k, -1.0)
            add(k, p, 1.0)
            add(k, n, -1.0)
            if el.kind == "V":
                b[k] = _source_value(el, mode, t)  # type: ignore[index]
            elif el.kind == "E":
                cp, cn = node.get(el.control_nodes[0]), node.get(el.control_nodes[1])  # type: ignore[index]
                add(k, cp, -value)
                add(k, cn, value)
            elif el.kind == "H":
                add(k, sys_.branches[el.control_source.lower()], -value)  # type: ignore[union-attr]
            elif el.kind == "L" and mode == "ac":
                add(k, k, -1j * omega * value)
            elif el.kind == "L" and mode == "tran":
                factor = (2.0 if method == "trap" else 1.0) * value / h
                v_prev, i_prev = (prev or {}).get(el.name, (0.0, 0.0))
                add(k, k, -factor)
                b[k] = -factor * i_prev - (v_prev if method == "trap" else 0.0)
        elif el.kind == "I":
            current = _source_value(el, mode, t)
            inject(p, -current)
            inject(n, current)
        elif el.kind == "G":
            cp, cn = node.get(el.control_nodes[0]), node.get(el.control_nodes[1])  # type: ignore[index]
            add(p, cp, value)
            add(p, cn, -value)
            add(n, cp, -value)
            add(n, cn, value)
        elif el.kind == "F":
            kc = sys_.branches[el.control_source.lower()]  # type: ignore[union-attr]
            add(p, kc, value)
            add(n, kc, -value)
    return np.array(a, dtype=dtype), np.array(b, dtype=dtype)


def _source_value(el: Element, mode: str, t: float) -> complex:
    if mode == "ac":
        if not el.ac:
            return 0.0
        mag, phase = el.ac
        return mag * complex(math.cos(math.radians(phase)), math.sin(math.radians(phase)))
    if mode == "tran" and el.waveform is not None:
        return waveform_value(el.waveform, t, float(el.value or 0.0))
    return float(el.value or 0.0)


# ---------------------------------------------------------------- solve


MAX_POINTS = 1e7  # time points of a transient, points of a sweep: more is a typo (1e-300 for 1e-3), not a run
SPARSE_ABOVE = 300  # unknowns; larger systems are factorised sparse, with a 1-norm condition estimate


def condition_status(cond: float, ill: float = ILL_CONDITIONED) -> str:
    """ok, ill_conditioned (above ``ill``) or singular (not finite, or above ``SINGULAR``)."""
    if not math.isfinite(cond) or cond > SINGULAR:
        return "singular"
    return "ill_conditioned" if cond > ill else "ok"


def dense_condition(a: np.ndarray) -> float:
    """The exact 2-norm condition number (as np.linalg.cond, from one SVD without its overhead)."""
    if a.size == 0:
        return 1.0
    with np.errstate(all="ignore"):
        sv = np.linalg.svd(a, compute_uv=False)
    return float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf


def sparse_factor(a: np.ndarray) -> tuple[float, Any]:
    """(Hager/Higham's 1-norm estimate of ||A||_1 ||A^-1||_1, the sparse LU's solve) - (inf, None) when the
    factorisation is exactly singular."""
    from scipy.sparse import csc_matrix
    from scipy.sparse.linalg import LinearOperator, onenormest, splu

    mat = csc_matrix(a)
    try:
        lu = splu(mat)
    except RuntimeError:  # exactly singular factor
        return math.inf, None
    n = a.shape[0]
    inverse = LinearOperator((n, n), matvec=lu.solve, rmatvec=lambda v: lu.solve(v, trans="T"), dtype=a.dtype)
    return float(onenormest(mat) * onenormest(inverse)), lu.solve


def solve_system(a: np.ndarray, b: np.ndarray, ill: float = ILL_CONDITIONED) -> tuple[str, float, np.ndarray | None]:
    """(status, condition number, solution or None). Small systems: exact 2-norm condition number;
    large ones: sparse LU and the 1-norm condition estimate."""
    if a.shape[0] == 0:
        return "ok", 1.0, np.zeros(0)
    if a.shape[0] > SPARSE_ABOVE:
        cond, solve = sparse_factor(a)
    else:
        cond, solve = dense_condition(a), None
    status = condition_status(cond, ill)
    if status != "ok":
        return status, cond, None
    return "ok", cond, solve(b) if solve is not None else np.linalg.solve(a, b)


def _readout(net: Netlist, sys_: System, x: np.ndarray, omega: float | None = None
             ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Measurements, node voltages and element currents of one solution; ``omega`` (rad/s) for an AC point: a
    capacitor then carries j omega C v and a current source its AC phasor."""
    x = x.tolist()  # Python numbers: per-element arithmetic on numpy scalars costs more than the solve

    def v(nd: str) -> Any:
        return x[sys_.nodes[nd]] if nd in sys_.nodes else 0.0

    volts = {nd: _scalar(v(nd)) for nd in sys_.nodes}
    currents = {}
    for el in net.elements:
        vp, vn = v(el.nodes[0]), v(el.nodes[1])
        k = sys_.branches.get(el.name.lower())
        if k is not None:
            cur = x[k]
        elif el.kind == "R":
            cur = (vp - vn) / el.value  # type: ignore[operator]
        elif el.kind == "I":
            cur = el.value if omega is None else _source_value(el, "ac", 0.0)
        elif el.kind == "G":
            cur = el.value * (v(el.control_nodes[0]) - v(el.control_nodes[1]))  # type: ignore[index,operator]
        elif el.kind == "F":
            cur = el.value * x[sys_.branches[el.control_source.lower()]]  # type: ignore[union-attr,operator]
        else:  # C: open at DC, j omega C v in AC
            cur = 0.0 if omega is None else 1j * omega * el.value * (vp - vn)  # type: ignore[operator]
        currents[el.name] = _scalar(cur)
    return measurements(net, volts, currents), volts, currents


def measurements(net: Netlist, volts: dict[str, Any], currents: dict[str, Any]) -> dict[str, Any]:
    return {key: _scalar(measure(ms, volts, currents, net))
            for key, ms in zip(net.measurement_keys(), net.measurements, strict=True)}


def measure(ms: Measurement, volts: dict[str, Any], currents: dict[str, Any], net: Netlist) -> Any:
    if ms.kind == "v":
        return ms.sign * (volts.get(ms.nodes[0], 0.0) - volts.get(ms.nodes[1], 0.0))
    el = net.element(ms.source or "")
    return ms.sign * currents[el.name]  # type: ignore[union-attr]


def _scalar(v: Any) -> Any:
    if type(v) is float:
        return v + 0.0  # -0.0 -> 0.0
    if isinstance(v, complex | np.complexfloating):
        return complex(v)
    return float(v) + 0.0


def operating_point(net: Netlist, *, ill: float = ILL_CONDITIONED) -> Simulation:
    problem = structural_problem(net, "dc")
    if problem:
        return Simulation("singular", problem)
    sys_ = index(net)
    a, b = assemble(net, sys_, mode="dc")
    status, cond, x = solve_system(a, b, ill)
    if x is None:
        return Simulation(status, f"condition number {cond:.3g}", cond)
    meas, volts, currents = _readout(net, sys_, x)
    note = (f"condition number {cond:.3g}: the last digits may differ between simulators"
            if cond > WARN_CONDITION else "")
    return Simulation("ok", note, cond, "op", meas, volts, currents)


def _append(series: dict[str, dict[str, list[Any]]], parts: tuple[dict[str, Any], ...]) -> None:
    """Add one point's (measurements, node voltages, branch currents) to the running series."""
    for key, part in zip("mvi", parts, strict=True):
        for name, value in part.items():
            series[key].setdefault(name, []).append(value)
