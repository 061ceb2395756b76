"""The deck front-end: .include / .lib relative to the including file, .param expressions, .subckt flattened
with ngspice's names - checked by hand, and against ngspice on decks written in these styles (one feature per
deck, then all together)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from labkit.core.errors import DataError
from labkit.maps.deck import evaluate
from labkit.maps.netlist import parse_netlist
from labkit.maps.simulate import simulate

needs_ngspice = pytest.mark.skipif(not shutil.which("ngspice"), reason="ngspice is not installed")


def test_expressions() -> None:
    p = {"r": 1e3, "gain": 2.0}
    assert evaluate("2*r + 1k", p) == 3000.0 and evaluate("sqrt(gain^2) * 4.7k", p) == pytest.approx(9400.0)
    assert evaluate("max(r, 2meg) / 1e6", p) == 2.0
    for bad in ("__import__('os')", "r.real", "undefined * 2", "open('x')"):
        with pytest.raises(ValueError):
            evaluate(bad, p)


DECKS = {
    "param": ".param rtop=2k rbot={rtop*1.5} vin=10\nV1 1 0 {vin}\nR1 1 2 {rtop}\nR2 2 0 'rbot + 0'\n.op\n",
    "subckt": ".subckt div a b mid\nR1 a mid 1k\nR2 mid b 3k\n.ends div\nV1 1 0 8\nX1 1 0 2 div\nR3 2 0 12k\n.op\n",
    "subckt params": (".subckt rdiv in out params: rt=1k rb=1k\nR1 in out {rt}\nR2 out 0 {rb}\n.ends\n"
                      "V1 1 0 6\nXa 1 2 rdiv rt=2k\nXb 2 3 rdiv rb={2*500}\n.op\n"),
    "nested": (".subckt cell a b\nR1 a m 1k\nC1 m b 1n\nR2 m b 2k\n.ends\n.subckt two a b\nX1 a m cell\nX2 m b cell\n"
               ".ends\nV1 1 0 5\nXt 1 0 two\n.op\n"),
    "local param shadows a global one": (".param r=1k\n.subckt s a b\n.param r=3k\nR1 a b {r}\n.ends\n"
                                         "V1 1 0 4\nR0 1 2 {r}\nX1 2 0 s\n.op\n"),
    "controlled in subckt": (".subckt amp in out\nRin in 0 1k\nE1 out 0 in 0 4\n.ends\nV1 1 0 0.5\nX1 1 2 amp\n"
                             "R2 2 0 1k\n.op\n"),
}


def _ngspice(deck: str, exprs: list[str], tmp_path) -> list[float]:
    (tmp_path / "deck.cir").write_text(f"t\n{deck}.control\nrun\nprint {' '.join(exprs)}\n.endc\n.end\n")
    out = subprocess.run(["ngspice", "-b", "deck.cir"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    wanted = {e.lower() for e in exprs}
    values = {line.split("=")[0].strip(): float(line.split("=")[1]) for line in out.stdout.splitlines()
              if line.count("=") == 1 and line.split("=")[0].strip() in wanted}
    return [values[e.lower()] for e in exprs]


@needs_ngspice
@pytest.mark.parametrize("name", list(DECKS))
def test_front_end_decks_agree_with_ngspice(name: str, tmp_path) -> None:
    net = parse_netlist(f"t\n{DECKS[name]}", title=True)
    ours = simulate(net)
    assert ours.ok, ours.detail
    names = list(ours.node_voltages)
    theirs = _ngspice(DECKS[name], [f"v({n})" for n in names], tmp_path)
    for n, want in zip(names, theirs, strict=True):
        assert ours.node_voltages[n] == pytest.approx(want, rel=1e-5, abs=1e-12), n  # ngspice prints 7 digits


def test_subcircuit_names_read_like_ngspice() -> None:
    net = parse_netlist(f"t\n{DECKS['nested']}", title=True)
    assert [el.name for el in net.elements] == ["V1", "R.xt.x1.R1", "C.xt.x1.C1", "R.xt.x1.R2", "R.xt.x2.R1",
                                                "C.xt.x2.C1", "R.xt.x2.R2"]
    assert set(net.nodes) == {"1", "xt.m", "xt.x1.m", "xt.x2.m"}


@needs_ngspice
def test_include_and_lib_relative_to_the_including_file(tmp_path, monkeypatch) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "parts.lib").write_text(
        "* a library\n.lib typ\n.include ../common.inc\n.subckt load a\nR1 a 0 {rl}\n.ends\n.endl\n"
        ".lib slow\n.param rl=9k\n.endl\n")
    (tmp_path / "common.inc").write_text(".param rl=3k\n")
    deck = tmp_path / "top.cir"
    deck.write_text("top\n.lib models/parts.lib typ\nV1 1 0 4\nR1 1 2 1k\nX1 2 load\n.op\n.end\n")
    monkeypatch.chdir("/")  # paths are relative to the deck, not to the working directory
    ours = simulate(parse_netlist(deck.read_text(), path=str(deck), title=True))
    assert ours.node_voltages["2"] == pytest.approx(3.0)  # 4 V over 1k + 3k (the typ section's include)
    theirs = _ngspice(deck.read_text().split("\n", 1)[1].replace(".end\n", ""), ["v(2)"], tmp_path)
    assert theirs[0] == pytest.approx(3.0)


def test_front_end_errors_name_the_file_and_line(tmp_path) -> None:
    (tmp_path / "inc.cir").write_text("* included\nR9 1 0 {nope}\n")
    deck = tmp_path / "d.cir"
    deck.write_text("d\n.include inc.cir\nV1 1 0 1\n")
    with pytest.raises(DataError, match=r"inc\.cir:2: unknown parameter 'nope'"):
        parse_netlist(deck.read_text(), path=str(deck), title=True)
    deck.write_text("d\n.include missing.cir\nV1 1 0 1\n")
    with pytest.raises(DataError, match=r"d\.cir:2: included file .*missing\.cir not found"):
        parse_netlist(deck.read_text(), path=str(deck), title=True)
    deck.write_text("d\n.subckt s a b\nR1 a b 1k\n.ends\nV1 1 0 1\nX1 1 s\n")
    with pytest.raises(DataError, match=r"d\.cir:6: X1: 1 node\(s\) for subcircuit 's' with 2 port\(s\)"):
        parse_netlist(deck.read_text(), path=str(deck), title=True)
    deck.write_text("d\n.param r=1k oops\nV1 1 0 1\nR1 1 0 {r}\n")  # not NAME=VALUE: refused, not skipped
    with pytest.raises(DataError, match=r"d\.cir:2: cannot read 'oops' as a parameter assignment"):
        parse_netlist(deck.read_text(), path=str(deck), title=True)
    from labkit.maps.netlist import Unsupported

    deck.write_text("d\n.subckt s a b\n.model m d\nR1 a b 1k\n.ends\nV1 1 0 1\nX1 1 0 s\n")  # not ignored
    with pytest.raises(Unsupported, match=r"d\.cir:3: \.model inside a subcircuit"):
        parse_netlist(deck.read_text(), path=str(deck), title=True)


DC = {"one source": "V1 1 0 0\nR1 1 2 4K7\nR2 2 0 2k\nI1 0 2 1m\n.dc V1 -2 5 0.5\n",
      "nested": "V1 1 0 0\nR1 1 2 1k\nR2 2 0 2k\nI1 0 2 1m\n.dc V1 0 5 0.5 I1 0 2m 1m\n",
      "downwards, current source": "I1 0 1 0\nR1 1 0 1k\nE1 2 0 1 0 3\nR2 2 0 5k\n.dc I1 5m -5m -1m\n"}


@needs_ngspice
@pytest.mark.parametrize("name", list(DC))
def test_dc_sweeps_agree_with_ngspice(name: str) -> None:
    import numpy as np

    from labkit.maps import ngspice

    net = parse_netlist(DC[name] + ".control\nprint v(2) ; measurement of X\n.endc\n")
    ours, theirs = simulate(net), ngspice.run_ngspice(net, analysis="dc")
    assert ours.ok and ours.analysis == "dc" and np.allclose(ours.axis, theirs.axis)
    np.testing.assert_allclose(ours.measurements["X"], theirs.measurements["X"], rtol=1e-6, atol=1e-9)


def test_dc_sweep_by_hand_and_a_wrong_step() -> None:
    net = parse_netlist("V1 1 0 0\nR1 1 2 1k\nR2 2 0 3k\n.dc V1 0 2 1\n.control\nprint v(2) ; measurement of X\n"
                        ".endc\n")
    r = simulate(net)
    assert r.axis == [0.0, 1.0, 2.0] and r.measurements["X"] == pytest.approx([0.0, 0.75, 1.5])
    with pytest.raises(ValueError, match="does not go from 5 to -5"):
        simulate(parse_netlist("V1 1 0 0\nR1 1 0 1k\n.dc V1 5 -5 1\n"))


def test_control_blocks_keep_what_the_own_simulator_can_answer() -> None:
    from labkit.maps.netlist import Unsupported

    deck = ("t\nV1 1 0 2\nR1 1 2 1k\nR2 2 0 1k\n.control\nset noaskquit\nop\nlet half = v(2)\nwrdata out.txt v(2)\n"
            "print v(2) ; measurement of X\n.endc\n.end\n")
    assert simulate(parse_netlist(deck, title=True)).measurements["X"] == pytest.approx(1.0)
    with pytest.raises(Unsupported, match=r":9: cannot measure 'half'.*hands such decks to ngspice"):
        parse_netlist(deck.replace("wrdata out.txt v(2)", "print half"), title=True)
