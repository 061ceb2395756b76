import json
from pathlib import Path

import pytest

from labkit.core.errors import DataError
from labkit.hpss.data import load_file, load_initiation, load_splits

DEFAULT_AVERAGES = {"summeval": 0.417, "topical_chat": 0.604, "sfhot": 0.307, "sfres": 0.270, "hanna": 0.391}


@pytest.mark.parametrize("name,avg", DEFAULT_AVERAGES.items())
def test_initiation_files_give_the_published_default_averages(hpss_data, name, avg) -> None:
    ini = load_initiation(name)
    assert round(ini.average(ini.baseline), 3) == avg
    assert len(ini.changes) == 20  # every one-factor variant mapped, irregular names included


def test_initiation_best_and_worst_changes(hpss_data) -> None:
    effects = load_initiation("topical_chat").effects()
    assert round(effects[("scale", 50)], 3) == 0.012
    assert min(effects, key=effects.get) == ("reference", "Dialectic")
    assert round(load_initiation("sfres").effects()[("criteria", "LLM")], 3) == 0.055


def test_hpss_splits_load(hpss_data) -> None:
    valid, test = load_splits("topical_chat", aspect="coherence")
    assert (len(valid.items), len(test.items)) == (180, 180)
    item = valid.items[0]
    assert set(item.fields) >= {"source", "context", "output"} and "metrics_coherence" in item.extra
    hv, ht = load_splits("hanna")
    assert (len(hv.items), len(ht.items)) == (528, 528) and hv.name == "hanna"


def test_summeval_groups_by_doc_id(tmp_path) -> None:
    records = [{"doc_id": f"d{d}", "system_id": f"M{s}", "source": "article", "reference": "ref",
                "system_output": f"summary {d}{s}", "scores": {"coherence": s}} for s in range(3) for d in range(4)]
    path = tmp_path / "summeval.json"
    path.write_text(json.dumps(records))
    data = load_file(path)
    assert data.name == "summeval" and [it.group for it in data.items[:4]] == ["d0", "d1", "d2", "d3"]
    valid, test = load_splits(str(path), aspect="coherence")
    assert {it.group for it in valid.items}.isdisjoint({it.group for it in test.items})


def test_user_jsonl_and_csv(tmp_path) -> None:
    jl = tmp_path / "mine.jsonl"
    jl.write_text('{"source": "q", "output": "a", "score": 4, "group": "g1"}\n')
    item = load_file(jl, aspect="quality").items[0]
    assert item.scores == {"quality": 4.0} and item.group == "g1" and item.fields["output"] == "a"
    csv_path = tmp_path / "mine.csv"
    csv_path.write_text("source,output,score\nq,a,3\nq2,b,oops\n")
    with pytest.raises(DataError, match=r"mine.csv:3, field 'score.quality': expected a number, got 'oops'"):
        load_file(csv_path, aspect="quality")


def test_bad_records_name_file_record_field(tmp_path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps([{"source": "s", "system_output": "o", "context": "c", "scores": {"coherence": 2}},
                                {"source": "s", "context": "c", "scores": {"coherence": 2}}]))
    with pytest.raises(DataError, match=r"bad.json:1, field 'system_output': missing"):
        load_file(path, task="topical_chat")
    path.write_text("[{]")
    with pytest.raises(DataError, match="bad.json:1: not JSON"):
        load_file(path)


FIXTURES = Path(__file__).parent / "fixtures"


def test_summeval_release_and_geval_layouts_load_the_same() -> None:
    release = load_file(FIXTURES / "summeval_release_paired.jsonl")
    geval = load_file(FIXTURES / "summeval_geval.json")
    assert release.name == geval.name == "summeval" and len(release.items) == len(geval.items) == 12
    for a, b in zip(release.items, geval.items, strict=True):
        assert a.scores == pytest.approx(b.scores) and a.group == b.group and a.fields["source"] == b.fields["source"]
        assert a.fields["output"] == b.fields["output"]
    assert release.items[0].id == "dm-test-0001/M0"
    assert release.items[1].scores["coherence"] == pytest.approx(
        sum(e["coherence"] for e in json.loads((FIXTURES / "summeval_release_paired.jsonl").read_text()
                                               .splitlines()[1])["expert_annotations"]) / 3)


def test_summeval_release_without_articles_names_the_field(tmp_path) -> None:
    lines = (FIXTURES / "summeval_release_paired.jsonl").read_text().splitlines()
    rows = [json.loads(x) for x in lines]
    for r in rows:
        del r["text"]
    path = tmp_path / "model_annotations.aligned.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(DataError, match="field 'text'"):
        load_file(path)


def test_metaeval_groups_summeval_by_document_by_default() -> None:
    from labkit.hpss.data import predictions

    for name in ("summeval_release_paired.jsonl", "summeval_geval.json"):
        human, pred, groups, field = predictions(FIXTURES / name, "pred", "coherence")
        assert field in ("id", "doc_id") and len(set(groups)) == 3 and len(human) == 12
        _, _, flat, none = predictions(FIXTURES / name, "pred", "coherence", "none")
        assert none is None and len(set(flat)) == 12


def test_repeated_ids_are_numbered_by_position_and_said(tmp_path, capsys) -> None:
    import json

    from labkit.hpss.data import load_file

    rows = [{"id": "a", "source": "s", "output": "o1", "score": 1},
            {"id": "b", "source": "s", "output": "o2", "score": 2},
            {"id": "a", "source": "s", "output": "o3", "score": 3}]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    data = load_file(path, aspect="score")
    assert [it.id for it in data.items] == ["0", "1", "2"]
    err = capsys.readouterr().err
    assert "1 record(s) repeat an id (first: 'a' at line 3, first seen at line 1)" in err
    rows[2]["id"] = "c"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert [it.id for it in load_file(path, aspect="score").items] == ["a", "b", "c"]
    assert capsys.readouterr().err == ""
