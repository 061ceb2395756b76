"""Finding the records a tool call is about, wherever the case's state keeps them.

Benchmark states keep records as lists of objects (``devices: [{name, status}]``), as objects keyed
by name (``device_status: {oven: {status}}``), or nested one level down (``locations[0].incidents``).
``find_records`` walks all of these and scores each record against the call's identifier values
(``device_id="D1"``, ``names=["oven", "tv"]``); writes and identifier reads act on the best matches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from labkit.safety.words import stems
from labkit.safety.words import words as name_words

IDENTIFIER_WORDS = {"id", "ids", "name", "names", "title", "path", "email", "number", "url", "key", "code", "username",
                    "uid", "identifier", "account", "filename", "sku", "handle", "label", "keys"}


NEW_PREFIXES = ("new_", "updated_", "desired_", "target_")


def strip_new_prefix(arg: str) -> str:
    """``new_route`` -> ``route``: the field a new-value argument writes."""
    return next((arg[len(p):] for p in NEW_PREFIXES if arg.startswith(p)), arg)


def field_words(name: str) -> list[str]:
    return [w for w in re.split(r"[^a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()) if w]


def is_identifier(field_name: str) -> bool:
    """Fields/arguments that name a record rather than describe it: ``device_id``, ``file_path``, ``names``..."""
    ws = field_words(field_name)
    return bool(ws) and (ws[-1] in IDENTIFIER_WORDS or (len(ws) >= 2 and ws[-2:] == ["or", "path"])
                         or ws[-2:] == ["name", "or"])


def norm(value: Any) -> str:
    return str(value).strip().lower()


def value_equals(wanted: Any, have: Any) -> bool:
    """Identity used to pick records: case-insensitive; a list of wanted values matches any of them."""
    if isinstance(wanted, list):
        return any(value_equals(w, have) for w in wanted)
    if isinstance(have, bool) or isinstance(wanted, (dict, bool)) or isinstance(have, (dict, list)):
        return False
    if isinstance(have, (int, float)):
        try:
            return float(wanted) == float(have)
        except (TypeError, ValueError):
            return False
    return bool(norm(wanted)) and norm(wanted) == norm(have)


@dataclass
class Found:
    """A record, the container it sits in (list or keyed object), where in it, and its parent record."""

    record: dict[str, Any]
    container: list | dict
    at: int | str
    depth: int
    parent: Found | None = None
    score: int = 0


def walk(value: Any, depth: int = 0, max_depth: int = 3, parent: Found | None = None) -> list[Found]:
    """Every record reachable from ``value``: items of lists of objects, values of objects of objects."""
    out: list[Found] = []
    if depth > max_depth:
        return out
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, dict):
                found = Found(item, value, i, depth, parent)
                out.append(found)
                out.extend(walk(item, depth + 1, max_depth, found))
    elif isinstance(value, dict):
        for k, item in value.items():
            if isinstance(item, dict):
                found = Found(item, value, k, depth, parent) if _record_like(item) else None
                if found is not None:
                    out.append(found)
                out.extend(walk(item, depth + 1, max_depth, found or parent))
            elif isinstance(item, list):
                out.extend(walk(item, depth + 1, max_depth, parent))
    return out


def _record_like(d: dict[str, Any]) -> bool:
    return bool(d) and any(not isinstance(v, (dict, list)) for v in d.values()) or len(d) > 1


def record_matches(found: Found, wanted: Any, fields: tuple[str, ...] = ()) -> bool:
    """``wanted`` equals the record's name (its key), one of ``fields``, or any identifier field."""
    rec = found.record
    if isinstance(found.at, str) and value_equals(wanted, found.at):
        return True
    names = [f for f in fields if f in rec] or [f for f in rec if is_identifier(f)]
    if any(value_equals(wanted, rec[f]) for f in names):
        return True
    return not fields and any(value_equals(wanted, v) for f, v in rec.items() if isinstance(v, (str, int)))


def find_records(value: Any, wanted: dict[str, Any], fields: dict[str, str] | None = None,
                 prefer_fields: tuple[str, ...] = ()) -> list[Found]:
    """Records matching the most identifier values (argument -> value), shallowest first; [] if none.

    ``fields`` maps an argument to the record field it names when the plan knows it.
    """
    fields = fields or {}
    best: list[Found] = []
    top = 0
    candidates = walk(value)
    if isinstance(value, dict) and _record_like(value):  # the state key holds one record itself
        candidates.insert(0, Found(value, {}, "", -1))
    for found in candidates:
        # an identifier matched by the record or by a record it sits in (patient_id locates the patient,
        # sequence_id the sequence inside it: the sequence matches both)
        own = {a for a, v in wanted.items() if record_matches(found, v, (fields[a],) if a in fields else ())}
        inherited: set[str] = set()
        up = found.parent
        while up is not None:
            inherited |= {a for a, v in wanted.items() if record_matches(up, v, (fields[a],) if a in fields else ())}
            up = up.parent
        found.score = len(own | inherited) if own else 0
        if found.score > top:
            best, top = [found], found.score
        elif found.score == top and top > 0:
            best.append(found)
    if not best or not prefer_fields:
        shallow = min((f.depth for f in best), default=0)
        return [f for f in best if f.depth == shallow]
    # among equally good matches at several depths (a profile by user_id, its medication by
    # medication_id), the records that have the fields being written
    having = [f for f in best if any(p in f.record for p in prefer_fields)]
    pool = having or best
    shallow = min(f.depth for f in pool)
    return [f for f in pool if f.depth == shallow]


