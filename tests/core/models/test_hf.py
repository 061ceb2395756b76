"""The real embedded model (SmolLM2-135M-Instruct) through the hf backend."""

import pytest

from labkit.core.models import Sampling, user

pytestmark = pytest.mark.slow

PROMPTS = ["What is the capital of France?", "Write a haiku about the sea.", "List three prime numbers.",
           "Explain gravity in one sentence.", "What is 2+2?", "Translate 'hello' to Spanish."]


def test_answers_paris(smollm2) -> None:
    out = smollm2.chat([user("What is the capital of France?")], Sampling(max_tokens=32))[0][0]
    assert "Paris" in out.text
    assert out.finish_reason == "stop" and out.prompt_tokens > 5 and 0 < out.completion_tokens <= 32


def test_batched_greedy_equals_one_at_a_time(smollm2) -> None:
    sampling = Sampling(max_tokens=40)
    single = [smollm2.chat([user(p)], sampling)[0][0] for p in PROMPTS]
    batched = [c[0] for c in smollm2.chat([user(p) for p in PROMPTS], sampling)]
    for a, b in zip(single, batched, strict=True):
        assert (a.text, a.completion_tokens, a.finish_reason) == (b.text, b.completion_tokens, b.finish_reason)
    # prompts of different lengths really were padded together
    assert len({c.prompt_tokens for c in single}) > 1


def test_seeded_sampling_reproduces_whatever_the_batch(smollm2) -> None:
    sampling = Sampling(max_tokens=16, temperature=1.0, top_p=0.9, n=3, seed=11)
    alone = smollm2.chat([user(PROMPTS[1])], sampling)[0]
    again = smollm2.chat([user(PROMPTS[0]), user(PROMPTS[1])], sampling)[1]
    assert [c.text for c in alone] == [c.text for c in again]
    assert len({c.text for c in alone}) > 1  # the n choices differ from each other
    other = smollm2.chat([user(PROMPTS[1])], Sampling(max_tokens=16, temperature=1.0, top_p=0.9, n=3, seed=12))[0]
    assert [c.text for c in other] != [c.text for c in alone]


def test_stop_strings_and_length(smollm2) -> None:
    out = smollm2.chat([user("What is the capital of France?")], Sampling(max_tokens=32, stop=("Paris",)))[0][0]
    assert out.finish_reason == "stop" and "Paris" not in out.text and out.text.startswith("The capital")
    short = smollm2.chat([user("Tell me a long story about a dragon.")], Sampling(max_tokens=5))[0][0]
    assert short.finish_reason == "length" and short.completion_tokens == 5


def test_continuation_logprobs_match_an_unpadded_forward(smollm2) -> None:
    import torch

    convs = [user("What is the capital of France?"), user("Say hi")]
    conts = ["The capital of France is Paris.", "Hi"]
    scored = smollm2.continuation_logprobs(convs, conts)
    tok = smollm2.tokenizer
    for conv, cont, got in zip(convs, conts, scored, strict=True):
        prompt = smollm2.encode_conversation(conv)
        ids = tok(cont, add_special_tokens=False)["input_ids"]
        with torch.inference_mode():
            logits = smollm2.model(torch.tensor([prompt + ids])).logits[0]
        logp = torch.log_softmax(logits.float(), -1)
        want = [float(logp[len(prompt) + i - 1, t]) for i, t in enumerate(ids)]
        assert got.token_logprobs == pytest.approx(want, abs=1e-4)
    # the model prefers the right answer
    wrong = smollm2.continuation_logprobs(convs[:1], ["The capital of France is Berlin."])[0]
    assert scored[0].total > wrong.total


def test_single_token_continuations_share_one_forward(smollm2) -> None:
    """The fast path (one forward per distinct prompt) gives the pairwise path's numbers."""
    convs = [user("Rate this from 1 to 4: 'good'."), user("Rate this from 1 to 4: 'bad'.")]
    digits = ["1", "2", "3", "4"]
    fast = smollm2.continuation_logprobs([c for c in convs for _ in digits], digits * 2)
    slow = smollm2._score_batch([(smollm2.encode_conversation(c), smollm2.tokenizer(d, add_special_tokens=False)[
        "input_ids"]) for c in convs for d in digits])
    assert [f.total for f in fast] == pytest.approx([s.total for s in slow], abs=1e-4)
    assert [f.tokens for f in fast] == [s.tokens for s in slow]


def test_tools_are_refused_clearly(smollm2) -> None:
    from labkit.core.errors import BackendError

    with pytest.raises(BackendError, match="no tool calling"):
        smollm2.chat([user("hi")], Sampling(), tools=[{"type": "function", "function": {"name": "f"}}])


def test_length_chunks_bound_padding() -> None:
    from labkit.core.models.hf import length_chunks

    lengths = [3000, 100, 120, 90, 2500, 110, 400, 5000]
    chunks = length_chunks(lengths, batch_size=4, batch_tokens=1000)
    assert sorted(i for c in chunks for i in c) == list(range(len(lengths)))
    assert all(len(c) <= 4 and (len(c) == 1 or len(c) * max(lengths[i] for i in c) <= 1000) for c in chunks)
    assert chunks[0] == [3, 1, 5, 2]  # the four shortest together; the long ones alone
    assert [7] in chunks and [0] in chunks
