"""The SPICE reader for the subset MAPS uses, plus C, L, AC and transient, into the IR of ``circuit`` (whose
``Netlist.to_spice`` writes it back).

Elements (SPICE conventions; n+ n- are the output nodes):
    Rname n+ n- value            Cname n+ n- value [IC=v0]     Lname n+ n- value [IC=i0]
    Vname n+ n- [DC] v [AC mag [phase]] [PULSE(...)|SIN(...)|PWL(...)]     (same for I)
    Ename n+ n- nc+ nc- gain     Gname n+ n- nc+ nc- gm        (voltage-controlled)
    Fname n+ n- Vctrl gain       Hname n+ n- Vctrl r           (controlled by the current of Vctrl)
Values take SPICE suffixes (case-insensitive): f p n u m k meg g t, trailing unit letters ignored;
``<Empty>`` is a symbolic value (a label-annotated figure) to be filled in before simulation.
Analyses: ``.op``, ``.ac dec|oct|lin N fstart fstop``, ``.tran tstep tstop [tstart [tmax]] [uic]``, also
inside a ``.control`` block (``op``, ``ac ...``, ``tran ...``), where ``print EXPR ; measurement of LABEL``
declares a labelled measurement (MAPS's convention) with EXPR ``v(a)``, ``v(a, b)``, ``-v(a)``, ``i(Vx)``.
"""

from __future__ import annotations

import math
import re

from labkit.core.errors import DataError
from labkit.maps.circuit import (  # noqa: F401 - the IR's names, read from here too
    EMPTY,
    KINDS,
    Analysis,
    Element,
    Measurement,
    Netlist,
    Unsupported,
    UnsupportedFeature,
    Waveform,
)
from labkit.maps.deck import expand, join_continuations, needs_front_end, strip_inline_comment
from labkit.maps.values import NUMBER, format_value, parse_value  # noqa: F401 - the reader's own names
from labkit.maps.waveforms import waveform_value

PRINT = re.compile(r"^print\s+(.+?)\s*(?:;\s*(?:measurement of\s+)?(.*))?$", re.IGNORECASE)
VEXPR = re.compile(r"^(-?)\s*v\(\s*([^,\s)]+)\s*(?:,\s*([^\s)]+)\s*)?\)$", re.IGNORECASE)
IEXPR = re.compile(r"^(-?)\s*i\(\s*([^\s)]+)\s*\)$", re.IGNORECASE)


def parse_measurement(expr: str, label: str | None) -> Measurement:
    expr = expr.strip()
    if m := VEXPR.match(expr):
        return Measurement(expr, label, "v", (m.group(2), m.group(3) or "0"), None, -1.0 if m.group(1) else 1.0)
    if m := IEXPR.match(expr):
        return Measurement(expr, label, "i", ("0", "0"), m.group(2), -1.0 if m.group(1) else 1.0)
    raise ValueError(f"cannot measure {expr!r} (use v(a), v(a, b), -v(a) or i(Vname))")


def parse_netlist(text: str, path: str | None = None, *, title: bool = False) -> Netlist:
    """Read SPICE text; a malformed line is a DataError naming the file, the line and the token.

    ``title=True`` reads a deck as SPICE does: its first line is the title, whatever it says (a title
    ``Lab 2 0 1`` is not an element). ``title=False`` is for netlists without one, as MAPS's models
    write them (the original prepends a title before simulating); ``.title`` works in both. A netlist
    with no element (empty, comments only) is a DataError.
    """
    net = Netlist(path=path)
    in_control = False
    names: set[str] = set()
    if needs_front_end(text):  # includes, parameters, subcircuits
        try:
            origin = expand(text, path, title=title)
        except OSError as exc:
            raise DataError(f"cannot read an included file ({exc})", path=path or "<netlist>") from None
        except UnsupportedFeature as exc:  # its message already names file and line
            raise Unsupported(str(exc)) from None
        except ValueError as exc:
            raise DataError(str(exc)) from None
    else:
        origin = [(raw, path, k) for k, raw in enumerate(join_continuations(text.splitlines()), 1)]
    lines = [raw for raw, _, _ in origin]
    if title and lines:
        first = lines[0].strip()
        net.title = first[6:].strip() if first.lower().startswith(".title") else first
    for index, raw in enumerate(lines, 1):
        if title and index == 1:
            continue
        where, lineno = origin[index - 1][1] or path or "<netlist>", origin[index - 1][2]
        line = raw.strip()
        if not line or line.startswith("*"):
            continue
        lower = line.lower()
        try:
            if lower.startswith(".title"):
                net.title = line[6:].strip()
            elif lower == ".control":
                in_control = True
            elif lower == ".endc":
                in_control = False
            elif lower == ".end":
                break
            elif in_control or lower.startswith("."):
                _parse_command(net, line.lstrip("."), lineno, in_control)
            else:
                body = strip_inline_comment(line)
                if not body:  # only an inline comment (; or $ ...)
                    continue
                el = _parse_element(body, lineno)
                if el.name.lower() in names:
                    raise ValueError(f"duplicate element name {el.name!r}")
                names.add(el.name.lower())
                net.elements.append(el)
        except UnsupportedFeature as exc:
            raise Unsupported(str(exc), path=where, line=lineno) from None
        except ValueError as exc:
            raise DataError(str(exc), path=where, line=lineno) from None
    if not net.elements:
        raise DataError("no circuit elements (the netlist is empty or only comments"
                        + (", after its title line)" if title else ")"), path=path or "<netlist>")
    _check_references(net, path)
    return net


