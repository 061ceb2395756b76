"""Responses of our own making for IFEval's prompts: for every instruction a seeded coin decides whether the
response tries to follow it or breaks it, plus edge cases (empty, whitespace, markdown wrappers, asterisks,
an intro line loose scoring removes, non-English text, JSON in fences). Used to compare labkit's verdicts
with the reference implementation's on every (response, instruction)."""

from __future__ import annotations

import json
import random
from typing import Any

FILLER = ("The river bends near the old mill. Farmers sell apples at dawn. Children laugh on the bridge. "
          "Rain falls softly on the roofs. A dog sleeps by the door. The market closes at noon.").split(". ")
OTHER_LANGUAGE = {"es": "El río pasa cerca del viejo molino y los niños juegan en el puente todos los días.",
                  "de": "Der Fluss fließt am alten Mühlrad vorbei und die Kinder spielen jeden Tag auf der Brücke.",
                  "fr": "La rivière passe près du vieux moulin et les enfants jouent sur le pont chaque jour."}


def sentences(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(FILLER).strip(".") + "." for _ in range(max(n, 0)))


def piece(iid: str, kw: dict[str, Any], follow: bool, rng: random.Random, prompt: str) -> tuple[str, str]:
    """(prefix, body) text aimed at following (or breaking) one instruction."""
    kw = {k: v for k, v in kw.items() if v is not None}
    if iid == "detectable_format:title":
        return ("<<A Quiet Town>>\n" if follow else "A Quiet Town\n"), ""
    if iid == "detectable_format:number_bullet_lists":
        n = kw.get("num_bullets", 3) + (0 if follow else rng.choice([-1, 1]))
        return "", "\n".join(f"* point {i} about the town" for i in range(max(n, 0)))
    if iid == "detectable_format:number_highlighted_sections":
        n = kw.get("num_highlights", 2) - (0 if follow else 1)
        return "", " ".join(f"*highlight {i}*" for i in range(max(n, 0)))
    if iid == "detectable_format:multiple_sections":
        n = kw.get("num_sections", 2) - (0 if follow else 1)
        marker = kw.get("section_spliter", "Section")
        return "", "\n".join(f"{marker} {i + 1}\n{sentences(rng, 2)}" for i in range(max(n, 0)))
    if iid == "detectable_content:number_placeholders":
        n = kw.get("num_placeholders", 1) - (0 if follow else 1)
        return "", " ".join(f"[place {i}]" for i in range(max(n, 0)))
    if iid == "detectable_content:postscript":
        return "", (f"\n{kw.get('postscript_marker', 'P.S.')} see you soon." if follow else "\nThanks.")
    if iid == "keywords:existence":
        return "", " ".join(kw.get("keywords", [])) if follow else ""
    if iid == "keywords:forbidden_words":
        return "", "" if follow else " ".join(kw.get("forbidden_words", [])[:1])
    if iid == "keywords:frequency":
        n = kw.get("frequency", 1) + (0 if follow else (1 if kw.get("relation") == "less than" else -1))
        return "", " ".join([kw.get("keyword", "town")] * max(n, 0))
    if iid == "keywords:letter_frequency":
        n = kw.get("let_frequency", 1) + rng.choice([-2, 0, 3])
        return "", " ".join([kw.get("letter", "z") * 1] * max(n, 0))
    if iid == "length_constraints:number_words":
        n = kw.get("num_words", 50) + rng.choice([-10, 10])
        return "", " ".join(["word"] * max(n, 1)) + "."
    if iid == "length_constraints:number_sentences":
        return "", sentences(rng, kw.get("num_sentences", 3) + rng.choice([-1, 0, 1]))
    if iid == "length_constraints:number_paragraphs":
        n = kw.get("num_paragraphs", 2) + (0 if follow else 1)
        return "", "\n***\n".join(sentences(rng, 2) for _ in range(n))
    if iid == "length_constraints:nth_paragraph_first_word":
        n = kw.get("num_paragraphs", 2)
        paras = [sentences(rng, 2) for _ in range(n)]
        k = kw.get("nth_paragraph", 1) - 1
        if follow and 0 <= k < n:
            paras[k] = f"{kw.get('first_word', 'the').capitalize()} {paras[k]}"
        return "", "\n\n".join(paras)
    if iid == "startend:end_checker":
        return "", f"\n{kw.get('end_phrase', 'Done.')}" if follow else "\nThat is all."
    if iid == "combination:repeat_prompt":
        return (kw.get("prompt_to_repeat", prompt) + "\n") if follow else "", ""
    if iid == "combination:two_responses":
        return "", ("First answer.\n******\nSecond answer." if follow else "Only one answer.")
    if iid == "detectable_format:constrained_response":
        return "", rng.choice(["My answer is yes.", "My answer is maybe.", "Not sure."])
    if iid == "language:response_language":
        lang = kw.get("language", "en")
        return "", OTHER_LANGUAGE.get(lang, OTHER_LANGUAGE["es"]) if follow else "This is plain English text."
    return "", ""


def response_for(item: dict[str, Any], rng: random.Random) -> str:
    prefixes, bodies, wraps = [], [sentences(rng, rng.randint(1, 4))], set()
    for iid, kw in zip(item["instruction_id_list"], item["kwargs"], strict=True):
        follow = rng.random() < 0.6
        pre, body = piece(iid, kw, follow, rng, item["prompt"])
        prefixes.append(pre)
        bodies.append(body)
        if iid in ("punctuation:no_comma", "change_case:english_lowercase", "change_case:english_capital",
                   "startend:quotation", "detectable_format:json_format") and follow:
            wraps.add(iid)
        if iid == "change_case:capital_word_frequency":
            n = (kw.get("capital_frequency") or 2) + rng.choice([-1, 1])
            bodies.append(" ".join(["LOUD"] * max(n, 0)))
    text = "".join(prefixes) + "\n".join(b for b in bodies if b)
    if rng.random() < 0.3:
        text = text.replace(",", " ") if "punctuation:no_comma" in wraps else text + ", and more"
    elif "punctuation:no_comma" in wraps:
        text = text.replace(",", "")
    if "change_case:english_lowercase" in wraps:
        text = text.lower()
    if "change_case:english_capital" in wraps:
        text = text.upper()
    if "startend:quotation" in wraps:
        text = f'"{text}"'
    if "detectable_format:json_format" in wraps:
        text = "```json\n" + json.dumps({"answer": text}) + "\n```" if rng.random() < 0.5 else json.dumps({"a": text})
    edge = rng.random()
    if edge < 0.08:
        text = "Sure! Here is my answer:\n" + text  # an intro line: loose scoring tries without it
    elif edge < 0.14:
        text = "**" + text.replace("\n", "**\n**") + "**"  # asterisks: loose tries without them
    elif edge < 0.17:
        text = ""
    elif edge < 0.19:
        text = "   \n  "
    return text


def make_responses(items: list[dict[str, Any]], per_item: int = 2, seed: int = 0) -> list[dict[str, str]]:
    rng = random.Random(seed)
    return [{"prompt": it["prompt"], "response": response_for(it, rng)} for it in items for _ in range(per_item)]
