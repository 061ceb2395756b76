"""Judge prompts and scoring: strict parsing, expected score, self-consistency, reference ablation,
identical reruns; generation parsing."""

from __future__ import annotations

import math

import pytest

from labkit.character.data import load_all
from labkit.character.judge import make_judge, parse_score
from labkit.character.method import parse_reply
from labkit.character.prompts import judge_prompt, roleplay_prompt
from labkit.core.models.mock import MockChatModel


@pytest.fixture(scope="module")
def demo_samples(demo_dir):
    samples, problems = load_all(demo_dir, ("en",))
    assert problems == [] and len(samples) == 36
    return samples


def test_parse_score_is_strict() -> None:
    assert [parse_score(t, 4) for t in ("3", "Score: 4", "**Score:** 2\nbecause", "评分：1", " 2 ")] == [3, 4, 2, 1, 2]
    assert [parse_score(t, 4) for t in ("5", "0", "3.5", "The score is 3", "", "three")] == [None] * 6


def test_judge_prompt_slots(demo_samples) -> None:
    bot = next(s for s in demo_samples if s.file == "attribute_consistency_bot")
    text = judge_prompt(bot, bot.response, bot.rubric)
    assert "[Reference]\nLena" in text and "[Conversation so far]" not in text  # context removed, as the original
    assert "1: The reply contradicts" in text and "one integer from 1 to 4" in text
    assert "[Reference]" not in judge_prompt(bot, bot.response, bot.rubric, use_reference=False)
    assert "[Conversation so far]" in judge_prompt(bot, bot.response, bot.rubric, context="keep")
    hl = next(s for s in demo_samples if s.file == "human_likeness")
    assert "[Conversation so far]\nCaptain Mira Voss: (checks the nav screen)" in judge_prompt(hl, "x", hl.rubric)


def test_removing_the_reference_changes_nothing_without_one(demo_samples) -> None:
    for s in demo_samples:
        same = judge_prompt(s, s.response, s.rubric) == judge_prompt(s, s.response, s.rubric, use_reference=False)
        assert same == (not s.rubric.needs_reference)


def test_invalid_judge_output_is_recorded_not_defaulted(demo_samples) -> None:
    judge = make_judge(MockChatModel(["I think it is quite good."]), mode="generate")
    verdict = judge(demo_samples[0], "hello")
    assert verdict["score"] is None and "no score" in verdict["error"] and verdict["raw"]
    assert make_judge(MockChatModel(["3"]), mode="generate")(demo_samples[0], "x")["score"] == 3


def test_expected_score_over_score_tokens(demo_samples) -> None:
    logp = {"1": -3.0, "2": -2.0, "3": -1.0, "4": -0.5}
    model = MockChatModel(logprob=lambda conv, text: [logp[text]])
    verdict = make_judge(model)(demo_samples[0], "x")  # auto -> expected (the mock has log-probs)
    z = sum(math.exp(v) for v in logp.values())
    w = {int(k): math.exp(v) / z for k, v in logp.items()}
    assert verdict["score"] == pytest.approx(sum(k * p for k, p in w.items()))
    assert verdict["argmax"] == 4 and sum(verdict["probs"]) == pytest.approx(1, abs=1e-5)


def test_self_consistency_means_valid_samples(demo_samples) -> None:
    answers = iter(["4", "2", "oops"])
    model = MockChatModel(lambda conv, sampling, choice: next(answers))
    verdict = make_judge(model, samples=3)(demo_samples[0], "x")
    assert verdict["score"] == 3 and verdict["valid_samples"] == 2


def test_generation_parsing_is_strict() -> None:
    assert parse_reply('{"response": "(smiles) Hello!"}') == "(smiles) Hello!"
    assert parse_reply('Sure: ```json\n{"response": "Hi"}\n```') == "Hi"
    assert parse_reply('{"response": "<the reply>"}') is None
    assert parse_reply("Hello there") is None and parse_reply('{"reply": "x"}') is None
    assert parse_reply("Pip: Buttons!\nUser: ...", "text", "Pip") == "Buttons!"


def test_roleplay_prompt(demo_samples) -> None:
    s = demo_samples[0]
    text = roleplay_prompt(s)
    assert text.startswith("You are role-playing Captain Mira Voss")
    assert "Captain Mira Voss: (checks the nav screen) You're late" in text  # the greeting opens the chat
    assert text.rstrip().endswith('Output only JSON: {"response": "<the reply>"}')
    assert "Output only the reply, on one line." in roleplay_prompt(s, fmt="text")


@pytest.mark.slow
def test_embedded_judge_reruns_are_identical(demo_samples, smollm2) -> None:
    judge = make_judge(smollm2, mode="generate", max_profile_chars=300)
    first = [judge(s, s.response) for s in demo_samples[:3]]
    again = [judge(s, s.response) for s in demo_samples[:3]]
    assert first == again
    expected = make_judge(smollm2, mode="expected", max_profile_chars=300)
    a, b = expected(demo_samples[0], "x"), expected(demo_samples[0], "x")
    assert a == b and 1 <= a["score"] <= 4
