"""Transients as SPICE defines them: PULSE and SIN defaults from the .tran line, the initial operating point at
the waveforms' t = 0 values, source corners as time points, internal steps that resolve the circuit's modes -
checked by hand, against the exact solution of the linear ODE (scipy.signal.lsim, exact for piecewise-linear
inputs) and against ngspice run with tight tolerances and a small maximum step (at the decks' own settings
ngspice is further from the exact solution than labkit: e.g. 1.2e-3 against 8e-5 of the peak on the off-grid
PWL)."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from scipy import signal

from labkit.maps.netlist import parse_netlist, parse_value
from labkit.maps.simulate import simulate

PRINT = ".control\nprint v(2) ; measurement of V\n.endc\n"
needs_ngspice = pytest.mark.skipif(not shutil.which("ngspice"), reason="ngspice is not installed")


def ours(deck: str) -> tuple[np.ndarray, np.ndarray]:
    result = simulate(parse_netlist(deck + PRINT))
    assert result.ok, result.detail
    return np.asarray(result.axis), np.asarray(result.measurements["V"])


def test_pulse_defaults_come_from_the_tran_line() -> None:
    from labkit.maps.netlist import Waveform
    from labkit.maps.waveforms import waveform_values, with_tran_defaults

    # PULSE(0 1): rise = fall = TSTEP, width = period = TSTOP (ngspice's vsrc); a written 0 means the default too
    w = with_tran_defaults(Waveform("pulse", (0.0, 1.0)), 1e-6, 1e-4)
    assert w.params == (0.0, 1.0, 0.0, 1e-6, 1e-6, 1e-4, 1e-4)
    assert with_tran_defaults(Waveform("pulse", (0, 1, 0, 0, 0, 0, 0)), 1e-6, 1e-4) == w
    # at exactly one period ngspice does not fold the time back: still high at TSTOP
    assert waveform_values(w, np.array([0, 0.25e-6, 0.5e-6, 1e-6, 50e-6, 1e-4]), 0.0).tolist() == \
        [0, 0.25, 0.5, 1, 1, 1]
    t, v = ours("V1 2 0 PULSE(0 1)\nR1 2 0 1k\n.tran 1u 100u\n")
    assert v[0] == 0 and (v[1:] == 1).all() and len(t) == 101  # was all 0 with a 1 ps pulse


def test_sin_frequency_defaults_to_one_over_tstop() -> None:
    t, v = ours("V1 2 0 SIN(0 1)\nR1 2 0 1k\n.tran 1u 100u\n")
    np.testing.assert_allclose(v, np.sin(2 * np.pi * 1e4 * t), atol=1e-12)


def test_the_transient_starts_at_the_waveforms_value_at_zero() -> None:
    t, v = ours("V1 1 0 DC 0 PWL(0 0.9 50u 0.1)\nR1 1 2 1k\nC1 2 0 10n\n.tran 1u 100u\n")
    assert t[0] == 0 and v[0] == pytest.approx(0.9)  # the operating point with the source at 0.9, not its DC 0
    assert simulate(parse_netlist("V1 1 0 DC 0 PWL(0 0.9 50u 0.1)\nR1 1 2 1k\nC1 2 0 10n\n.op\n" + PRINT)
                    ).measurements["V"] == 0.0  # .op itself keeps the DC value


def test_source_corners_are_time_points() -> None:
    t, _ = ours("V1 1 0 PWL(0 0 13.3u 1 47.7u 0.2)\nR1 1 2 1k\nC1 2 0 10n\n.tran 5u 100u\n")
    assert np.isclose(t, 13.3e-6, rtol=0, atol=1e-15).any() and np.isclose(t, 47.7e-6, rtol=0, atol=1e-15).any()
    assert np.isclose(t, 50e-6).any() and len(t) == 21 + 2


EXACT = {  # deck, transfer function v(2) / v(1), input breakpoints (times, values)
    "rc, tau = 10 tstep": ("V1 1 0 PULSE(0 1 0 1u 1u 1 2)\nR1 1 2 1k\nC1 2 0 10n\n.tran 1u 100u\n",
                           ([1], [1e-5, 1]), ([0, 1e-6, 1e-4], [0, 1, 1])),
    "pwl corners between grid points": ("V1 1 0 PWL(0 0 13.3u 1 47.7u 0.2)\nR1 1 2 1k\nC1 2 0 10n\n.tran 5u 100u\n",
                                        ([1], [1e-5, 1]), ([0, 13.3e-6, 47.7e-6, 1e-4], [0, 1, 0.2, 0.2])),
    "ringing rlc, 16 cycles": ("V1 1 0 PULSE(0 1 0 1u 1u 1 2)\nR1 1 3 10\nL1 3 2 1m\nC1 2 0 100n\n.tran 1u 1m\n",
                               ([1], [1e-10, 1e-6, 1]), ([0, 1e-6, 1e-3], [0, 1, 1])),
}


@pytest.mark.parametrize("name", list(EXACT))
def test_transients_equal_the_exact_solution_at_the_decks_own_step(name: str) -> None:
    deck, (num, den), (tu, vu) = EXACT[name]
    t, v = ours(deck)
    fine = np.union1d(np.linspace(0, t[-1], 400_001), tu)
    _, y, _ = signal.lsim(signal.lti(num, den), np.interp(fine, tu, vu), fine)
    assert np.max(np.abs(v - np.interp(t, fine, y))) < 1e-3 * np.max(np.abs(y))


def ngspice_tight(deck: str, tmp_path, expr: str = "v(2)") -> tuple[np.ndarray, np.ndarray]:
    """ngspice's own adaptive transient with tight tolerances (reltol 1e-6) and a maximum step of TSTEP / 100, as
    a reference (at the deck's own settings ngspice is the less accurate one: 2.6e-3 of the peak from the exact
    solution on the LC tank below, labkit 2.6e-4)."""
    import re

    out = tmp_path / "out.txt"
    deck = re.sub(r"\.tran (\S+) (\S+)", lambda m: f".tran {m[1]} {m[2]} 0 {parse_value(m[1]) / 100:g}", deck)
    (tmp_path / "deck.cir").write_text(f"reference\n{deck}.options reltol=1e-6 abstol=1e-15 vntol=1e-12 trtol=1\n"
                                       f".control\nrun\nwrdata {out} {expr}\n.endc\n.end\n")
    subprocess.run(["ngspice", "-b", "deck.cir"], cwd=tmp_path, capture_output=True, timeout=60)
    data = np.loadtxt(out, ndmin=2)
    return data[:, 0], data[:, 1]


NGSPICE = {
    "pulse with defaults": "V1 1 0 PULSE(0 1)\nR1 1 2 1k\nC1 2 0 10n\n.tran 1u 100u\n",
    "pulse train, corners off the grid": "V1 1 0 PULSE(0 2 3.3u 0.7u 1.1u 9.9u 23.3u)\nR1 1 2 1k\nC1 2 0 3n\n"
                                         ".tran 2u 120u\n",
    "dc 0 with a pwl": "V1 1 0 DC 0 PWL(0 0.9 50u 0.1)\nR1 1 2 1k\nC1 2 0 10n\n.tran 1u 100u\n",
    "sin with defaults into an rlc": "V1 1 0 SIN(0 1)\nR1 1 3 50\nL1 3 2 1m\nC1 2 0 47n\n.tran 1u 200u\n",
    "current pulse into an lc tank": "I1 0 2 PULSE(0 1m 5u 1u 1u 20u 1)\nC1 2 0 10n\nL1 2 3 100u\nR1 3 0 2\n"
                                     "R2 2 0 10k\n.tran 1u 200u\n",
}


@needs_ngspice
@pytest.mark.parametrize("name", list(NGSPICE))
def test_transients_agree_with_ngspice(name: str, tmp_path) -> None:
    t, v = ours(NGSPICE[name])
    tn, vn = ngspice_tight(NGSPICE[name], tmp_path)
    assert np.max(np.abs(v - np.interp(t, tn, vn))) < 1e-3 * np.max(np.abs(vn)), name  # at our points


def ngspice_op(deck: str, exprs: list[str], tmp_path, *, rkm: bool = False) -> list[float]:
    """ngspice -b on a deck; ``rkm``: in its LTspice/PSpice-compatible mode (``set ngbehavior=ltpsa``), the one
    that reads RKM values - by default ngspice reads ``4K7`` as 4k (trailing characters after a scale factor are
    ignored)."""
    if rkm:
        (tmp_path / ".spiceinit").write_text("set ngbehavior=ltpsa\n")
    (tmp_path / "deck.cir").write_text(f"{deck}.control\nrun\nprint {' '.join(exprs)}\n.endc\n.end\n")
    out = subprocess.run(["ngspice", "-b", "deck.cir"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    values = {line.split("=")[0].strip(): float(line.split("=")[1]) for line in out.stdout.splitlines()
              if "=" in line and line.split("=")[0].strip().lower() in {e.lower() for e in exprs}}
    return [values[e.lower()] for e in exprs]


HABITS = ("habits\nV1 in gnd dc=5 ac=1\nR1 in out 4K7\nR2 out GND 2K2\nR3 out 0 1R5\n"
          "V2 p 0 PULSE 0 1 1u 1u 1u 5u 10u\nR4 p 0 1k\n.op\n")


def test_everyday_spellings_read_as_spice_does() -> None:
    from labkit.maps.netlist import parse_value

    assert (parse_value("4K7"), parse_value("2m5"), parse_value("1R5"), parse_value("4k7")) == (4700, 2.5e-3, 1.5,
                                                                                               4700)
    net = parse_netlist(HABITS, title=True)
    v1, _, r2, r3, v2, _ = net.elements
    assert v1.nodes == ("in", "0") and (v1.value, v1.ac) == (5.0, (1.0, 0.0)) and r2.nodes == ("out", "0")
    assert (r2.value, r3.value) == (2200.0, 1.5) and v2.waveform.params[:2] == (0.0, 1.0)
    named = parse_netlist("t\nV1 sin 0 5\nR1 sin 0 1k\n", title=True).elements[0]  # a node may be called sin
    assert (named.nodes, named.value, named.waveform) == (("sin", "0"), 5.0, None)


@needs_ngspice
def test_everyday_spellings_agree_with_ngspice(tmp_path) -> None:
    net = parse_netlist(HABITS + ".control\nprint v(out) ; measurement of X\n.endc\n", title=True)
    ours_v = simulate(net).measurements["X"]
    assert ngspice_op(HABITS, ["v(out)"], tmp_path, rkm=True)[0] == pytest.approx(ours_v, rel=1e-5)  # 7 digits


DIODE = ("diode and subcircuit\n.include lib/div.inc\nV1 1 0 5\nD1 1 2 dmod\n.model dmod D(IS=1e-14)\nX1 2 0 div\n"
         ".op\n.control\nprint v(2) i(V1) ; measurement of I\n.endc\n.end\n")


def _diode_deck(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "div.inc").write_text("* a divider\n.subckt div a b\nR1 a m 1k\nR2 m b 1k\n.ends\n")
    (tmp_path / "d.cir").write_text(DIODE)
    return tmp_path / "d.cir"


@needs_ngspice
def test_auto_runs_what_the_own_simulator_lacks_on_ngspice(tmp_path, capsys, monkeypatch) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    deck = _diode_deck(tmp_path)
    monkeypatch.chdir(tmp_path / "lib")  # the include is relative to the deck, not to the working directory
    assert main_with_errors(app, ["maps", "simulate", str(deck), "--json"]) == 0
    captured = capsys.readouterr()
    import json

    result = json.loads(captured.out)
    assert "engine: ngspice" in captured.err and "d.cir:4: unknown element type 'D'" in captured.err
    want = ngspice_op(DIODE.split(".control")[0], ["v(2)", "v(x1.m)", "i(V1)"], tmp_path)
    assert result["node_voltages"]["2"] == pytest.approx(want[0], rel=1e-5)
    assert result["node_voltages"]["x1.m"] == pytest.approx(want[1], rel=1e-5)
    assert result["measurements"]["I"] == pytest.approx(want[2], rel=1e-5)
    assert not list(tmp_path.glob(".labkit-*"))  # the working copy beside the deck is gone


def test_without_ngspice_a_missing_feature_is_one_line(tmp_path, capsys, monkeypatch) -> None:
    from labkit.cli import app
    from labkit.core.cli import main_with_errors
    from labkit.maps import ngspice

    monkeypatch.setattr(ngspice, "available", lambda: False)
    deck = _diode_deck(tmp_path)
    assert main_with_errors(app, ["maps", "simulate", str(deck)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert err == [f"error: {deck}:4: unknown element type 'D' in 'D1' (the own simulator reads R, C, L, V, I, E, G, "
                   "F, H; --backend auto runs such decks on ngspice when it is installed)"]


@needs_ngspice
def test_a_full_deck_in_everyday_style_agrees_with_ngspice(tmp_path) -> None:
    """.include of a subcircuit library, .param expressions, gnd, a PULSE with its defaults and no parentheses,
    subcircuits with parameters driven from a .param, written as people write decks for ngspice (RKM values are
    checked above: ngspice reads them only in its LTspice mode)."""
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "filters.inc").write_text(
        "* RC sections\n.subckt rcsec in out gnd params: r=1k c=10n\nR1 in out {r}\nC1 out gnd {c}\n.ends rcsec\n")
    deck = ("two-pole filter\n.include lib/filters.inc\n.param rbase=2.2k cbase={10n*2}\n"
            "Vin in gnd PULSE 0 1\nX1 in mid gnd rcsec r={rbase} c={cbase}\nX2 mid out gnd rcsec r={rbase*2} c=4.7n\n"
            "Rload out 0 100k\n.tran 2u 400u\n")
    (tmp_path / "deck.cir").write_text(deck + PRINT.replace("v(2)", "v(out)") + ".end\n")
    result = simulate(parse_netlist((tmp_path / "deck.cir").read_text(), path=str(tmp_path / "deck.cir"),
                                    title=True))
    t, v = np.asarray(result.axis), np.asarray(result.measurements["V"])
    tn, vn = ngspice_tight(deck.split("\n", 1)[1].replace("v(2)", "v(out)"), tmp_path, expr="v(out)")
    assert np.max(np.abs(v - np.interp(t, tn, vn))) < 1e-3 * np.max(np.abs(vn))
