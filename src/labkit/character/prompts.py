"""labkit's own role-play and judge prompts for CharacterBench (arXiv:2412.11912 Sec. 3-4).

Role-play: profile, user profile and the dialogue, then output rules: one in-character reply, short
(30 Chinese characters / 30 English words; upstream's English prompt says "15 characters", a
mistranslation), actions in parentheses, as JSON ``{"response": ...}``.

Judge: one rubric per file (``rubrics.py``), the dialogue kept or dropped as the original judge did
(``context="auto"``) or as asked, the reference shown when the rubric uses one (unless
``use_reference`` is off), and a bare integer as the answer.
"""

from __future__ import annotations

from labkit.character.data import Sample
from labkit.character.rubrics import Rubric

ROLEPLAY = {
    "en": """You are role-playing {name}. Stay in character at all times and never mention being an AI.

Character profile:
{profile}
{user_block}
Conversation:
{dialogue}

Write {name}'s next reply. Keep the character's personality, knowledge, memories, emotions and speaking style \
consistent; sound like a real person; be fluent and interesting. At most 30 words; actions or expressions go in \
parentheses, e.g. (smiles).
Output only JSON: {{"response": "<the reply>"}}""",
    "zh": """你正在扮演{name}。始终保持角色身份，不要提及自己是AI。

角色设定：
{profile}
{user_block}
对话：
{dialogue}

请写出{name}的下一句回复。保持角色的性格、知识、记忆、情绪和说话风格一致；像真人一样自然、流畅、有趣。\
不超过30个字；动作或神态写在括号里，例如（微笑）。
只输出JSON：{{"response": "<回复>"}}""",
}
USER_BLOCK = {"en": "\nThe user is {user}. {profile}\n", "zh": "\n用户是{user}。{profile}\n"}


def render_dialogue(sample: Sample, *, include_query: bool = True, max_turns: int | None = None) -> str:
    """``Name: text`` lines; the greeting opens the conversation."""
    turns = list(sample.context)
    if max_turns is not None:
        turns = turns[-max_turns:]
    lines = [f"{sample.character}: {sample.greeting}"] if sample.greeting and len(turns) == len(sample.context) else []
    lines += [f"{sample.user_name if t.role == 'user' else sample.character}: {t.text}" for t in turns]
    if include_query:
        lines.append(f"{sample.user_name}: {sample.query}")
    return "\n".join(lines)


def _clip(text: str, limit: int | None) -> str:
    return text if limit is None or len(text) <= limit else text[:limit] + " ..."


TEXT_RULE = {"en": 'Output only JSON: {{"response": "<the reply>"}}', "zh": '只输出JSON：{{"response": "<回复>"}}'}
TEXT_INSTEAD = {"en": "Output only the reply, on one line.", "zh": "只输出回复本身，写在一行里。"}


def roleplay_prompt(sample: Sample, *, max_profile_chars: int | None = None, max_turns: int | None = None,
                    fmt: str = "json") -> str:
    lang = sample.lang
    user_block = USER_BLOCK[lang].format(user=sample.user_name, profile=sample.user_profile) \
        if sample.user_profile else ""
    template = ROLEPLAY[lang] if fmt == "json" else ROLEPLAY[lang].replace(TEXT_RULE[lang], TEXT_INSTEAD[lang])
    return template.format(name=sample.character, profile=_clip(sample.profile, max_profile_chars),
                           user_block=user_block, dialogue=render_dialogue(sample, max_turns=max_turns))


JUDGE = """You are rating one reply in a role-play conversation. Rate only this: {feature}.

[Character]
{name}: {profile}

{user_block}{context}[Final user message]
{user}: {query}
{reference}[Reply to rate]
{name}: {response}

Rubric (score 1 to {scale}):
{levels}

Answer with the score only: one integer from 1 to {scale}."""


def judge_prompt(sample: Sample, response: str, rubric: Rubric, *, use_reference: bool = True,
                 context: str = "auto", max_profile_chars: int | None = None, max_turns: int | None = None) -> str:
    """The judge's user message for ``response`` to ``sample``'s final query."""
    keep = rubric.keep_context if context == "auto" else context == "keep"
    ctx = f"[Conversation so far]\n{render_dialogue(sample, include_query=False, max_turns=max_turns)}\n\n" \
        if keep and (sample.context or sample.greeting) else ""
    ref = f"[Reference]\n{sample.reference}\n\n" if use_reference and rubric.needs_reference and sample.reference \
        else ""
    user_block = f"[User]\n{sample.user_name}: {_clip(sample.user_profile, max_profile_chars)}\n\n" \
        if sample.user_profile else ""
    levels = "\n".join(f"{k}: {text}" for k, text in enumerate(rubric.levels, 1))
    return JUDGE.format(feature=rubric.feature, name=sample.character,
                        profile=_clip(sample.profile, max_profile_chars), user_block=user_block,
                        context=ctx, user=sample.user_name, query=sample.query, reference=ref,
                        response=response, scale=rubric.scale, levels=levels)
