"""Meta-evaluation against UniEval's published table (brief check 1)."""

import random

import pytest

from labkit.core.errors import DataError
from labkit.hpss.data import predictions
from labkit.hpss.eval import correlate, correlation_table

UNIEVAL = [  # dataset, aspect, Pearson, Spearman, Kendall (UniEval's table)
    ("topical_chat", "coherence", 0.5951, 0.6129, 0.4659),
    ("sfres", "naturalness", 0.3673, 0.3334, 0.2471),
    ("sfhot", "informativeness", 0.3574, 0.2493, 0.1912),
]


@pytest.mark.parametrize("name,aspect,p,s,k", UNIEVAL)
def test_unieval_table_to_four_decimals(hpss_data, name, aspect, p, s, k) -> None:
    human, pred, _, _ = predictions(hpss_data / "unieval_predict" / f"{name}_result.json", "predict_scores", aspect)
    table = correlation_table(human, pred, n_boot=50)
    assert (round(table["pearson"].value, 4), round(table["spearman"].value, 4),
            round(table["kendall"].value, 4)) == (p, s, k)
    assert table["spearman"].low < s < table["spearman"].high


def test_grouped_correlation_ignores_row_order() -> None:
    rng = random.Random(0)
    rows = [(g, rng.random(), rng.random()) for g in range(20) for _ in range(16)]
    def grouped(rs):
        return correlate([r[1] for r in rs], [r[2] for r in rs], [r[0] for r in rs])
    before = grouped(rows)
    rng.shuffle(rows)
    assert grouped(rows) == pytest.approx(before, abs=1e-12)


def test_prediction_field_forms(tmp_path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"scores": {"a": 1}, "pred": "{\'a\': 0.5}"}\n{"scores": {"a": 2}, "pred": 0.7}\n'
                    '{"scores": {"a": 3}, "pred": {"a": 0.9}}\n')
    human, pred, _, _ = predictions(path, "pred", "a")
    assert human == [1, 2, 3] and pred == [0.5, 0.7, 0.9]
    path.write_text('{"scores": {"a": 1}, "pred": "__import__(\'os\')"}\n')
    with pytest.raises(DataError, match=r"p.jsonl:1, field 'pred': expected a number"):
        predictions(path, "pred", "a")
    path.write_text('{"scores": {"a": 1}, "pred": "{\'a\': __import__(\'os\')}"}\n')
    with pytest.raises(DataError, match="not a valid mapping literal"):
        predictions(path, "pred", "a")


def test_metaeval_cli_says_how_it_grouped(capsys) -> None:
    from pathlib import Path

    from labkit.cli import app
    from labkit.core.cli import main_with_errors

    path = Path(__file__).parent / "fixtures" / "summeval_geval.json"
    assert main_with_errors(app, ["hpss", "metaeval", "--data", str(path), "--aspect", "coherence",
                                  "--pred-field", "pred", "--n-boot", "50"]) == 0
    out = capsys.readouterr().out
    assert "grouped by doc_id (the task's default; 3 groups)" in out and "(2 of 3 groups contributed)" in out
    assert main_with_errors(app, ["hpss", "metaeval", "--data", str(path), "--aspect", "coherence",
                                  "--pred-field", "pred", "--n-boot", "50", "--group-by", "none"]) == 0
    assert "dataset-level" in capsys.readouterr().out
