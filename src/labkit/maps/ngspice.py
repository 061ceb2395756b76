"""Optional cross-check backend: Debian's ngspice command-line program in batch mode.

Each call writes its netlist into its own temporary folder (so calls can run in parallel), runs
``ngspice -b`` with a timeout, and reads ``name = value`` lines. Operating point only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from labkit.core.errors import LabkitError
from labkit.maps.netlist import Netlist
from labkit.maps.simulate import Simulation

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
    import numpy as np

    from labkit.maps.netlist import _analysis_line

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
