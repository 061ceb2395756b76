"""SPaR's training steps as a separate process, so ``accelerate launch`` can run them on every GPU (DDP, or
DeepSpeed ZeRO-3 through an accelerate config file) while the loop itself stays one process:

    accelerate launch [--config_file ds.yaml] -m labkit.spar.train_job JOB.json

``JOB.json`` holds ``{"kind": "dpo" | "rft", "spec", "rows", "out", "settings"}``; the main process writes the
step's record to ``<out>/result.json``. ``run_training`` is what the loop calls: in this process
(``iterate.launcher = inline``) or through ``accelerate launch`` (``accelerate``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from labkit.core.errors import LabkitError
from labkit.spar.train import DpoSettings, RftSettings, dpo_train, rft_train

KINDS = {"dpo": (dpo_train, DpoSettings), "rft": (rft_train, RftSettings)}


def run_training(kind: str, spec: str, rows: list[dict[str, Any]], out: Path, settings: DpoSettings | RftSettings,
                 *, launcher: str = "inline", accelerate_config: str | None = None) -> dict[str, Any]:
    """Train (DPO for the actor, RFT for the refiner) and return the step's record."""
    fn, _ = KINDS[kind]
    if launcher == "inline":
        return fn(spec, rows, out, settings)
    out.mkdir(parents=True, exist_ok=True)
    job = out / "job.json"
    job.write_text(json.dumps({"kind": kind, "spec": spec, "rows": rows, "out": str(out),
                               "settings": asdict(settings)}))
    (out / "result.json").unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "accelerate.commands.launch",
           *(["--config_file", accelerate_config] if accelerate_config else []),
           "-m", "labkit.spar.train_job", str(job)]
    print(f"training ({kind}) with: {' '.join(cmd)}", file=sys.stderr)
    done = subprocess.run(cmd, check=False)
    if done.returncode != 0 or not (out / "result.json").exists():
        raise LabkitError(f"{kind} training under accelerate failed (exit {done.returncode}); job: {job}")
    return json.loads((out / "result.json").read_text())


def main(argv: list[str] | None = None) -> None:
    job = json.loads(Path((argv or sys.argv[1:])[0]).read_text())
    fn, settings_cls = KINDS[job["kind"]]
    out = Path(job["out"])
    record = fn(job["spec"], job["rows"], out, settings_cls(**job["settings"]))
    from accelerate import PartialState

    if PartialState().is_main_process:
        (out / "result.json").write_text(json.dumps(record))


if __name__ == "__main__":
    main()
