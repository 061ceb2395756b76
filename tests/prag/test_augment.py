"""Augmentation: schema validation, seeded retries, failures reported (scripted model)."""

from labkit.core.models.mock import MockChatModel
from labkit.prag.augment import augment, parse_qa
from labkit.prag.data import Passage

GOOD = ('Sure: [{"question": "Q1?", "answer": "A1"}, {"question": "Q2?", "answer": "A2", "full_answer": "x"}, '
        '{"question": "Q3?", "answer": "A3"}, {"question": "Q4?", "answer": "A4"}]')


def test_parse_qa_validates_the_schema() -> None:
    assert parse_qa(GOOD) == [("Q1?", "A1"), ("Q2?", "A2"), ("Q3?", "A3"), ("Q4?", "A4")]
    assert parse_qa('[{"question": "Q?", "answer": 3}, {}, {}]') is None  # answer must be a string
    assert parse_qa('[{"question": "Q?", "answer": "A"}]') is None  # fewer than three
    assert parse_qa("no json") is None


def test_retries_with_new_seeds_then_reports_failure() -> None:
    seeds = []

    def script(conv, sampling, choice):
        seeds.append(sampling.seed)
        if "Rewrite" in conv[-1]["content"]:
            return "A rewritten passage."
        return GOOD if len(seeds) >= 3 else "[oops"

    out = augment(Passage("p1", "Some passage."), MockChatModel(script), seed=10)
    assert out.document.qa == [("Q1?", "A1"), ("Q2?", "A2"), ("Q3?", "A3")] and out.attempts == 2
    assert out.document.rewrite == "A rewritten passage." and seeds == [10, 11, 12]
    failed = augment(Passage("p2", "x"), MockChatModel(["rewrite", "[bad"]), retries=3)
    assert failed.document is None and failed.error == "no valid QA JSON after 3 attempts"
