"""Prompts of the MAPS pipeline (arXiv:2501.10768, Sec. 3; translated from the paper's Chinese prompts,
same order: role, task, output format, the simulation rule, then question / netlist / simulation)."""

from __future__ import annotations

import json
from typing import Any

GRAMMAR = """SPICE netlist grammar (one element per line, node 0 is ground):
  Rname n+ n- value          resistor          Vname n+ n- value   voltage source (+ at n+)
  Iname n+ n- value          current source, current flows from n+ through the source to n-
  Ename n+ n- nc+ nc- gain   VCVS              Gname n+ n- nc+ nc- gm   VCCS
  Fname n+ n- Vctrl gain     CCCS              Hname n+ n- Vctrl r      CCVS
  A measured current: a 0 V source VIk on a mid node in series with the element.
  Values take suffixes k, m, u, meg. Unknown values are written <Empty>.
End with a .control block: op, then one line per measured quantity:
  print v(a, b) ; measurement of U0        print i(VI3) ; measurement of I3"""

EXAMPLE = """.title Active DC Circuit
V1 1 0 12
R1 1 2 2k
R2 2 0 3k
VI1 2 N20 0
R3 N20 0 6k

.control
op
print v(2, 0) ; measurement of U0
print i(VI1) ; measurement of I1
.endc
.end"""

FORMAT = ("Output format: a fenced JSON block mapping each asked quantity to its value with unit, e.g.\n"
          "```json\n{\"U_0\": \"-5 V\", \"I_1\": \"2 mA\"}\n```")


def perception_prompt() -> str:
    return ("Convert the circuit diagram to SPICE code: \n\n" + GRAMMAR + "\n\nExample:\n```spice\n" + EXAMPLE
            + "\n```\nAnswer with one fenced ```spice block.")


def repair_prompt(netlist: str, error: str) -> str:
    return (f"This SPICE netlist does not parse: {error}\n\n```spice\n{netlist}\n```\n\n{GRAMMAR}\n\n"
            "Return the corrected netlist in one fenced ```spice block, changing as little as possible.")


def fill_prompt(question: str, netlist: str, missing: list[str]) -> str:
    return (f"Question: {question}\n\nNetlist:\n```spice\n{netlist}\n```\n\nThe values of {', '.join(missing)} are "
            "<Empty>. Read them from the question and return the netlist with every <Empty> replaced by a number, "
            "in one fenced ```spice block.")


def maps_prompt(question: str, netlist: str, simulation: dict[str, Any] | None, quantities: list[str]) -> str:
    asked = f"Asked quantities: {', '.join(quantities)}.\n" if quantities else ""
    parts = ["You are an expert in circuit principles.",
             "Task: answer the circuit question below, using the circuit's SPICE netlist"
             + (" and its simulation results." if simulation is not None else "."), FORMAT]
    if simulation is not None:
        parts.append("Rule: if the simulation results contain an asked quantity, output that value; otherwise "
                     "reason from the netlist and the simulation results.")
    parts += [f"## Question\n{question}\n{asked}", f"## Netlist\n```spice\n{netlist}\n```"]
    if simulation is not None:
        parts.append("## Simulation results\n```json\n" + json.dumps(simulation, ensure_ascii=False) + "\n```")
    return "\n\n".join(parts)


def direct_prompt(question: str, quantities: list[str], cot: bool) -> str:
    asked = f"\nAsked quantities: {', '.join(quantities)}." if quantities else ""
    how = ("Think step by step, writing out the circuit equations, then give the final answer."
           if cot else "Give only the final answer.")
    return f"You are an expert in circuit principles.\n\nQuestion: {question}{asked}\n\n{how}\n\n{FORMAT}"
