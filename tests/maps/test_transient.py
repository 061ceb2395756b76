"""The factor-once transient against a step-by-step reference (the previous implementation: the
system assembled and solved at every time point), and the factorisation count."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.maps import transient as tr
from labkit.maps import waveforms
from labkit.maps.mna import assemble, index, operating_point, solve_system
from labkit.maps.netlist import parse_netlist
from labkit.maps.simulate import simulate
from labkit.maps.waveforms import waveform_value


def stepwise(net, times: np.ndarray, *, uic: bool, method: str = "trap") -> dict[str, np.ndarray]:
    """Reference: rebuild and solve A x = b at every time point (companion models at that step's length; the
    first step backward Euler with uic)."""
    sys_ = index(net)
    state: dict[str, tuple[float, float]] = {}
    if uic:
        for el in net.elements:
            if el.kind in "CL":
                state[el.name] = (el.initial or 0.0, 0.0) if el.kind == "C" else (0.0, el.initial or 0.0)
    else:
        op = operating_point(net)
        for el in net.elements:
            if el.kind in "CL":
                volt = op.node_voltages.get(el.nodes[0], 0.0) - op.node_voltages.get(el.nodes[1], 0.0)
                state[el.name] = (volt, op.branch_currents[el.name])
    out: dict[str, list[float]] = {nd: [] for nd in sys_.nodes}
    for step, t in enumerate(times, 1):
        h = t - (times[step - 2] if step > 1 else 0.0)
        m = "be" if step == 1 and uic else method
        a, b = assemble(net, sys_, mode="tran", t=t, h=h, method=m, prev=state)
        _, _, x = solve_system(a, b)
        volts = {nd: x[k] for nd, k in sys_.nodes.items()}
        for nd in sys_.nodes:
            out[nd].append(volts[nd])
        for el in net.elements:
            volt = volts.get(el.nodes[0], 0.0) - volts.get(el.nodes[1], 0.0)
            if el.kind == "C":
                v_prev, i_prev = state[el.name]
                g = (2 if m == "trap" else 1) * el.value / h
                cur = g * (volt - v_prev) - (i_prev if m == "trap" else 0.0)
                state[el.name] = (volt, cur)
            elif el.kind == "L":
                state[el.name] = (volt, x[sys_.branches[el.name.lower()]])
    return {nd: np.array(v) for nd, v in out.items()}


DECKS = {
    "rc": ("V1 1 0 5\nR1 1 2 1k\nC1 2 0 1u IC=0\n", 1e-6, 5e-3, True),
    "rl": ("V1 1 0 1\nR1 1 2 100\nL1 2 0 100m\n", 1e-5, 5e-3, True),
    "rlc_pulse": ("V1 1 0 PULSE(0 5 10u 1u 1u 200u 500u)\nR1 1 2 10\nL1 2 3 10m\nC1 3 0 1u\nR2 3 0 1k\n",
                  1e-6, 2e-3, False),
    "sin_and_sources": ("V1 1 0 SIN(0 1 1k)\nR1 1 2 1k\nC1 2 0 100n\nI1 0 2 PULSE(0 1m 0 1u 1u 100u 300u)\n"
                        "E1 4 0 2 0 3\nR3 4 0 2k\nG1 0 5 2 0 1m\nR4 5 0 1k\nC2 5 0 1u\n", 2e-6, 3e-3, False),
    "controlled_current": ("V1 1 0 PWL(0 0 1m 2 2m 2)\nVs 1 2 0\nR1 2 0 100\nF1 0 3 Vs 2\nR2 3 0 50\n"
                           "H1 4 0 Vs 10\nL1 4 5 1m\nR5 5 0 10\n", 5e-6, 2e-3, False),
}


@pytest.mark.parametrize("name", sorted(DECKS))
@pytest.mark.parametrize("method", ["trap", "be"])
def test_factor_once_equals_stepwise(name: str, method: str) -> None:
    body, h, tstop, uic = DECKS[name]
    net = parse_netlist(body + f".tran {h} {tstop}{' uic' if uic else ''}\n.end\n")
    ours = simulate(net, method=method)
    times, is_out = tr.time_grid(h, tstop, waveforms.breakpoints(net, tstop), tr.substeps(net, index(net), h, tstop))
    ref = {nd: v[is_out] for nd, v in stepwise(net, times, uic=uic, method=method).items()}  # the same steps
    assert ours.ok
    skip = 0 if uic else 1  # the operating point at t=0 leads the series without uic
    for nd, want in ref.items():
        got = np.array(ours.node_voltages[nd][skip:])
        scale = max(np.max(np.abs(want)), 1e-12)
        assert np.max(np.abs(got - want)) <= 1e-9 * scale, nd


def test_matrix_is_factored_once_per_method_not_per_step() -> None:
    net = parse_netlist("V1 1 0 PULSE(0 1 0 1u 1u 5u 10u)\nR1 1 2 1k\nC1 2 0 1n\nL1 2 0 1m\n.tran 10n 100u\n")
    before = tr.FACTORISATIONS["count"]
    result = simulate(net, method="be")
    assert result.ok and len(result.axis) == 10_001
    assert tr.FACTORISATIONS["count"] - before == 1  # backward Euler: one matrix for 10,000 steps
    before = tr.FACTORISATIONS["count"]
    simulate(net, method="trap")
    assert tr.FACTORISATIONS["count"] - before == 1  # a consistent start (the operating point): trapezoidal only
    before = tr.FACTORISATIONS["count"]
    simulate(parse_netlist(net.to_spice().replace("tran 10n 100u 0", "tran 10n 100u 0 uic")), method="trap")
    assert tr.FACTORISATIONS["count"] - before == 2  # with uic: the backward-Euler start and the trapezoidal matrix


def test_vectorised_waveforms_equal_pointwise() -> None:
    from labkit.maps.netlist import Waveform

    t = np.linspace(0, 3e-3, 3001)
    for w in (Waveform("pulse", (0, 5, 1e-4, 1e-5, 2e-5, 3e-4, 7e-4)), Waveform("sin", (0.5, 2, 1e3, 2e-4, 50)),
              Waveform("pwl", (0, 0, 1e-3, 1, 2e-3, -1))):
        np.testing.assert_allclose(waveforms.waveform_values(w, t, 0.0), [waveform_value(w, x, 0.0) for x in t],
                                   rtol=0, atol=1e-12)


def test_linear_recurrence_scan_equals_loop() -> None:
    rng = np.random.default_rng(0)
    phi = rng.normal(size=(5, 5)) * 0.3
    w, s0 = rng.normal(size=(1000, 5)), rng.normal(size=5)
    want, s = [], s0
    for row in w:
        s = phi @ s + row
        want.append(s)
    np.testing.assert_allclose(tr.linear_recurrence(phi, w, s0), np.array(want), rtol=1e-10, atol=1e-12)


def test_a_pulse_never_leaves_its_levels_however_many_periods_have_passed() -> None:
    """Folding t back by per * floor(t / per) went negative when t / per is huge: a 0..1 V pulse with a 1e-300 s
    period read -1e281 V and the transient answered garbage with status ok. fmod is exact."""
    from labkit.maps.netlist import Waveform

    tiny = Waveform("pulse", (0.0, 1.0, 0.0, 1e-300, 1e-300, 1e-300, 1e-300))
    v = waveforms.waveform_values(tiny, np.linspace(0, 1e-3, 1001), 0.0)
    assert v.min() >= 0.0 and v.max() <= 1.0
    step = Waveform("pulse", (0.0, 1.0, 0.0, 1e-7, 1e-7, 3e-7, 1e-6))  # a 1 MHz train, a million periods on
    offsets = np.array([0.5e-7, 2e-7, 4.5e-7, 8e-7])
    far = waveforms.waveform_values(step, 1_000_000 * 1e-6 + offsets, 0.0)
    np.testing.assert_allclose(far, waveforms.waveform_values(step, offsets, 0.0), atol=1e-6)
    net = parse_netlist("V1 in 0 PULSE(0 1 0 1e-300 1e-300 1e-300 1e-300)\nR1 in out 1k\nC1 out 0 1u\n.tran 1u 1m\n")
    out = simulate(net)
    vout = np.asarray(out.node_voltages["out"])
    assert out.status == "ok" and vout.min() >= -1e-9 and vout.max() <= 1.0
    assert vout[-1] == pytest.approx(0.5 * (1 - np.exp(-1)), abs=0.01)  # the pulse averages 0.5 here: RC on 0.5 V


def test_a_result_past_the_float_range_is_not_ok() -> None:
    net = parse_netlist("V1 in 0 SIN(0 1e308 1k)\nE1 out 0 in 0 10\nR1 out 0 1k\n.tran 10u 1m\n")
    out = simulate(net)
    assert out.status == "overflow" and "out" in out.detail and not out.ok
    assert simulate(parse_netlist("V1 in 0 SIN(0 1e300 1k)\nE1 out 0 in 0 10\nR1 out 0 1k\n.tran 10u 1m\n")).ok
