"""Independent-source waveforms for transient analysis, as SPICE (ngspice's vsrc) defines them: values at any
times, the defaults a deck may leave out, and the corners a run must step on."""

from __future__ import annotations

import math

import numpy as np

from labkit.maps.circuit import Netlist, Waveform


def with_tran_defaults(w: Waveform, tstep: float, tstop: float) -> Waveform:
    """A waveform with SPICE's transient defaults written out: PULSE rise / fall = TSTEP and width / period =
    TSTOP when missing or 0, SIN frequency = 1 / TSTOP when missing or 0 (as ngspice's vsrc)."""
    p = list(w.params)

    def given(k: int) -> float | None:
        return p[k] if len(p) > k and p[k] != 0 else None

    if w.kind == "pulse" and len(p) >= 2:
        td = p[2] if len(p) > 2 else 0.0
        return Waveform("pulse", (p[0], p[1], td, given(3) or tstep, given(4) or tstep, given(5) or tstop,
                                  given(6) or tstop))
    if w.kind == "sin" and len(p) >= 2 and tstop > 0:
        rest = (p + [0.0] * 6)[3:6]
        return Waveform("sin", (p[0], p[1], given(2) or 1.0 / tstop, *rest))
    return w


def waveform_values(w: Waveform, t: np.ndarray, dc: float) -> np.ndarray:
    """SPICE PULSE(v1 v2 td tr tf pw per), SIN(vo va freq td theta phase), PWL(t1 v1 t2 v2 ...) at the times
    ``t`` (``with_tran_defaults`` fills what a deck leaves out; a zero rise or fall left here is 1 ps)."""
    t = np.asarray(t, dtype=float)
    p = list(w.params)
    if w.kind == "pulse":
        v1, v2, td, tr, tf, pw, per = (p + [0.0] * 7)[:7]
        tr, tf = tr or 1e-12, tf or 1e-12
        tt = t - td
        if per > 0:  # as ngspice: a time past one period is folded back; exactly one period is not. fmod is
            tt = np.where(tt > per, np.fmod(tt, per), tt)  # exact: tt - per * floor(tt / per) went negative
            # when tt / per is huge (a 1e-300 s period gave -1e281 V from a 0..1 V pulse)
        out = np.full(t.shape, v1, dtype=float)
        rise, high, fall = tt < tr, (tt >= tr) & (tt < tr + pw), (tt >= tr + pw) & (tt < tr + pw + tf)
        out[rise] = v1 + (v2 - v1) * tt[rise] / tr
        out[high] = v2
        out[fall] = v2 + (v1 - v2) * (tt[fall] - tr - pw) / tf
        out[t < td] = v1
        return np.clip(out, min(v1, v2), max(v1, v2))  # a pulse never leaves its two levels
    if w.kind == "sin":
        vo, va, freq, td, theta, phase = (p + [0.0] * 6)[:6]
        d, ph = t - td, math.radians(phase)
        return np.where(t < td, vo + va * math.sin(ph), vo + va * np.exp(-d * theta) * np.sin(2 * math.pi * freq * d
                                                                                            + ph))
    times, values = p[0::2], p[1::2]
    return np.interp(t, times, values) if times else np.full(t.shape, dc, dtype=float)


def waveform_value(w: Waveform, t: float, dc: float) -> float:
    """One time point of ``waveform_values`` (PULSE, SIN, PWL)."""
    return float(waveform_values(w, np.array([t]), dc)[0])


MAX_BREAKPOINTS = 100_000  # more source corners than this (a fast pulse train): the plain grid is used


def breakpoints(net: Netlist, tstop: float) -> np.ndarray:
    """Every source corner in (0, tstop): PULSE edges of every period, PWL points, a delayed SIN's start."""
    out: list[np.ndarray] = []
    for el in net.elements:
        w = el.waveform
        if w is None:
            continue
        p = list(w.params)
        if w.kind == "pulse" and len(p) >= 7:
            td, tr, tf, pw, per = p[2], p[3], p[4], p[5], p[6]
            count = (tstop - td) / per if per > 0 else 0.0  # periods that start before tstop
            periods = MAX_BREAKPOINTS if not math.isfinite(count) or count > MAX_BREAKPOINTS else \
                max(0, math.ceil(count))
            start = td + per * np.arange(periods + 1)[:, None]
            out.append((start + np.array([0.0, tr, tr + pw, tr + pw + tf])[None, :]).ravel())
        elif w.kind == "pwl":
            out.append(np.asarray(p[0::2], dtype=float))
        elif w.kind == "sin" and len(p) > 3:
            out.append(np.array([p[3]]))
    corners = np.unique(np.concatenate(out)) if out else np.zeros(0)
    corners = corners[(corners > 0) & (corners < tstop)]
    return corners if len(corners) <= MAX_BREAKPOINTS else np.zeros(0)
