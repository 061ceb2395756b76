"""SPICE numbers: scale factors (``4.7k``, ``2MEG``, ``10uF``), RKM spellings (``4K7``, ``2m5``, ``1R5``), and
the shortest spelling that reads back to a value."""

from __future__ import annotations

import re

SUFFIXES = {"f": 1e-15, "p": 1e-12, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "meg": 1e6, "g": 1e9, "t": 1e12}
NUMBER = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(meg|[fpnumkgt])?([a-zA-Z]*)$", re.IGNORECASE)
RKM = re.compile(r"^([+-]?\d+)(meg|[fpnumkgtr])(\d+)([a-zA-Z]*)$", re.IGNORECASE)


def parse_value(text: str) -> float:
    """SPICE number: ``4.7k`` -> 4700.0, ``85m`` -> 0.085, ``2MEG`` -> 2e6, ``10uF`` -> 1e-5; RKM (IEC 60062)
    spellings with the multiplier as the decimal point: ``4K7`` -> 4700.0, ``2m5`` -> 0.0025, ``1R5`` -> 1.5."""
    if text[-1:].isdigit():  # plain numbers without the regular expression
        try:
            return float(text)
        except ValueError:
            pass
    match = NUMBER.match(text.strip())
    if not match and (rkm := RKM.match(text.strip())):
        whole, mult, frac, _unit = rkm.groups()
        return float(f"{whole}.{frac}") * (1.0 if mult.lower() == "r" else SUFFIXES[mult.lower()])
    if not match:
        raise ValueError(f"{text!r} is not a SPICE number")
    number, suffix, _unit = match.groups()
    return float(number) * (SUFFIXES[suffix.lower()] if suffix else 1.0)


def format_value(value: float) -> str:
    """Shortest SPICE spelling that parses back to ``value`` (no prefix on large/small exponents)."""
    if value == 0:
        return "0"
    for suffix, scale in (("meg", 1e6), ("k", 1e3), ("", 1.0), ("m", 1e-3), ("u", 1e-6), ("n", 1e-9), ("p", 1e-12)):
        scaled = value / scale
        if 1 <= abs(scaled) < 1000:
            text = f"{scaled:.12g}{suffix}"
            if parse_value(text) == value:
                return text
    return repr(float(value))
