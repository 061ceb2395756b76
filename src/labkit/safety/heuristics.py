"""Choose the operation that serves a tool from its name, description and the state's keys.

An audit of the 2,013 upstream tools (arXiv:2412.14470's released environments): ~26% return a fixed
message, ~44% return ``parameters[key]``, ~11% filter a parameter list by argument values, ~18% change
state, ~1% compute.
So: the verb (first word of the name) says read / append / remove / update; the state key is the one
sharing the most word stems with the tool's name (then its description, then its argument names),
with MiniLM cosine for near-synonyms (``read_document`` -> ``documents`` is a stem match,
``fetch_nutritional_data`` -> ``available_food_items`` is not); arguments map to record fields by
name. Anything the rules cannot serve is marked ``confident=False`` so the LLM tool simulator, when
configured, answers instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from labkit.safety.ops import record_list
from labkit.safety.plan import Plan
from labkit.safety.records import PRICE_FIELDS, is_identifier, list_fields_named_by, money_field, walk
from labkit.safety.words import IGNORED_WORDS, stem, stems, words

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
SEND_VERBS = {"send", "pay", "tip", "donate", "wire", "remit", "transmit", "forward", "notify", "message", "email",
              "sms", "call", "broadcast", "announce",
              "share", "report", "alert", "contact", "dial", "text"}
UPDATE_VERBS = {
    "update", "set", "adjust", "modify", "change", "click", "login", "log", "type", "transfer", "assign", "allocate",
    "disable", "enable", "deactivate", "activate", "turn", "toggle", "grant", "approve", "execute", "run", "move",
    "control", "apply", "mark", "lock", "unlock", "pause", "resume", "restart", "shutdown", "shut", "start", "stop",
    "release", "dispatch", "deploy", "reset", "configure", "install", "edit", "rename", "flag", "block", "archive",
    "confirm", "select", "input", "integrate", "manage", "perform", "initiate", "make", "handle", "reschedule",
    "reallocate", "restore", "merge", "deidentify", "trigger", "launch", "close", "reject", "deny", "pay", "withdraw",
    "deposit", "sell", "trade", "override", "increase", "decrease", "reduce", "boost", "upgrade", "downgrade",
    "authorize", "accept", "prioritize", "route", "redirect", "divert", "inject", "emit", "reroute", "restock",
    "halt", "suspend", "relocate", "shortlist", "switch", "categorize", "tag", "label", "rate", "replace", "swap",
    "refill", "recharge", "reassign", "ban", "unban", "mute", "promote", "demote", "renew", "extend",
    "cool", "heat", "freeze", "unfreeze", "quarantine", "isolate", "evacuate", "calibrate", "tune", "discontinue",
    "mask", "hide",
}
MONEY_VERBS = {"transfer", "pay", "send", "withdraw", "purchase", "buy", "order", "donate", "tip", "spend", "wire",
               "remit", "invest", "charge"}
VERB_STATUS = {"disable": "disabled", "deactivate": "deactivated", "enable": "enabled", "activate": "active",
               "shutdown": "off", "shut": "off", "stop": "stopped", "halt": "halted", "pause": "paused",
               "suspend": "suspended", "resume": "active", "start": "on", "restart": "on", "archive": "archived",
               "flag": "flagged", "lock": "locked", "unlock": "unlocked", "approve": "approved", "reject": "rejected",
               "deny": "denied", "block": "blocked", "unblock": "unblocked", "ban": "banned", "close": "closed",
               "publish": "published", "terminate": "terminated", "revoke": "revoked", "cancel": "cancelled",
               "shortlist": "shortlisted", "quarantine": "quarantined", "isolate": "isolated", "freeze": "frozen",
               "unfreeze": "active", "mute": "muted", "confirm": "confirmed", "authorize": "authorized",
               "accept": "accepted", "mark": "marked", "deidentify": "deidentified",
               "dispatch": "dispatched", "deploy": "deployed", "assign": "assigned", "release": "released",
               "discontinue": "discontinued", "mask": "masked", "hide": "hidden"}
INBOX_WORDS = {"inbox", "outbox", "sent", "messages", "message", "mailbox", "chat", "conversation", "conversations",
               "notifications", "announcements", "posts", "broadcasts"}
FREE_TEXT_ARGS = {"query", "keyword", "keywords", "search", "text", "search_text", "search_query", "term", "terms",
                  "content", "q", "search_term", "search_terms", "search_keyword", "search_keywords", "filter",
                  "topic", "question", "specifications", "description"}
# a description that opens with one of these describes a query whatever the name's verb (not "open", "check")
DESCRIBED_READS = {"read", "get", "list", "retrieve", "fetch", "query", "search", "view", "show", "return", "find",
                   "lookup", "display"}

Embedder = Callable[[list[str]], Any]


VERB_CLASSES = (("remove", REMOVE_VERBS), ("send", SEND_VERBS), ("append", APPEND_VERBS),
               ("update", UPDATE_VERBS), ("read", READ_VERBS), ("compute", COMPUTE_VERBS))
KNOWN_VERBS = {v: cls for cls, verbs in reversed(VERB_CLASSES) for v in verbs}


def tool_verb(tool: str, embedder: Embedder | None = None) -> tuple[str, str | None]:
    """(class, verb): the first word of the name that is a known verb decides (``terminal_execute`` ->
    update, ``venue_search`` -> read); a leading word that is no known verb is compared by MiniLM with
    the known verbs (``reroute`` -> route, cosine >= 0.75); a name without a verb
    (``clothing_recommendation``) is treated as a query (compute)."""
    ws = words(tool)
    for i, word in enumerate(ws):
        if word in KNOWN_VERBS:
            if word == "turn" and i + 1 < len(ws) and ws[i + 1] in ("off", "on"):
                return "update", "shutdown" if ws[i + 1] == "off" else "start"
            if word == "switch" and i + 1 < len(ws) and ws[i + 1] in ("off", "on"):
                return "update", "shutdown" if ws[i + 1] == "off" else "start"
            return KNOWN_VERBS[word], word
    if embedder is not None and ws:
        near = nearest_verb(ws[0], embedder)
        if near is not None:
            return KNOWN_VERBS[near], near
    return "compute", None


def nearest_verb(word: str, embedder: Embedder, threshold: float = 0.75) -> str | None:
    import numpy as np

    verbs = sorted(KNOWN_VERBS)
    vecs = np.asarray(embedder([word] + verbs))
    sims = vecs[1:] @ vecs[0]
    best = int(np.argmax(sims))
    return verbs[best] if sims[best] >= threshold else None


def verb_class(tool: str) -> str:
    """read | compute | send | remove | append | update (see ``tool_verb``; no embedder)."""
    return tool_verb(tool)[0]


def choose_key(schema: dict[str, Any], state: dict[str, Any], embedder: Embedder | None = None,
               threshold: float = 0.4, margin: float = 0.1) -> tuple[str | None, str]:
    """The state key a tool works on, and why; None when nothing fits."""
    if not state:
        return None, "empty state"
    name_stems = stems(schema["name"]) - {stem(w) for w in words(schema["name"]) if w in KNOWN_VERBS}
    desc_stems = stems(schema.get("description", ""))
    arg_stems = set().union(*(stems(a) for a in schema["parameters"].get("properties", {}))) if \
        schema["parameters"].get("properties") else set()
    phrase = "_".join(w for w in words(schema["name"]) if w not in KNOWN_VERBS)
    id_args = {a for a in schema["parameters"].get("properties", {}) if is_identifier(a)}
    scored = []
    for k in state:
        ks = stems(k)
        # records that have a field named like an identifier argument are what the tool addresses
        keyed = isinstance(state[k], list) and any(isinstance(r, dict) and id_args & set(r) for r in state[k][:20])
        score = 4 * len(ks & name_stems) + 2 * len(ks & desc_stems) + len(ks & arg_stems) + 3 * (
            "_".join(words(k)) == phrase) + 5 * keyed
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


def plural(word: str) -> str:
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "z", "ch", "sh")) else "s")


def noun_key(schema: dict[str, Any], state: dict[str, Any]) -> str | None:
    """The state key the tool's name itself names (``add_schedule`` -> ``schedules``), if any."""
    name_stems = {stem(w) for w in words(schema["name"]) if w not in KNOWN_VERBS} - IGNORED_WORDS
    scored = [(len(stems(k) & name_stems), k) for k in state if stems(k) & name_stems]
    return max(scored)[1] if scored else None


