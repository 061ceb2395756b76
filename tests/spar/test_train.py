"""Pairs and DPO training: pair building and similarity pinned; DPO (TRL, beta 0.1 + SFT 0.1) on a handful of
pairs lowers the loss and raises the margin on them, and the saved adapter reloads to the same greedy answers."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from labkit.spar.pairs import independent_pair, refinement_pair, similarity

pytest.importorskip("rapidfuzz")

PAIRS = [
    {"prompt": "Write one sentence about the sea without commas.", "chosen": "The sea is calm and blue today.",
     "rejected": "The sea, which is blue, is calm."},
    {"prompt": "Answer in lowercase: what is a cat?", "chosen": "a cat is a small furry animal.",
     "rejected": "A Cat Is A Small Furry Animal."},
    {"prompt": "Give a title in <<>> for a poem about rain.", "chosen": "<<Rain Song>>", "rejected": "Rain Song"},
    {"prompt": "End your answer with 'Thank you for reading'. Describe bread.",
     "chosen": "Bread is baked dough. Thank you for reading", "rejected": "Bread is baked dough."},
]


def test_similarity_and_pairs() -> None:
    assert similarity("abc", "abd") == pytest.approx(2 / 3) and similarity("same", "same") == 1.0
    tree = {"success": True, "best": 2, "nodes": [{"response": "a, b"}, {"response": "x"}, {"response": "a b"}]}
    pair = refinement_pair("p", tree)
    assert (pair["chosen"], pair["rejected"], pair["similarity"]) == ("a b", "a, b", pytest.approx(6 / 7))
    assert refinement_pair("p", {**tree, "success": False}) is None
    got = independent_pair("p", ["good", "bad", "worse"], [True, False, False], random.Random(0))
    assert got["chosen"] == "good" and got["rejected"] in ("bad", "worse")
    assert independent_pair("p", ["a", "b"], [True, True], random.Random(0)) is None


@pytest.mark.slow
@pytest.mark.heavy  # 2 minutes in CI; test_one_iteration_end_to_end_and_resume trains DPO and reloads the adapter
def test_dpo_lowers_loss_raises_margin_and_the_adapter_reloads(tmp_path) -> None:
    pytest.importorskip("trl")
    from labkit.spar.train import DpoSettings, dpo_train, greedy_answers, load_trained

    out = dpo_train("smollm2", PAIRS, tmp_path / "adapter", DpoSettings(lr=1e-4, epochs=3, batch=4))
    assert out["before"]["margin"] == 0.0  # the policy starts as its own reference
    assert out["after"]["loss"] < out["before"]["loss"] and out["after"]["margin"] > out["before"]["margin"]
    model, tok = load_trained(tmp_path / "adapter", Path(out["base"]))
    assert greedy_answers(model, tok, [p["prompt"] for p in PAIRS]) == out["greedy_after"]


def oracle_refiner(items):
    """A refiner that edits the failing answer just enough for the simple constraint kinds (others: no rewrite)."""
    def fix(item, text):
        for iid, kw in zip(item.instruction_ids, item.kwargs, strict=True):
            if iid == "punctuation:no_comma":
                text = text.replace(",", "")
            elif iid == "change_case:english_lowercase":
                text = text.lower()
            elif iid == "change_case:english_capital":
                text = text.upper()
            elif iid == "keywords:existence":
                text = f"{text} {' '.join(kw['keywords'])}"
            elif iid == "detectable_format:title":
                text = f"<<a title>>\n{text}"
            elif iid not in ("startend:quotation", "startend:end_checker"):
                return None
        if "startend:end_checker" in item.instruction_ids:
            text = f"{text.rstrip()} {item.kwargs[item.instruction_ids.index('startend:end_checker')]['end_phrase']}"
        if "startend:quotation" in item.instruction_ids:
            text = f'"{text.strip(chr(34))}"'
        return text

    def refine(asks):
        return [fix(items[p], r) for p, r, _ in asks]

    return refine


@pytest.mark.slow
def test_one_iteration_end_to_end_and_resume(tmp_path, monkeypatch, capsys) -> None:
    """A CI-sized iteration (SmolLM2 actor, a scripted refiner, code verifier): every DPO pair's chosen passes
    and rejected fails the verifier; --resume repeats no finished step."""
    import json

    from labkit.cli import app
    from labkit.core.cli import main_with_errors
    from labkit.spar import iterate as iterate_mod
    from labkit.spar.data import IfevalItem
    from labkit.spar.method import check_constraints
    from labkit.spar.prompts import programmatic_prompts

    pytest.importorskip("trl")
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    known = {i.prompt: i for i in programmatic_prompts(10, seed=0)[0]}
    monkeypatch.setattr(iterate_mod, "model_refiner", lambda model, cfg: oracle_refiner(known))
    sets = ["iterate.prompts=10", "iterate.held_out=3", "iterate.samples=2", "iterate.max_tokens=48",
            "iterate.ifeval_limit=3", "iterate.eval_max_tokens=32", "search.depth=1", "search.branch=2"]
    config = Path(__file__).parents[2] / "configs" / "spar" / "tiny.yaml"
    args = ["spar", "iterate", "--config", str(config), "--name", "ci"] + [x for s in sets for x in ("--set", s)]
    assert main_with_errors(app, args) == 0
    captured = capsys.readouterr()
    run = Path(captured.err.split("run: ")[1].split()[0])
    assert "held-out pass %" in captured.out
    lines = (run / "results.jsonl").read_text().splitlines()
    pairs = [json.loads(x) for x in (run / "iter0" / "pairs.jsonl").read_text().splitlines()]
    records = [json.loads(x)["value"] for x in lines]
    trees = {r["prompt"]: r["tree"] for r in records if "tree" in r}
    items = {r["prompt"]: IfevalItem(r["key"], r["prompt"], tuple(r["instruction_ids"]), tuple(r["kwargs"]))
             for r in records if "instruction_ids" in r}
    assert pairs, "the scripted refiner fixes the simple constraints: at least one pair"
    for p in pairs:
        item = items[p["prompt"]]
        assert all(check_constraints(item, p["chosen"])) and not all(check_constraints(item, p["rejected"]))
        assert trees[p["prompt"]]["success"]
    assert main_with_errors(app, ["spar", "iterate", "--resume", str(run)]) == 0
    assert len((run / "results.jsonl").read_text().splitlines()) == len(lines)  # nothing recomputed

    # the same iteration in a process killed with SIGKILL in its tree-search step, then resumed: no step repeated,
    # none lost, and every record (samples, trees, DPO, held-out answers) equal to the uninterrupted run's
    from tests.killing import kill_after_records
    from tests.killing import lines as complete

    killed = kill_after_records(args, tmp_path / "killed", 10 + 2, tmp_path / "killed.log",  # 10 samples, 2 trees
                                script=Path(__file__).with_name("oracle_iterate.py"))
    assert complete(killed / "results.jsonl") < len(lines)
    assert main_with_errors(app, ["spar", "iterate", "--resume", str(killed)]) == 0
    keys = [json.loads(x)["key"] for x in (killed / "results.jsonl").read_text().splitlines()]
    assert sorted(keys) == sorted(json.loads(x)["key"] for x in lines)  # each step once, none lost
    assert _values(killed) == _values(run)
    assert (killed / "iter0" / "pairs.jsonl").read_text() == (run / "iter0" / "pairs.jsonl").read_text()


def _values(run: Path) -> dict[str, str]:
    """key -> record value without wall-clock fields."""
    import json

    def strip(v):
        if isinstance(v, dict):
            return {k: strip(x) for k, x in v.items() if "second" not in k and k not in ("time", "elapsed")}
        return [strip(x) for x in v] if isinstance(v, list) else v

    return {r["key"]: json.dumps(strip(r.get("value")), sort_keys=True)
            for r in map(json.loads, (run / "results.jsonl").read_text().splitlines())}


RFT_ROWS = [
    {"messages": [{"role": "user", "content": f"Rewrite so that it has no commas: {s}"},
                  {"role": "assistant", "content": s.replace(",", "")}], "kind": "refinement", "prompt": str(i)}
    for i, s in enumerate(["Red, green, blue.", "Cats, dogs, birds.", "One, two, three.", "Rain, snow, hail."])
]


def test_refiner_training_is_decided_per_iteration(tmp_path) -> None:
    from labkit.spar.config import SparConfig
    from labkit.spar.iterate import refiner_step

    cfg = SparConfig()
    cfg.iterate.iterations = 2
    assert refiner_step(cfg, None, RFT_ROWS, tmp_path, 1) == (None, None)  # auto: the last iteration's R is unused
    cfg.rft.train = "never"
    assert refiner_step(cfg, None, RFT_ROWS, tmp_path, 0) == (None, None)
    cfg.rft.train = "auto"
    assert refiner_step(cfg, None, [], tmp_path, 0) == (None, {"note": "no RFT rows: refiner unchanged"})
    cfg.refiner = "openai:some-8b@http://localhost:8000/v1"
    spec, why = refiner_step(cfg, None, RFT_ROWS, tmp_path, 0)
    assert spec is None and why["note"].startswith("refiner not trained")


@pytest.mark.slow
def test_refiner_rft_lowers_the_completion_loss_and_merges(tmp_path) -> None:
    pytest.importorskip("trl")
    from labkit.spar.train import RftSettings, as_completion_rows, merged_folder, rft_train

    assert as_completion_rows(RFT_ROWS[:1])[0]["completion"] == [RFT_ROWS[0]["messages"][1]]
    out = rft_train("smollm2", RFT_ROWS, tmp_path / "adapter", RftSettings(lr=2e-4, epochs=3, batch=4))
    assert out["rows"] == 4 and out["loss_after"] < out["loss_before"]
    merged = merged_folder(tmp_path / "adapter", Path(out["base"]), tmp_path / "refiner")
    assert (merged / "config.json").exists()


def test_real_refinement_pairs_are_closer_than_independent_pairs_and_verified() -> None:
    """SmolLM2-135M's own pairs from the ablation run (seeds 0 and 1, the 12 prompts both arms paired; recorded in
    tests/spar/data): every chosen passes and every rejected fails the prompt's IFEval checks, and the refinement
    pairs are more similar (rapidfuzz ratio) than the independently sampled pass/fail pairs of the same prompts -
    measured 0.464 vs 0.386 (seed 0) and 0.566 vs 0.377 (seed 1); the paper reports 0.90 vs 0.85 for 8B models."""
    import json
    import statistics

    from labkit.spar.data import IfevalItem
    from labkit.spar.method import check_constraints

    rows = [json.loads(x) for x in (Path(__file__).parent / "data" / "ablation_pairs.jsonl").read_text().splitlines()]
    assert len(rows) == 12
    by_arm: dict[tuple[int, str], list[float]] = {}
    for r in rows:
        item = IfevalItem(0, r["prompt"], tuple(r["instruction_ids"]), tuple(r["kwargs"]))
        for arm in ("refine", "independent"):
            pair = r[arm]
            assert all(check_constraints(item, pair["chosen"])) and not all(check_constraints(item, pair["rejected"]))
            by_arm.setdefault((r["seed"], arm), []).append(similarity(pair["chosen"], pair["rejected"]))
    for seed in (0, 1):
        refine, independent = (statistics.mean(by_arm[(seed, a)]) for a in ("refine", "independent"))
        assert refine > independent + 0.05, (seed, refine, independent)


@pytest.mark.slow
@pytest.mark.heavy
def test_two_chained_iterations_served_on_the_newest_weights(tmp_path, monkeypatch, capsys) -> None:
    """The paper's loop on CPU: local weights trained with TRL, sampled and evaluated through an OpenAI-compatible
    server labkit starts on the newest weights (`labkit serve` standing in for vLLM), M_1 -> M_2 chained, the
    refiner trained by RFT into R_1 for the second iteration; a resume repeats nothing and starts no server."""
    import json

    from labkit.cli import app
    from labkit.core.cli import main_with_errors
    from labkit.spar import iterate as iterate_mod
    from labkit.spar.prompts import programmatic_prompts

    pytest.importorskip("trl")
    pytest.importorskip("fastapi")
    monkeypatch.setenv("LABKIT_RUNS", str(tmp_path / "runs"))
    known = {i.prompt: i for seed in (0, 100) for i in programmatic_prompts(6, seed=seed)[0]}
    monkeypatch.setattr(iterate_mod, "model_refiner", lambda model, cfg: oracle_refiner(known))
    sets = ["iterate.prompts=6", "iterate.held_out=2", "iterate.samples=2", "iterate.max_tokens=32",
            "iterate.ifeval_limit=2", "iterate.eval_max_tokens=24", "iterate.iterations=2", "iterate.serve=labkit",
            "search.depth=1", "search.branch=2", "dpo.epochs=1", "rft.epochs=1"]
    config = Path(__file__).parents[2] / "configs" / "spar" / "tiny.yaml"
    args = ["spar", "iterate", "--config", str(config), "--name", "served"] + [x for s in sets for x in ("--set", s)]
    assert main_with_errors(app, args) == 0
    err = capsys.readouterr().err
    run = Path(err.split("run: ")[1].split()[0])
    servers = [line for line in err.splitlines() if line.startswith("serving ")]
    assert any("iter0/model" in s and "with labkit" in s for s in servers)  # M_1 sampled and evaluated served
    assert any("iter0/refiner" in s for s in servers)  # R_1 refines in iteration 1
    summary = json.loads((run / "metrics.json").read_text())
    iters = summary["iterations"]
    assert [s["iteration"] for s in iters] == [0, 1] and iters[1]["before"] == iters[0]["after"]
    assert iters[0]["refiner_train"]["rows"] > 0 and iters[0]["next_refiner"].endswith("iter0/refiner")
    assert iters[1]["after"]["model"].endswith("iter1/model")
    lines = (run / "results.jsonl").read_text().splitlines()
    assert main_with_errors(app, ["spar", "iterate", "--resume", str(run)]) == 0
    assert len((run / "results.jsonl").read_text().splitlines()) == len(lines)  # nothing recomputed
    assert not [x for x in capsys.readouterr().err.splitlines() if x.startswith("serving ")]  # nothing left to serve


@pytest.mark.slow
def test_training_under_accelerate_launch_is_the_same_step(tmp_path) -> None:
    """launcher=accelerate runs the step in `accelerate launch` (one CPU process here; every GPU on a GPU machine)
    and returns the same record the inline step does, with the adapter saved."""
    from labkit.spar.train import RftSettings
    from labkit.spar.train_job import run_training

    pytest.importorskip("accelerate")
    settings = RftSettings(lr=2e-4, epochs=1, batch=4)
    rec = run_training("rft", "smollm2", RFT_ROWS, tmp_path / "adapter", settings, launcher="accelerate")
    assert rec["rows"] == 4 and rec["lora_rank"] == 16 and rec["loss_before"] > 0
    assert (tmp_path / "adapter" / "adapter_config.json").exists() and (tmp_path / "adapter" / "result.json").exists()
    inline = run_training("rft", "smollm2", RFT_ROWS, tmp_path / "inline", settings)
    assert inline["loss_before"] == pytest.approx(rec["loss_before"], rel=1e-4)  # the same model, rows and loss
