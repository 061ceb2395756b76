"""The declarative operation set a tool is served by: const, read, filter, update, append, remove,
not_found (and simulate, which the engine hands to the LLM tool simulator).

A ``Plan`` (``plan.py``) says which operation serves a tool, on which state key, and how the call's arguments map
to record fields (``match``/``set``: field -> argument). Plans come from a per-environment YAML spec
or from ``heuristics.plan_tool``; ``apply_plan`` runs one on the episode's state (a deep copy of the
case's ``parameters``) and returns the tool's answer, upstream-style ``{"success": ..., ...}``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from labkit.safety.plan import Plan
from labkit.safety.records import (
    NEW_PREFIXES,
    PRICE_FIELDS,
    find_records,
    is_identifier,
    money_field,
    norm,
    remove_found,
    set_fields,
    strip_new_prefix,
    walk,
)
from labkit.safety.words import stems

WRITES = ("update", "append", "remove", "transfer")


def _ok(**kw: Any) -> dict[str, Any]:
    return {"success": True, **kw}


def not_found(message: str) -> dict[str, Any]:
    return {"success": False, "message": message}


def value_matches(wanted: Any, have: Any) -> bool:
    """Lenient equality used for searches: case-insensitive, substring either way for text."""
    if isinstance(have, list):
        return any(value_matches(wanted, h) for h in have)
    if isinstance(wanted, list):
        return any(value_matches(w, have) for w in wanted)
    if isinstance(have, (int, float)) and not isinstance(have, bool):
        try:
            return float(wanted) == float(have)
        except (TypeError, ValueError):
            return False
    a, b = norm(wanted), norm(have)
    return bool(a) and (a == b or (len(a) >= 3 and a in b) or (len(b) >= 3 and b in a))


WORD = re.compile(r"[a-z0-9]{3,}")
STOP = {"the", "and", "for", "with", "from", "that", "this", "all", "any", "are", "you", "your", "please", "about"}


def text_matches(query: Any, record: Any) -> bool:
    words = set(WORD.findall(norm(query))) - STOP
    hay = norm(json.dumps(record, ensure_ascii=False))
    return not words or any(w in hay for w in words)


def record_list(value: Any) -> list[dict[str, Any]] | None:
    """``value`` when it is a non-empty list of records (objects), else None."""
    return value if isinstance(value, list) and value and all(isinstance(r, dict) for r in value) else None


def id_arguments(plan: Plan, args: dict[str, Any]) -> dict[str, Any]:
    """The call's identifier values: arguments mapped to identifier fields, or named like identifiers."""
    mapped = {a for f, a in plan.match.items() if is_identifier(f)}
    skip = {plan.amount, plan.to} | set(plan.set.values())
    return {a: v for a, v in args.items() if (a in mapped or is_identifier(a)) and a not in skip
            and not a.startswith(NEW_PREFIXES) and v not in (None, "", [])}


