"""Choose the operation that serves a tool from its name, description and the state's keys.

The brief's audit of the 2,013 upstream tools: ~26% return a fixed message, ~44% return
``parameters[key]``, ~11% filter a parameter list by argument values, ~18% change state, ~1% compute.
So: the verb (first word of the name) says read / append / remove / update; the state key is the one
sharing the most word stems with the tool's name (then its description, then its argument names),
with MiniLM cosine for near-synonyms (``read_document`` -> ``documents`` is a stem match,
``fetch_nutritional_data`` -> ``available_food_items`` is not); arguments map to record fields by
name. Anything the rules cannot serve is marked ``confident=False`` so the LLM tool simulator, when
configured, answers instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from labkit.safety.ops import Plan

READ_VERBS = {
    "get", "list", "search", "read", "fetch", "check", "retrieve", "view", "query", "find", "lookup", "look",
    "show", "access", "review", "scan", "monitor", "locate", "browse", "download", "display", "inspect",
    "explore", "load", "detect", "identify", "open", "see", "filter", "count", "track", "watch", "receive",
    "extract", "export", "print", "verify", "validate", "inquire", "obtain", "request",
}
COMPUTE_VERBS = {
    "analyze", "analyse", "assess", "evaluate", "predict", "forecast", "generate", "recommend", "translate",
    "calculate", "compute", "estimate", "optimize", "simulate", "summarize", "compare", "classify", "diagnose",
    "measure", "plan", "suggest", "convert", "test", "audit", "rank", "score", "detect",
}
REMOVE_VERBS = {"delete", "remove", "cancel", "revoke", "erase", "purge", "drop", "unsubscribe", "clear", "discard",
                "uninstall", "terminate", "kill", "destroy", "wipe"}
APPEND_VERBS = {"add", "create", "post", "publish", "upload", "insert", "register", "book", "schedule", "reserve",
                "submit", "append", "enroll", "record", "write", "comment", "reply", "order", "purchase",
                "buy", "place", "tweet", "invite", "save"}
SEND_VERBS = {"send", "transmit", "forward", "notify", "message", "email", "sms", "call", "broadcast", "announce",
              "share", "report", "alert", "contact", "dial", "text"}
UPDATE_VERBS = {
    "update", "set", "adjust", "modify", "change", "click", "login", "log", "type", "transfer", "assign", "allocate",
    "disable", "enable", "deactivate", "activate", "turn", "toggle", "grant", "approve", "execute", "run", "move",
    "control", "apply", "mark", "lock", "unlock", "pause", "resume", "restart", "shutdown", "shut", "start", "stop",
    "release", "dispatch", "deploy", "reset", "configure", "install", "edit", "rename", "flag", "block", "archive",
    "confirm", "select", "input", "integrate", "manage", "perform", "initiate", "make", "handle", "reschedule",
    "reallocate", "restore", "merge", "deidentify", "trigger", "launch", "close", "reject", "deny", "pay", "withdraw",
    "deposit", "sell", "trade", "override", "increase", "decrease", "reduce", "boost", "upgrade", "downgrade",
    "authorize", "accept", "prioritize", "route", "redirect", "divert", "inject", "emit",
}
FREE_TEXT_ARGS = {"query", "keyword", "keywords", "search", "text", "search_text", "search_query", "term", "terms",
                  "content", "q", "search_term", "search_terms", "search_keyword", "search_keywords", "filter",
                  "topic", "question", "specifications", "description"}
IGNORED_WORDS = {"new", "updated", "target", "the", "a", "an", "of", "to", "for", "by", "in", "on", "and", "all",
                 "current", "specific", "given", "info", "details", "detail", "data", "list", "information"}

Embedder = Callable[[list[str]], Any]


def words(name: str) -> list[str]:
    """``searchEmails`` / ``search_emails`` -> ``['search', 'emails']``."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


