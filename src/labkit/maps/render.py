"""Circuit diagrams with schemdraw (IEC resistors, diamond controlled sources), PNG and SVG.

Polarity matches the netlist: schemdraw puts a voltage source's + at its end point and points a
current source's arrow to its end point, so voltage-type elements are drawn from n- to n+ and
current-type elements from n+ to n-. A measured current is an arrow beside its element in the
netlist's direction (n+ -> n-); a measured voltage is marked + U_k - across it.
"""

from __future__ import annotations

from pathlib import Path

from labkit.core.errors import require
from labkit.maps.generate import Circuit

VOLTAGE_TYPES = "VEH"


def _element(elm, kind: str):  # noqa: ANN001, ANN202 - schemdraw classes
    return {"R": elm.ResistorIEC, "V": elm.SourceV, "I": elm.SourceI, "E": elm.SourceControlledV,
            "H": elm.SourceControlledV, "G": elm.SourceControlledI, "F": elm.SourceControlledI,
            "C": elm.Capacitor, "L": elm.Inductor2}[kind]


def draw(circuit: Circuit):  # noqa: ANN201 - schemdraw.Drawing
    require("schemdraw", "maps")
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "none"  # labels stay text in the SVG (searchable, checkable)
    import schemdraw
    import schemdraw.elements as elm

    schemdraw.use("matplotlib")
    d = schemdraw.Drawing(show=False, fontsize=11)
    pos = circuit.positions
    degree: dict[tuple[int, int], int] = {}
    for e in circuit.edges:
        if e.kind == "open":
            continue
        for p in (e.a, e.b):
            degree[p] = degree.get(p, 0) + 1
        if e.kind == "short":
            d.add(elm.Line().endpoints(pos[e.a], pos[e.b]))
            continue
        plus_first = not e.flipped  # netlist: n+ is grid point a unless flipped
        plus, minus = (e.a, e.b) if plus_first else (e.b, e.a)
        start, end = (minus, plus) if e.kind in VOLTAGE_TYPES else (plus, minus)
        part = _element(elm, e.kind)().endpoints(pos[start], pos[end])
        symbol = f"${e.name[0]}_{{\\mathrm{{{e.name[1:]}}}}}$" + (f"·{e.control}" if e.control else "")
        part.label(symbol if circuit.symbolic else e.text(False), loc="top", fontsize=9)
        d.add(part)
        if e.measure == "v":
            marks = ("−", e.label, "+") if start == minus else ("+", e.label, "−")
            part.label(marks, loc="bottom", fontsize=9)
        elif e.measure == "i":
            d.add(elm.CurrentLabel(top=True, reverse=start != plus, length=1.0).at(part).label(e.label, fontsize=9))
    for p, k in degree.items():
        if k >= 3:
            d.add(elm.Dot().at(pos[p]))
    ground = (circuit.rows - 1, 0)
    if ground in degree:
        d.add(elm.Ground().at(pos[ground]))
    return d


def render(circuit: Circuit, folder: Path, stem: str | None = None, formats: tuple[str, ...] = ("png", "svg"),
           dpi: int = 72) -> dict[str, str]:
    """Write the diagram; returns format -> file name (relative to ``folder``)."""
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    stem = stem or circuit.id
    d = draw(circuit)
    out = {}
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        d.save(str(path), dpi=dpi) if fmt == "png" else d.save(str(path))
        out[fmt] = path.name
    plt.close("all")
    return out
