"""CharacterBench records, read unchanged from the 13 upstream test files, in either language.

A record has the character (name, profile, extra profile slots with Chinese keys), the user (name,
profile), the greeting, the ``dialogue`` whose last turn is the user's final query, the query's
reference under ``messages`` (where the file's rubric keeps it), the evaluated reply
(``response_messages.response`` and its ``model``), the human score ``annotation_score``, and an
English ``translation_en`` with the same field names. Speakers come from ``speaker`` ("user" is the
user; anything else is the character), never from turn parity. A missing or malformed field is one
line naming the file, the line where the record starts and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.character.rubrics import Rubric, rubric_for
from labkit.core.errors import DataError
from labkit.core.paths import data_dir
from labkit.core.records import json_array_with_lines

LANGS = ("zh", "en")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "character"
    text: str


@dataclass(frozen=True)
class Sample:
    id: str  # "<file>/<upstream id>"
    file: str
    lang: str
    character: str
    profile: str
    user_name: str
    user_profile: str
    greeting: str
    context: tuple[Turn, ...]  # the dialogue before the final query
    query: str
    reference: str | None
    response: str
    model: str  # the evaluated reply's model, normalised (lower case)
    gold: int | None
    raw: dict[str, Any]  # the upstream record (for pred_* columns)
    where: str = ""  # "file:line" where the record starts

    @property
    def rubric(self) -> Rubric:
        return rubric_for(self.file)


def default_dir() -> Path:
    return data_dir() / "characterbench"


def find_files(folder: Path | None = None) -> list[Path]:
    """The upstream files present in ``folder``, in rubric order."""
    from labkit.character.rubrics import RUBRICS

    folder = Path(folder) if folder else default_dir()
    return [folder / f"{stem}_test.json" for stem in RUBRICS if (folder / f"{stem}_test.json").exists()]


def _get(record: dict[str, Any], path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        return "\n".join(str(v) for v in value if str(v).strip()) or None
    text = str(value).strip()
    return text or None


def normalise_model(name: Any) -> str:
    """``characterGLM`` and ``characterglm`` are the same system."""
    return str(name or "").strip().lower() or "unknown"


def parse_sample(raw: Any, rubric: Rubric, lang: str, path: Path, line: int) -> Sample:
    def bad(field: str, message: str) -> DataError:
        return DataError(message, path=str(path), line=line, field=field)

    if not isinstance(raw, dict):
        raise bad("record", "a record must be a JSON object")
    if lang == "en":
        if not isinstance(raw.get("translation_en"), dict):
            raise bad("translation_en", "missing (needed for --lang en)")
        view, prefix = raw["translation_en"], "translation_en."
    else:
        view, prefix = raw, ""
    for key in ("character_name", "character_profile", "dialogue", "messages", "response_messages"):
        if key not in view:
            raise bad(prefix + key, "missing")
    dialogue = view["dialogue"]
    if not isinstance(dialogue, list) or not dialogue:
        raise bad(prefix + "dialogue", "must be a non-empty list of turns")
    # roles from the Chinese original when it lines up (translations sometimes render "user" as a name)
    source = raw.get("dialogue") if isinstance(raw.get("dialogue"), list) and len(raw["dialogue"]) == len(dialogue) \
        else dialogue
    user_names = {"user", str(view.get("user_name") or "user").lower()}
    turns = []
    for k, (turn, src) in enumerate(zip(dialogue, source, strict=True)):
        if not isinstance(turn, dict) or not isinstance(turn.get("utterance"), str) or "speaker" not in turn:
            raise bad(f"{prefix}dialogue[{k}]", "each turn needs speaker and utterance")
        speaker = str(src.get("speaker", "") if isinstance(src, dict) else "").lower()
        turns.append(Turn("user" if speaker in user_names else "character", turn["utterance"]))
    if turns[-1].role != "user":
        raise bad(f"{prefix}dialogue[{len(turns) - 1}]", "the last turn must be the user's final query")
    response = _get(view, "response_messages.response")
    if not isinstance(response, str):
        raise bad(prefix + "response_messages.response", "missing or not a string")
    reference = None
    if rubric.reference:
        reference = next((t for t in (_text(_get(view, p)) for p in rubric.reference) if t), None)
        if reference is None:
            raise bad(prefix + rubric.reference[0], f"{rubric.file} needs a reference here")
    gold = raw.get("annotation_score", raw.get("gold"))
    if gold is not None and (not isinstance(gold, (int, float)) or isinstance(gold, bool)
                             or not 1 <= gold <= rubric.scale):
        raise bad("annotation_score", f"must be a number in 1..{rubric.scale}, got {gold!r}")
    profile = str(view["character_profile"])
    if lang == "zh":  # extra profile slots with Chinese keys (所处时代, 主要成就, ...) are part of the profile
        extra = [f"{k}：{v}" for k, v in raw.items() if any("\u4e00" <= ch <= "\u9fff" for ch in k) and _text(v)]
        profile = "\n".join([profile] + extra)
    user_profile = _text(view.get("user_profile"))
    return Sample(id=f"{rubric.file}/{raw.get('id', line)}", file=rubric.file, lang=lang,
                  character=str(view["character_name"]), profile=profile,
                  user_name=str(view.get("user_name") or "User"),
                  user_profile="" if user_profile in (None, "N/A") else user_profile,
                  greeting=str(view.get("greeting") or ""), context=tuple(turns[:-1]), query=turns[-1].text,
                  reference=reference, response=response, model=normalise_model(_get(raw, "response_messages.model")),
                  gold=None if gold is None else int(gold), raw=raw, where=f"{path}:{line}")


def load_file(path: Path, lang: str = "zh", rubric: Rubric | None = None) -> tuple[list[Sample], list[str]]:
    """One upstream file -> samples and one problem line per bad record."""
    if lang not in LANGS:
        raise DataError(f"language must be zh or en, got {lang!r}")
    path = Path(path)
    if not path.exists():
        raise DataError("file not found (set LABKIT_DATA_DIR or pass --data)", path=str(path))
    rubric = rubric or rubric_for(path.name)
    samples, problems = [], []
    for line, raw in json_array_with_lines(path):
        try:
            samples.append(parse_sample(raw, rubric, lang, path, line))
        except DataError as exc:
            problems.append(str(exc))
    return samples, problems


def load_all(folder: Path | None = None, langs: tuple[str, ...] = ("zh",),
             files: list[str] | None = None) -> tuple[list[Sample], list[str]]:
    """Every present file (or the named ones) in every language asked for."""
    paths = find_files(folder)
    if files:
        wanted = {rubric_for(f).file for f in files}
        paths = [p for p in paths if rubric_for(p.name).file in wanted]
    if not paths:
        raise DataError("no CharacterBench test file found", path=str(Path(folder) if folder else default_dir()))
    samples, problems = [], []
    for path in paths:
        for lang in langs:
            s, p = load_file(path, lang)
            samples += s
            problems += p
    return samples, problems
