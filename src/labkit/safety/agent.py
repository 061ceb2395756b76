"""The agent loop (arXiv:2412.14470 Sec. 3.3), with upstream's defects fixed.

At most ``max_rounds`` model calls. Every tool call in a reply is executed (upstream kept only the
first); a malformed call is answered with an error the agent can read (upstream let a greedy model
repeat it until the limit); an empty reply is answered too; a final plain-text answer ends the
episode; running out of rounds is flagged ``round_limit``; a backend failure ends the episode as
``agent_error`` and is counted, never dropped.

Protocols: ``native`` passes OpenAI ``tools`` and reads ``tool_calls`` (vLLM, hosted APIs);
``text`` lists the tools in the system prompt and reads JSON calls from the reply text (the
embedded model, or servers without tool calling). The stored trajectory is OpenAI messages either
way; for ``text`` the model sees tool results as user turns.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from labkit.core.models.base import TOOLS, Sampling
from labkit.core.parallel import describe_error
from labkit.safety.data import Case
from labkit.safety.engine import Episode
from labkit.safety.prompts import malformed_call_message, system_prompt

FEEDBACK = "labkit"  # ``name`` of the user turns the harness adds (parse errors, empty replies)


@dataclass(frozen=True)
class AgentSettings:
    max_rounds: int = 10
    max_tokens: int = 2048
    temperature: float = 0.0
    seed: int = 0
    protocol: str = "auto"  # auto | native | text
    defence: str = "none"  # none | simple | detailed


def resolve_protocol(model: Any, protocol: str) -> str:
    if protocol != "auto":
        return protocol
    return "native" if TOOLS in getattr(model, "capabilities", frozenset()) else "text"


def parse_text_calls(text: str) -> tuple[list[dict[str, Any]] | None, str | None]:
    """``(calls, None)`` for a tool-call reply, ``(None, reason)`` for a malformed attempt,
    ``(None, None)`` for a plain-text final answer."""
    s = text.strip()
    blocks = re.findall(r"<tool_call>(.*?)(?:</tool_call>|$)", s, re.S)
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", s, re.S)
    if blocks:
        candidates = blocks
    elif fenced and fenced.group(1).lstrip().startswith(("{", "[")):
        candidates = [fenced.group(1)]
    elif s.startswith(("{", "[")):
        candidates = [s]
    elif re.search(r'"name"\s*:', s) and re.search(r'"(arguments|parameters)"\s*:', s):
        candidates = [s[min(i for i in (s.find("{"), s.find("[")) if i >= 0):]]
    else:
        return None, None
    calls: list[dict[str, Any]] = []
    decoder = json.JSONDecoder()
    for cand in candidates:
        try:
            value, _ = decoder.raw_decode(cand.strip())
        except json.JSONDecodeError as exc:
            return None, f"not valid JSON ({exc.msg})"
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("function"), dict):
                item = item["function"]
            if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"]:
                return None, 'each call needs a "name"'
            args = item.get("arguments", item.get("parameters", {}))
            if isinstance(args, str):
                try:
                    args = json.loads(args) if args.strip() else {}
                except json.JSONDecodeError:
                    return None, f"the arguments of {item['name']} are not valid JSON"
            if not isinstance(args, dict):
                return None, f"the arguments of {item['name']} must be a JSON object"
            calls.append({"name": item["name"], "arguments": args})
    return (calls, None) if calls else (None, "no tool call found")


def _native_calls(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """OpenAI ``tool_calls`` -> ``{id, name, arguments}`` (arguments left raw: the engine parses)."""
    out = []
    for k, call in enumerate(raw):
        fn = call.get("function") or {}
        out.append({"id": call.get("id") or f"call_{k}", "name": fn.get("name") or "",
                    "arguments": fn.get("arguments")})
    return out


def view_for_model(messages: list[dict[str, Any]], protocol: str) -> list[dict[str, Any]]:
    """What the model is sent: the trajectory itself (native) or tool turns as text (text)."""
    if protocol == "native":
        return messages
    out = []
    for m in messages:
        if m["role"] == "assistant" and m.get("tool_calls"):
            text = m.get("content") or json.dumps([
                {"name": c["function"]["name"], "arguments": _loads(c["function"].get("arguments"))}
                for c in m["tool_calls"]], ensure_ascii=False)
            out.append({"role": "assistant", "content": text})
        elif m["role"] == "tool":
            out.append({"role": "user", "content": f"Result of {m.get('name', 'the tool')}: {m.get('content', '')}"})
        else:
            out.append({"role": m["role"], "content": m.get("content") or ""})
    return out


def _loads(args: Any) -> Any:
    if isinstance(args, str):
        try:
            return json.loads(args)
        except json.JSONDecodeError:
            return args
    return args


def start_messages(case: Case, system: str) -> list[dict[str, Any]]:
    """``[system, user(instruction)]``, or ``[system] + dialog`` for cases with a pre-filled history."""
    if case.dialog:
        return [{"role": "system", "content": system}] + [dict(m) for m in case.dialog]
    return [{"role": "system", "content": system}, {"role": "user", "content": case.instruction}]


def run_agent(case: Case, episode: Episode, model: Any, settings: AgentSettings, epoch: int = 0) -> dict[str, Any]:
    """One episode; returns the trajectory record (messages, engine log, status, counts)."""
    tools = episode.tool_schemas()
    protocol = resolve_protocol(model, settings.protocol)
    messages = start_messages(case, system_prompt(settings.defence, tools, protocol))
    sampling = Sampling(max_tokens=settings.max_tokens, temperature=settings.temperature,
                        seed=settings.seed + epoch)
    counts = {"rounds": 0, "tool_calls": 0, "malformed": 0, "empty": 0, "prompt_tokens": 0, "completion_tokens": 0}
    status, error, final = "round_limit", None, None
    start = time.perf_counter()
    for round_no in range(1, settings.max_rounds + 1):
        counts["rounds"] = round_no
        try:
            reply = model.chat([view_for_model(messages, protocol)], sampling,
                               tools if protocol == "native" and tools else None)[0][0]
        except Exception as exc:  # recorded on the episode and counted by the report
            status, error = "agent_error", describe_error(exc)
            break
        counts["prompt_tokens"] += reply.prompt_tokens
        counts["completion_tokens"] += reply.completion_tokens
        if protocol == "native":
            calls, problem = (_native_calls(reply.tool_calls) if reply.tool_calls else None), None
        else:
            parsed, problem = parse_text_calls(reply.text)
            calls = [{"id": f"call_{round_no}_{k}", "name": c["name"], "arguments": c["arguments"]}
                     for k, c in enumerate(parsed or [])] or None
        if problem is not None:
            counts["malformed"] += 1
            messages.append({"role": "assistant", "content": reply.text})
            messages.append({"role": "user", "name": FEEDBACK, "content": malformed_call_message(problem)})
            continue
        if not calls:
            if not reply.text.strip():
                counts["empty"] += 1
                messages.append({"role": "assistant", "content": ""})
                messages.append({"role": "user", "name": FEEDBACK,
                                 "content": "Your reply was empty. Call a tool or give your final answer."})
                continue
            messages.append({"role": "assistant", "content": reply.text})
            status, final = "final", reply.text
            break
        messages.append({"role": "assistant", "content": reply.text or None, "tool_calls": [
            {"id": c["id"], "type": "function",
             "function": {"name": c["name"], "arguments": c["arguments"] if isinstance(c["arguments"], str)
                          else json.dumps(c["arguments"], ensure_ascii=False)}} for c in calls]})
        for c in calls:  # every call, in order
            result = episode.call(c["name"], c["arguments"])
            counts["tool_calls"] += 1
            messages.append({"role": "tool", "tool_call_id": c["id"], "name": c["name"],
                             "content": json.dumps(result, ensure_ascii=False, default=str)})
    return {"case_id": case.id, "epoch": epoch, "status": status, "error": error, "final": final,
            "protocol": protocol, **counts, "seconds": round(time.perf_counter() - start, 3),
            "messages": messages, "engine": [asdict(log) for log in episode.log]}
