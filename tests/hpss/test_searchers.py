"""Searchers on the no-LLM surrogate (brief check 3, in miniature; the full study is a benchmark)."""

import numpy as np
import pytest

from labkit.core.models.mock import MockChatModel
from labkit.hpss.searchers import SEARCHERS, Ledger, hpss, parse_index_vector
from labkit.hpss.space import StrategySpace
from labkit.hpss.surrogate import make_surrogate

SPACE = StrategySpace.paper()
DEFAULT = SPACE.default(3)


@pytest.mark.parametrize("name", ["hpss", "random", "greedy", "tpe"])
def test_equal_budget_and_no_repeats(name: str) -> None:
    sur = make_surrogate(SPACE, DEFAULT, seed=1)
    ledger = SEARCHERS[name](SPACE, sur, 50, 1, default=DEFAULT)
    assert len(ledger.steps) == 71 == sur.calls == len(ledger.seen)  # 21 + 50, each strategy once
    assert ledger.steps[0].strategy == DEFAULT


def test_opro_with_a_scripted_proposer() -> None:
    sur = make_surrogate(SPACE, DEFAULT, seed=2)
    good = '{"Part 0": 1, "Part 1": 0, "Part 2": 2, "Part 3": 0, "Part 4": 0, "Part 5": 1, "Part 6": 0, "Part 7": 3}'
    proposer = MockChatModel(lambda conv, s, j: good if j == 0 else "no json here")
    ledger = SEARCHERS["opro"](SPACE, sur, 10, 2, default=DEFAULT, proposer=proposer)
    assert len(ledger.steps) == 31 and len(ledger.seen) == 31
    assert ledger.steps[1].how == "opro" and ledger.opro_fallbacks == 29
    assert parse_index_vector('x {"Part 0": 9}', SPACE) is None


def test_ledger_refuses_repeats() -> None:
    ledger = Ledger(lambda s: 0.0, 5)
    ledger(DEFAULT, "init")
    with pytest.raises(RuntimeError, match="twice"):
        ledger(DEFAULT, "again")


def test_hpss_beats_random_and_learns_main_effects() -> None:
    wins, corr = 0, []
    for seed in range(8):
        sur = make_surrogate(SPACE, DEFAULT, seed)
        h = hpss(SPACE, sur, 50, seed, default=DEFAULT)
        r = SEARCHERS["random"](SPACE, make_surrogate(SPACE, DEFAULT, seed), 50, seed, default=DEFAULT)
        wins += sur.true_value(h.best().strategy) > sur.true_value(r.best().strategy)
        learned = [h.advantages[f][v] for f, (_, vals) in enumerate(SPACE.factors) for v in vals]
        true = [sur.effects[(f, v)] for f, (_, vals) in enumerate(SPACE.factors) for v in vals]
        corr.append(np.corrcoef(learned, true)[0, 1])
    assert wins >= 6
    assert np.mean(corr) > 0.5


def test_original_bookkeeping_flag_still_spends_the_budget() -> None:
    sur = make_surrogate(SPACE, DEFAULT, seed=3)
    ledger = hpss(SPACE, sur, 50, 3, default=DEFAULT, original_bookkeeping=True)
    assert len(ledger.steps) == 71 and len(ledger.seen) == 71
