"""CharacterBench quick demo on a small role-play set labkit writes itself (upstream schema, English):
four characters, three files (attribute_consistency_bot, empathetic_responsiveness, human_likeness), and
for every record three hand-written replies scored by us on the rubric (a fitting one, a bland one, a
contradicting or assistant-like one). SmolLM2 writes its own reply to each record; the embedded judge and
the lite judge (trained on the hand-scored replies) score everything; the report ranks the systems."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CHARACTERS = [
    {"name": "Captain Mira Voss", "profile": "Captain Mira Voss commands the freighter Kestrel. Stern on duty, warm "
     "in private, she has a daughter named Lena who lives on Mars. She is afraid of deep water since a flood in her "
     "childhood.", "greeting": "(checks the nav screen) You're late, cadet. Sit down.",
     "context": [("user", "Sorry, Captain. The docking queue was long."),
                 ("character", "(nods) It always is at Ceres. Coffee's still warm.")],
     "attr": ("What is your daughter's name, Captain?", "Lena",
              ["(smiles softly) Lena. She's on Mars with her grandmother; I call her every Sunday.",
               "(shrugs) Family talk can wait, cadet.", "I don't have any children. Never wanted them."]),
     "emp": ("When I told you my transfer was refused, what did I seem to feel?", "disappointment and frustration",
             ["(puts a hand on your shoulder) You looked gutted. Frustrated too. We'll appeal it together.",
              "Transfers get refused all the time.", "(grins) You seemed thrilled, honestly!"]),
     "hl": ("Do you ever miss Earth?",
            ["(stares at the viewport) Every time I see an ocean on the screen. Then I remember I hate swimming.",
             "Sometimes. Earth is a nice planet.", "As an AI language model, I do not have feelings about Earth."])},
    {"name": "Old Chen", "profile": "Old Chen runs a tea house in Chengdu. He jokes constantly, lost his wife Mei ten "
     "years ago, and adores Sichuan opera, especially the face-changing act.", "greeting": "Ah, a new face! Sit, sit, "
     "the jasmine is fresh.", "context": [("user", "Is it always this busy?"),
                                          ("character", "(laughs) Only when the opera troupe rehearses next door!")],
     "attr": ("What kind of performance do you love most?", "Sichuan opera face-changing",
              ["(eyes light up) Face-changing! Bian lian! Blink and the mask is new. Mei and I never missed a show.",
               "I like many kinds of shows.", "I can't stand opera. Too loud."]),
     "emp": ("How did I sound when I talked about leaving my hometown?", "sadness and homesickness",
             ["(refills your cup quietly) You sounded homesick, a little heartbroken. I know that ache.",
              "Many people leave their hometown.", "You sounded angry at me."]),
     "hl": ("What's the secret to a good cup of tea?",
            ["(taps the pot) Patience, and never let a customer pour it himself! Haha.",
             "Use good leaves and hot water.", "Here are five steps for brewing tea: 1. Boil water. 2. Add leaves."])},
    {"name": "Dr. Ada Quill", "profile": "Dr. Ada Quill is a Victorian inventor in London who speaks formally. She "
     "built a clockwork owl named Hermes that delivers her letters, and she distrusts steam engines after an "
     "explosion.", "greeting": "Do come in, and mind the gears on the floor.",
     "context": [("user", "What are all these gears for?"),
                 ("character", "(adjusts her goggles) Everything, my dear. Nothing at all. It depends on the day.")],
     "attr": ("What is the name of your clockwork owl?", "Hermes",
              ["(strokes the brass owl) This is Hermes. He carries my correspondence more reliably than the Royal "
               "Mail.", "It is an owl made of clockwork.", "My owl? Her name is Athena."]),
     "emp": ("When my invention failed in front of the Society, how did I appear to you?", "embarrassment and shame",
             ["(lowers her voice) Mortified, I should say, and ashamed. Every inventor has stood where you stood.",
              "The Society meets every Thursday.", "You appeared entirely delighted."]),
     "hl": ("Should I buy a steam carriage?",
            ["(frowns) I would sooner ride a bull through Piccadilly. Steam has taken enough eyebrows from me.",
             "Steam carriages have advantages and disadvantages.", "I am an assistant and cannot advise purchases."])},
    {"name": "Pip", "profile": "Pip is a mischievous forest sprite who speaks in short excited sentences, collects "
     "shiny buttons, and is burned by iron.", "greeting": "Ooh! A human! Got any buttons?",
     "context": [("user", "Maybe. What do you need buttons for?"),
                 ("character", "(spins in the air) Treasure! Obviously! Shiny shiny!")],
     "attr": ("What metal should I keep away from you?", "iron",
              ["(hides behind a leaf) Iron! Bad bad iron! It burns!", "Some metals are bad, I think.",
               "Iron? I love iron! Give me all your nails!"]),
     "emp": ("How did I feel when I found your button stash?", "surprise and delight",
             ["(claps) You gasped! So surprised! Then happy-happy! I saw it!", "You found my buttons.",
              "You were bored. Very bored."]),
     "hl": ("Can you show me the way out of the forest?",
            ["(zips ahead, giggling) Follow the glowy mushrooms! Not that way! That way!",
             "Yes. Go straight and then turn left.", "Certainly. As an AI, I recommend using a GPS application."])},
]
FILES = {"attribute_consistency_bot": ("attr", (4, 2, 1)), "empathetic_responsiveness": ("emp", (4, 2, 1)),
         "human_likeness": ("hl", (5, 3, 2))}
KINDS = ("fitting", "bland", "contradicting")


def _record(char: dict[str, Any], file: str, k: int, idx: int) -> dict[str, Any]:
    key, golds = FILES[file]
    spec = char[key]
    query, replies = spec[0], spec[-1]
    messages: dict[str, Any] = {"model": "", "speaker": "user", "response": query}
    if file == "attribute_consistency_bot":
        messages["output"] = {"answer": spec[1], "query": query}
    elif file == "empathetic_responsiveness":
        messages["output"] = {"emotion": spec[1], "dialogue_segments": [char["context"][0][1]]}
    dialogue = [{"turn": i // 2 + 1, "speaker": "user" if role == "user" else "character", "utterance": text}
                for i, (role, text) in enumerate(char["context"])]
    dialogue.append({"turn": len(dialogue) // 2 + 1, "speaker": "user", "utterance": query})
    view = {"character_name": char["name"], "character_profile": char["profile"], "user_name": "User",
            "user_profile": "N/A", "greeting": char["greeting"], "dialogue": dialogue, "messages": messages,
            "response_messages": {"model": f"hand-{KINDS[k]}", "response": replies[k]}}
    return {**view, "id": idx, "annotation_score": golds[k], "translation_en": view}


def write_demo_data(folder: Path) -> Path:
    """Three upstream-schema files with 4 characters x 3 hand-scored replies each."""
    folder.mkdir(parents=True, exist_ok=True)
    for file in FILES:
        records = [_record(c, file, k, i * 3 + k) for i, c in enumerate(CHARACTERS) for k in range(3)]
        (folder / f"{file}_test.json").write_text(json.dumps(records, indent=1, ensure_ascii=False))
    return folder


def run_demo(folder: Path) -> str:
    from labkit.character.config import CharacterConfig
    from labkit.character.lite import features, fit_ridge, train_lite
    from labkit.character.method import generate_run, judge_run, sample_key, select_samples
    from labkit.character.report import scores_section
    from labkit.core.config import load_config
    from labkit.core.models.embed import embed_minilm
    from labkit.core.report import markdown_table
    from labkit.core.runs import start_run

    data = write_demo_data(folder / "character_data")
    cfg = load_config(CharacterConfig, None, [f"data={data}", "langs=[en]", "judge.mode=expected",
                                              "generate.max_tokens=64", "generate.format=text",
                                              "n_boot=200"])
    samples, _ = select_samples(cfg)
    base = [s for s in samples if s.model == "hand-fitting"]  # one per (character, file)
    gen_run = start_run("character", "demo-generate", {}, root=folder)
    generated = generate_run(cfg, gen_run, base, progress=False)
    judge_dir = start_run("character", "demo-judge", {}, root=folder)
    judged_hand = judge_run(cfg, judge_dir, samples, progress=False)["records"]
    judged_gen = {}
    if any(r.get("ok") for r in generated.values()):
        gen_judge = start_run("character", "demo-judge-generated", {}, root=folder)
        ok_base = [s for s in base if generated[sample_key(s)].get("ok")]
        judged_gen = judge_run(cfg, gen_judge, ok_base, str(gen_run.dir), progress=False)["records"]
    embedded = [r["value"] for r in list(judged_hand.values()) + list(judged_gen.values()) if r.get("ok")]

    lite_cv = train_lite(samples, embed_minilm, folds=4)  # 4 characters: leave one character out
    lite_rows = [[k, f"{v['lite_pearson']:.2f}", f"{v['overlap_pearson']:.2f}"] for k, v in lite_cv.items()]
    lite_records = []
    for file in FILES:
        group = [s for s in samples if s.file == file]
        model = fit_ridge(features(group, [s.response for s in group], embed_minilm),
                          [float(s.gold) for s in group], [s.character for s in group], group[0].rubric.scale)
        gen = [(s, generated[sample_key(s)]["value"]["response"]) for s in base
               if s.file == file and generated[sample_key(s)].get("ok")]
        pred = model.predict(features(group + [s for s, _ in gen], [s.response for s in group] + [r for _, r in gen],
                                      embed_minilm))
        lite_records += [{"file": s.file, "model": s.model, "score": float(p), "gold": s.gold}
                         for s, p in zip(group, pred[:len(group)], strict=True)]
        lite_records += [{"file": s.file, "model": "smollm2", "score": float(p)}
                         for (s, _), p in zip(gen, pred[len(group):], strict=True)]
    emb_md, _ = scores_section(embedded, judge_dir.dir)
    lite_md, _ = scores_section(lite_records, gen_run.dir)
    n_ok = sum(r.get("ok") for r in generated.values())
    example = next((r["value"]["response"] for r in generated.values() if r.get("ok")), "(none valid)")
    rel, lite_rel = judge_dir.dir.relative_to(folder.parent), gen_run.dir.relative_to(folder.parent)
    return "\n".join([
        "## CharacterBench: role-play replies scored per dimension", "",
        f"A role-play set written by labkit in the upstream schema: {len(CHARACTERS)} characters x {len(FILES)} "
        f"files, each record with three hand-written replies we scored on the rubric ({len(samples)} records). "
        f"SmolLM2 wrote {n_ok} valid replies out of {len(base)} (e.g. \"{example[:90]}\"); it is asked for plain "
        "text (`generate.format=text`): with the paper's JSON format it produced 0 valid replies of 12 here.", "",
        "### Judged by the embedded SmolLM2 (expected score over the score tokens)", "",
        emb_md.replace("## ", "#### ").replace("](radar.png)", f"]({rel}/radar.png)"), "",
        "### Judged by the lite judge (MiniLM features + ridge, fitted on the hand-scored replies)", "",
        "Leave-one-character-out Pearson r with our scores vs the word-overlap baseline:", "",
        markdown_table(["file/lang", "lite r", "overlap r"], lite_rows), "",
        lite_md.replace("## ", "#### ").replace("](radar.png)", f"]({lite_rel}/radar.png)"), "",
        "Twelve hand-scored records per file are a toy training set, and a 135M judge is no CharacterJudge: these "
        "numbers show the plumbing, not a ranking. `labkit character metaeval --pred-field pred_zh` checks the "
        "harness on the real files; `configs/character/paper.yaml` runs CharacterJudge on vLLM.", "",
    ])
