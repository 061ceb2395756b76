"""Judgment parsing, voting and the tree search on a scripted refiner and judge (no model): the shallowest
success with the highest value, the paper's budgets, cached judgments, resampled ties, all-zero trees."""

from __future__ import annotations

import pytest

from labkit.spar.config import SearchConfig
from labkit.spar.judge import parse_original, parse_refinement, parse_strict, vote
from labkit.spar.tree import render_tree, search

EXAMPLES = [  # (judgment, strict, original)
    ("Step-by-step verification: ok.\nFinal Judgement (if the Response follows every requirement of the Prompt): Yes",
     1, 1),
    ("Final Judgement: No", 0, 0),
    ("Final Judgement (if the Output accurately follows the Prompt): (Yes or No) Yes", 1, 1),  # template echo
    ("Final Judgement (if the Output accurately follows the Prompt): (Yes or No) No", 0, 1),  # the echo misleads
    ("Final Judgement: Not a problem at all. Yes", 1, 0),  # 'Not' before 'Yes'
    ("Final Judgement: Not quite, it misses the title.", -1, 0),  # 'Not' is No only for the original rule
    ("Final Judgement: None of the constraints fail. Yes.", 1, 0),  # 'None' before 'Yes'
    ("Final Judgement: yes", 1, -1),  # the original rule is case-sensitive
    ("Final Judgment: NO.", 0, -1),  # spelling without the e; the original rule needs 'Judgement'
    ("The response is fine. Yes.", -1, -1),  # no final judgement at all
    ("Final Judgement: Yes, but no title.", -1, 1),  # both words: strict will not guess
    ("Final Judgement: Nobody would say Yesterday", -1, 0),
]


@pytest.mark.parametrize(("text", "strict", "original"), EXAMPLES)
def test_judgement_parsers(text: str, strict: int, original: int) -> None:
    assert parse_strict(text) == strict and parse_original(text) == original


def test_refinement_is_cut_between_the_markers() -> None:
    assert parse_refinement("Reflection: shorten.\nFinal Refined Response: [[start]] Short text. [[end]]") == \
        "Short text."
    assert parse_refinement("Final Refined Response: Short text.") is None
    assert parse_refinement("[[start]]  [[end]]") is None
    assert parse_refinement("  A rewrite.\n", "plain") == "A rewrite."
    assert parse_refinement("Step-by-step verification:\n- ok\nFinal Judgement: Yes", "plain") is None


def judged(word: str, n: int = 5) -> list[str]:
    return [f"Final Judgement: {word}"] * n


def test_vote_value_majority_critique_and_invalid_count() -> None:
    texts = ["Final Judgement: No (first no)", "garbage", "Final Judgement: Yes (first yes)",
             "Final Judgement: Yes", "Final Judgement: Yes"]
    v = vote(lambda r: texts)
    assert (v.yes, v.no, v.invalid, v.calls, v.rounds) == (3, 1, 1, 5, 1)
    assert v.value == 0.75 and v.critique == "Final Judgement: Yes (first yes)"


def test_ties_are_resampled_and_unparseable_is_never_a_vote() -> None:
    rounds = [["Final Judgement: Yes", "Final Judgement: No", "??", "??", "??"], judged("No", 2) + ["?"] * 3]
    v = vote(lambda r: rounds[r])
    assert (v.rounds, v.calls, v.yes, v.no, v.invalid, v.value) == (2, 10, 0, 2, 6, 0.0)
    nothing = vote(lambda r: ["?"] * 5, tie_retries=3)
    assert (nothing.rounds, nothing.calls, nothing.usable, nothing.value) == (4, 20, False, 0.0)


class Scripted:
    """Refinements named after their parent ('root.1.0'); each text's judgments from a table of Yes counts."""

    def __init__(self, yes: dict[str, int], same: bool = False) -> None:
        self.yes, self.same, self.seen, self.judged = yes, same, {}, []

    def refine(self, asks):
        out = []
        for _, response, _ in asks:
            k = self.seen.get(response, 0)
            self.seen[response] = k + 1
            out.append("same" if self.same else f"{response}.{k}")
        return out

    def judge(self, pairs):
        out = []
        for _, text in pairs:
            self.judged.append(text)
            y = self.yes.get(text, 0)
            out.append(vote(lambda r, y=y: judged("Yes", y) + judged("No", 5 - y)))
        return out


def test_bfs_returns_the_shallowest_success_with_the_highest_value() -> None:
    s = Scripted({"root.0": 1, "root.1": 2, "root.1.0": 4, "root.1.1": 5, "root.0.0": 3, "root.1.1.0": 5})
    tree = search("p", "root", "Final Judgement: No", s.refine, s.judge, SearchConfig())
    assert tree.success and tree.best_node.response == "root.1.1" and tree.best_node.depth == 2
    assert tree.best_node.value == 1.0 and tree.refinements == 9 and tree.judge_calls == 45
    assert "<- result" in render_tree(tree)


def test_bfs_budget_and_all_zero_values() -> None:
    s = Scripted({})
    tree = search("p", "root", "Final Judgement: No", s.refine, s.judge, SearchConfig())
    assert not tree.success and tree.best == 0  # nothing scored: the root comes back, no crash
    assert tree.refinements == 15 and tree.judge_calls == 75 and len(tree.nodes) == 16


def test_dfs_budget_and_first_success() -> None:
    s = Scripted({})
    tree = search("p", "root", "Final Judgement: No", s.refine, s.judge, SearchConfig(algorithm="dfs"))
    assert len(tree.nodes) - 1 == 21 and not tree.success
    s = Scripted({"root.0": 2, "root.1": 1, "root.0.2": 4})
    tree = search("p", "root", "Final Judgement: No", s.refine, s.judge, SearchConfig(algorithm="dfs"))
    assert tree.success and tree.best_node.response == "root.0.2" and tree.refinements == 6


def test_repeated_texts_cost_no_judge_call() -> None:
    s = Scripted({}, same=True)
    tree = search("p", "root", "Final Judgement: No", s.refine, s.judge, SearchConfig())
    assert s.judged == ["same"] and tree.judge_calls == 5 and tree.cached_judgments == 14
