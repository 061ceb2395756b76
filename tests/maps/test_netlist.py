"""SPICE reading and writing: values with suffixes, elements, control blocks, errors with line numbers."""

import pytest

from labkit.core.errors import DataError
from labkit.maps.netlist import format_value, parse_netlist, parse_value


@pytest.mark.parametrize("text,value", [("4.7k", 4700.0), ("85m", 0.085), ("2MEG", 2e6), ("10uF", 1e-5),
                                        ("3p", 3e-12), ("1.5n", 1.5e-9), ("2f", 2e-15), ("1g", 1e9), ("1t", 1e12),
                                        ("1e3", 1000.0), ("-12", -12.0), ("0", 0.0), (".5", 0.5), ("5M", 5e-3)])
def test_spice_numbers(text, value) -> None:
    assert parse_value(text) == pytest.approx(value, rel=1e-15)


@pytest.mark.parametrize("value", [85e-3, 37e3, 46.0, 1e-6, 3.3e6, -12.0, 0.1, 1e-13, 123456789.0])
def test_format_round_trips(value) -> None:
    assert parse_value(format_value(value)) == value


MAPS_NETLIST = """.title Active DC Circuit
VI3 0 1 0
R_1 2 0 85m
G_1 4 1 4 1 38
E_1 4 3 2 5 8m
F_1 5 0 VI3 2
H_1 6 0 VI3 1k
I_1 3 6 34
R_2 1 2 1k
R_3 5 3 2k
R_4 6 2 3k

.control
op
print i(VI3) ; measurement of I3
print v(1, 4) ; measurement of U0
print -v(6) ; measurement of U8
print v(2) ; measurement of U8
.endc
.end
"""


def test_maps_layout_parses_and_round_trips() -> None:
    net = parse_netlist(MAPS_NETLIST)
    kinds = [el.kind for el in net.elements]
    assert kinds == ["V", "R", "G", "E", "F", "H", "I", "R", "R", "R"]
    g = net.element("G_1")
    assert g.control_nodes == ("4", "1") and g.value == 38.0
    assert net.element("f_1").control_source == "VI3"
    assert [m.label for m in net.measurements] == ["I3", "U0", "U8", "U8"]
    assert net.measurements[2].sign == -1.0 and net.measurements[1].nodes == ("1", "4")
    assert net.measurement_keys() == ["I3", "U0", "U8 [-v(6)]", "U8 [v(2)]"]  # repeated label kept apart
    again = parse_netlist(net.to_spice())
    assert again.elements == [el.__class__(**{**el.__dict__, "line": a.line}) for el, a in
                              zip(net.elements, again.elements, strict=True)]
    assert again.measurements == net.measurements


def test_sources_with_ac_and_waveforms() -> None:
    net = parse_netlist("V1 1 0 DC 2 AC 1 45\nI1 0 2 PULSE(0 1m 0 1n 1n 1 2)\nC1 1 2 1u IC=3\nL1 2 0 10m\n"
                        ".tran 1u 1m uic\n.ac dec 10 1 1k\n.end\n")
    v, i, c, ind = net.elements
    assert v.value == 2.0 and v.ac == (1.0, 45.0)
    assert i.waveform.kind == "pulse" and i.waveform.params[1] == 1e-3 and i.value == 0.0
    assert c.initial == 3.0 and ind.value == 1e-2
    assert [a.kind for a in net.analyses] == ["tran", "ac"]
    assert net.analyses[0].params == (1e-6, 1e-3, 0.0, 1e-6, True)


def test_symbolic_values() -> None:
    net = parse_netlist("R1 1 0 <Empty>\nV1 1 0 <Empty>\n")
    assert net.symbolic == ["R1", "V1"]
    assert net.with_values({"r1": 2.0, "V1": 4.0}).symbolic == []


@pytest.mark.parametrize("text,message", [
    ("R1 1 0 1k\nR1 1 0 2k\n", r"<netlist>:2: duplicate element name 'R1'"),
    ("R1 1 0 1k\nQ1 1 2 3 npn\n", r"<netlist>:2: unknown element type 'Q'"),
    ("R1 1 0\n", r"<netlist>:1: R1: expected at least 2 nodes"),
    ("R1 1 0 abc\n", r"<netlist>:1: 'abc' is not a SPICE number"),
    ("R1 1 0 0\n", r"zero resistance"),
    ("R1 1 0 1k\nF1 1 0 R1 2\n", r"<netlist>:2, field 'F1': F1 is controlled by the current of 'R1'"),
    (".control\nprint p(1)\n.endc\n", r"<netlist>:2: cannot measure 'p\(1\)'"),
    (".fourier 1k v(1)\n", r"unsupported command 'fourier'"),
])
def test_errors_name_the_line(text, message) -> None:
    with pytest.raises(DataError, match=message):
        parse_netlist(text)


