"""Synthetic verifiable tasks: exact answers, disjoint splits, seeded prompts, the rule reward."""

import pytest

from labkit.rlhf.tasks import TASKS, extract_answer, make_prompts, rule_reward, split_of


@pytest.mark.parametrize("task", TASKS)
def test_prompts_are_seeded_distinct_and_in_their_split(task: str) -> None:
    a = make_prompts(task, "train", 50, seed=1)
    assert a == make_prompts(task, "train", 50, seed=1) and len({p.text for p in a}) == 50
    assert all(split_of(p.text) == "train" for p in a)
    held = make_prompts(task, "eval", 20, seed=1)
    assert not {p.text for p in a} & {p.text for p in held}  # disjoint by construction
    assert all(rule_reward(p, p.answer) == 1.0 for p in a + held)


def test_answers_are_right() -> None:
    p = make_prompts("addition", "eval", 1, size=4)[0]
    a, b = [int(x) for x in p.text.split("What is ")[1].split("?")[0].split(" + ")]
    assert p.answer == str(a + b) and 1000 <= a <= 9999
    r = make_prompts("reverse", "train", 1, size=5)[0]
    assert r.answer == r.text.split("'")[1][::-1]
    s = make_prompts("sort_letters", "train", 1, size=6)[0]
    assert s.answer == "".join(sorted(s.text.split("'")[1]))


def test_rule_reward_reads_answers_as_people_write_them() -> None:
    p = make_prompts("addition", "train", 1, size=3)[0]
    for text in (p.answer, f"The answer is {p.answer}.", f" {p.answer}\nbecause...", f"Answer: {p.answer}"):
        assert rule_reward(p, text) == 1.0, text
    big = type(p)("addition", "x", "12345")
    assert rule_reward(big, "12,345") == 1.0 and rule_reward(big, "12346") == 0.0 and rule_reward(big, "") == 0.0
    assert extract_answer("'olleh'.") == "olleh"
    with pytest.raises(ValueError):
        make_prompts("division", "train", 1)
