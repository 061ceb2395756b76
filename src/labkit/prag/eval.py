"""PRAG's answer scoring, as the original evaluation does it (arXiv:2501.15915's released evaluation).

The prediction is cut at the first ".", "," or newline (in CoT mode, first the text after "the answer
is"); prediction and gold are SQuAD-normalised (lowercase, no punctuation, no articles, single spaces);
EM and F1 take the maximum over the gold aliases; F1 is 0 when either side is yes/no/noanswer and the
two differ. Headline metric: F1.
"""

from __future__ import annotations

import re
import string
from collections import Counter

SPECIAL = ("yes", "no", "noanswer")


def normalize_answer(text: str) -> str:
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def postprocess(prediction: str, cot: bool = False) -> str:
    """Cut at the first '.', ',' or newline; in CoT mode first keep what follows 'the answer is'."""
    text = prediction
    if cot:
        m = re.search(r"the answer is", text, re.IGNORECASE)
        if m:
            text = text[m.end():]
    text = text.strip()
    cut = min((i for i in (text.find("."), text.find(","), text.find("\n")) if i >= 0), default=len(text))
    return text[:cut].strip()


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction), normalize_answer(gold)
    if (pred in SPECIAL or ref in SPECIAL) and pred != ref:
        return 0.0
    pred_tokens, ref_tokens = pred.split(), ref.split()
    common = Counter(pred_tokens) & Counter(ref_tokens)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred_tokens), same / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def contained(prediction: str, gold: str) -> float:
    """1 when the normalised gold appears, as whole words, anywhere in the normalised raw output: a check
    of knowledge that does not depend on how the answer is formatted or where it is cut."""
    pred, ref = f" {normalize_answer(prediction)} ", f" {normalize_answer(gold)} "
    return float(bool(ref.strip()) and ref in pred)


def score(prediction: str, golds: str | list[str], cot: bool = False) -> dict[str, float]:
    """EM and F1 of a raw model output against one answer or a list of aliases (max over aliases), and
    whether an alias is contained anywhere in the output."""
    aliases = [golds] if isinstance(golds, str) else list(golds)
    answer = postprocess(prediction, cot)
    return {"em": max((exact_match(answer, g) for g in aliases), default=0.0),
            "f1": max((f1_score(answer, g) for g in aliases), default=0.0),
            "contained": max((contained(prediction, g) for g in aliases), default=0.0)}