def test_cli_simulate(tmp_path) -> None:
    import subprocess
    import sys

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "labkit", "maps", "simulate", *args], capture_output=True,
                              text=True, timeout=120)

    body = "V1 1 0 10\nR1 1 2 2k\nR2 2 0 3k\n.control\nop\nprint v(2) ; measurement of U0\n.endc\n.end\n"
    (tmp_path / "ok.cir").write_text("voltage divider\n" + body)
    out = run(str(tmp_path / "ok.cir"))
    assert out.returncode == 0 and "status: ok" in out.stdout and "U0 = 6 V" in out.stdout
    assert "i(R1) = 0.002" in out.stdout and out.stderr == ""
    (tmp_path / "untitled.cir").write_text(body)  # a pipeline netlist: no title line
    out = run(str(tmp_path / "untitled.cir"), "--no-title")
    assert out.returncode == 0 and "U0 = 6 V" in out.stdout
    out = run(str(tmp_path / "untitled.cir"))  # read as SPICE: V1 is the title, said on stderr, no guess
    assert "'V1 1 0 10' is the deck's title" in out.stderr and "--no-title" in out.stderr
    (tmp_path / "float.cir").write_text("floating\nV1 1 0 5\nR1 1 0 1k\nI1 2 3 1m\nR2 2 3 1k\n")
    out = run(str(tmp_path / "float.cir"))
    assert out.returncode == 3 and "status: singular" in out.stdout and "node(s) 2, 3" in out.stdout
    (tmp_path / "bad.cir").write_text("bad deck\nR1 1 0 1k\nX1 1 2 sub\n")
    out = run(str(tmp_path / "bad.cir"))
    assert out.returncode == 2 and out.stderr.strip() == f"error: {tmp_path / 'bad.cir'}:3: X1: unknown subcircuit " \
        "'sub'"
    for name, text in (("empty.cir", ""), ("comments.cir", "* title\n* nothing here\n\n.end\n")):
        (tmp_path / name).write_text(text)
        out = run(str(tmp_path / name))
        assert out.returncode == 2 and out.stdout == "" and out.stderr.count("\n") == 1
        assert str(tmp_path / name) in out.stderr and "no circuit elements" in out.stderr


TITLED = {  # SPICE decks written for ngspice: line 1 is the title, whatever it looks like
    "R1 1 0 5": ("R1 1 0 5\nV1 1 0 5\nR2 1 2 1k\nR3 2 0 1k\n.op\n.end\n", "2", 2.5),
    "Lab 2 0 1": ("Lab 2 0 1\nV1 2 0 5\nR1 2 0 1k\n.op\n.end\n", "2", 5.0),
    ".title": (".title Divider\nV1 1 0 9\nR1 1 2 2k\nR2 2 0 1k\n.op\n.end\n", "2", 3.0),
}


@pytest.mark.parametrize("name", sorted(TITLED))
def test_title_line_is_never_an_element(name: str) -> None:
    from labkit.maps.simulate import simulate

    deck, node, want = TITLED[name]
    net = parse_netlist(deck, title=True)
    assert net.title == name.replace(".title", "Divider") and all(el.name != "Lab" for el in net.elements)
    assert simulate(net).node_voltages[node] == pytest.approx(want, rel=1e-12)


@pytest.mark.skipif(not __import__("shutil").which("ngspice"), reason="ngspice is not installed")
@pytest.mark.parametrize("name", sorted(TITLED))
def test_titled_decks_give_ngspice_answers(name: str, tmp_path) -> None:
    import subprocess

    from labkit.maps.simulate import simulate

    deck, node, _ = TITLED[name]
    path = tmp_path / "deck.cir"
    path.write_text(deck.replace(".end\n", f".control\nrun\nprint v({node})\n.endc\n.end\n"))
    out = subprocess.run(["ngspice", "-b", str(path)], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    printed = float(next(line for line in out.stdout.splitlines() if line.strip().startswith(f"v({node})"))
                    .split("=")[1])
    assert simulate(parse_netlist(deck, title=True)).node_voltages[node] == pytest.approx(printed, rel=1e-6)


def test_untitled_pipeline_netlists_unchanged() -> None:
    """A model's netlist has no title line: without title=True its first element stays an element."""
    net = parse_netlist("V1 1 0 5\nR1 1 2 1k\nR2 2 0 1k\n.control\nop\nprint v(2) ; measurement of U\n.endc\n")
    assert [el.name for el in net.elements] == ["V1", "R1", "R2"]
    again = parse_netlist(net.to_spice(), title=True)  # to_spice writes a title line
    assert [(el.name, el.nodes, el.value) for el in again.elements] == [(el.name, el.nodes, el.value)
                                                                         for el in net.elements]


@pytest.mark.parametrize("text", ["", "\n\n", "* only a comment\n", "title\n* comment\n.end\n"])
def test_empty_netlists_are_errors(text: str) -> None:
    from labkit.core.errors import DataError

    with pytest.raises(DataError, match="no circuit elements"):
        parse_netlist(text, path="deck.cir", title=text.startswith("title"))


def test_ngspice_deck_habits() -> None:
    """Continuation lines, inline comments and ``.print tran`` as decks written for ngspice have them."""
    from labkit.maps.simulate import simulate

    deck = ("RC low-pass\nV1 in 0 PULSE(0 5 0 1u 1u\n+ 1m 2m) ; the source\nR1 in out 1k $ series\n"
            "C1 out 0\n+ 1u\n.tran 1u 1m\n.print tran v(out)\n.end\n")
    net = parse_netlist(deck, title=True, path="rc.cir")
    assert [el.name for el in net.elements] == ["V1", "R1", "C1"] and net.elements[2].value == pytest.approx(1e-6)
    assert net.elements[0].waveform.params[-1] == pytest.approx(2e-3) and net.measurements[0].expr == "v(out)"
    assert simulate(net).ok
    from labkit.core.errors import DataError

    with pytest.raises(DataError, match="rc.cir:4"):
        parse_netlist("t\nV1 1 0\n+ 1\nX1 1 2 sub\n", title=True, path="rc.cir")