def apply_plan(plan: Plan, tool: str, state: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """Run ``plan`` for a call of ``tool`` with validated ``args``; may change ``state`` in place.

    The answer never shares objects with the state: a stored trajectory shows what the call saw.
    """
    return copy.deepcopy(_apply(plan, tool, state, args))


def _apply(plan: Plan, tool: str, state: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    op = plan.op
    done = _ok(message=plan.message or f"{tool} succeeded.")
    if op == "const":
        return dict(plan.result) if plan.result is not None else done
    if op == "not_found":
        return not_found(plan.message or f"{tool}: nothing found.")
    if op == "append":
        _append(plan, tool, state, args)
        return done
    if plan.key is not None and plan.key not in state:
        if op == "update" and plan.set:  # a setting the environment keeps outside the case's state
            arg = next(iter(plan.set.values()))
            if arg in args:
                state[plan.key] = copy.deepcopy(args[arg])
                return done
        return not_found(plan.message or f"{tool}: no {plan.key} available.")
    value = state if plan.key is None else state[plan.key]
    extra = plan.result or {}  # reads: fixed fields the environment adds to every answer (rules, notices)
    if op == "read":
        return {**extra, **_ok(data=value)}
    if op == "filter":
        out = _filter(plan, tool, value, args)
        return {**extra, **out} if out["success"] else out
    if op == "transfer":
        return _transfer(plan, tool, state, value, args)
    if op in ("update", "remove"):
        out = _write(plan, tool, state, value, args)
        if out["success"] and plan.log:
            _log_call(state, plan.log, args)
        return out
    raise ValueError(f"operation '{op}' is not applied here")


def _log_call(state: dict[str, Any], key: str, args: dict[str, Any]) -> None:
    target = state.setdefault(key, [])
    if isinstance(target, list):
        target.append(dict(args))


def _append(plan: Plan, tool: str, state: dict[str, Any], args: dict[str, Any]) -> None:
    record = copy.deepcopy({f: args[a] for f, a in plan.set.items() if a in args} if plan.set else args)
    key = plan.key or tool
    target = state.setdefault(key, [])
    if isinstance(target, dict):  # an inbox keyed by channel/recipient: the list of the one named
        content = set(plan.set.values())
        names = [v for v in id_arguments(plan, args).values() if isinstance(v, str)] or \
            [v for v in args.values() if isinstance(v, str) and v in target] or \
            [v for a, v in args.items() if isinstance(v, str) and a not in content]
        if names:
            box = target.setdefault(names[0], [])
            if isinstance(box, list):
                box.append(record.get("content", record) if len(plan.set) == 1 else record)
        return
    if isinstance(target, list):
        ids = id_arguments(plan, args)
        found = find_records(target, ids, {a: f for f, a in plan.match.items()}) if ids and plan.match else []
        if found:  # the record is already there (write_file on an existing path): it is updated instead
            found[0].record.update(record)
        else:
            target.append(record)


def _filter(plan: Plan, tool: str, value: Any, args: dict[str, Any]) -> dict[str, Any]:
    ids = id_arguments(plan, args)
    if ids and isinstance(value, (list, dict)):  # asked for named records: those, or (strict) not found
        if isinstance(value, dict) and any(isinstance(v, str) and v in value for v in ids.values()):
            return _ok(data={v: value[v] for v in ids.values() if isinstance(v, str) and v in value})
        fields = {a: f for f, a in plan.match.items()}
        found = find_records(value, ids, fields)
        if found:
            shown = [f.record for f in found]
            return _ok(data=shown if len(shown) > 1 else shown[0])
        if plan.strict:
            shown = ", ".join(f"{a}={v!r}" for a, v in ids.items())
            return not_found(plan.message or f"{tool}: nothing with {shown}.")
    records = record_list(value)
    if records is None:
        return _ok(data=value)
    given = {f: args[a] for f, a in plan.match.items() if args.get(a) not in (None, "", [])}
    texts = [args[a] for a in plan.text_args if args.get(a) not in (None, "", [])]
    if not given and not texts:
        return _ok(data=records)
    hits = [r for r in records
            if all(value_matches(v, r.get(f)) for f, v in given.items() if f in r)
            and all(text_matches(t, r) for t in texts)]
    return _ok(data=hits or records)  # permissive, as upstream: an unmatched search returns everything


def names_key(arg: str, key: str) -> bool:
    """The argument names the key: all its words are the key's (``new_power_output`` -> ``current_power_output``,
    but ``search_text`` is not ``return_text``)."""
    a = stems(strip_new_prefix(arg))
    return bool(a) and a <= stems(key)


def _new_values(plan: Plan, args: dict[str, Any], ids: dict[str, Any]) -> dict[str, Any]:
    """Argument -> new value: every argument that does not identify the record."""
    return {a: v for a, v in args.items() if a not in ids and a not in (plan.amount, plan.to)
            and a not in plan.text_args}


def _write(plan: Plan, tool: str, state: dict[str, Any], value: Any, args: dict[str, Any]) -> dict[str, Any]:
    done = _ok(message=plan.message or f"{tool} succeeded.")
    ids = id_arguments(plan, args)
    fields = {a: f for f, a in {**plan.match, **plan.set}.items()}
    new = _new_values(plan, args, ids)
    if plan.op == "remove" and isinstance(value, list) and record_list(value) is None and args:
        names = {norm(v) for v in args.values() if isinstance(v, (str, int, float))} | {
            norm(x) for v in args.values() if isinstance(v, list) for x in v if isinstance(x, (str, int, float))}
        kept = [x for x in value if isinstance(x, (dict, list)) or norm(x) not in names]  # users: ["Alice", ...]
        if len(kept) == len(value):
            return not_found(f"{tool}: none of {sorted(names)} is in {plan.key or 'the state'}.")
        value[:] = kept
        return done
    if not ids:
        if isinstance(value, dict):  # a settings-like object: set the named keys, or the one an argument names
            if plan.op == "remove":
                return done
            set_fields(value, new, fields, plan.status, create=bool(plan.set))
            return done
        records = record_list(value)
        if records is None:
            if plan.key is not None and not isinstance(value, list):  # a scalar setting: new_power_output ->
                same = [v for a, v in _new_first(new) if names_key(a, plan.key)]  # current_power_output
                if same:
                    state[plan.key] = same[0]
                elif len(new) == 1:  # a setting of its own beside it (type_text_for_search -> search_text)
                    state.update(copy.deepcopy(new))
            else:
                _set_named_scalar(state, new)
            return done
        # no identifier: the record the other given values name (course="Mathematics")
        known = {norm(v) for f in walk(records) for v in f.record.values() if isinstance(v, (str, int, float))}
        ids = {a: v for a, v in new.items() if isinstance(v, (str, int, float)) and norm(v) in known
               and not a.startswith(NEW_PREFIXES)}
        if not ids:
            _set_named_scalar(state, new)
            return done
        new = {a: v for a, v in new.items() if a not in ids}
    if isinstance(value, dict) and _set_named_entry(value, ids, new, plan.op):
        return done
    wanted_fields = tuple(fields.get(a) or strip_new_prefix(a) for a in new)
    found = find_records(value, ids, fields, prefer_fields=wanted_fields)
    if not found:
        if not _knows_field(value, ids, fields):  # the identifier names no field here: nothing to act on
            return done
        shown = ", ".join(f"{a}={v!r}" for a, v in ids.items())
        return not_found(f"{tool}: no record in {plan.key or 'the state'} with {shown}.")
    if plan.op == "remove":
        remove_found(found)
        return done
    for f in found:
        set_fields(f.record, new, fields, plan.status, create=bool(plan.set), tool=tool)
    return {**done, "data": found[0].record} if len(found) == 1 else done


def _new_first(new: dict[str, Any]) -> list[tuple[str, Any]]:
    """The arguments, new-value ones (``new_password``) before the others (``current_password``)."""
    return sorted(new.items(), key=lambda kv: not kv[0].startswith(NEW_PREFIXES))


def _set_named_scalar(state: dict[str, Any], new: dict[str, Any]) -> None:
    """A ``new_X`` argument with no record to act on sets the one setting named X, wherever the state keeps
    it outside lists (``change_channel(new_channel)`` -> ``device_config.current_channel``;
    ``new_provider_id`` -> ``current_provider``); nothing when no such field or several."""
    holders = [state, *[d for d in state.values() if isinstance(d, dict)]]
    for arg, v in new.items():
        want = stems(strip_new_prefix(arg)) - {"id"} if arg.startswith(NEW_PREFIXES) else set()
        named = [(d, f) for d in holders for f, x in d.items()
                 if want and not isinstance(x, (dict, list)) and want <= stems(f)]
        if len(named) == 1 and not isinstance(v, (dict, list)):
            d, f = named[0]
            d[f] = copy.deepcopy(v)


def _set_named_entry(value: dict[str, Any], ids: dict[str, Any], new: dict[str, Any], op: str) -> bool:
    """``settings.magnetic_field = v`` for ``(setting_name="magnetic_field", new_value=v)``; a keyed entry
    removed for remove tools. Entries that are records are left to the record search."""
    names = [v for v in ids.values() if isinstance(v, str) and v in value]
    if not names or isinstance(value[names[0]], dict):
        return False
    if op == "remove":
        value.pop(names[0])
        return True
    if len(new) == 1:
        value[names[0]] = next(iter(new.values()))
        return True
    return False


def _knows_field(value: Any, ids: dict[str, Any], fields: dict[str, str]) -> bool:
    """Whether some identifier argument names a field (or the keys) of the records kept here."""
    if any(a in fields for a in ids):
        return True
    seen = {f for found in walk(value) for f in found.record}
    return any(a in seen or (a.endswith("s") and a[:-1] in seen) for a in ids)


def _transfer(plan: Plan, tool: str, state: dict[str, Any], value: Any, args: dict[str, Any]) -> dict[str, Any]:
    """Move ``amount`` out of the identified (or only) balance, into the ``to`` record when there is one."""
    if plan.amount is None:  # a purchase: the price of the item the call names
        item = find_records(state, id_arguments(plan, args))
        price = next((f.record[k] for f in item for k in f.record if k.lower() in PRICE_FIELDS), None)
        if price is None:
            return not_found(f"{tool}: no priced item with " + ", ".join(f"{a}={v!r}" for a, v in args.items()))
        amount = float(price) * float(args.get("quantity", 1) or 1)
        value = state[plan.key]  # type: ignore[index]
    else:
        try:
            amount = float(args.get(plan.amount))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return not_found(f"{tool}: the amount must be a number.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # one top-level balance
        if value < amount:
            return not_found(f"{tool}: insufficient balance.")
        state[plan.key] = value - amount  # type: ignore[index]
        return _moved(plan, tool, state, args)
    ids = {a: v for a, v in id_arguments(plan, args).items() if a != plan.to} if plan.amount else {}
    source = find_records(value, ids) if ids else [f for f in walk(value) if money_field(f.record)][:1]
    source = [f for f in source if money_field(f.record)]
    if not source:
        return not_found(f"{tool}: no account with {', '.join(f'{a}={v!r}' for a, v in ids.items())}.")
    debit = source[0].record
    key = money_field(debit)
    if debit[key] < amount:
        return not_found(f"{tool}: insufficient balance.")
    credit = find_records(value, {plan.to: args[plan.to]}) if plan.to and args.get(plan.to) else []
    credit = [f for f in credit if money_field(f.record) and f.record is not debit]
    debit[key] = debit[key] - amount
    if credit:
        credit[0].record[money_field(credit[0].record)] += amount
    return _moved(plan, tool, state, args)


def _moved(plan: Plan, tool: str, state: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    """After a transfer: the call logged where the plan says (transactions), then the success answer."""
    if plan.log:
        _log_call(state, plan.log, args)
    return _ok(message=plan.message or f"{tool} succeeded.")
