"""Physical quantities in answers: ``$-25.0 \\mathrm{mA}$`` -> (-0.025, "A"), ``$3.40 \\Omega$`` -> (3.4, "Ω").

Physics prefixes are case-sensitive here (m = milli, M = mega), unlike SPICE. Handles LaTeX
(``\\mathrm{~V}``, ``\\text{}``, ``\\Omega``, ``\\times 10^{-3}``, ``\\frac{a}{b}``), unicode minus and micro signs,
and a leading ``X =``.
"""

from __future__ import annotations

import re

UNITS = {"A": "A", "V": "V", "W": "W", "Ω": "Ω", "OHM": "Ω", "OHMS": "Ω", "F": "F", "H": "H", "HZ": "Hz", "S": "S",
         "J": "J", "C": "C", "VA": "VA", "VAR": "var"}
PREFIXES = {"p": 1e-12, "n": 1e-9, "u": 1e-6, "μ": 1e-6, "µ": 1e-6, "m": 1e-3, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9,
            "T": 1e12}
NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"


def clean(text: str) -> str:
    """Strip LaTeX markup to plain text: ``$-5 \\mathrm{~V}$`` -> ``-5 V``."""
    t = text.strip().strip("$").replace("−", "-").replace("–", "-")
    t = re.sub(r"\\frac\{([^{}]+)\}\{([^{}]+)\}", lambda m: _fraction(m.group(1), m.group(2)), t)
    t = re.sub(r"\\(?:mathrm|text|operatorname|rm|mathit)\s*\{([^{}]*)\}", r"\1", t)
    t = t.replace("\\Omega", "Ω").replace("\\mu", "μ").replace("\\,", " ").replace("\\ ", " ").replace("~", " ")
    t = re.sub(r"\\(?:times|cdot)\s*10\s*\^\s*\{?\s*([-+]?\d+)\s*\}?", r"e\1", t)
    t = t.replace("{", "").replace("}", "").replace("$", "")
    return re.sub(r"\s+", " ", t).strip()


def _fraction(num: str, den: str) -> str:
    try:
        return repr(float(num) / float(den))
    except ValueError:
        return f"{num}/{den}"


def parse_quantity(text: str) -> tuple[float, str | None] | None:
    """(value in SI units, unit or None) from an answer string; None when no number is found."""
    t = clean(str(text))
    t = re.sub(r"^[^=]*=\s*(?=[-+.\d])", "", t)  # "I = 2 A" -> "2 A"
    t = re.sub(r"(\d)\s*e\s*([-+]?\d)", r"\1e\2", t)  # "2 e-3" from "2 \times 10^{-3}"
    m = re.match(rf"^\s*({NUM})\s*(.*)$", t)
    if not m:
        return None
    value = float(m.group(1))
    rest = m.group(2).strip().rstrip(".。,;")
    if not rest:
        return value, None
    scale, unit = read_unit(rest)
    return value * scale, unit


PREFIX_WORDS = {"pico": "p", "nano": "n", "micro": "μ", "milli": "m", "kilo": "k", "mega": "M", "giga": "G",
                "tera": "T"}
UNIT_WORDS = {"ohm": "Ω", "ohms": "Ω", "volt": "V", "volts": "V", "amp": "A", "amps": "A", "ampere": "A",
              "amperes": "A", "watt": "W", "watts": "W", "farad": "F", "farads": "F", "henry": "H", "henries": "H",
              "henrys": "H", "hertz": "Hz", "siemens": "S", "joule": "J", "joules": "J", "coulomb": "C",
              "coulombs": "C"}
UNIT = re.compile(
    r"^(?P<prefix>pico|nano|micro|milli|kilo|mega|giga|tera|p|n|u|μ|µ|m|k|K|M|G|T)?[\s\-·]*"
    r"(?P<unit>ohms?|volts?|amperes?|amps?|watts?|farads?|henr(?:y|ies|ys)|hertz|siemens|joules?|coulombs?"
    r"|Ω|OHMS?|Ohms?|VA|var|Hz|A|V|W|F|H|S|J|C)(?![A-Za-z])")
PREFIX_ONLY = re.compile(r"^(?P<prefix>pico|nano|micro|milli|kilo|mega|giga|tera|p|n|u|μ|µ|m|k|K|M|G|T)(?![A-Za-z])")


def read_unit(rest: str) -> tuple[float, str | None]:
    """(scale, unit) from the text after the number, however prefix and unit are spaced or spelled:
    ``kΩ``, ``k Ω`` (from ``\\mathrm{k} \\Omega``), ``k-ohm``, ``kilo ohms``, ``mA``, ``m A``; a prefix
    alone (``1.67 k``) scales with no unit; anything else is no unit."""
    m = UNIT.match(rest)
    if m:
        prefix = PREFIX_WORDS.get(m["prefix"], m["prefix"]) if m["prefix"] else None
        unit = m["unit"]
        unit = UNIT_WORDS.get(unit.lower(), UNITS.get(unit.upper(), unit))
        return (PREFIXES[prefix] if prefix else 1.0), unit
    m = PREFIX_ONLY.match(rest)
    if m:
        return PREFIXES[PREFIX_WORDS.get(m["prefix"], m["prefix"])], None
    return 1.0, None


def format_quantity(value: float, unit: str | None) -> str:
    """``0.025, "A"`` -> ``25 mA`` (three significant digits, engineering prefix)."""
    if unit is None:
        return f"{value:.4g}"
    for prefix, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3), ("", 1.0), ("m", 1e-3), ("μ", 1e-6),
                          ("n", 1e-9), ("p", 1e-12)):
        if abs(value) >= scale or scale == 1e-12:
            return f"{value / scale:.4g} {prefix}{unit}"
    return f"{value:.4g} {unit}"


def normalise_name(name: str) -> str:
    """Quantity names compared loosely: ``$U_{\\mathrm{ab}}$`` ~ ``U_ab`` ~ ``Uab``; ``I`` and ``i`` differ
    only in case, which textbooks use interchangeably for DC quantities."""
    t = clean(name)
    t = re.sub(r"[\s_^{}\\]", "", t)
    return t.lower()
