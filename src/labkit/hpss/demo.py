"""HPSS quick demo: a small search with the embedded judge on a meta-evaluation set labkit
builds itself (capital-city answers of known quality; no third-party data)."""

from __future__ import annotations

import json
from pathlib import Path

from labkit.core.config import to_dict
from labkit.core.runs import open_run
from labkit.hpss.config import HpssConfig

CAPITALS = [("France", "Paris", "Lyon"), ("Japan", "Tokyo", "Osaka"), ("Italy", "Rome", "Milan"),
            ("Canada", "Ottawa", "Toronto"), ("Australia", "Canberra", "Sydney"), ("Spain", "Madrid", "Seville")]

CRITERION = ("Correctness: does the answer name the right capital city? 5 = the correct capital, stated clearly; "
             "3 = the correct capital, buried in irrelevant text; 2 = a wrong city of the right country; "
             "1 = no city or an unrelated answer.")


def build_dataset(path: Path) -> Path:
    """Four answers per question with human scores 5, 3, 2, 1 set by construction."""
    rows = []
    for country, capital, other in CAPITALS:
        question = f"What is the capital of {country}?"
        answers = [(f"The capital of {country} is {capital}.", 5),
                   (f"Many people visit {country} every year for its food and its history; by the way, "
                    f"{capital} is the capital, and the weather is mild in spring.", 3),
                   (f"The capital of {country} is {other}.", 2),
                   ("I like to go swimming on sunny afternoons.", 1)]
        rows += [{"source": question, "output": a, "score": s, "group": country} for a, s in answers]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def demo_config(data: Path) -> HpssConfig:
    # a space of 8 strategies, 4 evaluated at initialization + 2 searched, on 12 validation items (about 2 minutes
    # on 2 cores); the README's search command is the full-size run
    return HpssConfig(data=str(data), aspect="correctness", judge="smollm2", budget=2, seed=0,
                      criteria={"correctness": CRITERION},
                      factors={"scale": [3, 5], "criteria": ["Human", "NoCriteria"], "cot": ["Free"],
                               "autocot": ["NoAutoCoT"], "metrics": ["NoMetrics"],
                               "examples": ["NoExample"], "reference": ["NoReference"],
                               "order": ["TEI", "ITE"]},
                      n_boot=200)


def run_demo(folder: Path) -> str:
    from labkit.hpss.method import estimate_cost, prepare, score_on_test, search
    from labkit.hpss.report import write_report

    data = build_dataset(folder / "capitals.jsonl")
    cfg = demo_config(data)
    run = open_run(folder / "run", to_dict(cfg))
    prepared = prepare(cfg)
    cost = estimate_cost(prepared)
    ledger, valid = search(prepared, run)
    test = score_on_test(prepared, run, [ledger.best().strategy, prepared.default])
    m = write_report(prepared, run, ledger, valid, test, cost)
    return "\n".join([
        "## HPSS: prompting-strategy search for an LLM judge", "",
        f"A search over {prepared.space.size} strategies (rating-only answers) with the embedded judge on "
        f"{len(prepared.valid.items)} validation / {len(prepared.test.items)} test capital-city answers whose "
        "quality is known by construction.", "",
        f"Best strategy `{'|'.join(str(v) for v in m['best_strategy'].values())}`: validation Spearman "
        f"{_rho(m['valid_best_spearman'])} (default {_rho(m['valid_default_spearman'])}); test "
        f"{_rho(m['test_best_spearman'])} (default {_rho(m['test_default_spearman'])}); "
        f"{m['judge_calls']} judge calls, unparsed {m['unparsed_fraction']:.0%}.", "",
        "**Read these numbers as plumbing, not results:** a 135M-parameter judge's correlations with humans "
        "are not meaningful, and with this few items the confidence intervals are wide "
        "(see `hpss/run/report.md`).", "",
        "![best so far](hpss/run/best_so_far.png)", "",
        "For real numbers, point the search at a strong judge behind an OpenAI-compatible server:", "",
        "```bash\nvllm serve Qwen/Qwen2.5-14B-Instruct --port 8000\n"
        "labkit hpss search --data topical_chat --aspect coherence --budget 50 \\\n"
        "  --judge openai:Qwen/Qwen2.5-14B-Instruct@http://localhost:8000/v1\n```", "",
    ])


def _rho(x: float) -> str:
    """A correlation for the demo page; undefined when the judge gave every item the same rating."""
    return "undefined (constant ratings)" if x != x else f"{x:.3f}"
