"""`labkit ARGV` with the scripted refiner of tests/spar/test_train.py (oracle_refiner over the 10 programmatic
prompts of seed 0), for the kill -9 test of `spar iterate`: the subprocess must answer as the in-process run does."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from labkit.cli import app
    from labkit.core.cli import main_with_errors
    from labkit.spar import iterate as iterate_mod
    from labkit.spar.prompts import programmatic_prompts
    from tests.spar.test_train import oracle_refiner

    known = {i.prompt: i for i in programmatic_prompts(10, seed=0)[0]}
    iterate_mod.model_refiner = lambda model, cfg: oracle_refiner(known)
    sys.exit(main_with_errors(app, sys.argv[1:]))
