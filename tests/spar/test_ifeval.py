"""Offline IFEval: every per-instruction verdict on responses of our own making equals the reference
implementation's (lm-eval's IFEval task, seeded the same way), the offline Punkt splits sentences as NLTK's
Punkt does, two CLI runs give identical numbers, exclusions are counted, bad files are one line."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from labkit.cli import app
from labkit.core.cli import main_with_errors
from labkit.core.errors import DataError
from labkit.spar.data import IfevalItem, ifeval_path, load_ifeval, read_responses
from labkit.spar.ifeval import loose_variants, match, score_item, summarize
from tests.spar.responses import make_responses

pytest.importorskip("lm_eval")
pytestmark = pytest.mark.skipif(not ifeval_path().exists(), reason=f"IFEval data not found at {ifeval_path()}")


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    return [json.loads(line) for line in ifeval_path().read_text().splitlines()]


def test_every_verdict_equals_the_reference_implementation(raw) -> None:
    from labkit.spar.ifeval import registry

    registry()  # offline Punkt in place before the reference module is imported
    from lm_eval.tasks.ifeval.utils import process_results

    items = {it.prompt: it for it in load_ifeval()}
    responses = make_responses(raw, per_item=2, seed=0)
    docs = {r["prompt"]: r for r in raw}
    strict_true = loose_only = compared = 0
    for rec in responses:
        ours = score_item(items[rec["prompt"]], rec["response"])
        random.seed(0)  # the reference seeded the same way (keywords:letter_frequency draws at random)
        ref = process_results(docs[rec["prompt"]], [rec["response"]])
        assert ours.strict == ref["inst_level_strict_acc"], (rec, ours.instruction_ids)
        assert ours.loose == ref["inst_level_loose_acc"], (rec, ours.instruction_ids)
        compared += len(ours.strict)
        strict_true += sum(ours.strict)
        loose_only += sum(lo and not s for s, lo in zip(ours.strict, ours.loose, strict=True))
    assert len(responses) == 1082 and compared == 1668
    assert 0.25 < strict_true / compared < 0.75 and loose_only > 10  # both verdicts and the loose path are exercised


def test_offline_punkt_splits_like_nltk_punkt(raw) -> None:
    """NLTK's Punkt with the parameters labkit installs (what IFEval counts with) against the independent,
    pickle-free implementation that ships them: the same sentences on every text but runs of lone '!' tokens
    (the letter-frequency responses), where the two implementations differ."""
    import nltk
    import punkt

    from labkit.spar.punkt import install_offline_punkt

    install_offline_punkt()
    texts = [r["response"] for r in make_responses(raw, per_item=2, seed=1)] + [
        "Dr. Smith arrived at 5 p.m. on Jan. 3. He left. Was it the U.S. office? Yes! e.g. this one.",
        "Mr. and Mrs. Jones met St. John at No. 5 Main St. yesterday... Then they left.",
        "I said \"Stop.\" She didn't. (It was late.) The end."]
    differ = [t for t in texts if nltk.sent_tokenize(t) != punkt.sent_tokenize(t)]
    assert len(texts) == 1085 and len(differ) == 2 and all("! ! !" in t for t in differ)
    assert nltk.sent_tokenize(texts[-3]) == ["Dr. Smith arrived at 5 p.m. on Jan. 3.", "He left.",
                                             "Was it the U.S. office?", "Yes!", "e.g.", "this one."]


def test_loose_variants_in_ifeval_order() -> None:
    got = loose_variants("Intro *line*\nbody **b**\nlast")
    assert got == ["Intro *line*\nbody **b**\nlast", "Intro line\nbody b\nlast", "body **b**\nlast",
                   "Intro *line*\nbody **b**", "body **b**", "body b\nlast", "Intro line\nbody b", "body b"]


def test_pinned_verdicts_and_summary() -> None:
    no_comma = IfevalItem(1, "Write without commas.", ("punctuation:no_comma",), ({},))
    lower = IfevalItem(2, "Answer in lowercase with a title.",
                       ("change_case:english_lowercase", "detectable_format:title"), ({}, {}))
    verdicts = [score_item(no_comma, "No commas here."), score_item(no_comma, "One, two."),
                score_item(lower, "<<my title>>\nall lower case here."),
                score_item(lower, "Sure, Here Is It:\n<<my title>>\nall lower case here.")]
    assert [v.strict for v in verdicts] == [[True], [False], [True, True], [False, True]]
    assert verdicts[3].loose == [True, True]  # without its first line the response is lower case
    s = summarize(verdicts)
    assert (s["prompt_strict"], s["inst_strict"], s["prompt_loose"], s["inst_loose"]) == pytest.approx(
        (50.0, 400 / 6, 75.0, 500 / 6))
    assert s["per_type"]["punctuation:no_comma"] == {"n": 2, "strict": 50.0, "loose": 50.0}
    assert [f["key"] for f in s["failing"]] == [1, 2] and score_item(no_comma, "   ").strict == [False]


def test_match_counts_unknown_duplicate_and_missing() -> None:
    items = [IfevalItem(1, "a", ("punctuation:no_comma",), ({},)), IfevalItem(2, "b", ("punctuation:no_comma",), ({},))]
    m = match(items, [(1, "a", "x"), (2, "zzz", "y"), (3, "a", "again")])
    assert [(i.key, r) for i, r in m.pairs] == [(1, "x")] and m.unknown == [(2, "zzz")]
    assert m.duplicates == [(3, "a")] and m.missing == 1


def test_cli_twice_gives_identical_numbers_and_reports_exclusions(raw, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    path = tmp_path / "responses.jsonl"
    rows = make_responses(raw[:60], per_item=1, seed=2) + [{"prompt": "not in IFEval", "response": "x"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    metrics = []
    for name in ("a", "b"):
        assert main_with_errors(app, ["spar", "ifeval", "--responses", str(path), "--name", name]) == 0
        err = capsys.readouterr().err
        assert "1 response(s) to prompts not in IFEval" in err
        run = Path(err.split("run: ")[1].split()[0])
        metrics.append(json.loads((run / "metrics.json").read_text()))
        assert (run / "ifeval_per_type.png").exists()
    assert metrics[0] == metrics[1] and metrics[0]["prompts"] == 60 and metrics[0]["missing"] == 481


def test_bad_files_are_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "r.jsonl"
    bad.write_text('{"prompt": "a", "response": "b"}\n{"prompt": "a"}\n')
    with pytest.raises(DataError, match=r"r.jsonl:2, field 'response'"):
        read_responses(bad)
    data = tmp_path / "input_data.jsonl"
    data.write_text('{"key": 1, "prompt": "p", "instruction_id_list": ["a", "b"], "kwargs": [{}]}\n')
    with pytest.raises(DataError, match=r"input_data.jsonl:1, field 'kwargs'"):
        load_ifeval(data)
    assert main_with_errors(app, ["spar", "ifeval", "--responses", str(bad)]) == 2
    assert "field 'response'" in capsys.readouterr().err


# Written as a capable model answers these two prompts (GPT-4's published responses read much the same): whole
# tweets and pitches with plenty of every common letter, unlike the generated responses above.
REAL = {1122: "new year, new bunny. the mansion doors are open and the party never sleeps. who's ready for a night to "
              "remember? #playboy #bunnylife #mansionparty #nightsout #classic",
        1129: "\n\nIntroducing Sunnis Ice Cream: the first ice cream made to be kind to your stomach! We churn it with "
              "lactose-free milk and gentle probiotics! No bloating, no regrets, just creamy joy! Every scoop is "
              "light, smooth and delicious! Perfect for the whole family! Try Sunnis today and taste the difference!"}


def test_a_letter_that_is_no_letter_is_drawn_again_for_loose_scoring(raw) -> None:
    """IFEval keys 1122 ('#') and 1129 ('!'): the checker draws a random letter; the reference builds fresh checkers
    for the loose pass (a second draw). Reusing the strict pass's checkers gives another loose verdict here."""
    from labkit.spar.ifeval import checker, follows, registry

    registry()
    from lm_eval.tasks.ifeval.utils import process_results

    items, docs = {it.key: it for it in load_ifeval()}, {r["key"]: r for r in raw}
    for key, text in REAL.items():
        response = docs[key]["kwargs"][1]["prompt_to_repeat"] + text if key == 1129 else text
        ours = score_item(items[key], response)
        random.seed(0)
        ref = process_results(docs[key], [response])
        assert (ours.strict, ours.loose) == (ref["inst_level_strict_acc"], ref["inst_level_loose_acc"]), key
        random.seed(0)  # what labkit did before: the strict checkers reused for loose scoring
        reused = [checker(i, kw, items[key].prompt) for i, kw in zip(items[key].instruction_ids, items[key].kwargs,
                                                                      strict=True)]
        old = [any(follows(c, v) for v in loose_variants(response)) for c in reused]
        assert old != ref["inst_level_loose_acc"], key  # this test tells the two apart


def test_a_response_whose_scoring_raises_is_counted_and_shown(tmp_path, monkeypatch, capsys) -> None:
    """Not dropped from the denominator silently: the command says how many and the first, metrics and the
    report keep them."""
    from labkit.spar import eval as spar_eval
    from tests.spar.test_fuzz import ANSWERS, DATA

    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    real = spar_eval.score_item

    def flaky(item, response):
        if item.key == 2:
            raise ValueError("checker blew up")
        return real(item, response)

    monkeypatch.setattr(spar_eval, "score_item", flaky)
    (tmp_path / "d.jsonl").write_bytes(DATA)
    (tmp_path / "r.jsonl").write_bytes(ANSWERS)
    assert main_with_errors(app, ["spar", "ifeval", "--data", str(tmp_path / "d.jsonl"), "--responses",
                                  str(tmp_path / "r.jsonl")]) == 0
    err = capsys.readouterr().err
    assert "1 response(s) could not be scored" in err and "prompt 2:" in err and "checker blew up" in err
    run = Path(err.split("run: ")[1].split()[0])
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["prompts"] == 2 and len(metrics["score_failed"]) == 1
    assert "1 response(s) whose scoring raised (first: prompt 2:" in (run / "report.md").read_text()
