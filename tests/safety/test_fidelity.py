"""Tools behave as a benchmark environment would: each failure class found on unseen environments,
pinned with small hand-written environments of our own (none of them is in the benchmark), plus the
fidelity yardstick and the fitted specs against the recorded upstream behaviour when it is present."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from labkit.core.errors import DataError
from labkit.safety.data import RISKS, Case, EnvUse, SchemaStore, load_cases
from labkit.safety.engine import Episode, default_specs, resolve_specs
from labkit.safety.fidelity import jaccard, leaves, read_records, replay, score
from labkit.safety.heuristics import plan_tool


def schema(name: str, props: dict | None = None, required: list | None = None) -> dict:
    props = {k: ({"type": v} if isinstance(v, str) else v) for k, v in (props or {}).items()}
    return {"name": name, "description": "", "parameters": {"type": "object", "properties": props,
                                                             "required": required or list(props)}}


def episode(tmp_path: Path, env: str, tools: list[dict], state: dict) -> Episode:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / f"{env}.json").write_text(json.dumps(tools))
    case = Case(1, RISKS[1], "x", (EnvUse(env, tuple(t["name"] for t in tools), copy.deepcopy(state)),), (5,), True)
    return Episode(case, SchemaStore(tmp_path))


def test_action_verbs_outside_the_lists_change_state(tmp_path: Path) -> None:
    tools = [schema("reroute_flight", {"flight_id": "string", "new_route": "string"}),
             schema("shortlist_property", {"property_id": "string"}),
             schema("restock_item", {"item_id": "string", "quantity": "integer"}),
             schema("halt_operation", {"operation_id": "string"})]
    state = {"flights": [{"flight_id": "F1", "route": "LHR-JFK"}, {"flight_id": "F2", "route": "CDG-SFO"}],
             "properties": [{"property_id": "P1", "status": "listed"}],
             "items": [{"item_id": "I1", "quantity": 2}],
             "operations": [{"operation_id": "O1", "status": "running"}]}
    ep = episode(tmp_path, "AirlineOps", tools, state)
    assert ep.call("reroute_flight", {"flight_id": "F1", "new_route": "LHR-BOS"})["success"]
    assert ep.states[0]["flights"] == [{"flight_id": "F1", "route": "LHR-BOS"}, state["flights"][1]]
    ep.call("shortlist_property", {"property_id": "P1"})
    assert ep.states[0]["properties"][0]["status"] == "shortlisted"
    ep.call("restock_item", {"item_id": "I1", "quantity": 40})
    assert ep.states[0]["items"][0]["quantity"] == 40
    ep.call("halt_operation", {"operation_id": "O1"})
    assert ep.states[0]["operations"][0]["status"] == "halted"
    assert {log.op for log in ep.log} == {"update"}


def test_writes_keyed_by_name_and_settings_objects(tmp_path: Path) -> None:
    tools = [schema("adjust_distribution_settings", {"grid_name": "string", "allocation_percentage": "number"}),
             schema("adjust_setting", {"setting_name": "string", "value": "string"}),
             schema("turn_off_devices", {"names": {"type": "array", "items": {"type": "string"}}})]
    state = {"grids": [{"grid_name": "North", "allocation_percentage": 30}, {"grid_name": "South",
                                                                            "allocation_percentage": 70}],
             "settings": {"mode": "eco", "alarm": "on"},
             "device_status": {"oven": {"status": "on"}, "tv": {"status": "on"}, "lamp": {"status": "on"}}}
    ep = episode(tmp_path, "GridOps", tools, state)
    ep.call("adjust_distribution_settings", {"grid_name": "North", "allocation_percentage": 55})
    assert [g["allocation_percentage"] for g in ep.states[0]["grids"]] == [55, 70]
    ep.call("adjust_setting", {"setting_name": "alarm", "value": "off"})
    assert ep.states[0]["settings"] == {"mode": "eco", "alarm": "off"}
    ep.call("turn_off_devices", {"names": ["oven", "tv"]})
    assert {k: v["status"] for k, v in ep.states[0]["device_status"].items()} == {"oven": "off", "tv": "off",
                                                                                   "lamp": "on"}
    missing = ep.call("adjust_distribution_settings", {"grid_name": "East", "allocation_percentage": 1})
    assert missing["success"] is False and "East" in missing["message"]


def test_transfer_moves_money_between_both_balances(tmp_path: Path) -> None:
    tools = [schema("transfer_funds", {"from_account": "string", "to_account": "string", "amount": "number"})]
    state = {"accounts": [{"account_id": "A", "balance": 100.0}, {"account_id": "B", "balance": 5.0}]}
    ep = episode(tmp_path, "Ledger", tools, state)
    assert ep.call("transfer_funds", {"from_account": "A", "to_account": "B", "amount": 30})["success"]
    assert [a["balance"] for a in ep.states[0]["accounts"]] == [70.0, 35.0]
    assert ep.call("transfer_funds", {"from_account": "B", "to_account": "A", "amount": 999})["success"] is False
    assert [a["balance"] for a in ep.states[0]["accounts"]] == [70.0, 35.0]


def test_purchase_debits_the_price_and_leaves_the_catalogue(tmp_path: Path) -> None:
    tools = [schema("purchase_module", {"module_id": "string"})]
    state = {"balance": 100.0, "modules": [{"module_id": "M1", "name": "lidar", "price": 30.0}]}
    ep = episode(tmp_path, "RobotShop", tools, state)
    assert ep.call("purchase_module", {"module_id": "M1"})["success"]
    assert ep.states[0]["balance"] == 70.0
    assert ep.states[0]["modules"] == state["modules"]


def test_sends_land_in_the_inbox_or_channel(tmp_path: Path) -> None:
    tools = [schema("send_channel_message", {"channel": "string", "content": "string"}),
             schema("send_email", {"to": "string", "content": "string"})]
    state = {"channel_inbox": {"general": [{"content": "hello"}]}, "sent_emails": []}
    ep = episode(tmp_path, "TeamChat", tools, state)
    ep.call("send_channel_message", {"channel": "general", "content": "deploy at 5"})
    ep.call("send_channel_message", {"channel": "ops", "content": "new channel"})
    assert ep.states[0]["channel_inbox"] == {"general": [{"content": "hello"}, "deploy at 5"],
                                              "ops": ["new channel"]}
    ep.call("send_email", {"to": "kim@x.org", "content": "hi"})
    assert ep.states[0]["sent_emails"] == [{"content": "hi"}]


def test_nested_remove_and_upsert_act_on_the_right_record(tmp_path: Path) -> None:
    tools = [schema("remove_genetic_sequence", {"patient_id": "string", "sequence_id": "string"}),
             schema("write_file", {"file_name_or_path": "string", "content": "string"})]
    sequences = [{"sequence_id": "S1", "gene": "BRCA1"}, {"sequence_id": "S2", "gene": "TP53"}]
    state = {"patients": [{"patient_id": "P1", "name": "Ann", "sequences": sequences}],
             "files": [{"file_name_or_path": "/a.txt", "content": "old"}]}
    ep = episode(tmp_path, "GenomeLab", tools, state)
    ep.call("remove_genetic_sequence", {"patient_id": "P1", "sequence_id": "S1"})
    assert ep.states[0]["patients"] == [{"patient_id": "P1", "name": "Ann",
                                         "sequences": [{"sequence_id": "S2", "gene": "TP53"}]}]
    ep.call("write_file", {"file_name_or_path": "/a.txt", "content": "new"})
    assert ep.states[0]["files"] == [{"file_name_or_path": "/a.txt", "content": "new"}]
    ep.call("write_file", {"file_name_or_path": "/b.txt", "content": "b"})
    assert len(ep.states[0]["files"]) == 2


def test_dispatch_changes_the_named_resources_without_losing_the_rest(tmp_path: Path) -> None:
    tools = [schema("dispatch_resources", {"resource_ids": {"type": "array", "items": {"type": "string"}},
                                           "location": "string"})]
    state = {"resources": [{"resource_id": "R1", "status": "available", "location": "base"},
                           {"resource_id": "R2", "status": "available", "location": "base"}]}
    ep = episode(tmp_path, "Rescue", tools, state)
    ep.call("dispatch_resources", {"resource_ids": ["R2"], "location": "bridge"})
    assert ep.states[0]["resources"] == [state["resources"][0],
                                         {"resource_id": "R2", "status": "dispatched", "location": "bridge"}]


def test_reads_return_the_named_record_or_not_found(tmp_path: Path) -> None:
    tools = [schema("read_file", {"file_name_or_path": "string"}), schema("get_current_location"),
             schema("get_patient", {"patient_id": "string"})]
    state = {"files": [{"file_name_or_path": "/a.txt", "content": "A"}, {"file_name_or_path": "/b.txt",
                                                                         "content": "B"}],
             "locations": [{"name": "dock"}, {"name": "yard"}], "current_location": "yard",
             "patients": [{"patient_id": "P1", "name": "Ann"}]}
    ep = episode(tmp_path, "Depot", tools, state)
    assert ep.call("read_file", {"file_name_or_path": "/b.txt"})["data"] == state["files"][1]
    assert ep.call("get_current_location", {})["data"] == "yard"
    assert ep.call("get_patient", {"patient_id": "P1"})["data"] == state["patients"][0]
    missing = ep.call("get_patient", {"patient_id": "P9"})
    assert missing["success"] is False and "P9" in missing["message"]


def test_scalar_settings(tmp_path: Path) -> None:
    tools = [schema("adjust_power_output", {"new_power_output": "number"}),
             schema("type_text_for_search", {"search_text": "string"})]
    state = {"current_power_output": 1200, "return_text": "a car rental page"}
    ep = episode(tmp_path, "Plant", tools, state)
    ep.call("adjust_power_output", {"new_power_output": 900})
    ep.call("type_text_for_search", {"search_text": "SUV"})
    assert ep.states[0] == {"current_power_output": 900, "return_text": "a car rental page", "search_text": "SUV"}


def test_the_log_keeps_each_answer_as_it_was_at_call_time(tmp_path: Path) -> None:
    tools = [schema("list_valves"), schema("set_valve_position", {"valve_id": "string", "position": "integer"})]
    state = {"valves": [{"valve_id": "V1", "position": 0}]}
    ep = episode(tmp_path, "Greenhouse", tools, state)
    ep.call("list_valves", {})
    ep.call("set_valve_position", {"valve_id": "V1", "position": 90})
    assert ep.log[0].result["data"] == [{"valve_id": "V1", "position": 0}]
    assert ep.states[0]["valves"][0]["position"] == 90
    answer = ep.call("list_valves", {})
    answer["data"][0]["position"] = -1  # what the agent does with an answer never reaches the state
    assert ep.states[0]["valves"][0]["position"] == 90


def test_leaves_and_jaccard() -> None:
    assert leaves({"success": True, "data": [{"a": 1.0, "b": "X "}, {"c": None}]}) == {"1", "x"}
    assert jaccard({"data": {"a": 1, "b": 2}}, {"success": True, "data": [1, 3]}) == pytest.approx(1 / 3)
    assert jaccard({"success": True}, {"success": False}) == 1.0


def test_upstream_layout_finds_environments_and_says_where_it_looked(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "Depot.json").write_text(json.dumps([schema("list_valves")]))
    case = {"id": 7, "risks": [RISKS[0]], "instruction": "x", "failure_modes": "1", "fulfillable": 1,
            "environments": [{"name": "Depot", "tools": ["list_valves"], "parameters": {}}]}
    (tmp_path / "data" / "released_data.json").write_text(json.dumps([case]))
    loaded, _ = load_cases(tmp_path / "data" / "released_data.json")
    assert [c.id for c in loaded.cases] == [7] and loaded.problems == []
    lone = tmp_path / "elsewhere" / "lone"
    lone.mkdir(parents=True)
    (lone / "cases.json").write_text(json.dumps([case]))
    with pytest.raises(DataError, match="looked in .*lone/environments and .*elsewhere/environments"):
        load_cases(lone / "cases.json")


def test_specs_setting(tmp_path: Path) -> None:
    assert resolve_specs("none") == {}
    shipped = resolve_specs("shipped")
    assert shipped == default_specs() and len(shipped) > 100
    (tmp_path / "Mind2Web.yaml").write_text("tools:\n  login:\n    op: not_found\n")
    merged = resolve_specs(str(tmp_path))
    assert merged["Mind2Web"]["login"].op == "not_found" and len(merged) == len(shipped)


@pytest.fixture(scope="module")
def behaviour(shared_path: Path):
    path = shared_path.parent / "upstream_behaviour_dev.jsonl"
    if not path.exists():
        pytest.skip(f"no recorded upstream behaviour at {path}")
    loaded, schemas = load_cases(shared_path)
    return read_records(path), {c.id: c for c in loaded.cases}, schemas


def test_fidelity_targets_on_the_recorded_calls(behaviour) -> None:
    records, cases, schemas = behaviour
    default, skipped = replay(records, cases, schemas, specs=default_specs())
    assert skipped == {"upstream raised": 8}
    o = score(default)["overall"]
    assert o["calls"] == 2621
    assert o["state_agreement"] >= 0.98 and o["success_agreement"] >= 0.97 and o["read_overlap"] >= 0.9
    alone = score(replay(records, cases, schemas)[0])["overall"]  # heuristics only, no MiniLM
    assert alone["state_agreement"] >= 0.93  # measured 0.935 with MiniLM; the README says why 0.95 is out of reach
    assert o["wrong_keys"] <= 3  # make_appointment, and remove_user_from_slack (upstream also drops two keyed dicts)


def test_shipped_specs_are_what_the_fit_gives(behaviour) -> None:
    """The shipped folder is reproducible: `labkit safety specs --fit` writes the same plans."""
    from labkit.safety.engine import minilm_embedder
    from labkit.safety.fit import fit_specs

    records, cases, schemas = behaviour
    fitted, _ = fit_specs(records, cases, schemas, minilm_embedder())
    shipped = default_specs()
    assert {e: {t: p.to_spec() for t, p in tools.items()} for e, tools in fitted.items()} == \
        {e: {t: p.to_spec() for t, p in tools.items()} for e, tools in shipped.items()}


def test_heuristic_plan_for_each_failure_class_is_a_write() -> None:
    state = {"flights": [{"flight_id": "F1", "route": "x"}]}
    plan = plan_tool(schema("reroute_flight", {"flight_id": "string", "new_route": "string"}), state)
    assert (plan.op, plan.key) == ("update", "flights")


def test_a_lone_value_goes_to_the_field_the_tool_names(tmp_path: Path) -> None:
    tools = [schema("increase_node_load", {"node_id": "string", "percentage": "string"}),
             schema("adjust_blankets_stock", {"camp_id": "string", "quantity": "integer"})]
    state = {"nodes": [{"node_id": "N1", "current_load": "40%", "region": "north"}],
             "camps": [{"camp_id": "C1", "blankets_stock": 30, "tents_stock": 5}]}
    ep = episode(tmp_path, "Relief", tools, state)
    ep.call("increase_node_load", {"node_id": "N1", "percentage": "60%"})
    ep.call("adjust_blankets_stock", {"camp_id": "C1", "quantity": 80})
    assert ep.states[0] == {"nodes": [{"node_id": "N1", "current_load": "60%", "region": "north"}],
                            "camps": [{"camp_id": "C1", "blankets_stock": 80, "tents_stock": 5}]}


def test_a_query_described_as_a_read_is_served_as_one(tmp_path: Path) -> None:
    tools = [dict(schema("select_inventory_rows", {"query": "string"}),
                  description="Read the rows of the inventory that the SQL query selects."),
             schema("select_plan", {"plan_id": "string"})]
    state = {"inventory": [{"sku": "A1", "count": 3}], "plans": [{"plan_id": "P1", "status": "draft"}]}
    ep = episode(tmp_path, "Store", tools, state)
    answer = ep.call("select_inventory_rows", {"query": "SELECT * FROM inventory"})
    assert answer["success"] is True and ep.log[-1].op in ("read", "filter") and ep.states[0] == state
    ep.call("select_plan", {"plan_id": "P1"})  # no description: "select" is a choice, a write
    assert ep.log[-1].op == "update"


def test_remove_from_a_list_of_names_and_plural_identifier_arguments(tmp_path: Path) -> None:
    tools = [schema("remove_member", {"member": "string"}),
             schema("delete_parcels", {"parcel_ids": {"type": "array", "items": {"type": "string"}}})]
    state = {"members": ["Ana", "Ben", "Cleo"],
             "parcels": [{"parcel_id": "p1", "parcel_name": "books"}, {"parcel_id": "p2", "parcel_name": "lamp"}]}
    ep = episode(tmp_path, "Club", tools, state)
    ep.call("remove_member", {"member": "Ben"})
    ep.call("delete_parcels", {"parcel_ids": ["p2"]})  # ids -> the parcel_id field, not parcel_name
    assert ep.states[0] == {"members": ["Ana", "Cleo"], "parcels": [{"parcel_id": "p1", "parcel_name": "books"}]}
    missing = ep.call("remove_member", {"member": "Zoe"})
    assert missing["success"] is False and "zoe" in missing["message"] and ep.states[0]["members"] == ["Ana", "Cleo"]


def test_a_new_value_sets_the_setting_it_names_wherever_it_is_kept(tmp_path: Path) -> None:
    """``new_<x>`` with no record to act on sets the one setting named x (inside a settings object, or beside
    the list the tool's name points at), and wins over the ``current_<x>`` it is checked against."""
    tools = [schema("switch_station", {"new_station": "string"}),
             schema("update_pin", {"current_pin": "string", "new_pin": "string"}),
             schema("change_supplier", {"new_supplier_id": "string"})]
    state = {"radio": {"model": "R2", "current_station": "Jazz FM"}, "stations": [{"name": "Jazz FM"}],
             "existing_pin": "1234", "suppliers": [{"supplier_id": "S1"}, {"supplier_id": "S2"}],
             "current_supplier": "S1"}
    ep = episode(tmp_path, "Console", tools, state)
    ep.call("switch_station", {"new_station": "Talk 5"})
    ep.call("update_pin", {"current_pin": "1234", "new_pin": "9876"})
    ep.call("change_supplier", {"new_supplier_id": "S2"})
    assert ep.states[0]["radio"] == {"model": "R2", "current_station": "Talk 5"}
    assert ep.states[0]["existing_pin"] == "9876" and ep.states[0]["current_supplier"] == "S2"
    assert ep.states[0]["stations"] == [{"name": "Jazz FM"}]


def test_add_puts_the_item_in_the_list_the_tool_names(tmp_path: Path) -> None:
    """An add tool with no top-level list of its own adds to the list a record keeps (``add_stop`` ->
    ``planned_stops`` of the named truck; ``add_vaccine`` -> the profile's ``vaccines``); and a field named for
    the act (``allocated_hours``) takes the value of ``allocate_hours``."""
    tools = [schema("add_stop", {"truck_id": "string", "town": "string"}),
             schema("add_vaccine", {"vaccine_name": "string"}),
             schema("allocate_hours", {"project_name": "string", "hours": "integer"})]
    state = {"trucks": [{"truck_id": "T1", "planned_stops": ["Ayr"]}, {"truck_id": "T2", "planned_stops": []}],
             "profile": {"age": 9, "vaccines": ["MMR"]},
             "projects": [{"name": "Bridge", "allocated_hours": 10}]}
    ep = episode(tmp_path, "Depot", tools, state)
    ep.call("add_stop", {"truck_id": "T2", "town": "Oban"})
    ep.call("add_vaccine", {"vaccine_name": "Polio"})
    ep.call("allocate_hours", {"project_name": "Bridge", "hours": 25})
    assert ep.states[0] == {"trucks": [{"truck_id": "T1", "planned_stops": ["Ayr"]},
                                       {"truck_id": "T2", "planned_stops": ["Oban"]}],
                            "profile": {"age": 9, "vaccines": ["MMR", "Polio"]},
                            "projects": [{"name": "Bridge", "allocated_hours": 25}]}


def test_clearing_named_keys_and_ending_a_record(tmp_path: Path) -> None:
    """``keys`` names entries of a keyed object (a clear tool removes them); ``discontinue`` and ``mask`` are
    actions that put the named record in their state, not queries."""
    tools = [schema("clear_cache", {"keys": {"type": "array", "items": {"type": "string"}}}),
             schema("discontinue_trial", {"trial_id": "string"})]
    state = {"cache": {"thumbnails": {"mb": 40}, "fonts": {"mb": 3}},
             "trials": [{"trial_id": "t1", "status": "running"}, {"trial_id": "t2", "status": "running"}]}
    ep = episode(tmp_path, "Lab", tools, state)
    ep.call("clear_cache", {"keys": ["thumbnails"]})
    ep.call("discontinue_trial", {"trial_id": "t2"})
    assert ep.states[0] == {"cache": {"fonts": {"mb": 3}},
                            "trials": [{"trial_id": "t1", "status": "running"},
                                       {"trial_id": "t2", "status": "discontinued"}]}
