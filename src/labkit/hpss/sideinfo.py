"""Side information for the judge prompt: criteria, AutoCoT steps, per-item metric questions,
references and few-shot examples (HPSS, arXiv:2502.13031, Sec. 3.1).

Each piece comes from HPSS's shipped auxiliary files when present (``side_info: auto|shipped``)
or is generated once by the judge with labkit's own versioned prompts (``GEN_VERSION``); the
generation calls are greedy and go through the shared response cache, so they are made once per
(dataset, aspect, judge, item). Per-item few-shot blocks come from the validation split without
the item itself; the test split uses one fixed block.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labkit.core.errors import DataError
from labkit.core.models import Sampling, user
from labkit.core.paths import data_dir
from labkit.core.records import read_json
from labkit.hpss.data import Item
from labkit.hpss.prompts import Pieces, format_example, input_sections, scale_range
from labkit.hpss.space import example_count
from labkit.hpss.tasks import Task

GEN_VERSION = "labkit-hpss-aux-v1"

GEN_PROMPTS = {
    "criterion": ("Write a concise evaluation criterion for judging the {aspect} of {description}. "
                  "Say what distinguishes a rating of {low} from a rating of {high} on a {low}-to-{high} "
                  "scale. Answer with the criterion only. [{version}]"),
    "autocot": ("Here is an evaluation criterion for the {aspect} of {description}:\n\n{criterion}\n\n"
                "Write the numbered steps a careful judge should follow to rate the {aspect} on a scale "
                "of {low} to {high}. Start with 'Evaluation Steps:'. [{version}]"),
    "metrics": ("You will judge the {aspect} of {description}. For the input below, write three short "
                "yes/no questions, specific to this input, that help judge the {aspect}. Answer with "
                "the numbered questions only. [{version}]\n\n{input}"),
    "reference": ("Write a high-quality {thing} for the input below. Answer with the {thing} only. "
                  "[{version}]\n\n{input}"),
}


def _load_json(path: Path) -> dict[str, Any] | None:
    return read_json(path, dict) if path.exists() else None


@dataclass
class SideInfo:
    """Chooses and caches the pieces each strategy needs; counts generation calls."""

    task: Task
    aspect: str
    model: Any
    valid_items: list[Item]
    mode: str = "auto"                 # auto | shipped | generate
    aux_judge: str = "qwen_2_5_14b"
    human_criteria: dict[str, str] = field(default_factory=dict)  # user-supplied, by aspect
    seed: int = 0
    fixed: dict[str, str | None] | None = None  # criterion/autocot/examples of an exported judge
    calls: int = 0
    sources: dict[str, str] = field(default_factory=dict)   # piece -> "shipped: file" | "generated"
    _memo: dict[tuple[Any, ...], str] = field(default_factory=dict)

    @property
    def aux_dir(self) -> Path:
        return data_dir() / "hpss" / "hpss_auxiliary" / self.task.name

    def _shipped(self, relative: str) -> str | None:
        if self.mode == "generate":
            return None
        data = _load_json(self.aux_dir / relative)
        text = data.get(self.aspect) if data else None
        if text is not None and not isinstance(text, str):
            raise DataError(f"want text, got {type(text).__name__}", path=str(self.aux_dir / relative),
                            field=self.aspect)
        if text:
            self.sources.setdefault(relative.split("/")[0], f"shipped: {relative}")
        return text

    def _generate(self, kind: str, items: list[tuple[tuple[Any, ...], dict[str, str]]]) -> None:
        """Generate the pieces for the keys not yet known, in one batched, cached call."""
        todo = [(k, v) for k, v in items if k not in self._memo]
        if not todo:
            return
        if self.mode == "shipped":
            raise DataError(f"side_info=shipped but no shipped {kind} for aspect '{self.aspect}'",
                            path=str(self.aux_dir))
        prompts = [user(GEN_PROMPTS[kind].format(version=GEN_VERSION, **v)) for _, v in todo]
        answers = self.model.chat(prompts, Sampling(max_tokens=384))
        self.calls += len(prompts)
        self.sources.setdefault(kind, f"generated ({GEN_VERSION}) by {self.model.model_id}")
        for (key, _), answer in zip(todo, answers, strict=True):
            self._memo[key] = answer[0].text.strip()

    def _words(self, scale: int) -> dict[str, Any]:
        low, high = scale_range(self.task, self.aspect, scale)
        return {"aspect": self.aspect, "description": self.task.description, "thing": self.task.thing,
                "low": low, "high": high}

    def criterion(self, kind: str, scale: int) -> str:
        if kind == "Human":
            text = (self.human_criteria.get(self.aspect) or self._shipped(f"criteria/criteria_human_scale_{scale}.json")
                    or self._shipped("criteria/criteria_human.json"))
            if not text:
                self.sources.setdefault("criteria", "none shipped: a one-line definition by labkit")
                text = f"{self.aspect.capitalize()}: how good the {self.task.thing} is in terms of {self.aspect}."
            return text
        shipped = (self._shipped(f"criteria/criteria_llm_{self.aux_judge}_scale_{scale}.json")
                   or self._shipped(f"criteria/criteria_llm_{self.aux_judge}.json"))
        if shipped:
            return shipped
        key = ("criterion", scale)
        self._generate("criterion", [(key, self._words(scale))])
        return self._memo[key]

    def autocot(self, criteria_kind: str, scale: int) -> str:
        kind = "llm" if criteria_kind == "LLM" else "human"
        shipped = self._shipped(f"autocot/autocot_{kind}_criteria_{self.aux_judge}_scale_{scale}.json")
        if shipped:
            return shipped
        key = ("autocot", kind, scale)
        crit = self.criterion("LLM" if kind == "llm" else "Human", scale)
        self._generate("autocot", [(key, {**self._words(scale), "criterion": crit})])
        return self._memo[key]

    def _input_text(self, item: Item) -> str:
        return "\n\n".join(input_sections(self.task, item))

    def prefetch(self, values: dict[str, Any], items: list[Item]) -> None:
        """Generate every per-item piece ``values`` needs for ``items`` in one batch."""
        if values["metrics"] == "Metrics":
            self._generate("metrics", [(("metrics", it.id, it.fields["source"]), {
                **self._words(values["scale"]), "input": self._input_text(it)})
                for it in items if not it.extra.get(f"metrics_{self.aspect}")])
        if values["reference"] == "Reference":
            self._generate("reference", [(("reference", it.id, it.fields["source"]), {
                **self._words(values["scale"]), "input": self._input_text(it)})
                for it in items if not (it.extra.get("generated_reference") or it.fields.get("reference"))])

    def examples(self, k: int, scale: int, item: Item | None) -> str:
        """K rated examples spanning the scale; ``item`` None = the fixed test block."""
        if item is None:
            shipped = self._shipped(f"example/few_shot_{self.task.name}_scale_{scale}_number_{k}.json")
            if shipped:
                return shipped
        pool = [it for it in self.valid_items if item is None or it.id != item.id]
        if len(pool) < k:
            raise DataError(f"{k} examples need {k} other validation items, have {len(pool)}")
        scores = [it.scores[self.aspect] for it in pool]
        h_low, h_high = min(scores), max(scores)
        low, high = scale_range(self.task, self.aspect, scale)
        salt = f"{self.seed}:{item.id if item else 'test'}"
        chosen: list[Item] = []
        for i in range(k):
            target = h_low + (h_high - h_low) * (i / max(k - 1, 1))
            rest = [it for it in pool if it not in chosen]
            chosen.append(min(rest, key=lambda it: (abs(it.scores[self.aspect] - target),
                                                    hashlib.sha256(f"{salt}:{it.id}".encode()).hexdigest())))
        self.sources.setdefault("examples", "built from the validation split")

        def judge_scale(h: float) -> int:
            span = (h_high - h_low) or 1.0
            return round(low + (h - h_low) / span * (high - low))
        return "\n\n".join(f"# Example {i + 1}:\n" + format_example(self.task, it, judge_scale(it.scores[self.aspect]))
                           for i, it in enumerate(chosen))

    def pieces(self, values: dict[str, Any], item: Item, split: str) -> Pieces:
        scale = values["scale"]
        if self.fixed is not None:
            criterion, autocot = self.fixed.get("criterion"), self.fixed.get("autocot")
        else:
            criterion = None if values["criteria"] == "NoCriteria" else self.criterion(values["criteria"], scale)
            autocot = self.autocot(values["criteria"], scale) if values["autocot"] == "AutoCoT" else None
        metrics = reference = examples = None
        if values["metrics"] == "Metrics":
            metrics = (item.extra.get(f"metrics_{self.aspect}")
                       or self._memo.get(("metrics", item.id, item.fields["source"])))
            if metrics is None:
                self.prefetch(values, [item])
                metrics = self._memo[("metrics", item.id, item.fields["source"])]
        if values["reference"] == "Reference":
            reference = (item.extra.get("generated_reference") or item.fields.get("reference")
                         or self._memo.get(("reference", item.id, item.fields["source"])))
            if reference is None:
                self.prefetch(values, [item])
                reference = self._memo[("reference", item.id, item.fields["source"])]
        k = example_count(values["examples"])
        if k and self.fixed is not None:
            examples = self.fixed.get("examples")
        elif k:
            key = ("examples", k, scale, None if split == "test" else item.id)
            if key not in self._memo:
                self._memo[key] = self.examples(k, scale, None if split == "test" else item)
            examples = self._memo[key]
        return Pieces(criterion=criterion, autocot=autocot, metric_questions=metrics, reference=reference,
                      examples=examples)
