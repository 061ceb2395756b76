"""CharacterBench costs, measured in one run on this machine:

1. the embedded SmolLM2 judge, generate mode (one integer): records/s one at a time vs 8 in flight through
   the batching wrapper (same records, same greedy answers, no response cache);
2. the embedded judge, expected-score mode (log-probabilities of the K score tokens): records/s;
3. the lite judge: training time (MiniLM features + ridge with grouped CV) and inference rate.

Records: the first 6 per file of the shared zh files when present (profiles cut to 1,200 characters,
last 8 turns), else the demo set.

    .venv/bin/python benchmarks/bench_character.py [--records 16]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from labkit.character.data import default_dir, find_files, load_all
from labkit.character.demo import write_demo_data
from labkit.character.judge import make_judge
from labkit.character.lite import features, fit_ridge, train_lite
from labkit.core.models.batching import BatchingChatModel
from labkit.core.models.embed import embed_minilm
from labkit.core.models.registry import load_model
from labkit.core.parallel import parallel_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=6, help="Records per file for the judge timings.")
    args = parser.parse_args()
    shared = bool(find_files(default_dir()))
    folder = default_dir() if shared else write_demo_data(Path(tempfile.mkdtemp()))
    samples, _ = load_all(folder, ("zh",) if shared else ("en",))
    files = dict.fromkeys(x.file for x in samples)
    subset = [s for f in files for s in [x for x in samples if x.file == f][:args.records]]
    print(f"{len(subset)} records ({'shared zh files' if shared else 'demo set'}), judge prompts cut to 1,200 "
          "profile characters and 8 turns")

    model = load_model("smollm2", cache=False)
    opts = {"max_profile_chars": 1200, "max_turns": 8}
    one = make_judge(model, mode="generate", **opts)
    start = time.perf_counter()
    seq = [one(s, s.response) for s in subset]
    t_seq = time.perf_counter() - start
    batched = make_judge(BatchingChatModel(model, max_batch=8), mode="generate", **opts)
    start = time.perf_counter()
    par = [o.value for o in parallel_map(lambda s: batched(s, s.response), subset, workers=8, progress=False)]
    t_par = time.perf_counter() - start
    same = sum(a.get("score") == b.get("score") for a, b in zip(seq, par, strict=True))
    valid = sum(a.get("score") is not None for a in seq)
    print(f"embedded judge, generate mode: one at a time {len(subset) / t_seq:.2f} records/s, 8 in flight "
          f"{len(subset) / t_par:.2f} records/s (x{t_seq / t_par:.2f}); same scores {same}/{len(subset)}; "
          f"valid integer replies {valid}/{len(subset)}")

    expected = make_judge(model, mode="expected", **opts)
    start = time.perf_counter()
    [expected(s, s.response) for s in subset]
    t_exp = time.perf_counter() - start
    print(f"embedded judge, expected-score mode: {len(subset) / t_exp:.2f} records/s "
          "(one forward pass per record; the K score tokens read from it)")

    start = time.perf_counter()
    lite = train_lite(samples, embed_minilm)
    t_train = time.perf_counter() - start
    group = [s for s in samples if s.file == samples[0].file]
    model_lite = fit_ridge(features(group, [s.response for s in group], embed_minilm),
                           [float(s.gold) for s in group], [s.character for s in group], group[0].rubric.scale)
    start = time.perf_counter()
    model_lite.predict(features(group, [s.response + " " for s in group], embed_minilm))  # new texts: no memo
    t_inf = time.perf_counter() - start
    print(f"lite judge: trained and cross-validated on {len(samples)} records ({len(lite)} files) in {t_train:.1f} s; "
          f"inference {len(group) / t_inf:.1f} records/s (MiniLM features + ridge)")


if __name__ == "__main__":
    main()
