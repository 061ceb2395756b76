"""The refiner's RFT data from one SPaR iteration (paper Sec. 3.2; caps from the released code), as TRL SFT rows
(``{"messages": [...]}``), deduplicated by prompt within each kind, only non-unanimous judgments:

- ``refinement``: the successful step of each successful tree - the refine conversation of its parent (judge
  turn, the parent's critique, the refine instruction) answered by the refiner's whole reply that produced the
  result (reflection and markers); at most 4,000;
- ``tree_judgment``: a judgment of a tree node whose votes were split, answered by the critique that agreed
  with the majority: V in (0.5, 1) at most 1,500, V in (0, 0.5) at most 1,000;
- ``sample_judgment``: the same for the actor's samples labelled by the refiner (``verifier: llm``): voted
  correct (V > 0.5) at most 2,500, voted incorrect at most 500.

With programmatic verification every vote is unanimous (V is 0 or 1), so only refinement dialogues remain.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from labkit.spar.judge import judge_conversation, refine_conversation

CAPS = {"refinement": 4000, "tree_judgment_yes": 1500, "tree_judgment_no": 1000, "sample_judgment_yes": 2500,
        "sample_judgment_no": 500}


def _row(messages: list[dict[str, str]], answer: str, kind: str, prompt: str) -> dict[str, Any]:
    return {"messages": [*messages, {"role": "assistant", "content": answer}], "kind": kind, "prompt": prompt}


def _capped(rows: Iterable[dict[str, Any]], cap: int) -> list[dict[str, Any]]:
    out, seen = [], set()
    for r in rows:
        if r["prompt"] not in seen and len(out) < cap:
            seen.add(r["prompt"])
            out.append(r)
    return out


def _split(value: float) -> str | None:
    return "yes" if 0.5 < value < 1 else "no" if 0 < value < 0.5 else None


def rft_rows(trees: list[dict[str, Any]], samples: list[dict[str, Any]], fmt: str = "markers",
             caps: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """RFT rows from finished trees (``{"prompt", "tree"}``) and sample records (``prompt``, ``responses``,
    ``values``, ``critiques``), each kind capped and deduplicated by prompt."""
    caps = {**CAPS, **(caps or {})}
    steps, judged = [], {"yes": [], "no": []}
    for t in trees:
        nodes = t["tree"]["nodes"]
        if t["tree"]["success"]:
            best = nodes[t["tree"]["best"]]
            parent = nodes[best["parent"]]
            steps.append(_row(refine_conversation(t["prompt"], parent["response"], parent["critique"], fmt),
                              best.get("raw") or best["response"], "refinement", t["prompt"]))
        for n in nodes[1:]:
            side = _split(n["value"])
            if side and n["critique"]:
                judged[side].append(_row(judge_conversation(t["prompt"], n["response"]), n["critique"],
                                         f"tree_judgment_{side}", t["prompt"]))
    offline = {"yes": [], "no": []}
    for s in samples:
        for response, value, critique in zip(s["responses"], s.get("values", []), s["critiques"], strict=False):
            side = _split(value)
            if side and critique:
                offline[side].append(_row(judge_conversation(s["prompt"], response), critique,
                                          f"sample_judgment_{side}", s["prompt"]))
    return [*_capped(steps, caps["refinement"]),
            *(r for side in ("yes", "no") for r in _capped(judged[side], caps[f"tree_judgment_{side}"])),
            *(r for side in ("yes", "no") for r in _capped(offline[side], caps[f"sample_judgment_{side}"]))]
