"""The fuzz suites (issue #29) in one run, as a table: each loader, the mutations it took, and their outcomes
(read: the command exited 0; refused: one `error:` line naming the file; not ok: a simulation reported not ok).
A suite that fails (an internal error, a traceback, an error that does not name the file, a run folder left by
a failed start) is named below the table with its first failure.

    .venv/bin/python benchmarks/fuzz_report.py            # the CI profile (tens of mutations per loader)
    .venv/bin/python benchmarks/fuzz_report.py --deep     # HYPOTHESIS_PROFILE=deep (x33)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINE = re.compile(r"^(?P<loader>.+?): (?P<n>\d+) mutations - (?P<outcomes>.*)$")
NAMES = {"ok": "read", "error": "refused", "not_ok": "not ok"}


def run(deep: bool) -> tuple[str, float]:
    suites = sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("tests/**/test_fuzz*.py"))
    env = {**os.environ, "HYPOTHESIS_PROFILE": "deep" if deep else "ci"}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", *suites],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    return out.stdout + out.stderr, time.perf_counter() - start


def table(text: str) -> list[str]:
    rows = ["| loader | mutations | read | refused | not ok |", "|---|---:|---:|---:|---:|"]
    total = 0
    for line in text.splitlines():
        m = LINE.match(line.lstrip("."))
        if not m or int(m["n"]) == 0:
            continue
        counts = dict(part.split(" ") for part in m["outcomes"].split(", ") if part)
        total += int(m["n"])
        rows.append(f"| {m['loader']} | {m['n']} | " + " | ".join(counts.get(k, "0") for k in NAMES) + " |")
    rows.append(f"| **all** | **{total}** | | | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deep", action="store_true", help="the deep profile (many more mutations per loader)")
    args = parser.parse_args()
    print(f"running the fuzz suites ({'deep' if args.deep else 'ci'} profile)...", file=sys.stderr)
    text, seconds = run(args.deep)
    print("\n".join(table(text)))
    summary = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed)", line)]
    print(f"\n{summary[-1] if summary else 'no pytest summary'} in {seconds:.0f} s")
    failed = [line for line in text.splitlines() if line.startswith("FAILED")]
    for line in failed:
        print(line)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
