"""Strategy space and prompt rendering (brief check 2)."""

import hashlib
import re

import pytest

from labkit.core.errors import ConfigError
from labkit.hpss.data import Item
from labkit.hpss.parse import parse_rating
from labkit.hpss.prompts import Pieces, render_prompt
from labkit.hpss.space import StrategySpace
from labkit.hpss.tasks import TASKS

ITEM = Item("7", {"source": "hi there\nhello", "context": "fact: the sky is blue", "output": "nice day!"},
            {"coherence": 2.0})
FULL = Pieces(criterion="CRITERION-TEXT", autocot="Evaluation Steps:\n1. STEP-ONE",
              metric_questions="1. QUESTION-ONE?", reference="REFERENCE-TEXT", examples="# Example 1: EXAMPLES")


def test_paper_space_size_and_default() -> None:
    space = StrategySpace.paper()
    assert space.size == 12_960 == len(list(space.all()))
    assert space.default(3) == (3, "Human", "Prefix", "NoAutoCoT", "NoMetrics", "NoExample", "NoReference", "TEI")
    assert len(space.neighbours(space.default())) == 20


def test_user_space_is_checked() -> None:
    space = StrategySpace.from_dict({"scale": [3, 7], "examples": ["NoExample", "Example2"]})
    assert space.size == 2 * 3 * 3 * 2 * 2 * 2 * 3 * 6
    with pytest.raises(ConfigError, match="unknown factor"):
        StrategySpace.from_dict({"tone": ["x"]})
    with pytest.raises(ConfigError, match="'cot': unknown value"):
        StrategySpace.from_dict({"cot": ["Sideways"]})


def render(**changes) -> str:
    space = StrategySpace.paper()
    values = {**space.as_dict(space.default(3)), **changes}
    return render_prompt(TASKS["topical_chat"], "coherence", values, ITEM, FULL)[1]["content"]


@pytest.mark.parametrize("order", ["TEI", "TIE", "ITE", "IET", "EIT", "ETI"])
def test_each_order_places_blocks_in_sequence(order: str) -> None:
    text = render(order=order)
    pos = {"T": text.index("[Task]"), "E": text.index("[Evaluation Criteria]"),
           "I": text.index("[Conversation History]")}
    assert sorted(pos, key=pos.get) == list(order)
    assert not re.search(r"\{[a-z_]*\}", text)  # no placeholder left


def test_no_values_leave_no_trace() -> None:
    space = StrategySpace.paper()
    values = space.as_dict(space.default(3))
    bare = render_prompt(TASKS["topical_chat"], "coherence", values, ITEM, Pieces())[1]["content"]
    for marker in ("Evaluation Criteria", "Evaluation Steps", "Questions to Consider", "Reference", "Examples",
                   "your own"):
        assert marker not in bare
    assert "[[rating]]" in bare and "scale of 1 to 3" in bare
    assert "your own response" in render(reference="Dialectic")
    assert "no explanation" in render(cot="Free") and "then briefly explain" in render(cot="Suffix")


def test_rendering_is_byte_identical() -> None:
    digests = {hashlib.sha256(render(order=o, scale=s).encode()).hexdigest() for o in ["TEI"] for s in [5, 5, 5]}
    assert len(digests) == 1
    assert render(scale=10) != render(scale=5)


def test_groundedness_uses_zero_to_one_on_the_three_point_scale() -> None:
    space = StrategySpace.paper()
    text = render_prompt(TASKS["topical_chat"], "groundedness", space.as_dict(space.default(3)), ITEM, Pieces())
    assert "scale of 0 to 1" in text[1]["content"]


@pytest.mark.parametrize("text,want", [
    ("Good. Rating: [[4]]", 4.0), ("[3] because", 3.0), ("Rating: 2.5", 2.5), ("I give it 5 out of 5", 5.0),
    ("[[9]]", None), ("no idea", None), ("Rating: **3**", 3.0),
])
def test_rating_parser(text, want) -> None:
    assert parse_rating(text, 1, 5) == want