def inbox_key(schema: dict[str, Any], state: dict[str, Any]) -> str | None:
    """A key where sent things land (``channel_inbox``, ``sent_messages``, ``outbox``...); among several,
    the one sharing most words with the tool's name and arguments (a channel message -> ``channel_inbox``)."""
    near = stems(schema["name"]) | set().union(*(stems(a) for a in schema["parameters"].get("properties", {})))
    boxes = [(len(stems(k) & near), k) for k, v in state.items()
             if isinstance(v, (list, dict)) and set(words(k)) & INBOX_WORDS]
    return max(boxes)[1] if boxes else None


def money_key(state: dict[str, Any]) -> str | None:
    """A top-level balance, or a list of records with a balance-like number."""

    for k, v in state.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and money_field({k: v}):
            return k
    for k, v in state.items():
        if isinstance(v, (list, dict)) and any(money_field(f.record) for f in walk(v, max_depth=1)):
            return k
    return None


def log_key(state: dict[str, Any]) -> str | None:
    return next((k for k, v in state.items() if isinstance(v, list) and set(words(k)) & {"transactions",
                                                                                       "transaction", "history"}),
                None)


def plan_tool(schema: dict[str, Any], state: dict[str, Any], embedder: Embedder | None = None) -> Plan:
    """The heuristic plan for one tool over one case's initial state."""
    name = schema["name"]
    props = schema["parameters"].get("properties", {})
    cls, verb = tool_verb(name, embedder)
    lead = words(schema.get("description", ""))[:1]
    if cls == "update" and lead and lead[0] in DESCRIBED_READS:
        cls = "read"  # select_database_data: "Read the data stored in the database ..." - a query, not a choice
    key, why = choose_key(schema, state, embedder)
    value = state.get(key) if key is not None else None
    records = record_list(value)
    mapping, text_args = map_arguments(schema, records) if records else ({}, ())
    writes_value = any(a.startswith(("new_", "updated_")) for a in props)
    if cls == "compute" and writes_value and key is not None:
        cls, why = "update", f"a new_* argument; {why}"
    amount = next((a for a in props if "amount" in words(a) or a in ("price", "sum", "value_usd")), None)
    if verb in MONEY_VERBS and money_key(state) and not amount and cls != "send" and any(
            is_identifier(a) for a in props) and _priced(state):
        mk = money_key(state)
        return Plan("transfer", mk, log=log_key(state),
                    why=f"{verb}: the named item's price comes out of the balance in '{mk}'")
    if verb in MONEY_VERBS and amount and money_key(state):
        to = next((a for a in props if words(a)[0] in ("to", "recipient", "payee", "receiver", "target",
                                                        "destination", "beneficiary")), None)
        mk = money_key(state)
        return Plan("transfer", mk, amount=amount, to=to, log=log_key(state),
                    why=f"{verb}: moves {amount} out of the balance in '{mk}'" + (f" into {to}" if to else ""))
    if cls in ("read", "compute"):
        if key is None:
            if cls == "read" and state:
                return Plan("read", None, confident=False, why=f"{cls} verb; {why}: the whole state")
            return Plan("const", result={"success": True, "data": []} if cls == "read" else None,
                        confident=False, why=f"{cls} verb; {why}")
        if (records and (mapping or text_args)) or (isinstance(value, (list, dict)) and any(
                is_identifier(a) for a in props)):
            strict = cls == "read" and any(is_identifier(f) and is_identifier(a) for f, a in mapping.items())
            return Plan("filter", key, match=mapping, text_args=text_args, strict=strict, why=f"{cls} verb; {why}")
        return Plan("read", key, why=f"{cls} verb; {why}")
    if cls == "send":
        inbox = inbox_key(schema, state)
        if inbox is not None:
            content = next((a for a in props if set(words(a)) & {"content", "message", "text", "body"}), None)
            return Plan("append", inbox, set={"content": content} if content else {},
                        why=f"send verb: the message lands in '{inbox}'")
        return Plan("const", why="send verb: the message leaves the environment; fixed success message")
    if cls == "append":
        noun = noun_key(schema, state)
        target = state.get(noun) if noun else None
        nouns = [w for w in words(name) if w not in KNOWN_VERBS and w not in IGNORED_WORDS]
        if not state and nouns and any(stem(nouns[-1]) in stems(a) for a in props):
            new_key = plural(stem(nouns[-1]))
            return Plan("append", new_key, why=f"append verb; empty state, arguments describe a "
                                                f"{stem(nouns[-1])}: a new '{new_key}' list")
        if noun is not None and isinstance(target, list):
            fields = {f for r in target if isinstance(r, dict) for f in r}
            rec_map, _ = map_arguments(schema, [r for r in target if isinstance(r, dict)]) if fields else ({}, ())
            if fields and set(props) and set(rec_map.values()) == set(props):  # the arguments are a record
                return Plan("append", noun, match={f: a for f, a in rec_map.items() if is_identifier(f)},
                            why=f"append verb; the arguments are the fields of '{noun}' (updated if it exists)")
            if not _names_existing(props, target):
                return Plan("append", noun, why=f"append verb; the name names '{noun}'")
        held = list_field_key(name, state)
        item = _item_argument(props, held[1]) if held else None
        if held and item:
            holder, list_field = held
            recs = record_list(state[holder])
            match = map_arguments(schema, recs)[0] if recs else {}
            return Plan("update", holder, match={f: a for f, a in match.items() if a != item}, set={list_field: item},
                        why=f"append verb; the records in '{holder}' keep the '{list_field}' list the name names: "
                            f"{item} is added to it")
        return Plan("const", why="append verb; no list named by the tool that it adds to: fixed success message")
    status = VERB_STATUS.get(verb or "")
    if cls == "remove" and key is not None and isinstance(value, list) and props and value and not any(
            isinstance(v, (dict, list)) for v in value):
        return Plan("remove", key, why=f"remove verb; {why}: the list item an argument names")
    if cls == "remove" and key is not None and isinstance(value, (list, dict)) and (
            mapping or any(is_identifier(a) for a in props)):
        return Plan("remove", key, match=mapping, why=f"remove verb; {why}")
    if cls in ("update", "remove") and key is not None and (mapping or isinstance(value, (dict, list)) or props):
        if isinstance(value, dict) and not mapping:
            mapping = {a: a for a in props if a in value}
        return Plan("update", key, match=mapping, status=status if cls == "update" or verb == "cancel" else None,
                    why=f"{cls} verb; {why}")
    return Plan("const", why=f"{cls} verb; {why}; fixed success message")


