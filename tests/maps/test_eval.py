"""Answer parsing and the numeric judge on the shipped SimpleCircuitEval answers."""

import json

import pytest

from labkit.maps.answers import format_quantity, normalise_name, parse_quantity
from labkit.maps.data import load_simple_circuit_eval
from labkit.maps.eval import accuracy_table, judge_problem, judge_slot


def test_parser_maps_every_shipped_raw_answer(maps_data) -> None:
    rows = [json.loads(x) for x in open(maps_data / "simple_circuit_eval" / "answers_parsed.jsonl") if x.strip()]
    assert len(rows) == 87
    for row in rows:
        value, unit = parse_quantity(row["raw"])
        assert value == pytest.approx(row["value_si"], rel=1e-12, abs=1e-15), row["raw"]
        assert unit == row["unit"], row["raw"]


@pytest.mark.parametrize("text,expected", [("I = 2.5 mA", (2.5e-3, "A")),
                                           ("$2 \\times 10^{-3} \\mathrm{~A}$", (2e-3, "A")),
                                           ("3 kΩ", (3e3, "Ω")), ("−4 V", (-4.0, "V")), ("\\frac{1}{2} A", (0.5, "A")),
                                           ("5 MΩ", (5e6, "Ω")), ("4.7 μF", (4.7e-6, "F")), ("12 ohm", (12.0, "Ω")),
                                           ("0.5", (0.5, None)), ("no idea", None)])
def test_parser_forms(text, expected) -> None:
    got = parse_quantity(text)
    assert got == expected if expected is None else (got[0] == pytest.approx(expected[0]) and got[1] == expected[1])


SPACINGS = {  # how people write 1.67 kΩ (and the same for mA): every form parses to the same SI value and unit
    "$1.67 \\mathrm{k} \\Omega$": (1670.0, "Ω"), "$1.67 \\mathrm{~k} \\Omega$": (1670.0, "Ω"),
    "$1.67\\,\\mathrm{k\\Omega}$": (1670.0, "Ω"), "1.67\\,\\text{k}\\Omega": (1670.0, "Ω"),
    "1.67 kΩ": (1670.0, "Ω"), "1.67kΩ": (1670.0, "Ω"), "1.67 k Ω": (1670.0, "Ω"), "1.67 k ohm": (1670.0, "Ω"),
    "1.67 kilo-ohms": (1670.0, "Ω"), "1670 Ω": (1670.0, "Ω"), "1670 \\Omega": (1670.0, "Ω"),
    "$1.67 \\times 10^{3} \\Omega$": (1670.0, "Ω"), "1.67 k": (1670.0, None),
    "$25 \\mathrm{m} \\mathrm{A}$": (0.025, "A"), "25 m A": (0.025, "A"), "25 milliamps": (0.025, "A"),
    "2 mega ohms": (2e6, "Ω"), "5 M Ω": (5e6, "Ω"), "4.7 u F": (4.7e-6, "F"), "7 volts": (7.0, "V"),
}


@pytest.mark.parametrize("text", sorted(SPACINGS))
def test_prefixes_and_units_however_spaced(text: str) -> None:
    value, unit = parse_quantity(text)
    assert value == pytest.approx(SPACINGS[text][0], rel=1e-12) and unit == SPACINGS[text][1]


def test_spaced_prefix_gold_is_judged_in_si() -> None:
    gold = "$1.67 \\mathrm{k} \\Omega$"
    assert judge_slot("1.67 kΩ", gold) == (True, "ok") and judge_slot("1670 Ω", gold) == (True, "ok")
    assert judge_slot("1.67", gold) == (False, "value")  # a bare number is read in the gold's base unit
    assert judge_slot("1.67 kV", gold) == (False, "unit")


def test_judge_rules() -> None:
    assert judge_slot("25 mA", "$0.025 \\mathrm{A}$") == (True, "ok")  # mA vs A
    assert judge_slot("0.0255 A", "$25 \\mathrm{mA}$") == (False, "value")  # 2% off
    assert judge_slot("0.02525 A", "$25 \\mathrm{mA}$") == (True, "ok")  # 1% off is still right
    assert judge_slot("25 mV", "$25 \\mathrm{mA}$") == (False, "unit")
    assert judge_slot("0.0009", "$0$") == (True, "ok") and judge_slot("0.002 V", "$0$") == (False, "value")
    assert judge_slot(None, "$1 A$") == (False, "missing") and judge_slot("about two", "$2 A$") == (False, "unparsed")
    assert normalise_name("$U_{\\mathrm{ab}}$") == normalise_name("U_ab") == "uab"


def test_every_gold_answer_is_right_against_itself_and_2_percent_off_is_wrong(maps_data) -> None:
    problems = load_simple_circuit_eval(maps_data / "simple_circuit_eval")
    assert len(problems) == 40 and all(p.image and p.image.exists() for p in problems)
    rows = []
    for p in problems:
        assert all(v.right for v in judge_problem(dict(p.gold), p.gold)), p.id
        off = {q: format_quantity(parse_quantity(a)[0] * 1.02 if parse_quantity(a)[0] else 0.01, parse_quantity(a)[1])
               for q, a in p.gold.items()}
        assert not any(v.right for v in judge_problem(off, p.gold)), p.id
        rows.append({"id": p.id, "method": "gold", "verdicts": [v.__dict__ for v in judge_problem(p.gold, p.gold)]})
    table = accuracy_table(rows)["gold"]
    assert table["problem_accuracy"] == 1.0 and table["slots"] == 87 and set(table["per_unit"]) >= {"A", "V", "W"}
