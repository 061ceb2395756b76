"""Golden tests of PRAG's answer scoring (truncation, CoT extraction, yes/no rule, aliases)."""

import pytest

from labkit.prag.eval import normalize_answer, postprocess, score


def test_normalisation() -> None:
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("An apple a day") == "apple day"


@pytest.mark.parametrize("raw,cut", [("Paris. It is the capital", "Paris"), ("Paris, France", "Paris"),
                                     ("Paris\nmore", "Paris"), ("  Paris  ", "Paris"), ("3.5 million", "3")])
def test_truncation_at_first_period_comma_newline(raw, cut) -> None:
    assert postprocess(raw) == cut


def test_cot_answer_extraction() -> None:
    out = "Lyon is in France. Paris is the capital. So the answer is Paris, obviously."
    assert postprocess(out, cot=True) == "Paris"
    assert postprocess(out) == "Lyon is in France"


def test_scores_with_aliases_and_yes_no() -> None:
    assert score("The answer is Barack Obama.", ["Obama", "Barack Obama"], cot=True) == {"em": 1.0, "f1": 1.0,
                                                                                       "contained": 1.0}
    partial = score("Barack Hussein Obama", "Barack Obama")
    assert partial["em"] == 0.0 and partial["f1"] == pytest.approx(0.8)
    assert score("yes", "no") == {"em": 0.0, "f1": 0.0, "contained": 0.0}
    assert score("no answer", "no")["f1"] == 0.0  # "no answer" vs "no": special-token rule
    assert score("yes it is", "yes")["f1"] == 0.0  # "yes it is" is not "yes", and gold is special
    assert score("blue whale", ["red", "whale"])["f1"] == pytest.approx(2 / 3)


def test_answer_contained_is_format_free() -> None:
    from labkit.prag.eval import contained

    long = "The Zorblat river, which many people visit, eventually flows into the Fenar Sea near the coast"
    assert contained(long, "Fenar Sea") == 1.0 and score(long, "Fenar Sea")["f1"] == 0.0  # cut at the comma
    assert contained("The Fenarsea", "Fenar Sea") == 0.0  # whole words only
    assert contained("In 1871.", "1871") == 1.0 and contained("anything", "") == 0.0
