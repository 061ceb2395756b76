"""The SPICE deck front-end, before the netlist reader: ``.include`` / ``.inc`` / ``.lib FILE SECTION`` (paths
relative to the including file, as ngspice), ``.param`` with ``{...}`` and ``'...'`` expressions, and
``.subckt`` definitions flattened at their ``X`` instances with ngspice's names - an internal node ``m`` of
``X1`` is ``x1.m``, an element ``R1`` of ``X1`` is ``R.x1.R1`` (its kind letter first) - so results read like
ngspice's. Every line keeps where it came from (file, line) for error messages.

Expressions: numbers with SPICE scale factors, parameters, + - * / ** ^, parentheses and the functions in
``FUNCTIONS``; nothing else is evaluated (no names outside the parameters, no attributes, no calls of anything
else).
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass, field
from pathlib import Path

from labkit.maps.circuit import UnsupportedFeature
from labkit.maps.values import parse_value

Line = tuple[str, str | None, int]  # text, file, line number
FUNCTIONS = {"sqrt": math.sqrt, "exp": math.exp, "log": math.log, "ln": math.log, "log10": math.log10,
             "sin": math.sin, "cos": math.cos, "tan": math.tan, "atan": math.atan, "sinh": math.sinh,
             "cosh": math.cosh, "tanh": math.tanh, "abs": abs, "min": min, "max": max, "pow": math.pow,
             "floor": math.floor, "ceil": math.ceil, "int": lambda x: float(int(x))}
OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
       ast.Pow: operator.pow, ast.USub: operator.neg, ast.UAdd: operator.pos}
NUMBER = re.compile(r"(?<![\w.])(\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?(meg|[fpnumkgt])?[a-zA-Z]*", re.IGNORECASE)
EXPR = re.compile(r"\{([^{}]*)\}|'([^']*)'")
NODES = {"R": 2, "C": 2, "L": 2, "V": 2, "I": 2, "E": 4, "G": 4, "F": 2, "H": 2, "D": 2, "Q": 3, "M": 4, "J": 3}


def evaluate(expr: str, params: dict[str, float]) -> float:
    """A parameter expression's value; unknown names and other syntax are a ValueError naming them."""
    text = NUMBER.sub(lambda m: repr(parse_value(m.group(0))), expr.replace("^", "**"))
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ValueError(f"cannot evaluate {expr!r}") from None

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return ev(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id.lower() not in params:
                raise ValueError(f"unknown parameter {node.id!r} in {expr!r}")
            return params[node.id.lower()]
        if isinstance(node, ast.BinOp) and type(node.op) in OPS:
            return OPS[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in OPS:
            return OPS[type(node.op)](ev(node.operand))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.lower() in FUNCTIONS:
            return float(FUNCTIONS[node.func.id.lower()](*(ev(a) for a in node.args)))
        raise ValueError(f"cannot evaluate {expr!r}")

    return ev(tree)


def _assignments(tokens: list[str], params: dict[str, float]) -> dict[str, float]:
    """``a=1k b={a*2}`` (spaces around ``=`` allowed) evaluated left to right over ``params``."""
    text = re.sub(r"\s*=\s*", "=", " ".join(tokens))
    pattern = r"(\w+)=(\{[^{}]*\}|'[^']*'|\S+)"
    rest = re.sub(pattern, " ", text).strip()
    if rest:  # a token that is not NAME=VALUE is refused, not skipped
        raise ValueError(f"cannot read {rest.split()[0]!r} as a parameter assignment (NAME=VALUE)")
    out: dict[str, float] = {}
    for name, value in re.findall(pattern, text):
        out[name.lower()] = evaluate(value.strip("{}'"), {**params, **out})
    return out


@dataclass
class Subckt:
    name: str
    ports: list[str]
    defaults: list[str]  # the .subckt line's parameter assignments, as written
    body: list[Line] = field(default_factory=list)


def read_lines(text: str, path: str | None, seen: frozenset[str] = frozenset()) -> list[Line]:
    """Lines with continuations joined and includes expanded in place."""
    out: list[Line] = []
    for k, raw in enumerate(join_continuations(text.splitlines()), 1):
        words = raw.split()
        head = words[0].lower() if words else ""
        if head in (".include", ".inc") or (head == ".lib" and len(words) == 3):
            target = _resolve(words[1], path, k)
            if str(target) in seen:
                raise ValueError(f"{path}:{k}: {target} includes itself")
            lines = read_lines(target.read_text(errors="replace"), str(target), seen | {str(target)})
            out += _section(lines, words[2], target, k) if head == ".lib" else lines
            out.append(("", path, k))
        else:
            out.append((raw, path, k))
    return out


def _resolve(name: str, path: str | None, line: int) -> Path:
    target = Path(name.strip("\"'"))
    if not target.is_absolute():
        target = (Path(path).parent if path else Path.cwd()) / target
    if not target.exists():
        raise ValueError(f"{path}:{line}: included file {target} not found")
    return target


def _section(lines: list[Line], name: str, target: Path, line: int) -> list[Line]:
    """The lines between ``.lib NAME`` and ``.endl`` of a library file."""
    out, inside = [], False
    for text, f, k in lines:
        words = text.lower().split()
        if words[:2] == [".lib", name.lower()]:
            inside = True
        elif words[:1] == [".endl"] and inside:
            return out
        elif inside:
            out.append((text, f, k))
    raise ValueError(f"{target}: no section {name!r} (.lib {name} ... .endl), included at line {line}")


def flatten(lines: list[Line]) -> list[Line]:
    """Global ``.param`` values substituted and every ``X`` instance replaced by its subcircuit's elements."""
    params: dict[str, float] = {}
    subckts: dict[str, Subckt] = {}
    main: list[Line] = []
    current: Subckt | None = None
    in_control = False
    for text, f, k in lines:
        words = text.split()
        head = words[0].lower() if words else ""
        if head in (".control", ".endc") or in_control:  # control blocks pass through untouched
            in_control = head != ".endc" and (in_control or head == ".control")
            main.append((text, f, k))
            continue
        if head == ".subckt":
            if len(words) < 2:
                raise ValueError(f"{f}:{k}: .subckt needs a name")
            rest = [w for w in words[2:] if w.lower() != "params:"]
            ports = [w for w in rest if "=" not in w and not _after_equals(rest, w)]
            current = Subckt(words[1].lower(), ports, rest[len(ports):], [])
        elif head == ".ends":
            if current is not None:
                subckts[current.name] = current
            current = None
        elif current is not None:
            current.body.append((text, f, k))
        elif head == ".param":
            try:
                params.update(_assignments(words[1:], params))
            except ValueError as exc:
                raise ValueError(f"{f}:{k}: {exc}") from None
        else:
            main.append((text, f, k))
    out: list[Line] = []
    in_control = False
    for text, f, k in main:
        head = text.split()[0].lower() if text.split() else ""
        in_control = (in_control or head == ".control") and head != ".endc"
        out += [(text, f, k)] if in_control or head == ".endc" else \
            _expand_line(text, f, k, params, subckts, "", {}, 0)
    return out


def _after_equals(tokens: list[str], word: str) -> bool:
    i = tokens.index(word)
    return i > 0 and (tokens[i - 1] == "=" or tokens[i - 1].endswith("="))


def _substitute(text: str, params: dict[str, float], f: str | None, k: int) -> str:
    try:
        return EXPR.sub(lambda m: repr(evaluate(m.group(1) if m.group(1) is not None else m.group(2), params)), text)
    except ValueError as exc:
        raise ValueError(f"{f}:{k}: {exc}") from None


def _expand_line(text: str, f: str | None, k: int, params: dict[str, float], subckts: dict[str, Subckt],
                 prefix: str, nodes: dict[str, str], depth: int) -> list[Line]:
    """One line inside an instance ``prefix`` (``""`` at the top): nodes and names mapped, parameters substituted,
    X instances expanded (at most 20 deep)."""
    stripped = text.strip()
    if not stripped or stripped.startswith("*") or (stripped.startswith(".") and not prefix):
        return [(_substitute(text, params, f, k) if stripped.startswith(".") else text, f, k)]
    if stripped.startswith("."):  # a subcircuit's .param is read in _instance; anything else is not ours
        raise UnsupportedFeature(f"{f}:{k}: {stripped.split()[0]} inside a subcircuit (--backend auto runs such "
                                 "decks on ngspice when it is installed)")
    text = _substitute(strip_inline_comment(stripped), params, f, k)
    words = text.split()
    kind = words[0][0].upper()
    if kind == "X":
        return _instance(words, f, k, params, subckts, prefix, nodes, depth)
    if not prefix:
        return [(text, f, k)]
    count = NODES.get(kind, 0)
    mapped = [_map_node(n, prefix, nodes) for n in words[1:1 + count]]
    rest = words[1 + count:]
    if kind in "FH" and rest:
        rest[0] = _scoped(rest[0], prefix)
    return [(" ".join([_scoped(words[0], prefix), *mapped, *rest]), f, k)]


def _scoped(name: str, prefix: str) -> str:
    return f"{name[0]}.{prefix}.{name}" if prefix else name


def _map_node(node: str, prefix: str, nodes: dict[str, str]) -> str:
    if node.lower() in ("0", "gnd"):
        return "0"
    if not prefix:
        return node
    return nodes.get(node.lower(), f"{prefix}.{node}".lower())


def _instance(words: list[str], f: str | None, k: int, params: dict[str, float], subckts: dict[str, Subckt],
              prefix: str, nodes: dict[str, str], depth: int) -> list[Line]:
    if depth > 20:
        raise ValueError(f"{f}:{k}: subcircuits nested more than 20 deep (a subcircuit that contains itself?)")
    tokens = [w for w in words[1:] if w.lower() != "params:"]
    names = [i for i, w in enumerate(tokens) if "=" not in w and not _after_equals(tokens, w)]
    if not names:
        raise ValueError(f"{f}:{k}: {words[0]}: no subcircuit name")
    at = names[-1]
    sub = subckts.get(tokens[at].lower())
    if sub is None:
        raise ValueError(f"{f}:{k}: {words[0]}: unknown subcircuit {tokens[at]!r}")
    actual = [_map_node(n, prefix, nodes) for n in tokens[:at]]
    if len(actual) != len(sub.ports):
        raise ValueError(f"{f}:{k}: {words[0]}: {len(actual)} node(s) for subcircuit {sub.name!r} with "
                         f"{len(sub.ports)} port(s)")
    try:
        local = {**params, **_assignments(sub.defaults, params)}
        local.update(_assignments(tokens[at + 1:], params))
    except ValueError as exc:
        raise ValueError(f"{f}:{k}: {exc}") from None
    inst = f"{prefix}.{words[0]}".lower().lstrip(".")
    mapping = {p.lower(): a for p, a in zip(sub.ports, actual, strict=True)}
    out: list[Line] = []
    for text, bf, bk in sub.body:
        words = text.split()
        if words and words[0].lower() == ".param":  # local parameters, in order, over the instance's
            try:
                local.update(_assignments(words[1:], local))
            except ValueError as exc:
                raise ValueError(f"{bf}:{bk}: {exc}") from None
            continue
        out += _expand_line(text, bf, bk, local, subckts, inst, mapping, depth + 1)
    return out


def expand(text: str, path: str | None, *, title: bool) -> list[Line]:
    """A deck's lines after includes, parameters and subcircuits (the title line, when there is one, as is)."""
    lines = read_lines(text, path or "<netlist>")  # includes of a deck without a file resolve from the cwd
    if title and lines:
        return [lines[0], *flatten(lines[1:])]
    return flatten(lines)


def needs_front_end(text: str) -> bool:
    return bool(re.search(r"^\s*(\.(include|inc|lib|param|subckt)\b|x)", text, re.IGNORECASE | re.MULTILINE)) or \
        "{" in text


def join_continuations(lines: list[str]) -> list[str]:
    """SPICE continuation lines (``+ ...``) joined to the line they continue; the joined line keeps the
    first line's number and the continuation becomes an empty line, so error lines stay right."""
    out: list[str] = []
    for raw in lines:
        if raw.lstrip().startswith("+") and out:
            k = len(out) - 1
            while k > 0 and not out[k].strip():
                k -= 1
            out[k] = out[k].rstrip() + " " + raw.lstrip()[1:].strip()
            out.append("")
        else:
            out.append(raw)
    return out


def strip_inline_comment(line: str) -> str:
    """ngspice's inline comments on element lines: from ``;`` or `` $ `` to the end."""
    for mark in (";", " $ ", "\t$ "):
        if mark in line:
            line = line.split(mark, 1)[0]
    return line.rstrip()
