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


def run_ngspice(net: Netlist, timeout: float = 5.0) -> Simulation:
    """Operating point by ngspice; measurement keys as in ``Netlist.measurement_keys``."""
    if not available():
        raise LabkitError("ngspice is not installed (Debian: apt-get install ngspice; `make setup` tries this)")
    if net.symbolic:
        return Simulation("symbolic", f"symbolic values for {', '.join(net.symbolic)}")
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
