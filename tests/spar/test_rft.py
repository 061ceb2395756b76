"""The refiner's RFT data (paper Sec. 3.2): the successful step's whole reply, only split judgments answered by
the majority's critique, deduplicated by prompt and capped per kind."""

from __future__ import annotations

from labkit.spar.config import SearchConfig
from labkit.spar.judge import REFINE_TEMPLATE, vote
from labkit.spar.rft import rft_rows
from labkit.spar.tree import Refined, search


def _tree(prompt: str, yes: dict[str, int]) -> dict:
    def refine(asks):
        return [Refined(f"{r}+", f"Reflection: fix it.\nFinal Refined Response: [[start]] {r}+ [[end]]")
                for _, r, _ in asks]

    def judged(text: str) -> list[str]:
        y = yes.get(text, 0)
        return [f"Final Judgement: Yes ({text})"] * y + [f"Final Judgement: No ({text})"] * (5 - y)

    def judge(pairs):
        return [vote(lambda _, t=t: judged(t)) for _, t in pairs]

    return {"prompt": prompt, "tree": search(prompt, "r", "Final Judgement: No", refine, judge,
                                             SearchConfig(branch=1, keep=1)).to_dict()}


def test_refinement_rows_train_on_the_whole_reply_of_the_successful_step() -> None:
    rows = rft_rows([_tree("p1", {"r+": 2, "r++": 4})], [])
    steps = [r for r in rows if r["kind"] == "refinement"]
    assert len(steps) == 1
    msgs = steps[0]["messages"]
    assert msgs[-1] == {"role": "assistant", "content": "Reflection: fix it.\nFinal Refined Response: [[start]] "
                                                        "r++ [[end]]"}
    assert msgs[1]["content"] == "Final Judgement: No (r+)" and msgs[2]["content"] == REFINE_TEMPLATE  # parent turn
    # split votes only: r+ (V 0.4) is a 'no' judgment, r++ (V 0.8) a 'yes'; each answered by the majority's critique
    judged = {r["kind"]: r["messages"][-1]["content"] for r in rows if r["kind"] != "refinement"}
    assert judged == {"tree_judgment_no": "Final Judgement: No (r+)", "tree_judgment_yes": "Final Judgement: Yes (r++)"}


def test_unanimous_votes_give_no_judgment_rows_and_failed_trees_no_refinement() -> None:
    rows = rft_rows([_tree("p1", {"r+": 5}), _tree("p2", {})], [])
    assert [r["kind"] for r in rows] == ["refinement"]


def test_dedup_by_prompt_and_caps() -> None:
    trees = [_tree("p1", {"r+": 4}), _tree("p1", {"r+": 4}), _tree("p2", {"r+": 4}), _tree("p3", {"r+": 4})]
    samples = [{"prompt": f"s{i}", "responses": ["a", "b"], "values": [0.6, 0.2], "critiques": ["c1", "c2"]}
               for i in range(3)]
    rows = rft_rows(trees, samples, caps={"refinement": 2, "sample_judgment_no": 1})
    kinds = [r["kind"] for r in rows]
    assert kinds.count("refinement") == 2 and kinds.count("tree_judgment_yes") == 3  # p1 once
    assert kinds.count("sample_judgment_yes") == 3 and kinds.count("sample_judgment_no") == 1
