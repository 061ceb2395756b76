"""Optional cross-check backend: Debian's ngspice command-line program in batch mode.

Each call writes its netlist into its own temporary folder (so calls can run in parallel), runs
``ngspice -b`` with a timeout, and reads ``name = value`` lines. Operating point only.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from labkit.core.errors import LabkitError
from labkit.maps.circuit import Netlist
from labkit.maps.mna import Simulation

LINE = re.compile(r"^\s*([^=\s][^=]*?)\s*=\s*([-+0-9.eE]+)\s*$")


def available() -> bool:
    return shutil.which("ngspice") is not None


def run_ngspice(net: Netlist, timeout: float = 5.0, analysis: str = "op") -> Simulation:
    """ngspice's answer; measurement keys as in ``Netlist.measurement_keys``. ``op`` reads printed values;
    ``ac``/``tran`` read ``wrdata`` columns (ngspice picks its own transient time points)."""
    if not available():
        raise LabkitError("ngspice is not installed (Debian: apt-get install ngspice; `make setup` tries this)")
    if net.symbolic:
        return Simulation("symbolic", f"symbolic values for {', '.join(net.symbolic)}")
    if analysis != "op":
        return _sweep(net, analysis, timeout)
    text = net.to_spice().replace(".endc", "print allv\n.endc")
    with tempfile.TemporaryDirectory(prefix="labkit-ngspice-") as tmp:
        path = Path(tmp) / "circuit.cir"
        path.write_text(text)
        try:
            out = subprocess.run(["ngspice", "-b", str(path)], capture_output=True, text=True, timeout=timeout,
                                 cwd=tmp)
        except subprocess.TimeoutExpired:
            return Simulation("failed", f"ngspice timed out after {timeout:g} s")
    values: dict[str, float] = {}
    for line in out.stdout.splitlines():
        m = LINE.match(line)
        if m:
            values[m.group(1).replace(" ", "").lower()] = float(m.group(2))
    if not values:  # ngspice -b exits 1 even after a good run (no .print lines): judge by the output
        err = (out.stderr or out.stdout).strip().splitlines()
        return Simulation("failed", f"ngspice: {err[-1] if err else 'no output'}")
    meas = {}
    for key, ms in zip(net.measurement_keys(), net.measurements, strict=True):
        found = values.get(ms.expr.replace(" ", "").lower())
        if found is None:
            return Simulation("failed", f"ngspice printed no value for {ms.expr}")
        meas[key] = found
    volts = {n: values.get(f"v({n.lower()})", values.get(n.lower(), 0.0)) for n in net.nodes}
    return Simulation("ok", "ngspice (gmin regularised: it prints numbers even for singular circuits)", None, "op",
                      meas, volts, {})


def _sweep(net: Netlist, analysis: str, timeout: float) -> Simulation:
    from labkit.maps.circuit import _analysis_line

    spec = next((an for an in net.analyses if an.kind == analysis), None)
    if spec is None:
        raise LabkitError(f"the netlist has no .{analysis} line")
    body = net.to_spice().split("\n.control")[0]
    exprs = [ms.expr for ms in net.measurements]
    with tempfile.TemporaryDirectory(prefix="labkit-ngspice-") as tmp:
        out_file = Path(tmp) / "out.txt"
        text = (f"{body}\n.control\n{_analysis_line(spec)}\nwrdata {out_file} {' '.join(exprs)}\n.endc\n.end\n")
        path = Path(tmp) / "circuit.cir"
        path.write_text(text)
        try:
            subprocess.run(["ngspice", "-b", str(path)], capture_output=True, text=True, timeout=timeout, cwd=tmp)
        except subprocess.TimeoutExpired:
            return Simulation("failed", f"ngspice timed out after {timeout:g} s", analysis=analysis)
        if not out_file.exists():
            return Simulation("failed", "ngspice wrote no data", analysis=analysis)
        data = np.loadtxt(out_file, ndmin=2)
    width = 3 if analysis == "ac" else 2
    axis = data[:, 0].tolist()
    meas = {}
    for k, key in enumerate(net.measurement_keys()):
        cols = data[:, k * width:(k + 1) * width]
        meas[key] = (cols[:, 1] + 1j * cols[:, 2]).tolist() if analysis == "ac" else cols[:, 1].tolist()
    return Simulation("ok", "ngspice", None, analysis, meas, {}, {}, axis)


ANALYSES = ("op", "tran", "ac", "dc")


def _deck_for_ngspice(text: str, out: str) -> tuple[str, str, list[str]]:
    """The deck as written, its own .control blocks replaced by one that runs its analysis and writes every
    vector (``wrdata``); returns (deck, analysis, the print expressions of its control blocks, for
    measurements)."""
    lines = text.splitlines()
    body, prints, in_ctl, card, command = [lines[0] if lines else ""], [], False, None, None
    for raw in lines[1:]:
        low = raw.strip().lower()
        words = low.split()
        if low.startswith(".control"):
            in_ctl = True
        elif low.startswith(".endc"):
            in_ctl = False
        elif in_ctl:
            if words and words[0] in ANALYSES and command is None:
                command = raw.strip()
            elif words and words[0] == "print":
                prints.append(raw.strip())
        elif words[:1] == [".end"]:
            break
        else:
            if words and words[0].lstrip(".") in ANALYSES and words[0].startswith(".") and card is None:
                card = words[0].lstrip(".")
            body.append(raw)
    analysis = card or (command.split()[0].lower() if command else "op")
    run = "run" if card else (command or "op")
    control = [".control", "set wr_vecnames", "set wr_singlescale", run, f"wrdata {out} all", ".endc", ".end"]
    return "\n".join(body + control) + "\n", analysis, prints


def _vectors(path: Path, analysis: str) -> dict[str, Any]:
    """Vector name (lower case) -> values from a ``wrdata`` file with a header; complex AC vectors come as
    (re, im) column pairs; the scale columns (time, frequency; for op a copy of the first vector) are set
    aside."""
    import numpy as np

    header = path.read_text().splitlines()[0].split()
    data = np.loadtxt(path, skiprows=1, ndmin=2)
    names, cols = [n.lower() for n in header], list(data.T)
    out: dict[str, Any] = {"_scale": cols[0]}
    k = 1
    while k < len(names):
        name = names[k]
        pair = analysis == "ac" and k + 1 < len(names) and names[k + 1] == name
        if name not in ("time", "frequency"):
            out[name] = cols[k] + 1j * cols[k + 1] if pair else cols[k]
        k += 2 if pair else 1
    return out


def run_deck(path: Path, timeout: float = 120.0) -> Simulation:
    """A deck exactly as written (``.include`` / ``.lib`` relative to it, ``.subckt``, ``.param``, ``.model``,
    nonlinear devices, ...) on ngspice, read back in labkit's result format: node voltages, branch currents and
    the deck's own ``print`` expressions (``v(a)``, ``v(a, b)``, ``i(Vx)``) as measurements."""
    from labkit.maps.netlist import PRINT, _split_print, parse_measurement

    if not available():
        raise LabkitError("ngspice is not installed (Debian: apt-get install ngspice; `make setup` tries this)")
    path = Path(path).resolve()
    out = Path(tempfile.mkdtemp(prefix="labkit-ngspice-")) / "out.txt"
    deck, analysis, prints = _deck_for_ngspice(path.read_text(errors="replace"), str(out))
    copy = path.with_name(f".labkit-{path.stem}-{os.getpid()}.cir")  # beside the deck: its relative includes hold
    try:
        copy.write_text(deck)
        proc = subprocess.run(["ngspice", "-b", copy.name], capture_output=True, text=True, timeout=timeout,
                              cwd=path.parent)
    except subprocess.TimeoutExpired:
        return Simulation("failed", f"ngspice timed out after {timeout:g} s", analysis=analysis)
    finally:
        copy.unlink(missing_ok=True)
    if not out.exists():
        err = [line for line in (proc.stderr + proc.stdout).splitlines() if "rror" in line] or ["no data written"]
        shutil.rmtree(out.parent, ignore_errors=True)
        return Simulation("failed", f"ngspice: {err[0].strip()}", analysis=analysis)
    vectors = _vectors(out, analysis)
    shutil.rmtree(out.parent, ignore_errors=True)
    scalar = analysis == "op"

    def value(v: Any) -> Any:
        return float(v[0]) if scalar else (v.tolist() if analysis == "ac" else v)

    volts = {n[2:-1]: value(v) for n, v in vectors.items() if n.startswith("v(") and n.endswith(")")}
    volts.update({n: value(v) for n, v in vectors.items() if "." in n and "#" not in n})  # subcircuit nodes
    currents = {n.split("#")[0]: value(v) for n, v in vectors.items() if n.endswith("#branch")}
    meas: dict[str, Any] = {}
    unread: list[str] = []  # print expressions that are not v()/i() of a written vector: counted, shown
    for line in prints:
        m = PRINT.match(line)
        label = ((m.group(2) or "").strip() or None) if m else None
        for expr in _split_print(m.group(1) if m else ""):
            try:
                ms = parse_measurement(expr, label)
            except ValueError:
                unread.append(expr)
                continue
            if ms.kind == "v":
                a, b = (volts.get(n.lower(), 0.0) if n != "0" else 0.0 for n in ms.nodes)
                got = (a - b) if scalar else np.asarray(a) - np.asarray(b)
            else:
                got = currents.get((ms.source or "").lower())
                if got is None:
                    unread.append(expr)
                    continue
            meas[label or expr] = got * ms.sign if scalar else np.asarray(got) * ms.sign
    axis = None if scalar else (vectors["_scale"].tolist() if analysis == "ac" else vectors["_scale"])
    detail = "ngspice" + (f"; {len(unread)} print expression(s) not read as measurements, the first {unread[0]!r}"
                          if unread else "")
    return Simulation("ok", detail, None, analysis, meas, volts, currents, axis)
