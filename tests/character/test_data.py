"""Loaders: the five shared files in both languages, every rubric's reference path, one-line errors."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from labkit.character.data import load_all, load_file, normalise_model
from labkit.character.rubrics import ASPECTS, DIMENSIONS, RUBRICS, rubric_for
from labkit.core.errors import ConfigError


def test_rubric_registry_matches_the_paper() -> None:
    assert len(RUBRICS) == 13 and len(DIMENSIONS) == 11
    assert {r.aspect for r in RUBRICS.values()} == set(ASPECTS)
    scales = {f: r.scale for f, r in RUBRICS.items()}
    assert scales == {"memory_consistency": 4, "fact_accuracy": 4, "boundary_consistency": 3,
                      "attribute_consistency_bot": 4, "attribute_consistency_human": 4,
                      "behavior_consistency_bot": 4, "behavior_consistency_human": 3,
                      "emotion_self_regulation": 4, "empathetic_responsiveness": 4, "morality_stability": 2,
                      "morality_robustness": 2, "human_likeness": 5, "engagement": 5}
    assert all(len(r.levels) == r.scale for r in RUBRICS.values())
    dense = {f for f, r in RUBRICS.items() if not r.sparse}
    assert dense == {"behavior_consistency_bot", "behavior_consistency_human", "morality_stability",
                     "human_likeness", "engagement"}
    no_ref = {f for f, r in RUBRICS.items() if not r.needs_reference}
    assert no_ref == {"morality_stability", "morality_robustness", "human_likeness", "engagement"}
    assert rubric_for("x/empathetic_responsiveness_test.json").file == "empathetic_responsiveness"
    with pytest.raises(ConfigError):
        rubric_for("nonsense_test.json")


def test_shared_files_both_languages(cb_dir: Path) -> None:
    samples, problems = load_all(cb_dir, ("zh", "en"))
    assert problems == []
    assert Counter((s.file, s.lang) for s in samples) == {(f, lang): 250 for f in (
        "attribute_consistency_bot", "attribute_consistency_human", "behavior_consistency_human",
        "empathetic_responsiveness", "human_likeness") for lang in ("zh", "en")}
    assert all(s.reference for s in samples if s.rubric.needs_reference)
    assert all(s.reference is None for s in samples if s.file == "human_likeness")
    zh = {s.id: s for s in samples if s.lang == "zh"}
    en = {s.id: s for s in samples if s.lang == "en"}
    assert zh.keys() == en.keys()
    assert all(zh[i].gold == en[i].gold and len(zh[i].context) == len(en[i].context) for i in zh)
    # speakers come from `speaker`: translations that render "user" as a name keep the role
    s = en["empathetic_responsiveness/22"]
    assert s.query.startswith("Starsea, in that moment") and s.context[-1].role == "character"
    assert {s.model for s in samples} >= {"characterglm", "claude3-opus", "gpt"}
    assert "characterGLM" not in {s.model for s in samples}
    assert normalise_model(" CharacterGLM ") == "characterglm"
    bot = next(s for s in samples if s.file == "attribute_consistency_bot" and s.lang == "en")
    assert bot.reference == "Himawari"  # the reference answer of the first record


def _write(tmp_path: Path, records: list) -> Path:
    path = tmp_path / "human_likeness_test.json"
    path.write_text("[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n]")
    return path


def test_bad_records_one_line_each(tmp_path: Path, demo_dir: Path) -> None:
    good = json.loads((demo_dir / "human_likeness_test.json").read_text())[0]
    broken = [good,
              {k: v for k, v in good.items() if k != "character_profile"},
              {**good, "annotation_score": 9},
              {**good, "dialogue": good["dialogue"][:-1]},  # last turn is the character's
              {**good, "response_messages": {"model": "x"}}]
    samples, problems = load_file(_write(tmp_path, broken), "zh")
    assert len(samples) == 1 and len(problems) == 4
    for needle in ("field 'character_profile': missing", "field 'annotation_score'",
                   "the last turn must be the user's final query", "field 'response_messages.response'"):
        assert any(needle in p for p in problems), needle
    assert all(p.count("\n") == 0 and ":" in p.split(",")[0] for p in problems)
    samples, problems = load_file(_write(tmp_path, [{k: v for k, v in good.items() if k != "translation_en"}]), "en")
    assert samples == [] and "translation_en" in problems[0]


def test_missing_reference_is_named(tmp_path: Path, demo_dir: Path) -> None:
    rec = json.loads((demo_dir / "empathetic_responsiveness_test.json").read_text())[0]
    rec["messages"]["output"].pop("emotion")
    path = tmp_path / "empathetic_responsiveness_test.json"
    path.write_text(json.dumps([rec]))
    samples, problems = load_file(path, "zh")
    assert samples == [] and "messages.output.emotion" in problems[0]
