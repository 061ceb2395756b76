"""Random grid circuits: MAPS's v11 distribution with its defects fixed (arXiv:2501.10768; README, MAPS).

v11: an m x n grid of points (m, n in 2..6; see ROW_WEIGHTS), every edge drawn as short 10,
V 5, I 5, R 20, open 5 (never on the outer ring), VCCS/VCVS/CCCS/CCVS 2 each (C/L 0, optional here);
values randint(1, 99) with prefix none/k/m at 10:4:2; direction flipped with p = 0.5; a measurement
none/voltage/current at 10:1:1; controlled sources take their control from an existing measurement;
20% of figures show symbols instead of values. Nodes are the connected components of the shorts.

Fixed here: one ``random.Random(seed)`` per circuit (reproducible in any worker), unique element
names and measurement labels, gains without unit prefixes, the same labels in figure and netlist,
and only circuits that are non-empty, have no dangling or shorted element, simulate ``ok`` with a
condition number below ``max_condition``, and have a non-zero measured value (rejected draws are
resampled from the same stream, and counted).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from labkit.maps.answers import format_quantity
from labkit.maps.netlist import Analysis, Element, Measurement, Netlist, format_value
from labkit.maps.simulate import simulate

GRID_SIZES = (2, 3, 4, 5, 6)
# The published 3:6:6:2:1 does not reproduce v11's own statistics (7.7 nodes, 10.8 branches): it gives
# ~8.8 / ~13.4. These are the grid sizes counted in the 192 shipped v11 circuits (LaTeX coordinates).
ROW_WEIGHTS, COL_WEIGHTS = (59, 78, 37, 14, 4), (43, 74, 55, 15, 5)
EDGE_TYPES = {"short": 10, "V": 5, "I": 5, "R": 20, "C": 0, "L": 0, "open": 5, "G": 2, "E": 2, "F": 2, "H": 2}
REACTIVE_WEIGHT = 4  # C and L each, when reactive circuits are asked for
PREFIXES, PREFIX_WEIGHTS = ("", "k", "m"), (10, 4, 2)
SCALE = {"": 1.0, "k": 1e3, "m": 1e-3, "u": 1e-6}
UNIT = {"R": "Ω", "V": "V", "I": "A", "C": "F", "L": "H"}
GAIN_UNIT = {"E": "", "G": "S", "F": "", "H": "Ω"}


@dataclass
class Edge:
    a: tuple[int, int]  # grid points (row, col)
    b: tuple[int, int]
    kind: str  # short, open or an element letter
    mantissa: int = 0
    prefix: str = ""
    flipped: bool = False
    measure: str | None = None  # "v" or "i"
    label: str | None = None  # U3 / I1
    name: str = ""
    control: str | None = None  # label of the controlling measurement
    plus: str = ""  # netlist nodes, set by build_netlist: n+, n-, and the element's own end (a mid node
    minus: str = ""  # when a 0 V ammeter sits in series)
    end: str = ""

    @property
    def value(self) -> float:
        return self.mantissa * SCALE[self.prefix]

    def text(self, symbolic: bool) -> str:
        """What the figure shows next to the element: ``R3 47 kΩ`` or ``R_3``; gains carry no prefix."""
        if symbolic:
            return f"{self.name[0]}_{self.name[1:]}"
        if self.kind in GAIN_UNIT:
            ctrl = f"·{self.control}"
            return f"{self.name} {self.mantissa}{GAIN_UNIT[self.kind]}{ctrl}"
        return f"{self.name} {self.mantissa} {self.prefix}{UNIT[self.kind]}".replace("  ", " ")


@dataclass
class Circuit:
    id: str
    seed: int
    rows: int
    cols: int
    positions: dict[tuple[int, int], tuple[float, float]]
    edges: list[Edge]
    node_of: dict[tuple[int, int], str]
    symbolic: bool
    netlist: Netlist
    questions: list[dict[str, Any]] = field(default_factory=list)
    rejected: int = 0
    analysis: str = "op"

    def stat(self) -> dict[str, int]:
        kinds = [e.kind for e in self.edges]
        return {"num_nodes": len(set(self.node_of.values())), "num_branches": sum(k not in ("short", "open")
                                                                                  for k in kinds),
                "num_resistors": kinds.count("R"), "num_capacitors": kinds.count("C"),
                "num_inductors": kinds.count("L"), "num_voltage_sources": kinds.count("V"),
                "num_current_sources": kinds.count("I"), "num_controlled_sources": sum(k in "EGFH" for k in kinds),
                "num_shorts": kinds.count("short"),
                "num_voltage_measurements": sum(e.measure == "v" for e in self.edges),
                "num_current_measurements": sum(e.measure == "i" for e in self.edges)}


def draw_layout(rng: random.Random, reactive: bool) -> tuple[int, int, dict, list[Edge]]:
    """Grid size, jittered positions and edge types/values/measurements (the v11 draw)."""
    rows, cols = rng.choices(GRID_SIZES, ROW_WEIGHTS)[0], rng.choices(GRID_SIZES, COL_WEIGHTS)[0]
    positions = {(r, c): (c * 3 + rng.uniform(-0.5, 0.5) * (0 < c < cols - 1),
                          -(r * 3 + rng.uniform(-0.5, 0.5) * (0 < r < rows - 1)))
                 for r in range(rows) for c in range(cols)}
    weights = dict(EDGE_TYPES)
    if reactive:
        weights["C"] = weights["L"] = REACTIVE_WEIGHT
    edges = []
    for r in range(rows):
        for c in range(cols):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr >= rows or c + dc >= cols:
                    continue
                outer = (dr == 0 and r in (0, rows - 1)) or (dc == 0 and c in (0, cols - 1))
                types = [t for t in weights if weights[t] > 0 and not (outer and t == "open")]
                kind = rng.choices(types, [weights[t] for t in types])[0]
                edge = Edge((r, c), (r + dr, c + dc), kind)
                if kind not in ("short", "open"):
                    edge.mantissa = rng.randint(1, 99)
                    edge.prefix = "" if kind in "EGFH" else rng.choices(PREFIXES, PREFIX_WEIGHTS)[0]
                    if kind in "CL":
                        edge.prefix = "m" if kind == "L" else "u"
                    edge.flipped = rng.random() < 0.5
                    edge.measure = rng.choices([None, "v", "i"], [10, 1, 1])[0]
                edges.append(edge)
    return rows, cols, positions, edges


def connect_controls(rng: random.Random, edges: list[Edge]) -> None:
    """Label measurements uniquely, give each controlled source an existing control (else redraw it as a
    plain element, as v11 resampled), then name elements: R1.., VS1.. and IS1.. (distinct from the
    measured U_k / I_k), E1, G1, F1, H1, C1, L1."""
    labels = {"v": list(range(10)), "i": list(range(10))}
    for k in labels:
        rng.shuffle(labels[k])
    used = {"v": 0, "i": 0}
    for e in edges:
        if e.kind not in ("short", "open") and e.measure:
            pool = labels[e.measure]
            number = pool[used[e.measure]] if used[e.measure] < len(pool) else 10 + used[e.measure]
            used[e.measure] += 1
            e.label = f"{'U' if e.measure == 'v' else 'I'}{number}"
    for e in edges:
        if e.kind in ("E", "G", "F", "H"):
            need = "v" if e.kind in "EG" else "i"
            options = [x.label for x in edges if x.measure == need and x is not e]
            if options:
                e.control = rng.choice(options)
            else:
                e.kind = rng.choices(["V", "I", "R"], [5, 5, 20])[0]
                e.prefix = rng.choices(PREFIXES, PREFIX_WEIGHTS)[0]
    counts: dict[str, int] = {}
    for e in edges:
        if e.kind not in ("short", "open"):
            counts[e.kind] = counts.get(e.kind, 0) + 1
            e.name = f"{e.kind}{'S' if e.kind in 'VI' else ''}{counts[e.kind]}"


def merge_nodes(rows: int, cols: int, edges: list[Edge]) -> dict[tuple[int, int], str]:
    """Grid point -> node name: shorts merge points; the component of point (rows-1, 0) is ground."""
    parent = {(r, c): (r, c) for r in range(rows) for c in range(cols)}

    def find(p: tuple[int, int]) -> tuple[int, int]:
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for e in edges:
        if e.kind == "short":
            parent[find(e.a)] = find(e.b)
    used = {p for e in edges if e.kind not in ("short", "open") for p in (e.a, e.b)}
    ground = find((rows - 1, 0))
    names: dict[tuple[int, int], str] = {}
    order = [ground] + sorted({find(p) for p in used} - {ground})
    for k, root in enumerate(order):
        names[root] = str(k)
    return {p: names[find(p)] for p in parent if find(p) in names}


def build_netlist(edges: list[Edge], node_of: dict, symbolic: bool, analysis: str) -> Netlist:
    """SPICE netlist: a current measurement is a 0 V source VI<k> on a mid node in series with its element."""
    net = Netlist(title="labkit grid circuit")
    vi_of: dict[str, str] = {}
    nodes_of_label: dict[str, tuple[str, str]] = {}
    mids: set[str] = set()
    for e in edges:
        if e.kind in ("short", "open"):
            continue
        plus, minus = (node_of[e.b], node_of[e.a]) if e.flipped else (node_of[e.a], node_of[e.b])
        if e.measure == "v":
            nodes_of_label[e.label] = (plus, minus)  # type: ignore[index]
        end = minus
        if e.measure == "i":
            mid = f"N{plus}{minus}"
            while mid in mids:
                mid += "x"
            mids.add(mid)
            vi = f"VI{e.label[1:]}"  # type: ignore[index]
            vi_of[e.label] = vi  # type: ignore[index]
            end = mid
            net.elements.append(Element(vi, "V", (mid, minus), 0.0))
        e.plus, e.minus, e.end = plus, minus, end
    for e in edges:
        if e.kind in ("short", "open"):
            continue
        value = None if symbolic else e.value
        nodes = (e.plus, e.end)
        if e.kind in "EG":
            net.elements.append(Element(e.name, e.kind, nodes, value, control_nodes=nodes_of_label[e.control]))
        elif e.kind in "FH":
            net.elements.append(Element(e.name, e.kind, nodes, value, control_source=vi_of[e.control]))
        else:
            ac = (e.value, 0.0) if analysis == "ac" and e.kind in "VI" else None
            net.elements.append(Element(e.name, e.kind, nodes, value, ac=ac))
    for e in edges:
        if e.measure == "v":
            net.measurements.append(Measurement(f"v({e.plus}, {e.minus})", e.label, "v", (e.plus, e.minus)))
        elif e.measure == "i":
            net.measurements.append(Measurement(f"i({vi_of[e.label]})", e.label, "i", source=vi_of[e.label]))
    net.elements.sort(key=lambda el: (el.name.startswith("VI"), el.name))
    return net


def degree_ok(edges: list[Edge], node_of: dict) -> bool:
    """No dangling element: every node an element touches is touched by at least two branches."""
    degree: dict[str, int] = {}
    for e in edges:
        if e.kind not in ("short", "open"):
            for p in (e.a, e.b):
                degree[node_of[p]] = degree.get(node_of[p], 0) + 1
    return all(d >= 2 for d in degree.values())


def questions_for(circuit: Circuit, values: dict[str, float]) -> list[dict[str, Any]]:
    """One question per measured label; answers from the simulation, in SI units with a prefix."""
    given = ""
    if circuit.symbolic:
        parts = [f"{e.text(True)} = {format_value(e.value)}{UNIT.get(e.kind, GAIN_UNIT.get(e.kind, ''))}"
                 for e in circuit.edges if e.kind not in ("short", "open")]
        given = "Given " + ", ".join(parts) + ". "
    when = {"op": "", "ac": " (amplitude at the sources' frequency)", "tran": ""}[circuit.analysis]
    out = []
    for ms in circuit.netlist.measurements:
        unit = "V" if ms.kind == "v" else "A"
        noun = "voltage" if ms.kind == "v" else "current"
        q = f"{given}In the circuit shown, find the {noun} {ms.label}{when}."
        out.append({"question": q, "answer": {ms.label: format_quantity(values[ms.label], unit)}, "label": ms.label,
                    "value_si": values[ms.label], "unit": unit})
    return out


def generate_circuit(index: int, seed: int = 0, *, reactive: bool = False, max_condition: float = 1e8,
                     symbolic_rate: float = 0.2, max_tries: int = 1000) -> Circuit:
    """The ``index``-th circuit of the stream ``seed``: identical output for identical arguments."""
    rng = random.Random(f"labkit-maps-{seed}-{index}")
    for tries in range(max_tries):
        rows, cols, positions, edges = draw_layout(rng, reactive)
        connect_controls(rng, edges)
        node_of = merge_nodes(rows, cols, edges)
        symbolic = rng.random() < symbolic_rate
        has_reactive = any(e.kind in "CL" for e in edges)
        analysis = rng.choice(["ac", "tran"]) if has_reactive else "op"
        if not _plausible(edges, node_of):
            continue
        net = build_netlist(edges, node_of, False, analysis)
        freq = 10.0 ** rng.randint(1, 4)
        values = _solve(net, analysis, freq, max_condition)
        if values is None:
            continue
        shown = build_netlist(edges, node_of, symbolic, analysis)
        _add_analysis(shown, analysis, freq)
        circuit = Circuit(f"{seed}-{index:06d}", seed, rows, cols, positions, edges, node_of, symbolic, shown,
                          rejected=tries, analysis=analysis)
        circuit.questions = questions_for(circuit, values)
        return circuit
    raise RuntimeError(f"no valid circuit in {max_tries} draws (seed {seed}, index {index})")


def _plausible(edges: list[Edge], node_of: dict) -> bool:
    elements = [e for e in edges if e.kind not in ("short", "open")]
    if not any(e.kind in "VI" for e in elements) or not any(e.measure for e in elements):
        return False
    if any(node_of[e.a] == node_of[e.b] for e in elements):  # element shorted by a wire
        return False
    return degree_ok(edges, node_of)


def _add_analysis(net: Netlist, analysis: str, freq: float) -> None:
    if analysis == "ac":
        net.analyses = [Analysis("ac", ("lin", 1, freq, freq))]
    elif analysis == "tran":
        net.analyses = [Analysis("tran", (1e-5, 1e-2, 1e-2, 1e-5, True))]
    else:
        net.analyses = [Analysis("op")]


def _solve(net: Netlist, analysis: str, freq: float, max_condition: float) -> dict[str, float] | None:
    _add_analysis(net, analysis, freq)
    result = simulate(net, analysis, ill=max_condition)
    if not result.ok:
        return None
    values = {}
    for key, value in result.measurements.items():
        value = value[-1] if isinstance(value, list) or getattr(value, "ndim", 0) else value  # a series: its end
        values[key] = abs(value) if isinstance(value, complex) else float(value)
    if all(abs(v) < 1e-9 for v in values.values()):
        return None
    return values