def looks_like_element(line: str) -> bool:
    """Whether a line would parse as an element (used to warn when a title line looks like one)."""
    try:
        _parse_element(line.strip(), 1)
    except (ValueError, IndexError):
        return False
    return bool(line.strip()) and line.strip()[0].upper() in KINDS


def _parse_command(net: Netlist, line: str, lineno: int, in_control: bool) -> None:
    words = line.split()
    if not words:
        raise ValueError("a dot with no command after it")
    head = words[0].lower()
    if head == "print":
        m = PRINT.match(line)
        body = m.group(1) if m else ""
        body = re.sub(r"^(?:tran|ac|dc|op|noise)\s+", "", body, flags=re.IGNORECASE)  # .print tran v(2)
        label = (m.group(2) or "").strip() or None if m else None
        if body.lower() == "allv" or body.lower() == "all":
            return
        exprs = _split_print(body)
        for expr in exprs:
            try:
                net.measurements.append(parse_measurement(expr, label if len(exprs) == 1 else None))
            except ValueError as exc:  # an expression of vectors: ngspice's to evaluate
                raise UnsupportedFeature(f"{exc}; --backend auto hands such decks to ngspice") from None
    elif head == "op":
        net.analyses.append(Analysis("op"))
    elif head == "ac":
        if len(words) != 5 or words[1].lower() not in ("dec", "oct", "lin"):
            raise ValueError("ac needs: ac dec|oct|lin POINTS FSTART FSTOP")
        ac = (words[1].lower(), int(words[2]), parse_value(words[3]), parse_value(words[4]))
        if not (ac[1] > 0 and 0 < ac[2] <= ac[3] < math.inf):
            raise ValueError(f"ac needs POINTS > 0 and 0 < FSTART <= FSTOP (got {' '.join(words[1:])})")
        net.analyses.append(Analysis("ac", ac))
    elif head == "tran":
        uic = words[-1].lower() == "uic"
        nums = [parse_value(w) for w in words[1:len(words) - uic]]
        if len(nums) < 2:
            raise ValueError("tran needs: tran TSTEP TSTOP [TSTART [TMAX]] [uic]")
        tstart = nums[2] if len(nums) > 2 else 0.0
        tmax = nums[3] if len(nums) > 3 else nums[0]
        if not (0 < nums[0] < math.inf and 0 < nums[1] < math.inf and 0 <= tstart < nums[1] and tmax > 0):
            raise ValueError(f"tran needs 0 < TSTEP, 0 <= TSTART < TSTOP and TMAX > 0 (got {' '.join(words[1:])})")
        net.analyses.append(Analysis("tran", (nums[0], nums[1], tstart, tmax, uic)))
    elif head == "dc":  # dc SRC START STOP STEP [SRC2 START2 STOP2 STEP2]
        if len(words) not in (5, 9):
            raise ValueError("dc needs: dc SOURCE START STOP STEP [SOURCE2 START2 STOP2 STEP2]")
        net.analyses.append(Analysis("dc", tuple(w if k % 4 == 1 else parse_value(w) for k, w in enumerate(words)
                                                 if k)))
    elif head in ("options", "option", "temp", "global", "run", "quit", "exit", "set", "echo", "plot", "write",
                  "let", "wrdata", "display", "show", "setplot"):
        return  # harmless to a DC/AC/transient solve
    else:
        raise UnsupportedFeature(f"unsupported command '{words[0]}' (--backend auto runs such decks on ngspice when "
                                 "it is installed)")


PRINT_TOKEN = re.compile(r"(?:[^\s(]|\([^)]*\))+")  # whitespace splits, except inside parentheses


def _split_print(body: str) -> list[str]:
    """``v(1) i(VI3)`` -> two expressions; commas and spaces inside parentheses stay."""
    merged: list[str] = []
    for tok in PRINT_TOKEN.findall(body):  # "-" "v(1)" -> "-v(1)"
        if merged and merged[-1] == "-":
            merged[-1] += tok
        else:
            merged.append(tok)
    return merged


