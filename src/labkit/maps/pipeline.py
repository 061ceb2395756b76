"""Chain-of-Simulation and Simulation-Aided Reasoning (arXiv:2501.10768, Sec. 3), step by step with a trace.

perceive (oracle netlist, or a VLM behind an OpenAI-compatible endpoint) -> validate, with at most k
LLM repairs -> fill ``<Empty>`` values (rules over the question first, then the LLM) -> simulate ->
answer: read directly from the simulation when every asked quantity is a measured label, otherwise
ask the reasoner with question, netlist and simulation JSON ("no-sim" prompt when simulation
failed). Baselines with the same reasoner: ``direct`` and ``cot`` (chain of thought).
Every failure is a step in the trace and an ``error`` on the answer; nothing becomes a default value.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.models import Sampling
from labkit.maps import prompts
from labkit.maps.answers import clean, format_quantity, normalise_name
from labkit.maps.netlist import Netlist, parse_netlist
from labkit.maps.simulate import Simulation, simulate


@dataclass
class Answer:
    answers: dict[str, str]  # quantity -> "value unit"
    method: str
    trace: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def step(self, name: str, **data: Any) -> None:
        self.trace.append({"step": name, **data})


def fenced(text: str, lang: str) -> str | None:
    """Body of the first ```lang block (or of any fenced block)."""
    m = re.search(rf"```(?:{lang})?\s*\n(.*?)```", text, re.DOTALL | re.IGNORECASE)
    return m.group(1).strip() if m else None


def parse_json_answer(text: str) -> dict[str, Any] | None:
    body = fenced(text, "json")
    candidates = [body] if body else []
    candidates += re.findall(r"\{[^{}]*\}", text)
    for cand in candidates:
        try:
            value = json.loads(cand)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(value, dict) and value:
            return {str(k): str(v) for k, v in value.items()}
    return None


def ask(model: Any, prompt: str, max_tokens: int, image: Path | None = None) -> str:
    content: Any = prompt
    if image is not None:
        data = base64.b64encode(image.read_bytes()).decode()
        mime = "image/png" if image.suffix.lower() == ".png" else "image/jpeg"
        content = [{"type": "text", "text": prompt},
                   {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{data}"}}]
    return model.chat([[{"role": "user", "content": content}]], Sampling(max_tokens=max_tokens))[0][0].text


# ---------------------------------------------------------------- steps


def perceive(answer: Answer, netlist: str | None, image: Path | None, ppm: Any, max_tokens: int) -> str | None:
    if netlist is not None:
        answer.step("perceive", source="oracle")
        return netlist
    if ppm is None or image is None:
        answer.step("perceive", ok=False, error="no netlist given and no perception model/image")
        return None
    text = ask(ppm, prompts.perception_prompt(), max(max_tokens, 1000), image)
    body = fenced(text, "spice") or text
    answer.step("perceive", source="ppm", raw=text)
    return body


def validate(answer: Answer, text: str, reasoner: Any, rounds: int, max_tokens: int) -> Netlist | None:
    for attempt in range(rounds + 1):
        try:
            net = parse_netlist(text)
            answer.step("validate", ok=True, repairs=attempt)
            return net
        except DataError as exc:
            answer.step("validate", ok=False, error=str(exc), attempt=attempt)
            if attempt == rounds:
                return None
            reply = ask(reasoner, prompts.repair_prompt(text, str(exc)), max_tokens)
            text = fenced(reply, "spice") or text
    return None


SYMBOL = re.compile(r"(?<![A-Za-z])([A-Za-z])\s*_?\s*([A-Za-z]?\s*\d+)\s*=\s*([-+]?\d+(?:\.\d+)?)\s*(k|m|M|μ|u)?")


def values_in_question(question: str) -> dict[str, float]:
    """``R_{1}=10 \\Omega``, ``U_{S1}=12 V``, ``I_S3 = 10 A`` -> {"R1": 10, "VS1": 12, "IS3": 10}."""
    out = {}
    scale = {"k": 1e3, "m": 1e-3, "M": 1e6, "μ": 1e-6, "u": 1e-6, None: 1.0}
    for letter, index, number, prefix in SYMBOL.findall(clean(question)):
        key = index.replace(" ", "")
        name = {"U": "V"}.get(letter, letter) + key
        out[name.upper()] = float(number) * scale[prefix or None]
    return out


def fill_symbols(answer: Answer, net: Netlist, question: str, reasoner: Any, max_tokens: int) -> Netlist | None:
    missing = net.symbolic
    if not missing:
        return net
    found = values_in_question(question)
    filled = net.with_values({name: found[name.upper()] for name in missing if name.upper() in found})
    answer.step("fill", by_rule=[n for n in missing if n.upper() in found])
    if not filled.symbolic:
        return filled
    reply = ask(reasoner, prompts.fill_prompt(question, filled.to_spice(), filled.symbolic), max_tokens)
    body = fenced(reply, "spice")
    try:
        again = parse_netlist(body or "")
    except DataError as exc:
        answer.step("fill", ok=False, error=str(exc))
        return None
    if again.symbolic or len(again.elements) != len(net.elements):
        answer.step("fill", ok=False, error=f"still symbolic: {again.symbolic or 'elements changed'}")
        return None
    answer.step("fill", by_llm=filled.symbolic)
    return again


def quantities_in(question: str, net: Netlist | None) -> list[str]:
    """Measured labels the question mentions (``$U_{0}$``, ``U0``, ``I_3``)."""
    if net is None:
        return []
    text = clean(question)
    found = []
    for ms in net.measurements:
        if not ms.label:
            continue
        head, tail = ms.label[0], ms.label[1:]
        if re.search(rf"(?<![A-Za-z0-9]){re.escape(head)}\s*_?\s*{re.escape(tail)}(?![0-9A-Za-z])", text, re.I):
            found.append(ms.label)
    return found


def read_measurements(sim: Simulation, net: Netlist, quantities: list[str]) -> dict[str, str] | None:
    """Every asked quantity is a measured label: the answer is the simulation's number."""
    if not sim.ok or not quantities or sim.axis is not None:
        return None
    by_name: dict[str, tuple[float, str]] = {}
    for key, ms in zip(net.measurement_keys(), net.measurements, strict=True):
        if ms.label and key == ms.label:
            by_name[normalise_name(ms.label)] = (sim.measurements[key], "V" if ms.kind == "v" else "A")
    if not all(normalise_name(q) in by_name for q in quantities):
        return None
    return {q: format_quantity(*by_name[normalise_name(q)]) for q in quantities}


# ---------------------------------------------------------------- methods


def solve_maps(question: str, *, reasoner: Any, netlist: str | None = None, image: Path | None = None,
               ppm: Any = None, quantities: list[str] | None = None, repair_rounds: int = 2,
               max_tokens: int = 512) -> Answer:
    answer = Answer({}, "maps")
    text = perceive(answer, netlist, image, ppm, max_tokens)
    net = validate(answer, text, reasoner, repair_rounds, max_tokens) if text is not None else None
    if net is not None:
        net = fill_symbols(answer, net, question, reasoner, max_tokens)
    sim = None
    if net is not None:
        sim = simulate(net)
        answer.step("simulate", status=sim.status, detail=sim.detail, result=sim.to_json())
    asked = quantities or quantities_in(question, net)
    if sim is not None and net is not None and (direct := read_measurements(sim, net, asked)):
        answer.answers = direct
        answer.step("answer", source="simulation")
        return answer
    sim_json = sim.to_json() if sim is not None and sim.ok else None
    shown = net.to_spice() if net is not None else (text or "(no netlist)")
    reply = ask(reasoner, prompts.maps_prompt(question, shown, sim_json, asked), max_tokens)
    parsed = parse_json_answer(reply)
    answer.step("answer", source="reasoner" if sim_json is not None else "reasoner-nosim", raw=reply)
    if parsed is None:
        answer.error = "unparsed reasoner answer"
    else:
        answer.answers = parsed
    return answer


def solve_direct(question: str, *, reasoner: Any, quantities: list[str], cot: bool, max_tokens: int = 512,
                 image: Path | None = None) -> Answer:
    answer = Answer({}, "cot" if cot else "direct")
    reply = ask(reasoner, prompts.direct_prompt(question, quantities, cot), max_tokens, image)
    parsed = parse_json_answer(reply)
    answer.step("answer", raw=reply)
    if parsed is None:
        answer.error = "unparsed answer"
    else:
        answer.answers = parsed
    return answer