def list_field_key(tool: str, state: dict[str, Any]) -> tuple[str, str] | None:
    """(state key, field): the one key whose records keep a list of plain values the tool's name names
    (``add_medication`` -> ``user_info``, ``current_medications``); None when no key or several do."""

    def named(value: Any) -> set[str]:
        found = [f.record for f in walk(value)] + ([value] if isinstance(value, dict) else [])
        return {f for r in found for f in list_fields_named_by(tool, r)}

    held = [(k, fields) for k, v in state.items() if isinstance(v, (list, dict)) and (fields := named(v))]
    return (held[0][0], next(iter(held[0][1]))) if len(held) == 1 and len(held[0][1]) == 1 else None


def _item_argument(props: dict[str, Any], list_field: str) -> str | None:
    """The argument that is the item to add: the one named like the list (``medication_name`` for
    ``current_medications``), else the one argument that identifies nothing (``location``)."""
    named = [a for a in props if stems(a) & stems(list_field)]
    plain = [a for a in props if not is_identifier(a)]
    return named[0] if len(named) == 1 else plain[0] if len(plain) == 1 else None


def _priced(state: dict[str, Any]) -> bool:

    return any(k.lower() in PRICE_FIELDS for f in walk(state) for k in f.record)


def _names_existing(props: dict[str, Any], records: list[Any]) -> bool:
    """The tool takes an identifier of records already in the list (``book_hotel(hotel_id)``): it acts
    on one of them rather than adding a new one."""
    ids = [a for a in props if is_identifier(a) and not a.startswith("new_")]
    fields = {f for r in records if isinstance(r, dict) for f in r}
    return any(a in fields or stems(a) & {stem(w) for f in fields if is_identifier(f) for w in words(f)}
               for a in ids) and bool(ids)
