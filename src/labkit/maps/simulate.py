"""Run a netlist's analysis (MAPS's Chain-of-Simulation step): the DC operating point, ``.ac``/``.dc`` sweeps
(``sweeps``) and the transient (``transient``), all on the modified nodal analysis of ``mna``; a result beyond
float range is ``overflow``, never numbers."""

from __future__ import annotations

import dataclasses

import numpy as np

from labkit.maps.circuit import Netlist
from labkit.maps.mna import ILL_CONDITIONED, MAX_POINTS, Simulation, index, operating_point, structural_problem
from labkit.maps.sweeps import ac_sweep, dc_sweep, frequencies
from labkit.maps.transient import run_transient
from labkit.maps.waveforms import waveform_value, with_tran_defaults


def simulate(net: Netlist, analysis: str | None = None, *, ill: float = ILL_CONDITIONED,
             method: str = "trap") -> Simulation:
    """Run the netlist's first analysis (or ``analysis``: op, ac, tran); a result beyond float range is not ok."""
    with np.errstate(over="ignore", invalid="ignore"):  # checked below, said in the status
        return _finite(_simulate(net, analysis, ill=ill, method=method))


def _finite(sim: Simulation) -> Simulation:
    """An ok result holding inf or NaN (a source or gain past float range) says so instead of answering."""
    if sim.ok:
        for name, v in (*sim.node_voltages.items(), *sim.branch_currents.items()):
            if not np.all(np.isfinite(np.asarray(v))):
                return dataclasses.replace(sim, status="overflow", detail=f"{name} leaves the float range "
                                           "(values beyond 1e308): check the sources' magnitudes")
    return sim


def _simulate(net: Netlist, analysis: str | None, *, ill: float, method: str) -> Simulation:
    if net.symbolic:
        return Simulation("symbolic", f"symbolic values (<Empty>) for {', '.join(net.symbolic)}: fill them first")
    wanted = analysis or (net.analyses[0].kind if net.analyses else "op")
    spec = next((an for an in net.analyses if an.kind == wanted), None)
    if wanted == "op":
        return operating_point(net, ill=ill)
    if spec is None:
        raise ValueError(f"the netlist has no .{wanted} line")
    if wanted in ("ac", "dc"):
        if wanted == "ac":
            return ac_sweep(net, frequencies(*spec.params), ill=ill)  # type: ignore[arg-type]
        return dc_sweep(net, spec.params, ill=ill)
    tstep, tstop, tstart, tmax, uic = spec.params
    return transient(net, float(tstep), float(tstop), tstart=float(tstart),  # type: ignore[arg-type]
                     tmax=float(tmax), uic=bool(uic), method=method, ill=ill)  # type: ignore[arg-type]


def tran_sources(net: Netlist, tstep: float, tstop: float) -> Netlist:
    """The netlist with every source waveform's transient defaults written out (``with_tran_defaults``)."""
    return dataclasses.replace(net, elements=[
        dataclasses.replace(el, waveform=with_tran_defaults(el.waveform, tstep, tstop)) if el.waveform else el
        for el in net.elements])


def at_time_zero(net: Netlist) -> Netlist:
    """The netlist SPICE solves for a transient's initial operating point: a source with a waveform takes the
    waveform's value at t = 0, not its DC value (``DC 0 PWL(0 0.9 ...)`` starts at 0.9)."""
    return dataclasses.replace(net, elements=[
        dataclasses.replace(el, value=waveform_value(el.waveform, 0.0, float(el.value or 0.0))) if el.waveform else el
        for el in net.elements])


def transient(net: Netlist, tstep: float, tstop: float, *, tstart: float = 0.0, tmax: float | None = None,
              uic: bool = False, method: str = "trap", ill: float = ILL_CONDITIONED) -> Simulation:
    """Fixed-step trapezoidal (or backward-Euler) integration; the first step is backward Euler. The
    matrices are factored once (``maps.transient``), not at every step."""
    if method not in ("trap", "be"):
        raise ValueError("method must be trap or be")
    h = min(tstep, tmax or tstep)
    if tstop / h > MAX_POINTS:
        raise ValueError(f".tran {tstep:g} {tstop:g}: {tstop / h:.3g} time points (at most {MAX_POINTS:.0e})")
    problem = structural_problem(net, "tran")
    if problem:
        return Simulation("singular", problem, analysis="tran")
    net = tran_sources(net, tstep, tstop)
    op = None  # the t=0 operating point (not computed with uic)
    if not uic:
        op = operating_point(at_time_zero(net), ill=ill)
        if not op.ok:
            return Simulation(op.status, f"initial operating point: {op.detail}", op.condition, "tran")
    return run_transient(net, index(net), h, tstop, tstart=tstart, method=method, ill=ill, op=op)
