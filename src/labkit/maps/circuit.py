"""The circuit IR every maps module shares: elements, measurements, analyses, the netlist (and its SPICE text,
``Netlist.to_spice``), and the errors for SPICE the own simulator does not read. ``netlist`` reads SPICE into
it; ``simulate`` solves it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from labkit.core.errors import DataError
from labkit.maps.values import format_value


class UnsupportedFeature(ValueError):
    """SPICE the own simulator does not read (a device, a command): ``--backend auto`` hands the deck to ngspice."""


class Unsupported(DataError):
    """A deck using SPICE the own simulator does not read; the message names the feature and the line."""


KINDS = "RCLVIEGFH"
EMPTY = "<Empty>"


@dataclass(frozen=True)
class Waveform:
    """Time function of an independent source for transient analysis."""

    kind: str  # pulse | sin | pwl
    params: tuple[float, ...]


@dataclass(frozen=True)
class Element:
    name: str
    kind: str  # one of KINDS
    nodes: tuple[str, str]  # (n+, n-)
    value: float | None  # None while symbolic (<Empty>)
    control_nodes: tuple[str, str] | None = None  # E, G
    control_source: str | None = None  # F, H: name of the controlling V source
    ac: tuple[float, float] | None = None  # V, I: (magnitude, phase in degrees)
    waveform: Waveform | None = None  # V, I in transient
    initial: float | None = None  # C: v(0); L: i(0) (with uic)
    line: int = 0


@dataclass(frozen=True)
class Measurement:
    """``print EXPR ; measurement of LABEL``: v(a[, b]) with optional leading minus, or i(Vsource)."""

    expr: str
    label: str | None
    kind: str  # v | i
    nodes: tuple[str, str] = ("0", "0")  # for v: (a, b), b = "0" for v(a)
    source: str | None = None  # for i
    sign: float = 1.0


@dataclass(frozen=True)
class Analysis:
    kind: str  # op | ac | tran
    params: tuple[object, ...] = ()  # ac: (sweep, points, fstart, fstop); tran: (tstep, tstop, tstart, tmax, uic)


@dataclass
class Netlist:
    title: str = ""
    elements: list[Element] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    analyses: list[Analysis] = field(default_factory=list)
    path: str | None = None

    @property
    def nodes(self) -> list[str]:
        """Non-ground nodes in order of first appearance."""
        seen: dict[str, None] = {}
        for el in self.elements:
            for node in el.nodes + (el.control_nodes or ()):
                if node != "0":
                    seen.setdefault(node, None)
        return list(seen)

    def measurement_keys(self) -> list[str]:
        """One key per measurement: its label, or ``label [expr]`` when labels repeat (upstream defect)."""
        labels = [ms.label for ms in self.measurements]
        return [ms.label if ms.label and labels.count(ms.label) == 1 else
                (f"{ms.label} [{ms.expr}]" if ms.label else ms.expr) for ms in self.measurements]

    @property
    def symbolic(self) -> list[str]:
        return [el.name for el in self.elements if el.value is None]

    def element(self, name: str) -> Element | None:
        lowered = name.lower()
        return next((el for el in self.elements if el.name.lower() == lowered), None)

    def with_values(self, values: dict[str, float]) -> Netlist:
        """A copy with symbolic (or any named) element values set."""
        lowered = {k.lower(): v for k, v in values.items()}
        elements = [replace(el, value=float(lowered[el.name.lower()])) if el.name.lower() in lowered else el
                    for el in self.elements]
        return replace(self, elements=elements)

    def to_spice(self) -> str:
        """SPICE text in MAPS's layout (elements, then a .control block with op and labelled prints)."""
        lines = [f".title {self.title or 'labkit circuit'}"]
        for el in self.elements:
            lines.append(_element_line(el))
        lines += ["", ".control"]
        for an in self.analyses or [Analysis("op")]:
            lines.append(_analysis_line(an))
        for ms in self.measurements:
            lines.append(f"print {ms.expr}" + (f" ; measurement of {ms.label}" if ms.label else ""))
        lines += [".endc", ".end", ""]
        return "\n".join(lines)


def _element_line(el: Element) -> str:
    value = EMPTY if el.value is None else format_value(el.value)
    head = f"{el.name} {el.nodes[0]} {el.nodes[1]}"
    if el.kind in "EG":
        return f"{head} {el.control_nodes[0]} {el.control_nodes[1]} {value}"  # type: ignore[index]
    if el.kind in "FH":
        return f"{head} {el.control_source} {value}"
    parts = [head, value if el.kind not in "VI" else f"DC {value}"]
    if el.ac:
        parts.append(f"AC {format_value(el.ac[0])} {el.ac[1]:g}")
    if el.waveform:
        parts.append(f"{el.waveform.kind.upper()}({' '.join(format_value(p) for p in el.waveform.params)})")
    if el.initial is not None:
        parts.append(f"IC={format_value(el.initial)}")
    return " ".join(parts)


def _analysis_line(an: Analysis) -> str:
    if an.kind == "op":
        return "op"
    if an.kind == "ac":
        sweep, points, f1, f2 = an.params
        return f"ac {sweep} {points} {format_value(f1)} {format_value(f2)}"  # type: ignore[arg-type]
    if an.kind == "dc":
        return "dc " + " ".join(str(p) if k % 4 == 0 else format_value(p) for k, p in enumerate(an.params))  # type: ignore[arg-type]
    tstep, tstop, tstart, tmax, uic = an.params
    return f"tran {format_value(tstep)} {format_value(tstop)} {format_value(tstart)}" + (" uic" if uic else "")  # type: ignore[arg-type]