WAVE = re.compile(r"(pulse|sin|pwl)\s*\(([^)]*)\)", re.IGNORECASE)
BARE_WAVE = re.compile(r"\b(pulse|sin|pwl)\s+((?:[-+.\w]+\s*)+)$", re.IGNORECASE)  # PULSE 0 1 1u ... (no parentheses)
GROUND = {"0", "gnd"}  # ngspice treats a node named gnd as ground


def _node(name: str) -> str:
    return "0" if name.lower() in GROUND else name


def _parse_element(line: str, lineno: int) -> Element:
    waves = WAVE.findall(line) if "(" in line else []
    body = WAVE.sub(" ", line) if waves else line
    head = re.match(r"\s*\S+\s+\S+\s+\S+", line)  # name and two nodes: a node may be called "sin"
    if not waves and line[:1].upper() in "VI" and head and (bare := BARE_WAVE.search(line, head.end())):
        waves, body = [(bare.group(1), bare.group(2))], line[:bare.start()]
    words = re.sub(r"\b(dc|ac)\s*=\s*", r"\1 ", body, flags=re.IGNORECASE).replace("=", " = ").split()
    name = words[0]
    kind = name[0].upper()
    if kind not in KINDS:
        raise UnsupportedFeature(f"unknown element type '{name[0]}' in {name!r} (the own simulator reads "
                                 f"{', '.join(KINDS)}; --backend auto runs such decks on ngspice when it is installed)")
    if len(words) < 4 and not (kind in "VI" and waves and len(words) == 3):
        raise ValueError(f"{name}: expected at least 2 nodes and a value")
    nodes = (_node(words[1]), _node(words[2]))

    def value_of(token: str) -> float | None:
        return None if token == EMPTY else parse_value(token)

    if kind in "EG":
        if len(words) < 6:
            raise ValueError(f"{name}: expected n+ n- nc+ nc- gain")
        return Element(name, kind, nodes, value_of(words[5]), control_nodes=(_node(words[3]), _node(words[4])),
                       line=lineno)
    if kind in "FH":
        if len(words) < 5:
            raise ValueError(f"{name}: expected n+ n- Vcontrol gain")
        return Element(name, kind, nodes, value_of(words[4]), control_source=words[3], line=lineno)
    rest = words[3:]
    value: float | None = 0.0 if kind in "VI" else None
    ac, initial, seen_value = None, None, False
    k = 0
    while k < len(rest):
        word = rest[k].lower()
        if word == "dc" and k + 1 < len(rest):
            value, seen_value, k = value_of(rest[k + 1]), True, k + 2
        elif word == "ac":
            mag = parse_value(rest[k + 1]) if k + 1 < len(rest) else 1.0
            phase = parse_value(rest[k + 2]) if k + 2 < len(rest) and NUMBER.match(rest[k + 2]) else 0.0
            ac, k = (mag, phase), k + 2 + (k + 2 < len(rest) and bool(NUMBER.match(rest[k + 2])))
        elif word == "ic" and k + 2 < len(rest) and rest[k + 1] == "=":
            initial, k = parse_value(rest[k + 2]), k + 3
        elif not seen_value:
            value, seen_value, k = value_of(rest[k]), True, k + 1
        else:
            raise ValueError(f"{name}: unexpected token {rest[k]!r}")
    if kind in "RCL" and not seen_value:
        raise ValueError(f"{name}: missing value")
    waveform = None
    if waves:
        if kind not in "VI":
            raise ValueError(f"{name}: only V and I sources take {waves[0][0].upper()}(...)")
        params = tuple(parse_value(p) for p in waves[0][1].replace(",", " ").split())
        waveform = Waveform(waves[0][0].lower(), params)
        if not seen_value:
            value = _waveform_at(waveform, 0.0)
    if kind == "R" and value is not None and value == 0:
        raise ValueError(f"{name}: zero resistance (use a 0 V source for a short)")
    return Element(name, kind, nodes, value, ac=ac, waveform=waveform, initial=initial, line=lineno)


def _waveform_at(w: Waveform, t: float) -> float:
    return waveform_value(w, t, 0.0)


def _check_references(net: Netlist, path: str | None) -> None:
    vsources = {el.name.lower() for el in net.elements if el.kind == "V"}
    for el in net.elements:
        if el.kind in "FH" and el.control_source and el.control_source.lower() not in vsources:
            raise DataError(f"{el.name} is controlled by the current of {el.control_source!r}, which is not a V source",
                            path=path or "<netlist>", line=el.line, field=el.name)
    names = {e.name.lower() for e in net.elements}
    for ms in net.measurements:
        if ms.kind == "i" and ms.source and ms.source.lower() not in names:
            raise DataError(f"i({ms.source}) measures an element that does not exist", path=path or "<netlist>",
                            field=ms.expr)
