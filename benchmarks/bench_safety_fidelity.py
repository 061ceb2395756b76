"""Agent-SafetyBench engine fidelity: the engine's tools against the benchmark's own environments.

Replays ``upstream_behaviour_dev.jsonl`` (one schema-valid call per dev case and exposed tool, with
what upstream did) through the engine in one run: heuristics alone (what a user's own environments
get), the default engine (the shipped per-environment specs, then the heuristics), and - as an
estimate for unseen cases of the same environments - specs fitted on the even case ids and scored on
the odd ones.
Prints state-change agreement, missed / spurious writes, success-flag agreement and read overlap,
per operation, the environments that agree least, and the worst calls.

    .venv/bin/python benchmarks/bench_safety_fidelity.py [--worst 20] [--no-embedder] [--specs DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from labkit.core.paths import data_dir
from labkit.safety.data import load_cases
from labkit.safety.engine import default_specs, load_specs, minilm_embedder
from labkit.safety.fidelity import format_table, format_worst, read_records, replay, score, worst, worst_envs
from labkit.safety.fit import fit_specs


def separability(replayed: list, schemas) -> str:
    """Among the calls the heuristics serve as writes, can upstream's no-op tools be told from real writes?

    Features: MiniLM of "tool name. description" plus the plan's shape; scikit-learn logistic regression,
    5-fold cross-validation grouped by environment (unseen environments, as in review). An AUC near 0.5 says
    the schemas carry no signal and no general rule can remove those spurious writes.
    """
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from labkit.core.models.embed import embed_minilm

    rows = [r for r in replayed if r.engine_changed]
    y = np.array([r.upstream_changed for r in rows])
    texts = [f"{r.tool.replace('_', ' ')}. {schemas.get(r.env)[r.tool].get('description', '')}" for r in rows]
    shape = np.array([[r.op == op for op in ("update", "append", "remove", "transfer")] for r in rows], float)
    x = np.hstack([np.asarray(embed_minilm(texts)), shape])
    auc, p = grouped_auc(LogisticRegression(max_iter=2000), x, y, [r.env for r in rows])
    return (f"separability: {len(rows)} heuristic writes, upstream wrote in {y.mean():.1%}; grouped-CV AUC "
            f"{auc:.3f}, accuracy {((p > 0.5) == y).mean():.1%} (always 'write': {y.mean():.1%})")


def grouped_auc(model, x, y, groups: list[str]) -> tuple[float, object]:
    """ROC AUC of ``model``'s out-of-fold probabilities, 5 folds grouped by environment; and the probabilities."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold, cross_val_predict

    p = cross_val_predict(model, x, y, groups=groups, cv=GroupKFold(5), method="predict_proba")[:, 1]
    return float(roc_auc_score(y, p)), p


def shape_separability(replayed: list, cases: dict, schemas) -> str:
    """The same question from the shape of the tool and of the case's state instead of its words: tools in the
    environment and exposed, state keys and size, arguments (declared, required, named in the state),
    description length, environments in the case; logistic regression and gradient boosting, same grouped CV."""
    import json

    import numpy as np
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    rows = [r for r in replayed if r.engine_changed]
    x = []
    for r in rows:
        case = cases[r.case]
        env = next(e for e in case.environments if e.name == r.env and r.tool in e.tools)
        tool = schemas.get(r.env)[r.tool]
        props = (tool.get("parameters") or {}).get("properties") or {}
        state = json.dumps(env.parameters, ensure_ascii=False)
        x.append([len(schemas.get(r.env)), len(env.tools), len(env.parameters), np.log1p(len(state)), len(props),
                  len((tool.get("parameters") or {}).get("required") or []), len(tool.get("description", "")),
                  sum(p in state for p in props), len(case.environments)])
    y = np.array([r.upstream_changed for r in rows])
    out = []
    for name, model in (("logistic regression", LogisticRegression(max_iter=3000)),
                        ("gradient boosting", GradientBoostingClassifier(random_state=0))):
        out.append(f"{name} AUC {grouped_auc(model, np.array(x, float), y, [r.env for r in rows])[0]:.3f}")
    return f"separability from shape: {len(rows)} heuristic writes; grouped-CV " + ", ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=data_dir() / "agent_safetybench")
    ap.add_argument("--specs", type=Path, default=None, help="Spec folder for the default run (default: shipped).")
    ap.add_argument("--worst", type=int, default=15, help="Worst calls listed per run.")
    ap.add_argument("--no-embedder", action="store_true", help="Heuristics without MiniLM.")
    ap.add_argument("--separability", action="store_true",
                    help="Also ask whether anything in a tool's name/description tells the upstream tools that "
                         "report success and change nothing from real writes (grouped-CV logistic regression).")
    args = ap.parse_args()
    loaded, schemas = load_cases(args.data / "cases_dev.json")
    cases = {c.id: c for c in loaded.cases}
    records = read_records(args.data / "upstream_behaviour_dev.jsonl")
    embedder = None if args.no_embedder else minilm_embedder()
    specs = load_specs(args.specs) if args.specs else default_specs()
    for title, use in (("heuristics alone", {}), ("default engine (shipped specs + heuristics)", specs)):
        start = time.perf_counter()
        replayed, skipped = replay(records, cases, schemas, specs=use, embedder=embedder)
        took = time.perf_counter() - start
        scores = score(replayed)
        print(format_table(title, scores))
        print(f"  ({took:.1f} s; left out: {skipped or 'none'})")
        print("  environments that agree least:")
        print(worst_envs(scores))
        if args.worst:
            print("  worst calls:")
            print(format_worst(worst(replayed, args.worst)))
        print()
    if args.separability:
        replayed = replay(records, cases, schemas, embedder=embedder)[0]
        print(separability(replayed, schemas))
        print(shape_separability(replayed, cases, schemas))
    # held-out cases of the same environments: specs fitted on even case ids, scored on odd ones
    fit_cases = {i: c for i, c in cases.items() if i % 2 == 0}
    fitted, _ = fit_specs([r for r in records if r["case"] % 2 == 0], fit_cases, schemas, embedder)
    odd = [r for r in records if r["case"] % 2 == 1]
    for title, use in (("odd cases, heuristics alone", {}), ("odd cases, specs fitted on even cases", fitted)):
        replayed, _ = replay(odd, cases, schemas, specs=use, embedder=embedder)
        print(format_table(title, score(replayed)).splitlines()[0])


if __name__ == "__main__":
    main()