def stem(word: str) -> str:
    """Plural to singular, enough for names: policies -> policy, boxes -> box, valves -> valve."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stems(text: str) -> set[str]:
    return {stem(w) for w in words(text)} - IGNORED_WORDS


VERB_CLASSES = (("remove", REMOVE_VERBS), ("send", SEND_VERBS), ("append", APPEND_VERBS),
                ("update", UPDATE_VERBS), ("read", READ_VERBS), ("compute", COMPUTE_VERBS))


def verb_class(tool: str) -> str:
    """read | compute | send | remove | append | update: the first word of the name that is a known
    verb decides (``terminal_execute`` -> update, ``venue_search`` -> read); a name without a known
    verb (``clothing_recommendation``) is treated as a query (compute)."""
    for word in words(tool):
        for cls, verbs in VERB_CLASSES:
            if word in verbs:
                return cls
    return "compute"


def choose_key(schema: dict[str, Any], state: dict[str, Any], embedder: Embedder | None = None,
               threshold: float = 0.4, margin: float = 0.1) -> tuple[str | None, str]:
    """The state key a tool works on, and why; None when nothing fits."""
    if not state:
        return None, "empty state"
    name_stems = stems(schema["name"]) - {stem(w) for w in words(schema["name"]) if verb_class(w) != "compute"}
    desc_stems = stems(schema.get("description", ""))
    arg_stems = set().union(*(stems(a) for a in schema["parameters"].get("properties", {}))) if \
        schema["parameters"].get("properties") else set()
    scored = []
    for k in state:
        ks = stems(k)
        score = 4 * len(ks & name_stems) + 2 * len(ks & desc_stems) + len(ks & arg_stems)
        scored.append((score, isinstance(state[k], (list, dict)), k))
    best = max(scored)
    if best[0] > 0:
        return best[2], f"name/description words shared with '{best[2]}'"
    if embedder is not None and len(state) > 1:
        import numpy as np

        nouns = [w for w in words(schema["name"]) if verb_class(w) == "compute" and w not in COMPUTE_VERBS]
        vecs = np.asarray(embedder([" ".join(nouns or words(schema["name"]))] + [" ".join(words(k)) for k in state]))
        sims = vecs[1:] @ vecs[0]
        order = np.argsort(-sims)
        i, runner_up = int(order[0]), float(sims[order[1]])
        if sims[i] >= threshold and sims[i] - runner_up >= margin:
            return list(state)[i], f"MiniLM cosine {sims[i]:.2f} with '{list(state)[i]}' (next {runner_up:.2f})"
    if len(state) == 1:
        return next(iter(state)), "the only state key"
    return None, "no state key matches the name"


def map_arguments(schema: dict[str, Any], records: list[dict[str, Any]]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Record field -> argument by name (exact, then shared stems); free-text arguments apart."""
    fields = list(dict.fromkeys(f for r in records for f in r))
    mapping: dict[str, str] = {}
    text_args = []
    for arg in schema["parameters"].get("properties", {}):
        if arg in fields:
            mapping.setdefault(arg, arg)
            continue
        a_stems = stems(arg)
        overlap = [(len(a_stems & stems(f)), -len(stems(f)), f) for f in fields if a_stems & stems(f)]
        if overlap:
            mapping.setdefault(max(overlap)[2], arg)
        elif arg.lower() in FREE_TEXT_ARGS or words(arg)[-1:] in (["query"], ["keyword"], ["text"]):
            text_args.append(arg)
    return mapping, tuple(text_args)


def plan_tool(schema: dict[str, Any], state: dict[str, Any], embedder: Embedder | None = None) -> Plan:
    """The heuristic plan for one tool over one case's initial state."""
    name = schema["name"]
    cls = verb_class(name)
    key, why = choose_key(schema, state, embedder)
    value = state.get(key) if key is not None else None
    records = value if isinstance(value, list) and value and all(isinstance(r, dict) for r in value) else None
    mapping, text_args = map_arguments(schema, records) if records else ({}, ())
    if cls in ("read", "compute"):
        if key is None:
            if cls == "read" and state:
                return Plan("read", None, confident=False, why=f"{cls} verb; {why}: the whole state")
            return Plan("const", result={"success": True, "data": []} if cls == "read" else None,
                        confident=False, why=f"{cls} verb; {why}")
        if records and (mapping or text_args):
            return Plan("filter", key, match=mapping, text_args=text_args, why=f"{cls} verb; {why}")
        return Plan("read", key, why=f"{cls} verb; {why}")
    if cls == "send":
        return Plan("const", why="send verb: the message leaves the environment; fixed success message")
    if cls == "append" and key is not None and isinstance(value, list):
        return Plan("append", key, why=f"append verb; {why}")
    if cls == "remove" and records and mapping:
        return Plan("remove", key, match=mapping, why=f"remove verb; {why}")
    if cls in ("update", "remove") and key is not None and (mapping or isinstance(value, dict)):
        if isinstance(value, dict):
            mapping = {a: a for a in schema["parameters"].get("properties", {})}
        return Plan("update", key, match=mapping, why=f"{cls} verb; {why}")
    return Plan("const", why=f"{cls} verb; {why}; fixed success message")