def remove_found(found: list[Found]) -> None:
    """Delete the records from their containers (list items by identity, keyed entries by key)."""
    for f in found:
        if isinstance(f.container, dict):
            f.container.pop(f.at, None)  # type: ignore[arg-type]
    lists: dict[int, tuple[list, list]] = {}
    for f in found:
        if isinstance(f.container, list):
            lists.setdefault(id(f.container), (f.container, []))[1].append(f.record)
    for container, gone in lists.values():
        container[:] = [r for r in container if not any(r is g for g in gone)]


STATUS_FIELDS = ("status", "state", "current_status", "mode")
FLAG_FIELDS = {"enabled": True, "active": True, "is_active": True, "activated": True, "on": True,
               "is_enabled": True, "online": True, "running": True}
OFF_STATES = {"disabled", "deactivated", "off", "stopped", "paused", "suspended", "halted", "inactive", "locked",
              "blocked", "closed", "cancelled", "revoked", "shut down", "rejected", "terminated"}


def set_fields(record: dict[str, Any], new: dict[str, Any], fields: dict[str, str], status: str | None,
                *, create: bool, tool: str = "") -> None:
    """Write the new values into ``record``: each to the field its argument names (``new_route`` ->
    ``current_route``), an object value into the sub-object holding its keys, a lone value that names
    no field to the one field the tool names (``increase_node_load(percentage)`` -> ``current_load``);
    with no value given, the verb's state (``status``) goes to a status/flag field, or a new
    ``<state>: true`` field."""
    wrote = False
    for arg, v in new.items():
        target = fields.get(arg) or field_for(arg, record)
        if target is None and isinstance(v, dict):
            holder = max((x for x in [record, *[y for y in record.values() if isinstance(y, dict)]]),
                         key=lambda d: len(set(d) & set(v)))
            holder.update(v)
            wrote = True
            continue
        if target is None and named_setting(record, arg, new):
            wrote = True
            continue
        if target is None and len(new) == 1:
            target = field_named_by(tool, record)
        if target is None:
            if not create:  # a value for no field of the record is not stored (specs can say otherwise)
                continue
            target = strip_new_prefix(arg)
        if isinstance(record.get(target), dict) and isinstance(v, dict):
            record[target].update(v)
        elif isinstance(record.get(target), list) and not isinstance(v, (dict, list)):
            if v not in record[target]:  # one value for a list (add_medication -> current_medications)
                record[target].append(v)
        else:
            record[target] = v
        wrote = True
    if status is None or (wrote and any((fields.get(a) or a) in STATUS_FIELDS for a in new)):
        return  # no verb state, or the call set the status itself
    off = status in OFF_STATES
    for f in STATUS_FIELDS:
        if isinstance(record.get(f), str):
            record[f] = status
            return
    for f, on in FLAG_FIELDS.items():
        if isinstance(record.get(f), bool):
            record[f] = on != off
            return
    record[status.replace(" ", "_")] = True


def named_setting(record: dict[str, Any], arg: str, new: dict[str, Any]) -> bool:
    """``adjust_settings(setting_name="magnetic_field", value=...)``: one argument names the key."""
    value = new[arg]
    names = [v for a, v in new.items() if a != arg and isinstance(v, str) and v in record]
    if names and not (isinstance(value, str) and value in record):
        record[names[0]] = value
        return True
    return False


def field_named_by(tool: str, record: dict[str, Any]) -> str | None:
    """The one non-identifier scalar field all of whose words are in the tool's name (``adjust_blankets_stock``
    -> ``blankets_stock``); None when there is no such field or more than one."""
    words = stems(tool)
    named = [f for f, v in record.items() if not is_identifier(f) and not isinstance(v, (dict, list))
             and stems(f) and stems(f) <= words]
    return named[0] if len(named) == 1 else None


def list_fields_named_by(tool: str, record: dict[str, Any]) -> list[str]:
    """The record's lists of plain values named by the tool's name: all the list's words are in the name
    (``add_new_route`` -> ``current_route``) or all the name's nouns are in the list's (``add_stop`` ->
    ``planned_stops``)."""
    words = stems(tool)
    nouns = stems(" ".join(name_words(tool)[1:]))  # the words after the verb
    return [f for f, v in record.items() if isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)
            and stems(f) and (stems(f) <= words or (nouns and nouns <= stems(f)))]


def field_for(arg: str, record: dict[str, Any]) -> str | None:
    """The record field an argument writes: same name, then most shared word stems (``new_x`` -> ``x``)."""
    if arg in record:
        return arg
    a = stems(arg)
    scored = [(len(a & stems(f)), -len(stems(f)), f) for f in record if a & stems(f)]
    return max(scored)[2] if scored else None


PRICE_FIELDS = {"price", "cost", "fee", "unit_price", "amount", "price_usd"}
MONEY_WORDS = ("balance", "fund", "budget", "credit", "cash", "money", "available", "wallet")


def money_field(record: dict[str, Any]) -> str | None:
    for f, v in record.items():
        if isinstance(v, (int, float)) and not isinstance(v, bool) and any(w in f.lower() for w in MONEY_WORDS):
            return f
    return None
